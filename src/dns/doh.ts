// `doh://host[:port][/path]` (docs/api.md section 10): DNS over HTTPS, RFC 8484
// wire format by GET (`?dns=` base64url) or POST (application/dns-message),
// or the JSON form (application/dns-json) with `rfc8484=false`. Queries use
// ID 0 (RFC 8484 section 4.1: HTTP caches can then share answers; the HTTP
// exchange already pairs a query with its answer) and are padded to 128
// bytes (RFC 8467).
//
// The HTTP requests go through an injected DohHttpClient: src/dns/ sits below
// the pool layer, so it cannot import PoolManager without a cycle once
// connections use resolvers. The pool layer registers a factory with
// setDohClientFactory() that builds a client over the library's own HTTP/2
// pool; a resolver can also be given a client directly.

import { isIP } from 'node:net';
import { decodeJsonAnswer } from './doh-json.js';
import type { QueryCancel } from './cancel.js';
import { acceptResponse } from './answer.js';
import { localAddress } from './server-endpoint.js';
import type { Message } from './message.js';
import { type OutgoingQuery, QueryResolver, type QueryResolverOptions } from './query-resolver.js';
import type { TlsOptions } from '../net/tls-options.js';

export interface DohRequest {
  method: 'GET' | 'POST';
  /** The full https:// URL, query string included. */
  url: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** Fires on the resolver's timeout or close. */
  signal: AbortSignal;
}

export interface DohResponse {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** The little a DoH resolver needs from an HTTP client. */
export interface DohHttpClient {
  request(req: DohRequest): Promise<DohResponse>;
  close?(): Promise<void>;
}

/** What a factory needs to build a client for one DoH resolver (urllib3-future's DoH URL options). */
export interface DohClientSettings {
  /** `https://host:port` of the DoH server. */
  origin: string;
  tls: TlsOptions;
  sourceAddress: [string, number] | null;
  /** Milliseconds, or null. */
  timeout: number | null;
  /** `disabled_svn` values: 'h11', 'h2', 'h3'. */
  disabledSvn: string[];
  proxy: string | null;
  proxyHeaders: Record<string, string>;
}

export type DohClientFactory = (settings: DohClientSettings) => DohHttpClient;

let defaultFactory: DohClientFactory | null = null;

/** Registers the client the DoH resolvers use when none is given (the pool layer calls this). */
export function setDohClientFactory(factory: DohClientFactory | null): void {
  defaultFactory = factory;
}

export interface HTTPSResolverOptions extends QueryResolverOptions {
  /** The server name (or address). */
  server: string;
  /** Default 443. */
  port?: number;
  /** Default '/dns-query'. */
  path?: string;
  /** true (default): RFC 8484 wire format; false: the JSON form. */
  rfc8484?: boolean;
  /** Default 'GET'. */
  method?: 'GET' | 'POST';
  /** Sent with every query (urllib3-future's `headers`), e.g. an authorization. */
  headers?: Record<string, string>;
  tls?: TlsOptions;
  sourceAddress?: string | [string, number] | null;
  disabledSvn?: string[];
  proxy?: string | null;
  proxyHeaders?: Record<string, string>;
  /** The HTTP client to send queries with; default: the registered factory's. */
  client?: DohHttpClient;
}

function headerValue(h: DohResponse['headers'], name: string): string {
  const v = h[name];
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

export class HTTPSResolver extends QueryResolver {
  readonly server: string;
  readonly port: number;
  readonly path: string;
  readonly rfc8484: boolean;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  private readonly client: DohHttpClient;
  private readonly ownsClient: boolean;

  constructor(options: HTTPSResolverOptions) {
    super(options);
    this.server = options.server.replace(/^\[(.*)\]$/, '$1');
    this.port = options.port ?? 443;
    this.path = options.path && options.path !== '/' ? options.path : '/dns-query';
    this.rfc8484 = options.rfc8484 !== false;
    this.method = options.method ?? 'GET';
    this.headers = { ...(options.headers ?? {}) };
    if (options.client) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      if (defaultFactory === null) {
        throw new TypeError(
          'doh:// needs an HTTP client: pass `client` (a DohHttpClient), or import the library from its entry point, which registers its HTTP/2 pool with setDohClientFactory()',
        );
      }
      this.client = defaultFactory({
        origin: this.origin(),
        tls: { ...(options.tls ?? {}) },
        sourceAddress: localAddress(options.sourceAddress),
        timeout: this.timeout,
        disabledSvn: options.disabledSvn ?? [],
        proxy: options.proxy ?? null,
        proxyHeaders: options.proxyHeaders ?? {},
      });
      this.ownsClient = true;
    }
  }

  private origin(): string {
    const host = isIP(this.server) === 6 ? `[${this.server}]` : this.server;
    return `https://${host}${this.port === 443 ? '' : `:${this.port}`}`;
  }

  describe(): string {
    return `doh://${this.origin().slice('https://'.length)}${this.path}`;
  }

  protected override newQueryId(): number {
    return 0;
  }

  protected override paddingBlock(): number {
    return 128;
  }

  override async close(): Promise<void> {
    await super.close();
    if (this.ownsClient) await this.client.close?.();
  }

  protected async exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    // The HTTP pool takes an AbortSignal.
    const signal = cancel.signal;
    const base = this.origin() + this.path;
    const sep = this.path.includes('?') ? '&' : '?';
    let req: DohRequest;
    if (!this.rfc8484) {
      const url = `${base}${sep}name=${encodeURIComponent(query.name)}&type=${query.type}`;
      req = {
        method: 'GET',
        url,
        headers: { accept: 'application/dns-json', ...this.headers },
        body: null,
        signal,
      };
    } else if (this.method === 'POST') {
      req = {
        method: 'POST',
        url: base,
        headers: {
          accept: 'application/dns-message',
          'content-type': 'application/dns-message',
          ...this.headers,
        },
        body: query.bytes,
        signal,
      };
    } else {
      const dns = query.bytes.toString('base64url');
      req = {
        method: 'GET',
        url: `${base}${sep}dns=${dns}`,
        headers: { accept: 'application/dns-message', ...this.headers },
        body: null,
        signal,
      };
    }
    const res = await this.client.request(req);
    if (res.status !== 200) {
      throw new Error(`${this.describe()} answered HTTP ${res.status}`);
    }
    const type = headerValue(res.headers, 'content-type').split(';')[0]!.trim().toLowerCase();
    if (!this.rfc8484) {
      const m = decodeJsonAnswer(query, res.body);
      return m;
    }
    if (type !== 'application/dns-message') {
      throw new Error(`${this.describe()} answered with content-type '${type}', not application/dns-message`);
    }
    const m = acceptResponse(query, res.body, this.describe());
    if (m === null) throw new Error(`${this.describe()} sent an answer that does not match the query`);
    return m;
  }
}
