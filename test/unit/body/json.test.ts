import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeJson } from '../../../src/body/json.js';

describe('encodeJson', () => {
  test('serialises compactly as UTF-8 with non-ASCII kept', () => {
    const body = encodeJson({ a: [1, 2], s: 'café ☕', n: null, t: true });
    assert.ok(Buffer.isBuffer(body));
    assert.equal(body.toString('utf8'), '{"a":[1,2],"s":"café ☕","n":null,"t":true}');
    assert.equal(body.length, Buffer.byteLength('{"a":[1,2],"s":"café ☕","n":null,"t":true}'));
  });

  test('top-level primitives and toJSON are honoured', () => {
    assert.equal(encodeJson('x').toString(), '"x"');
    assert.equal(encodeJson(0).toString(), '0');
    assert.equal(encodeJson(null).toString(), 'null');
    assert.equal(encodeJson(new Date(0)).toString(), '"1970-01-01T00:00:00.000Z"');
  });

  test('undefined, functions and symbols at the top level are a TypeError', () => {
    assert.throws(() => encodeJson(undefined), /undefined cannot be serialised/);
    assert.throws(() => encodeJson(() => 1), /a function cannot be serialised/);
    assert.throws(() => encodeJson(Symbol('s')), TypeError);
  });

  test('a BigInt anywhere is a TypeError that says what to do', () => {
    assert.throws(
      () => encodeJson({ big: 10n }),
      (error: unknown) =>
        error instanceof TypeError && /BigInt/.test(error.message) && error.cause instanceof TypeError,
    );
  });

  test('a circular structure is a TypeError', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    assert.throws(() => encodeJson(a), TypeError);
  });
});
