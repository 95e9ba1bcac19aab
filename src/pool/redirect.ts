// Pieces of the retry/redirect loop shared by pools and the PoolManager:
// what a 303 strips from the request, where a Location points, which
// targets may be followed, and spending one retry on a response (a redirect
// or a forced status) with urllib3's "raise or return it" rule.

import { defaultPort, unbracketHost } from '../authority.js';
import { LocationParseError, MaxRetryError } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import type { PoolLike } from '../errors.js';
import type { Retry } from '../policies/retry.js';
import type { HTTPResponse } from '../response.js';
import { parseUrl, type Url } from '../url.js';
import { urljoin } from '../url-join.js';

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

/** Schemes a redirect may lead to; anything else (ftp:, file:, data: ...) is refused. */
const FOLLOWABLE = new Set(['http', 'https']);

/**
 * The absolute URL a Location names, resolved against the URL of the request
 * that got it (RFC 9110 section 10.2.2: it may be relative, even
 * scheme-relative) as urllib3 resolves it: RFC 3986 reference resolution as
 * Python's `urljoin` does it, then parseUrl(), not the WHATWG URL parser (so
 * a backslash is data, "\\x" is "<dir>/%5Cx", not "/x"). A Location that
 * cannot be parsed is a LocationParseError.
 */
export function resolveLocation(location: string, base: string): string {
  try {
    return parseUrl(urljoin(base, location)).url;
  } catch (err) {
    throw new LocationParseError(
      location,
      `Failed to parse the redirect Location ${JSON.stringify(location)}`,
      {
        cause: err,
      },
    );
  }
}

/** The scheme of an absolute URL, lower-cased, without the colon. */
export function schemeOf(url: string): string {
  const colon = url.indexOf(':');
  return colon === -1 ? '' : url.slice(0, colon).toLowerCase();
}

/** Whether a redirect to `url` (absolute) may be followed: http and https only. */
export function isFollowable(url: string): boolean {
  return FOLLOWABLE.has(schemeOf(url));
}

function originOf(u: Url): string {
  const scheme = u.scheme ?? 'http';
  const host = unbracketHost((u.host ?? '').toLowerCase());
  return `${scheme}://${host}:${u.port ?? defaultPort(scheme) ?? ''}`;
}

/**
 * Whether two absolute URLs share scheme, host and port (a default port
 * written out or not): what urllib3 calls the same host when it decides to
 * drop removeHeadersOnRedirect. Compared by URL, not by pool, so a proxy's
 * one pool for every target does not make all targets look alike.
 */
export function sameOrigin(a: string, b: string): boolean {
  return originOf(parseUrl(a)) === originOf(parseUrl(b));
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
