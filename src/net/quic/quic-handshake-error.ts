// The error a failed QUIC handshake is reported with (connect phase,
// docs/api.md section 13): a socket error, silence until the idle timeout,
// a TLS alert (ours: the server's certificate was refused; the server's: it
// refused us), or another close the peer or quiche chose.

import { ConnectTimeoutError, NewConnectionError, SSLError } from '../../errors.js';
import type { QuicCloseInfo } from './quic-transport.js';
import { tlsAlertName } from './tls-alerts.js';

/** QUIC carries a TLS alert as the transport error 0x100 + the alert (RFC 9001 section 4.8). */
const CRYPTO_ERROR_BASE = 0x100;

export function handshakeError(label: string, info: QuicCloseInfo): Error {
  if (info.error) {
    const code = (info.error as NodeJS.ErrnoException).code;
    const why =
      code === 'ECONNREFUSED'
        ? 'nothing answers on that UDP port (ICMP port unreachable)'
        : info.error.message;
    return new NewConnectionError(label, `Failed to establish a new QUIC connection to ${label}: ${why}`, {
      cause: info.error,
    });
  }
  if (info.by === 'idle') {
    return new ConnectTimeoutError(`Connection to ${label} timed out: no answer to the QUIC handshake`);
  }
  if (!info.isApp && info.code >= CRYPTO_ERROR_BASE && info.code <= CRYPTO_ERROR_BASE + 0xff) {
    const alert = tlsAlertName(info.code - CRYPTO_ERROR_BASE);
    const who =
      info.by === 'local'
        ? 'the certificate presented by the server was refused'
        : 'the server refused the handshake';
    return new SSLError(`QUIC TLS handshake with ${label} failed: ${who} (TLS alert ${alert})`, {
      phase: 'connect',
    });
  }
  return new NewConnectionError(
    label,
    `QUIC handshake with ${label} failed: ${info.by} closed with ${info.isApp ? 'application' : 'transport'} error 0x${info.code.toString(16)}${info.reason ? ` (${info.reason})` : ''}`,
  );
}
