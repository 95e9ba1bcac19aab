// QPACK field sections (RFC 9204) with the static table and literals: the
// encoder's exact bytes, the decoder on the static-only example of Appendix
// B.1, every field line form, Huffman-coded strings, and the refusal of
// dynamic-table references a zero-capacity client must make.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  H3_EXCESSIVE_LOAD,
  H3ConnectionError,
  H3StreamError,
  QPACK_DECOMPRESSION_FAILED,
} from '../../../../src/protocol/h3/error-codes.js';
import { decodeFieldSection } from '../../../../src/protocol/h3/qpack-decoder.js';
import { encodeFieldSection } from '../../../../src/protocol/h3/qpack-encoder.js';
import { STATIC_TABLE } from '../../../../src/protocol/h3/qpack-static-table.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');
const BIG = 1 << 20;

function isCode(code: number) {
  return (e: unknown) => (e instanceof H3ConnectionError || e instanceof H3StreamError) && e.h3Code === code;
}

describe('QPACK static table', () => {
  test('has the 99 entries of RFC 9204 Appendix A, spot-checked', () => {
    assert.equal(STATIC_TABLE.length, 99);
    assert.deepEqual(STATIC_TABLE[0], [':authority', '']);
    assert.deepEqual(STATIC_TABLE[17], [':method', 'GET']);
    assert.deepEqual(STATIC_TABLE[25], [':status', '200']);
    assert.deepEqual(STATIC_TABLE[31], ['accept-encoding', 'gzip, deflate, br']);
    assert.deepEqual(STATIC_TABLE[63], [':status', '100']);
    assert.deepEqual(STATIC_TABLE[83], ['alt-svc', 'clear']);
    assert.deepEqual(STATIC_TABLE[98], ['x-frame-options', 'sameorigin']);
  });
});

describe('encodeFieldSection', () => {
  test('uses indexed lines for exact static matches, name references and literal names otherwise', () => {
    const section = encodeFieldSection([
      ':method',
      'GET',
      ':scheme',
      'https',
      ':authority',
      'a.test',
      ':path',
      '/',
      'x-y',
      'z',
    ]);
    assert.equal(
      section.toString('hex'),
      `0000 d1 d7 50 06 ${Buffer.from('a.test').toString('hex')} c1 23 782d79 01 7a`.replace(/ /g, ''),
    );
  });

  test('long names and values use prefix-integer continuation bytes', () => {
    const name = `x-${'n'.repeat(200)}`;
    const value = 'v'.repeat(300);
    const section = encodeFieldSection([name, value]);
    // 001 N=0 H=0 len(3): 7 then 202 - 7 = 195 = 0xc3 0x01.
    assert.equal(section.subarray(2, 5).toString('hex'), '27c301');
    assert.deepEqual(decodeFieldSection(section, BIG), [name, value]);
  });

  test('round-trips through the decoder, latin1 bytes included', () => {
    const fields = [
      ':method',
      'POST',
      ':path',
      '/a?b=c',
      'content-type',
      'application/json',
      'x-latin',
      'caf\u00e9',
    ];
    assert.deepEqual(decodeFieldSection(encodeFieldSection(fields), BIG), fields);
  });
});

describe('decodeFieldSection', () => {
  test('decodes RFC 9204 Appendix B.1 (literal with a static name reference)', () => {
    assert.deepEqual(decodeFieldSection(hex('0000 510b 2f69 6e64 6578 2e68 746d 6c'), BIG), [
      ':path',
      '/index.html',
    ]);
  });

  test('decodes Huffman-coded names and values', () => {
    // 001 N=0 H=1 len(3) = 0x2f 0x01 (7 + 1 = 8 bytes): "custom-key"; value H=1 len 9: "custom-value";
    // then a name reference to location (12) with the Huffman-coded value "307".
    const section = hex('0000 2f01 25a849e95ba97d7f 89 25a849e95bb8e8b4bf 5c 83 640eff');
    assert.deepEqual(decodeFieldSection(section, BIG), ['custom-key', 'custom-value', 'location', '307']);
  });

  test('an indexed static field line decodes to its table entry', () => {
    assert.deepEqual(decodeFieldSection(hex('0000 d9 c0'), BIG), [':status', '200', ':authority', '']);
  });

  test('a non-zero Required Insert Count is QPACK_DECOMPRESSION_FAILED (RFC 9204 Appendix B.2)', () => {
    assert.throws(() => decodeFieldSection(hex('0381 10 11'), BIG), isCode(QPACK_DECOMPRESSION_FAILED));
  });

  test('dynamic and post-base references are QPACK_DECOMPRESSION_FAILED', () => {
    for (const line of ['80', '10', '4000', '0000']) {
      assert.throws(
        () => decodeFieldSection(hex(`0000 ${line}`), BIG),
        (e: unknown) => isCode(QPACK_DECOMPRESSION_FAILED)(e) && /dynamic table/.test((e as Error).message),
        line,
      );
    }
  });

  test('a static index beyond the table is QPACK_DECOMPRESSION_FAILED', () => {
    assert.throws(() => decodeFieldSection(hex('0000 ff24'), BIG), /static table index 99/);
  });

  test('a section cut inside a field line is QPACK_DECOMPRESSION_FAILED at every cut', () => {
    const whole = encodeFieldSection(['x-long-name', 'a value', 'content-type', 'text/html']);
    for (let cut = 3; cut < whole.length; cut++) {
      const piece = whole.subarray(0, cut);
      // Cuts that fall between field lines are complete sections.
      if (cut === 2 + 2 + 11 + 1 + 7) continue;
      assert.throws(() => decodeFieldSection(piece, BIG), isCode(QPACK_DECOMPRESSION_FAILED), `cut ${cut}`);
    }
  });

  test('bad Huffman coding is QPACK_DECOMPRESSION_FAILED', () => {
    assert.throws(() => decodeFieldSection(hex('0000 5f1d 81 ff'), BIG), isCode(QPACK_DECOMPRESSION_FAILED));
  });

  test('a section larger than the limit (name + value + 32 per field) is H3_EXCESSIVE_LOAD', () => {
    const fields = ['x-a', 'b'.repeat(60)];
    const section = encodeFieldSection(fields);
    assert.deepEqual(decodeFieldSection(section, 3 + 60 + 32), fields);
    assert.throws(
      () => decodeFieldSection(section, 3 + 60 + 31, 'Response header section'),
      (e: unknown) =>
        isCode(H3_EXCESSIVE_LOAD)(e) &&
        /Response header section exceeds the limit of 94 bytes/.test(String(e)),
    );
  });
});
