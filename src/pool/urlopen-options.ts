// The options of urlopen() (docs/api.md section 1, "Request options"), shared by
// pools and managers: their types, the list of accepted keys, and the
// fixed-shape objects the request layers hand them on in.

import type { UploadProgress } from '../connection/session.js';
import type { ConnectionInfo } from '../connection/connection-info.js';
import type { HeadersInit } from '../headers.js';
import { CheckedOptions, optionSet } from '../options.js';
import type { Retry } from '../policies/retry.js';
import type { Timeout } from '../policies/timeout.js';
import type { HTTPResponse } from '../response.js';

export interface UrlopenOptions {
  body?: unknown;
  headers?: HeadersInit | null;
  retries?: Retry | number | boolean | null;
  redirect?: boolean;
  assertSameHost?: boolean;
  timeout?: number | Timeout | null;
  poolTimeout?: number | null;
  releaseConn?: boolean | null;
  chunked?: boolean;
  bodyPos?: number | null;
  preloadContent?: boolean;
  decodeContent?: boolean;
  enforceContentLength?: boolean;
  signal?: AbortSignal | null;
  multiplexed?: boolean;
  onPostConnection?: ((info: ConnectionInfo) => void) | null;
  onUploadBody?: UploadProgress | null;
  onEarlyResponse?: ((early: HTTPResponse) => void) | null;
}

export const URLOPEN_OPTION_NAMES = [
  'body',
  'headers',
  'retries',
  'redirect',
  'assertSameHost',
  'timeout',
  'poolTimeout',
  'releaseConn',
  'chunked',
  'bodyPos',
  'preloadContent',
  'decodeContent',
  'enforceContentLength',
  'signal',
  'multiplexed',
  'onPostConnection',
  'onUploadBody',
  'onEarlyResponse',
];

export const URLOPEN_OPTIONS = optionSet(...URLOPEN_OPTION_NAMES);
/** What requestEncodeBody() accepts: the urlopen options and how to encode `fields`. */
export const ENCODE_BODY_OPTIONS = optionSet(...URLOPEN_OPTION_NAMES, 'encodeMultipart', 'multipartBoundary');
export const REQUEST_OPTIONS = optionSet(
  ...URLOPEN_OPTION_NAMES,
  'fields',
  'json',
  'encodeMultipart',
  'multipartBoundary',
);

/**
 * @internal The urlopen options as the request layers hand them on (request()
 * to urlopen(), the PoolManager to its pool): every key present, in one fixed
 * order, undefined where absent. One shape for every combination of the
 * caller's keys keeps the property reads downstream monomorphic, which a
 * `{ ...options }` copy (one shape per combination of keys) does not. Only
 * built from options that were checked, so checkOptions() passes it as it is.
 */
export class UrlopenArgs extends CheckedOptions implements UrlopenOptions {
  body: unknown = undefined;
  headers: HeadersInit | null | undefined = undefined;
  retries: Retry | number | boolean | null | undefined = undefined;
  redirect: boolean | undefined = undefined;
  assertSameHost: boolean | undefined = undefined;
  timeout: number | Timeout | null | undefined = undefined;
  poolTimeout: number | null | undefined = undefined;
  releaseConn: boolean | null | undefined = undefined;
  chunked: boolean | undefined = undefined;
  bodyPos: number | null | undefined = undefined;
  preloadContent: boolean | undefined = undefined;
  decodeContent: boolean | undefined = undefined;
  enforceContentLength: boolean | undefined = undefined;
  signal: AbortSignal | null | undefined = undefined;
  multiplexed: boolean | undefined = undefined;
  onPostConnection: ((info: ConnectionInfo) => void) | null | undefined = undefined;
  onUploadBody: UploadProgress | null | undefined = undefined;
  onEarlyResponse: ((early: HTTPResponse) => void) | null | undefined = undefined;
}

/** @internal UrlopenArgs plus the body-encoding options of requestEncodeBody(). */
export class EncodeBodyArgs extends UrlopenArgs {
  encodeMultipart: boolean | undefined = undefined;
  multipartBoundary: string | null | undefined = undefined;
}

/**
 * @internal Copies every urlopen option of `from` into `to` (which a checked
 * `from` has, by name; anything else in it is left behind) and returns `to`.
 */
export function copyUrlopenOptions<T extends UrlopenArgs>(to: T, from: UrlopenOptions): T {
  to.body = from.body;
  to.headers = from.headers;
  to.retries = from.retries;
  to.redirect = from.redirect;
  to.assertSameHost = from.assertSameHost;
  to.timeout = from.timeout;
  to.poolTimeout = from.poolTimeout;
  to.releaseConn = from.releaseConn;
  to.chunked = from.chunked;
  to.bodyPos = from.bodyPos;
  to.preloadContent = from.preloadContent;
  to.decodeContent = from.decodeContent;
  to.enforceContentLength = from.enforceContentLength;
  to.signal = from.signal;
  to.multiplexed = from.multiplexed;
  to.onPostConnection = from.onPostConnection;
  to.onUploadBody = from.onUploadBody;
  to.onEarlyResponse = from.onEarlyResponse;
  return to;
}
