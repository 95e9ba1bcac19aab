// PoolManager end to end (docs/api.md sections 1, 4 and 6): pool keys and the LRU
// limit, the connectionFrom* family, closing, cross-host redirects and the
// headers they drop, redirect limits, strict options, the top-level
// request(), and connection reuse under concurrency. Two in-process servers
// on different ports are two hosts; `localhost` and `127.0.0.1` are two more
// names for them.
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  ClosedPoolError,
  HTTPConnectionPool,
  HTTPError,
  MaxRetryError,
  PoolManager,
  Retry,
  request,
  URLSchemeUnknown,
} from '../../src/index.js';
import {
  type EchoRecord,
  echoHandler,
  startHttpServer,
  type TestHttpServer,
  waitUntil,
} from '../support/http-fixtures.js';

let A: TestHttpServer;
let B: TestHttpServer;
let pm: PoolManager;
const hits = new Map<string, number>();

function countHit(server: string, path: string): void {
  const key = `${server} ${path}`;
  hits.set(key, (hits.get(key) ?? 0) + 1);
}

function hitsOf(server: string, path: string): number {
  return hits.get(`${server} ${path}`) ?? 0;
}

function makeHandler(name: string) {
  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const u = new URL(req.url ?? '/', 'http://x');
    countHit(name, u.pathname);
    if (u.pathname === '/redirect') {
      for await (const _ of req) {
        // drain the request body
      }
      const status = Number(u.searchParams.get('status') ?? '302');
      res.writeHead(status, { Location: u.searchParams.get('to') ?? '/echo' });
      res.end(`redirecting to ${u.searchParams.get('to')}`);
      return;
    }
    if (u.pathname === '/loop') {
      res.writeHead(302, { Location: '/loop' });
      res.end();
      return;
    }
    if (u.pathname === '/to-ftp') {
      res.writeHead(302, { Location: 'ftp://127.0.0.1/pub/file.txt' });
      res.end();
      return;
    }
    if (u.pathname.startsWith('/n/')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`${name}:${u.pathname.slice(3)}`);
      return;
    }
    if (u.pathname === '/big') {
      res.writeHead(200, { 'Content-Length': 4 * 1024 * 1024 });
      res.end(Buffer.alloc(4 * 1024 * 1024, 0x61));
      return;
    }
    await echoHandler(req, res);
  };
}

/** A URL that makes server A answer 302 with Location `to`. */
function redirectVia(server: TestHttpServer, to: string, status = 302): string {
  return server.url(`/redirect?status=${status}&to=${encodeURIComponent(to)}`);
}

/** Calls `fn`, and returns the error it throws or the rejection of the promise it returns. */
async function errorOf(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  assert.fail('expected an error');
}

before(async () => {
  A = await startHttpServer(makeHandler('A'));
  B = await startHttpServer(makeHandler('B'));
  pm = new PoolManager();
});

after(async () => {
  await pm.close();
  await A.close();
  await B.close();
});

describe('pools and pool keys', () => {
  test('numPools: 2 evicts and closes the least recently used pool', async () => {
    const local = new PoolManager({ numPools: 2 });
    try {
      const r1 = await local.request('GET', A.url('/n/1'));
      assert.equal(r1.data.toString(), 'A:1');
      const r2 = await local.request('GET', B.url('/n/2'));
      assert.equal(r2.data.toString(), 'B:2');
      const poolA = local.connectionFromUrl(A.url('/'));
      const poolB = local.connectionFromUrl(B.url('/'));
      assert.equal(poolB.numIdle, 1, 'B keeps its connection for reuse');
      await waitUntil(() => B.stats.open >= 1, 1000, 'B to hold an open connection');
      // Touch A so that B becomes the least recently used.
      await local.request('GET', A.url('/n/3'));
      const r3 = await local.request('GET', `http://localhost:${A.port}/n/4`);
      assert.equal(r3.data.toString(), 'A:4');
      assert.equal(local.pools.size, 2);
      assert.ok(poolB.isClosed, 'the evicted pool is closed');
      assert.ok(!poolA.isClosed);
      assert.ok([...local.pools.values()].includes(poolA));
      assert.ok(!([...local.pools.values()] as HTTPConnectionPool[]).includes(poolB));
      await waitUntil(() => B.stats.open === 0, 2000, "B's idle connection to be closed");
      // Asking for B again makes a new pool.
      assert.notEqual(local.connectionFromUrl(B.url('/')), poolB);
    } finally {
      await local.close();
    }
  });

  test('the same origin and options give the same pool object', () => {
    const p1 = pm.connectionFromUrl(A.url('/'));
    const p2 = pm.connectionFromUrl(A.url('/some/path?q=1'));
    assert.equal(p1, p2);
    assert.ok(p1 instanceof HTTPConnectionPool);
    assert.equal(p1.host, '127.0.0.1');
    assert.equal(p1.port, A.port);
    assert.equal(pm.connectionFromUrl(`HTTP://127.0.0.1:${A.port}/`), p1, 'the scheme is case-insensitive');
  });

  test('a different timeout, headers or maxSize gives a different pool', () => {
    const base = pm.connectionFromUrl(A.url('/'));
    const timeout = pm.connectionFromUrl(A.url('/'), { timeout: 1234 });
    const headers = pm.connectionFromUrl(A.url('/'), { headers: { 'X-Pool': 'one' } });
    const maxSize = pm.connectionFromUrl(A.url('/'), { maxSize: 5 });
    const all = [base, timeout, headers, maxSize];
    assert.equal(new Set(all).size, 4, 'four distinct pools');
    assert.equal(maxSize.maxSize, 5);
    // Equal options (even in a new object) find the same pool again.
    assert.equal(pm.connectionFromUrl(A.url('/'), { timeout: 1234 }), timeout);
    assert.equal(pm.connectionFromUrl(A.url('/'), { headers: { 'X-Pool': 'one' } }), headers);
    assert.equal(pm.connectionFromUrl(A.url('/'), { maxSize: 5 }), maxSize);
    assert.notEqual(pm.connectionFromUrl(A.url('/'), { headers: { 'X-Pool': 'two' } }), headers);
  });

  test('options given to the manager are part of every pool key', () => {
    const local = new PoolManager({ timeout: 2500, maxSize: 3 });
    try {
      const p = local.connectionFromUrl(A.url('/'));
      assert.equal(p.maxSize, 3);
      assert.equal(local.connectionFromUrl(A.url('/'), { timeout: 2500 }), p);
      assert.notEqual(local.connectionFromUrl(A.url('/'), { timeout: 2000 }), p);
    } finally {
      void local.close();
    }
  });

  test('connectionFromHost, connectionFromContext and connectionFromPoolKey find the pool of connectionFromUrl', () => {
    const local = new PoolManager();
    try {
      const p = local.connectionFromUrl(A.url('/'));
      assert.equal(local.connectionFromHost('127.0.0.1', { port: A.port, scheme: 'http' }), p);
      assert.equal(local.connectionFromContext({ scheme: 'http', host: '127.0.0.1', port: A.port }), p);
      const entry = [...local.pools.entries()].find(([, pool]) => pool === p);
      assert.ok(entry, 'the pool is stored in pools');
      const [key] = entry;
      assert.equal(local.connectionFromPoolKey(key, { scheme: 'http', host: '127.0.0.1', port: A.port }), p);
      assert.equal(local.pools.size, 1);
      const other = local.connectionFromHost('127.0.0.1', { port: B.port });
      assert.notEqual(other, p);
      assert.equal(other.port, B.port);
      assert.equal(other.scheme, 'http', 'the scheme defaults to http');
      assert.equal(
        local.connectionFromHost('example.invalid').port,
        80,
        'the port defaults to the scheme default',
      );
    } finally {
      void local.close();
    }
  });

  test('an unknown scheme is URLSchemeUnknown', async () => {
    assert.throws(() => pm.connectionFromUrl('ftp://127.0.0.1/file'), URLSchemeUnknown);
    assert.throws(() => pm.connectionFromHost('127.0.0.1', { scheme: 'gopher', port: 70 }), URLSchemeUnknown);
    const err = await errorOf(() => pm.request('GET', 'ftp://127.0.0.1/file'));
    assert.ok(err instanceof URLSchemeUnknown, `got ${String(err)}`);
  });

  test('clear() closes and forgets every pool', async () => {
    const local = new PoolManager();
    const r = await local.request('GET', A.url('/n/clear'));
    assert.equal(r.status, 200);
    const p1 = local.connectionFromUrl(A.url('/'));
    const p2 = local.connectionFromUrl(B.url('/'));
    assert.equal(local.pools.size, 2);
    await local.clear();
    assert.equal(local.pools.size, 0);
    assert.ok(p1.isClosed && p2.isClosed);
    // The manager itself still works after clear().
    const again = await local.request('GET', A.url('/n/again'));
    assert.equal(again.data.toString(), 'A:again');
    assert.notEqual(local.connectionFromUrl(A.url('/')), p1);
    await local.close();
  });

  test('a request after close() rejects with ClosedPoolError', async () => {
    const local = new PoolManager();
    await local.request('GET', A.url('/n/1'));
    await local.close();
    assert.equal(local.pools.size, 0);
    const before = hitsOf('A', '/n/after-close');
    const err = await errorOf(() => local.request('GET', A.url('/n/after-close')));
    assert.ok(err instanceof HTTPError, `got ${String(err)}`);
    assert.ok(
      err instanceof ClosedPoolError,
      `expected ClosedPoolError, got ${(err as Error).name}: ${(err as Error).message}`,
    );
    assert.equal(hitsOf('A', '/n/after-close'), before, 'nothing was sent');
  });

  test(
    'close() lets an in-flight streamed response finish, then closes its connection',
    {
      timeout: 5000,
    },
    async () => {
      const local = new PoolManager();
      const openBefore = A.stats.open;
      const r = await local.request('GET', A.url('/big'), { preloadContent: false });
      const first = await r.read(1000);
      await local.close();
      const rest = await r.read();
      assert.equal(first.length + rest.length, 4 * 1024 * 1024);
      await waitUntil(() => A.stats.open <= openBefore, 2000, 'the connection to be closed after the read');
    },
  );

  test('await using closes the manager at the end of the block', async () => {
    let ref: PoolManager | null = null;
    let pool: HTTPConnectionPool | null = null;
    {
      await using local = new PoolManager();
      ref = local;
      const r = await local.request('GET', A.url('/n/using'));
      assert.equal(r.data.toString(), 'A:using');
      pool = local.connectionFromUrl(A.url('/'));
      assert.ok(!pool.isClosed);
    }
    assert.ok(pool.isClosed, 'the pool was closed on leaving the block');
    assert.equal(ref.pools.size, 0);
  });
});

describe('redirects', () => {
  const auth = { Authorization: 'Bearer secret', Cookie: 'session=1', 'X-Keep': 'yes' };

  test('a cross-host redirect is followed to the other server', async () => {
    const r = await pm.request('GET', redirectVia(A, B.url('/echo?from=a')));
    assert.equal(r.status, 200);
    const echo = r.json() as EchoRecord;
    assert.equal(echo.url, '/echo?from=a');
    assert.equal(echo.headers.host, `127.0.0.1:${B.port}`);
    assert.equal(r.url, B.url('/echo?from=a'));
  });

  test('Authorization and Cookie are dropped when the redirect changes host', async () => {
    const r = await pm.request('GET', redirectVia(A, B.url('/echo')), { headers: auth });
    const echo = r.json() as EchoRecord;
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers.cookie, undefined);
    assert.equal(echo.headers['x-keep'], 'yes', 'other headers survive');
  });

  test('a redirect from 127.0.0.1 to localhost counts as a host change', async () => {
    const r = await pm.request('GET', redirectVia(A, `http://localhost:${A.port}/echo`), { headers: auth });
    const echo = r.json() as EchoRecord;
    assert.equal(echo.headers.host, `localhost:${A.port}`);
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers.cookie, undefined);
  });

  test('Authorization and Cookie are kept on a same-host redirect', async () => {
    for (const to of ['/echo', A.url('/echo')]) {
      const r = await pm.request('GET', redirectVia(A, to), { headers: auth });
      const echo = r.json() as EchoRecord;
      assert.equal(echo.headers.authorization, 'Bearer secret', `redirect to ${to}`);
      assert.equal(echo.headers.cookie, 'session=1');
      assert.equal(echo.headers['x-keep'], 'yes');
    }
  });

  test('removeHeadersOnRedirect on Retry chooses which headers a host change drops', async () => {
    const retries = new Retry({ total: 3, removeHeadersOnRedirect: ['X-Secret'] });
    const r = await pm.request('GET', redirectVia(A, B.url('/echo')), {
      headers: { ...auth, 'X-Secret': 'hush' },
      retries,
    });
    const echo = r.json() as EchoRecord;
    assert.equal(echo.headers['x-secret'], undefined);
    assert.equal(echo.headers.authorization, 'Bearer secret', 'no longer in the list, so kept');
    assert.equal(echo.headers.cookie, 'session=1');
  });

  test('redirect: false returns the 3xx response', async () => {
    const before = hitsOf('B', '/echo');
    const r = await pm.request('GET', redirectVia(A, B.url('/echo')), { redirect: false });
    assert.equal(r.status, 302);
    assert.equal(r.getRedirectLocation(), B.url('/echo'));
    assert.equal(hitsOf('B', '/echo'), before, 'the redirect was not followed');
  });

  test('too many redirects is a MaxRetryError', async () => {
    const before = hitsOf('A', '/loop');
    const err = await errorOf(() => pm.request('GET', A.url('/loop')));
    assert.ok(err instanceof MaxRetryError, `got ${String(err)}`);
    // Retry.DEFAULT (total 3): the first request and three redirects.
    assert.equal(hitsOf('A', '/loop') - before, 4);
  });

  test('raiseOnRedirect: false returns the last 3xx once redirects run out', async () => {
    const before = hitsOf('A', '/loop');
    const r = await pm.request('GET', A.url('/loop'), {
      retries: new Retry({ total: null, redirect: 2, raiseOnRedirect: false }),
    });
    assert.equal(r.status, 302);
    assert.equal(r.getRedirectLocation(), '/loop');
    assert.equal(hitsOf('A', '/loop') - before, 3, 'the first request and two redirects');
  });

  test('retries.history lists every hop', async () => {
    const finalUrl = A.url('/echo?hop=3');
    const second = redirectVia(B, finalUrl, 307);
    const first = redirectVia(A, second, 301);
    const r = await pm.request('GET', first);
    assert.equal(r.status, 200);
    assert.equal(r.url, finalUrl);
    const history = (r.retries as Retry).history;
    assert.equal(history.length, 2);
    assert.equal(history[0]!.method, 'GET');
    assert.equal(history[0]!.url, first);
    assert.equal(history[0]!.status, 301);
    assert.equal(history[0]!.redirectLocation, second);
    assert.equal(history[1]!.url, second);
    assert.equal(history[1]!.status, 307);
    assert.equal(history[1]!.redirectLocation, finalUrl);
  });

  test('retries: false returns a redirect as the response', async () => {
    const before = hitsOf('B', '/echo');
    const r = await pm.request('GET', redirectVia(A, B.url('/echo')), { retries: false });
    assert.equal(r.status, 302);
    assert.equal(hitsOf('B', '/echo'), before);
  });

  test('a cross-host 303 turns POST into a GET without the body or its headers', async () => {
    const r = await pm.request('POST', redirectVia(A, B.url('/echo'), 303), {
      body: 'payload',
      headers: { 'Content-Type': 'text/plain', 'X-Keep': 'yes' },
    });
    const echo = r.json() as EchoRecord;
    assert.equal(echo.method, 'GET');
    assert.equal(echo.body, '');
    assert.equal(echo.headers['content-type'], undefined);
    assert.equal(echo.headers['content-length'], undefined);
    assert.equal(echo.headers['x-keep'], 'yes');
  });

  test('a cross-host 307 keeps the method and re-sends the body', async () => {
    const r = await pm.request('POST', redirectVia(A, B.url('/echo'), 307), {
      body: 'payload',
      headers: { 'Content-Type': 'text/plain' },
    });
    const echo = r.json() as EchoRecord;
    assert.equal(echo.method, 'POST');
    assert.equal(Buffer.from(echo.body, 'base64').toString(), 'payload');
    assert.equal(echo.headers['content-type'], 'text/plain');
  });

  test('a redirect to ftp:// is refused with an error', async () => {
    const err = await errorOf(() => pm.request('GET', A.url('/to-ftp')));
    assert.ok(err instanceof HTTPError, `got ${String(err)}`);
    assert.match((err as Error).message, /ftp/);
  });
});

describe('the per-manager URL cache', () => {
  test('distinct URLs, more of them than the cache holds, each reach their own host and path', async () => {
    const local = new PoolManager();
    try {
      const urls: Array<[string, string]> = [];
      for (let i = 0; i < 20; i++) {
        urls.push([A.url(`/n/a${i}`), `A:a${i}`]);
        urls.push([`http://localhost:${B.port}/n/b${i}`, `B:b${i}`]);
      }
      for (let round = 0; round < 3; round++) {
        // Each round in another order: a URL comes back after others evicted it, or while it is cached.
        const order = round === 1 ? [...urls].reverse() : urls;
        for (const [url, expected] of order) {
          const r = await local.request('GET', url);
          assert.equal(r.data.toString(), expected);
          assert.equal(r.url, url);
        }
        // The same URL twice in a row (a cache hit) gives the same answer.
        const [url, expected] = urls[round]!;
        assert.equal((await local.request('GET', url)).data.toString(), expected);
      }
      assert.equal(local.pools.size, 2);
    } finally {
      await local.close();
    }
  });

  test('a subclass that overrides connectionFromHost is asked for the pool of every request', async () => {
    const asked: string[] = [];
    class Counting extends PoolManager {
      override connectionFromHost(
        host: string | null,
        options?: { port?: number | null; scheme?: string | null },
      ): HTTPConnectionPool {
        asked.push(`${options?.scheme}://${host}:${options?.port}`);
        return super.connectionFromHost(host, options);
      }
    }
    const local = new Counting();
    try {
      for (let i = 0; i < 3; i++) {
        const r = await local.request('GET', A.url('/n/same'));
        assert.equal(r.data.toString(), 'A:same');
      }
      assert.deepEqual(asked, Array(3).fill(`http://127.0.0.1:${A.port}`));
    } finally {
      await local.close();
    }
  });
});

describe('options and entry points', () => {
  test('unknown option keys are a TypeError at the call', async () => {
    assert.throws(() => new PoolManager({ bogus: 1 } as never), TypeError);
    const before = hitsOf('A', '/echo');
    const err = await errorOf(() => pm.request('GET', A.url('/echo'), { bogus: 1 } as never));
    assert.ok(err instanceof TypeError, `got ${String(err)}`);
    assert.match((err as Error).message, /bogus/);
    const err2 = await errorOf(() => pm.urlopen('GET', A.url('/echo'), { retry: 3 } as never));
    assert.ok(err2 instanceof TypeError, `got ${String(err2)}`);
    assert.equal(hitsOf('A', '/echo'), before, 'nothing was sent');
  });

  test('the top-level request() works against a local server', async () => {
    const r = await request('GET', A.url('/n/top-level'));
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'A:top-level');
  });

  test(
    '1000 GETs with concurrency 10 through maxSize 10 open at most 10 connections',
    {
      timeout: 20_000,
    },
    async () => {
      const local = new PoolManager({ maxSize: 10 });
      try {
        const openedBefore = A.stats.opened;
        const N = 1000;
        let next = 0;
        const bodies: string[] = new Array(N);
        const worker = async () => {
          while (next < N) {
            const i = next++;
            const r = await local.request('GET', A.url(`/n/${i}`));
            bodies[i] = r.data.toString();
          }
        };
        await Promise.all(Array.from({ length: 10 }, worker));
        for (let i = 0; i < N; i++) assert.equal(bodies[i], `A:${i}`);
        const opened = A.stats.opened - openedBefore;
        assert.ok(opened >= 1 && opened <= 10, `opened ${opened} connections`);
        assert.ok(local.connectionFromUrl(A.url('/')).numIdle <= 10);
      } finally {
        await local.close();
      }
    },
  );
});
