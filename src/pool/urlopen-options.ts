// The options of urlopen() (API.md section 1, "Request options"), shared by
// pools and managers. Only types and the list of accepted keys live here.

import type { UploadProgress } from '../connection/h1-session.js';
import type { ConnectionInfo } from '../connection/connection-info.js';
import type { HeadersInit } from '../headers.js';
import { optionSet } from '../options.js';
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
export const REQUEST_OPTIONS = optionSet(
  ...URLOPEN_OPTION_NAMES,
  'fields',
  'json',
  'encodeMultipart',
  'multipartBoundary',
);
