// PoolManager (docs/api.md sections 1 and 4): one pool per origin and set of
// connection options, at most `numPools` of them (least recently used closed
// first), and redirects that cross hosts - dropping the headers Retry names
// in removeHeadersOnRedirect when the host changes. The top-level request()
// uses one module-level manager, as urllib3.request() does.

import { checkHappyEyeballs } from '../net/happy-eyeballs.js';
import type { TlsOptions } from '../net/tls-options.js';
import { ownResolver, type ResolverInput, type ResolverSetup } from '../dns/resolver-option.js';
import { authority, defaultPort } from '../authority.js';
import { type PreparedBody, prepareBody, rewindBody } from '../body/request-body.js';
import type { HTTPConnection } from '../connection/connection.js';
import { checkDisabledSvn } from '../connection/http-versions.js';
import type { HttpVersion } from '../connection/connection-info.js';
import { ClosedPoolError, LocationValueError, UnrewindableBodyError, URLSchemeUnknown } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import { TLS_OPTION_NAMES } from '../net/tls-options.js';
import { checkOptions, optionSet } from '../options.js';
import { Retry } from '../policies/retry.js';
import type { HTTPResponse } from '../response.js';
import { parseUrl, type Url } from '../url.js';
import { debug } from '../debug.js';
import {
  HTTPConnectionPool,
  HTTPS_POOL_OPTION_NAMES,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
} from './connection-pool.js';
import { makePoolKey, type PoolKey } from './pool-key.js';
import {
  isFollowable,
  resolveLocation,
  sameOrigin,
  schemeOf,
  spendOnResponse,
  withoutBodyHeaders,
} from './redirect.js';
import { MultiplexingRequestMethods, type OnSent } from './multiplexing.js';
import { copyUrlopenOptions, URLOPEN_OPTIONS, UrlopenArgs, type UrlopenOptions } from './urlopen-options.js';

export interface PoolManagerOptions extends Omit<HTTPSConnectionPoolOptions, 'port'> {
  numPools?: number;
}

const FROM_HOST_OPTIONS = optionSet('port', 'scheme', 'poolKwargs');
const MANAGER_OPTIONS = optionSet('numPools', ...HTTPS_POOL_OPTION_NAMES.filter((k) => k !== 'port'));
const POOL_KW_OPTIONS = optionSet(...HTTPS_POOL_OPTION_NAMES);
const TLS_ONLY = new Set<string>([...TLS_OPTION_NAMES, 'preemptiveQuicCache']);
/** The pool class for each scheme (urllib3's `pool_classes_by_scheme`). */
export type PoolClasses = Record<
  'http' | 'https',
  new (
    host: string,
    options?: HTTPSConnectionPoolOptions,
  ) => HTTPConnectionPool
>;
/** What `_urlopen` reads when it is given no options (never written to). */
const NO_OPTIONS = new UrlopenArgs();

/** Bound of the per-manager cache of parsed request URLs. */
const TARGET_CACHE_SIZE = 16;

/** A request URL as `_urlopen` uses it (see PoolManager.targetOf). */
interface Target {
  readonly url: Url;
  /** The URL's scheme, http when it has none. */
  readonly scheme: string;
  /** The absolute URL (empty when there is no host). */
  readonly here: string;
  /** The origin key of connectionFromHost's fast path, null without a host. */
  readonly originKey: string | null;
}

/** The key under which connectionFromHost remembers the pool key of an origin. */
function originKeyOf(scheme: string, host: string, port: number): string {
  return `${scheme}\u0000${host}\u0000${port}`;
}

export type PoolOptionOverrides = Partial<Record<keyof HTTPSConnectionPoolOptions, unknown>>;

export class PoolManager extends MultiplexingRequestMethods {
  readonly numPools: number;
  /** The pools, keyed by pool key, in least-recently-used order. */
  readonly pools = new Map<PoolKey, HTTPConnectionPool>();
  /** Which pool class serves each scheme; replace an entry to bring other pools (or connections). */
  poolClassesByScheme: PoolClasses = { http: HTTPConnectionPool, https: HTTPSConnectionPool };
  /** scheme/host/port -> pool key, for requests without per-call pool options. */
  private readonly originKeys = new Map<string, PoolKey>();
  /** The most recently used key of `pools` (the last in its order), or null. */
  private newestKey: PoolKey | null = null;
  /** The last few URLs `_urlopen` was given, parsed (see targetOf). */
  private readonly targets = new Map<string, Target>();
  protected readonly connectionPoolKw: Record<string, unknown>;
  private closed = false;
  private readonly resolverSetup: ResolverSetup;

  constructor(options?: PoolManagerOptions) {
    checkOptions('PoolManager', options, MANAGER_OPTIONS);
    const { numPools = 10, headers, ...poolKw } = options ?? {};
    super(headers ?? null);
    if (!Number.isInteger(numPools) || numPools < 1) {
      throw new RangeError(`PoolManager: numPools must be a positive integer, got ${String(numPools)}`);
    }
    this.numPools = numPools;
    const svn = (poolKw as { disabledSvn?: Iterable<HttpVersion> | null }).disabledSvn;
    if (svn !== undefined && svn !== null) checkDisabledSvn(svn, new.target.name);
    checkHappyEyeballs((poolKw as { happyEyeballs?: unknown }).happyEyeballs, new.target.name);
    const kw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(poolKw)) if (v !== undefined) kw[k] = v;
    // One resolver for every pool (one cache, one DoT connection), closed with the manager.
    this.resolverSetup = ownResolver(kw['resolver'] as ResolverInput, kw as TlsOptions);
    if (kw['resolver'] !== undefined && kw['resolver'] !== null) kw['resolver'] = this.resolverSetup.resolver;
    this.connectionPoolKw = kw;
  }

  /** The pool for `host`, creating it if needed. */
  connectionFromHost(
    host: string | null,
    options?: { port?: number | null; scheme?: string | null; poolKwargs?: PoolOptionOverrides | null },
  ): HTTPConnectionPool {
    checkOptions('connectionFromHost', options, FROM_HOST_OPTIONS);
    if (!host) throw new LocationValueError('No host specified.');
    const scheme = (options?.scheme ?? 'http').toLowerCase();
    const port = options?.port ?? defaultPort(scheme) ?? 80;
    const poolKwargs = options?.poolKwargs ?? null;
    // Hot path: a request without per-call pool options reuses the key computed
    // the first time for this origin, instead of building it again.
    const fastKey = poolKwargs === null ? originKeyOf(scheme, host, port) : null;
    if (fastKey !== null) {
      const pool = this.poolOfOrigin(fastKey);
      if (pool !== null) return pool;
    }
    const context = this.mergePoolKwargs(poolKwargs);
    context['scheme'] = scheme;
    context['port'] = port;
    context['host'] = host;
    const pool = this.connectionFromContext(context);
    if (fastKey !== null) {
      for (const [k, p] of this.pools) {
        if (p === pool) {
          if (this.originKeys.size > 4 * this.numPools) this.originKeys.clear();
          this.originKeys.set(fastKey, k);
          break;
        }
      }
    }
    return pool;
  }

  /**
   * The open pool already made for the origin `fastKey` (see originKeyOf)
   * without per-call pool options, moved to the most recent place in the LRU
   * order; null when there is none.
   */
  private poolOfOrigin(fastKey: string): HTTPConnectionPool | null {
    const key = this.originKeys.get(fastKey);
    if (key === undefined) return null;
    const pool = this.pools.get(key);
    if (pool === undefined || pool.isClosed || this.closed) return null;
    this.touch(key, pool);
    return pool;
  }

  /** Refreshes `key`'s place in the LRU order (nothing to do when it is the most recent already). */
  private touch(key: PoolKey, pool: HTTPConnectionPool): void {
    if (key === this.newestKey) return;
    this.pools.delete(key);
    this.pools.set(key, pool);
    this.newestKey = key;
  }

  /**
   * What `_urlopen` needs of a URL: parsed, with its scheme (http when it has
   * none), its absolute form and its origin key. The last few are cached per
   * manager (keyed by the whole URL string, so distinct paths are distinct
   * entries); a Url is immutable, so a cached one is as good as a new one.
   */
  private targetOf(url: string): Target {
    const hit = this.targets.get(url);
    if (hit !== undefined) return hit;
    const u = parseUrl(url);
    const scheme = u.scheme ?? 'http';
    const host = u.host;
    if (!host) return { url: u, scheme, here: '', originKey: null };
    const t: Target = {
      url: u,
      scheme,
      here: absoluteUrl(scheme, host, u.port, u.requestUri),
      originKey: originKeyOf(scheme, host, u.port ?? defaultPort(scheme) ?? 80),
    };
    if (this.targets.size >= TARGET_CACHE_SIZE) this.targets.delete(this.targets.keys().next().value!);
    this.targets.set(url, t);
    return t;
  }

  /** The pool for `t`: connectionFromHost(), with its lookup shortened when a subclass did not override it. */
  private poolFor(t: Target): HTTPConnectionPool {
    if (t.originKey !== null && this.connectionFromHost === PoolManager.prototype.connectionFromHost) {
      const pool = this.poolOfOrigin(t.originKey);
      if (pool !== null) return pool;
    }
    return this.connectionFromHost(t.url.host, { port: t.url.port, scheme: t.scheme });
  }

  /** The pool for a URL's origin. */
  connectionFromUrl(url: string, poolKwargs?: PoolOptionOverrides | null): HTTPConnectionPool {
    const u = parseUrl(url);
    return this.connectionFromHost(u.host, {
      port: u.port,
      scheme: u.scheme,
      poolKwargs: poolKwargs ?? null,
    });
  }

  /** The pool for a request context `{ scheme, host, port, ...poolOptions }`. */
  connectionFromContext(context: Record<string, unknown>): HTTPConnectionPool {
    const scheme = String(context['scheme'] ?? 'http').toLowerCase();
    if (scheme !== 'http' && scheme !== 'https') throw new URLSchemeUnknown(scheme);
    const ctx: Record<string, unknown> = { ...context, scheme };
    if (scheme === 'http') for (const k of TLS_ONLY) delete ctx[k];
    return this.connectionFromPoolKey(makePoolKey(ctx), ctx);
  }

  /** The pool stored under `key`, created from `context` when missing. */
  connectionFromPoolKey(key: PoolKey, context: Record<string, unknown>): HTTPConnectionPool {
    if (this.closed) throw new ClosedPoolError(null, 'PoolManager is closed.');
    const existing = this.pools.get(key);
    if (existing !== undefined && !existing.isClosed) {
      // Refresh its place in the LRU order.
      this.touch(key, existing);
      return existing;
    }
    const scheme = String(context['scheme']) as 'http' | 'https';
    const host = String(context['host']);
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(context)) {
      if (k !== 'scheme' && k !== 'host' && v !== undefined) options[k] = v;
    }
    const pool = this.newPool(scheme, host, options);
    // A closed pool left under this key is replaced where it stands in the order.
    if (existing === undefined) this.newestKey = key;
    this.pools.set(key, pool);
    while (this.pools.size > this.numPools) {
      const [oldKey, oldPool] = this.pools.entries().next().value as [PoolKey, HTTPConnectionPool];
      this.pools.delete(oldKey);
      debug('Evicting pool %s', oldKey);
      void oldPool.close();
    }
    return pool;
  }

  protected newPool(
    scheme: 'http' | 'https',
    host: string,
    options: Record<string, unknown>,
  ): HTTPConnectionPool {
    const cls = this.poolClassesByScheme[scheme];
    return new cls(host, options as HTTPSConnectionPoolOptions);
  }

  private mergePoolKwargs(override: PoolOptionOverrides | null): Record<string, unknown> {
    const base: Record<string, unknown> = { ...this.connectionPoolKw };
    if (override) {
      checkOptions('poolKwargs', override, POOL_KW_OPTIONS);
      for (const [k, v] of Object.entries(override)) {
        if (v === null) delete base[k];
        else if (v !== undefined) base[k] = v;
      }
    }
    return base;
  }

  /** Close every pool (idle connections now, busy ones when released) and forget them. */
  clear(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    this.newestKey = null;
    this.targets.clear();
    return Promise.all(pools.map((p) => p.close())).then(() => undefined);
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return this.clear().then(() => this.resolverSetup.close());
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * The request target sent for `u` (the parsed `url`): its origin-form.
   * ProxyManager sends the absolute form when it forwards.
   */
  protected requestTargetFor(u: Url, _url: string): string {
    return u.requestUri;
  }

  /** The headers sent for `u`; ProxyManager adds its proxy headers when it forwards. */
  protected headersFor(_u: Url, headers: HeadersInit | null): HeadersInit | null {
    return headers;
  }

  /**
   * Like the pool's urlopen, but following redirects across hosts, as
   * urllib3's PoolManager.urlopen: each hop goes to the pool of its own
   * origin (which handles errors and status retries within the hop), while
   * redirects are followed here, against one Retry that travels with the
   * request so every hop spends from the same redirect and total budgets.
   * A hop to another host (scheme, host or port) drops the headers named in
   * removeHeadersOnRedirect; 303 alone turns the request into a GET without
   * body or Content-* headers; only http and https targets are followed.
   *
   * @internal urlopen() (this is its implementation), reporting each request
   * that goes out on an HTTP/2 stream to `onSent`.
   */
  async _urlopen(
    method: string,
    url: string,
    options: UrlopenOptions | undefined,
    onSent: OnSent | null,
  ): Promise<HTTPResponse> {
    checkOptions('urlopen', options, URLOPEN_OPTIONS);
    // The caller's options are read from one fixed-shape copy taken now (none
    // when request() built them: they are already one, and nobody else holds it).
    const kw: UrlopenArgs =
      options instanceof UrlopenArgs
        ? options
        : options === undefined || options === null
          ? NO_OPTIONS
          : copyUrlopenOptions(new UrlopenArgs(), options);
    const redirect = kw.redirect ?? true;
    let headers: HeadersInit | null = kw.headers ?? this.headers;
    // One body for the whole chain: a stream read by the first hop cannot go out empty on the next.
    let body: PreparedBody | null = kw.body === undefined || kw.body === null ? null : prepareBody(kw.body);
    const poolRetries = this.connectionPoolKw['retries'] as Retry | number | boolean | null | undefined;
    let retries = Retry.from(kw.retries ?? undefined, { redirect, default: poolRetries ?? Retry.DEFAULT });
    for (let hop = 0; ; hop++) {
      const t = this.targetOf(url);
      const u = t.url;
      if (u.scheme === null) debug('URL %s has no scheme; assuming http', url);
      const pool = this.poolFor(t);
      const here = t.here;
      if (hop > 0 && body !== null) body = rewindFor(body, here);
      // One object of fixed shape for the pool, whatever keys the caller gave
      // (`multiplexed` stays here: the pool is driven through _urlopen).
      const hopOptions = copyUrlopenOptions(new UrlopenArgs(), kw);
      hopOptions.headers = this.headersFor(u, headers);
      hopOptions.body = body;
      hopOptions.bodyPos = body === null ? undefined : kw.bodyPos;
      hopOptions.retries = retries;
      hopOptions.assertSameHost = false;
      hopOptions.redirect = false;
      hopOptions.multiplexed = undefined;
      const response = await pool._urlopen(method, this.requestTargetFor(u, url), hopOptions, onSent);
      response.url = here;
      // The pool may have spent retries on errors or statuses within this hop.
      if (response.retries instanceof Retry) retries = response.retries;
      const location = redirect ? response.getRedirectLocation() : false;
      if (!location) return response;

      let next: string;
      try {
        next = resolveLocation(location, here);
      } catch (err) {
        await response.drainConn();
        throw err;
      }
      if (response.status === 303) {
        // 303 See Other is the only redirect that changes the method (urllib3 v2, RFC 9110 15.4.4).
        method = 'GET';
        body = null;
        headers = withoutBodyHeaders(headers);
      }
      const remove = retries.removeHeadersOnRedirect;
      if (remove.size > 0 && isFollowable(next) && !sameOrigin(here, next)) {
        const h: HTTPHeaderDict = new HTTPHeaderDict(headers ?? {});
        for (const name of [...h.keys()]) if (remove.has(name.toLowerCase())) h.delete(name);
        headers = h;
      }
      const spent = await spendOnResponse(retries, { method, url: here, response, pool }, 'redirect');
      if (spent === null) return response;
      retries = spent;
      debug('Redirecting %s -> %s', here, next);
      await response.drainConn();
      if (!isFollowable(next)) throw new URLSchemeUnknown(schemeOf(next));
      url = next;
    }
  }
}

/** The body for the next hop of a redirect chain, or UnrewindableBodyError naming the target. */
function rewindFor(body: PreparedBody, url: string): PreparedBody {
  try {
    return rewindBody(body);
  } catch (err) {
    if (!(err instanceof UnrewindableBodyError)) throw err;
    throw new UnrewindableBodyError(
      `cannot re-send the request body to ${url} after a redirect: it was a stream that cannot be rewound`,
      { cause: err },
    );
  }
}

function absoluteUrl(scheme: string, host: string, port: number | null, requestUri: string): string {
  return `${scheme}://${authority(host, port, scheme)}${requestUri}`;
}

export type { HTTPConnection, HeadersInit };
