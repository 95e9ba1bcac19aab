// The header list a request goes out with, as urllib3 v2's
// HTTPConnection.request builds it (docs/api.md section 4): protocol-neutral,
// HTTP/2 maps it to pseudo-headers afterwards.

import type { PreparedBody } from '../body/request-body.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import { DEFAULT_USER_AGENT, SKIP_HEADER, SKIPPABLE_HEADERS } from '../request-headers.js';

/** Methods that carry no body by default, so no Content-Length: 0 is sent (as urllib3). */
const METHODS_NOT_EXPECTING_BODY = new Set(['GET', 'HEAD', 'DELETE', 'TRACE', 'OPTIONS', 'CONNECT']);

export interface BuiltHeaders {
  pairs: string[];
  chunked: boolean;
}

/**
 * The header list a request goes out with, following urllib3 v2's
 * HTTPConnection.request: Host and Accept-Encoding: identity unless given (or
 * skipped with SKIP_HEADER), framing (Content-Length when the body length is
 * known, else chunked), the default User-Agent, then the caller's headers.
 */
export function buildRequestHeaders(
  method: string,
  headers: HeadersInit | null,
  body: PreparedBody | null,
  chunkedOption: boolean | undefined,
  hostHeader: string,
): BuiltHeaders {
  const user: string[] = [];
  let hasHost = false;
  let hasAcceptEncoding = false;
  let hasUserAgent = false;
  let hasContentLength = false;
  let hasTransferEncoding = false;
  const take = (name: string, value: unknown) => {
    const lower = name.toLowerCase();
    switch (lower) {
      case 'host':
        hasHost = true;
        break;
      case 'accept-encoding':
        hasAcceptEncoding = true;
        break;
      case 'user-agent':
        hasUserAgent = true;
        break;
      case 'content-length':
        hasContentLength = true;
        break;
      case 'transfer-encoding':
        hasTransferEncoding = true;
        break;
    }
    if (value === SKIP_HEADER) {
      if (!SKIPPABLE_HEADERS.has(lower)) {
        throw new TypeError(`SKIP_HEADER only supports ${[...SKIPPABLE_HEADERS].join(', ')} (got '${name}')`);
      }
      return;
    }
    user.push(name, typeof value === 'string' ? value : String(value));
  };
  if (headers !== null) {
    if (headers instanceof HTTPHeaderDict) {
      const flat = headers.toFlatPairs();
      for (let i = 0; i < flat.length; i += 2) take(flat[i]!, flat[i + 1]);
    } else if (headers instanceof Map) {
      for (const [k, v] of headers) take(k, v);
    } else if (Array.isArray(headers)) {
      for (const pair of headers as Array<readonly [string, string]>) take(pair[0], pair[1]);
    } else if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
      for (const pair of headers as Iterable<readonly [string, string]>) take(pair[0], pair[1]);
    } else {
      const rec = headers as Record<string, string | number | readonly string[]>;
      for (const k in rec) {
        const v = rec[k];
        if (Array.isArray(v)) for (const item of v) take(k, item);
        else if (v !== undefined) take(k, v);
      }
    }
  }
  const pairs: string[] = [];
  if (!hasHost) pairs.push('Host', hostHeader);
  if (!hasAcceptEncoding) pairs.push('Accept-Encoding', 'identity');
  let chunked = chunkedOption === true;
  if (chunked) {
    if (!hasTransferEncoding) pairs.push('Transfer-Encoding', 'chunked');
  } else if (hasContentLength) {
    chunked = false;
  } else if (hasTransferEncoding) {
    chunked = true;
  } else if (body === null) {
    if (!METHODS_NOT_EXPECTING_BODY.has(method)) pairs.push('Content-Length', '0');
  } else if (body.length === null) {
    chunked = true;
    pairs.push('Transfer-Encoding', 'chunked');
  } else {
    pairs.push('Content-Length', String(body.length));
  }
  if (!hasUserAgent) pairs.push('User-Agent', DEFAULT_USER_AGENT);
  for (let i = 0; i < user.length; i++) pairs.push(user[i]!);
  return { pairs, chunked };
}
