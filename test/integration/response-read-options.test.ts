// Per-call read options and position (issue 15, item 13), as urllib3 has them:
// read(amt, { decodeContent: false }) and stream(amt, decodeContent) give the
// bytes as they came; tell() counts the body bytes taken from the wire;
// readChunked(amt) yields a chunked body piece by piece and refuses a body
// that is not chunked with ResponseNotChunked.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { HTTPConnectionPool, ProtocolError, ResponseNotChunked } from '../../src/index.js';
import { httpResponse, type RawServer, rawServer } from '../support/servers.js';

const TEXT = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(2000));
const GZIPPED = zlib.gzipSync(TEXT);
const BROTLI = zlib.brotliCompressSync(TEXT);

let server: RawServer;
let pool: HTTPConnectionPool;

function chunkedBody(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const piece = body.subarray(i, i + size);
    parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

before(async () => {
  server = await rawServer((socket, request) => {
    switch (request.target) {
      case '/gzip':
        socket.write(httpResponse(200, GZIPPED, { 'Content-Encoding': 'gzip' }));
        return;
      case '/br':
        socket.write(httpResponse(200, BROTLI, { 'Content-Encoding': 'br' }));
        return;
      case '/plain':
        socket.write(httpResponse(200, TEXT));
        return;
      case '/chunked':
        socket.write(httpResponse(200, chunkedBody(TEXT, 10000), { 'Transfer-Encoding': 'chunked' }));
        return;
      case '/chunked-gzip':
        socket.write(
          httpResponse(200, chunkedBody(GZIPPED, 100), {
            'Transfer-Encoding': 'chunked',
            'Content-Encoding': 'gzip',
          }),
        );
        return;
      default:
        socket.write(httpResponse(404, 'no such fixture'));
    }
  });
  pool = new HTTPConnectionPool('127.0.0.1', { port: server.port, retries: false });
});

after(async () => {
  await pool.close();
  await server.close();
});

async function streaming(path: string, options: { decodeContent?: boolean } = {}) {
  return pool.request('GET', path, { preloadContent: false, ...options });
}

describe('per-call decoding switches work', () => {
  test('read(amt, { decodeContent: false }) on a gzip response returns the raw bytes', async () => {
    const response = await streaming('/gzip');
    const parts: Buffer[] = [];
    for (;;) {
      const chunk = await response.read(1000, { decodeContent: false });
      if (chunk.length === 0) break;
      assert.ok(chunk.length <= 1000);
      parts.push(chunk);
    }
    assert.deepEqual(Buffer.concat(parts), GZIPPED);
  });

  test('read(undefined, { decodeContent: false }) returns the whole raw body', async () => {
    const response = await streaming('/br');
    assert.deepEqual(await response.read(undefined, { decodeContent: false }), BROTLI);
  });

  test('after a raw read, later reads stay raw', async () => {
    const response = await streaming('/gzip');
    const head = await response.read(10, { decodeContent: false });
    const rest = await response.read();
    assert.deepEqual(Buffer.concat([head, rest]), GZIPPED);
  });

  test('stream(amt, false) yields the raw bytes, stream(amt, true) the decoded ones', async () => {
    const raw: Buffer[] = [];
    for await (const chunk of (await streaming('/gzip')).stream(4096, false)) raw.push(chunk);
    assert.deepEqual(Buffer.concat(raw), GZIPPED);

    const decoded: Buffer[] = [];
    for await (const chunk of (await streaming('/gzip', { decodeContent: false })).stream(4096, true)) {
      decoded.push(chunk);
    }
    assert.deepEqual(Buffer.concat(decoded), TEXT);

    const chunks: Buffer[] = [];
    for await (const chunk of (await streaming('/br')).stream(-1, false)) chunks.push(chunk);
    assert.deepEqual(Buffer.concat(chunks), BROTLI);
  });

  test('read1(amt, false) returns raw bytes too', async () => {
    const response = await streaming('/gzip');
    const parts: Buffer[] = [];
    for (
      let chunk = await response.read1(500, false);
      chunk.length > 0;
      chunk = await response.read1(500, false)
    ) {
      assert.ok(chunk.length <= 500);
      parts.push(chunk);
    }
    assert.deepEqual(Buffer.concat(parts), GZIPPED);
  });

  test('read(amt, { decodeContent: true }) decodes a response requested with decodeContent: false', async () => {
    const response = await streaming('/gzip', { decodeContent: false });
    assert.deepEqual(await response.read(undefined, { decodeContent: true }), TEXT);
  });

  test('switching to raw reads after decoded ones is refused, as in urllib3', async () => {
    const response = await streaming('/gzip');
    assert.equal((await response.read(100)).toString(), TEXT.subarray(0, 100).toString());
    await assert.rejects(response.read(100, { decodeContent: false }), TypeError);
    response.releaseConn();
  });

  test('switching to decoded reads after raw ones is refused', async () => {
    const response = await streaming('/gzip');
    await response.read(10, { decodeContent: false });
    await assert.rejects(response.read(100, { decodeContent: true }), TypeError);
    response.releaseConn();
  });

  test('a raw read of a fully read body releases the connection for reuse', async () => {
    const response = await streaming('/gzip');
    await response.read(undefined, { decodeContent: false });
    assert.equal(response.connection, null);
    const again = await pool.request('GET', '/plain');
    assert.deepEqual(again.data, TEXT);
  });
});

describe('tell()', () => {
  test('counts the body bytes read from the wire on a plain body', async () => {
    const response = await streaming('/plain');
    assert.equal(response.tell(), 0);
    await response.read(10);
    assert.equal(response.tell(), 10);
    await response.read();
    assert.equal(response.tell(), TEXT.length);
  });

  test('counts encoded bytes, not decoded ones, on a gzip body', async () => {
    const response = await streaming('/gzip');
    const decoded = await response.read();
    assert.equal(decoded.length, TEXT.length);
    assert.equal(response.tell(), GZIPPED.length);
  });

  test('is the whole encoded length on a preloaded response', async () => {
    const response = await pool.request('GET', '/gzip');
    assert.deepEqual(response.data, TEXT);
    assert.equal(response.tell(), GZIPPED.length);
  });

  test('grows with raw reads one read at a time', async () => {
    const response = await streaming('/br');
    await response.read(7, { decodeContent: false });
    assert.equal(response.tell(), 7);
  });
});

describe('readChunked()', () => {
  test('yields a chunked body piece by piece, each at most amt bytes', async () => {
    const response = await streaming('/chunked');
    const parts: Buffer[] = [];
    for await (const piece of response.readChunked(4096)) {
      assert.ok(piece.length > 0 && piece.length <= 4096, `${piece.length} bytes`);
      parts.push(piece);
    }
    assert.deepEqual(Buffer.concat(parts), TEXT);
  });

  test('decodes a chunked gzip body, or not with decodeContent false', async () => {
    const decoded: Buffer[] = [];
    for await (const piece of (await streaming('/chunked-gzip')).readChunked()) decoded.push(piece);
    assert.deepEqual(Buffer.concat(decoded), TEXT);

    const raw: Buffer[] = [];
    for await (const piece of (await streaming('/chunked-gzip')).readChunked(undefined, false))
      raw.push(piece);
    assert.deepEqual(Buffer.concat(raw), GZIPPED);
  });

  test('raises ResponseNotChunked on a body that is not chunked', async () => {
    const response = await streaming('/plain');
    assert.equal(response.chunked, false);
    await assert.rejects(
      response.readChunked().next(),
      (error: unknown) =>
        error instanceof ResponseNotChunked &&
        error instanceof ProtocolError &&
        /transfer-encoding: chunked/.test(error.message),
    );
    response.releaseConn();
  });
});
