// HTTPResponse built by hand from a body, status and headers (issue 15,
// item 16), as urllib3 users build `HTTPResponse(body=..., status=...,
// headers=...)` for test doubles: no connection, no pool, no network.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import { DecodeError, HTTPHeaderDict, HTTPResponse } from '../../src/index.js';

describe('HTTPResponse can be constructed by hand from a body, status and headers', () => {
  test('a preloaded body is in data at once, with json() and text()', () => {
    const response = new HTTPResponse({
      body: '{"ok": true}',
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/json');
    assert.deepEqual(response.json(), { ok: true });
    assert.equal(response.text(), '{"ok": true}');
    assert.equal(response.connection, null);
    assert.equal(response.tell(), 12);
  });

  test('defaults follow urllib3: status 0, empty body, no headers', async () => {
    const response = new HTTPResponse();
    assert.equal(response.status, 0);
    assert.equal(response.data.length, 0);
    assert.equal(response.headers.get('content-type'), undefined);
    assert.equal((await response.read()).length, 0);
  });

  test('a gzip body is decoded into data, or kept with decodeContent: false', () => {
    const body = zlib.gzipSync('hello by hand');
    const headers = new HTTPHeaderDict({ 'Content-Encoding': 'gzip' });
    assert.equal(new HTTPResponse({ body, headers, status: 200 }).data.toString(), 'hello by hand');
    assert.deepEqual(new HTTPResponse({ body, headers, decodeContent: false }).data, body);
  });

  test('a corrupt encoded body is a DecodeError at construction, as in urllib3', () => {
    assert.throws(
      () => new HTTPResponse({ body: 'not gzip', headers: { 'Content-Encoding': 'gzip' } }),
      DecodeError,
    );
  });

  test('with preloadContent: false the body streams through read() and stream()', async () => {
    const response = new HTTPResponse({
      body: zlib.brotliCompressSync('streamed '.repeat(1000)),
      headers: { 'Content-Encoding': 'br' },
      preloadContent: false,
    });
    assert.equal((await response.read(9)).toString(), 'streamed ');
    const rest: Buffer[] = [];
    for await (const chunk of response.stream(1000)) rest.push(chunk);
    assert.equal(Buffer.concat(rest).length, 9 * 999);
    assert.throws(() => response.data, TypeError);
  });

  test('an iterable or a Readable body can be read asynchronously', async () => {
    const fromArray = new HTTPResponse({ body: ['a', Buffer.from('b'), 'c'], preloadContent: false });
    assert.equal((await fromArray.read()).toString(), 'abc');

    const fromStream = new HTTPResponse({
      body: Readable.from([Buffer.from('one '), Buffer.from('two')]),
      status: 201,
      preloadContent: false,
    });
    const chunks: string[] = [];
    for await (const chunk of fromStream) chunks.push(chunk.toString());
    assert.equal(chunks.join(''), 'one two');
    assert.equal(fromStream.status, 201);
  });

  test('a failing body stream fails the read', async () => {
    async function* broken() {
      yield Buffer.from('partial');
      throw new Error('disk went away');
    }
    const response = new HTTPResponse({ body: broken(), preloadContent: false });
    await assert.rejects(response.read(), /disk went away/);
  });

  test('an iterable body with preloadContent true is a TypeError that says why', () => {
    assert.throws(
      () => new HTTPResponse({ body: Readable.from(['x']) }),
      (error: unknown) => error instanceof TypeError && /preloadContent: false/.test(error.message),
    );
  });
});
