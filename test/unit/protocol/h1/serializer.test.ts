// Sans-IO tests for the HTTP/1.1 request serializer: exact output bytes and
// the validation that keeps CR, LF and NUL out of the request line and fields.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidHeader } from '../../../../src/errors.js';
import {
  CRLF,
  chunkHeader,
  isValidMethod,
  LAST_CHUNK,
  serializeRequestHead,
  validateHeaderName,
  validateHeaderValue,
} from '../../../../src/protocol/h1/index.js';

describe('serializeRequestHead', () => {
  test('renders the request line, the fields in order and the empty line', () => {
    const head = serializeRequestHead('GET', '/path?q=1', [
      'Host',
      'example.com',
      'Accept-Encoding',
      'gzip, deflate',
      'x-lower',
      'Keep Case',
      'X-Empty',
      '',
    ]);
    assert.equal(
      head,
      'GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nAccept-Encoding: gzip, deflate\r\nx-lower: Keep Case\r\nX-Empty: \r\n\r\n',
    );
  });

  test('renders a head without fields', () => {
    assert.equal(serializeRequestHead('OPTIONS', '*', []), 'OPTIONS * HTTP/1.1\r\n\r\n');
  });

  test('accepts extension methods, absolute and authority targets', () => {
    assert.equal(
      serializeRequestHead('PROPFIND', 'http://proxy.test:8080/a', []),
      'PROPFIND http://proxy.test:8080/a HTTP/1.1\r\n\r\n',
    );
    assert.equal(
      serializeRequestHead('CONNECT', 'example.com:443', ['Host', 'example.com:443']),
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
  });

  test('keeps latin1 characters in values and targets byte for byte when written as latin1', () => {
    const head = serializeRequestHead('GET', '/caf\xe9', ['X-Name', 'Jos\xe9 \xff']);
    const bytes = Buffer.from(head, 'latin1');
    assert.deepEqual([...bytes.subarray(4, 9)], [0x2f, 0x63, 0x61, 0x66, 0xe9]);
    assert.ok(bytes.includes(Buffer.from([0x4a, 0x6f, 0x73, 0xe9, 0x20, 0xff])));
    assert.equal(bytes.toString('latin1'), head);
  });

  for (const method of [
    '',
    'GET ',
    ' GET',
    'G ET',
    'GE\tT',
    'GET\r\n',
    'GE\nT',
    'GE\0T',
    'G(E)T',
    'GÉT',
    'G\u0100T',
  ]) {
    test(`rejects the method ${JSON.stringify(method)} with a TypeError naming it`, () => {
      assert.throws(
        () => serializeRequestHead(method, '/', []),
        (err: unknown) =>
          err instanceof TypeError &&
          err.message.includes(JSON.stringify(method)) &&
          !(err instanceof InvalidHeader),
      );
    });
  }

  for (const target of [
    '',
    '/a b',
    '/a\r\nX-Injected: 1',
    '/a\nb',
    '/\0',
    '/\t',
    '/\x7f',
    '/\x1b',
    '/\u0100',
    '/\u2603',
  ]) {
    test(`rejects the target ${JSON.stringify(target)} with a TypeError`, () => {
      assert.throws(() => serializeRequestHead('GET', target, []), TypeError);
    });
  }

  test('rejects an odd-length header array', () => {
    assert.throws(() => serializeRequestHead('GET', '/', ['Host']), TypeError);
  });

  for (const name of [
    '',
    'X Foo',
    'X:Foo',
    'X-Foo:',
    'X\r\nFoo',
    'X\nFoo',
    'X\0',
    ' X',
    'X\t',
    'Caf\xe9',
    'X(1)',
  ]) {
    test(`rejects the header name ${JSON.stringify(name)} with InvalidHeader`, () => {
      assert.throws(() => serializeRequestHead('GET', '/', [name, 'v']), InvalidHeader);
    });
  }

  for (const [label, value] of [
    ['CRLF', 'a\r\nX-Injected: 1'],
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['NUL', 'a\0b'],
    ['a char above U+00FF', 'snow\u2603man'],
    ['a lone surrogate', 'a\ud800'],
  ] as const) {
    test(`rejects a header value containing ${label} with InvalidHeader naming the header`, () => {
      assert.throws(
        () => serializeRequestHead('GET', '/', ['Host', 'h', 'X-Bad', value]),
        (err: unknown) =>
          err instanceof InvalidHeader && err.message.includes('X-Bad') && !err.message.includes(value),
      );
    });
  }
});

describe('validators', () => {
  test('isValidMethod accepts every token character and nothing else', () => {
    assert.equal(isValidMethod("!#$%&'*+-.^_`|~09azAZ"), true);
    for (let c = 0; c < 0x100; c++) {
      const ch = String.fromCharCode(c);
      const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]$/.test(ch);
      assert.equal(isValidMethod(`GET${ch}`), token, `char 0x${c.toString(16)}`);
    }
    assert.equal(isValidMethod(''), false);
  });

  test('validateHeaderName throws InvalidHeader naming the header', () => {
    validateHeaderName('X-Good_Name.1');
    assert.throws(
      () => validateHeaderName('Bad Name'),
      (err: unknown) => err instanceof InvalidHeader && err.message.includes('Bad Name'),
    );
  });

  test('validateHeaderValue allows tabs, spaces and latin1 but not CR, LF or NUL', () => {
    validateHeaderValue('X', '\ta b\x7f\x80\xff');
    for (const bad of ['\r', '\n', '\0', '\u0100']) {
      assert.throws(() => validateHeaderValue('X-Name', `v${bad}`), InvalidHeader);
    }
  });
});

describe('chunked framing', () => {
  test('chunkHeader gives the lower-case hex size and CRLF', () => {
    assert.equal(chunkHeader(1), '1\r\n');
    assert.equal(chunkHeader(31), '1f\r\n');
    assert.equal(chunkHeader(65536), '10000\r\n');
    assert.equal(chunkHeader(Number.MAX_SAFE_INTEGER), '1fffffffffffff\r\n');
  });

  test('chunkHeader refuses zero (it would end the body) and invalid lengths', () => {
    for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => chunkHeader(bad), RangeError, String(bad));
    }
  });

  test('CRLF and LAST_CHUNK hold the exact framing bytes', () => {
    assert.deepEqual([...CRLF], [0x0d, 0x0a]);
    assert.equal(LAST_CHUNK.toString('latin1'), '0\r\n\r\n');
  });
});
