import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestField } from '../../../src/body/fields.js';
import { appendQuery, encodeUrlencoded } from '../../../src/body/form.js';

describe('encodeUrlencoded', () => {
  test('joins name=value pairs with & in order', () => {
    assert.equal(encodeUrlencoded({ a: '1', b: 'two' }), 'a=1&b=two');
    assert.equal(
      encodeUrlencoded([
        ['x', '1'],
        ['x', '2'],
      ]),
      'x=1&x=2',
    );
  });

  test('encodes spaces as + and everything outside A-Za-z0-9_.-~ as UTF-8 percent escapes', () => {
    assert.equal(encodeUrlencoded({ 'a b': 'c d' }), 'a+b=c+d');
    assert.equal(
      encodeUrlencoded({ q: "!*'();:@&=+$,/?#[]%" }),
      'q=%21%2A%27%28%29%3B%3A%40%26%3D%2B%24%2C%2F%3F%23%5B%5D%25',
    );
    assert.equal(encodeUrlencoded({ keep: 'AZaz09_.-~' }), 'keep=AZaz09_.-~');
    assert.equal(encodeUrlencoded({ café: '☕' }), 'caf%C3%A9=%E2%98%95');
    assert.equal(encodeUrlencoded({ nl: 'a\r\nb' }), 'nl=a%0D%0Ab');
  });

  test('numbers are their decimal string and bytes are escaped as they are', () => {
    assert.equal(encodeUrlencoded({ n: 42, f: -1.5 }), 'n=42&f=-1.5');
    assert.equal(encodeUrlencoded({ b: new Uint8Array([0x61, 0xff, 0x20]) } as never), 'b=a%FF+');
  });

  test('no fields gives an empty string', () => {
    assert.equal(encodeUrlencoded({}), '');
    assert.equal(encodeUrlencoded([]), '');
  });

  test('file tuples and RequestFields are a TypeError that points at multipart', () => {
    assert.throws(
      () => encodeUrlencoded({ file: ['a.txt', 'data'] }),
      (error: unknown) =>
        error instanceof TypeError &&
        /field 'file'/.test(error.message) &&
        /multipart\/form-data/.test(error.message),
    );
    assert.throws(() => encodeUrlencoded({ f: new RequestField('f', 'x') }), /multipart\/form-data/);
    assert.throws(() => encodeUrlencoded([new RequestField('f', 'x')] as never), /multipart\/form-data/);
  });

  test('other value types are a TypeError', () => {
    assert.throws(() => encodeUrlencoded({ a: null } as never), /got null/);
    assert.throws(() => encodeUrlencoded({ a: { b: 1 } } as never), /got Object/);
    assert.throws(() => encodeUrlencoded('a=b' as never), TypeError);
  });
});

describe('appendQuery', () => {
  test('adds ? to a URL without a query', () => {
    assert.equal(appendQuery('http://h/path', { a: '1', b: 'x y' }), 'http://h/path?a=1&b=x+y');
  });

  test('adds & to a URL that has a query', () => {
    assert.equal(appendQuery('http://h/p?x=1', { a: '1' }), 'http://h/p?x=1&a=1');
  });

  test('adds nothing extra after a trailing ? or &', () => {
    assert.equal(appendQuery('http://h/p?', { a: '1' }), 'http://h/p?a=1');
    assert.equal(appendQuery('http://h/p?x=1&', { a: '1' }), 'http://h/p?x=1&a=1');
  });

  test('inserts the query before a fragment', () => {
    assert.equal(appendQuery('http://h/p#frag', { a: '1' }), 'http://h/p?a=1#frag');
    assert.equal(appendQuery('http://h/p?x#frag?notquery', { a: '1' }), 'http://h/p?x&a=1#frag?notquery');
  });

  test('leaves the URL alone when there are no fields', () => {
    assert.equal(appendQuery('http://h/p#f', {}), 'http://h/p#f');
  });

  test('a file tuple in a query is a TypeError', () => {
    assert.throws(() => appendQuery('http://h/', { f: ['a', 'b'] }), TypeError);
  });
});
