// The Huffman decoder against RFC 7541: the code table of Appendix B (rebuilt
// canonically from code lengths) and the Huffman-coded strings of the
// examples in Appendix C.4 and C.6.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../../../src/errors.js';
import { EOS, huffmanCodes, huffmanDecode } from '../../../../src/protocol/h3/huffman.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

/** A test-side encoder from the rebuilt table, padding with ones. */
function encode(bytes: Uint8Array): Buffer {
  const { codes, lengths } = huffmanCodes();
  const bits: number[] = [];
  for (const b of bytes) {
    for (let i = lengths[b]! - 1; i >= 0; i--) bits.push(Math.floor(codes[b]! / 2 ** i) & 1);
  }
  while (bits.length % 8 !== 0) bits.push(1);
  const out = Buffer.alloc(bits.length / 8);
  bits.forEach((bit, i) => {
    out[i >> 3]! |= bit << (7 - (i & 7));
  });
  return out;
}

describe('Huffman code table (RFC 7541 Appendix B)', () => {
  test('the code lengths make a complete prefix code (Kraft sum of exactly 1)', () => {
    const { lengths } = huffmanCodes();
    assert.equal(lengths.length, 257);
    assert.equal(
      lengths.reduce((sum, len) => sum + 2 ** -len, 0),
      1,
    );
  });

  test('the rebuilt codes equal the appendix hex column', () => {
    const { codes } = huffmanCodes();
    const expected: [number, number][] = [
      [0, 0x1ff8],
      [1, 0x7fffd8],
      [10, 0x3ffffffc],
      [32, 0x14],
      [48, 0x0],
      [65, 0x21],
      [88, 0xfc],
      [92, 0x7fff0],
      [97, 0x3],
      [126, 0x1ffd],
      [127, 0xffffffc],
      [128, 0xfffe6],
      [153, 0x1fffdc],
      [199, 0x1ffffec],
      [203, 0x7ffffde],
      [220, 0xffffffd],
      [255, 0x3ffffee],
      [EOS, 0x3fffffff],
    ];
    for (const [sym, code] of expected) assert.equal(codes[sym], code, `symbol ${sym}`);
  });
});

describe('huffmanDecode', () => {
  test('decodes the Huffman-coded strings of RFC 7541 Appendix C.4 and C.6', () => {
    const vectors: [string, string][] = [
      ['f1e3 c2e5 f23a 6ba0 ab90 f4ff', 'www.example.com'],
      ['a8eb 1064 9cbf', 'no-cache'],
      ['25a8 49e9 5ba9 7d7f', 'custom-key'],
      ['25a8 49e9 5bb8 e8b4 bf', 'custom-value'],
      ['6402', '302'],
      ['aec3 771a 4b', 'private'],
      ['d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff', 'Mon, 21 Oct 2013 20:13:21 GMT'],
      ['9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3', 'https://www.example.com'],
      ['640e ff', '307'],
      ['d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff', 'Mon, 21 Oct 2013 20:13:22 GMT'],
      ['9bd9 ab', 'gzip'],
      [
        '94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f 9587 3160 65c0 03ed 4ee5 b106 3d50 07',
        'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1',
      ],
    ];
    for (const [coded, text] of vectors) assert.equal(huffmanDecode(hex(coded)).toString('latin1'), text);
  });

  test('every byte value decodes back to itself', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(huffmanDecode(encode(all)), all);
    for (let b = 0; b < 256; b++)
      assert.deepEqual(huffmanDecode(encode(Buffer.from([b, b]))), Buffer.from([b, b]));
  });

  test('an empty string decodes to nothing', () => {
    assert.equal(huffmanDecode(Buffer.alloc(0)).length, 0);
  });

  test('padding longer than 7 bits is an error', () => {
    // 'a' is 00011: 0x1f is 'a' and 3 bits of padding; another 0xff makes it 11.
    assert.equal(huffmanDecode(hex('1f')).toString(), 'a');
    assert.throws(() => huffmanDecode(hex('1fff')), ProtocolError);
    assert.throws(() => huffmanDecode(hex('ff')), ProtocolError);
  });

  test('padding that is not all ones is an error', () => {
    assert.throws(() => huffmanDecode(hex('18')), /padding/);
  });

  test('an encoded EOS is an error', () => {
    assert.throws(() => huffmanDecode(hex('ffff ffff')), /EOS/);
  });
});
