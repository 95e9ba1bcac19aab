// The TLS leg of a connection, shared by the target and the proxy legs: the
// handshake with urllib3's options (verification, SNI, ALPN), then
// assertFingerprint, then a check that the server picked a protocol this side
// speaks; and the TLS facts ConnectionInfo reports (docs/api.md section 11).
// Not here: which options apply (tls-options) or what runs over the socket.

import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import type { ConnectionInfo } from '../connection/connection-info.js';
import { HTTPError, markConnectError, ProtocolError } from '../errors.js';
import { upgradeToTls } from './connect.js';
import { checkFingerprint } from './tls-fingerprint.js';
import type { TlsOptions } from './tls-options.js';
import { planTls, type TlsPlan } from './tls-plan.js';

export interface EstablishedTls {
  socket: TLSSocket;
  /** urllib3's is_verified: the chain was verified (certReqs CERT_REQUIRED) or the fingerprint matched. */
  isVerified: boolean;
  /** ms spent in the handshake and the post-handshake checks. */
  handshakeLatency: number;
}

/**
 * TLS over a connected socket with urllib3's options: the handshake with
 * verification, SNI and ALPN, then assertFingerprint, then a check that the
 * server picked a protocol this connection speaks. Every failure closes the
 * socket and rejects with an SSLError (or ConnectTimeoutError / abort).
 */
export async function establishTls(
  socket: net.Socket,
  host: string,
  port: number,
  options: TlsOptions,
  x: {
    timeout: number | null;
    signal: AbortSignal | null;
    label: string;
    /** ALPN protocols this side speaks (default http/1.1 only); a server without ALPN means http/1.1. */
    accept?: readonly string[];
  },
): Promise<EstablishedTls> {
  let plan: TlsPlan;
  try {
    plan = planTls(host, options);
  } catch (err) {
    if (err instanceof HTTPError && !err.message.startsWith(x.label))
      err.message = `${x.label}: ${err.message}`;
    throw err;
  }
  const started = performance.now();
  const tsock = await upgradeToTls(socket, {
    tlsOptions: plan.nodeOptions,
    hostname: host,
    port,
    timeout: x.timeout,
    signal: x.signal,
    label: x.label,
    minVersion: plan.minVersion,
    maxVersion: plan.maxVersion,
    checkedName: plan.checkedName,
    keylogFile: plan.keylogFile,
  });
  try {
    if (plan.fingerprint !== null)
      checkFingerprint(tsock.getPeerCertificate()?.raw, plan.fingerprint, x.label);
    const accept = x.accept ?? ['http/1.1'];
    const alpn = typeof tsock.alpnProtocol === 'string' ? tsock.alpnProtocol : null;
    if (alpn !== null ? !accept.includes(alpn) : !accept.includes('http/1.1')) {
      throw markConnectError(
        new ProtocolError(
          alpn !== null
            ? `${x.label}: the server selected ALPN protocol '${alpn}', which this connection does not speak ` +
                `(offered: ${(plan.nodeOptions.ALPNProtocols as string[]).join(', ')})`
            : `${x.label}: the server did not negotiate ALPN, so it speaks HTTP/1.1, which disabledSvn turns off ` +
                `(offered: ${(plan.nodeOptions.ALPNProtocols as string[]).join(', ')})`,
        ),
      );
    }
  } catch (err) {
    tsock.destroy();
    throw err;
  }
  return {
    socket: tsock,
    isVerified: plan.certReqs === 'CERT_REQUIRED' || plan.fingerprint !== null,
    handshakeLatency: performance.now() - started,
  };
}

/** A certificate as getPeerCertificate() gives it, without the circular issuer chain. */
function plainCertificate(cert: DetailedPeerCertificate): PeerCertificate {
  const { issuerCertificate: _issuer, ...rest } = cert;
  return rest;
}

/** The TLS fields of ConnectionInfo (docs/api.md section 11). */
export function fillTlsInfo(info: ConnectionInfo, tsock: TLSSocket, handshakeLatency: number): void {
  info.tlsHandshakeLatency = handshakeLatency;
  info.tlsVersion = tsock.getProtocol() ?? null;
  info.cipher = tsock.getCipher()?.name ?? null;
  const cert = tsock.getPeerCertificate(true);
  if (cert?.raw) {
    info.certificateDer = cert.raw;
    info.certificateDict = plainCertificate(cert);
    const issuer = cert.issuerCertificate;
    // A self-signed certificate is its own issuer; Node then links it to itself.
    if (issuer?.raw && issuer !== cert && !issuer.raw.equals(cert.raw)) {
      info.issuerCertificateDer = issuer.raw;
      info.issuerCertificateDict = plainCertificate(issuer);
    }
  }
}
