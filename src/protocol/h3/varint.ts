// QUIC variable-length integers (RFC 9000 section 16), as HTTP/3 frames and
// stream types use them (RFC 9114 section 7.1): the two high bits of the first
// byte give the length (1, 2, 4 or 8 bytes), the rest is the value in network
// byte order. Sans-IO: plain functions over Buffers.
//
// Values are JavaScript numbers. An 8-byte varint can carry up to 2^62 - 1,
// past Number.MAX_SAFE_INTEGER; such values are read rounded, which is harmless
// for the only places they can appear (reserved frame and stream types, which
// are skipped, and lengths, which every caller bounds long before 2^53).

/** The largest value a varint carries: 2^62 - 1. */
export const VARINT_MAX = 2 ** 62 - 1;

/** How many bytes `value` takes as a varint. */
export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** The number of bytes of the varint whose first byte is `first`. */
export function varintLengthOf(first: number): 1 | 2 | 4 | 8 {
  return (1 << (first >> 6)) as 1 | 2 | 4 | 8;
}

/** Writes `value` at `offset`; returns the offset after it. */
export function writeVarint(buf: Buffer, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > VARINT_MAX) {
    throw new RangeError(`QUIC varint out of range: ${value}`);
  }
  if (value < 0x40) {
    buf[offset] = value;
    return offset + 1;
  }
  if (value < 0x4000) {
    buf.writeUInt16BE(0x4000 | value, offset);
    return offset + 2;
  }
  if (value < 0x40000000) {
    buf.writeUInt32BE((0x80000000 | value) >>> 0, offset);
    return offset + 4;
  }
  const hi = Math.floor(value / 2 ** 32);
  buf.writeUInt32BE((0xc0000000 | hi) >>> 0, offset);
  buf.writeUInt32BE(value - hi * 2 ** 32, offset + 4);
  return offset + 8;
}

/** `value` as a varint of its shortest length. */
export function encodeVarint(value: number): Buffer {
  const buf = Buffer.allocUnsafe(varintLength(value));
  writeVarint(buf, 0, value);
  return buf;
}

/**
 * Reads the varint at `offset`. Returns its value, or -1 when `buf` ends
 * before the varint does (the caller waits for more bytes).
 */
export function readVarint(buf: Uint8Array, offset: number): number {
  if (offset >= buf.length) return -1;
  const first = buf[offset] as number;
  const len = varintLengthOf(first);
  if (offset + len > buf.length) return -1;
  let value = first & 0x3f;
  for (let i = 1; i < len; i++) value = value * 256 + (buf[offset + i] as number);
  return value;
}
