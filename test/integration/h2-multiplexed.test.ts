// Multiplexing (docs/api.md section 9): `multiplexed: true` resolves with a
// ResponsePromise once the request is sent; getResponse({ promise }) gives
// that response, getResponse() the first to arrive, null when none is
// pending; on HTTP/1.1 the flag is ignored.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HTTPConnectionPool,
  HTTPResponse,
  HTTPSConnectionPool,
  HttpVersion,
  PoolManager,
  ProtocolError,
  ResponsePromise,
} from '../../src/index.js';
import { startHttpServer, type TestHttpServer } from '../support/http-fixtures.js';
import {
  type H2TestServer,
  LoopbackResolver,
  rejectionOf,
  startH2Server,
  tlsOptions,
} from './h2-fixtures.js';

let s: H2TestServer;
let h2c: H2TestServer;
let h1: TestHttpServer;

before(async () => {
  [s, h2c] = await Promise.all([startH2Server(), startH2Server({ tls: false })]);
  h1 = await startHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`h1 ${req.url}`);
  });
});

after(async () => {
  await Promise.all([s.close(), h2c.close(), h1.close()]);
});

function assertPromise(p: unknown): asserts p is ResponsePromise {
  assert.ok(p instanceof ResponsePromise, `got ${String(p)}`);
}

describe('on a pool', () => {
  test('urlopen resolves with a ResponsePromise once sent, before the response', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const t0 = Date.now();
    const p = await pool.urlopen('GET', '/delay/300', { multiplexed: true });
    assert.ok(Date.now() - t0 < 250, 'resolved before the response');
    assertPromise(p);
    assert.ok(!(p instanceof HTTPResponse));
    assert.equal('then' in p, false, 'not a thenable: await must not unwrap it');
    assert.equal(typeof p.id, 'string');
    assert.equal(p.streamId, 1);
    assert.equal(p.method, 'GET');
    assert.equal(p.isReady, false);
    const r = await pool.getResponse({ promise: p });
    assert.ok(r instanceof HTTPResponse);
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'delayed 300 ');
    assert.equal(r.isFromPromise(p), true);
    assert.equal(await pool.getResponse(), null, 'nothing pending any more');
    assert.equal(await pool.getResponse({ promise: p }), null, 'already collected');
  });

  test('getResponse() returns whichever response arrives first', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const delays = [300, 100, 200];
    const promises: ResponsePromise[] = [];
    for (const d of delays) {
      const p = await pool.request('GET', `/delay/${d}`, { multiplexed: true });
      assertPromise(p);
      promises.push(p);
    }
    assert.deepEqual(
      promises.map((p) => p.streamId),
      [1, 3, 5],
      'three streams on one connection',
    );
    const order: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await pool.getResponse();
      assert.ok(r !== null);
      order.push(r.data.toString().trim());
      const from = promises.find((p) => r.isFromPromise(p));
      assert.ok(from !== undefined);
      assert.equal(from.url, `/delay/${r.data.toString().split(' ')[1]}`);
    }
    assert.deepEqual(order, ['delayed 100', 'delayed 200', 'delayed 300']);
    assert.equal(await pool.getResponse(), null);
    assert.equal(s.connections >= 1, true);
  });

  test('two getResponse() calls at once get two different responses', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    await pool.request('GET', '/delay/50', { multiplexed: true });
    await pool.request('GET', '/delay/100', { multiplexed: true });
    const [a, b] = await Promise.all([pool.getResponse(), pool.getResponse()]);
    assert.ok(a !== null && b !== null);
    assert.notEqual(a, b);
    assert.deepEqual([a.data.toString(), b.data.toString()].sort(), ['delayed 100 ', 'delayed 50 ']);
  });

  test('a failure reaches getResponse()', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    const p = await pool.urlopen('GET', '/rst/2', { multiplexed: true });
    assertPromise(p);
    const err = await rejectionOf(pool.getResponse({ promise: p }));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
  });

  test('with preloadContent: false the response streams', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const p = await pool.urlopen('GET', '/bytes/500000', { multiplexed: true, preloadContent: false });
    assertPromise(p);
    const r = (await pool.getResponse({ promise: p }))!;
    let n = 0;
    for await (const c of r.stream()) n += c.length;
    assert.equal(n, 500000);
  });

  test('h2c works the same', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', {
      port: h2c.port,
      disabledSvn: new Set([HttpVersion.h11]),
    });
    const p = await pool.request('GET', '/hello', { multiplexed: true });
    assertPromise(p);
    assert.equal((await pool.getResponse())?.data.toString(), 'hello');
  });

  test('unknown getResponse options are a TypeError', () => {
    const pool = new HTTPSConnectionPool('localhost', { port: s.port });
    assert.throws(() => pool.getResponse({ promis: null } as never), TypeError);
  });
});

describe('on a PoolManager', () => {
  test('ResponsePromises from several requests; redirects are followed before the response is given', async () => {
    await using pm = new PoolManager({ caCerts: s.pki!.caCert, resolver: new LoopbackResolver() });
    const p1 = await pm.request('GET', `${s.origin}/delay/200`, { multiplexed: true });
    const p2 = await pm.request('GET', `${s.origin}/redirect?to=/delay/50`, { multiplexed: true });
    assertPromise(p1);
    assertPromise(p2);
    const first = await pm.getResponse();
    assert.ok(first !== null);
    assert.equal(first.isFromPromise(p2), true);
    assert.equal(first.status, 200);
    assert.equal(first.data.toString(), 'delayed 50 ');
    assert.equal(first.url, `${s.origin}/delay/50`);
    assert.equal(first.retries!.history.length, 1, 'the redirect');
    const second = await pm.getResponse({ promise: p1 });
    assert.equal(second?.data.toString(), 'delayed 200 ');
    assert.equal(await pm.getResponse(), null);
  });
});

describe('on HTTP/1.1 the flag is ignored', () => {
  test('plain http', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port: h1.port });
    const r = await pool.request('GET', '/x', { multiplexed: true });
    assert.ok(r instanceof HTTPResponse);
    assert.equal(r.data.toString(), 'h1 /x');
    assert.equal(await pool.getResponse(), null);
  });

  test('https with h2 disabled, through a PoolManager', async () => {
    await using pm = new PoolManager({
      caCerts: s.pki!.caCert,
      resolver: new LoopbackResolver(),
      disabledSvn: new Set([HttpVersion.h2]),
    });
    const both = await startH2Server({ allowHTTP1: true });
    try {
      const r = await pm.request('GET', `${both.origin}/y`, { multiplexed: true });
      assert.ok(r instanceof HTTPResponse);
      assert.equal(r.version, 11);
      assert.equal(r.data.toString(), 'http1 /y');
    } finally {
      await both.close();
    }
  });
});
