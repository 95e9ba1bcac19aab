// HTTPConnection / HTTPSConnection: urllib3's low-level connection
// (API.md section 4, "the low-level connection"). It owns the transport
// set-up (resolve, TCP, TLS with verification, SNI and ALPN) and hands the
// socket to a protocol session: HTTP/1.1 (H1Session) or HTTP/2 (H2Session),
// chosen per connection after the handshake - ALPN on TLS, `disabledSvn`
// without h11 (prior knowledge, h2c) on plain TCP (API.md section 9). Pools
// drive it through a small interface (isIdle, isClosed, requestsServed,
// how many more requests it takes now, close) and never look inside the
// session.

import { channel } from 'node:diagnostics_channel';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { DetailedPeerCertificate, PeerCertificate, TLSSocket } from 'node:tls';
import { type PreparedBody, prepareBody } from '../body/request-body.js';
import type { BaseResolver } from '../dns/resolver.js';
import { systemResolver } from '../dns/system.js';
import { ConnectTimeoutError, HTTPError, ProtocolError } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import { connectTcp, type SocketOptions, upgradeToTls } from '../net/connect.js';
import { checkFingerprint } from '../net/tls-fingerprint.js';
import { TLS_OPTION_NAMES, type TlsOptions, validateTlsOptions } from '../net/tls-options.js';
import { planTls, type TlsPlan } from '../net/tls-plan.js';
import { checkOptions, optionSet } from '../options.js';
import { warnOnce } from '../warnings.js';
import { Timeout } from '../policies/timeout.js';
import { isValidMethod } from '../protocol/h1/serializer.js';
import { DEFAULT_USER_AGENT, SKIP_HEADER, SKIPPABLE_HEADERS } from '../request-headers.js';
import type { HTTPResponse } from '../response.js';
import { ConnectionInfo, HttpVersion } from './connection-info.js';
import type { Poolable, PoolOwner, Reservation } from './poolable.js';
import {
  H1Session,
  ReadSink,
  SENT as SENT_H1,
  type SessionOwner,
  type UploadProgress,
} from './h1-session.js';
import { type H2Exchange, H2Session, type H2SessionOwner } from './h2-session.js';
import { Urllib3Context } from '../net/urllib3-context.js';
import { debug } from '../debug.js';
import { openHttpTunnel } from '../connectors/http-tunnel.js';
import { openSocksTunnel } from '../connectors/socks.js';
import type { SocksVersion } from '../connectors/socks-handshake.js';
import { ProxyError, RequestAbortedError } from '../errors.js';
import { markConnectError } from '../net/connect.js';
import { parseUrl } from '../url.js';
import { isIP } from 'node:net';


/** @internal What _send() returns for an HTTP/1.1 request written in one go (callers may skip the await). */
export const SENT_NULL: Promise<null> = Promise.resolve(null);
export type { SocketOptions };

export interface HTTPConnectionOptions {
  port?: number | null;
  /** ms; a number sets connect and read; null = no limit. */
  timeout?: number | Timeout | null;
  sourceAddress?: [string, number] | string | null;
  socketOptions?: SocketOptions | null;
  /** Size of the pieces a streamed upload is read in (bytes). */
  blocksize?: number;
  proxy?: string | null;
  proxyConfig?: unknown;
  resolver?: BaseResolver | null;
  socketFamily?: 0 | 4 | 6;
  disabledSvn?: Iterable<HttpVersion> | null;
  maxHeaderSize?: number;
}

export interface HTTPSConnectionOptions extends HTTPConnectionOptions, TlsOptions {}

export interface ConnectionRequestOptions {
  body?: unknown;
  headers?: HeadersInit | null;
  chunked?: boolean;
  preloadContent?: boolean;
  decodeContent?: boolean;
  enforceContentLength?: boolean;
  signal?: AbortSignal | null;
  onUploadBody?: UploadProgress | null;
  onEarlyResponse?: ((early: HTTPResponse) => void) | null;
}

/** Pool hooks set by a pool on the connections it owns. */
export interface ConnectionPoolHooks {
  connectionIdle(conn: HTTPConnection): void;
  connectionClosed(conn: HTTPConnection): void;
  /** HTTP/2: GOAWAY or new SETTINGS changed how many streams the connection takes. */
  connectionCapacityChanged?(conn: HTTPConnection): void;
}

/** What a pool hands `_send` for an HTTP/2 request. */
export interface H2SendHooks {
  /** Called once when the stream is over, whatever the outcome (frees the pool's slot). */
  onDone: () => void;
  /** The exchange, as soon as its stream is open. */
  onStream?: ((ex: H2Exchange) => void) | null;
}

/** How long an HTTP/2 connection may sit idle before a PING checks it is alive before reuse (ms). */
const H2_PING_AFTER_IDLE = 10_000;
/** How long that PING may take (ms). */
const H2_PING_TIMEOUT = 2_000;

export const CONNECTION_OPTION_NAMES: readonly string[] = [
  'port',
  'timeout',
  'sourceAddress',
  'socketOptions',
  'blocksize',
  'proxy',
  'proxyConfig',
  'resolver',
  'socketFamily',
  'disabledSvn',
  'maxHeaderSize',
];
const HTTP_OPTION_SET = optionSet(...CONNECTION_OPTION_NAMES);
const HTTPS_OPTION_SET = optionSet(...CONNECTION_OPTION_NAMES, ...TLS_OPTION_NAMES);
const REQUEST_OPTION_SET = optionSet(
  'body',
  'headers',
  'chunked',
  'preloadContent',
  'decodeContent',
  'enforceContentLength',
  'signal',
  'onUploadBody',
  'onEarlyResponse',
);

/** Methods that carry no body by default, so no Content-Length: 0 is sent (as urllib3). */
const METHODS_NOT_EXPECTING_BODY = new Set(['GET', 'HEAD', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT']);
const DEFAULT_MAX_HEADER_SIZE = 65536;
const connectedChannel = channel('urllib3:connection:connected');

let connectionIds = 0;

export class HTTPConnection implements SessionOwner, H2SessionOwner, Poolable {
  static readonly defaultPort: number = 80;
  readonly scheme: 'http' | 'https' = 'http';
  readonly host: string;
  readonly port: number;
  /** The connect (and default read) timeout, as urllib3's `conn.timeout`. */
  timeout: number | Timeout | null;
  readonly sourceAddress: [string, number] | string | null;
  readonly socketOptions: SocketOptions;
  readonly blocksize: number;
  readonly resolver: BaseResolver;
  readonly socketFamily: 0 | 4 | 6;
  readonly maxHeaderSize: number;
  readonly disabledSvn: ReadonlySet<HttpVersion>;
  readonly proxy: string | null;
  readonly proxyConfig: unknown;
  isVerified = false;
  isProxyVerified: boolean | null = null;
  hasConnectedToProxy = false;
  readonly label: string;
  /** @internal */ _hooks: ConnectionPoolHooks | null = null;
  /** @internal */ readonly _id = ++connectionIds;
  /** @internal HTTP/2: requests the pool has placed on this connection and not yet finished. */
  _reserved = 0;
  /** @internal Idle time (ms) after which an HTTP/2 connection is PINGed before reuse. */
  _pingAfterIdle = H2_PING_AFTER_IDLE;

  protected session: H1Session | H2Session | null = null;
  /** HTTP/2: the exchange request() sent last, for getResponse(). */
  private h2Last: H2Exchange | null = null;
  private connecting: Promise<void> | null = null;
  private info: ConnectionInfo | null = null;
  private infoUsed = false;
  private readonly ownHostHeader: string;
  /** The parsed proxy URL (`proxy` option), null without a proxy. */
  private readonly proxyParts: { scheme: string; host: string; port: number; auth: string | null } | null;
  private tunnel: { host: string; port: number; scheme: string; headers: HeadersInit | null } | null = null;

  constructor(host: string, options?: HTTPConnectionOptions) {
    checkOptions(
      new.target.name,
      options,
      new.target === HTTPConnection ? HTTP_OPTION_SET : HTTPS_OPTION_SET,
    );
    if (typeof host !== 'string' || host.length === 0) {
      throw new TypeError(`${new.target.name}: host must be a non-empty string`);
    }
    const o = options ?? {};
    const ctor = new.target as unknown as { defaultPort: number };
    this.host = host;
    this.port = o.port ?? ctor.defaultPort;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) {
      throw new RangeError(`${new.target.name}: invalid port ${String(o.port)}`);
    }
    this.timeout = o.timeout === undefined ? null : o.timeout;
    if (typeof this.timeout === 'number') Timeout.from(this.timeout); // validates
    this.sourceAddress = o.sourceAddress ?? null;
    this.socketOptions = { noDelay: true, ...(o.socketOptions ?? {}) };
    this.blocksize = o.blocksize ?? 16384;
    this.resolver = o.resolver ?? systemResolver();
    this.socketFamily = o.socketFamily ?? 0;
    this.maxHeaderSize = o.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.proxy = o.proxy ?? null;
    this.proxyConfig = o.proxyConfig ?? null;
    this.disabledSvn = checkDisabledSvn(o.disabledSvn, new.target.name);
    const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    this.label = `${new.target.name}(host='${host}', port=${this.port})`;
    this.ownHostHeader = this.port === ctor.defaultPort ? bracketed : `${bracketed}:${this.port}`;
    this.proxyParts = this.proxy === null ? null : parseProxy(this.proxy, new.target.name);
  }

  /** The Host header: the tunnel's destination when tunnelling, else this connection's host. */
  private get hostHeader(): string {
    const t = this.tunnel;
    if (t === null) return this.ownHostHeader;
    const h = t.host.includes(':') && !t.host.startsWith('[') ? `[${t.host}]` : t.host;
    return t.port === (t.scheme === 'https' ? 443 : 80) ? h : `${h}:${t.port}`;
  }

  /** Host and port the request finally reaches (the tunnel's destination when tunnelling). */
  protected get destination(): { host: string; port: number } {
    return this.tunnel === null
      ? { host: this.host, port: this.port }
      : { host: this.tunnel.host, port: this.tunnel.port };
  }

  get connectionObject(): unknown {
    return this;
  }

  /** Whether a pool owns this connection. */
  get pooled(): boolean {
    return this._hooks !== null;
  }

  /** True while a transport is open. */
  get isConnected(): boolean {
    return this.session !== null && !this.session.isClosed;
  }

  /** True when there is no open transport (never connected, or closed). */
  get isClosed(): boolean {
    return !this.isConnected;
  }

  get proxyIsForwarding(): boolean {
    return this.proxy !== null && this.tunnel === null;
  }

  get proxyIsTunneling(): boolean {
    return this.tunnel !== null;
  }

  /** This connection's TLS is to an HTTP(S) proxy that forwards its requests (not a tunnel, not SOCKS). */
  protected get proxyIsForwardingOverTls(): boolean {
    const p = this.proxyParts;
    return p !== null && this.tunnel === null && !p.scheme.startsWith('socks');
  }

  /** What the current (or last) transport looks like; null before the first connect. */
  get connectionInfo(): ConnectionInfo | null {
    return this.info;
  }

  /** Requests completed on the current transport (0 = fresh). */
  get requestsServed(): number {
    return this.session?.requestsServed ?? 0;
  }

  /** @internal Free for a new request (HTTP/2: open, no GOAWAY, no stream in flight). */
  get _isIdle(): boolean {
    const s = this.session;
    if (s instanceof H2Session) return s.acceptsStreams && s.activeStreams === 0;
    return s?.isIdle === true;
  }

  /** @internal Bytes of response seen for the in-flight request (HTTP/1.1). */
  get _gotResponseBytes(): boolean {
    const s = this.session;
    return s instanceof H1Session ? s.exchangeGotBytes : false;
  }

  /** @internal True once the connection speaks HTTP/2 (a shared reservation in pool terms). */
  get _isMultiplexed(): boolean {
    return this.session instanceof H2Session;
  }

  // ---- Poolable ----------------------------------------------------------------

  /** @internal How requests share this connection; null until connected. */
  get reservation(): Reservation | null {
    const s = this.session;
    if (s === null || s.isClosed) return null;
    return s instanceof H2Session ? 'shared' : 'unique';
  }

  /** The protocol this connection speaks; null until connected. */
  get httpVersion(): HttpVersion | null {
    const s = this.session;
    if (s === null) return null;
    return s instanceof H2Session ? HttpVersion.h2 : HttpVersion.h11;
  }

  /** @internal Connecting may end in a shared reservation (see _mayNegotiateH2). */
  get mayShare(): boolean {
    return this._mayNegotiateH2;
  }

  /** @internal unique: free for a request now; shared: open and accepting new streams. */
  get isAvailable(): boolean {
    const s = this.session;
    if (s instanceof H2Session) return s.acceptsStreams;
    return s?.isIdle === true;
  }

  /** @internal shared: the peer's MAX_CONCURRENT_STREAMS (capped); unique: 1. */
  get concurrency(): number {
    const s = this.session;
    return s instanceof H2Session ? s.maxConcurrentStreams : 1;
  }

  /** @internal The pool that owns this connection (Poolable). */
  get poolOwner(): PoolOwner<this> | null {
    return this._hooks as PoolOwner<this> | null;
  }

  set poolOwner(owner: PoolOwner<this> | null) {
    this._hooks = owner as ConnectionPoolHooks | null;
  }

  /** @internal Poolable's name for _checkAlive(). */
  checkAlive(): Promise<boolean> | true {
    return this._checkAlive();
  }

  /** @internal HTTP/2: the connection may open new streams (open, no GOAWAY). */
  get _acceptsStreams(): boolean {
    const s = this.session;
    return s instanceof H2Session && s.acceptsStreams;
  }

  /**
   * @internal How many more requests the pool may place on this connection
   * now: HTTP/1.1 one when idle, else none (an exclusive reservation);
   * HTTP/2 the peer's MAX_CONCURRENT_STREAMS minus the requests already
   * placed on it (a shared reservation).
   */
  get _capacity(): number {
    const s = this.session;
    if (s instanceof H2Session)
      return s.acceptsStreams ? Math.max(0, s.maxConcurrentStreams - this._reserved) : 0;
    return s?.isIdle === true ? 1 : 0;
  }

  /**
   * @internal Whether connecting may end in HTTP/2: h2c by prior knowledge,
   * or TLS offering h2 in ALPN. The pool opens such connections one at a
   * time per origin until it knows the protocol.
   */
  get _mayNegotiateH2(): boolean {
    return this.disabledSvn.has(HttpVersion.h11) && !this.disabledSvn.has(HttpVersion.h2);
  }

  /**
   * @internal An HTTP/2 connection idle for longer than `_pingAfterIdle`
   * must answer a PING before it is reused; false when it did not (it is
   * closed then). Anything else passes at once.
   */
  _checkAlive(): Promise<boolean> | true {
    const s = this.session;
    if (!(s instanceof H2Session)) return true;
    // A burst of requests arriving together after an idle spell shares one PING:
    // none of them has opened its stream yet, and the peer (and node:http2,
    // which allows only a few outstanding PINGs) should see one, not one each.
    if (this._aliveCheck !== null) return this._aliveCheck;
    if (s.activeStreams > 0) return true;
    if (performance.now() - s.idleSince < this._pingAfterIdle) return true;
    const check = s.ping(H2_PING_TIMEOUT).then((ok) => {
      this._aliveCheck = null;
      if (ok) {
        s.idleSince = performance.now();
      } else {
        debug('HTTP/2 connection %s did not answer a PING after being idle; closing it', this.label);
        s.destroy();
      }
      return ok;
    });
    this._aliveCheck = check;
    return check;
  }

  /** The PING in flight for `_checkAlive()`, shared by every request waiting on it. */
  private _aliveCheck: Promise<boolean> | null = null;

  /** Tunnel through the proxy this connection points at (used by proxies, a later issue). */
  setTunnel(host: string, options?: { port?: number; scheme?: string; headers?: HeadersInit | null }): void {
    if (this.isConnected)
      throw new ProtocolError(`${this.label}: setTunnel() must be called before connecting`);
    checkOptions('setTunnel', options, optionSet('port', 'scheme', 'headers'));
    const scheme = options?.scheme ?? 'http';
    this.tunnel = {
      host,
      port: options?.port ?? (scheme === 'https' ? 443 : 80),
      scheme,
      headers: options?.headers ?? null,
    };
  }

  private get timeoutObject(): Timeout {
    return Timeout.from(this.timeout);
  }

  /** Open the transport now (request() does it when needed). */
  connect(options?: { signal?: AbortSignal | null; timeout?: number | null }): Promise<void> {
    if (this.isConnected) return Promise.resolve();
    if (this.connecting !== null) return this.connecting;
    const timeout = options?.timeout !== undefined ? options.timeout : this.timeoutObject.connectTimeout;
    const p = this.doConnect(timeout, options?.signal ?? null).finally(() => {
      this.connecting = null;
    });
    this.connecting = p;
    return p;
  }

  private async doConnect(timeout: number | null, signal: AbortSignal | null): Promise<void> {
    const started = performance.now();
    const remaining = () => (timeout === null ? null : Math.max(0, timeout - (performance.now() - started)));
    const proxy = this.proxyParts;
    const socks = proxy?.scheme.startsWith('socks') === true;
    this.hasConnectedToProxy = false;
    this.isProxyVerified = null;
    let socket: net.Socket | null = null;
    const info = new ConnectionInfo();
    info.httpVersion = HttpVersion.h11;
    // A socket that will carry HTTP/1.1 itself reads into the shared buffer.
    const sink = this.readsPlainHttp1(proxy !== null) ? new ReadSink() : null;
    try {
      // A SOCKS connection is made to the proxy; an HTTP(S) proxy connection already
      // names the proxy as its host (urllib3's model: host = first hop).
      const r = await connectTcp({
        host: socks ? proxy!.host : this.host,
        port: socks ? proxy!.port : this.port,
        timeout,
        sourceAddress: this.sourceAddress,
        socketOptions: this.socketOptions,
        resolver: this.resolver,
        family: this.socketFamily,
        signal,
        label: this.label,
        conn: this,
        onread: sink?.onread ?? null,
      });
      socket = r.socket;
      info.resolutionLatency = r.resolutionLatency;
      info.establishedLatency = r.establishedLatency;
      info.destinationAddress = r.address;
      if (socks) {
        await this.connectThroughSocks(r.socket, proxy!, remaining(), signal);
      } else if (proxy !== null && this.tunnel !== null) {
        socket = await this.connectThroughTunnel(r.socket, proxy, remaining(), signal);
      }
      if (proxy !== null && !socks && this.tunnel === null) this.hasConnectedToProxy = true;
      socket = await this.secure(socket, info, remaining(), signal);
      if (proxy !== null && !socks && this.tunnel === null && proxy.scheme === 'https') {
        this.isProxyVerified = this.isVerified;
      }
      if (this.speaksH2(socket)) {
        info.httpVersion = HttpVersion.h2;
        const dest = this.destination;
        const h = dest.host.includes(':') && !dest.host.startsWith('[') ? `[${dest.host}]` : dest.host;
        const session = await H2Session.open(socket, this, {
          authority: `${h}:${dest.port}`,
          scheme: this.scheme,
          timeout: remaining(),
          signal,
          maxHeaderSize: this.maxHeaderSize,
        });
        this.info = info;
        this.infoUsed = false;
        this.session = session;
        this.h2Last = null;
        this.publishConnected(info);
        return;
      }
    } catch (err) {
      socket?.destroy();
      throw this.proxyFailure(err);
    }
    this.info = info;
    this.infoUsed = false;
    this.session = new H1Session(socket, this, this.maxHeaderSize, sink);
    // A tunnel opener may have paused the socket to hold back early bytes.
    socket.resume();
    this.publishConnected(info);
  }

  private publishConnected(info: ConnectionInfo): void {
    if (connectedChannel.hasSubscribers) {
      connectedChannel.publish({ host: this.host, port: this.port, connectionInfo: info });
    }
  }

  /**
   * Whether the TCP socket will carry HTTP/1.1 directly, so that it can read
   * into the shared buffer (`onread`): no TLS, proxy, tunnel or SOCKS in
   * between and no h2c, all of which need a socket that emits 'data'. A
   * subclass that overrides secure() or speaksH2() may wrap or hand over the
   * socket, so it reads the usual way.
   */
  protected readsPlainHttp1(viaProxy: boolean): boolean {
    return (
      !viaProxy &&
      this.tunnel === null &&
      !this.disabledSvn.has(HttpVersion.h11) &&
      this.secure === HTTPConnection.prototype.secure &&
      this.speaksH2 === HTTPConnection.prototype.speaksH2
    );
  }

  /**
   * Whether the transport just set up speaks HTTP/2: plain HTTP only by
   * prior knowledge (HTTP/1.1 disabled); HTTPSConnection decides from ALPN.
   */
  protected speaksH2(_socket: net.Socket): boolean {
    return this.disabledSvn.has(HttpVersion.h11);
  }

  /** SOCKS handshake to this connection's host and port. */
  private async connectThroughSocks(
    socket: net.Socket,
    proxy: { scheme: string; host: string; port: number; auth: string | null },
    timeout: number | null,
    signal: AbortSignal | null,
  ): Promise<void> {
    const version = proxy.scheme as SocksVersion;
    let host = this.host.startsWith('[') && this.host.endsWith(']') ? this.host.slice(1, -1) : this.host;
    // socks4 and socks5 resolve the destination here; socks4a and socks5h let the proxy do it.
    if ((version === 'socks4' || version === 'socks5') && isIP(host) === 0) {
      const family = version === 'socks4' ? 4 : this.socketFamily;
      const addrs = await this.resolver.getaddrinfo(host, this.port, { family, signal: signal ?? undefined });
      if (addrs.length === 0)
        throw new ProxyError(`${this.label}: '${host}' did not resolve to an address for ${version}`);
      host = addrs[0]!.address;
    }
    let username: string | null = null;
    let password: string | null = null;
    if (proxy.auth !== null) {
      const i = proxy.auth.indexOf(':');
      username = decodeURIComponent(i === -1 ? proxy.auth : proxy.auth.slice(0, i));
      password = i === -1 ? null : decodeURIComponent(proxy.auth.slice(i + 1));
    }
    await openSocksTunnel(
      socket,
      version,
      { host, port: this.port },
      { username, password },
      {
        timeout,
        signal,
        label: this.label,
        proxy: `${proxy.host}:${proxy.port}`,
      },
    );
    this.hasConnectedToProxy = true;
  }

  /** TLS to an HTTPS proxy if needed, then CONNECT to the tunnel's destination. */
  private async connectThroughTunnel(
    socket: net.Socket,
    proxy: { scheme: string; host: string; port: number; auth: string | null },
    timeout: number | null,
    signal: AbortSignal | null,
  ): Promise<net.Socket> {
    const started = performance.now();
    const left = () => (timeout === null ? null : Math.max(0, timeout - (performance.now() - started)));
    let s = socket;
    if (proxy.scheme === 'https') {
      const r = await establishTls(socket, proxy.host, proxy.port, this.proxyTlsOptions(), {
        timeout: left(),
        signal,
        label: this.label,
      });
      s = r.socket;
      this.isProxyVerified = r.isVerified;
    }
    const t = this.tunnel!;
    const headers: string[] = [];
    if (t.headers !== null) {
      const flat = new HTTPHeaderDict(t.headers).toFlatPairs();
      for (const v of flat) headers.push(v);
    }
    await openHttpTunnel(s, {
      host: t.host,
      port: t.port,
      headers,
      timeout: left(),
      signal,
      label: this.label,
      proxy: `${proxy.host}:${proxy.port}`,
    });
    this.hasConnectedToProxy = true;
    return s;
  }

  /** TLS options for the leg to an HTTPS proxy: its own context, else this connection's trust settings. */
  protected proxyTlsOptions(): TlsOptions {
    const cfg = this.proxyConfig as { sslContext?: TlsOptions['sslContext'] } | null;
    return cfg?.sslContext ? { sslContext: cfg.sslContext } : {};
  }

  /** Errors before the proxy was reached become ProxyError, as urllib3 reports them. */
  private proxyFailure(err: unknown): unknown {
    const proxy = this.proxyParts;
    if (proxy === null || this.hasConnectedToProxy) return err;
    if (err instanceof ProxyError || err instanceof RequestAbortedError) return err;
    const e = err as Error;
    const where = `${proxy.host}:${proxy.port}`;
    if (proxy.scheme === 'https' && looksLikePlainHttp(e)) {
      return markConnectError(
        new ProxyError(
          `${this.label}: Unable to connect to proxy ${where}. Your proxy appears to only use HTTP and not HTTPS: ` +
            "try changing the proxy URL's scheme to http://",
          { cause: e },
        ),
      );
    }
    return markConnectError(
      new ProxyError(`${this.label}: Unable to connect to proxy ${where}: ${e.message}`, { cause: e }),
    );
  }

  /** Hook for HTTPS: wrap the socket in TLS. Plain HTTP returns it unchanged. */
  protected async secure(
    socket: net.Socket,
    _info: ConnectionInfo,
    _timeout: number | null,
    _signal: AbortSignal | null,
  ): Promise<net.Socket> {
    return socket;
  }

  /**
   * Send a request (urllib3's `conn.request`). `url` is the request target:
   * a path ('/x?y'), or an absolute URL when talking to a forwarding proxy.
   */
  async request(method: string, url: string, options?: ConnectionRequestOptions): Promise<void> {
    checkOptions('HTTPConnection.request', options, REQUEST_OPTION_SET);
    const o = options ?? {};
    if (!isValidMethod(method))
      throw new TypeError(`${this.label}: invalid HTTP method ${JSON.stringify(method)}`);
    const body = o.body === undefined || o.body === null ? null : prepareBody(o.body);
    const t = this.timeoutObject;
    await this._send(method, url, o.headers ?? null, body, o.chunked, {
      preloadContent: o.preloadContent ?? true,
      decodeContent: o.decodeContent ?? true,
      enforceContentLength: o.enforceContentLength ?? true,
      connectTimeout: t.connectTimeout,
      readTimeout: t.readTimeout,
      signal: o.signal ?? null,
      onUploadBody: o.onUploadBody ?? null,
      onEarlyResponse: o.onEarlyResponse ?? null,
      url,
    });
  }

  /**
   * @internal The pool's entry point: everything already validated and
   * prepared. Not an async function: on a connected HTTP/1.1 connection a
   * request without a streamed body is written synchronously and this
   * returns an already-settled promise.
   */
  _send(
    method: string,
    target: string,
    headers: HeadersInit | null,
    body: PreparedBody | null,
    chunked: boolean | undefined,
    x: {
      preloadContent: boolean;
      decodeContent: boolean;
      enforceContentLength: boolean;
      connectTimeout: number | null;
      readTimeout: number | null;
      signal: AbortSignal | null;
      onUploadBody: UploadProgress | null;
      onEarlyResponse: ((early: HTTPResponse) => void) | null;
      url: string;
      onPostConnection?: ((info: ConnectionInfo) => void) | null;
    },
    h2?: H2SendHooks | null,
  ): Promise<H2Exchange | null> {
    if (!this.isConnected) {
      return this.connect({ signal: x.signal, timeout: x.connectTimeout }).then(() =>
        this._sendConnected(method, target, headers, body, chunked, x, h2),
      );
    }
    try {
      return this._sendConnected(method, target, headers, body, chunked, x, h2);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private _sendConnected(
    method: string,
    target: string,
    headers: HeadersInit | null,
    body: PreparedBody | null,
    chunked: boolean | undefined,
    x: Parameters<HTTPConnection['_send']>[5],
    h2?: H2SendHooks | null,
  ): Promise<H2Exchange | null> {
    const session = this.session!;
    const hostHeader =
      target.charCodeAt(0) === 47 /* / */ ? this.hostHeader : hostOfAbsolute(target, this.hostHeader);
    const built = buildRequestHeaders(method, headers, body, chunked, hostHeader);
    let info = this.info;
    if (info !== null) {
      if (this.infoUsed) info = info.forReuse();
      this.infoUsed = true;
    }
    if (x.onPostConnection && info !== null) x.onPostConnection(info);
    const opts = {
      method,
      target,
      headers: built.pairs,
      body,
      chunked: built.chunked,
      preloadContent: x.preloadContent,
      decodeContent: x.decodeContent,
      enforceContentLength: x.enforceContentLength,
      readTimeout: x.readTimeout,
      signal: x.signal,
      onUploadBody: x.onUploadBody,
      onEarlyResponse: x.onEarlyResponse,
      url: x.url,
      connectionInfo: info,
    };
    if (session instanceof H2Session) {
      const ex = session.openStream({ ...opts, onDone: h2?.onDone ?? null });
      this.h2Last = ex;
      h2?.onStream?.(ex);
      return ex.start().then(() => ex);
    }
    const sent = session.send(opts);
    return sent === SENT_H1 ? SENT_NULL : sent.then(() => null);
  }

  /** Wait for the response to the request sent last. */
  getResponse(): Promise<HTTPResponse> {
    if (this.session === null) {
      return Promise.reject(new ProtocolError(`${this.label}: no request was sent on this connection`));
    }
    if (this.session instanceof H2Session) {
      const ex = this.h2Last;
      this.h2Last = null;
      if (ex === null) {
        return Promise.reject(new ProtocolError(`${this.label}: no request was sent on this connection`));
      }
      return ex.getResponse();
    }
    return this.session.getResponse();
  }

  /** Close the transport; the connection may connect() again later. */
  close(): Promise<void> {
    const s = this.session;
    if (s !== null) s.destroy();
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ---- SessionOwner ----------------------------------------------------------

  sessionIdle(_session: H1Session): void {
    this._hooks?.connectionIdle(this);
  }

  sessionClosed(session: H1Session): void {
    if (this.session === session) this._hooks?.connectionClosed(this);
  }

  // ---- H2SessionOwner --------------------------------------------------------

  h2CapacityChanged(session: H2Session): void {
    if (this.session === session) this._hooks?.connectionCapacityChanged?.(this);
  }

  h2SessionClosed(session: H2Session): void {
    if (this.session === session) this._hooks?.connectionClosed(this);
  }
}

export class HTTPSConnection extends HTTPConnection {
  static override readonly defaultPort: number = 443;
  override readonly scheme: 'http' | 'https' = 'https';
  readonly tlsOptions: TlsOptions;

  constructor(host: string, options?: HTTPSConnectionOptions) {
    super(host, options);
    const tls: TlsOptions = {};
    for (const k of TLS_OPTION_NAMES) {
      const v = (options as Record<string, unknown> | undefined)?.[k];
      if (v !== undefined) (tls as Record<string, unknown>)[k] = v;
    }
    this.tlsOptions = tls;
    // Bad values fail here; files are read when connecting, as urllib3 reads them.
    validateTlsOptions(tls, this.label);
  }

  protected override proxyTlsOptions(): TlsOptions {
    // As urllib3: the proxy leg trusts what this connection trusts, unless proxyConfig brings a context.
    const o = this.tlsOptions;
    const out: TlsOptions = {};
    for (const k of [
      'certReqs',
      'caCerts',
      'caCertDir',
      'caCertData',
      'sslMinimumVersion',
      'sslMaximumVersion',
    ] as const) {
      if (o[k] !== undefined) (out as Record<string, unknown>)[k] = o[k];
    }
    const cfg = this.proxyConfig as { sslContext?: TlsOptions['sslContext'] } | null;
    if (cfg?.sslContext) out.sslContext = cfg.sslContext;
    return out;
  }

  /**
   * The ALPN protocols offered: an explicit `alpnProtocols` (or the
   * sslContext's) wins; otherwise h2 and http/1.1 minus what `disabledSvn`
   * turns off.
   */
  get alpnOffered(): string[] {
    const explicit = this.tlsOptions.alpnProtocols ?? null;
    if (explicit !== null) return [...explicit];
    const ctx = this.tlsOptions.sslContext;
    if (ctx instanceof Urllib3Context && ctx.alpnProtocols !== null) return [...ctx.alpnProtocols];
    const out: string[] = [];
    // Requests forwarded through an HTTPS proxy (absolute-form targets) stay on HTTP/1.1.
    if (!this.disabledSvn.has(HttpVersion.h2) && !this.proxyIsForwardingOverTls) out.push('h2');
    if (!this.disabledSvn.has(HttpVersion.h11)) out.push('http/1.1');
    return out;
  }

  override get _mayNegotiateH2(): boolean {
    return !this.disabledSvn.has(HttpVersion.h2) && this.alpnOffered.includes('h2');
  }

  protected override speaksH2(socket: net.Socket): boolean {
    return (socket as TLSSocket).alpnProtocol === 'h2';
  }

  protected override async secure(
    socket: net.Socket,
    info: ConnectionInfo,
    timeout: number | null,
    signal: AbortSignal | null,
  ): Promise<net.Socket> {
    this.isVerified = false;
    const dest = this.destination;
    const spoken: string[] = [];
    if (!this.disabledSvn.has(HttpVersion.h2)) spoken.push('h2');
    if (!this.disabledSvn.has(HttpVersion.h11)) spoken.push('http/1.1');
    const r = await establishTls(
      socket,
      dest.host,
      dest.port,
      { ...this.tlsOptions, alpnProtocols: this.alpnOffered },
      { timeout, signal, label: this.label, accept: spoken },
    );
    fillTlsInfo(info, r.socket, r.handshakeLatency);
    this.isVerified = r.isVerified;
    if (!this.isVerified) {
      warnOnce(
        'InsecureRequestWarning',
        dest.host,
        `Unverified HTTPS request is being made to host '${dest.host}'. ` +
          'Adding certificate verification is strongly advised (certReqs: CERT_REQUIRED, the default).',
      );
    }
    return r.socket;
  }
}

// ---- TLS set-up shared by target and proxy legs ------------------------------------

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

/** The TLS fields of ConnectionInfo (API.md section 11). */
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

// ---- HTTP versions --------------------------------------------------------------

const KNOWN_VERSIONS: ReadonlySet<string> = new Set(Object.values(HttpVersion));

/**
 * `disabledSvn` validated (API.md section 9): disabling every version is a
 * TypeError, and so is leaving only HTTP/3, which needs a QUIC transport
 * this build does not have - never a silent fallback.
 */
export function checkDisabledSvn(
  value: Iterable<HttpVersion> | null | undefined,
  where: string,
): Set<HttpVersion> {
  if (value === null || value === undefined) return new Set();
  if (typeof (value as Iterable<HttpVersion>)[Symbol.iterator] !== 'function' || typeof value === 'string') {
    throw new TypeError(`${where}: disabledSvn must be a Set (or iterable) of HttpVersion values`);
  }
  const set = new Set<HttpVersion>(value);
  for (const v of set) {
    if (!KNOWN_VERSIONS.has(v)) {
      throw new TypeError(
        `${where}: disabledSvn holds ${JSON.stringify(v)}, which is not an HttpVersion ` +
          `(${[...KNOWN_VERSIONS].map((k) => JSON.stringify(k)).join(', ')})`,
      );
    }
  }
  if (set.has(HttpVersion.h11) && set.has(HttpVersion.h2)) {
    if (set.has(HttpVersion.h3)) {
      throw new TypeError(`${where}: disabledSvn disables every HTTP version; leave at least one enabled`);
    }
    throw new TypeError(
      `${where}: disabledSvn leaves only HTTP/3, which needs a QUIC transport this build does not have; ` +
        'enable HTTP/1.1 or HTTP/2',
    );
  }
  return set;
}

// ---- request head -------------------------------------------------------------

interface BuiltHeaders {
  pairs: string[];
  chunked: boolean;
}

/**
 * The header list a request goes out with, following urllib3 v2's
 * HTTPConnection.request: Host and Accept-Encoding: identity unless given (or
 * skipped with SKIP_HEADER), framing (Content-Length when the body length is
 * known, else chunked), the default User-Agent, then the caller's headers.
 */
export function buildRequestHeaders(
  method: string,
  headers: HeadersInit | null,
  body: PreparedBody | null,
  chunkedOption: boolean | undefined,
  hostHeader: string,
): BuiltHeaders {
  const user: string[] = [];
  let hasHost = false;
  let hasAcceptEncoding = false;
  let hasUserAgent = false;
  let hasContentLength = false;
  let hasTransferEncoding = false;
  const take = (name: string, value: unknown) => {
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
        hasHost = true;
        break;
      case 'accept-encoding':
        hasAcceptEncoding = true;
        break;
      case 'user-agent':
        hasUserAgent = true;
        break;
      case 'content-length':
        hasContentLength = true;
        break;
      case 'transfer-encoding':
        hasTransferEncoding = true;
        break;
    }
    if (value === SKIP_HEADER) {
      if (!SKIPPABLE_HEADERS.has(lower)) {
        throw new TypeError(`SKIP_HEADER only supports ${[...SKIPPABLE_HEADERS].join(', ')} (got '${name}')`);
      }
      return;
    }
    user.push(name, typeof value === 'string' ? value : String(value));
  };
  if (headers !== null) {
    if (headers instanceof HTTPHeaderDict) {
      const flat = headers.toFlatPairs();
      for (let i = 0; i < flat.length; i += 2) take(flat[i]!, flat[i + 1]);
    } else if (headers instanceof Map) {
      for (const [k, v] of headers) take(k, v);
    } else if (Array.isArray(headers)) {
      for (const pair of headers as Array<readonly [string, string]>) take(pair[0], pair[1]);
    } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of headers as Iterable<readonly [string, string]>) take(pair[0], pair[1]);
    } else {
      const rec = headers as Record<string, string | number | readonly string[]>;
      for (const k in rec) {
        const v = rec[k];
        if (Array.isArray(v)) for (const item of v) take(k, item);
        else if (v !== undefined) take(k, v);
      }
    }
  }
  const pairs: string[] = [];
  if (!hasHost) pairs.push('Host', hostHeader);
  if (!hasAcceptEncoding) pairs.push('Accept-Encoding', 'identity');
  let chunked = chunkedOption === true;
  if (chunked) {
    if (!hasTransferEncoding) pairs.push('Transfer-Encoding', 'chunked');
  } else if (hasContentLength) {
    chunked = false;
  } else if (hasTransferEncoding) {
    chunked = true;
  } else if (body === null) {
    if (!METHODS_NOT_EXPECTING_BODY.has(method)) pairs.push('Content-Length', '0');
  } else if (body.length === null) {
    chunked = true;
    pairs.push('Transfer-Encoding', 'chunked');
  } else {
    pairs.push('Content-Length', String(body.length));
  }
  if (!hasUserAgent) pairs.push('User-Agent', DEFAULT_USER_AGENT);
  for (let i = 0; i < user.length; i++) pairs.push(user[i]!);
  return { pairs, chunked };
}

/** Errors that happened before the request could be sent count as connect errors. */
export function isConnectPhaseError(err: unknown): boolean {
  return (
    err instanceof ConnectTimeoutError ||
    (err instanceof HTTPError && (err as HTTPError & { isConnectError?: boolean }).isConnectError === true)
  );
}

// ---- proxies -------------------------------------------------------------------------

const PROXY_SCHEMES = new Set(['http', 'https', 'socks4', 'socks4a', 'socks5', 'socks5h']);
const PROXY_DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

function parseProxy(
  url: string,
  where: string,
): { scheme: string; host: string; port: number; auth: string | null } {
  const u = parseUrl(url);
  if (u.scheme === null || !PROXY_SCHEMES.has(u.scheme) || u.host === null) {
    throw new TypeError(
      `${where}: proxy must be an http://, https:// or socks URL, got ${JSON.stringify(url)}`,
    );
  }
  const host = u.host.startsWith('[') && u.host.endsWith(']') ? u.host.slice(1, -1) : u.host;
  return { scheme: u.scheme, host, port: u.port ?? PROXY_DEFAULT_PORTS[u.scheme] ?? 1080, auth: u.auth };
}

/** A TLS handshake that met a plain-HTTP server fails with one of these. */
function looksLikePlainHttp(err: Error): boolean {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    parts.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
  return /WRONG_VERSION_NUMBER|wrong version number|packet length too long|http request|not TLS|record layer failure/i.test(
    parts.join(' '),
  );
}

/** The Host header for an absolute-form target (forwarding proxies). */
function hostOfAbsolute(target: string, fallback: string): string {
  try {
    const u = parseUrl(target);
    if (u.host === null) return fallback;
    const h = u.host.includes(':') && !u.host.startsWith('[') ? `[${u.host}]` : u.host;
    const def = u.scheme === 'https' ? 443 : 80;
    return u.port === null || u.port === def ? h : `${h}:${u.port}`;
  } catch {
    return fallback;
  }
}
