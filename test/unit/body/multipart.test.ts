import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestField } from '../../../src/body/fields.js';
import { chooseBoundary, encodeMultipartFormdata, iterFieldObjects } from '../../../src/body/multipart.js';

const BOUNDARY = 'xxBOUNDARYxx';

describe('chooseBoundary', () => {
  test('is 32 lowercase hex characters and differs between calls', () => {
    const a = chooseBoundary();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, chooseBoundary());
  });
});

describe('encodeMultipartFormdata', () => {
  test('lays out fields byte for byte like urllib3', () => {
    const { body, contentType } = encodeMultipartFormdata({ k: 'v', k2: 'v2' }, BOUNDARY);
    assert.equal(contentType, 'multipart/form-data; boundary=xxBOUNDARYxx');
    assert.equal(
      body.toString('latin1'),
      '--xxBOUNDARYxx\r\n' +
        'Content-Disposition: form-data; name="k"\r\n' +
        '\r\n' +
        'v\r\n' +
        '--xxBOUNDARYxx\r\n' +
        'Content-Disposition: form-data; name="k2"\r\n' +
        '\r\n' +
        'v2\r\n' +
        '--xxBOUNDARYxx--\r\n',
    );
  });

  test('file tuples carry a filename and an explicit or guessed Content-Type', () => {
    const { body } = encodeMultipartFormdata(
      [
        ['upload', ['report.pdf', Buffer.from([0x25, 0x50, 0x00, 0xff])]],
        ['typed', ['data.bin', 'text', 'application/x-custom']],
        ['unknown', ['noext', 'z']],
      ],
      BOUNDARY,
    );
    const expected = Buffer.concat([
      Buffer.from(
        '--xxBOUNDARYxx\r\n' +
          'Content-Disposition: form-data; name="upload"; filename="report.pdf"\r\n' +
          'Content-Type: application/pdf\r\n' +
          '\r\n',
      ),
      Buffer.from([0x25, 0x50, 0x00, 0xff]),
      Buffer.from(
        '\r\n--xxBOUNDARYxx\r\n' +
          'Content-Disposition: form-data; name="typed"; filename="data.bin"\r\n' +
          'Content-Type: application/x-custom\r\n' +
          '\r\n' +
          'text\r\n' +
          '--xxBOUNDARYxx\r\n' +
          'Content-Disposition: form-data; name="unknown"; filename="noext"\r\n' +
          'Content-Type: application/octet-stream\r\n' +
          '\r\n' +
          'z\r\n' +
          '--xxBOUNDARYxx--\r\n',
      ),
    ]);
    assert.deepEqual(body, expected);
  });

  test('strings and non-ASCII names are UTF-8, numbers are their decimal string', () => {
    const { body } = encodeMultipartFormdata(
      [
        ['naïve', 'café ☕'],
        ['n', 42],
        ['f', 1.5],
      ],
      BOUNDARY,
    );
    assert.equal(
      body.toString('utf8'),
      '--xxBOUNDARYxx\r\nContent-Disposition: form-data; name="naïve"\r\n\r\ncafé ☕\r\n' +
        '--xxBOUNDARYxx\r\nContent-Disposition: form-data; name="n"\r\n\r\n42\r\n' +
        '--xxBOUNDARYxx\r\nContent-Disposition: form-data; name="f"\r\n\r\n1.5\r\n' +
        '--xxBOUNDARYxx--\r\n',
    );
  });

  test('repeated names in an array of pairs are all sent, in order', () => {
    const { body } = encodeMultipartFormdata(
      [
        ['a', '1'],
        ['a', '2'],
      ],
      BOUNDARY,
    );
    const text = body.toString();
    assert.ok(text.indexOf('\r\n\r\n1\r\n') < text.indexOf('\r\n\r\n2\r\n'));
    assert.equal(text.split('name="a"').length, 3);
  });

  test('RequestFields (alone or mixed with pairs) keep their own headers', () => {
    const field = new RequestField('custom', 'data', { filename: 'c.txt', headers: { 'X-Part': 'yes' } });
    field.makeMultipart({ contentType: 'text/plain' });
    const { body } = encodeMultipartFormdata([field, ['plain', 'p']] as never, BOUNDARY);
    assert.equal(
      body.toString(),
      '--xxBOUNDARYxx\r\n' +
        'Content-Disposition: form-data; name="custom"; filename="c.txt"\r\n' +
        'Content-Type: text/plain\r\n' +
        'X-Part: yes\r\n' +
        '\r\n' +
        'data\r\n' +
        '--xxBOUNDARYxx\r\n' +
        'Content-Disposition: form-data; name="plain"\r\n' +
        '\r\n' +
        'p\r\n' +
        '--xxBOUNDARYxx--\r\n',
    );
  });

  test('a Map of fields is accepted', () => {
    const { body } = encodeMultipartFormdata(new Map([['m', 'v']]) as never, BOUNDARY);
    assert.match(body.toString(), /name="m"\r\n\r\nv\r\n/);
  });

  test('no fields is just the closing delimiter', () => {
    assert.equal(encodeMultipartFormdata({}, BOUNDARY).body.toString(), '--xxBOUNDARYxx--\r\n');
  });

  test('without a boundary a random one is chosen and used in body and type', () => {
    const { body, contentType } = encodeMultipartFormdata({ a: 'b' });
    const boundary = /boundary=([0-9a-f]{32})$/.exec(contentType)?.[1];
    assert.ok(boundary);
    assert.ok(body.toString().startsWith(`--${boundary}\r\n`));
    assert.ok(body.toString().endsWith(`--${boundary}--\r\n`));
  });

  test('an invalid boundary is a TypeError', () => {
    assert.throws(() => encodeMultipartFormdata({ a: 'b' }, 'bad\r\nboundary'), TypeError);
    assert.throws(() => encodeMultipartFormdata({ a: 'b' }, ''), TypeError);
    assert.throws(() => encodeMultipartFormdata({ a: 'b' }, 'x'.repeat(71)), TypeError);
  });

  test('malformed fields are a TypeError', () => {
    assert.throws(() => encodeMultipartFormdata('a=b' as never, BOUNDARY), TypeError);
    assert.throws(() => encodeMultipartFormdata([['a']] as never, BOUNDARY), /\[name, value\] pair/);
    assert.throws(() => encodeMultipartFormdata({ a: null } as never, BOUNDARY), /data must be/);
  });
});

describe('iterFieldObjects', () => {
  test('turns every field into a RequestField in order', () => {
    const fields = [...iterFieldObjects({ a: '1', b: ['f.txt', 'x'] })];
    assert.deepEqual(
      fields.map((f) => [f.name, f.filename]),
      [
        ['a', null],
        ['b', 'f.txt'],
      ],
    );
  });
});
