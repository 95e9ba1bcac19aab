// Which QUIC transport this process has: quiche through the optional
// binding when it loads, or none, with the reason. Loaded on first use only,
// so importing the library never touches the binding (docs/api.md section 9:
// where no QUIC transport can be loaded, HTTP/3 is unavailable and forcing it
// is a clear error).

import { NewConnectionError } from '../../errors.js';
import type { QuicConnection, QuicConnectOptions, QuicTransport } from './quic-transport.js';
import { loadQuicheBinding, type QuicheBinding } from './quiche-binding.js';
import { QuicheConnection } from './quiche-connection.js';

class QuicheTransport implements QuicTransport {
  readonly name = 'quiche (@matrixai/quic)';
  constructor(private readonly binding: QuicheBinding) {}
  connect(options: QuicConnectOptions): Promise<QuicConnection> {
    return QuicheConnection.connect(this.binding, options);
  }
}

export type TransportLoad = { transport: QuicTransport; reason: null } | { transport: null; reason: string };

let override: TransportLoad | null = null;

/** The QUIC transport, or why there is none. Never rejects. */
export async function loadQuicTransport(): Promise<TransportLoad> {
  if (override) return override;
  const load = await loadQuicheBinding();
  if (load.binding === null) return { transport: null, reason: load.reason };
  return { transport: new QuicheTransport(load.binding), reason: null };
}

/**
 * @internal For tests: pretend the binding could not load (`reason`), or
 * restore the real loader (null).
 */
export function setQuicUnavailableForTesting(reason: string | null): void {
  override = reason === null ? null : { transport: null, reason };
}

/** The error for a request that needs HTTP/3 where it is unavailable. */
export function http3Unavailable(conn: unknown, label: string, reason: string): NewConnectionError {
  return new NewConnectionError(conn, `HTTP/3 to ${label} is unavailable: ${reason}`, { permanent: true });
}
