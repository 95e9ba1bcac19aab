// The request fields HTTP/2 and HTTP/3 send (RFC 9113 section 8.2.2, RFC 9114
// section 4.2): our flat header list validated, names lower-cased, the
// connection-specific fields dropped (they mean nothing on a multiplexed
// connection), TE kept only as "trailers", and Host set aside to become
// :authority. Pure; each protocol adds its pseudo-header fields.

import { validateHeaderName, validateHeaderValue } from '../protocol/h1/serializer.js';

const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/**
 * Calls `field` for each field that goes on the wire (lower-cased name) and
 * returns the first Host value, or null.
 */
export function eachRequestField(
  pairs: readonly string[],
  field: (name: string, value: string) => void,
): string | null {
  let host: string | null = null;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    const value = pairs[i + 1]!;
    validateHeaderName(name);
    validateHeaderValue(name, value);
    const lower = name.toLowerCase();
    if (lower === 'host') {
      host ??= value;
      continue;
    }
    if (CONNECTION_SPECIFIC.has(lower)) continue;
    if (lower === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
    field(lower, value);
  }
  return host;
}
