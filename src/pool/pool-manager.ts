// PoolManager (API.md sections 1 and 4): one pool per origin and set of
// connection options, at most `numPools` of them (least recently used closed
// first), and redirects that cross hosts - dropping the headers Retry names
// in removeHeadersOnRedirect when the host changes. The top-level request()
// uses one module-level manager, as urllib3.request() does.

import type { HTTPConnection } from '../connection/connection.js';
import { ClosedPoolError, LocationValueError, URLSchemeUnknown } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import { TLS_OPTION_NAMES } from '../net/tls-options.js';
import { checkOptions, optionSet } from '../options.js';
import { Retry } from '../policies/retry.js';
import type { HTTPResponse } from '../response.js';
import { parseUrl } from '../url.js';
import { debug } from '../debug.js';
import {
  HTTPConnectionPool,
  type HTTPConnectionPoolOptions,
  HTTPS_POOL_OPTION_NAMES,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
} from './connection-pool.js';
import { makePoolKey, type PoolKey } from './pool-key.js';
import { spendOnResponse, withoutBodyHeaders } from './redirect.js';
import { type RequestOptions, RequestMethods } from './request-methods.js';
import { URLOPEN_OPTIONS, type UrlopenOptions } from './urlopen-options.js';

export interface PoolManagerOptions extends Omit<HTTPSConnectionPoolOptions, 'port'> {
  numPools?: number;
}

const MANAGER_OPTIONS = optionSet('numPools', ...HTTPS_POOL_OPTION_NAMES.filter((k) => k !== 'port'));
const POOL_KW_OPTIONS = optionSet(...HTTPS_POOL_OPTION_NAMES);
const TLS_ONLY = new Set<string>(TLS_OPTION_NAMES);
const POOL_CLASSES = { http: HTTPConnectionPool, https: HTTPSConnectionPool } as const;
const DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

export type PoolOptionOverrides = Partial<Record<keyof HTTPSConnectionPoolOptions, unknown>>;

export class PoolManager extends RequestMethods {
  readonly numPools: number;
  /** The pools, keyed by pool key, in least-recently-used order. */
  readonly pools = new Map<PoolKey, HTTPConnectionPool>();
  protected readonly connectionPoolKw: Record<string, unknown>;
  private closed = false;

  constructor(options?: PoolManagerOptions) {
    checkOptions('PoolManager', options, MANAGER_OPTIONS);
    const { numPools = 10, headers, ...poolKw } = options ?? {};
    super(headers ?? null);
    if (!Number.isInteger(numPools) || numPools < 1) {
      throw new RangeError(`PoolManager: numPools must be a positive integer, got ${String(numPools)}`);
    }
    this.numPools = numPools;
    const kw: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(poolKw)) if (v !== undefined) kw[k] = v;
    this.connectionPoolKw = kw;
  }

  /** The pool for `host`, creating it if needed. */
  connectionFromHost(
    host: string | null,
    options?: { port?: number | null; scheme?: string | null; poolKwargs?: PoolOptionOverrides | null },
  ): HTTPConnectionPool {
    checkOptions('connectionFromHost', options, optionSet('port', 'scheme', 'poolKwargs'));
    if (!host) throw new LocationValueError('No host specified.');
    const context = this.mergePoolKwargs(options?.poolKwargs ?? null);
    const scheme = (options?.scheme ?? 'http').toLowerCase();
    context['scheme'] = scheme;
    context['port'] = options?.port ?? DEFAULT_PORTS[scheme] ?? 80;
    context['host'] = host;
    return this.connectionFromContext(context);
  }

  /** The pool for a URL's origin. */
  connectionFromUrl(url: string, poolKwargs?: PoolOptionOverrides | null): HTTPConnectionPool {
    const u = parseUrl(url);
    return this.connectionFromHost(u.host, { port: u.port, scheme: u.scheme, poolKwargs: poolKwargs ?? null });
  }

  /** The pool for a request context `{ scheme, host, port, ...poolOptions }`. */
  connectionFromContext(context: Record<string, unknown>): HTTPConnectionPool {
    const scheme = String(context['scheme'] ?? 'http').toLowerCase();
    if (!(scheme in POOL_CLASSES)) throw new URLSchemeUnknown(scheme);
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
      this.pools.delete(key);
      this.pools.set(key, existing);
      return existing;
    }
    const scheme = String(context['scheme']) as 'http' | 'https';
    const host = String(context['host']);
    const options: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(context)) {
      if (k !== 'scheme' && k !== 'host' && v !== undefined) options[k] = v;
    }
    const pool = this.newPool(scheme, host, options);
    this.pools.set(key, pool);
    while (this.pools.size > this.numPools) {
      const [oldKey, oldPool] = this.pools.entries().next().value as [PoolKey, HTTPConnectionPool];
      this.pools.delete(oldKey);
      debug('Evicting pool %s', oldKey);
      void oldPool.close();
    }
    return pool;
  }

  protected newPool(scheme: 'http' | 'https', host: string, options: Record<string, unknown>): HTTPConnectionPool {
    const cls = POOL_CLASSES[scheme];
    return new cls(host, options as HTTPConnectionPoolOptions);
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
    return Promise.all(pools.map((p) => p.close())).then(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    return this.clear();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /**
   * Like the pool's urlopen, but following redirects across hosts: each hop
   * goes to the pool of its own origin.
   */
  override async urlopen(method: string, url: string, options?: UrlopenOptions): Promise<HTTPResponse> {
    checkOptions('urlopen', options, URLOPEN_OPTIONS);
    const kw: UrlopenOptions = { ...(options ?? {}) };
    const redirect = kw.redirect ?? true;
    if (kw.headers === undefined || kw.headers === null) kw.headers = this.headers;
    for (;;) {
      const u = parseUrl(url);
      if (u.scheme === null) {
        debug('URL %s has no scheme; assuming http', url);
      }
      const pool = this.connectionFromHost(u.host, { port: u.port, scheme: u.scheme ?? 'http' });
      const response = await pool.urlopen(method, u.requestUri, { ...kw, assertSameHost: false, redirect: false });
      const location = redirect ? response.getRedirectLocation() : false;
      if (!location) {
        response.url = absoluteUrl(u.scheme ?? 'http', u.host!, u.port, u.requestUri);
        return response;
      }
      const next = new URL(location, absoluteUrl(u.scheme ?? 'http', u.host!, u.port, u.requestUri)).toString();
      if (response.status === 303) {
        if (method !== 'HEAD') method = 'GET';
        kw.body = null;
        kw.headers = withoutBodyHeaders(kw.headers ?? null);
      }
      let retries = kw.retries instanceof Retry ? kw.retries : response.retries;
      if (!(retries instanceof Retry)) retries = Retry.from(kw.retries ?? undefined, { redirect });
      const remove = retries.removeHeadersOnRedirect;
      if (remove.size > 0 && !pool.isSameHost(next)) {
        const h: HTTPHeaderDict = new HTTPHeaderDict(kw.headers ?? {});
        for (const name of [...h.keys()]) if (remove.has(name.toLowerCase())) h.delete(name);
        kw.headers = h;
      }
      const spent = await spendOnResponse(retries, { method, url, response, pool }, 'redirect');
      if (spent === null) return response;
      retries = spent;
      kw.retries = retries;
      kw.redirect = redirect;
      debug('Redirecting %s -> %s', url, next);
      await response.drainConn();
      url = next;
    }
  }
}

function absoluteUrl(scheme: string, host: string, port: number | null, requestUri: string): string {
  const def = DEFAULT_PORTS[scheme];
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${scheme}://${h}${port !== null && port !== def ? `:${port}` : ''}${requestUri}`;
}

// ---- the module-level manager -------------------------------------------------------

let defaultManager: PoolManager | null = null;

/** The PoolManager behind the top-level request(), created on first use. */
export function getDefaultPoolManager(): PoolManager {
  if (defaultManager === null) defaultManager = new PoolManager();
  return defaultManager;
}

/**
 * Make a request through a module-level PoolManager, like urllib3.request().
 * Its timeout defaults to 3000 ms, as urllib3's does to 3 s.
 */
export function request(method: string, url: string, options?: RequestOptions): Promise<HTTPResponse> {
  const o: RequestOptions = { ...(options ?? {}) };
  if (o.timeout === undefined) o.timeout = 3000;
  return getDefaultPoolManager().request(method, url, o);
}

export type { HTTPConnection, HeadersInit };
