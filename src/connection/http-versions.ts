// Which HTTP versions a connection may speak (docs/api.md section 9):
// `disabledSvn` validated once, where the option is given.

import { HttpVersion } from './connection-info.js';

const KNOWN_VERSIONS: ReadonlySet<string> = new Set(Object.values(HttpVersion));

/**
 * `disabledSvn` validated (docs/api.md section 9): disabling every version is a
 * TypeError. Leaving only HTTP/3 forces it (HTTPS only; where no QUIC
 * transport loads, connecting fails with the reason - never a silent fallback).
 */
export function checkDisabledSvn(
  value: Iterable<HttpVersion> | null | undefined,
  where: string,
): Set<HttpVersion> {
  if (value === null || value === undefined) return new Set();
  if (typeof (value as Iterable<HttpVersion>)[Symbol.iterator] !== 'function' || typeof value === 'string') {
    throw new TypeError(`${where}: disabledSvn must be a Set (or iterable) of HttpVersion values`);
  }
  const set = new Set<HttpVersion>(value);
  for (const v of set) {
    if (!KNOWN_VERSIONS.has(v)) {
      throw new TypeError(
        `${where}: disabledSvn holds ${JSON.stringify(v)}, which is not an HttpVersion ` +
          `(${[...KNOWN_VERSIONS].map((k) => JSON.stringify(k)).join(', ')})`,
      );
    }
  }
  if (set.has(HttpVersion.h11) && set.has(HttpVersion.h2) && set.has(HttpVersion.h3)) {
    throw new TypeError(`${where}: disabledSvn disables every HTTP version; leave at least one enabled`);
  }
  return set;
}

/** `disabledSvn` leaves only HTTP/3: the connection must use QUIC (docs/api.md section 9). */
export function onlyHttp3(disabled: ReadonlySet<HttpVersion>): boolean {
  return disabled.has(HttpVersion.h11) && disabled.has(HttpVersion.h2);
}
