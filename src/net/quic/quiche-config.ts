// The quiche Config of one client connection: the TLS material the dialer
// planned (quic-tls.ts) and the transport parameters measured to keep a
// stream at line rate (QUIC-NOTES). TLS material BoringSSL refuses (a client
// key or certificate that is not PEM, say) is an SSLError of the connect
// phase naming what was refused, before any socket exists (docs/api.md
// sections 9 and 13).

import { SSLError } from '../../errors.js';
import type { QuicConnectOptions } from './quic-transport.js';
import type { QuicheBinding, QuicheConfig } from './quiche-binding.js';

/** Windows as measured (QUIC-NOTES): large, so one stream can fill the path. */
const MAX_CONNECTION_WINDOW = 64 * 1024 * 1024;
const MAX_STREAM_WINDOW = 16 * 1024 * 1024;
const INITIAL_MAX_DATA = 16 * 1024 * 1024;
const INITIAL_STREAM_DATA = 2 * 1024 * 1024;
/** Our max_idle_timeout (ms); the one in force is the smaller of both sides'. */
export const IDLE_TIMEOUT_MS = 30_000;
/** The largest UDP payload accepted (quiche caps packets below 16 KiB). */
const MAX_RECV_PAYLOAD = 16383;

export function quicheConfig(binding: QuicheBinding, o: QuicConnectOptions): QuicheConfig {
  let config: QuicheConfig;
  try {
    config = binding.Config.withBoringSslCtx(
      o.verifyPeer,
      false,
      o.verifyPeer ? Buffer.from(o.caPem) : null,
      o.keyPem ? [Buffer.from(o.keyPem)] : null,
      o.certChainPem ? [Buffer.from(o.certChainPem)] : null,
      null,
    );
  } catch (e) {
    const what = o.keyPem || o.certChainPem ? 'the client certificate or key' : 'the trusted CA certificates';
    throw new SSLError(
      `${o.label}: the QUIC TLS stack refused ${what}: ${(e as Error).message || String(e)}`,
      { cause: e, phase: 'connect' },
    );
  }
  config.setApplicationProtos(o.alpn);
  config.setMaxIdleTimeout(IDLE_TIMEOUT_MS);
  config.setMaxRecvUdpPayloadSize(MAX_RECV_PAYLOAD);
  config.setInitialMaxData(INITIAL_MAX_DATA);
  config.setInitialMaxStreamDataBidiLocal(INITIAL_STREAM_DATA);
  config.setInitialMaxStreamDataBidiRemote(INITIAL_STREAM_DATA);
  config.setInitialMaxStreamDataUni(INITIAL_STREAM_DATA);
  // HTTP/3 servers open no bidirectional streams; a few unidirectional ones
  // (control, QPACK encoder and decoder, reserved ones).
  config.setInitialMaxStreamsBidi(0);
  config.setInitialMaxStreamsUni(16);
  config.setMaxStreamWindow(MAX_STREAM_WINDOW);
  config.setMaxConnectionWindow(MAX_CONNECTION_WINDOW);
  config.setDisableActiveMigration(true);
  if (o.keylogFile) (config as unknown as { logKeys?: () => void }).logKeys?.();
  return config;
}
