// IDNA 2008 pieces (src/idna): Punycode against RFC 3492's samples, the
// RFC 5892 derived property values, the joining and virama tests behind the
// CONTEXTJ rules, the Bidi rule, and A-label construction with its refusals.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bidiClass, bidiProblem } from '../../../src/idna/bidi.js';
import { codePointClass } from '../../../src/idna/code-points.js';
import { toALabel } from '../../../src/idna/idna.js';
import { isVirama, joiningType } from '../../../src/idna/joining.js';
import { punycodeDecode, punycodeEncode } from '../../../src/idna/punycode.js';

const cps = (s: string): number[] => [...s].map((c) => c.codePointAt(0)!);

describe('Punycode (RFC 3492)', () => {
  // Section 7.1 samples, lower-cased as IDNA uses them.
  const samples: Array<[string, string]> = [
    ['ليهمابتكلموشعربي؟', 'egbpdaj6bu4bxfgehfvwxn'],
    ['他们为什么不说中文', 'ihqwcrb4cv8a8dqg056pqjye'],
    ['pročprostěnemluvíčesky', 'proprostnemluvesky-uyb24dma41a'],
    ['почемужеонинеговорятпорусски', 'b1abfaaepdrnnbgefbadotcwatmq2g4l'],
    ['3年b組金八先生', '3b-ww4c5e180e575a65lsy2b'],
    ['bücher', 'bcher-kva'],
  ];
  for (const [unicode, encoded] of samples) {
    test(`${unicode} encodes to ${encoded} and back`, () => {
      assert.equal(punycodeEncode(cps(unicode)), encoded);
      assert.deepEqual(punycodeDecode(encoded), cps(unicode));
    });
  }

  test('malformed input does not decode', () => {
    for (const bad of ['a-!', 'a\u00e9-b', '99999999999']) assert.equal(punycodeDecode(bad), null, bad);
  });
});

describe('RFC 5892 derived property values', () => {
  const cases: Array<[number, string]> = [
    [0x61, 'PVALID'],
    [0x41, 'DISALLOWED'], // upper case changes under case folding
    [0x2d, 'PVALID'],
    [0x5f, 'DISALLOWED'],
    [0xdf, 'PVALID'], // exception
    [0x3c2, 'PVALID'], // exception
    [0x640, 'DISALLOWED'], // exception
    [0xb7, 'CONTEXTO'],
    [0x663, 'CONTEXTO'],
    [0x200c, 'CONTEXTJ'],
    [0x200d, 'CONTEXTJ'],
    [0xad, 'DISALLOWED'], // default ignorable
    [0xff45, 'DISALLOWED'], // fullwidth: NFKC changes it
    [0xfb00, 'DISALLOWED'],
    [0x1100, 'DISALLOWED'], // old Hangul jamo
    [0xac00, 'PVALID'],
    [0x20d0, 'DISALLOWED'], // combining marks for symbols
    [0x1f600, 'DISALLOWED'], // a symbol
    [0x0378, 'UNASSIGNED'],
    [0xfdd0, 'DISALLOWED'], // a noncharacter is not "unassigned"
    [0xd800, 'DISALLOWED'],
  ];
  for (const [cp, cls] of cases) {
    test(`U+${cp.toString(16).toUpperCase().padStart(4, '0')} is ${cls}`, () => {
      assert.equal(codePointClass(cp), cls);
    });
  }
});

describe('joining types, viramas and the Bidi rule', () => {
  test('Arabic letters join, marks are transparent, Latin does not join', () => {
    assert.equal(joiningType(0x0628), 'D'); // BEH
    assert.equal(joiningType(0x0627), 'R'); // ALEF
    assert.equal(joiningType(0x064b), 'T'); // FATHATAN
    assert.equal(joiningType(0x61), 'U');
  });

  test('viramas are told apart from other marks by their combining class', () => {
    for (const cp of [0x094d, 0x09cd, 0x0d4d, 0x1039, 0x11046])
      assert.equal(isVirama(cp), true, cp.toString(16));
    for (const cp of [0x093c, 0x0301, 0x05b0, 0x61, 0x0928])
      assert.equal(isVirama(cp), false, cp.toString(16));
  });

  test('bidi classes of the characters the rule cares about', () => {
    assert.equal(bidiClass(0x05d0), 'R');
    assert.equal(bidiClass(0x0628), 'AL');
    assert.equal(bidiClass(0x0661), 'AN');
    assert.equal(bidiClass(0x06f1), 'EN');
    assert.equal(bidiClass(0x31), 'EN');
    assert.equal(bidiClass(0x064b), 'NSM');
    assert.equal(bidiClass(0x61), 'L');
    assert.equal(bidiClass(0x2d), 'ES');
  });

  test('the rule applies only to labels with right-to-left text or Arabic-Indic digits', () => {
    assert.equal(bidiProblem(cps('abc-1')), null);
    assert.equal(bidiProblem(cps('1abc')), null);
    assert.equal(bidiProblem(cps('אב1')), null);
    assert.match(bidiProblem(cps('1אב')) ?? '', /Bidi rule 1/);
    assert.match(bidiProblem(cps('א-')) ?? '', /Bidi rule 3/);
    assert.match(bidiProblem(cps('ب١۱')) ?? '', /Bidi rule 4/);
    assert.match(bidiProblem(cps('a١')) ?? '', /Bidi rule 5/);
  });
});

describe('A-labels', () => {
  test('a U-label becomes xn-- and Punycode; an ASCII one is checked as it is', () => {
    assert.deepEqual(toALabel('bücher'), { label: 'xn--bcher-kva', reason: null });
    assert.deepEqual(toALabel('k'), { label: 'k', reason: null });
    assert.deepEqual(toALabel('xn--bcher-kva'), { label: 'xn--bcher-kva', reason: null });
  });

  test('a bad A-label is refused with the reason', () => {
    assert.equal(toALabel('xn--').reason, 'the A-label has nothing after "xn--"');
    assert.equal(toALabel('xn--a-').reason, 'the A-label ends with a hyphen');
    assert.equal(toALabel('xn--!').reason, 'the A-label is not valid Punycode');
    // "xn--im6c" is Punycode for "ﬀ", which IDNA 2008 does not admit.
    assert.equal(toALabel('xn--im6c').reason, 'U+FB00 at position 1 is disallowed in IDNA 2008');
  });

  test('a 63-octet A-label is the longest accepted', () => {
    // "xn--" + 59 octets of Punycode, then one more.
    assert.equal(toALabel(`a${'ü'.repeat(55)}`).label?.length, 63);
    assert.match(toALabel(`a${'ü'.repeat(56)}`).reason ?? '', /64 octets long/);
    assert.equal(toALabel('a'.repeat(63)).label, 'a'.repeat(63));
    assert.match(toALabel('a'.repeat(64)).reason ?? '', /64 octets long/);
  });
});
