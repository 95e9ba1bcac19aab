// Pieces of the retry/redirect loop shared by pools and the PoolManager:
// what a 303 strips from the request, and spending one retry on a response
// (a redirect or a forced status) with urllib3's "raise or return it" rule.

import { MaxRetryError } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import type { PoolLike } from '../errors.js';
import type { Retry } from '../policies/retry.js';
import type { HTTPResponse } from '../response.js';

/** Headers that describe a body, dropped when a 303 turns the request into a GET (as urllib3). */
const BODY_HEADERS = [
  'Content-Encoding',
  'Content-Language',
  'Content-Location',
  'Content-Type',
  'Content-Length',
  'Digest',
  'Last-Modified',
  'Transfer-Encoding',
];

export function withoutBodyHeaders(headers: HeadersInit | null): HTTPHeaderDict {
  const h = new HTTPHeaderDict(headers ?? {});
  for (const name of BODY_HEADERS) h.delete(name);
  return h;
}

/**
 * Spend a retry on `response`. Returns the next Retry, or null when the
 * budget is spent and the caller should return the response as it is
 * (raiseOnRedirect / raiseOnStatus false); throws MaxRetryError (after
 * draining the response so its connection is reused) when it should raise.
 */
export async function spendOnResponse(
  retries: Retry,
  args: { method: string; url: string; response: HTTPResponse; pool: PoolLike },
  kind: 'redirect' | 'status',
): Promise<Retry | null> {
  try {
    return retries.increment(args);
  } catch (err) {
    if (!(err instanceof MaxRetryError)) throw err;
    if (kind === 'redirect' ? retries.raiseOnRedirect : retries.raiseOnStatus) {
      await args.response.drainConn();
      throw err;
    }
    return null;
  }
}
