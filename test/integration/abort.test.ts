// AbortSignal at every stage of a request: resolving/connecting, waiting for
// a pooled connection, sending the body, waiting for the response head and
// reading the body. Each abort rejects promptly with an HTTPError whose cause
// is the signal's reason, discards the connection, and leaves the pool
// serving.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  BaseResolver,
  HTTPConnectionPool,
  HTTPError,
  PoolManager,
  type ResolvedAddress,
  RequestAbortedError,
} from '../../src/index.js';

class NeverResolver extends BaseResolver {
  getaddrinfo(): Promise<ResolvedAddress[]> {
    return new Promise(() => {});
  }
}

let server: http.Server;
let port: number;
const openSockets = new Set<import('node:net').Socket>();

before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    if (req.url === '/slow-body') {
      res.writeHead(200, { 'content-length': '1000000' });
      res.write(Buffer.alloc(1000));
      return; // the rest never comes
    }
    if (req.url === '/upload') {
      // Read nothing: the client's upload fills the socket buffers and stalls.
      req.pause();
      return;
    }
    res.end('ok');
  });
  server.on('connection', (s) => {
    openSockets.add(s);
    s.on('close', () => openSockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function expectAbort(
  p: Promise<unknown>,
  reason: unknown,
  withinMs: number,
  started: number,
): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HTTPError, `expected an HTTPError, got ${String(err)}`);
    assert.ok(err instanceof RequestAbortedError, `expected RequestAbortedError, got ${(err as Error).name}`);
    assert.equal((err as Error).cause, reason);
    return true;
  });
  assert.ok(Date.now() - started < withinMs, `took ${Date.now() - started} ms`);
}

describe('aborting a request with an AbortSignal', () => {
  test('an abort while resolving and connecting rejects at once', async () => {
    await using pool = new HTTPConnectionPool('never.test', {
      port,
      resolver: new NeverResolver(),
      retries: false,
    });
    const ac = new AbortController();
    const reason = new Error('stop connecting');
    const started = Date.now();
    const p = pool.request('GET', '/', { signal: ac.signal });
    setTimeout(() => ac.abort(reason), 30);
    await expectAbort(p, reason, 1000, started);
    assert.equal(pool.numOpen, 0);
  });

  test('an abort while waiting for a blocked pool slot rejects and frees nothing it did not take', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, maxSize: 1, block: true, retries: false });
    const holder = await pool.request('GET', '/slow-body', { preloadContent: false });
    const ac = new AbortController();
    const reason = new Error('gave up waiting');
    const started = Date.now();
    const p = pool.request('GET', '/', { signal: ac.signal });
    setTimeout(() => ac.abort(reason), 30);
    await expectAbort(p, reason, 1000, started);
    holder.close();
    const ok = await pool.request('GET', '/');
    assert.equal(ok.data.toString(), 'ok');
  });

  test('an abort while the request body is being sent rejects and closes the connection', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, retries: false });
    const ac = new AbortController();
    const reason = new Error('stop uploading');
    async function* endless() {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 10_000; i++) yield chunk;
    }
    const started = Date.now();
    const p = pool.request('POST', '/upload', { body: endless(), signal: ac.signal });
    setTimeout(() => ac.abort(reason), 100);
    await expectAbort(p, reason, 2000, started);
    assert.equal(pool.numOpen, 0);
  });

  test('an abort while waiting for the response head rejects and closes the connection', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, retries: false });
    const before = openSockets.size;
    const ac = new AbortController();
    const reason = new Error('too slow');
    const started = Date.now();
    const p = pool.request('GET', '/hang', { signal: ac.signal });
    setTimeout(() => ac.abort(reason), 50);
    await expectAbort(p, reason, 1000, started);
    assert.equal(pool.numOpen, 0);
    // The server sees the connection go away.
    for (let i = 0; i < 100 && openSockets.size > before; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(openSockets.size, before);
  });

  test('an abort while the body is streaming fails the next read and discards the connection', async () => {
    await using http = new PoolManager({ retries: false });
    const ac = new AbortController();
    const reason = new Error('enough');
    const r = await http.request('GET', `http://127.0.0.1:${port}/slow-body`, {
      preloadContent: false,
      signal: ac.signal,
    });
    const first = await r.read1();
    assert.ok(first.length > 0);
    const started = Date.now();
    const pending = r.read(10_000);
    setTimeout(() => ac.abort(reason), 30);
    await expectAbort(pending, reason, 1000, started);
    const pool = http.connectionFromUrl(`http://127.0.0.1:${port}/`);
    assert.equal(pool.numOpen, 0);
    const ok = await http.request('GET', `http://127.0.0.1:${port}/`);
    assert.equal(ok.data.toString(), 'ok');
  });

  test('an already aborted signal rejects before any I/O', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, retries: false });
    const reason = new Error('already');
    const connectionsBefore = pool.numConnections;
    await expectAbort(
      pool.request('GET', '/', { signal: AbortSignal.abort(reason) }),
      reason,
      1000,
      Date.now(),
    );
    assert.ok(pool.numConnections <= connectionsBefore + 1);
    assert.equal(pool.numOpen, 0);
  });
});
