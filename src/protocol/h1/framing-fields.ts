// The values of the three header fields that decide how an HTTP/1.1
// response is framed and whether its connection can be reused:
// Content-Length (RFC 9112 section 6.3 rule 5, RFC 9110 section 8.6),
// Transfer-Encoding (RFC 9112 section 6.3 rule 4) and Connection (RFC 9110
// section 7.6.1). Pure functions of one field value, called by the parser
// once per such field line; they allocate nothing on the usual spellings.

import { ProtocolError } from '../../errors.js';

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;

/**
 * A Content-Length field value: digits only; a list or repetition of one
 * identical value counts as that value, anything else is an error rather
 * than a guess. `current` is the length earlier field lines gave (null when
 * none); the result is the length of the message.
 */
export function parseContentLength(value: string, current: number | null): number {
  const n = value.length;
  let i = 0;
  let result = current;
  do {
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    const digitsStart = i;
    let v = 0;
    for (; i < n; i++) {
      const d = value.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
      if (v > Number.MAX_SAFE_INTEGER) {
        throw new ProtocolError(`Content-Length too large: ${JSON.stringify(value)}`);
      }
    }
    if (i === digitsStart) throw new ProtocolError(`Invalid Content-Length: ${JSON.stringify(value)}`);
    while (i < n && (value.charCodeAt(i) === SP || value.charCodeAt(i) === HTAB)) i++;
    if (i < n && value.charCodeAt(i) !== COMMA) {
      throw new ProtocolError(`Invalid Content-Length: ${JSON.stringify(value)}`);
    }
    if (result !== null && result !== v) {
      throw new ProtocolError(`Conflicting Content-Length values: ${result} and ${v}`);
    }
    result = v;
    i++; // past the comma (or end)
  } while (i <= n);
  return result;
}

/**
 * Whether the last coding a Transfer-Encoding field value lists is
 * `chunked` (only a final chunked coding frames the body); null when the
 * value lists no coding at all, so an earlier field line keeps deciding.
 */
export function lastCodingIsChunked(value: string): boolean | null {
  if (value.length === 7) return value.toLowerCase() === 'chunked';
  const codings = value.split(',');
  for (let k = codings.length - 1; k >= 0; k--) {
    const coding = codings[k]!.trim();
    if (coding !== '') return coding.toLowerCase() === 'chunked';
  }
  return null;
}

/** Bits of connectionOptions(). */
export const CONNECTION_CLOSE = 1;
export const CONNECTION_KEEP_ALIVE = 2;

/** The reuse options a Connection field value names: CONNECTION_CLOSE and/or CONNECTION_KEEP_ALIVE. */
export function connectionOptions(value: string): number {
  if (value === 'keep-alive') return CONNECTION_KEEP_ALIVE;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive') return CONNECTION_KEEP_ALIVE;
  if (lower === 'close') return CONNECTION_CLOSE;
  if (!lower.includes(',')) return 0;
  let found = 0;
  for (const option of lower.split(',')) {
    const o = option.trim();
    if (o === 'close') found |= CONNECTION_CLOSE;
    else if (o === 'keep-alive') found |= CONNECTION_KEEP_ALIVE;
  }
  return found;
}
