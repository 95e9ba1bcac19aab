// The two primitives of QPACK field lines, shared with HPACK (RFC 9204
// section 4.1, RFC 7541 sections 5.1 and 5.2): integers with an N-bit prefix
// and string literals with a Huffman flag. Sans-IO over whole buffers: a
// field section arrives complete in one HEADERS frame, so there is no
// partial-input state here; running out of bytes is a malformed section.

import { QPACK_DECOMPRESSION_FAILED, H3ConnectionError } from './error-codes.js';
import { huffmanDecode } from './huffman.js';

/** A read position over one field section. */
export interface Cursor {
  buf: Uint8Array;
  pos: number;
}

function truncated(): H3ConnectionError {
  return new H3ConnectionError(QPACK_DECOMPRESSION_FAILED, 'the field section ends inside a field line');
}

/** Reads an integer with an N-bit prefix (RFC 7541 section 5.1) starting at the cursor's byte. */
export function readPrefixInt(c: Cursor, prefixBits: number): number {
  if (c.pos >= c.buf.length) throw truncated();
  const max = (1 << prefixBits) - 1;
  let value = (c.buf[c.pos++] as number) & max;
  if (value < max) return value;
  let scale = 1;
  for (;;) {
    if (c.pos >= c.buf.length) throw truncated();
    const b = c.buf[c.pos++] as number;
    value += (b & 0x7f) * scale;
    scale *= 128;
    // 2^53 is far above any length or index a field section can hold.
    if (scale > 2 ** 49) {
      throw new H3ConnectionError(QPACK_DECOMPRESSION_FAILED, 'an integer in the field section is too large');
    }
    if ((b & 0x80) === 0) return value;
  }
}

/**
 * Reads a string literal whose Huffman flag is bit `prefixBits` of the first
 * byte and whose length has a `prefixBits`-bit prefix (RFC 9204 section 4.1.2).
 * Returns the raw octets.
 */
export function readStringLiteral(c: Cursor, prefixBits: number): Uint8Array {
  if (c.pos >= c.buf.length) throw truncated();
  const huffman = ((c.buf[c.pos] as number) & (1 << prefixBits)) !== 0;
  const len = readPrefixInt(c, prefixBits);
  if (c.pos + len > c.buf.length) throw truncated();
  const raw = c.buf.subarray(c.pos, c.pos + len);
  c.pos += len;
  if (!huffman) return raw;
  try {
    return huffmanDecode(raw);
  } catch (e) {
    throw new H3ConnectionError(QPACK_DECOMPRESSION_FAILED, (e as Error).message, { cause: e });
  }
}

/** Appends an integer with an N-bit prefix, OR-ing `flags` into the first byte. */
export function pushPrefixInt(out: number[], flags: number, prefixBits: number, value: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}
