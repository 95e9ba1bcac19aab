// HTTPConnection: urllib3's low-level connection (docs/api.md section 4, "the
// low-level connection"). Connecting is two steps (docs/architecture.md,
// "the session seam"): a dialer sets up the transport (resolve, TCP, proxy
// legs, TLS with verification, SNI and ALPN) and says which protocol it
// negotiated; a session factory, looked up by that protocol, starts the
// ProtocolSession. From then on the connection drives the session only
// through the ProtocolSession interface, whatever the protocol. Pools drive
// the connection through Poolable and never look inside the session.
//
// HTTPSConnection (https-connection.ts) adds the TLS leg to the dial plan.

import { authority, bracketHost, defaultPort, unbracketHost, withoutTrailingDot } from '../authority.js';
import { channel } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { type PreparedBody, prepareBody } from '../body/request-body.js';
import type { BaseResolver } from '../dns/resolver.js';
import { ownResolver, type ResolverInput } from '../dns/resolver-option.js';
import { checkHappyEyeballs } from '../net/happy-eyeballs.js';
import { NewConnectionError, ProtocolError } from '../errors.js';
import type { HeadersInit } from '../headers.js';
import type { SocketOptions } from '../net/connect.js';
import {
  DEFAULT_SOCKET_OPTIONS,
  resolveSocketOptions,
  type SocketOptionTriple,
} from '../net/socket-options.js';
import type { TlsOptions } from '../net/tls-options.js';
import { checkOptions, optionSet } from '../options.js';
import { Timeout } from '../policies/timeout.js';
import { isValidMethod } from '../protocol/h1/serializer.js';
import type { HTTPResponse } from '../response.js';
import { type ConnectionInfo, HttpVersion } from './connection-info.js';
import { type DialPlan, type Dialed, dialTcp, type TunnelTarget } from './dialer.js';
import { checkDisabledSvn, onlyHttp3 } from './http-versions.js';
import type { Poolable, PoolOwner, Reservation } from './poolable.js';
import { hostOfAbsolute, type ProxyRoute, parseProxy } from './proxy-route.js';
import { buildRequestHeaders } from './request-head.js';
import { type ResponseLimits, responseLimits } from './response-limits.js';
import type { Exchange, ExchangeRequest, ProtocolSession, SessionOwner, UploadProgress } from './session.js';
import { type SessionFactory, TCP_SESSION_FACTORIES } from './session-factory.js';

export type { SocketOptions };

export interface HTTPConnectionOptions {
  port?: number | null;
  /** ms; a number sets connect and read; null = no limit. */
  timeout?: number | Timeout | null;
  sourceAddress?: [string, number] | string | null;
  /** urllib3's list of [level, option, value] triples, or the object form (docs/api.md section 4). */
  socketOptions?: SocketOptions | readonly SocketOptionTriple[] | null;
  /** Size of the pieces a streamed upload is read in (bytes). */
  blocksize?: number;
  proxy?: string | null;
  proxyConfig?: unknown;
  /** A resolver, a resolver URL (`dou://...`), a ResolverDescription, or a list of them (docs/api.md section 10). */
  resolver?: ResolverInput;
  socketFamily?: 0 | 4 | 6;
  /** Happy Eyeballs (RFC 8305): true races 4 attempts, a number n > 1 races n; false or 1 tries addresses in turn. */
  happyEyeballs?: boolean | number;
  disabledSvn?: Iterable<HttpVersion> | null;
  maxHeaderSize?: number;
  /** Most header fields in a response head (or trailer section); docs/api.md section 4. */
  maxHeaderFields?: number;
  /** Most interim (1xx) responses before the final one; docs/api.md section 4. */
  maxInterimResponses?: number;
  /** Largest decoded response body, in bytes; null: no limit. docs/api.md section 4. */
  maxResponseSize?: number | null;
}

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

/** @internal One request as a pool hands it to `_send`: everything validated and prepared. */
export interface SendRequest {
  method: string;
  /** Origin form ('/x?y'), or absolute form for a forwarding proxy. */
  target: string;
  headers: HeadersInit | null;
  body: PreparedBody | null;
  chunked: boolean | undefined;
  preloadContent: boolean;
  decodeContent: boolean;
  enforceContentLength: boolean;
  connectTimeout: number | null;
  readTimeout: number | null;
  signal: AbortSignal | null;
  onUploadBody: UploadProgress | null;
  onEarlyResponse: ((early: HTTPResponse) => void) | null;
  /** For messages: the absolute URL. */
  url: string;
  onPostConnection?: ((info: ConnectionInfo) => void) | null;
  /** Called once when the exchange no longer occupies the connection (frees a shared slot). */
  onDone?: (() => void) | null;
}

/** How long a multiplexed connection may sit idle before it must prove it is alive before reuse (ms). */
const PING_AFTER_IDLE = 10_000;

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
  'happyEyeballs',
  'disabledSvn',
  'maxHeaderSize',
  'maxHeaderFields',
  'maxInterimResponses',
  'maxResponseSize',
];
const HTTP_OPTION_SET = optionSet(...CONNECTION_OPTION_NAMES);
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

const DEFAULT_MAX_HEADER_SIZE = 65536;
const connectedChannel = channel('urllib3:connection:connected');

export class HTTPConnection implements SessionOwner, Poolable {
  static readonly defaultPort: number = 80;
  /** urllib3's `default_socket_options`: `[[IPPROTO_TCP, TCP_NODELAY, 1]]` (Nagle's algorithm off). */
  static readonly defaultSocketOptions: readonly SocketOptionTriple[] = DEFAULT_SOCKET_OPTIONS;
  /** @internal The options this class accepts (HTTPSConnection adds the TLS ones). */
  static readonly optionSet: ReadonlySet<string> = HTTP_OPTION_SET;
  readonly scheme: 'http' | 'https' = 'http';
  /** The host, without the trailing dot of an absolute name. */
  readonly host: string;
  /** The host as given, trailing dot included: what is looked up in DNS. */
  private readonly dnsHost: string;
  readonly port: number;
  /** The connect (and default read) timeout, as urllib3's `conn.timeout`. */
  timeout: number | Timeout | null;
  readonly sourceAddress: [string, number] | string | null;
  readonly socketOptions: SocketOptions;
  readonly blocksize: number;
  readonly resolver: BaseResolver;
  readonly socketFamily: 0 | 4 | 6;
  /** How many connection attempts race at once (1: Happy Eyeballs off). */
  readonly happyEyeballs: number;
  readonly maxHeaderSize: number;
  /** The response limits every session of this connection applies (docs/api.md section 4). */
  readonly limits: ResponseLimits;
  readonly disabledSvn: ReadonlySet<HttpVersion>;
  readonly proxy: string | null;
  readonly proxyConfig: unknown;
  isVerified = false;
  isProxyVerified: boolean | null = null;
  hasConnectedToProxy = false;
  readonly label: string;
  /** Poolable: The pool that owns this connection (Poolable). */
  poolOwner: PoolOwner<this> | null = null;
  /** @internal Idle time (ms) after which a multiplexed connection must prove it is alive before reuse. */
  _pingAfterIdle = PING_AFTER_IDLE;

  protected session: ProtocolSession | null = null;
  /** The exchange request() started last, for getResponse(). */
  private lastExchange: Exchange | null = null;
  private connecting: Promise<void> | null = null;
  private info: ConnectionInfo | null = null;
  private infoUsed = false;
  private readonly ownHostHeader: string;
  /** The parsed proxy URL (`proxy` option), null without a proxy. */
  protected readonly proxyRoute: ProxyRoute | null;
  protected tunnel: TunnelTarget | null = null;

  constructor(host: string, options?: HTTPConnectionOptions) {
    const ctor = new.target as unknown as { defaultPort: number; optionSet: ReadonlySet<string> };
    checkOptions(new.target.name, options, ctor.optionSet);
    if (typeof host !== 'string' || host.length === 0) {
      throw new TypeError(`${new.target.name}: host must be a non-empty string`);
    }
    const o = options ?? {};
    // A trailing dot (an absolute name) is kept for the DNS lookup only: the
    // Host header and the certificate check use the name without it, as urllib3 (docs/api.md section 4).
    this.dnsHost = host;
    this.host = withoutTrailingDot(host);
    this.port = o.port ?? ctor.defaultPort;
    if (!Number.isInteger(this.port) || this.port < 0 || this.port > 65535) {
      throw new RangeError(`${new.target.name}: invalid port ${String(o.port)}`);
    }
    this.timeout = o.timeout === undefined ? null : o.timeout;
    if (typeof this.timeout === 'number') Timeout.from(this.timeout); // validates
    this.sourceAddress = o.sourceAddress ?? null;
    this.socketOptions = resolveSocketOptions(o.socketOptions, new.target.name);
    this.blocksize = o.blocksize ?? 16384;
    this.resolver = ownResolver(o.resolver, o as TlsOptions).resolver;
    this.socketFamily = o.socketFamily ?? 0;
    this.happyEyeballs = checkHappyEyeballs(o.happyEyeballs, new.target.name);
    this.maxHeaderSize = o.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.limits = responseLimits(o);
    this.proxy = o.proxy ?? null;
    this.proxyConfig = o.proxyConfig ?? null;
    this.disabledSvn = checkDisabledSvn(o.disabledSvn, new.target.name);
    this.label = `${new.target.name}(host='${this.host}', port=${this.port})`;
    const bracketed = bracketHost(this.host);
    this.ownHostHeader = this.port === ctor.defaultPort ? bracketed : `${bracketed}:${this.port}`;
    this.proxyRoute = this.proxy === null ? null : parseProxy(this.proxy, new.target.name);
  }

  /** The Host header: the tunnel's destination when tunnelling, else this connection's host. */
  private get hostHeader(): string {
    const t = this.tunnel;
    if (t === null) return this.ownHostHeader;
    return authority(withoutTrailingDot(t.host), t.port, t.scheme);
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
    return this.poolOwner !== null;
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
    const p = this.proxyRoute;
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

  // ---- Poolable ----------------------------------------------------------------

  /** Poolable: How requests share this connection; null until connected. */
  get reservation(): Reservation | null {
    const s = this.session;
    return s === null || s.isClosed ? null : s.reservation;
  }

  /** The protocol this connection speaks; null until connected. */
  get httpVersion(): HttpVersion | null {
    return this.session?.httpVersion ?? null;
  }

  /**
   * Poolable: Whether connecting may end in a shared reservation: h2c by
   * prior knowledge here, TLS offering h2 in ALPN for HTTPS. The pool opens
   * such connections one at a time per origin until it knows the protocol.
   */
  get mayShare(): boolean {
    return this.disabledSvn.has(HttpVersion.h11) && !this.disabledSvn.has(HttpVersion.h2);
  }

  /** Poolable: 'unique': free for a request now; 'shared': open and accepting new exchanges. */
  get isAvailable(): boolean {
    return this.session?.isAvailable === true;
  }

  /** Poolable: 'shared': the peer's limit on concurrent exchanges; 'unique': 1. */
  get concurrency(): number {
    return this.session?.concurrency ?? 1;
  }

  /** Poolable: A long-idle multiplexed connection proves it is alive (false: it was closed). */
  checkAlive(): Promise<boolean> | true {
    return this.session?.checkAlive() ?? true;
  }

  /** Tunnel through the proxy this connection points at. */
  setTunnel(host: string, options?: { port?: number; scheme?: string; headers?: HeadersInit | null }): void {
    if (this.isConnected)
      throw new ProtocolError(`${this.label}: setTunnel() must be called before connecting`);
    checkOptions('setTunnel', options, optionSet('port', 'scheme', 'headers'));
    const scheme = options?.scheme ?? 'http';
    this.tunnel = {
      host,
      port: options?.port ?? defaultPort(scheme) ?? 80,
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
    const dialed = await this.dial(timeout, signal);
    const factory = this.sessionFactory(dialed.protocol);
    if (factory === undefined) {
      dialed.transport.destroy();
      throw new ProtocolError(
        `${this.label}: the transport negotiated ${dialed.protocol}, which this connection has no session for`,
      );
    }
    const dest = this.destination;
    let session: ProtocolSession;
    try {
      session = await factory(dialed, this, {
        authority: `${bracketHost(dest.host)}:${dest.port}`,
        scheme: this.scheme,
        timeout: timeout === null ? null : Math.max(0, timeout - (performance.now() - started)),
        signal,
        maxHeaderSize: this.maxHeaderSize,
        limits: this.limits,
      });
    } catch (err) {
      dialed.transport.destroy();
      throw err;
    }
    this.info = dialed.info;
    this.infoUsed = false;
    this.session = session;
    this.lastExchange = null;
    if (connectedChannel.hasSubscribers) {
      connectedChannel.publish({ host: this.host, port: this.port, connectionInfo: dialed.info });
    }
  }

  /**
   * The dialer step: a transport and the protocol negotiated on it. TCP (with
   * SOCKS, CONNECT tunnels and TLS as the options ask) unless a subclass
   * brings another transport.
   */
  protected dial(timeout: number | null, signal: AbortSignal | null): Promise<Dialed> {
    if (onlyHttp3(this.disabledSvn)) {
      const why = `${this.label}: disabledSvn leaves only HTTP/3, which runs over QUIC with TLS: an http:// origin cannot use it`;
      return Promise.reject(new NewConnectionError(this, why, { permanent: true }));
    }
    return dialTcp(this.dialPlan(), this, timeout, signal);
  }

  /**
   * The proxy the dialer goes through: the `proxy` option, or, when only
   * setTunnel() was called, this connection's own host and port as a plain
   * HTTP proxy (urllib3 tunnels whenever set_tunnel was called, with the
   * first hop as the proxy; docs/api.md section 4). Never a request in plain
   * text to a first hop that was meant to tunnel.
   */
  private get firstHopProxy(): ProxyRoute | null {
    if (this.proxyRoute !== null || this.tunnel === null) return this.proxyRoute;
    return { scheme: 'http', host: unbracketHost(this.dnsHost), port: this.port, auth: null };
  }

  /** What the TCP dialer needs; HTTPSConnection adds the TLS leg. */
  protected dialPlan(): DialPlan {
    return {
      label: this.label,
      conn: this,
      host: this.dnsHost,
      port: this.port,
      destination: this.destination,
      proxy: this.firstHopProxy,
      tunnel: this.tunnel,
      sourceAddress: this.sourceAddress,
      socketOptions: this.socketOptions,
      resolver: this.resolver,
      socketFamily: this.socketFamily,
      happyEyeballs: this.happyEyeballs,
      tls: null,
      proxyTls: () => this.proxyTlsOptions(),
      priorKnowledgeH2: this.disabledSvn.has(HttpVersion.h11),
    };
  }

  /** The session factory step: which session starts over a transport speaking `protocol`. */
  protected sessionFactory(protocol: HttpVersion): SessionFactory | undefined {
    return TCP_SESSION_FACTORIES.get(protocol);
  }

  /** TLS options for the leg to an HTTPS proxy: its own context, else this connection's trust settings. */
  protected proxyTlsOptions(): TlsOptions {
    const cfg = this.proxyConfig as { sslContext?: TlsOptions['sslContext'] } | null;
    return cfg?.sslContext ? { sslContext: cfg.sslContext } : {};
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
    const t = this.timeoutObject;
    const sending = this._send({
      method,
      target: url,
      headers: o.headers ?? null,
      body: o.body === undefined || o.body === null ? null : prepareBody(o.body),
      chunked: o.chunked,
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
    const ex = sending instanceof Promise ? await sending : sending;
    // Kept for getResponse() only on this path: a pooled connection must not pin its last exchange.
    this.lastExchange = ex;
    await ex.sent;
  }

  /**
   * @internal The pool's entry point: everything already validated and
   * prepared. On a connected connection the exchange starts synchronously
   * and is returned as it is (a request without a streamed body is already
   * written then, and its `sent` is settled); otherwise after connecting.
   */
  _send(req: SendRequest): Exchange | Promise<Exchange> {
    if (!this.isConnected) {
      return this.connect({ signal: req.signal, timeout: req.connectTimeout }).then(() => this.start(req));
    }
    return this.start(req);
  }

  private start(req: SendRequest): Exchange {
    const session = this.session!;
    const target = req.target;
    const hostHeader =
      target.charCodeAt(0) === 47 /* / */ ? this.hostHeader : hostOfAbsolute(target, this.hostHeader);
    const built = buildRequestHeaders(req.method, req.headers, req.body, req.chunked, hostHeader);
    let info = this.info;
    if (info !== null) {
      if (this.infoUsed) info = info.forReuse();
      this.infoUsed = true;
    }
    if (req.onPostConnection && info !== null) req.onPostConnection(info);
    const opts: ExchangeRequest = {
      method: req.method,
      target,
      headers: built.pairs,
      body: req.body,
      chunked: built.chunked,
      preloadContent: req.preloadContent,
      decodeContent: req.decodeContent,
      enforceContentLength: req.enforceContentLength,
      readTimeout: req.readTimeout,
      signal: req.signal,
      onUploadBody: req.onUploadBody,
      onEarlyResponse: req.onEarlyResponse,
      url: req.url,
      connectionInfo: info,
      onDone: req.onDone ?? null,
    };
    return session.open(opts);
  }

  /** Wait for the response to the request sent last. */
  getResponse(): Promise<HTTPResponse> {
    const ex = this.lastExchange;
    if (ex === null) {
      return Promise.reject(new ProtocolError(`${this.label}: no request was sent on this connection`));
    }
    this.lastExchange = null;
    return ex.getResponse();
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

  /** SessionOwner: a signal from the session this connection drives. */
  sessionIdle(session: ProtocolSession): void {
    if (this.session === session) this.poolOwner?.connectionIdle(this);
  }

  /** SessionOwner: a signal from the session this connection drives. */
  sessionClosed(session: ProtocolSession): void {
    if (this.session === session) this.poolOwner?.connectionClosed(this);
  }

  /** SessionOwner: a signal from the session this connection drives. */
  sessionCapacityChanged(session: ProtocolSession): void {
    if (this.session === session) this.poolOwner?.connectionCapacityChanged(this);
  }

  /** SessionOwner: idle time after which a multiplexed session checks the peer is alive before reuse. */
  get pingAfterIdle(): number {
    return this._pingAfterIdle;
  }
}
