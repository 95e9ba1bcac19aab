// HTTPResponse end to end (docs/api.md section 2): bodies, text and JSON, the
// streaming readers, backpressure on a huge body, Content-Encoding decoding,
// Content-Length enforcement, trailers, connection hand-back and status-line
// details, against in-process node:http and raw TCP servers on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import type http from 'node:http';
import type net from 'node:net';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import {
  DecodeError,
  HTTPResponse,
  IncompleteRead,
  MaxRetryError,
  PoolManager,
  ProtocolError,
  type Retry,
} from '../../src/index.js';
import {
  startHttpServer,
  startRawServer,
  type TestHttpServer,
  type TestRawServer,
  waitUntil,
} from '../support/http-fixtures.js';

// ---- fixtures --------------------------------------------------------------

/** Deterministic bytes: byte i is i mod 251, so any misplaced slice shows. */
function pattern(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = i % 251;
  return b;
}

/** Compressible text of about 300 KB: several zlib output chunks, more than one queue high-water mark. */
const PLAIN = Buffer.from(
  Array.from(
    { length: 6000 },
    (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog ${i * 7919}\n`,
  ).join(''),
);

function zstdCompress(input: Buffer): Buffer | null {
  try {
    const r = spawnSync('zstd', ['-q', '-c', '-3'], { input, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0 || r.stdout.length === 0) return null;
    return r.stdout;
  } catch {
    return null;
  }
}

const ZSTD_BODY = zstdCompress(PLAIN);

/** Content-Encoding header value -> encoded body of PLAIN. */
const ENCODED: Record<string, Buffer> = {
  gzip: zlib.gzipSync(PLAIN),
  'x-gzip': zlib.gzipSync(PLAIN),
  deflate: zlib.deflateSync(PLAIN),
  // The same header, but a raw deflate stream without the zlib wrapper.
  'deflate-raw': zlib.deflateRawSync(PLAIN),
  br: zlib.brotliCompressSync(PLAIN),
  // Codings are listed in the order they were applied: gzip first, then br.
  'gzip, br': zlib.brotliCompressSync(zlib.gzipSync(PLAIN)),
  // And the other way round, to be sure the order is honoured, not guessed.
  'br, gzip': zlib.gzipSync(zlib.brotliCompressSync(PLAIN)),
};
if (ZSTD_BODY !== null) ENCODED.zstd = ZSTD_BODY;

const HUGE_TOTAL = 1024 * 1024 * 1024;
const BIG = pattern(8 * 1024 * 1024);
const LATIN1_TEXT = 'café crème, señor, naïve: ÀÉÎÕÜ ß';

interface HugeState {
  written: number;
  closed: boolean;
}

let srv: TestHttpServer;
let raw: TestRawServer;
let pm: PoolManager;
/** The server-side socket of the most recent request to each path. */
const lastSocket = new Map<string, net.Socket>();
const closedSockets = new WeakSet<net.Socket>();
let hugeState: HugeState = { written: 0, closed: false };
let releaseGate: (() => void) | null = null;
const requestsTo = new Map<string, number>();

const watchedSockets = new WeakSet<net.Socket>();

function rememberSocket(path: string, socket: net.Socket): void {
  lastSocket.set(path, socket);
  if (!watchedSockets.has(socket)) {
    watchedSockets.add(socket);
    socket.once('close', () => closedSockets.add(socket));
  }
}

function socketOf(path: string): net.Socket {
  const s = lastSocket.get(path);
  assert.ok(s, `the server saw no request to ${path}`);
  return s;
}

function pumpHuge(res: http.ServerResponse): void {
  const state: HugeState = { written: 0, closed: false };
  hugeState = state;
  res.on('close', () => {
    state.closed = true;
  });
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': HUGE_TOTAL });
  const chunk = Buffer.alloc(64 * 1024, 0x5a);
  const pump = () => {
    while (state.written < HUGE_TOTAL && !res.destroyed) {
      state.written += chunk.length;
      if (!res.write(chunk)) {
        res.once('drain', pump);
        return;
      }
    }
    if (state.written >= HUGE_TOTAL) res.end();
  };
  pump();
}

const handler = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
  const u = new URL(req.url ?? '/', 'http://x');
  rememberSocket(u.pathname, req.socket);
  requestsTo.set(u.pathname, (requestsTo.get(u.pathname) ?? 0) + 1);
  for await (const _ of req) {
    // request bodies are not used here
  }
  switch (u.pathname) {
    case '/json':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"a":1,"b":[true,null],"c":"é"}');
      return;
    case '/badjson':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"a": 1,');
      return;
    case '/latin1':
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=iso-8859-1' });
      res.end(Buffer.from(LATIN1_TEXT, 'latin1'));
      return;
    case '/utf8':
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(Buffer.from(LATIN1_TEXT, 'utf8'));
      return;
    case '/bytes': {
      const n = Number(u.searchParams.get('n') ?? '0');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
      res.end(pattern(n));
      return;
    }
    case '/chunked-bytes': {
      // No Content-Length: chunked, in uneven pieces.
      const body = pattern(Number(u.searchParams.get('n') ?? '0'));
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      for (let off = 0; off < body.length; off += 777) res.write(body.subarray(off, off + 777));
      res.end();
      return;
    }
    case '/gate': {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('A'.repeat(100));
      await new Promise<void>((resolve) => {
        releaseGate = resolve;
      });
      res.end('B'.repeat(100));
      return;
    }
    case '/big':
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': BIG.length });
      res.end(BIG);
      return;
    case '/huge':
      pumpHuge(res);
      return;
    case '/encoded': {
      const coding = u.searchParams.get('coding') ?? '';
      const body = ENCODED[coding];
      if (body === undefined) {
        res.writeHead(404);
        res.end();
        return;
      }
      const header = coding === 'deflate-raw' ? 'deflate' : coding;
      res.writeHead(200, { 'Content-Encoding': header, 'Content-Length': body.length });
      res.end(body);
      return;
    }
    case '/corrupt-gzip': {
      // Claims gzip but is not: the decoder must fail, not pass it through.
      const body = Buffer.concat([
        Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 3]),
        Buffer.alloc(4096, 0xff),
      ]);
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Length': body.length });
      res.end(body);
      return;
    }
    case '/trailers':
      res.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
      res.write('first part, ');
      res.write('second part');
      res.addTrailers({ 'X-Checksum': 'sha1-abc123' });
      res.end();
      return;
    case '/no-content':
      res.writeHead(204);
      res.end();
      return;
    case '/redirect':
      res.writeHead(302, { Location: '/json' });
      res.end();
      return;
    case '/redirect-no-location':
      res.writeHead(302);
      res.end('no location here');
      return;
    default:
      res.writeHead(404);
      res.end('not found');
  }
};

let rawRequests = 0;
function rawHandler(socket: net.Socket, head: string): void {
  rawRequests++;
  const target = head.split(' ')[1] ?? '/';
  if (target === '/http10') {
    socket.end('HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from HTTP/1.0');
  } else if (target === '/http10-length') {
    // A 1.0 response with Content-Length but no keep-alive: still not reusable.
    socket.write('HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nfive!');
  } else if (target === '/short') {
    // Promises 100 bytes, sends 40, then drops the connection.
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n${'x'.repeat(40)}`, () => socket.destroy());
  } else {
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  }
}

before(async () => {
  srv = await startHttpServer(handler);
  raw = await startRawServer(rawHandler);
  pm = new PoolManager();
});

after(async () => {
  releaseGate?.();
  await pm.close();
  await srv.close();
  await raw.close();
});

async function collect(it: AsyncIterable<Uint8Array>): Promise<{ chunks: Buffer[]; all: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of it) chunks.push(Buffer.from(c));
  return { chunks, all: Buffer.concat(chunks) };
}

// ---- tests -------------------------------------------------------------------

describe('preloaded bodies', () => {
  test('data holds the whole body as a Buffer', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=12345'));
    assert.equal(r.status, 200);
    assert.ok(r instanceof HTTPResponse);
    assert.ok(Buffer.isBuffer(r.data));
    assert.deepEqual(r.data, pattern(12345));
  });

  test('json() parses the body', async () => {
    const r = await pm.request('GET', srv.url('/json'));
    assert.deepEqual(r.json(), { a: 1, b: [true, null], c: 'é' });
  });

  test('json<T>() returns the parsed body typed as T', async () => {
    const r = await pm.request('GET', srv.url('/json'));
    const value = r.json<{ a: number; b: (boolean | null)[]; c: string }>();
    // Typed: these compile without casts (npm run typecheck checks them).
    const a: number = value.a;
    const c: string = value.c;
    assert.equal(a + 1, 2);
    assert.equal(c.toUpperCase(), 'É');
  });

  test('json() throws SyntaxError on invalid JSON', async () => {
    const r = await pm.request('GET', srv.url('/badjson'));
    assert.throws(() => r.json(), SyntaxError);
  });

  test('text() decodes with the charset named in Content-Type', async () => {
    const r = await pm.request('GET', srv.url('/latin1'));
    assert.equal(r.data.length, LATIN1_TEXT.length, 'latin1 is one byte per character');
    assert.equal(r.text(), LATIN1_TEXT);
  });

  test('text() defaults to UTF-8 without a charset', async () => {
    const r = await pm.request('GET', srv.url('/utf8'));
    assert.equal(r.text(), LATIN1_TEXT);
  });

  test('a HEAD response and a 204 have an empty body', async () => {
    const head = await pm.request('HEAD', srv.url('/bytes?n=5000'));
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-length'), '5000');
    assert.equal(head.data.length, 0);
    const none = await pm.request('GET', srv.url('/no-content'));
    assert.equal(none.status, 204);
    assert.equal(none.data.length, 0);
    // The connection stays usable: nothing was left unread on it.
    const after = await pm.request('GET', srv.url('/json'));
    assert.equal(after.status, 200);
  });

  test('versionString and version describe an HTTP/1.1 status line', async () => {
    const r = await pm.request('GET', srv.url('/json'));
    assert.equal(r.version, 11);
    assert.equal(r.versionString, 'HTTP/1.1');
    assert.equal(r.reason, 'OK');
  });
});

describe('streaming reads (preloadContent: false)', () => {
  const pointsToRead = (err: unknown) => err instanceof TypeError && /read\(\)/.test(err.message);

  test(
    'data throws a TypeError that points to read() while the body is still arriving',
    {
      timeout: 5000,
    },
    async () => {
      const r = await pm.request('GET', srv.url('/gate'), { preloadContent: false });
      try {
        assert.throws(() => r.data, pointsToRead);
      } finally {
        releaseGate?.();
        releaseGate = null;
        await r.drainConn();
      }
    },
  );

  test('data throws a TypeError that points to read() even when the whole body has arrived', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=2000'), { preloadContent: false });
    // Let the small body reach the client completely: whether data works must not depend on timing.
    await sleep(50);
    try {
      assert.throws(() => r.data, pointsToRead);
    } finally {
      await r.drainConn();
    }
  });

  test('read(amt) returns exactly amt bytes, then the shorter tail, then an empty Buffer', async () => {
    const r = await pm.request('GET', srv.url('/chunked-bytes?n=10000'), { preloadContent: false });
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await r.read(3000);
      sizes.push(c.length);
      parts.push(c);
    }
    assert.deepEqual(sizes, [3000, 3000, 3000, 1000, 0, 0]);
    assert.deepEqual(Buffer.concat(parts), pattern(10000));
  });

  test('read() without amt returns the rest of the body', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=50000'), { preloadContent: false });
    const head = await r.read(123);
    const rest = await r.read();
    assert.equal(head.length, 123);
    assert.deepEqual(Buffer.concat([head, rest]), pattern(50000));
    assert.equal((await r.read()).length, 0);
  });

  test('read() with cacheContent makes data available afterwards', async () => {
    const r = await pm.request('GET', srv.url('/json'), { preloadContent: false });
    const body = await r.read(undefined, { cacheContent: true });
    assert.deepEqual(r.data, body);
    assert.deepEqual(r.json(), { a: 1, b: [true, null], c: 'é' });
  });

  test('read1() returns what has arrived without waiting for the rest', { timeout: 5000 }, async () => {
    const r = await pm.request('GET', srv.url('/gate'), { preloadContent: false });
    // The server holds back the second half until releaseGate() is called,
    // so read1() can only resolve with (part of) the first 100 bytes.
    const first = await r.read1();
    assert.ok(first.length > 0 && first.length <= 100, `read1 returned ${first.length} bytes`);
    assert.equal(first.toString(), 'A'.repeat(first.length));
    assert.ok(releaseGate, 'the server is waiting at the gate');
    releaseGate();
    releaseGate = null;
    const rest = await r.read();
    assert.equal(Buffer.concat([first, rest]).toString(), 'A'.repeat(100) + 'B'.repeat(100));
  });

  test('stream(1000) yields 1000-byte chunks and a shorter last one', async () => {
    const r = await pm.request('GET', srv.url('/chunked-bytes?n=4500'), { preloadContent: false });
    const { chunks, all } = await collect(r.stream(1000));
    assert.deepEqual(
      chunks.map((c) => c.length),
      [1000, 1000, 1000, 1000, 500],
    );
    assert.deepEqual(all, pattern(4500));
  });

  test('for await over the response yields the whole body', async () => {
    const r = await pm.request('GET', srv.url('/chunked-bytes?n=100000'), { preloadContent: false });
    const { chunks, all } = await collect(r);
    assert.ok(chunks.length >= 1);
    assert.ok(
      chunks.every((c) => c.length > 0),
      'no empty chunks',
    );
    assert.deepEqual(all, pattern(100000));
  });

  test('toReadable() can be piped into a Writable', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=300000'), { preloadContent: false });
    const received: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        received.push(chunk);
        cb();
      },
    });
    await pipeline(r.toReadable(), sink);
    assert.deepEqual(Buffer.concat(received), pattern(300000));
  });

  test('toWebStream() can be read with a reader', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=200000'), { preloadContent: false });
    const reader = r.toWebStream().getReader();
    const chunks: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) {
      const { done, value } = await reader.read();
      if (done) break;
      assert.ok(value instanceof Uint8Array);
      chunks.push(Buffer.from(value));
    }
    assert.deepEqual(Buffer.concat(chunks), pattern(200000));
  });

  test('bodyUsed turns true once reading starts', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=100'), { preloadContent: false });
    assert.equal(r.bodyUsed, false);
    await r.read(10);
    assert.equal(r.bodyUsed, true);
    await r.drainConn();
  });

  test('destroying the Readable of toReadable() early closes the connection', { timeout: 5000 }, async () => {
    const r = await pm.request('GET', srv.url('/big'), { preloadContent: false });
    const sock = socketOf('/big');
    const readable = r.toReadable();
    const [first] = (await once(readable, 'data')) as [Buffer];
    assert.ok(first.length > 0);
    readable.destroy();
    await waitUntil(() => closedSockets.has(sock), 2000, 'the server to see the connection closed');
    assert.equal(r.closed, true);
  });

  test('cancelling the stream of toWebStream() closes the connection', { timeout: 5000 }, async () => {
    const r = await pm.request('GET', srv.url('/big'), { preloadContent: false });
    const sock = socketOf('/big');
    const reader = r.toWebStream().getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    await reader.cancel();
    await waitUntil(() => closedSockets.has(sock), 2000, 'the server to see the connection closed');
    assert.equal(r.closed, true);
  });

  test(
    'a slow reader of a 1 GiB body keeps the server stalled and memory flat',
    {
      timeout: 10_000,
    },
    async (t) => {
      const started = Date.now();
      const rss0 = process.memoryUsage().rss;
      const r = await pm.request('GET', srv.url('/huge'), { preloadContent: false });
      assert.equal(r.headers.get('content-length'), String(HUGE_TOTAL));
      const state = hugeState;
      let got = 0;
      let reads = 0;
      while (got < 8 * 1024 * 1024 && Date.now() - started < 4000) {
        const c = await r.read(65536);
        if (c.length === 0) break;
        got += c.length;
        if (++reads % 16 === 0) await sleep(2);
      }
      assert.ok(got >= 8 * 1024 * 1024, `read ${got} bytes`);
      // Give an unthrottled server ample time to run ahead, if it could.
      await sleep(300);
      const written = state.written;
      const rssGrowth = process.memoryUsage().rss - rss0;
      r.close();
      t.diagnostic(
        `server wrote ${(written / 2 ** 20).toFixed(1)} MiB; RSS grew ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`,
      );
      assert.ok(written < 64 * 1024 * 1024, `the server wrote ${(written / 2 ** 20).toFixed(1)} MiB`);
      assert.ok(rssGrowth < 100 * 1024 * 1024, `RSS grew by ${(rssGrowth / 2 ** 20).toFixed(1)} MiB`);
      await waitUntil(() => state.closed, 2000, 'the server to see the connection closed');
      assert.ok(r.closed);
      assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
    },
  );
});

describe('content decoding', () => {
  for (const coding of Object.keys(ENCODED)) {
    test(`a ${coding} body is decoded when preloaded`, async () => {
      const r = await pm.request('GET', srv.url(`/encoded?coding=${encodeURIComponent(coding)}`));
      assert.equal(r.status, 200);
      assert.deepEqual(r.data, PLAIN);
    });

    test(`a ${coding} body is decoded when streamed`, async () => {
      const r = await pm.request('GET', srv.url(`/encoded?coding=${encodeURIComponent(coding)}`), {
        preloadContent: false,
      });
      const { all } = await collect(r.stream(10_000));
      assert.deepEqual(all, PLAIN);
    });
  }

  test(
    'a zstd body is decoded',
    {
      skip: ZSTD_BODY === null ? 'the zstd CLI is not installed' : false,
    },
    async () => {
      const r = await pm.request('GET', srv.url('/encoded?coding=zstd'));
      assert.equal(r.headers.get('content-encoding'), 'zstd');
      assert.deepEqual(r.data, PLAIN);
    },
  );

  test('read(amt) on a decoded stream still returns exactly amt bytes until the end', async () => {
    const r = await pm.request('GET', srv.url('/encoded?coding=gzip'), { preloadContent: false });
    const sizes: number[] = [];
    const parts: Buffer[] = [];
    for (let i = 0; i < 1000; i++) {
      const c = await r.read(7000);
      if (c.length === 0) break;
      sizes.push(c.length);
      parts.push(c);
    }
    assert.ok(
      sizes.slice(0, -1).every((n) => n === 7000),
      'every chunk but the last is full',
    );
    assert.equal(sizes.at(-1), PLAIN.length % 7000 || 7000);
    assert.deepEqual(Buffer.concat(parts), PLAIN);
  });

  test('decodeContent: false returns the raw encoded bytes', async () => {
    const r = await pm.request('GET', srv.url('/encoded?coding=gzip'), { decodeContent: false });
    assert.deepEqual(r.data, ENCODED.gzip);
    const s = await pm.request('GET', srv.url('/encoded?coding=gzip, br'), {
      decodeContent: false,
      preloadContent: false,
    });
    assert.deepEqual(await s.read(), ENCODED['gzip, br']);
  });

  test('a corrupt gzip body fails with DecodeError when preloaded', async () => {
    const before = requestsTo.get('/corrupt-gzip') ?? 0;
    await assert.rejects(pm.request('GET', srv.url('/corrupt-gzip')), (err: unknown) => {
      assert.ok(err instanceof DecodeError, `got ${(err as Error).name}: ${(err as Error).message}`);
      return true;
    });
    // urllib3 raises DecodeError from urlopen at once: it is not a retryable error.
    assert.equal((requestsTo.get('/corrupt-gzip') ?? 0) - before, 1, 'one request, no retries');
  });

  test('a corrupt gzip body fails with DecodeError when streamed', async () => {
    const r = await pm.request('GET', srv.url('/corrupt-gzip'), { preloadContent: false });
    await assert.rejects(r.read(), DecodeError);
    r.close();
  });
});

describe('Content-Length enforcement', () => {
  test('a body shorter than Content-Length is a ProtocolError caused by IncompleteRead', async () => {
    await assert.rejects(pm.request('GET', raw.url('/short'), { retries: false }), (err: unknown) => {
      assert.ok(err instanceof ProtocolError, `got ${(err as Error).name}: ${(err as Error).message}`);
      assert.ok(err.cause instanceof IncompleteRead, `cause is ${String(err.cause)}`);
      return true;
    });
  });

  test('a short streamed body fails the read with a ProtocolError caused by IncompleteRead', async () => {
    const r = await pm.request('GET', raw.url('/short'), { preloadContent: false, retries: false });
    await assert.rejects(r.read(), (err: unknown) => {
      assert.ok(err instanceof ProtocolError, `got ${(err as Error).name}`);
      assert.ok(err.cause instanceof IncompleteRead);
      return true;
    });
  });

  test('a short body on GET is retried, then MaxRetryError names the ProtocolError', async () => {
    const before = rawRequests;
    await assert.rejects(pm.request('GET', raw.url('/short'), { retries: 2 }), (err: unknown) => {
      assert.ok(err instanceof MaxRetryError, `got ${(err as Error).name}`);
      assert.ok(err.reason instanceof ProtocolError);
      return true;
    });
    assert.equal(rawRequests - before, 3, 'the first attempt and two retries');
  });

  test('enforceContentLength: false returns the partial body', async () => {
    const r = await pm.request('GET', raw.url('/short'), { enforceContentLength: false, retries: false });
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'x'.repeat(40));
  });
});

describe('trailers', () => {
  test('trailers of a chunked response are available after a preloaded read', async () => {
    const r = await pm.request('GET', srv.url('/trailers'));
    assert.equal(r.data.toString(), 'first part, second part');
    assert.ok(r.trailers !== null, 'trailers were received');
    assert.equal(r.trailers.get('x-checksum'), 'sha1-abc123');
    assert.equal(r.headers.get('x-checksum'), undefined, 'trailers are not headers');
  });

  test('trailers of a streamed response are known once the body is read', async () => {
    const r = await pm.request('GET', srv.url('/trailers'), { preloadContent: false });
    const body = await r.read();
    assert.equal(body.toString(), 'first part, second part');
    assert.equal(r.trailers?.get('X-Checksum'), 'sha1-abc123');
  });
});

describe('connection hand-back', () => {
  test('releaseConn() on a half-read body closes the connection and the next request opens a new one', async () => {
    const local = new PoolManager();
    try {
      const opened = srv.stats.opened;
      const r = await local.request('GET', srv.url('/big'), { preloadContent: false });
      const sock = socketOf('/big');
      assert.equal((await r.read(1000)).length, 1000);
      r.releaseConn();
      await waitUntil(() => closedSockets.has(sock), 2000, 'the server to see the connection closed');
      const r2 = await local.request('GET', srv.url('/json'));
      assert.equal(r2.status, 200);
      assert.notEqual(socketOf('/json'), sock);
      assert.equal(srv.stats.opened - opened, 2);
    } finally {
      await local.close();
    }
  });

  test('a fully read streamed body leaves the connection to be reused', async () => {
    const local = new PoolManager();
    try {
      const opened = srv.stats.opened;
      const r = await local.request('GET', srv.url('/bytes?n=70000'), { preloadContent: false });
      assert.equal((await r.read()).length, 70000);
      r.releaseConn();
      const sock = socketOf('/bytes');
      const r2 = await local.request('GET', srv.url('/json'));
      assert.equal(r2.status, 200);
      assert.equal(socketOf('/json'), sock, 'same server-side socket');
      assert.equal(srv.stats.opened - opened, 1);
      assert.ok(!closedSockets.has(sock));
    } finally {
      await local.close();
    }
  });

  test('drainConn() reads the rest and the connection is reused', async () => {
    const local = new PoolManager();
    try {
      const opened = srv.stats.opened;
      const r = await local.request('GET', srv.url('/big'), { preloadContent: false });
      const sock = socketOf('/big');
      assert.equal((await r.read(1000)).length, 1000);
      await r.drainConn();
      const r2 = await local.request('GET', srv.url('/json'));
      assert.equal(r2.status, 200);
      assert.equal(socketOf('/json'), sock, 'same server-side socket');
      assert.equal(srv.stats.opened - opened, 1);
    } finally {
      await local.close();
    }
  });

  test('close() closes the connection instead of returning it', async () => {
    const local = new PoolManager();
    try {
      const r = await local.request('GET', srv.url('/big'), { preloadContent: false });
      const sock = socketOf('/big');
      await r.read(10);
      r.close();
      assert.equal(r.closed, true);
      await waitUntil(() => closedSockets.has(sock), 2000, 'the server to see the connection closed');
      const pool = local.connectionFromUrl(srv.url('/'));
      assert.equal(pool.numIdle, 0, 'nothing went back to the pool');
    } finally {
      await local.close();
    }
  });
});

describe('redirect information', () => {
  test('getRedirectLocation() gives the Location of a 302', async () => {
    const r = await pm.request('GET', srv.url('/redirect'), { redirect: false });
    assert.equal(r.status, 302);
    assert.equal(r.getRedirectLocation(), '/json');
  });

  test('getRedirectLocation() is null for a 302 without Location', async () => {
    const r = await pm.request('GET', srv.url('/redirect-no-location'), { redirect: false });
    assert.equal(r.status, 302);
    assert.equal(r.getRedirectLocation(), null);
  });

  test('getRedirectLocation() is false for a 200', async () => {
    const r = await pm.request('GET', srv.url('/json'));
    assert.equal(r.getRedirectLocation(), false);
  });

  test('url is the final URL after a redirect was followed', async () => {
    const r = await pm.request('GET', srv.url('/redirect'));
    assert.equal(r.status, 200);
    assert.equal(r.url, srv.url('/json'));
    const history = (r.retries as Retry).history;
    assert.equal(history.length, 1);
    assert.equal(history[0]!.redirectLocation, '/json');
  });

  test('url is the requested URL without redirects', async () => {
    const r = await pm.request('GET', srv.url('/bytes?n=1'));
    assert.equal(r.url, srv.url('/bytes?n=1'));
  });
});

describe('HTTP/1.0 responses', () => {
  test('a body delimited by the connection close is read whole', async () => {
    const r = await pm.request('GET', raw.url('/http10'));
    assert.equal(r.status, 200);
    assert.equal(r.version, 10);
    assert.equal(r.versionString, 'HTTP/1.0');
    assert.equal(r.data.toString(), 'hello from HTTP/1.0');
  });

  test('an HTTP/1.0 connection without keep-alive is not reused', { timeout: 5000 }, async () => {
    const local = new PoolManager();
    try {
      const opened = raw.stats.opened;
      const r1 = await local.request('GET', raw.url('/http10-length'));
      assert.equal(r1.data.toString(), 'five!');
      assert.equal(r1.version, 10);
      const r2 = await local.request('GET', raw.url('/http10-length'));
      assert.equal(r2.data.toString(), 'five!');
      assert.equal(raw.stats.opened - opened, 2, 'each request on a fresh connection');
    } finally {
      await local.close();
    }
  });
});
