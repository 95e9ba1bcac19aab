// The limits a long-running client puts on what a server may send back
// (docs/api.md section 4, "Response limits"): how many header fields, how
// many interim (1xx) responses before the final one, and optionally how
// large a decoded body may grow. Each is a connection option with a default;
// a response over a limit is a ProtocolError that says which limit and how to
// raise it, and the connection is closed.

import { ProtocolError } from '../errors.js';

/** urllib3 (through http.client) refuses a head with more than 100 fields. */
export const DEFAULT_MAX_HEADER_FIELDS = 100;
/** Far more than any real server sends (a 100 Continue, a few 103 Early Hints). */
export const DEFAULT_MAX_INTERIM_RESPONSES = 50;

export interface ResponseLimits {
  /** Most header fields in one response head, and in one trailer section. */
  readonly maxHeaderFields: number;
  /** Most interim (1xx) responses to one request. */
  readonly maxInterimResponses: number;
  /** Largest decoded body in bytes; null: no limit. */
  readonly maxResponseSize: number | null;
}

export const DEFAULT_LIMITS: ResponseLimits = Object.freeze({
  maxHeaderFields: DEFAULT_MAX_HEADER_FIELDS,
  maxInterimResponses: DEFAULT_MAX_INTERIM_RESPONSES,
  maxResponseSize: null,
});

function positiveInteger(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** The limits from connection options, validated; the defaults where not given. */
export function responseLimits(o: {
  maxHeaderFields?: number;
  maxInterimResponses?: number;
  maxResponseSize?: number | null;
}): ResponseLimits {
  if (o.maxHeaderFields === undefined && o.maxInterimResponses === undefined && o.maxResponseSize == null) {
    return DEFAULT_LIMITS;
  }
  return Object.freeze({
    maxHeaderFields:
      o.maxHeaderFields === undefined
        ? DEFAULT_MAX_HEADER_FIELDS
        : positiveInteger('maxHeaderFields', o.maxHeaderFields),
    maxInterimResponses:
      o.maxInterimResponses === undefined
        ? DEFAULT_MAX_INTERIM_RESPONSES
        : positiveInteger('maxInterimResponses', o.maxInterimResponses),
    maxResponseSize: o.maxResponseSize == null ? null : positiveInteger('maxResponseSize', o.maxResponseSize),
  });
}

/** The error for a body past `maxResponseSize`: permanent, as the same request would get the same body. */
export function responseTooLarge(url: string, max: number, decoded: boolean): ProtocolError {
  return new ProtocolError(
    `the response body from ${url || '(built by hand)'} is larger than maxResponseSize (${max} bytes` +
      `${decoded ? ' decoded' : ''}); the connection is closed`,
    { permanent: true },
  );
}
