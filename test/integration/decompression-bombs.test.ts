// Decompression bombs from a hostile raw server (issue 16, items 1 and 2):
// a few kilobytes that expand to tens of megabytes, on every coding and a
// stack. Reading with read(65536), stream(65536) or chunk by chunk must
// decode only about as much as was asked: the decoded bytes waiting in the
// response (its queue, sampled after every read) stay within a few read
// sizes, never the whole bomb. And a Content-Encoding stacking more than five
// codings is refused with DecodeError, as urllib3 2.6 refuses it.

import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { DecodeError, HTTPConnectionPool, type HTTPResponse, HttpVersion } from '../../src/index.js';
import { bombs } from '../support/bombs.js';
import { httpResponse, type RawServer, rawServer } from '../support/servers.js';
import { type H2TestServer, startH2Server } from './h2-fixtures.js';

const SIZE = 32 * 1024 * 1024;
const READ = 65536;
// A read's worth waiting in the queue, one decoder step (64 KiB) more, and slack.
const BOUND = READ + 2 * 64 * 1024;

let fixtures: Record<string, Buffer>;
let server: RawServer;
let pool: HTTPConnectionPool;

before(async () => {
  fixtures = await bombs(SIZE);
  server = await rawServer((socket, request) => {
    const url = new URL(request.target, 'http://x');
    const encoding = url.searchParams.get('encoding')!;
    const chunked = url.searchParams.has('chunked');
    const body = fixtures[encoding]!;
    if (!chunked) {
      socket.write(httpResponse(200, body, { 'Content-Encoding': encoding }));
      return;
    }
    socket.write(httpResponse(200, '', { 'Content-Encoding': encoding, 'Transfer-Encoding': 'chunked' }));
    for (let i = 0; i < body.length; i += 1000) {
      const piece = body.subarray(i, i + 1000);
      socket.write(`${piece.length.toString(16)}\r\n`);
      socket.write(piece);
      socket.write('\r\n');
    }
    socket.write('0\r\n\r\n');
  });
  pool = new HTTPConnectionPool('127.0.0.1', { port: server.port, retries: false });
});

after(async () => {
  await pool.close();
  await server.close();
});

/** Decoded bytes the response holds for its reader right now. */
function queued(response: HTTPResponse): number {
  return (response as unknown as { _queued: number })._queued;
}

async function bomb(encoding: string, chunked = false): Promise<HTTPResponse> {
  const target = `/?encoding=${encodeURIComponent(encoding)}${chunked ? '&chunked' : ''}`;
  return pool.request('GET', target, { preloadContent: false });
}

const CODINGS = ['gzip', 'deflate', 'br', 'zstd', 'gzip, br'];

describe('a decompression bomb is decoded only as far as the reader asks', () => {
  for (const encoding of CODINGS) {
    test(`read(65536) on a ${encoding} bomb keeps at most about one read queued`, async () => {
      const response = await bomb(encoding);
      let total = 0;
      let peak = 0;
      for (;;) {
        const chunk = await response.read(READ);
        peak = Math.max(peak, queued(response));
        if (chunk.length === 0) break;
        assert.ok(chunk.length <= READ);
        total += chunk.length;
      }
      assert.equal(total, SIZE);
      assert.ok(peak <= BOUND, `${peak} decoded bytes were queued at once (bound ${BOUND})`);
    });
  }

  for (const encoding of ['gzip', 'br', 'zstd']) {
    test(`stream() over a chunked ${encoding} bomb, chunks thrown away, stays flat`, async () => {
      const response = await bomb(encoding, true);
      let total = 0;
      let peak = 0;
      for await (const chunk of response.stream(READ)) {
        total += chunk.length;
        peak = Math.max(peak, queued(response));
      }
      assert.equal(total, SIZE);
      assert.ok(peak <= BOUND, `${peak} decoded bytes were queued at once (bound ${BOUND})`);
    });

    test(`chunk-by-chunk iteration of a ${encoding} bomb stays flat`, async () => {
      const response = await bomb(encoding);
      let total = 0;
      let peak = 0;
      for await (const chunk of response) {
        total += chunk.length;
        peak = Math.max(peak, queued(response));
      }
      assert.equal(total, SIZE);
      assert.ok(peak <= BOUND, `${peak} decoded bytes were queued at once (bound ${BOUND})`);
    });
  }

  test('a slow reader of a bomb does not make the response decode ahead', async () => {
    const response = await bomb('br');
    assert.equal((await response.read(1024)).length, 1024);
    // The whole (small) encoded body has arrived by now; nothing is decoded until asked.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(queued(response) <= BOUND, `${queued(response)} bytes decoded ahead of the reader`);
    response.releaseConn();
  });
});

describe('over HTTP/2 (h2c), a bomb is decoded only as far as the reader asks', () => {
  let h2c: H2TestServer;
  let h2Pool: HTTPConnectionPool;

  before(async () => {
    h2c = await startH2Server({
      tls: false,
      handler: (stream, headers) => {
        const encoding = new URL(String(headers[':path']), 'http://x').searchParams.get('encoding');
        if (encoding === null) return false;
        stream.respond({ ':status': 200, 'content-encoding': encoding });
        stream.end(fixtures[encoding]);
        return true;
      },
    });
    h2Pool = new HTTPConnectionPool('127.0.0.1', { port: h2c.port, disabledSvn: new Set([HttpVersion.h11]) });
  });

  after(async () => {
    await h2Pool.close();
    await h2c.close();
  });

  for (const encoding of ['br', 'zstd', 'gzip, br']) {
    test(`read(65536) on a ${encoding} bomb over HTTP/2 keeps at most about one read queued`, async () => {
      const response = await h2Pool.request('GET', `/?encoding=${encodeURIComponent(encoding)}`, {
        preloadContent: false,
      });
      assert.equal(response.version, 20);
      let total = 0;
      let peak = 0;
      for (let chunk = await response.read(READ); chunk.length > 0; chunk = await response.read(READ)) {
        peak = Math.max(peak, queued(response));
        total += chunk.length;
      }
      assert.equal(total, SIZE);
      assert.ok(peak <= BOUND, `${peak} decoded bytes were queued at once (bound ${BOUND})`);
    });
  }
});

describe('stacked Content-Encodings are limited to five', () => {
  let stackServer: RawServer;
  let stackPool: HTTPConnectionPool;

  before(async () => {
    stackServer = await rawServer((socket, request) => {
      const layers = Number(new URL(request.target, 'http://x').searchParams.get('layers'));
      let body = Buffer.from('deep inside');
      for (let i = 0; i < layers; i++) body = zlib.gzipSync(body);
      socket.write(httpResponse(200, body, { 'Content-Encoding': Array(layers).fill('gzip').join(', ') }));
    });
    stackPool = new HTTPConnectionPool('127.0.0.1', { port: stackServer.port, retries: false });
  });

  after(async () => {
    await stackPool.close();
    await stackServer.close();
  });

  const tooMany = (error: unknown) =>
    error instanceof DecodeError && /too many content encodings/.test(error.message);

  test('five stacked gzip codings are decoded', async () => {
    const preloaded = await stackPool.request('GET', '/?layers=5');
    assert.equal(preloaded.data.toString(), 'deep inside');
    const streamed = await stackPool.request('GET', '/?layers=5', { preloadContent: false });
    assert.equal((await streamed.read()).toString(), 'deep inside');
  });

  test('six stacked codings are a DecodeError, preloaded or streamed', async () => {
    await assert.rejects(stackPool.request('GET', '/?layers=6'), tooMany);
    const streamed = await stackPool.request('GET', '/?layers=6', { preloadContent: false });
    await assert.rejects(streamed.read(), tooMany);
    streamed.releaseConn();
  });

  test('a chain of a thousand codings is refused, not decoded', async () => {
    const streamed = await stackPool.request('GET', '/?layers=1000', { preloadContent: false });
    await assert.rejects(streamed.read(READ), tooMany);
    streamed.releaseConn();
  });

  test('a refused chain can still be read undecoded', async () => {
    const streamed = await stackPool.request('GET', '/?layers=6', { preloadContent: false });
    const raw = await streamed.read(undefined, { decodeContent: false });
    let expected = Buffer.from('deep inside');
    for (let i = 0; i < 6; i++) expected = zlib.gzipSync(expected);
    assert.deepEqual(raw, expected);
  });
});
