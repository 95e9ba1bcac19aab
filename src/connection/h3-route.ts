// Which way an HTTPS connection reaches its origin (docs/api.md section 9):
// HTTP/3 when disabledSvn leaves nothing else (forced: no fallback), or when
// the origin's `Alt-Svc` (or the user's preemptiveQuicCache) names an h3
// endpoint - then a failed QUIC attempt falls back to TCP inside the same
// connect, spending no retry, and the origin is TCP-only for a cool-down.
// Proxies never carry HTTP/3. Also the Exchange wrapper through which TCP
// responses teach the cache their Alt-Svc.

import { performance } from 'node:perf_hooks';
import { HTTPError, NewConnectionError } from '../errors.js';
import type { BaseResolver } from '../dns/resolver.js';
import type { TlsOptions } from '../net/tls-options.js';
import type { HTTPResponse } from '../response.js';
import { HttpVersion } from './connection-info.js';
import type { Dialed, DialState } from './dialer.js';
import { learnAltSvc, originKey, type QuicCache, quicEndpoint, quicFailed } from './h3-alt-svc.js';
import { onlyHttp3 } from './http-versions.js';
import { dialQuic } from './quic-dialer.js';
import type { Exchange } from './session.js';

/** What an HTTPS connection tells the route about itself. */
export interface H3Route {
  label: string;
  conn: unknown;
  state: DialState;
  destination: { host: string; port: number };
  proxied: boolean;
  disabledSvn: ReadonlySet<HttpVersion>;
  cache: QuicCache | null;
  resolver: BaseResolver;
  socketFamily: 0 | 4 | 6;
  tls: TlsOptions;
}

/** Share of the connect timeout an opportunistic QUIC attempt may use before TCP gets its turn. */
const QUIC_SHARE = 0.5;
/** ...and at most this long without a connect timeout (ms). */
const QUIC_MAX_WAIT = 5_000;

/** The QUIC endpoint a new connection should try first, or null for TCP. */
export function quicTarget(r: H3Route): { host: string; port: number } | null {
  if (r.proxied || r.disabledSvn.has(HttpVersion.h3)) return null;
  if (onlyHttp3(r.disabledSvn)) return r.destination;
  if (r.cache === null) return null;
  return quicEndpoint(r.cache, originKey(r.destination.host, r.destination.port));
}

/** Dial: QUIC first when the route says so, else (or after a failed opportunistic attempt) TCP. */
export async function dialRoute(
  r: H3Route,
  timeout: number | null,
  signal: AbortSignal | null,
  tcp: (timeout: number | null) => Promise<Dialed>,
): Promise<Dialed> {
  const forced = onlyHttp3(r.disabledSvn);
  if (forced && r.proxied) {
    throw new NewConnectionError(
      r.conn,
      `${r.label}: HTTP/3 cannot go through a proxy, and disabledSvn leaves only HTTP/3`,
      {
        permanent: true,
      },
    );
  }
  const target = quicTarget(r);
  if (target === null) return tcp(timeout);
  const dest = r.destination;
  const plan = {
    label: r.label,
    conn: r.conn,
    host: dest.host,
    connectHost: target.host,
    port: target.port,
    resolver: r.resolver,
    socketFamily: r.socketFamily,
    tls: r.tls,
  };
  if (forced) return dialQuic(plan, r.state, timeout, signal);
  const started = performance.now();
  const budget = timeout === null ? QUIC_MAX_WAIT : Math.min(QUIC_MAX_WAIT, timeout * QUIC_SHARE);
  try {
    return await dialQuic(plan, r.state, budget, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    // Not reachable over QUIC now (no binding, UDP blocked, a handshake failure): TCP, no retry spent.
    quicFailed(r.cache!, originKey(dest.host, dest.port));
    if (!(err instanceof HTTPError)) throw err;
    const left = timeout === null ? null : Math.max(1, timeout - (performance.now() - started));
    return tcp(left);
  }
}

/** An exchange whose response teaches the cache the origin's Alt-Svc. */
export class AltSvcExchange implements Exchange {
  constructor(
    private readonly inner: Exchange,
    private readonly learned: (response: HTTPResponse) => void,
  ) {}
  get sent(): Promise<void> {
    return this.inner.sent;
  }
  get streamId(): number | null {
    return this.inner.streamId;
  }
  get gotResponseBytes(): boolean {
    return this.inner.gotResponseBytes;
  }
  getResponse(): Promise<HTTPResponse> {
    return this.inner.getResponse().then((r) => {
      this.learned(r);
      return r;
    });
  }
}

/** Reads a TCP response's Alt-Svc into the cache; true when an h3 endpoint became known. */
export function learnFromResponse(
  cache: QuicCache,
  dest: { host: string; port: number },
  r: HTTPResponse,
): boolean {
  const value = r.headers.get('alt-svc');
  if (value === undefined) return false;
  return learnAltSvc(cache, originKey(dest.host, dest.port), dest.host, value);
}
