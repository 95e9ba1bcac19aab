// application/x-www-form-urlencoded encoding, for form bodies
// (`encodeMultipart: false`) and for `fields` sent in a URL's query string.
// It matches Python's urllib.parse.urlencode, which urllib3 uses: UTF-8,
// spaces as `+`, everything but `A-Z a-z 0-9 _ . - ~` percent-encoded.
//
// Only plain values (strings, numbers, bytes) can be urlencoded: file tuples
// and RequestFields need a multipart body and are rejected with a TypeError.

import { type Fields, RequestField, typeName } from './fields.js';

// For each byte, what it becomes in the output; built once.
const ENCODED: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const ch = String.fromCharCode(byte);
  if (/[A-Za-z0-9_.\-~]/.test(ch)) return ch;
  if (byte === 0x20) return '+';
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
});

const PLAIN = /^[A-Za-z0-9_.\-~]*$/;

function quotePlus(value: string | Uint8Array): string {
  if (typeof value === 'string' && PLAIN.test(value)) return value;
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += ENCODED[bytes[i]!];
  return out;
}

function encodeValue(name: string, value: unknown): string {
  if (typeof value === 'string' || value instanceof Uint8Array) return quotePlus(value);
  if (typeof value === 'number' || typeof value === 'bigint') return quotePlus(String(value));
  if (Array.isArray(value) || value instanceof RequestField) {
    throw new TypeError(
      `field '${name}': file tuples and RequestFields can only be sent in a multipart/form-data body, ` +
        'not in a query string or an urlencoded form',
    );
  }
  throw new TypeError(
    `field '${name}': value must be a string, a number or a Uint8Array, got ${typeName(value)}`,
  );
}

/**
 * `name=value&name=value` for `fields` (a record, or an array or other
 * iterable of `[name, value]` pairs, in order). An empty input gives ''.
 */
export function encodeUrlencoded(fields: Fields): string {
  if (fields === null || typeof fields !== 'object') {
    throw new TypeError(
      `fields must be a record or an array of [name, value] pairs, got ${typeName(fields)}`,
    );
  }
  const entries: Iterable<unknown> =
    typeof (fields as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
      ? (fields as Iterable<unknown>)
      : Object.entries(fields);
  const parts: string[] = [];
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') {
      const hint = entry instanceof RequestField ? ' (RequestFields need a multipart/form-data body)' : '';
      throw new TypeError(`each field must be a [name, value] pair, got ${typeName(entry)}${hint}`);
    }
    const [name, value] = entry as [string, unknown];
    parts.push(`${quotePlus(name)}=${encodeValue(name, value)}`);
  }
  return parts.join('&');
}

/**
 * `url` with `fields` added to its query: after `?` when it has no query yet,
 * after `&` when it has one (nothing extra when it already ends in `?` or `&`),
 * and always before a `#fragment`. No fields: `url` unchanged.
 */
export function appendQuery(url: string, fields: Fields): string {
  const encoded = encodeUrlencoded(fields);
  if (encoded === '') return url;
  const hash = url.indexOf('#');
  const base = hash === -1 ? url : url.slice(0, hash);
  const fragment = hash === -1 ? '' : url.slice(hash);
  let sep: string;
  if (!base.includes('?')) sep = '?';
  else if (base.endsWith('?') || base.endsWith('&')) sep = '';
  else sep = '&';
  return `${base}${sep}${encoded}${fragment}`;
}
