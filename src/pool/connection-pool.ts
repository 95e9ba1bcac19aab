// HTTPConnectionPool / HTTPSConnectionPool (API.md section 4): connections to
// one origin, kept LIFO for reuse, and the retry/redirect loop of urlopen().
//
// The loop's rule (urllib3's, plus one addition):
//  * re-send automatically only what Retry allows: connect errors always (the
//    request never left), read errors only for methods in allowedMethods,
//    statuses in statusForcelist, redirects while the redirect budget lasts;
//  * re-send silently, without spending a retry, only when a reused keep-alive
//    connection failed before any response byte arrived and the request is
//    idempotent or was not written at all - the server closed an idle
//    connection under us, which says nothing about the request.
// A body is rewound before every re-send; a body that cannot be replayed
// raises UnrewindableBodyError instead of going out empty.
//
// Accounting: `all` holds every connection this pool opened and not yet
// closed; `idle` the ones ready for reuse (a stack: the most recently used is
// the most likely to still be open). With `block` the size of `all` never
// exceeds maxSize and callers wait for a slot.
//
// Reservations: an HTTP/1.1 connection carries one request at a time (it
// leaves `idle` while busy); an HTTP/2 connection carries up to the peer's
// MAX_CONCURRENT_STREAMS (`shared` holds those with requests in flight, and
// each request holds one of its slots until its stream is over). Which one a
// connection is, is known only after it connected (ALPN), so while the
// origin may speak HTTP/2 only one connection is set up at a time and other
// requests wait for it: on HTTP/2 they share it, on HTTP/1.1 they go on to
// open their own.
//
// On HTTP/2 a request the server never processed (REFUSED_STREAM, or above
// the last stream a GOAWAY acknowledged) is re-sent on another connection
// without spending a retry, whatever its method.

import { canResend, type PreparedBody, prepareBody, rewindBody } from '../body/request-body.js';
import {
  CONNECTION_OPTION_NAMES,
  checkDisabledSvn,
  type H2SendHooks,
  HTTPConnection,
  type HTTPConnectionOptions,
  HTTPSConnection,
  type HTTPSConnectionOptions,
  isConnectPhaseError,
  SENT_NULL,
} from '../connection/connection.js';
import {
  ClosedPoolError,
  EmptyPoolError,
  HostChangedError,
  HTTPError,
  ProtocolError,
  ProxyError,
  RequestAbortedError,
  SSLError,
  TimeoutError,
  UnrewindableBodyError,
  URLSchemeUnknown,
} from '../errors.js';
import type { HeadersInit } from '../headers.js';
import { checkOptions, optionSet } from '../options.js';
import { Retry } from '../policies/retry.js';
import { Timeout } from '../policies/timeout.js';
import { isValidMethod } from '../protocol/h1/serializer.js';
import type { HTTPResponse } from '../response.js';
import { parseUrl } from '../url.js';
import { debug } from '../debug.js';
import { channel } from 'node:diagnostics_channel';
import { isFollowable, resolveLocation, schemeOf, spendOnResponse, withoutBodyHeaders } from './redirect.js';
import { MultiplexingRequestMethods, type OnSent } from './multiplexing.js';
import { URLOPEN_OPTIONS, type UrlopenOptions } from './urlopen-options.js';
import { TLS_OPTION_NAMES } from '../net/tls-options.js';
import { type H2Exchange, isPermanentError, isUnprocessedError } from '../connection/h2-session.js';

export interface HTTPConnectionPoolOptions extends Omit<HTTPConnectionOptions, 'timeout'> {
  timeout?: number | Timeout | null;
  maxSize?: number;
  block?: boolean;
  headers?: HeadersInit | null;
  retries?: Retry | number | boolean | null;
}

export interface HTTPSConnectionPoolOptions
  extends HTTPConnectionPoolOptions,
    Omit<HTTPSConnectionOptions, 'timeout' | 'port'> {}

const POOL_ONLY = ['maxSize', 'block', 'headers', 'retries'];
export const HTTP_POOL_OPTION_NAMES = [...POOL_ONLY, ...CONNECTION_OPTION_NAMES];
export const HTTPS_POOL_OPTION_NAMES = [...HTTP_POOL_OPTION_NAMES, ...TLS_OPTION_NAMES];
const HTTP_POOL_OPTIONS = optionSet(...HTTP_POOL_OPTION_NAMES);
const HTTPS_POOL_OPTIONS = optionSet(...HTTPS_POOL_OPTION_NAMES);

/** What a request asks of getConn(). */
interface ConnRequest {
  /** A new connection (the stale keep-alive re-send). */
  fresh: boolean;
  /** Any connection but this one (HTTP/2 re-send of an unprocessed request). */
  avoid: HTTPConnection | null;
  /** Why acquire() last said "wait": a connection being set up, or no free slot (block). */
  reason: 'establishing' | 'full';
}

interface Waiter extends ConnRequest {
  resolve: (conn: HTTPConnection) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
  signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

/** Re-sends of requests an HTTP/2 server never processed, before the error goes to Retry. */
const MAX_UNPROCESSED_RESENDS = 3;

/** Called by urlopen once a request is on an HTTP/2 stream (multiplexing). */

const createChannel = channel('urllib3:request:create');
const headersChannel = channel('urllib3:request:headers');
const errorChannel = channel('urllib3:request:error');

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

export class HTTPConnectionPool extends MultiplexingRequestMethods {
  static readonly scheme: 'http' | 'https' = 'http';
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly timeout: Timeout;
  readonly retries: Retry;
  readonly maxSize: number;
  readonly block: boolean;
  /** Connections opened over the pool's life (a measure of reuse). */
  numConnections = 0;
  numRequests = 0;

  protected readonly connOptions: Record<string, unknown>;
  private readonly idle: HTTPConnection[] = [];
  private readonly all = new Set<HTTPConnection>();
  /** HTTP/2 connections with requests in flight that still open streams. */
  private readonly shared = new Set<HTTPConnection>();
  private readonly waiters: Waiter[] = [];
  /** The connection being set up while the origin may speak HTTP/2; others wait for it. */
  private establishing: HTTPConnection | null = null;
  /** What this origin negotiated last: true HTTP/2, false HTTP/1.1, null not known yet. */
  private originH2: boolean | null = null;
  private pumping = false;
  private readonly probe: ConnRequest = { fresh: false, avoid: null, reason: 'full' };
  private pumpAgain = false;
  private closed = false;
  private readonly hostHeader: string;
  private readonly origin: string;
  private readonly hooks = {
    connectionIdle: (conn: HTTPConnection) => this.putConn(conn),
    connectionClosed: (conn: HTTPConnection) => this.forget(conn),
    connectionCapacityChanged: (conn: HTTPConnection) => this.capacityChanged(conn),
  };

  constructor(host: string, options?: HTTPConnectionPoolOptions) {
    const ctor = new.target as unknown as typeof HTTPConnectionPool;
    checkOptions(ctor.name, options, ctor.scheme === 'https' ? HTTPS_POOL_OPTIONS : HTTP_POOL_OPTIONS);
    super(options?.headers ?? null);
    if (typeof host !== 'string' || host.length === 0)
      throw new TypeError(`${ctor.name}: host must be a non-empty string`);
    const o = options ?? {};
    this.scheme = ctor.scheme;
    // Hosts are compared normalised (lower case, IPv6 without brackets), as urllib3 does.
    this.host = normaliseHost(host);
    const defaultPort = this.scheme === 'https' ? 443 : 80;
    this.port = o.port ?? defaultPort;
    this.timeout = Timeout.from(o.timeout);
    this.retries = Retry.from(o.retries ?? undefined, { default: Retry.DEFAULT });
    this.maxSize = o.maxSize ?? 1;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1) {
      throw new RangeError(`${ctor.name}: maxSize must be a positive integer, got ${String(o.maxSize)}`);
    }
    this.block = o.block ?? false;
    // Fails here rather than at the first request (connections are made lazily).
    if (o.disabledSvn !== undefined && o.disabledSvn !== null) checkDisabledSvn(o.disabledSvn, ctor.name);
    const connOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (!POOL_ONLY.includes(k) && v !== undefined) connOptions[k] = v;
    }
    delete connOptions['timeout'];
    this.connOptions = connOptions;
    const bracketed = this.host.includes(':') ? `[${this.host}]` : this.host;
    this.hostHeader = this.port === defaultPort ? bracketed : `${bracketed}:${this.port}`;
    this.origin = `${this.scheme}://${this.hostHeader}`;
  }

  override toString(): string {
    return `${this.constructor.name}(host='${this.host}', port=${this.port})`;
  }

  /** Idle connections ready for reuse. */
  get numIdle(): number {
    return this.idle.length;
  }

  /** Connections currently open (idle or busy). */
  get numOpen(): number {
    return this.all.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  protected newConnection(): HTTPConnection {
    const opts = { ...this.connOptions, port: this.port, timeout: this.timeout } as HTTPSConnectionOptions;
    const tunnel = this.tunnelProxy();
    let conn: HTTPConnection;
    if (tunnel !== null) {
      // urllib3's model: the connection's host is the first hop (the proxy); the target is the tunnel.
      conn = new HTTPSConnection(tunnel.host, { ...opts, port: tunnel.port });
      conn.setTunnel(this.host, { port: this.port, scheme: 'https', headers: tunnel.headers });
    } else if (this.scheme === 'https') {
      conn = new HTTPSConnection(this.host, opts);
    } else {
      conn = new HTTPConnection(this.host, opts as HTTPConnectionOptions);
    }
    conn._hooks = this.hooks;
    this.all.add(conn);
    this.numConnections++;
    debug(
      'Starting new %s connection (%d): %s:%d',
      this.scheme.toUpperCase(),
      this.numConnections,
      this.host,
      this.port,
    );
    return conn;
  }

  /**
   * The HTTP(S) proxy this https pool tunnels through, or null: an https pool
   * for a target behind an HTTP(S) proxy uses CONNECT (the proxy's own pool,
   * used for forwarding, does not).
   */
  private tunnelProxy(): { host: string; port: number; headers: Record<string, string> | null } | null {
    const proxy = this.connOptions['proxy'];
    if (this.scheme !== 'https' || typeof proxy !== 'string' || !/^https?:/i.test(proxy)) return null;
    const u = parseUrl(proxy);
    if (u.host === null) return null;
    const host = u.host.startsWith('[') && u.host.endsWith(']') ? u.host.slice(1, -1) : u.host;
    const port = u.port ?? (u.scheme === 'https' ? 443 : 80);
    if (host.toLowerCase() === this.host && port === this.port) return null;
    const cfg = this.connOptions['proxyConfig'] as { proxyHeaders?: Record<string, string> } | undefined;
    return { host, port, headers: cfg?.proxyHeaders ?? null };
  }

  /**
   * A connection for one request: a free slot on an HTTP/2 connection, an
   * idle connection (most recent first), or a new one; or a wait, for the
   * connection being set up (the origin may speak HTTP/2) or, with `block`,
   * for a free slot.
   */
  getConn(
    poolTimeout: number | null = null,
    signal: AbortSignal | null = null,
    fresh = false,
    avoid: HTTPConnection | null = null,
  ): Promise<HTTPConnection> {
    if (this.closed) return Promise.reject(new ClosedPoolError(this, 'Pool is closed.'));
    const now = this.acquireNow(fresh, avoid);
    if (now !== null) return Promise.resolve(now);
    const req = this.probe;
    if (signal?.aborted) {
      return Promise.reject(
        new RequestAbortedError(`${this}: aborted while waiting for a connection`, { cause: signal.reason }),
      );
    }
    return new Promise<HTTPConnection>((resolve, reject) => {
      const w: Waiter = {
        fresh,
        avoid,
        reason: req.reason,
        resolve,
        reject,
        timer: null,
        signal,
        onAbort: null,
      };
      if (poolTimeout !== null && this.block) {
        w.timer = setTimeout(() => {
          this.removeWaiter(w);
          reject(
            new EmptyPoolError(
              this,
              "Pool is empty and a new connection can't be opened due to blocking mode.",
            ),
          );
        }, poolTimeout);
      }
      if (signal !== null) {
        w.onAbort = () => {
          this.removeWaiter(w);
          reject(
            new RequestAbortedError(`${this}: aborted while waiting for a connection`, {
              cause: signal.reason,
            }),
          );
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  /**
   * A connection available right now (slot reserved), or null when the
   * caller must wait through getConn() (`this.probe.reason` says why). One
   * reused probe object: most requests get a connection at once and
   * allocate nothing here.
   */
  private acquireNow(fresh: boolean, avoid: HTTPConnection | null): HTTPConnection | null {
    if (this.closed) return null;
    const req = this.probe;
    req.fresh = fresh;
    req.avoid = avoid;
    req.reason = 'full';
    const now = this.acquire(req);
    req.avoid = null;
    return now;
  }

  /**
   * The synchronous part of getConn(): a connection (with its slot reserved
   * when it is HTTP/2), or null to wait (req.reason says why).
   */
  private acquire(req: ConnRequest): HTTPConnection | null {
    if (!req.fresh) {
      if (this.shared.size > 0) {
        for (const conn of this.shared) {
          if (conn !== req.avoid && conn._capacity > 0) {
            conn._reserved++;
            return conn;
          }
        }
      }
      for (let i = this.idle.length - 1; i >= 0; i = Math.min(i - 1, this.idle.length - 1)) {
        const conn = this.idle[i]!;
        if (conn === req.avoid) continue;
        this.idle.splice(i, 1);
        if (conn._isMultiplexed) {
          if (conn._capacity > 0) {
            conn._reserved++;
            this.shared.add(conn);
            return conn;
          }
        } else if (conn._isIdle) {
          return conn;
        }
        // Dropped while idle (the server closed it): replace it.
        debug('Resetting dropped connection: %s', this.host);
        this.discard(conn);
      }
      if (this.establishing !== null) {
        req.reason = 'establishing';
        return null;
      }
    }
    if (!this.block || this.all.size < this.maxSize) return this.open();
    if (req.fresh && this.idle.length > 0) {
      this.discard(this.idle.shift()!);
      return this.open();
    }
    req.reason = 'full';
    return null;
  }

  /** A new connection; while the origin may speak HTTP/2 it is the one others wait for. */
  private open(): HTTPConnection {
    const conn = this.newConnection();
    if (this.establishing === null && this.originH2 !== false && conn._mayNegotiateH2) {
      this.establishing = conn;
    }
    return conn;
  }

  /** Serve the waiters that can be served now (FIFO). Re-entrant calls fold into the running one. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (let i = 0; i < this.waiters.length; ) {
          const w = this.waiters[i]!;
          const conn = this.closed ? null : this.acquire(w);
          if (conn === null) {
            i++;
            continue;
          }
          this.waiters.splice(i, 1);
          this.clearWaiter(w);
          w.resolve(conn);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private removeWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i !== -1) this.waiters.splice(i, 1);
    this.clearWaiter(w);
  }

  private clearWaiter(w: Waiter): void {
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    if (w.onAbort !== null) w.signal?.removeEventListener('abort', w.onAbort);
    w.onAbort = null;
  }

  /** A new connection is up: on HTTP/2 it is shared from now on. */
  private connected(conn: HTTPConnection): void {
    if (this.establishing === conn) this.establishing = null;
    if (conn._isMultiplexed) {
      this.originH2 = true;
      // The request that opened it holds the first slot.
      conn._reserved = 1;
      if (this.all.has(conn)) this.shared.add(conn);
    } else if (conn._mayNegotiateH2) {
      this.originH2 = false;
    }
    this.pump();
  }

  /**
   * Setting up the connection others were waiting for failed: they fail
   * with the same error (each spends its own retry), as if each had tried
   * at the same time, rather than each waiting out its own attempt in turn.
   * An abort is the opener's own business: the waiters go on.
   */
  private connectFailed(conn: HTTPConnection, err: unknown): void {
    if (this.establishing !== conn) return;
    this.establishing = null;
    if (!(err instanceof RequestAbortedError) && err instanceof Error) {
      for (const w of this.waiters.filter((x) => x.reason === 'establishing')) {
        this.removeWaiter(w);
        w.reject(err);
      }
    }
    this.pump();
  }

  /** A slot of the HTTP/2 connection `conn`, freed once (when its stream is over). */
  private leaseFor(conn: HTTPConnection): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.streamDone(conn);
    };
  }

  private streamDone(conn: HTTPConnection): void {
    conn._reserved = Math.max(0, conn._reserved - 1);
    if (!this.all.has(conn)) return;
    if (this.closed || !conn._acceptsStreams) {
      // Pool closed or GOAWAY: the connection goes once its last stream is over.
      this.shared.delete(conn);
      if (conn._reserved === 0) this.discard(conn);
      return;
    }
    this.pump();
    if (conn._reserved === 0 && this.shared.has(conn)) {
      this.shared.delete(conn);
      if (this.idle.length >= this.maxSize) {
        debug(
          'Connection pool is full, discarding connection: %s. Connection pool size: %d',
          this.host,
          this.maxSize,
        );
        this.discard(conn);
      } else {
        this.idle.push(conn);
      }
    }
  }

  /** HTTP/2 SETTINGS or GOAWAY: more (or no more) streams on `conn`. */
  private capacityChanged(conn: HTTPConnection): void {
    if (!this.all.has(conn)) return;
    if (!conn._acceptsStreams) {
      this.shared.delete(conn);
      const i = this.idle.indexOf(conn);
      if (i !== -1) this.idle.splice(i, 1);
      if (conn._reserved === 0) this.discard(conn);
    }
    this.pump();
  }

  /** A connection finished its request and may be reused (HTTP/1.1). */
  putConn(conn: HTTPConnection): void {
    if (!this.all.has(conn)) return;
    if (this.closed || !conn._isIdle) {
      this.discard(conn);
      return;
    }
    if (this.waiters.length > 0) {
      this.idle.push(conn);
      this.pump();
      const i = this.idle.indexOf(conn);
      if (i === -1) return;
      this.idle.splice(i, 1);
    }
    if (this.idle.length >= this.maxSize) {
      debug(
        'Connection pool is full, discarding connection: %s. Connection pool size: %d',
        this.host,
        this.maxSize,
      );
      this.discard(conn);
      return;
    }
    this.idle.push(conn);
  }

  private discard(conn: HTTPConnection): void {
    this.forget(conn);
    void conn.close();
  }

  /** A connection closed (by either side): free its slot. */
  private forget(conn: HTTPConnection): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    this.shared.delete(conn);
    if (this.establishing === conn) this.establishing = null;
    if (!this.closed && this.waiters.length > 0) this.pump();
  }

  /** Close idle connections now and busy ones when their response is released; later requests fail. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const conn of this.idle.splice(0)) this.discard(conn);
    for (const conn of [...this.shared]) if (conn._reserved === 0) this.discard(conn);
    for (const w of this.waiters.splice(0)) {
      this.clearWaiter(w);
      w.reject(new ClosedPoolError(this, 'Pool is closed.'));
    }
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Whether `url` points at this pool's origin (relative URLs always do). */
  isSameHost(url: string): boolean {
    if (url.startsWith('/')) return true;
    const u = parseUrl(url);
    const scheme = u.scheme ?? 'http';
    const host = u.host === null ? null : normaliseHost(u.host);
    let port = u.port;
    if (port === null) port = scheme === 'https' ? 443 : scheme === 'http' ? 80 : null;
    return scheme === this.scheme && host === this.host && port === this.port;
  }

  /**
   * The lowest-level request: no field encoding; retries, redirects (within
   * this host) and timeouts as urllib3's HTTPConnectionPool.urlopen.
   *
   * One attempt after another, each with a fresh copy of the timeout:
   *  * an error Retry counts (timeouts, broken connections, TLS and proxy
   *    failures) spends a retry - connect errors for any method, read errors
   *    only for allowedMethods - then the backoff is slept and the body
   *    rewound; Retry throws MaxRetryError when the budget is spent, or the
   *    error itself when retries are off or the method may not be re-sent;
   *  * a redirect (while `redirect` is true) spends one; 303 turns the
   *    request into a GET without body or Content-* headers, the others keep
   *    method and body; the 3xx body is drained so the connection is reused;
   *    only this host is followed (HostChangedError, as urllib3's pool);
   *  * a status Retry.isRetry() accepts (statusForcelist, or Retry-After on
   *    413/429/503) spends one, and Retry-After or the backoff is slept.
   * When the budget runs out on a response, raiseOnRedirect / raiseOnStatus
   * choose between MaxRetryError and returning that response.
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
    const o = options ?? {};
    if (!isValidMethod(method)) throw new TypeError(`invalid HTTP method ${JSON.stringify(method)}`);
    if (this.closed) throw new ClosedPoolError(this, 'Pool is closed.');
    const redirect = o.redirect ?? true;
    let retries = Retry.from(o.retries ?? undefined, { redirect, default: this.retries });
    const preloadContent = o.preloadContent ?? true;
    const assertSameHost = o.assertSameHost ?? true;
    let headers: HeadersInit | null = o.headers ?? this.headers;
    let body: PreparedBody | null = o.body === undefined || o.body === null ? null : prepareBody(o.body);
    if (o.bodyPos !== undefined && o.bodyPos !== null) body = atPosition(body, o.bodyPos);
    const timeoutSpec = o.timeout === undefined ? this.timeout : Timeout.from(o.timeout);
    const signal = o.signal ?? null;

    for (;;) {
      if (assertSameHost && !this.isSameHost(url)) throw new HostChangedError(this, url, retries);
      const { target, absolute } = this.requestTarget(url);
      let response: HTTPResponse;
      try {
        response = await this.makeRequest(
          method,
          target,
          absolute,
          headers,
          body,
          timeoutSpec,
          o,
          preloadContent,
          onSent,
        );
      } catch (err) {
        if (!isRetriableError(err)) throw err;
        retries = retries.increment({ method, url: absolute, error: err as Error, pool: this });
        body = this.rewind(body, absolute, err as Error);
        debug('Retrying (%s) after connection broken by %s: %s', String(retries), (err as Error).name, url);
        await pause(retries.sleep(null, { signal: signal ?? undefined }), signal, this, absolute);
        continue;
      }
      response.retries = retries;

      const location = redirect ? response.getRedirectLocation() : false;
      if (location) {
        if (response.status === 303) {
          // 303 See Other is the only redirect that changes the method (urllib3 v2, RFC 9110 15.4.4).
          method = 'GET';
          body = null;
          headers = withoutBodyHeaders(headers);
        }
        const spent = await spendOnResponse(
          retries,
          { method, url: absolute, response, pool: this },
          'redirect',
        );
        if (spent === null) return response;
        retries = spent;
        await response.drainConn();
        const next = resolveLocation(location, absolute);
        if (assertSameHost && !this.isSameHost(next)) throw new HostChangedError(this, next, retries);
        if (!isFollowable(next)) throw new URLSchemeUnknown(schemeOf(next));
        body = this.rewind(body, next, null);
        debug('Redirecting %s -> %s', absolute, next);
        await pause(retries.sleepForRetry(response, { signal: signal ?? undefined }), signal, this, absolute);
        url = next;
        continue;
      }

      // As urllib3: an empty Retry-After is no Retry-After.
      const hasRetryAfter = Boolean(response.headers.get('retry-after'));
      if (retries.isRetry(method, response.status, hasRetryAfter)) {
        const spent = await spendOnResponse(
          retries,
          { method, url: absolute, response, pool: this },
          'status',
        );
        if (spent === null) return response;
        retries = spent;
        await response.drainConn();
        body = this.rewind(body, absolute, null);
        debug('Retry: %s', absolute);
        await pause(retries.sleep(response, { signal: signal ?? undefined }), signal, this, absolute);
        continue;
      }
      return response;
    }
  }

  private rewind(body: PreparedBody | null, url: string, cause: Error | null): PreparedBody | null {
    if (body === null) return null;
    try {
      return rewindBody(body);
    } catch (err) {
      if (err instanceof UnrewindableBodyError) {
        throw new UnrewindableBodyError(
          `${this}: cannot re-send the request body to ${url}: it was a stream that cannot be rewound` +
            (cause ? ` (the first attempt failed with ${cause.name}: ${cause.message})` : ''),
          { cause: cause ?? err },
        );
      }
      throw err;
    }
  }

  private requestTarget(url: string): { target: string; absolute: string } {
    if (url.startsWith('/')) {
      const target = needsEncoding(url) ? parseUrl(url).requestUri : url;
      return { target, absolute: this.origin + target };
    }
    const u = parseUrl(url);
    const proxy = this.connOptions['proxy'];
    if (u.scheme !== null && u.host !== null && typeof proxy === 'string' && /^https?:/i.test(proxy)) {
      // A forwarding proxy is sent the absolute form (RFC 9112 section 3.2.2),
      // as urllib3's pool sends an absolute URL as it is.
      const full = u.url.replace(/#.*$/, '');
      return { target: full, absolute: full };
    }
    const target = u.requestUri;
    return { target, absolute: this.origin + target };
  }

  /**
   * One attempt, with the silent re-sends: once for a stale keep-alive
   * connection, and (a few times) for HTTP/2 requests the server never
   * processed.
   */
  private async makeRequest(
    method: string,
    target: string,
    absolute: string,
    headers: HeadersInit | null,
    body: PreparedBody | null,
    timeoutSpec: Timeout,
    o: UrlopenOptions,
    preloadContent: boolean,
    onSent: OnSent | null,
  ): Promise<HTTPResponse> {
    let fresh = false;
    let staleResent = false;
    let avoid: HTTPConnection | null = null;
    let unprocessedResends = 0;
    const signal = o.signal ?? null;
    const traced =
      createChannel.hasSubscribers || headersChannel.hasSubscribers || errorChannel.hasSubscribers;
    const request = traced ? { method, url: absolute, headers } : null;
    if (request !== null && createChannel.hasSubscribers) createChannel.publish({ request });
    for (;;) {
      const timeout = timeoutSpec.clone();
      // Most requests find a connection at once: no promise to wait on then.
      const conn: HTTPConnection =
        this.acquireNow(fresh, avoid) ?? (await this.getConn(o.poolTimeout ?? null, signal, fresh, avoid));
      const alive = conn._checkAlive();
      if (alive !== true && !(await alive)) {
        // A long-idle HTTP/2 connection that no longer answers PING: it is closed; take another.
        this.discard(conn);
        continue;
      }
      const reused = conn.requestsServed > 0 && conn.isConnected;
      let lease: (() => void) | null = null;
      let exchange: H2Exchange | null = null;
      try {
        timeout.startConnect();
        if (!conn.isConnected) {
          try {
            await conn.connect({ signal, timeout: timeout.connectTimeout });
          } catch (err) {
            this.connectFailed(conn, err);
            throw err;
          }
          this.connected(conn);
        }
        let h2: H2SendHooks | null = null;
        if (conn._isMultiplexed) {
          lease = this.leaseFor(conn);
          h2 = {
            onDone: lease,
            onStream: (ex) => {
              exchange = ex;
            },
          };
        }
        this.numRequests++;
        const sending = conn._send(
          method,
          target,
          headers,
          body,
          o.chunked,
          {
            preloadContent,
            decodeContent: o.decodeContent ?? true,
            enforceContentLength: o.enforceContentLength ?? true,
            connectTimeout: timeout.connectTimeout,
            readTimeout: timeout.readTimeout,
            signal,
            onUploadBody: o.onUploadBody ?? null,
            onEarlyResponse: o.onEarlyResponse ?? null,
            onPostConnection: o.onPostConnection ?? null,
            url: absolute,
          },
          h2,
        );
        const ex = sending === SENT_NULL ? null : await sending;
        if (ex !== null && onSent !== null) onSent({ streamId: ex.streamId, connection: conn });
        const response = ex !== null ? await ex.getResponse() : await conn.getResponse();
        response.url = absolute;
        if (request !== null && headersChannel.hasSubscribers) {
          headersChannel.publish({
            request,
            response: { status: response.status, headers: response.headers },
          });
        }
        return response;
      } catch (err) {
        let gotBytes: boolean;
        if (lease !== null) {
          // HTTP/2: only this stream failed; the connection carries on unless it is gone too.
          gotBytes = (exchange as H2Exchange | null)?.gotBytes ?? false;
          lease();
        } else {
          gotBytes = conn._gotResponseBytes;
          this.discard(conn);
        }
        if (
          isUnprocessedError(err) &&
          unprocessedResends < MAX_UNPROCESSED_RESENDS &&
          (body === null || canResend(body))
        ) {
          debug(
            'HTTP/2 server did not process the request to %s (%s); re-sending',
            absolute,
            (err as Error).message,
          );
          unprocessedResends++;
          avoid = conn;
          if (body !== null) body = rewindBody(body);
          continue;
        }
        if (
          !staleResent &&
          reused &&
          !gotBytes &&
          err instanceof ProtocolError &&
          !(err instanceof RequestAbortedError) &&
          !isPermanentError(err) &&
          (IDEMPOTENT.has(method) || (err as { requestNotSent?: boolean }).requestNotSent === true) &&
          (body === null || canResend(body))
        ) {
          debug(
            'Stale keep-alive connection to %s failed before any response byte; re-sending once',
            this.host,
          );
          staleResent = true;
          if (lease !== null) avoid = conn;
          else fresh = true;
          if (body !== null) body = rewindBody(body);
          continue;
        }
        if (request !== null && errorChannel.hasSubscribers) errorChannel.publish({ request, error: err });
        throw annotate(err, this, absolute);
      }
    }
  }
}

export class HTTPSConnectionPool extends HTTPConnectionPool {
  static override readonly scheme: 'http' | 'https' = 'https';

  // Only to widen the options type to the TLS ones; the base constructor validates by scheme.
  // biome-ignore lint/complexity/noUselessConstructor: it changes the parameter type
  constructor(host: string, options?: HTTPSConnectionPoolOptions) {
    super(host, options);
  }
}

// ---- helpers ---------------------------------------------------------------------

function normaliseHost(host: string): string {
  let h = host.toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  return h;
}

function needsEncoding(target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (
      c <= 0x20 ||
      c >= 0x7f ||
      c === 0x22 ||
      c === 0x3c ||
      c === 0x3e ||
      c === 0x5c ||
      c === 0x5e ||
      c === 0x60 ||
      c === 0x7b ||
      c === 0x7c ||
      c === 0x7d
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Errors urlopen hands to Retry, as urllib3's urlopen catches them: timeouts
 * (connect errors included), broken or invalid protocol, TLS and proxy
 * failures. Anything else - a DecodeError, a closed pool, an abort, a bad
 * header - ends the request at once.
 */
function isRetriableError(err: unknown): boolean {
  // Re-sending cannot help (an HTTP/2 server that does not allow extended CONNECT).
  if (err instanceof RequestAbortedError || isPermanentError(err)) return false;
  return (
    err instanceof TimeoutError ||
    err instanceof ProtocolError ||
    err instanceof SSLError ||
    err instanceof ProxyError
  );
}

/**
 * Waits for a retry sleep; an abort during it rejects with the signal's
 * reason wrapped in RequestAbortedError, as an abort anywhere else does.
 */
async function pause(
  sleep: Promise<unknown>,
  signal: AbortSignal | null,
  pool: HTTPConnectionPool,
  url: string,
): Promise<void> {
  try {
    await sleep;
  } catch (err) {
    if (signal?.aborted && err === signal.reason) {
      throw new RequestAbortedError(`${pool}: request to ${url} aborted while waiting to retry`, {
        cause: signal.reason,
      });
    }
    throw err;
  }
}

/** urllib3's body_pos for bodies at hand: every attempt sends the bytes from `pos` on. */
function atPosition(body: PreparedBody | null, pos: number): PreparedBody | null {
  if (!Number.isInteger(pos) || pos < 0)
    throw new RangeError(`bodyPos must be a non-negative integer, got ${pos}`);
  if (body === null || body.buffer === null) {
    throw new TypeError(
      'bodyPos needs a body whose bytes are at hand (string, Buffer, Uint8Array); streams cannot seek',
    );
  }
  if (pos > body.buffer.length) {
    throw new RangeError(`bodyPos ${pos} is past the end of the ${body.buffer.length}-byte body`);
  }
  return pos === 0 ? body : prepareBody(body.buffer.subarray(pos));
}

function annotate(err: unknown, pool: HTTPConnectionPool, url: string): unknown {
  if (err instanceof HTTPError && err.name === 'ReadTimeoutError') {
    const e = err as HTTPError & { pool: unknown; url: string };
    if (e.pool === null) (e as { pool: unknown }).pool = pool;
    if (!e.url) (e as { url: string }).url = url;
  }
  if (isConnectPhaseError(err)) return err;
  return err;
}
