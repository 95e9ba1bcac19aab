// The error hierarchy of urllib3 v2 (docs/api.md section 13). Every error extends
// HTTPError, carries `name` and `code` equal to its class name, and keeps the
// underlying error as the ES2022 `cause`. Wrapping happens at layer
// boundaries: a Node ECONNREFUSED becomes NewConnectionError, and so on.
//
// This module is a leaf: no I/O, no imports from the rest of the library but
// authority.ts (another leaf).
//
// An error never shows a secret (docs/security.md): the pools and connections
// it points to hold proxy URLs with credentials and Proxy-Authorization
// headers, so util.inspect and JSON render them by their description only
// (`HTTPConnectionPool(host='x', port=80)`), never field by field.

import { inspect } from 'node:util';
import { bracketHost } from './authority.js';

/**
 * Where a request was when an error ended it (docs/api.md section 13):
 * 'connect' - setting up the transport, nothing of the request sent;
 * 'send' - writing the request; 'receive' - waiting for or reading the
 * response. Retry counts 'connect' errors as connect errors.
 */
export type RequestPhase = 'connect' | 'send' | 'receive';

export interface ErrorOptions {
  cause?: unknown;
  /** Where the request was (see RequestPhase); defaults to the class's own phase, if any. */
  phase?: RequestPhase | null;
  /**
   * false when the server is known not to have processed the request (it
   * was never sent, REFUSED_STREAM, a stream above a GOAWAY's last id): a
   * re-send is safe whatever the method. null (the default): unknown.
   */
  processed?: false | null;
  /** Re-sending the same request cannot cure it (the peer's settings forbid it). */
  permanent?: boolean;
}

/** Anything that identifies a pool in messages: the pool itself or a description. */
export interface PoolLike {
  readonly host: string;
  readonly port: number | null;
}

export class HTTPError extends Error {
  /** The phase errors of this class are in unless told otherwise. */
  static readonly defaultPhase: RequestPhase | null = null;
  /** Stable machine-readable code: the class name. */
  readonly code: string;
  /** Where the request was when this happened; null when unknown or not tied to a request. */
  readonly phase: RequestPhase | null;
  /** false: the server is known not to have processed the request; null: unknown. */
  readonly processed: false | null;
  /** Re-sending the same request would meet the same error. */
  readonly permanent: boolean;
  constructor(message = '', options?: ErrorOptions) {
    super(message, options && 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = new.target.name;
    this.phase = options?.phase ?? (new.target as typeof HTTPError).defaultPhase;
    this.processed = options?.processed ?? null;
    this.permanent = options?.permanent ?? false;
  }

  /** What util.inspect (console.log, console.error) shows: no pool or connection internals. */
  [inspect.custom](_depth: number, options: object, show: typeof inspect): string {
    const shadow = new Error(this.message, 'cause' in this ? { cause: this.cause } : undefined);
    Object.defineProperty(shadow, 'name', { value: this.name, enumerable: false, writable: true });
    shadow.stack = this.stack;
    Object.setPrototypeOf(shadow, ShadowPrototypes.for(this));
    for (const key of Object.keys(this)) {
      (shadow as unknown as Record<string, unknown>)[key] = redact(
        (this as unknown as Record<string, unknown>)[key],
      );
    }
    return show(shadow, options);
  }

  /** What JSON.stringify shows: the error's own facts, references by description, the cause chain. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { name: this.name, message: this.message };
    for (const key of Object.keys(this)) {
      const v = redact((this as unknown as Record<string, unknown>)[key]);
      out[key] = v instanceof Error ? errorJson(v) : v;
    }
    if (this.cause !== undefined)
      out.cause = this.cause instanceof Error ? errorJson(this.cause) : String(this.cause);
    return out;
  }
}

/**
 * Prototypes for the shadow util.inspect renders: one per error class, so it
 * still says "ProxyError" and lists the class, without our custom inspect
 * (which would recurse).
 */
const ShadowPrototypes = {
  cache: new Map<string, object>(),
  for(err: Error): object {
    const name = err.constructor.name;
    let proto = this.cache.get(name);
    if (proto === undefined) {
      const Shadow = { [name]: class extends Error {} }[name]!;
      proto = Shadow.prototype;
      this.cache.set(name, proto);
    }
    return proto;
  },
};

function errorJson(err: Error): unknown {
  if (err instanceof HTTPError) return err.toJSON();
  return { name: err.name, message: err.message };
}

/**
 * A field of an error as it may be shown: primitives, errors and arrays of
 * them as they are; a pool or connection (anything with host and port) by its
 * description; any other object by its class name only.
 */
function redact(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map(redact);
  const v = value as { host?: unknown; port?: unknown; constructor?: { name?: string } };
  if (typeof v.host === 'string' && (typeof v.port === 'number' || v.port === null)) {
    return describePool(value as PoolLike);
  }
  const name = v.constructor?.name;
  if (name === 'Retry' || name === 'Timeout') return String(value);
  return `[${name && name !== 'Object' ? name : 'object'}]`;
}

type Outcome = { -readonly [K in 'phase' | 'processed']: HTTPError[K] };

/**
 * @internal
 * Records that `error` happened while setting up the connection (a TLS,
 * proxy or handshake failure raised below the connection layer), so Retry
 * counts it as a connect error. Errors that are not HTTPErrors pass through.
 */
export function markConnectError<E extends Error>(error: E): E {
  if (error instanceof HTTPError) (error as unknown as Outcome).phase = 'connect';
  return error;
}

/**
 * @internal
 * Records that the server is known not to have processed the request
 * behind `error`: the pool may re-send it on another connection without
 * spending a retry, whatever its method.
 */
export function markUnprocessed<E extends HTTPError>(error: E): E {
  (error as unknown as Outcome).processed = false;
  return error;
}

// ---- pools -------------------------------------------------------------

export class PoolError extends HTTPError {
  readonly pool: PoolLike | null;
  constructor(pool: PoolLike | null, message: string, options?: ErrorOptions) {
    super(pool ? `${describePool(pool)}: ${message}` : message, options);
    this.pool = pool;
  }
}

export class EmptyPoolError extends PoolError {}
export class ClosedPoolError extends PoolError {}
export class FullPoolError extends PoolError {}

export class RequestError extends PoolError {
  readonly url: string;
  constructor(pool: PoolLike | null, url: string, message: string, options?: ErrorOptions) {
    super(pool, message, options);
    this.url = url;
  }
}

export class MaxRetryError extends RequestError {
  /** The error that caused the last retry to fail (also `cause`). */
  readonly reason: Error | null;
  constructor(pool: PoolLike | null, url: string, reason: Error | null = null, options?: ErrorOptions) {
    super(
      pool,
      url,
      `Max retries exceeded with url: ${url} (Caused by ${reason ? `${reason.name}: ${reason.message}` : 'None'})`,
      { cause: options && 'cause' in options ? options.cause : (reason ?? undefined) },
    );
    this.reason = reason;
  }
}

export class HostChangedError extends RequestError {
  readonly retries: unknown;
  constructor(pool: PoolLike | null, url: string, retries: unknown = 3, options?: ErrorOptions) {
    super(pool, url, `Tried to open a foreign host with url: ${url}`, options);
    this.retries = retries;
  }
}

// ---- timeouts and connecting -------------------------------------------

export class TimeoutError extends HTTPError {}

/** Raised when a socket read times out. In urllib3 it is also a RequestError: it carries pool and url. */
export class ReadTimeoutError extends TimeoutError {
  static override readonly defaultPhase: RequestPhase | null = 'receive';
  readonly pool: PoolLike | null;
  readonly url: string;
  constructor(pool: PoolLike | null, url: string, message: string, options?: ErrorOptions) {
    super(pool ? `${describePool(pool)}: ${message}` : message, options);
    this.pool = pool;
    this.url = url;
  }
}

/**
 * urllib3's ReadTimeoutError is both a TimeoutError and a RequestError; a
 * class has one parent here, so `instanceof RequestError` also answers true
 * for a ReadTimeoutError (docs/api.md section 13). Subclasses of
 * RequestError keep the ordinary check.
 */
Object.defineProperty(RequestError, Symbol.hasInstance, {
  value: function hasInstance(this: abstract new (...args: never[]) => unknown, value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === RequestError && value instanceof ReadTimeoutError;
  },
});

/**
 * @internal A ReadTimeoutError raised below the pool names no pool or URL;
 * the pool that sent the request fills them in.
 */
export function fillRequest(err: ReadTimeoutError, pool: PoolLike, url: string): void {
  const e = err as unknown as { pool: PoolLike | null; url: string };
  if (e.pool === null) e.pool = pool;
  if (!e.url) e.url = url;
}

export class ConnectTimeoutError extends TimeoutError {
  static override readonly defaultPhase: RequestPhase | null = 'connect';
}

/** The TCP (or TLS, or proxy) connection could not be established. */
export class NewConnectionError extends ConnectTimeoutError {
  /** The connection (or a description of it) that failed. */
  readonly conn: unknown;
  constructor(conn: unknown, message: string, options?: ErrorOptions) {
    super(message, options);
    this.conn = conn;
  }
}

export class NameResolutionError extends NewConnectionError {
  readonly host: string;
  constructor(host: string, conn: unknown, reason: Error | null, options?: ErrorOptions) {
    super(conn, `Failed to resolve '${host}' (${reason ? reason.message : 'no address'})`, {
      cause: options && 'cause' in options ? options.cause : (reason ?? undefined),
    });
    this.host = host;
  }
}

// ---- protocol -----------------------------------------------------------

export class ProtocolError extends HTTPError {}

export class ResponseNotChunked extends ProtocolError {}

/**
 * A chunk-size line that is not a hexadecimal size. As in urllib3 it extends
 * HTTPError, not ProtocolError (docs/api.md section 13): given to Retry
 * directly it counts as an "other" error. Read through a response it reaches
 * the caller as a ProtocolError ("Connection broken") with this as its cause.
 */
export class InvalidChunkLength extends HTTPError {
  static override readonly defaultPhase: RequestPhase | null = 'receive';
  readonly length: string;
  constructor(length: string, message?: string, options?: ErrorOptions) {
    super(message ?? `Invalid chunk length: ${JSON.stringify(length)}`, options);
    this.length = length;
  }
}

/**
 * The body ended before its declared length. As in urllib3 it extends
 * HTTPError, not ProtocolError (docs/api.md section 13): given to Retry
 * directly it counts as an "other" error. Read through a response it reaches
 * the caller as a ProtocolError ("Connection broken") with this as its cause.
 */
export class IncompleteRead extends HTTPError {
  static override readonly defaultPhase: RequestPhase | null = 'receive';
  readonly partial: number;
  readonly expected: number | null;
  constructor(partial: number, expected: number | null, options?: ErrorOptions) {
    super(
      expected === null
        ? `IncompleteRead(${partial} bytes read, more expected)`
        : `IncompleteRead(${partial} bytes read, ${expected} more expected)`,
      options,
    );
    this.partial = partial;
    this.expected = expected;
  }
}

export class SSLError extends HTTPError {}
export class ProxyError extends HTTPError {
  readonly status: number | null;
  constructor(message: string, options?: ErrorOptions & { status?: number | null }) {
    super(message, options);
    this.status = options?.status ?? null;
  }
}
export class DecodeError extends HTTPError {}

/** A SOCKS failure: the proxy answered, but not with success. */
export class SocksError extends ProxyError {
  static override readonly defaultPhase: RequestPhase | null = 'connect';
  /** The proxy's reply code (SOCKS4 CD or SOCKS5 REP), or null for framing errors. */
  readonly replyCode: number | null;
  constructor(message: string, replyCode: number | null) {
    super(message);
    this.replyCode = replyCode;
  }
}

export class LocationValueError extends HTTPError {}
export class LocationParseError extends LocationValueError {
  readonly location: string;
  constructor(location: string, message?: string, options?: ErrorOptions) {
    super(message ?? `Failed to parse: ${location}`, options);
    this.location = location;
  }
}
export class URLSchemeUnknown extends LocationValueError {
  readonly scheme: string;
  constructor(scheme: string, options?: ErrorOptions) {
    super(`Not supported URL scheme ${scheme}`, options);
    this.scheme = scheme;
  }
}
export class ProxySchemeUnknown extends URLSchemeUnknown {
  constructor(scheme: string | null, options?: ErrorOptions) {
    super(scheme ?? 'null', options);
    this.message =
      scheme === 'localhost' || scheme === null
        ? 'Proxy URL had no scheme, should start with http:// or https://'
        : `Proxy URL had unsupported scheme ${scheme}, should use http:// or https://`;
  }
}

export class ResponseError extends HTTPError {
  static readonly GENERIC_ERROR = 'too many error responses';
  static readonly SPECIFIC_ERROR = 'too many {status_code} error responses';
}

export class InvalidHeader extends HTTPError {}
export class HeaderParsingError extends HTTPError {}
export class UnrewindableBodyError extends HTTPError {}
export class TimeoutStateError extends HTTPError {}

/** Thrown when a request was aborted through its AbortSignal (also an HTTPError). */
export class RequestAbortedError extends HTTPError {}

export function describePool(pool: PoolLike): string {
  const host = bracketHost(pool.host);
  const name = (pool as { constructor?: { name?: string } }).constructor?.name;
  const label = name && name !== 'Object' ? name : 'Pool';
  return `${label}(host='${host}', port=${pool.port ?? 'None'})`;
}

// ---- DNS (docs/api.md section 10) ---------------------------------------------

/**
 * A DNS message that cannot be decoded (or a name that cannot be encoded):
 * truncated, pointer loops, too many records, malformed record data. A
 * resolver discards such an answer; it surfaces only as the `cause` of a
 * NameResolutionError.
 */
export class DnsMessageError extends HTTPError {
  /** Byte offset in the message where decoding stopped, or -1 when encoding. */
  readonly offset: number;
  constructor(message: string, offset = -1, options?: ErrorOptions) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message, options);
    this.offset = offset;
  }
}
