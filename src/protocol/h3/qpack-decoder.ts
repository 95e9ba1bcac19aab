// QPACK field-section decoder (RFC 9204 section 4.5) for a client that
// advertises SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0: the peer's encoder may
// not use the dynamic table, so any reference to it (a non-zero Required
// Insert Count, a dynamic index, a post-base index) is the connection error
// QPACK_DECOMPRESSION_FAILED (section 2.2.3). Static references and literals,
// Huffman-coded or not, are decoded. Sans-IO: one complete section in, flat
// [name, value, ...] strings out (latin1, byte for byte, as HTTP/1.1 heads).
//
// The decoded size is bounded as RFC 9114 section 4.2.2 counts it (name +
// value + 32 per field): a larger section is the stream error
// H3_EXCESSIVE_LOAD, so one oversized response does not end the connection.

import {
  H3_EXCESSIVE_LOAD,
  H3ConnectionError,
  H3StreamError,
  QPACK_DECOMPRESSION_FAILED,
} from './error-codes.js';
import { type Cursor, readPrefixInt, readStringLiteral } from './qpack-primitives.js';
import { STATIC_TABLE } from './qpack-static-table.js';

function dynamicRef(what: string): H3ConnectionError {
  return new H3ConnectionError(
    QPACK_DECOMPRESSION_FAILED,
    `the field section uses the dynamic table (${what}), whose capacity this client set to 0`,
  );
}

function staticEntry(index: number): readonly [string, string] {
  const entry = STATIC_TABLE[index];
  if (entry === undefined) {
    throw new H3ConnectionError(QPACK_DECOMPRESSION_FAILED, `static table index ${index} does not exist`);
  }
  return entry;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/**
 * Decodes one field section. `maxSize` bounds the decoded size (RFC 9114
 * section 4.2.2); `what` names the section in messages ('Response header
 * section', 'Trailer section').
 */
export function decodeFieldSection(section: Uint8Array, maxSize: number, what = 'Field section'): string[] {
  const c: Cursor = { buf: section, pos: 0 };
  // Section prefix (section 4.5.1): Encoded Required Insert Count, then S + Delta Base.
  if (readPrefixInt(c, 8) !== 0) throw dynamicRef('a non-zero Required Insert Count');
  readPrefixInt(c, 7);
  const out: string[] = [];
  let size = 0;
  while (c.pos < section.length) {
    const first = section[c.pos] as number;
    let name: string;
    let value: string;
    if (first & 0x80) {
      // Indexed Field Line: 1 T index(6).
      if (!(first & 0x40)) throw dynamicRef('an indexed field line');
      const entry = staticEntry(readPrefixInt(c, 6));
      name = entry[0];
      value = entry[1];
    } else if (first & 0x40) {
      // Literal Field Line With Name Reference: 01 N T index(4), then the value.
      if (!(first & 0x10)) throw dynamicRef('a name reference');
      name = staticEntry(readPrefixInt(c, 4))[0];
      value = latin1(readStringLiteral(c, 7));
    } else if (first & 0x20) {
      // Literal Field Line With Literal Name: 001 N H length(3), the name, then the value.
      name = latin1(readStringLiteral(c, 3));
      value = latin1(readStringLiteral(c, 7));
    } else if (first & 0x10) {
      throw dynamicRef('a post-base index');
    } else {
      throw dynamicRef('a post-base name reference');
    }
    size += name.length + value.length + 32;
    if (size > maxSize) {
      throw new H3StreamError(
        H3_EXCESSIVE_LOAD,
        `${what} exceeds the limit of ${maxSize} bytes (maxHeaderSize)`,
      );
    }
    out.push(name, value);
  }
  return out;
}
