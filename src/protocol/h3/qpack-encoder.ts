// QPACK field-section encoder (RFC 9204 section 4.5) with the static table
// and literals only: it never inserts into the dynamic table, so it needs no
// encoder stream and never blocks a stream. The section prefix is therefore
// always Required Insert Count 0, Delta Base 0. Strings go out as plain
// literals (no Huffman): smaller code, and request heads are small.
//
// Field lines, per field (section 4.5.2 to 4.5.6):
//   exact static match     -> Indexed Field Line               1 T=1 index(6)
//   static name match      -> Literal With Name Reference      01 N=0 T=1 index(4), value
//   anything else          -> Literal With Literal Name        001 N=0 H=0 length(3) name, value
//
// Names must already be lower case (RFC 9114 section 4.2) and values valid
// field values: the connection layer checks both. Strings are written as
// latin1, as the HTTP/1.1 serializer does.

import { STATIC_EXACT, STATIC_NAME } from './qpack-static-table.js';

/** Upper bound on the bytes a prefixed integer of `value` takes. */
function intRoom(value: number): number {
  return 1 + Math.ceil(Math.log2(value + 2) / 7) + 1;
}

function writeInt(buf: Buffer, pos: number, flags: number, prefixBits: number, value: number): number {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    buf[pos] = flags | value;
    return pos + 1;
  }
  buf[pos++] = flags | max;
  let rest = value - max;
  while (rest >= 128) {
    buf[pos++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  buf[pos] = rest;
  return pos + 1;
}

/**
 * Encodes a field section from flat [name, value, ...] pairs (pseudo-header
 * fields first, as RFC 9114 section 4.3 requires of the caller).
 */
export function encodeFieldSection(fields: readonly string[]): Buffer {
  let room = 2;
  for (let i = 0; i < fields.length; i++) {
    const s = fields[i]!;
    room += s.length + intRoom(s.length);
  }
  const buf = Buffer.allocUnsafe(room);
  // Section prefix: Required Insert Count 0, then S=0 and Delta Base 0.
  buf[0] = 0;
  buf[1] = 0;
  let pos = 2;
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]!;
    const value = fields[i + 1]!;
    const exact = STATIC_EXACT.get(`${name}\0${value}`);
    if (exact !== undefined) {
      pos = writeInt(buf, pos, 0xc0, 6, exact);
      continue;
    }
    const named = STATIC_NAME.get(name);
    if (named !== undefined) {
      pos = writeInt(buf, pos, 0x50, 4, named);
    } else {
      pos = writeInt(buf, pos, 0x20, 3, name.length);
      pos += buf.write(name, pos, 'latin1');
    }
    pos = writeInt(buf, pos, 0x00, 7, value.length);
    pos += buf.write(value, pos, 'latin1');
  }
  return buf.subarray(0, pos);
}
