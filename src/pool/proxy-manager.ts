// ProxyManager and SOCKSProxyManager (docs/api.md section 8): a PoolManager whose
// pools reach their targets through a proxy. They differ from PoolManager
// only in the pool options they hand out (the connection does the proxy leg)
// and, for forwarding, in sending absolute-URI targets with the proxy headers.
//
// The connection matrix, as in urllib3:
//   HTTP proxy  + http target  -> forwarding: one pool to the proxy for every http target
//   HTTP proxy  + https target -> CONNECT tunnel, then TLS to the target
//   HTTPS proxy + http target  -> TLS to the proxy, forwarding
//   HTTPS proxy + https target -> TLS to the proxy, CONNECT, TLS to the target inside
//                                 (or forwarding with useForwardingForHttps)
//   SOCKS proxy + any target   -> the SOCKS handshake, then (TLS to) the target

import { bracketHost, defaultPort } from '../authority.js';
import { ProxySchemeUnknown } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import type { Urllib3Context } from '../net/urllib3-context.js';
import { checkOptions, optionSet } from '../options.js';
import type { SecureContext } from 'node:tls';
import type { HTTPResponse } from '../response.js';
import { parseUrl, type Url } from '../url.js';
import type { HTTPConnectionPool } from './connection-pool.js';
import { HTTPS_POOL_OPTION_NAMES } from './connection-pool.js';
import { PoolManager, type PoolManagerOptions, type PoolOptionOverrides } from './pool-manager.js';
import { proxyForUrl, readProxyEnv } from './proxy-env.js';
import { RequestMethods, type RequestOptions } from './request-methods.js';
import type { UrlopenOptions } from './urlopen-options.js';

export interface ProxyConfig {
  /** TLS settings for the leg to an HTTPS proxy. */
  sslContext: SecureContext | Urllib3Context | null;
  /** Send https requests to an HTTPS proxy in absolute form instead of tunnelling. */
  useForwardingForHttps: boolean;
  /** Headers for the proxy: on the CONNECT request, or on every forwarded request. */
  proxyHeaders: Record<string, string>;
}

export interface ProxyManagerOptions extends PoolManagerOptions {
  proxyHeaders?: HeadersInit | null;
  proxySslContext?: SecureContext | Urllib3Context | null;
  useForwardingForHttps?: boolean;
}

const PROXY_MANAGER_OPTIONS = optionSet(
  'numPools',
  'proxyHeaders',
  'proxySslContext',
  'useForwardingForHttps',
  ...HTTPS_POOL_OPTION_NAMES.filter((k) => k !== 'port'),
);

function basicAuth(auth: string): string {
  const i = auth.indexOf(':');
  const user = decodeURIComponent(i === -1 ? auth : auth.slice(0, i));
  const pass = decodeURIComponent(i === -1 ? '' : auth.slice(i + 1));
  return `Basic ${Buffer.from(`${user}:${pass}`, 'latin1').toString('base64')}`;
}

/** The proxy URL without credentials, with an explicit port. */
function proxyOrigin(u: Url): string {
  return `${u.scheme}://${bracketHost(u.host!)}:${u.port ?? defaultPort(u.scheme!)}`;
}

export class ProxyManager extends PoolManager {
  readonly proxy: Url;
  readonly proxyHeaders: Record<string, string>;
  readonly proxyConfig: ProxyConfig;
  private readonly proxyUrl: string;

  constructor(proxyUrl: string, options?: ProxyManagerOptions) {
    checkOptions('ProxyManager', options, PROXY_MANAGER_OPTIONS);
    const { proxyHeaders, proxySslContext, useForwardingForHttps, ...rest } = options ?? {};
    super(rest);
    let u = parseUrl(proxyUrl);
    if (u.scheme === null && u.host !== null) u = parseUrl(`http://${proxyUrl}`);
    if (u.scheme !== 'http' && u.scheme !== 'https') {
      throw new ProxySchemeUnknown(u.scheme);
    }
    if (u.host === null) throw new ProxySchemeUnknown(null);
    this.proxy = u;
    this.proxyUrl = proxyOrigin(u);
    const headers: Record<string, string> = {};
    for (const [k, v] of new HTTPHeaderDict(proxyHeaders ?? {}).entries()) headers[k] = v;
    if (u.auth !== null && !Object.keys(headers).some((k) => k.toLowerCase() === 'proxy-authorization')) {
      headers['Proxy-Authorization'] = basicAuth(u.auth);
    }
    this.proxyHeaders = headers;
    this.proxyConfig = {
      sslContext: proxySslContext ?? null,
      useForwardingForHttps: useForwardingForHttps ?? false,
      proxyHeaders: headers,
    };
  }

  /** Whether a request to `scheme` goes through a CONNECT tunnel (else absolute-form forwarding). */
  private tunnels(scheme: string): boolean {
    return scheme === 'https' && !this.proxyConfig.useForwardingForHttps;
  }

  override connectionFromHost(
    host: string | null,
    options?: { port?: number | null; scheme?: string | null; poolKwargs?: PoolOptionOverrides | null },
  ): HTTPConnectionPool {
    const scheme = (options?.scheme ?? 'http').toLowerCase();
    const proxyKw = { ...(options?.poolKwargs ?? {}), proxy: this.proxyUrl, proxyConfig: this.proxyConfig };
    if (this.tunnels(scheme)) {
      return super.connectionFromHost(host, { port: options?.port ?? null, scheme, poolKwargs: proxyKw });
    }
    // Forwarding: every target shares the pool of the proxy itself.
    return super.connectionFromHost(this.proxy.host, {
      port: this.proxy.port,
      scheme: this.proxy.scheme,
      poolKwargs: proxyKw,
    });
  }

  protected override requestTargetFor(u: Url, url: string): string {
    return this.tunnels(u.scheme ?? 'http') ? u.requestUri : absoluteForm(u, url);
  }

  protected override headersFor(u: Url, headers: HeadersInit | null): HeadersInit | null {
    if (this.tunnels(u.scheme ?? 'http')) return headers;
    const h = new HTTPHeaderDict(headers ?? {});
    for (const [k, v] of Object.entries(this.proxyHeaders)) h.set(k, v);
    return h;
  }

  /** A manager with the PoolManager API that follows HTTP_PROXY/HTTPS_PROXY/ALL_PROXY/NO_PROXY. */
  static fromEnv(
    options?: ProxyManagerOptions,
    env: Record<string, string | undefined> = process.env,
  ): EnvProxyManager {
    return new EnvProxyManager(options ?? {}, env);
  }
}

function absoluteForm(u: Url, url: string): string {
  if (u.scheme !== null) return parseUrl(url).url.replace(/#.*$/, '');
  return `http://${u.netloc}${u.requestUri}`;
}

export interface SOCKSProxyManagerOptions extends PoolManagerOptions {
  username?: string | null;
  password?: string | null;
}

const SOCKS_SCHEMES = new Set(['socks4', 'socks4a', 'socks5', 'socks5h']);
const SOCKS_MANAGER_OPTIONS = optionSet(
  'numPools',
  'username',
  'password',
  ...HTTPS_POOL_OPTION_NAMES.filter((k) => k !== 'port'),
);

export class SOCKSProxyManager extends PoolManager {
  readonly proxy: Url;
  private readonly proxyUrl: string;

  constructor(proxyUrl: string, options?: SOCKSProxyManagerOptions) {
    checkOptions('SOCKSProxyManager', options, SOCKS_MANAGER_OPTIONS);
    const { username, password, ...rest } = options ?? {};
    super(rest);
    const u = parseUrl(proxyUrl);
    if (u.scheme === null || !SOCKS_SCHEMES.has(u.scheme)) throw new ProxySchemeUnknown(u.scheme);
    if (u.host === null) throw new ProxySchemeUnknown(null);
    this.proxy = u;
    let auth = u.auth;
    if (username !== undefined && username !== null) {
      auth = `${encodeURIComponent(username)}:${encodeURIComponent(password ?? '')}`;
    }
    this.proxyUrl = `${u.scheme}://${auth ? `${auth}@` : ''}${bracketHost(u.host)}:${u.port ?? 1080}`;
  }

  override connectionFromHost(
    host: string | null,
    options?: { port?: number | null; scheme?: string | null; poolKwargs?: PoolOptionOverrides | null },
  ): HTTPConnectionPool {
    return super.connectionFromHost(host, {
      port: options?.port ?? null,
      scheme: options?.scheme ?? 'http',
      poolKwargs: { ...(options?.poolKwargs ?? {}), proxy: this.proxyUrl },
    });
  }
}

/** Build the manager for one proxy URL (HTTP(S) or SOCKS). */
export function proxyFromUrl(
  url: string,
  options?: ProxyManagerOptions & SOCKSProxyManagerOptions,
): PoolManager {
  const scheme = parseUrl(url).scheme;
  if (scheme !== null && SOCKS_SCHEMES.has(scheme)) {
    const { proxyHeaders: _h, proxySslContext: _s, useForwardingForHttps: _f, ...rest } = options ?? {};
    return new SOCKSProxyManager(url, rest);
  }
  const { username: _u, password: _p, ...rest } = options ?? {};
  return new ProxyManager(url, rest);
}

/**
 * Sends each request directly or through the proxy the environment names for
 * its scheme and host (ProxyManager.fromEnv).
 */
export class EnvProxyManager extends RequestMethods {
  private readonly options: ProxyManagerOptions;
  private readonly env: ReturnType<typeof readProxyEnv>;
  private readonly managers = new Map<string, PoolManager>();

  constructor(options: ProxyManagerOptions, env: Record<string, string | undefined>) {
    checkOptions('ProxyManager.fromEnv', options, PROXY_MANAGER_OPTIONS);
    super(options.headers ?? null);
    this.options = options;
    this.env = readProxyEnv(env);
  }

  /** The proxy URL the environment names for `url`, or null to go direct. */
  proxyFor(url: string): string | null {
    const u = parseUrl(url);
    const scheme = u.scheme ?? 'http';
    return proxyForUrl(scheme, u.host ?? '', u.port ?? defaultPort(scheme) ?? 80, this.env);
  }

  /** The manager used for `url`. */
  managerFor(url: string): PoolManager {
    const proxy = this.proxyFor(url);
    const key = proxy ?? '';
    let m = this.managers.get(key);
    if (m === undefined) {
      m = proxy === null ? new PoolManager(this.options) : proxyFromUrl(proxy, this.options);
      this.managers.set(key, m);
    }
    return m;
  }

  override urlopen(method: string, url: string, options?: UrlopenOptions): Promise<HTTPResponse> {
    try {
      return this.managerFor(url).urlopen(method, url, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  override request(method: string, url: string, options?: RequestOptions): Promise<HTTPResponse> {
    try {
      return this.managerFor(url).request(method, url, {
        ...(options ?? {}),
        headers: options?.headers ?? this.headers,
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  async close(): Promise<void> {
    const all = [...this.managers.values()];
    this.managers.clear();
    await Promise.all(all.map((m) => m.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
