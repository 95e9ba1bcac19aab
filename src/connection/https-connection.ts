// HTTPSConnection (docs/api.md sections 4 and 7): an HTTPConnection whose dial
// plan ends with TLS to the origin - verification, SNI, ALPN offering h2 and
// http/1.1 minus what `disabledSvn` turns off - and whose proxy leg trusts
// what the connection trusts unless `proxyConfig` brings its own context.

import { HttpVersion } from './connection-info.js';
import {
  CONNECTION_OPTION_NAMES,
  HTTPConnection,
  type HTTPConnectionOptions,
  type SendRequest,
} from './connection.js';
import type { Dialed, DialPlan } from './dialer.js';
import { originKey, type QuicCache, quicEndpoint } from './h3-alt-svc.js';
import { AltSvcExchange, dialRoute, type H3Route, learnFromResponse, quicTarget } from './h3-route.js';
import { startH3 } from './h3-session.js';
import type { Exchange } from './session.js';
import type { SessionFactory } from './session-factory.js';
import { TLS_OPTION_NAMES, type TlsOptions, validateTlsOptions } from '../net/tls-options.js';
import { Urllib3Context } from '../net/urllib3-context.js';
import { optionSet } from '../options.js';
import { warnOnce } from '../warnings.js';

export interface HTTPSConnectionOptions extends HTTPConnectionOptions, TlsOptions {
  /** Origin "host:port" -> its HTTP/3 endpoint "host:port", or null (docs/api.md section 9). */
  preemptiveQuicCache?: QuicCache | null;
}

/** The trust settings the leg to an HTTPS proxy inherits from the target's (as urllib3). */
const PROXY_TRUST_OPTIONS = [
  'certReqs',
  'caCerts',
  'caCertDir',
  'caCertData',
  'sslMinimumVersion',
  'sslMaximumVersion',
] as const;

export class HTTPSConnection extends HTTPConnection {
  static override readonly defaultPort: number = 443;
  /** @internal */
  static override readonly optionSet: ReadonlySet<string> = optionSet(
    ...CONNECTION_OPTION_NAMES,
    ...TLS_OPTION_NAMES,
    'preemptiveQuicCache',
  );
  override readonly scheme: 'http' | 'https' = 'https';
  readonly tlsOptions: TlsOptions;
  /** Where origins speak HTTP/3 (Alt-Svc, or seeded by the user); shared by a pool's connections. */
  readonly preemptiveQuicCache: QuicCache | null;

  constructor(host: string, options?: HTTPSConnectionOptions) {
    super(host, options);
    const tls: TlsOptions = {};
    for (const k of TLS_OPTION_NAMES) {
      const v = (options as Record<string, unknown> | undefined)?.[k];
      if (v !== undefined) (tls as Record<string, unknown>)[k] = v;
    }
    this.tlsOptions = tls;
    this.preemptiveQuicCache = options?.preemptiveQuicCache ?? null;
    // Bad values fail here; files are read when connecting, as urllib3 reads them.
    validateTlsOptions(tls, this.label);
  }

  protected override proxyTlsOptions(): TlsOptions {
    const o = this.tlsOptions;
    const out: TlsOptions = {};
    for (const k of PROXY_TRUST_OPTIONS) {
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

  override get mayShare(): boolean {
    if (this.httpVersion !== HttpVersion.h3 && quicTarget(this.route) !== null) return true;
    return !this.disabledSvn.has(HttpVersion.h2) && this.alpnOffered.includes('h2');
  }

  protected override dialPlan(): DialPlan {
    const plan = super.dialPlan();
    const spoken: string[] = [];
    if (!this.disabledSvn.has(HttpVersion.h2)) spoken.push('h2');
    if (!this.disabledSvn.has(HttpVersion.h11)) spoken.push('http/1.1');
    const options: TlsOptions = { ...this.tlsOptions, alpnProtocols: this.alpnOffered };
    // Forwarding through an HTTPS proxy: this TLS leg is to the proxy, so the
    // proxy's own context (proxySslContext) applies here too (docs/api.md section 8).
    const proxyContext = (this.proxyConfig as { sslContext?: TlsOptions['sslContext'] } | null)?.sslContext;
    if (this.proxyIsForwardingOverTls && proxyContext) options.sslContext = proxyContext;
    plan.tls = { options, accept: spoken };
    plan.priorKnowledgeH2 = false;
    return plan;
  }

  protected override async dial(timeout: number | null, signal: AbortSignal | null): Promise<Dialed> {
    const dialed = await dialRoute(this.route, timeout, signal, (t) => super.dial(t, signal));
    // As urllib3's pool: no warning while the proxy this connection forwards through was verified.
    if (!this.isVerified && this.isProxyVerified !== true) {
      const host = this.destination.host;
      warnOnce(
        'InsecureRequestWarning',
        host,
        `Unverified HTTPS request is being made to host '${host}'. ` +
          'Adding certificate verification is strongly advised (certReqs: CERT_REQUIRED, the default).',
      );
    }
    return dialed;
  }

  /** What the HTTP/3 route needs to know (h3-route.ts). */
  private get route(): H3Route {
    return {
      label: this.label,
      conn: this,
      state: this,
      destination: this.destination,
      proxied: this.proxy !== null || this.tunnel !== null,
      disabledSvn: this.disabledSvn,
      cache: this.preemptiveQuicCache,
      resolver: this.resolver,
      socketFamily: this.socketFamily,
      tls: this.tlsOptions,
      sourceAddress: this.sourceAddress,
    };
  }

  /** Whether Alt-Svc and the cache may move this connection's origin to HTTP/3 at all. */
  private get mayDiscoverQuic(): boolean {
    return (
      this.preemptiveQuicCache !== null &&
      this.proxy === null &&
      this.tunnel === null &&
      !this.disabledSvn.has(HttpVersion.h3)
    );
  }

  /** A TCP connection gives way once its origin is known to speak HTTP/3 (the pool drains it). */
  override get isAvailable(): boolean {
    if (!super.isAvailable) return false;
    if (!this.mayDiscoverQuic || this.httpVersion === HttpVersion.h3) return true;
    this.originKeyCache ??= originKey(this.host, this.port);
    return quicEndpoint(this.preemptiveQuicCache!, this.originKeyCache) === null;
  }

  private originKeyCache: string | null = null;
  /** The TCP session whose first response was read for Alt-Svc. */
  private altSvcSession: unknown = null;

  /** @internal Over TCP, responses teach the cache their Alt-Svc (docs/api.md section 9). */
  override _send(req: SendRequest): Exchange | Promise<Exchange> {
    const sent = super._send(req);
    if (!this.mayDiscoverQuic) return sent;
    return sent instanceof Promise ? sent.then((ex) => this.watchAltSvc(ex)) : this.watchAltSvc(sent);
  }

  /** The exchange, wrapped to read its response's Alt-Svc when that can teach the cache something. */
  private watchAltSvc(ex: Exchange): Exchange {
    if (this.httpVersion === HttpVersion.h3) return ex;
    const cache = this.preemptiveQuicCache!;
    // Every response while the cache holds the origin (Alt-Svc may refresh or clear it), else the first per connection.
    this.originKeyCache ??= originKey(this.host, this.port);
    if (this.session === this.altSvcSession && !cache.has(this.originKeyCache)) return ex;
    this.altSvcSession = this.session;
    return new AltSvcExchange(ex, (r) => {
      if (learnFromResponse(cache, this.destination, r)) this.poolOwner?.connectionCapacityChanged(this);
    });
  }

  protected override sessionFactory(protocol: HttpVersion): SessionFactory | undefined {
    return protocol === HttpVersion.h3 ? startH3 : super.sessionFactory(protocol);
  }
}
