// Which way an HTTPS connection reaches its origin (docs/api.md section 9):
// HTTP/3 when disabledSvn leaves nothing else (forced: no fallback), or when
// the origin's `Alt-Svc` (or the user's preemptiveQuicCache) names an h3
// endpoint - then a failed QUIC attempt falls back to TCP inside the same
// connect, spending no retry, and the origin is TCP-only for a cool-down.
// An origin the cache knows nothing about is also tried over QUIC first when
// the resolver finds `h3` among the ALPN ids of its DNS HTTPS record (RFC
// 9460), with the same fallback and cool-down. Proxies never carry HTTP/3. Also the Exchange wrapper through which TCP
// responses teach the cache their Alt-Svc.

import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { unbracketHost } from '../authority.js';
import { debug } from '../debug.js';
import { HTTPError, NewConnectionError } from '../errors.js';
import type { BaseResolver } from '../dns/resolver.js';
import type { TlsOptions } from '../net/tls-options.js';
import type { HTTPResponse } from '../response.js';
import { HttpVersion } from './connection-info.js';
import type { Dialed, DialState } from './dialer.js';
import {
  learnAltSvc,
  originKey,
  type QuicCache,
  quicCoolingDown,
  quicEndpoint,
  quicFailed,
} from './h3-alt-svc.js';
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
  /** The connection's sourceAddress, which QUIC sends from as TCP connects from it. */
  sourceAddress?: [string, number] | string | null;
}

/** Share of the connect timeout an opportunistic QUIC attempt may use before TCP gets its turn. */
const QUIC_SHARE = 0.5;
/** ...and at most this long without a connect timeout (ms). */
const QUIC_MAX_WAIT = 5_000;
/** How long the question for the origin's HTTPS record may hold up a connect (ms). */
const HINT_MAX_WAIT = 1_000;

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
  const started = performance.now();
  let target = quicTarget(r);
  if (target === null && (await dnsSaysH3(r, timeout, signal))) target = r.destination;
  if (target === null) return tcp(remaining(timeout, started));
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
    sourceAddress: r.sourceAddress ?? null,
  };
  if (forced) return dialQuic(plan, r.state, timeout, signal);
  const share = remaining(timeout, started);
  const budget = share === null ? QUIC_MAX_WAIT : Math.min(QUIC_MAX_WAIT, share * QUIC_SHARE);
  try {
    return await dialQuic(plan, r.state, budget, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    // Not reachable over QUIC now (no binding, UDP blocked, a handshake failure): TCP, no retry spent.
    quicFailed(r.cache!, originKey(dest.host, dest.port));
    if (!(err instanceof HTTPError)) throw err;
    debug('HTTP/3 to %s failed (%s); going on over TCP', r.label, err.message);
    return tcp(remaining(timeout, started));
  }
}

function remaining(timeout: number | null, since: number): number | null {
  return timeout === null ? null : Math.max(1, timeout - (performance.now() - since));
}

/**
 * Whether the resolver's answer for the origin's HTTPS record offers h3
 * (urllib3-future's quic_upgrade_via_dns_rr): asked only about a name the
 * cache knows nothing of, not cooling down, when discovery is on at all
 * (not proxied, h3 not disabled, a cache). A slow or failed answer is a no.
 */
async function dnsSaysH3(r: H3Route, timeout: number | null, signal: AbortSignal | null): Promise<boolean> {
  const cache = r.cache;
  const host = unbracketHost(r.destination.host);
  if (cache === null || r.proxied || r.disabledSvn.has(HttpVersion.h3) || isIP(host) !== 0) return false;
  const origin = originKey(host, r.destination.port);
  if (cache.get(origin) !== undefined || quicCoolingDown(cache, origin)) return false;
  const wait = timeout === null ? HINT_MAX_WAIT : Math.min(HINT_MAX_WAIT, timeout * QUIC_SHARE);
  const ac = new AbortController();
  const onAbort = () => ac.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const timer = setTimeout(() => ac.abort(new Error('no HTTPS record answer in time')), wait);
  // The wait ends at the deadline or the caller's abort even when a resolver ignores its signal.
  const given = new Promise<never>((_, reject) => {
    if (ac.signal.aborted) reject(ac.signal.reason);
    else ac.signal.addEventListener('abort', () => reject(ac.signal.reason), { once: true });
  });
  try {
    const alpn = await Promise.race([r.resolver.getHttpsAlpn(host, { signal: ac.signal }), given]);
    const h3 = alpn?.includes('h3') ?? false;
    if (h3) debug('the HTTPS record of %s offers h3: trying HTTP/3 first', host);
    return h3;
  } catch (err) {
    debug('no HTTPS record answer for %s (%s)', host, (err as Error).message);
    return false;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
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
