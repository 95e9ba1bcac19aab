// ResolverDescription (docs/api.md section 10): a resolver URL parsed into its
// protocol, server and options, which `.new()` turns into a resolver.
// Options keep urllib3-future's names and units, as users copy them from its
// documentation: `timeout` in seconds, `hosts`, `source_address`, `headers`,
// and the TLS options in snake_case (`ca_certs`, `cert_reqs` ...). Options a
// URL cannot carry well (`ca_cert_data` bytes) can be set with `.set()`.
// Unknown options are a TypeError, as everywhere in the library.

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { LocationValueError } from '../errors.js';
import type { TlsOptions } from '../net/tls-options.js';
import type { CertReqs, TlsVersion } from '../net/tls-settings.js';
import type { DnsCacheOptions } from './cache.js';
import { type DohHttpClient, HTTPSResolver } from './doh.js';
import { QuicResolver } from './doq.js';
import { TLSResolver } from './dot.js';
import { PlainResolver } from './dou.js';
import { InMemoryResolver } from './in-memory.js';
import { NullResolver } from './null.js';
import { JSON_PATHS, PROVIDERS } from './providers.js';
import type { BaseResolver } from './resolver.js';
import { SystemResolver } from './system.js';

export type ResolverProtocol = 'system' | 'in-memory' | 'null' | 'dou' | 'dot' | 'doh' | 'doq';
const PROTOCOLS: readonly ResolverProtocol[] = ['system', 'in-memory', 'null', 'dou', 'dot', 'doh', 'doq'];

const TLS_KEYS: Record<string, keyof TlsOptions> = {
  cert_reqs: 'certReqs',
  ca_certs: 'caCerts',
  ca_cert_dir: 'caCertDir',
  ca_cert_data: 'caCertData',
  cert_file: 'certFile',
  key_file: 'keyFile',
  key_password: 'keyPassword',
  cert_data: 'certData',
  key_data: 'keyData',
  server_hostname: 'serverHostname',
  assert_hostname: 'assertHostname',
  assert_fingerprint: 'assertFingerprint',
  ssl_minimum_version: 'sslMinimumVersion',
  ssl_maximum_version: 'sslMaximumVersion',
  ciphers: 'ciphers',
};
const REPEATED = new Set(['hosts', 'headers', 'proxy_headers']);
const COMMON = ['hosts'];
const NETWORK = [...COMMON, 'timeout', 'source_address'];
const TLS = [...NETWORK, ...Object.keys(TLS_KEYS), 'ssl_version'];
const ALLOWED: Record<ResolverProtocol, ReadonlySet<string>> = {
  system: new Set(COMMON),
  'in-memory': new Set(COMMON),
  null: new Set(COMMON),
  dou: new Set(NETWORK),
  dot: new Set(TLS),
  doh: new Set([...TLS, 'headers', 'rfc8484', 'disabled_svn', 'proxy', 'proxy_headers', 'method']),
  doq: new Set(TLS),
};

/** What `.new()` may be given besides the description: injected collaborators and inherited defaults. */
export interface ResolverContext {
  /** HTTP client for doh:// (default: the one registered by the pool layer). */
  dohClient?: DohHttpClient;
  /** CA options of the manager, used by dot://, doh:// and doq:// unless the URL sets its own. */
  caCerts?: string | null;
  caCertDir?: string | null;
  caCertData?: string | Uint8Array | null;
  /** Cache settings for dou/dot/doh/doq (tests inject a clock here). */
  cache?: DnsCacheOptions | false;
}

/** decodeURIComponent, with a bad escape (`%zz`) a LocationValueError saying where it is. */
function decode(text: string, where: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new LocationValueError(`resolver URL: malformed percent-escape in ${where}`);
  }
}

function splitQuery(query: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = decode(eq === -1 ? part : part.slice(0, eq), `the option '${part}'`);
    out.push([key, eq === -1 ? '' : decode(part.slice(eq + 1), `the option '${part}'`)]);
  }
  return out;
}

function truthy(v: unknown, key: string): boolean {
  const s = String(v).toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new TypeError(`resolver option ${key}=${String(v)} is not a boolean`);
}

function certReqs(v: unknown): CertReqs {
  const s = String(v).toUpperCase();
  if (s === '0' || s === 'CERT_NONE' || s === 'NONE') return 'CERT_NONE';
  if (s === '1' || s === 'CERT_OPTIONAL' || s === 'OPTIONAL') return 'CERT_OPTIONAL';
  if (s === '2' || s === 'CERT_REQUIRED' || s === 'REQUIRED') return 'CERT_REQUIRED';
  throw new TypeError(`resolver option cert_reqs=${String(v)} is not CERT_NONE, CERT_REQUIRED, 0 or 2`);
}

function parseSourceAddress(v: string): [string, number] {
  const m = /^\[(.+)\](?::(\d+))?$/.exec(v) ?? (isIP(v) ? [v, v, undefined] : /^(.+):(\d+)$/.exec(v));
  const port = m?.[2] ? Number(m[2]) : 0;
  if (!m || isIP(m[1]!) === 0 || port > 65535)
    throw new TypeError(`resolver option source_address=${v} is not address[:port]`);
  return [m[1]!, port];
}

function headerList(values: unknown[], key: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const s = String(v);
    const colon = s.indexOf(':');
    if (colon <= 0) throw new TypeError(`resolver option ${key}=${s} is not name:value`);
    out[s.slice(0, colon).trim().toLowerCase()] = s.slice(colon + 1).trim();
  }
  return out;
}

export class ResolverDescription {
  readonly protocol: ResolverProtocol;
  /** The provider of a shortcut (`cloudflare` in `doh+cloudflare://`), or null. */
  readonly specifier: string | null;
  /** The server, or null for `default` (the provider's, or none). */
  readonly host: string | null;
  readonly port: number | null;
  readonly path: string | null;
  readonly username: string | null;
  readonly password: string | null;
  private readonly options = new Map<string, unknown>();

  constructor(
    protocol: ResolverProtocol,
    init: {
      specifier?: string | null;
      host?: string | null;
      port?: number | null;
      path?: string | null;
      username?: string | null;
      password?: string | null;
    } = {},
  ) {
    if (!PROTOCOLS.includes(protocol))
      throw new LocationValueError(`unknown resolver protocol '${protocol}'`);
    this.protocol = protocol;
    this.specifier = init.specifier ?? null;
    this.port = init.port ?? null;
    this.username = init.username ?? null;
    this.password = init.password ?? null;
    let host = init.host ?? null;
    let path = init.path ?? null;
    if (this.specifier !== null) {
      const provider = PROVIDERS[this.specifier];
      if (provider === undefined) {
        throw new LocationValueError(
          `unknown DNS provider '${this.specifier}' (known: ${Object.keys(PROVIDERS).join(', ')})`,
        );
      }
      const endpoint = provider[protocol as 'dou' | 'dot' | 'doh' | 'doq'];
      if (endpoint === undefined) {
        throw new LocationValueError(`the DNS provider '${this.specifier}' offers no ${protocol}:// service`);
      }
      host ??= endpoint.server;
      if ('path' in endpoint) path ??= endpoint.path;
    }
    this.host = host;
    this.path = path;
  }

  /** Parses `scheme://[user:pass@]host[:port][/path][?options]`; `scheme` may be `proto+provider`. */
  static fromUrl(url: string): ResolverDescription {
    const m = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?$/i.exec(url.trim());
    if (!m)
      throw new LocationValueError(`'${url}' is not a resolver URL (scheme://host[:port][/path][?options])`);
    const [, scheme, authority, rawPath, query] = m;
    const [proto, specifier] = scheme!.toLowerCase().split('+', 2) as [string, string | undefined];
    if (!PROTOCOLS.includes(proto as ResolverProtocol)) {
      throw new LocationValueError(`unknown resolver scheme '${scheme}://' (known: ${PROTOCOLS.join(', ')})`);
    }
    let userinfo: string | null = null;
    let hostport = authority!;
    const at = hostport.lastIndexOf('@');
    if (at !== -1) {
      userinfo = hostport.slice(0, at);
      hostport = hostport.slice(at + 1);
    }
    const hp = /^(\[[^\]]+\]|[^:]*)(?::(\d*))?$/.exec(hostport);
    if (!hp) throw new LocationValueError(`'${url}': cannot read the host and port`);
    let host: string | null = decode(hp[1]!, `the host of '${url}'`).replace(/^\[(.*)\]$/, '$1');
    if (host === '' || host.toLowerCase() === 'default') host = null;
    const port = hp[2] ? Number(hp[2]) : null;
    if (port !== null && (port < 1 || port > 65535))
      throw new LocationValueError(`'${url}': port ${port} is out of range`);
    let username: string | null = null;
    let password: string | null = null;
    if (userinfo !== null) {
      const colon = userinfo.indexOf(':');
      username = decode(colon === -1 ? userinfo : userinfo.slice(0, colon), 'the user name');
      password = colon === -1 ? null : decode(userinfo.slice(colon + 1), 'the password');
    }
    const d = new ResolverDescription(proto as ResolverProtocol, {
      specifier: specifier ?? null,
      host,
      port,
      path: rawPath && rawPath !== '/' ? rawPath : null,
      username,
      password,
    });
    for (const [key, value] of splitQuery(query ?? '')) {
      if (REPEATED.has(key)) {
        const list = (d.options.get(key) as unknown[] | undefined) ?? [];
        list.push(value);
        d.set(key, list);
      } else {
        d.set(key, value);
      }
    }
    return d;
  }

  get(key: string): unknown {
    return this.options.get(key);
  }
  has(key: string): boolean {
    return this.options.has(key);
  }
  /** Sets an option by its urllib3-future name (`ca_cert_data`, `timeout` ...); a TypeError when the protocol has no such option. */
  set(key: string, value: unknown): this {
    if (!ALLOWED[this.protocol].has(key)) {
      throw new TypeError(
        `${this.protocol}:// resolvers take no option '${key}' (they take: ${[...ALLOWED[this.protocol]].join(', ')})`,
      );
    }
    this.options.set(key, value);
    return this;
  }

  /** The canonical URL: the shortcut expanded, options sorted; stable, so it can be part of a pool key. */
  toString(): string {
    const host = this.host === null ? 'default' : isIP(this.host) === 6 ? `[${this.host}]` : this.host;
    const parts: string[] = [];
    for (const key of [...this.options.keys()].sort()) {
      const v = this.options.get(key);
      for (const item of Array.isArray(v) ? v : [v]) {
        const text =
          typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean'
            ? String(item)
            : `sha256:${createHash('sha256')
                .update(Buffer.from(item as Uint8Array))
                .digest('hex')
                .slice(0, 16)}`;
        parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(text)}`);
      }
    }
    const auth =
      this.username === null
        ? ''
        : `${encodeURIComponent(this.username)}${this.password === null ? '' : ':***'}@`;
    return `${this.protocol}://${auth}${host}${this.port === null ? '' : `:${this.port}`}${this.path ?? ''}${
      parts.length ? `?${parts.join('&')}` : ''
    }`;
  }

  private list(key: string): unknown[] {
    const v = this.options.get(key);
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  }

  private tlsOptions(ctx: ResolverContext): TlsOptions {
    const o: Record<string, unknown> = {};
    for (const [key, prop] of Object.entries(TLS_KEYS)) {
      if (!this.options.has(key)) continue;
      const v = this.options.get(key);
      if (prop === 'certReqs') o[prop] = certReqs(v);
      else if (prop === 'assertHostname' && (v === false || v === 'false' || v === '0')) o[prop] = false;
      else o[prop] = v;
    }
    if (this.options.has('ssl_version')) {
      const v = String(this.options.get('ssl_version')) as TlsVersion;
      o.sslMinimumVersion ??= v;
      o.sslMaximumVersion ??= v;
    }
    // The manager's CAs apply unless the URL names its own (urllib3-future forwards them the same way).
    if (o.caCerts === undefined && o.caCertDir === undefined && o.caCertData === undefined) {
      if (ctx.caCerts) o.caCerts = ctx.caCerts;
      if (ctx.caCertDir) o.caCertDir = ctx.caCertDir;
      if (ctx.caCertData) o.caCertData = ctx.caCertData;
    }
    return o as TlsOptions;
  }

  /** Builds the resolver this description describes. */
  new(ctx: ResolverContext = {}): BaseResolver {
    const hosts = this.list('hosts').map(String);
    const timeoutRaw = this.options.get('timeout');
    let timeout: number | undefined;
    if (timeoutRaw !== undefined) {
      const seconds = Number(timeoutRaw);
      if (!(seconds > 0))
        throw new TypeError(
          `resolver option timeout=${String(timeoutRaw)} is not a positive number of seconds`,
        );
      timeout = seconds * 1000;
    }
    const src = this.options.get('source_address');
    const sourceAddress =
      src === undefined
        ? null
        : Array.isArray(src)
          ? (src as [string, number])
          : parseSourceAddress(String(src));
    const server = (): string => {
      if (this.host === null)
        throw new LocationValueError(
          `${this.protocol}:// needs a server (e.g. ${this.protocol}://192.0.2.53)`,
        );
      return this.host;
    };
    // What every DNS-speaking resolver takes; server() throws for a URL without a server.
    const network = () => ({ server: server(), hosts, timeout, sourceAddress, cache: ctx.cache });
    switch (this.protocol) {
      case 'system':
        return new SystemResolver({ hosts });
      case 'null':
        return new NullResolver({ hosts });
      case 'in-memory':
        return new InMemoryResolver({ hosts });
      case 'dou':
        return new PlainResolver({
          ...network(),
          port: this.port ?? 53,
        });
      case 'dot':
        return new TLSResolver({
          ...network(),
          port: this.port ?? 853,
          tls: this.tlsOptions(ctx),
        });
      case 'doh': {
        const headers = headerList(this.list('headers'), 'headers');
        if (this.username !== null && headers.authorization === undefined) {
          headers.authorization =
            this.password === null
              ? `Bearer ${this.username}`
              : `Basic ${Buffer.from(`${this.username}:${this.password}`).toString('base64')}`;
        }
        const rfc8484 = this.options.has('rfc8484') ? truthy(this.options.get('rfc8484'), 'rfc8484') : true;
        const method = String(this.options.get('method') ?? 'GET').toUpperCase();
        if (method !== 'GET' && method !== 'POST')
          throw new TypeError(`resolver option method=${method} is not GET or POST`);
        let path = this.path ?? '/dns-query';
        if (!rfc8484 && this.specifier !== null && this.path === PROVIDERS[this.specifier]?.doh?.path) {
          path = JSON_PATHS[this.specifier] ?? path;
        }
        return new HTTPSResolver({
          ...network(),
          port: this.port ?? 443,
          path,
          rfc8484,
          method,
          headers,
          tls: this.tlsOptions(ctx),
          disabledSvn: this.list('disabled_svn')
            .flatMap((v) => String(v).split(','))
            .filter(Boolean),
          proxy: this.options.has('proxy') ? String(this.options.get('proxy')) : null,
          proxyHeaders: headerList(this.list('proxy_headers'), 'proxy_headers'),
          client: ctx.dohClient,
        });
      }
      case 'doq':
        return new QuicResolver({
          ...network(),
          port: this.port ?? 853,
          tls: this.tlsOptions(ctx),
        });
    }
  }
}
