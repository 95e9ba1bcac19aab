// Which HTTP versions a connection may speak (docs/api.md section 9):
// `disabledSvn` validated once, where the option is given.

import { HttpVersion } from './connection-info.js';

const KNOWN_VERSIONS: ReadonlySet<string> = new Set(Object.values(HttpVersion));

/**
 * `disabledSvn` validated (docs/api.md section 9): disabling every version is a
 * TypeError, and so is leaving only HTTP/3, which needs a QUIC transport
 * this build does not have - never a silent fallback.
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
  if (set.has(HttpVersion.h11) && set.has(HttpVersion.h2)) {
    if (set.has(HttpVersion.h3)) {
      throw new TypeError(`${where}: disabledSvn disables every HTTP version; leave at least one enabled`);
    }
    throw new TypeError(
      `${where}: disabledSvn leaves only HTTP/3, which needs a QUIC transport this build does not have; ` +
        'enable HTTP/1.1 or HTTP/2',
    );
  }
  return set;
}
