// One request on one HTTP/2 stream (docs/api.md sections 1, 2 and 9): the same
// semantics as on HTTP/1.1 - trailers, early responses (103, 100-continue),
// uploads and downloads streamed under flow control, Content-Length checks,
// decoding, the read timeout and aborts - and what is HTTP/2's own: the
// request head (pseudo-headers, no connection-specific fields) and a failed
// or cancelled stream leaving the connection to the other streams.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type HTTPResponse,
  HTTPSConnectionPool,
  IncompleteRead,
  InvalidHeader,
  makeHeaders,
  ProtocolError,
  ReadTimeoutError,
  RequestAbortedError,
  Timeout,
} from '../../src/index.js';
import { waitUntil } from '../support/servers.js';
import {
  type H2TestServer,
  pattern,
  rejectionOf,
  startH2Server,
  tlsOptions,
  writeWithBackpressure,
} from './h2-fixtures.js';

/** Server-side progress of the tracked routes. */
const tracked = { written: 0, received: 0, rst: -1 };

let s: H2TestServer;
let pool: HTTPSConnectionPool;

before(async () => {
  s = await startH2Server({
    handler: async (stream: ServerHttp2Stream, headers) => {
      const path = String(headers[':path']);
      if (path.startsWith('/tracked-download/')) {
        tracked.written = 0;
        const n = Number(path.split('/')[2]);
        stream.respond({ ':status': 200, 'content-length': n });
        await writeWithBackpressure(stream, n, tracked);
        return true;
      }
      if (path === '/slow-reader') {
        // Reads the upload slowly: 64 KiB every 20 ms.
        tracked.received = 0;
        stream.pause();
        const hash = createHash('sha256');
        stream.on('data', (c: Buffer) => {
          tracked.received += c.length;
          hash.update(c);
        });
        const timer = setInterval(() => {
          stream.resume();
          setTimeout(() => stream.pause(), 2);
        }, 20);
        stream.on('end', () => {
          clearInterval(timer);
          stream.respond({ ':status': 200 });
          stream.end(`${tracked.received} ${hash.digest('hex')}`);
        });
        stream.on('close', () => clearInterval(timer));
        return true;
      }
      if (path === '/watch-reset') {
        tracked.rst = -1;
        stream.respond({ ':status': 200 });
        stream.write('x'.repeat(100));
        stream.on('close', () => {
          tracked.rst = stream.rstCode ?? -1;
        });
        return true;
      }
      return false;
    },
  });
  pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 2 });
});

after(async () => {
  await pool.close();
  await s.close();
});

describe('request head', () => {
  test('pseudo-headers from method, target and host; connection-specific fields dropped', async () => {
    const r = await pool.request('POST', '/echo?q=1', {
      body: 'abc',
      headers: {
        Connection: 'keep-alive',
        'Keep-Alive': 'timeout=5',
        'Proxy-Connection': 'keep-alive',
        Upgrade: 'websocket',
        Host: 'example.test:8443',
        TE: 'trailers',
        'X-Custom': 'yes',
        'User-Agent': 'ua-test',
      },
    });
    const echo = r.json() as {
      method: string;
      path: string;
      authority: string;
      scheme: string;
      headers: Record<string, string>;
      body: string;
    };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.path, '/echo?q=1');
    assert.equal(echo.scheme, 'https');
    assert.equal(echo.authority, 'example.test:8443');
    assert.equal(echo.body, 'abc');
    for (const name of [
      'connection',
      'keep-alive',
      'proxy-connection',
      'upgrade',
      'host',
      'transfer-encoding',
    ]) {
      assert.equal(echo.headers[name], undefined, name);
    }
    assert.equal(echo.headers['te'], 'trailers');
    assert.equal(echo.headers['x-custom'], 'yes');
    assert.equal(echo.headers['user-agent'], 'ua-test');
    assert.equal(echo.headers['content-length'], '3');
  });

  test('the default authority is the host and port; TE other than trailers is dropped', async () => {
    const r = await pool.request('GET', '/echo', { headers: { TE: 'gzip' } });
    const echo = r.json() as { authority: string; headers: Record<string, string> };
    assert.equal(echo.authority, `localhost:${s.port}`);
    assert.equal(echo.headers['te'], undefined);
    assert.equal(echo.headers['accept-encoding'], 'identity');
  });

  test('makeHeaders({ keepAlive: true }) works on HTTP/2 (its Connection header is not sent)', async () => {
    const r = await pool.request('GET', '/echo', { headers: makeHeaders({ keepAlive: true }) });
    const echo = r.json() as { headers: Record<string, string> };
    assert.equal(echo.headers['connection'], undefined);
  });

  test('a streamed body of unknown length goes without Transfer-Encoding', async () => {
    async function* gen() {
      yield Buffer.from('one ');
      yield Buffer.from('two');
    }
    const r = await pool.request('PUT', '/echo', { body: gen() });
    const echo = r.json() as { headers: Record<string, string>; body: string };
    assert.equal(echo.body, 'one two');
    assert.equal(echo.headers['transfer-encoding'], undefined);
    assert.equal(echo.headers['content-length'], undefined);
  });

  test('a header value with CR or LF is an InvalidHeader before anything is sent', async () => {
    const before = s.streams;
    const err = await rejectionOf(
      pool.request('GET', '/echo', { headers: { 'X-Bad': 'a\r\nb' }, retries: false }),
    );
    assert.ok(err instanceof InvalidHeader, `${err.name}: ${err.message}`);
    assert.equal(s.streams, before);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
  });
});

describe('response', () => {
  test('multi-valued headers keep their values', async () => {
    const r = await pool.request('GET', '/multi');
    assert.deepEqual(r.headers.getList('set-cookie'), ['a=1', 'b=2']);
    assert.deepEqual(r.headers.getList('x-multi'), ['one', 'two']);
    assert.equal(r.headers.has(':status'), false);
  });

  test('HEAD, 204 and 304 have no body', async () => {
    const head = await pool.request('HEAD', '/bytes/1000');
    assert.equal(head.headers.get('content-length'), '1000');
    assert.equal(head.data.length, 0);
    assert.equal((await pool.request('GET', '/status/204')).data.length, 0);
    assert.equal((await pool.request('GET', '/status/304')).data.length, 0);
  });

  test('trailers are known once the body is read (preloaded and streamed)', async () => {
    const r = await pool.request('GET', '/trailers');
    assert.equal(r.data.toString(), 'body before trailers');
    assert.equal(r.trailers?.get('x-checksum'), 'abc123');
    assert.equal(r.trailers?.get('x-done'), 'yes');
    const streamed = await pool.request('GET', '/trailers', { preloadContent: false });
    assert.equal((await streamed.read()).toString(), 'body before trailers');
    assert.equal(streamed.trailers?.get('x-checksum'), 'abc123');
  });

  test('gzip is decoded as on HTTP/1.1, preloaded and streamed; decodeContent: false keeps it', async () => {
    const expected = 'compressed over HTTP/2 '.repeat(200);
    assert.equal((await pool.request('GET', '/gzip')).data.toString(), expected);
    const streamed = await pool.request('GET', '/gzip', { preloadContent: false });
    const parts: Buffer[] = [];
    for await (const c of streamed.stream(100)) parts.push(c);
    assert.equal(Buffer.concat(parts).toString(), expected);
    const raw = await pool.request('GET', '/gzip', { decodeContent: false });
    assert.equal(raw.data[0], 0x1f);
    assert.equal(raw.data[1], 0x8b);
  });

  test('a body shorter than Content-Length is a ProtocolError caused by IncompleteRead', async () => {
    const err = await rejectionOf(pool.request('GET', '/short', { retries: false }));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.ok(err.cause instanceof IncompleteRead, String(err.cause));
    assert.equal((err.cause as IncompleteRead).partial, 3);
    assert.equal((err.cause as IncompleteRead).expected, 7);
  });

  test('with enforceContentLength: false the short body is the body', async () => {
    const r = await pool.request('GET', '/short', { enforceContentLength: false, retries: false });
    assert.equal(r.data.toString(), 'abc');
  });

  test('a stream reset mid-body fails the read with a ProtocolError; the connection carries on', async () => {
    const before = s.connections;
    const r = await pool.request('GET', '/rst-mid-body', { preloadContent: false, retries: false });
    const err = await rejectionOf(r.read());
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /INTERNAL_ERROR/);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, before);
  });

  test('response.connection is the connection until release, then null', async () => {
    const r = await pool.request('GET', '/hello', { preloadContent: false });
    assert.ok(r.connection !== null);
    await r.read();
    r.releaseConn();
    assert.equal(r.connection, null);
  });

  test('releasing a half-read body resets only that stream', async () => {
    const before = s.connections;
    const r = await pool.request('GET', '/watch-reset', { preloadContent: false });
    await r.read(10);
    r.releaseConn();
    assert.ok(await waitUntil(() => tracked.rst === http2.constants.NGHTTP2_CANCEL));
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, before);
  });
});

describe('early responses', () => {
  test('103 Early Hints reach onEarlyResponse before the 200', async () => {
    const early: HTTPResponse[] = [];
    const r = await pool.request('GET', '/early-hints', { onEarlyResponse: (e) => early.push(e) });
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'final');
    assert.equal(early.length, 1);
    assert.equal(early[0]!.status, 103);
    assert.equal(early[0]!.version, 20);
    assert.equal(early[0]!.headers.get('link'), '</style.css>; rel=preload; as=style');
    assert.equal(early[0]!.data.length, 0);
  });

  test('Expect: 100-continue waits for the 100, then sends the body', async () => {
    const early: number[] = [];
    const r = await pool.request('POST', '/continue', {
      body: Buffer.alloc(5000, 1),
      headers: { Expect: '100-continue' },
      onEarlyResponse: (e) => early.push(e.status),
    });
    assert.deepEqual(early, [100]);
    assert.equal(r.data.toString(), 'got 5000');
  });

  test('a final answer instead of 100 Continue is the response; the body is never sent', async () => {
    let sent = -1;
    const r = await pool.request('POST', '/reject-expect', {
      body: Buffer.alloc(100_000, 1),
      headers: { Expect: '100-continue' },
      onUploadBody: (n) => {
        sent = n;
      },
    });
    assert.equal(r.status, 417);
    assert.equal(r.data.toString(), 'no thanks');
    assert.equal(sent, 0);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
  });
});

describe('flow control', () => {
  test('a slow reader of a large body holds memory flat while other streams progress', async () => {
    const total = 32 * 1024 * 1024;
    const before = s.connections;
    const r = await pool.request('GET', `/tracked-download/${total}`, { preloadContent: false });
    const first = await r.read(65536);
    assert.equal(first.length, 65536);
    await sleep(300);
    const buffered = tracked.written - 65536;
    assert.ok(buffered < 3 * 1024 * 1024, `the server got ${buffered} bytes ahead of the reader`);
    // The same connection still serves other requests while this stream is held back.
    const t0 = Date.now();
    const others = await Promise.all([pool.request('GET', '/hello'), pool.request('GET', '/bytes/200000')]);
    assert.ok(others.every((o) => o.status === 200));
    assert.equal(others[1]!.data.length, 200000);
    assert.ok(Date.now() - t0 < 2000);
    assert.equal(s.connections, before, 'on the same connection');
    // Then read the rest, checking every byte.
    let offset = 65536;
    let ok = first.equals(pattern(65536));
    for await (const chunk of r.stream(1024 * 1024)) {
      if (ok && !chunk.equals(pattern(chunk.length, offset))) ok = false;
      offset += chunk.length;
    }
    assert.equal(offset, total);
    assert.ok(ok, 'body bytes match');
  });

  test('a large upload to a server with a tiny window goes through; other streams progress meanwhile', async () => {
    const tiny = await startH2Server({ settings: { initialWindowSize: 1024 } });
    try {
      await using p = new HTTPSConnectionPool('localhost', { port: tiny.port, ...tlsOptions(tiny) });
      const body = pattern(1024 * 1024);
      const progress: number[] = [];
      let completed = false;
      const upload = p.request('POST', '/echo', {
        body,
        onUploadBody: (sent, len, done) => {
          progress.push(sent);
          assert.equal(len, body.length);
          if (done) completed = true;
        },
      });
      await sleep(20);
      assert.equal((await p.request('GET', '/hello')).status, 200);
      const echo = (await upload).json() as { bodyLength: number; bodySha: string };
      assert.equal(echo.bodyLength, body.length);
      assert.equal(echo.bodySha, createHash('sha256').update(body).digest('hex'));
      assert.ok(completed);
      assert.equal(progress.at(-1), body.length);
      assert.equal(tiny.connections, 1);
    } finally {
      await tiny.close();
    }
  });

  test('a streamed upload is read from its source only as fast as the server takes it', async () => {
    const chunk = 64 * 1024;
    const chunks = 64; // 4 MiB
    let produced = 0;
    let maxAhead = 0;
    async function* source() {
      for (let i = 0; i < chunks; i++) {
        maxAhead = Math.max(maxAhead, produced - tracked.received);
        produced += chunk;
        yield pattern(chunk, i * chunk);
      }
    }
    const progress: number[] = [];
    const r = await pool.request('POST', '/slow-reader', {
      body: source(),
      onUploadBody: (sent) => progress.push(sent),
      timeout: 20_000,
    });
    const [n, sha] = r.data.toString().split(' ');
    assert.equal(Number(n), chunk * chunks);
    assert.equal(
      sha,
      createHash('sha256')
        .update(pattern(chunk * chunks))
        .digest('hex'),
    );
    assert.ok(maxAhead < 2 * 1024 * 1024, `the source was read ${maxAhead} bytes ahead of the server`);
    assert.equal(progress.at(-1), chunk * chunks);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!);
  });
});

describe('timeouts and aborts', () => {
  test('read timeout while waiting for the response head', async () => {
    const err = await rejectionOf(
      pool.request('GET', '/hang', { timeout: new Timeout({ read: 150 }), retries: false }),
    );
    assert.ok(err instanceof ReadTimeoutError, `${err.name}: ${err.message}`);
    assert.equal(err.url, `https://localhost:${s.port}/hang`);
  });

  test('read timeout between pieces of a body; the connection carries on', async () => {
    const before = s.connections;
    const r = await pool.request('GET', '/stall-body', {
      timeout: new Timeout({ read: 150 }),
      preloadContent: false,
      retries: false,
    });
    const err = await rejectionOf(r.read());
    assert.ok(err instanceof ReadTimeoutError, `${err.name}: ${err.message}`);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, before);
  });

  test('a paused reader is not timed out', async () => {
    const r = await pool.request('GET', '/bytes/3000000', {
      timeout: new Timeout({ read: 100 }),
      preloadContent: false,
    });
    await sleep(400);
    assert.equal((await r.read()).length, 3000000);
  });

  test('abort mid-response: RequestAbortedError, RST_STREAM CANCEL, the connection carries on', async () => {
    const before = s.connections;
    const ac = new AbortController();
    const r = await pool.request('GET', '/watch-reset', { preloadContent: false, signal: ac.signal });
    await r.read(50);
    ac.abort();
    const err = await rejectionOf(r.read());
    assert.ok(err instanceof RequestAbortedError, `${err.name}: ${err.message}`);
    assert.ok(await waitUntil(() => tracked.rst === http2.constants.NGHTTP2_CANCEL));
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, before);
  });

  test('abort while waiting for the head', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('changed my mind')), 50);
    const err = await rejectionOf(pool.request('GET', '/hang', { signal: ac.signal }));
    assert.ok(err instanceof RequestAbortedError, `${err.name}: ${err.message}`);
    assert.equal((err.cause as Error).message, 'changed my mind');
  });

  test('an already aborted signal sends nothing', async () => {
    const before = s.streams;
    const err = await rejectionOf(pool.request('GET', '/hello', { signal: AbortSignal.abort() }));
    assert.ok(err instanceof RequestAbortedError);
    assert.equal(s.streams, before);
  });
});
