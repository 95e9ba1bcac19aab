// What an HTTPResponse is built from: by a protocol exchange (ResponseInit:
// the parsed head and the feeder of its body) or by hand around a body, as
// urllib3 users build test doubles (HTTPResponseOptions); and the per-call
// options of its reads.

import type { ConnectionInfo } from './connection/connection-info.js';
import type { HeadersInit, HTTPHeaderDict } from './headers.js';
import type { Retry } from './policies/retry.js';
import type { BodyChunk } from './response-body-feed.js';
import type { ResponseFeeder } from './response-feeder.js';

export interface ResponseInit {
  status: number;
  reason: string;
  version: 10 | 11 | 20 | 30;
  headers: HTTPHeaderDict;
  requestMethod: string;
  requestUrl: string;
  preloadContent: boolean;
  decodeContent: boolean;
  feeder: ResponseFeeder | null;
  connectionInfo: ConnectionInfo | null;
  /** True when the message has no body at all (HEAD, 204, 304, 1xx). */
  noBody: boolean;
}

/**
 * A response built by hand around a body, as urllib3 users build
 * `HTTPResponse(body=..., status=..., headers=...)` for test doubles
 * (docs/api.md section 2). Defaults follow urllib3: status 0, preloaded and
 * decoded content.
 */
export interface HTTPResponseOptions {
  /** Bytes or text (UTF-8), or an iterable / async iterable of chunks (a Node Readable) with `preloadContent: false`. */
  body?: string | Uint8Array | Iterable<BodyChunk> | AsyncIterable<BodyChunk> | null;
  status?: number;
  reason?: string;
  version?: 10 | 11 | 20 | 30;
  headers?: HeadersInit;
  preloadContent?: boolean;
  decodeContent?: boolean;
  requestMethod?: string;
  requestUrl?: string;
  retries?: Retry | null;
}

export interface ReadOptions {
  decodeContent?: boolean;
  cacheContent?: boolean;
}
