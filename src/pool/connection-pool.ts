// HTTPConnectionPool / HTTPSConnectionPool (docs/api.md section 4): the
// retry/redirect loop of urlopen() for one origin. Which connection a request
// goes out on - reuse, limits, waiting, HTTP/2 sharing - is the scheduler's
// business (scheduler.ts), kept apart so it can be tested without sockets;
// this file builds connections for it and sends requests on what it hands out.
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
// On HTTP/2 a request the server never processed (REFUSED_STREAM, or above
// the last stream a GOAWAY acknowledged) is re-sent on another connection
// without spending a retry, whatever its method.
//
// Each attempt travels as one PoolRequest, which is also what the scheduler
// is asked (a fresh connection, one to avoid): taking a connection that is
// available right now stays synchronous and allocates nothing.

import { checkHappyEyeballs } from '../net/happy-eyeballs.js';
import { ownResolver, type ResolverSetup } from '../dns/resolver-option.js';
import type { TlsOptions } from '../net/tls-options.js';
import { authority, defaultPort, unbracketHost, withoutTrailingDot } from '../authority.js';
import { canResend, type PreparedBody, prepareBody, rewindBody } from '../body/request-body.js';
import {
  CONNECTION_OPTION_NAMES,
  HTTPConnection,
  type HTTPConnectionOptions,
} from '../connection/connection.js';
import { checkDisabledSvn } from '../connection/http-versions.js';
import { HTTPSConnection, type HTTPSConnectionOptions } from '../connection/https-connection.js';
import { type Exchange, SENT } from '../connection/session.js';
import {
  ClosedPoolError,
  HostChangedError,
  HTTPError,
  ProtocolError,
  ProxyError,
  fillRequest,
  ReadTimeoutError,
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
import { resolveSocketOptions } from '../net/socket-options.js';
import { TLS_OPTION_NAMES } from '../net/tls-options.js';
import { type ConnRequest, PoolScheduler } from './scheduler.js';

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
const HTTP_POOL_OPTION_NAMES = [...POOL_ONLY, ...CONNECTION_OPTION_NAMES];
export const HTTPS_POOL_OPTION_NAMES = [
  ...HTTP_POOL_OPTION_NAMES,
  ...TLS_OPTION_NAMES,
  'preemptiveQuicCache',
];
const HTTP_POOL_OPTIONS = optionSet(...HTTP_POOL_OPTION_NAMES);
const HTTPS_POOL_OPTIONS = optionSet(...HTTPS_POOL_OPTION_NAMES);

/**
 * One attempt of a request as it travels through the pool: what urlopen
 * resolved, and (ConnRequest) what the scheduler is asked - the re-sends
 * set `fresh` and `avoid` on it, so asking allocates nothing more.
 */
interface PoolRequest extends ConnRequest<HTTPConnection> {
  method: string;
  /** What goes on the request line: origin form, or absolute form to a forwarding proxy. */
  target: string;
  /** The absolute URL (response.url, errors, tracing). */
  url: string;
  headers: HeadersInit | null;
  body: PreparedBody | null;
  /** Cloned for each send. */
  timeout: Timeout;
  options: UrlopenOptions;
  preloadContent: boolean;
  onSent: OnSent | null;
}

/** Re-sends of requests an HTTP/2 server never processed, before the error goes to Retry. */
const MAX_UNPROCESSED_RESENDS = 3;

const createChannel = channel('urllib3:request:create');
const headersChannel = channel('urllib3:request:headers');
const errorChannel = channel('urllib3:request:error');

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);

export class HTTPConnectionPool extends MultiplexingRequestMethods {
  static readonly scheme: 'http' | 'https' = 'http';
  /**
   * The connection class this pool opens (urllib3's `ConnectionCls`): a
   * subclass brings its own dialer or session factories this way.
   */
  static ConnectionCls: new (host: string, options?: HTTPSConnectionOptions) => HTTPConnection =
    HTTPConnection;
  readonly scheme: 'http' | 'https';
  /** The host as given, normalised as urllib3 does (lower case, no brackets, a zone id as `%eth0`). */
  readonly host: string;
  /** The port as given: null when none was (connections then use the scheme's default). */
  readonly port: number | null;
  readonly timeout: Timeout;
  readonly retries: Retry;
  readonly maxSize: number;
  readonly block: boolean;
  /** Connections opened over the pool's life (a measure of reuse). */
  numConnections = 0;
  numRequests = 0;

  protected readonly connOptions: Record<string, unknown>;
  /** The resolver the pool's connections share (closed with the pool when the pool set it up). */
  private readonly resolverSetup: ResolverSetup;
  /** Which connection each request goes out on (all the pool's connection state). */
  private readonly scheduler: PoolScheduler<HTTPConnection>;
  private readonly origin: string;
  /** The port connections go to: `port`, or the scheme's default. */
  private readonly portToUse: number;

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
    this.port = o.port ?? null;
    this.portToUse = this.port ?? (this.scheme === 'https' ? 443 : 80);
    this.timeout = Timeout.from(o.timeout);
    this.retries = Retry.from(o.retries ?? undefined, { default: Retry.DEFAULT });
    this.maxSize = o.maxSize ?? 1;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1) {
      throw new RangeError(`${ctor.name}: maxSize must be a positive integer, got ${String(o.maxSize)}`);
    }
    this.block = o.block ?? false;
    // Fails here rather than at the first request (connections are made lazily).
    if (o.disabledSvn !== undefined && o.disabledSvn !== null) checkDisabledSvn(o.disabledSvn, ctor.name);
    checkHappyEyeballs(o.happyEyeballs, ctor.name);
    resolveSocketOptions(o.socketOptions, ctor.name);
    const connOptions: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (!POOL_ONLY.includes(k) && v !== undefined) connOptions[k] = v;
    }
    delete connOptions['timeout'];
    // A resolver given as URLs is set up once, shared by the pool's connections, closed with the pool.
    const resolver = ownResolver(o.resolver, o as TlsOptions);
    if (o.resolver !== undefined && o.resolver !== null) connOptions['resolver'] = resolver.resolver;
    this.resolverSetup = resolver;
    // Where this pool's origin speaks HTTP/3 (Alt-Svc), shared by its connections (docs/api.md section 9).
    const conn = ctor.ConnectionCls as unknown as { optionSet?: ReadonlySet<string> };
    if (connOptions['preemptiveQuicCache'] === undefined && conn.optionSet?.has('preemptiveQuicCache')) {
      connOptions['preemptiveQuicCache'] = new Map<string, string | null>();
    }
    this.connOptions = connOptions;
    // response.url: the trailing dot is for DNS only (docs/api.md section 4), and
    // in a URL a zone id's '%' is written '%25' (RFC 6874).
    const urlHost = withoutTrailingDot(this.host).replace('%', '%25');
    this.origin = `${this.scheme}://${authority(urlHost, this.portToUse, this.scheme)}`;
    this.scheduler = new PoolScheduler<HTTPConnection>({
      pool: this,
      maxSize: this.maxSize,
      block: this.block,
      create: () => this.newConnection(),
    });
  }

  override toString(): string {
    return `${this.constructor.name}(host='${this.host}', port=${this.port ?? 'None'})`;
  }

  /** Idle connections ready for reuse. */
  get numIdle(): number {
    return this.scheduler.numIdle;
  }

  /** Connections currently open (idle or busy). */
  get numOpen(): number {
    return this.scheduler.numOpen;
  }

  get isClosed(): boolean {
    return this.scheduler.isClosed;
  }

  /** A new, unconnected connection; the scheduler owns it from then on. */
  protected newConnection(): HTTPConnection {
    const opts = {
      ...this.connOptions,
      port: this.portToUse,
      timeout: this.timeout,
    } as HTTPSConnectionOptions;
    const tunnel = this.tunnelProxy();
    const Cls = (this.constructor as typeof HTTPConnectionPool).ConnectionCls;
    let conn: HTTPConnection;
    if (tunnel !== null) {
      // urllib3's model: the connection's host is the first hop (the proxy); the target is the tunnel.
      conn = new Cls(tunnel.host, { ...opts, port: tunnel.port });
      conn.setTunnel(this.host, { port: this.portToUse, scheme: 'https', headers: tunnel.headers });
    } else {
      conn = new Cls(this.host, opts);
    }
    this.numConnections++;
    debug(
      'Starting new %s connection (%d): %s:%d',
      this.scheme.toUpperCase(),
      this.numConnections,
      this.host,
      this.portToUse,
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
    const host = unbracketHost(u.host);
    const port = u.port ?? defaultPort(u.scheme ?? 'http') ?? 80;
    if (host.toLowerCase() === this.host && port === this.portToUse) return null;
    const cfg = this.connOptions['proxyConfig'] as { proxyHeaders?: Record<string, string> } | undefined;
    return { host, port, headers: cfg?.proxyHeaders ?? null };
  }

  /** Close idle connections now and busy ones when their response is released; later requests fail. */
  close(): Promise<void> {
    if (this.scheduler.isClosed) return Promise.resolve();
    this.scheduler.close();
    return this.resolverSetup.close();
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
    if (port === null) port = defaultPort(scheme);
    return scheme === this.scheme && host === this.host && port === this.portToUse;
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
    if (this.scheduler.isClosed) throw new ClosedPoolError(this, 'Pool is closed.');
    const redirect = o.redirect ?? true;
    let retries = Retry.from(o.retries ?? undefined, { redirect, default: this.retries });
    const preloadContent = o.preloadContent ?? true;
    const assertSameHost = o.assertSameHost ?? true;
    let headers: HeadersInit | null = o.headers ?? this.headers;
    let body: PreparedBody | null = o.body === undefined || o.body === null ? null : prepareBody(o.body);
    if (o.bodyPos !== undefined && o.bodyPos !== null) body = atPosition(body, o.bodyPos);
    const timeoutSpec = o.timeout === undefined ? this.timeout : Timeout.from(o.timeout);
    const signal = o.signal ?? null;

    // The caller's URL goes out as given: an absolute URL in absolute form.
    let asGiven = true;
    for (;;) {
      if (assertSameHost && !this.isSameHost(url)) throw new HostChangedError(this, url, retries);
      const { target, absolute } = this.requestTarget(url, asGiven);
      let response: HTTPResponse;
      try {
        response = await this.makeRequest({
          method,
          target,
          url: absolute,
          headers,
          body,
          timeout: timeoutSpec,
          options: o,
          preloadContent,
          onSent,
          fresh: false,
          avoid: null,
          poolTimeout: o.poolTimeout ?? null,
          signal,
        });
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
        asGiven = false;
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

  private requestTarget(url: string, asGiven: boolean): { target: string; absolute: string } {
    if (url.startsWith('/')) {
      const target = needsEncoding(url) ? parseUrl(url).requestUri : url;
      return { target, absolute: this.origin + target };
    }
    const u = parseUrl(url);
    const proxy = this.connOptions['proxy'];
    const forwarding = typeof proxy === 'string' && /^https?:/i.test(proxy);
    if (u.scheme !== null && u.host !== null && (asGiven || forwarding || !this.isSameHost(url))) {
      // An absolute URL goes out in absolute form (RFC 9112 section 3.2.2)
      // without its fragment, as urllib3's pool sends it (docs/api.md section
      // 4): what a forwarding proxy needs, and what lets a pool on an HTTP
      // proxy request foreign hosts with assertSameHost: false. A redirect
      // within this origin goes out in origin form.
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
  /**
   * The answer to a liveness PING (docs/api.md sections 8 and 9), unless the request
   * is aborted first: then the connection goes back to the pool unused (the
   * PING goes on for whoever asks next) and the abort is a
   * RequestAbortedError at once, not after the PING's own timeout.
   */
  private aliveUnlessAborted(
    conn: HTTPConnection,
    alive: Promise<boolean>,
    signal: AbortSignal | null,
    url: string,
  ): Promise<boolean> {
    if (signal === null) return alive;
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => {
        if (conn.reservation === 'shared') this.scheduler.leaseFor(conn)();
        else this.scheduler.connectionIdle(conn);
        reject(
          new RequestAbortedError(
            `${this}: request to ${url} aborted while the connection was checked alive`,
            {
              cause: signal.reason,
            },
          ),
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      alive.then(
        (ok) => {
          signal.removeEventListener('abort', onAbort);
          resolve(ok);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  private async makeRequest(req: PoolRequest): Promise<HTTPResponse> {
    const { method, target, url: absolute, headers, options: o, signal } = req;
    const scheduler = this.scheduler;
    let body = req.body;
    let staleResent = false;
    let unprocessedResends = 0;
    const traced =
      createChannel.hasSubscribers || headersChannel.hasSubscribers || errorChannel.hasSubscribers;
    const request = traced ? { method, url: absolute, headers } : null;
    if (request !== null && createChannel.hasSubscribers) createChannel.publish({ request });
    for (;;) {
      const timeout = req.timeout.clone();
      // Most requests find a connection at once: no promise to wait on then.
      const conn: HTTPConnection = scheduler.acquireNow(req) ?? (await scheduler.getConn(req));
      const alive = conn.checkAlive();
      if (alive !== true && !(await this.aliveUnlessAborted(conn, alive, signal, absolute))) {
        // A long-idle HTTP/2 or HTTP/3 connection that no longer answers PING: it is closed; take another.
        scheduler.discard(conn);
        continue;
      }
      const reused = conn.requestsServed > 0 && conn.isConnected;
      let lease: (() => void) | null = null;
      let exchange: Exchange | null = null;
      try {
        timeout.startConnect();
        if (!conn.isConnected) {
          try {
            await conn.connect({ signal, timeout: timeout.connectTimeout });
          } catch (err) {
            scheduler.connectFailed(conn, err);
            throw err;
          }
          scheduler.connected(conn);
        }
        // A shared connection lends this request one of its slots until the exchange is over.
        if (conn.reservation === 'shared') lease = scheduler.leaseFor(conn);
        this.numRequests++;
        const sending = conn._send({
          method,
          target,
          headers,
          body,
          chunked: o.chunked,
          preloadContent: req.preloadContent,
          decodeContent: o.decodeContent ?? true,
          enforceContentLength: o.enforceContentLength ?? true,
          connectTimeout: timeout.connectTimeout,
          readTimeout: timeout.readTimeout,
          signal,
          onUploadBody: o.onUploadBody ?? null,
          onEarlyResponse: o.onEarlyResponse ?? null,
          onPostConnection: o.onPostConnection ?? null,
          url: absolute,
          onDone: lease,
        });
        const ex = sending instanceof Promise ? await sending : sending;
        exchange = ex;
        // A request written in one go has an already-settled `sent`: no promise hop for it.
        if (ex.sent !== SENT) await ex.sent;
        if (ex.streamId !== null && req.onSent !== null)
          req.onSent({ streamId: ex.streamId, connection: conn });
        const response = await ex.getResponse();
        response.url = absolute;
        if (request !== null && headersChannel.hasSubscribers) {
          headersChannel.publish({
            request,
            response: { status: response.status, headers: response.headers },
          });
        }
        return response;
      } catch (err) {
        const gotBytes = (exchange as Exchange | null)?.gotResponseBytes ?? false;
        if (lease !== null) {
          // A shared connection: only this exchange failed; the connection carries on unless it is gone too.
          lease();
        } else {
          scheduler.discard(conn);
        }
        const outcome = err instanceof HTTPError ? err : null;
        if (
          outcome?.processed === false &&
          unprocessedResends < MAX_UNPROCESSED_RESENDS &&
          (body === null || canResend(body))
        ) {
          debug(
            'The server did not process the request to %s (%s); re-sending',
            absolute,
            (err as Error).message,
          );
          unprocessedResends++;
          req.avoid = conn;
          if (body !== null) body = rewindBody(body);
          continue;
        }
        if (
          !staleResent &&
          reused &&
          !gotBytes &&
          err instanceof ProtocolError &&
          !(err instanceof RequestAbortedError) &&
          !err.permanent &&
          (IDEMPOTENT.has(method) || err.processed === false) &&
          (body === null || canResend(body))
        ) {
          debug(
            'Stale keep-alive connection to %s failed before any response byte; re-sending once',
            this.host,
          );
          staleResent = true;
          if (lease !== null) req.avoid = conn;
          else req.fresh = true;
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
  static override ConnectionCls: new (host: string, options?: HTTPSConnectionOptions) => HTTPConnection =
    HTTPSConnection;

  // Only to widen the options type to the TLS ones; the base constructor validates by scheme.
  // biome-ignore lint/complexity/noUselessConstructor: it changes the parameter type
  constructor(host: string, options?: HTTPSConnectionPoolOptions) {
    super(host, options);
  }
}

// ---- helpers ---------------------------------------------------------------------

/**
 * Hosts are kept as urllib3 keeps them: lower case, an IPv6 literal without
 * brackets and its zone id with a bare '%' (`[fe80::1%25eth0]` is
 * `fe80::1%eth0`), a trailing dot left in place.
 */
function normaliseHost(host: string): string {
  const h = unbracketHost(host.toLowerCase());
  const pct = h.indexOf('%');
  if (pct !== -1 && h.includes(':') && h.startsWith('%25', pct) && h.length > pct + 3)
    return `${h.slice(0, pct)}%${h.slice(pct + 3)}`;
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
  if (err instanceof RequestAbortedError || (err instanceof HTTPError && err.permanent)) return false;
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
  if (err instanceof ReadTimeoutError) fillRequest(err, pool, url);
  return err;
}
