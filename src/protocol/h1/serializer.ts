// Sans-IO HTTP/1.1 request serializer: validates and renders a request head
// (RFC 9112 section 3 request-line, section 5 field lines) and provides the
// chunked framing pieces for request bodies (RFC 9112 section 7.1).
//
// It does not decide which headers a request needs (Host, Content-Length,
// Transfer-Encoding, User-Agent): the connection layer does, then hands the
// final list here. Validation exists to stop header and request-line
// injection: anything that would let a caller's string end a line early, or be
// mangled when written as latin1, is refused before a byte is written.

import { InvalidHeader } from '../../errors.js';

// RFC 9110 section 5.6.2 tchar, indexed by char code (codes > 0xFF are never tokens).
const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

// Request-target bytes: visible ASCII and obs-text; no SP, controls or DEL,
// which would split or corrupt the request line.
const TARGET = new Uint8Array(256);
for (let c = 0x21; c <= 0x7e; c++) TARGET[c] = 1;
for (let c = 0x80; c <= 0xff; c++) TARGET[c] = 1;

export const CRLF: Buffer = Buffer.from('\r\n', 'latin1');
/** last-chunk plus the empty line ending an (empty) trailer section. */
export const LAST_CHUNK: Buffer = Buffer.from('0\r\n\r\n', 'latin1');

function isToken(s: string): boolean {
  const n = s.length;
  if (n === 0) return false;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Whether `method` is an RFC 9110 token (and so safe on the request line). */
export function isValidMethod(method: string): boolean {
  return typeof method === 'string' && isToken(method);
}

/** Throws InvalidHeader (naming the header) unless `name` is a token. */
export function validateHeaderName(name: string): void {
  if (typeof name !== 'string' || !isToken(name)) {
    throw new InvalidHeader(`Invalid header name ${JSON.stringify(String(name))}: must be an RFC 9110 token`);
  }
}

/**
 * Throws InvalidHeader on CR, LF or NUL (injection), or on a character above
 * U+00FF (it cannot be written as latin1 without being mangled). The message
 * names the header but never echoes the value.
 */
export function validateHeaderValue(name: string, value: string): void {
  if (typeof value !== 'string') {
    throw new InvalidHeader(
      `Header ${JSON.stringify(String(name))} has a non-string value (${typeof value})`,
    );
  }
  for (let i = 0, n = value.length; i < n; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x0d || c === 0x0a || c === 0) {
      throw new InvalidHeader(`Invalid header value for ${JSON.stringify(name)}: contains CR, LF or NUL`);
    }
    if (c > 0xff) {
      throw new InvalidHeader(
        `Invalid header value for ${JSON.stringify(name)}: contains a character outside latin1 (U+0000-U+00FF)`,
      );
    }
  }
}

function validateTarget(target: string): void {
  if (typeof target !== 'string' || target.length === 0) {
    throw new TypeError('Request target must be a non-empty string');
  }
  for (let i = 0, n = target.length; i < n; i++) {
    const c = target.charCodeAt(i);
    if (c > 0xff || TARGET[c] === 0) {
      throw new TypeError(
        `Invalid request target ${JSON.stringify(target)}: contains whitespace, a control character or a character outside latin1`,
      );
    }
  }
}

/**
 * Validate and render a request head: the request line, one `name: value`
 * line per pair of `headers` (flat [name, value, ...]) and the empty line.
 * The result only holds chars <= 0xFF; write it with the 'latin1' encoding.
 */
export function serializeRequestHead(method: string, target: string, headers: readonly string[]): string {
  if (!isValidMethod(method)) {
    throw new TypeError(`Invalid HTTP method ${JSON.stringify(String(method))}: must be an RFC 9110 token`);
  }
  validateTarget(target);
  const n = headers.length;
  if (n % 2 !== 0) throw new TypeError('headers must be a flat array of [name, value] pairs (even length)');
  let out = method + ' ' + target + ' HTTP/1.1\r\n';
  for (let i = 0; i < n; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    validateHeaderName(name);
    validateHeaderValue(name, value);
    out += name + ': ' + value + '\r\n';
  }
  return out + '\r\n';
}

/**
 * The chunk-size line for a chunk of `length` bytes (e.g. "1f\r\n"). Zero is
 * refused: a zero-size chunk is the last-chunk and would end the body early;
 * skip empty chunks and finish with LAST_CHUNK.
 */
export function chunkHeader(length: number): string {
  if (!Number.isSafeInteger(length) || length <= 0) {
    throw new RangeError(
      `Chunk length must be a positive integer, got ${String(length)} (skip empty chunks; end with LAST_CHUNK)`,
    );
  }
  return length.toString(16) + '\r\n';
}
