// QUIC variable-length integers (RFC 9000 section 16), with the examples of
// RFC 9000 Appendix A.1.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  encodeVarint,
  readVarint,
  VARINT_MAX,
  varintLength,
  writeVarint,
} from '../../../../src/protocol/h3/varint.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

describe('QUIC varints', () => {
  test('the examples of RFC 9000 Appendix A.1 decode to their values', () => {
    // 151288809941952652 is above 2^53: it reads as the nearest double.
    assert.equal(BigInt(readVarint(hex('c2197c5eff14e88c'), 0)), 151288809941952640n);
    assert.equal(readVarint(hex('9d7f3e7d'), 0), 494878333);
    assert.equal(readVarint(hex('7bbd'), 0), 15293);
    assert.equal(readVarint(hex('25'), 0), 37);
    assert.equal(readVarint(hex('4025'), 0), 37);
  });

  test('values encode to the shortest form and read back', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [37, '25'],
      [63, '3f'],
      [64, '4040'],
      [15293, '7bbd'],
      [16383, '7fff'],
      [16384, '80004000'],
      [494878333, '9d7f3e7d'],
      [2 ** 30 - 1, 'bfffffff'],
      [2 ** 30, 'c000000040000000'],
      [2 ** 53 - 1, 'c01fffffffffffff'],
    ];
    for (const [value, bytes] of cases) {
      assert.equal(encodeVarint(value).toString('hex'), bytes, String(value));
      assert.equal(varintLength(value), bytes.length / 2);
      assert.equal(readVarint(hex(bytes), 0), value);
    }
  });

  test('a varint cut short reads as -1 at every cut', () => {
    const whole = hex('c2197c5eff14e88c');
    for (let cut = 0; cut < whole.length; cut++) assert.equal(readVarint(whole.subarray(0, cut), 0), -1);
  });

  test('reading starts at the offset given', () => {
    assert.equal(readVarint(hex('ff 7bbd'), 1), 15293);
  });

  test('values outside 0 .. 2^62-1 or not integers cannot be written', () => {
    const buf = Buffer.alloc(8);
    for (const bad of [-1, 1.5, VARINT_MAX + 2 ** 12, Number.NaN]) {
      assert.throws(() => writeVarint(buf, 0, bad), RangeError, String(bad));
    }
  });
});
