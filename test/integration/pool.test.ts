// HTTPConnectionPool against in-process servers (docs/api.md sections 1, 4 and 6):
// LIFO reuse, maxSize with and without block, poolTimeout, close(), host
// checks, default headers, stale keep-alive detection and the silent re-send,
// retries and redirects within one pool.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  ClosedPoolError,
  EmptyPoolError,
  HTTPConnection,
  HostChangedError,
  HTTPConnectionPool,
  HTTPError,
  type HTTPResponse,
  MaxRetryError,
  ProtocolError,
  ResponseError,
  Retry,
  UnrewindableBodyError,
} from '../../src/index.js';
import {
  type EchoBody,
  httpResponse,
  rawServer,
  startHttpServer,
  type TestHttpServer,
  waitUntil,
} from '../support/servers.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';

function echoOf(resp: HTTPResponse): EchoBody {
  return JSON.parse(resp.data.toString('utf8')) as EchoBody;
}

function historyOf(
  resp: HTTPResponse,
): readonly { status: number | null; error: Error | null; redirectLocation: string | null }[] {
  assert.ok(resp.retries instanceof Retry, 'response.retries should be the Retry used');
  return resp.retries.history;
}

let server: TestHttpServer;

before(async () => {
  server = await startHttpServer();
});

after(async () => {
  await server.close();
});

describe('connection reuse', () => {
  test('two sequential requests with maxSize 2 reuse the same socket', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port, maxSize: 2 });
    try {
      const a = echoOf(await pool.request('GET', '/echo/1'));
      const b = echoOf(await pool.request('GET', '/echo/2'));
      assert.equal(a.remotePort, b.remotePort);
      assert.equal(a.connectionId, b.connectionId);
      assert.equal(pool.numConnections, 1);
    } finally {
      await pool.close();
    }
  });

  test('the most recently returned connection is reused first (LIFO)', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port, maxSize: 2 });
    try {
      // A finishes first, B last: B's connection goes back onto the stack last.
      const [a, b] = await Promise.all([
        pool.request('GET', '/delay?ms=5').then(echoOf),
        pool.request('GET', '/delay?ms=80').then(echoOf),
      ]);
      assert.notEqual(a.connectionId, b.connectionId, 'two connections were needed');
      assert.equal(pool.numIdle, 2);
      const c = echoOf(await pool.request('GET', '/echo/c'));
      assert.equal(c.connectionId, b.connectionId, 'LIFO: the last connection returned is taken first');
      assert.equal(c.remotePort, b.remotePort);
    } finally {
      await pool.close();
    }
  });

  test('1000 sequential GETs with maxSize 1 use exactly one TCP connection', async () => {
    const local = await startHttpServer();
    const pool = new HTTPConnectionPool(HOST, { port: local.port, maxSize: 1 });
    try {
      for (let i = 0; i < 1000; i++) {
        const r = await pool.request('GET', '/status/200');
        if (r.status !== 200) assert.fail(`request ${i} answered ${r.status}`);
      }
      assert.equal(local.stats.opened, 1, 'server-side connection count');
      assert.equal(local.requests.length, 1000);
      assert.equal(pool.numConnections, 1);
    } finally {
      await pool.close();
      await local.close();
    }
  });

  test('10 concurrent requests with maxSize 2 and no block open extra connections and close them after use', async () => {
    const local = await startHttpServer();
    const pool = new HTTPConnectionPool(HOST, { port: local.port, maxSize: 2, block: false });
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => pool.request('GET', `/delay?ms=40&i=${i}`)),
      );
      assert.ok(responses.every((r) => r.status === 200));
      assert.ok(
        local.stats.opened > 2,
        `expected extra connections under load, server saw ${local.stats.opened}`,
      );
      assert.ok(local.maxInFlight > 2, 'requests ran concurrently');
      assert.ok(pool.numIdle <= 2, `at most maxSize idle connections kept, got ${pool.numIdle}`);
      assert.ok(pool.numOpen <= 2, `at most maxSize connections stay open, got ${pool.numOpen}`);
      assert.equal(
        await waitUntil(() => local.openSockets <= 2, 1000),
        true,
        `the extra connections should be closed; server still has ${local.openSockets} open`,
      );
    } finally {
      await pool.close();
      await local.close();
    }
  });

  test('with block: true and maxSize 2 the server never sees more than 2 connections at once', async () => {
    const local = await startHttpServer();
    const pool = new HTTPConnectionPool(HOST, { port: local.port, maxSize: 2, block: true });
    try {
      const responses = await Promise.all(
        Array.from({ length: 10 }, (_, i) => pool.request('GET', `/delay?ms=15&i=${i}`)),
      );
      assert.equal(responses.length, 10);
      assert.ok(responses.every((r) => r.status === 200));
      assert.ok(local.maxOpen <= 2, `server saw ${local.maxOpen} simultaneous connections`);
      assert.ok(local.stats.opened <= 2, `server saw ${local.stats.opened} connections in total`);
      assert.ok(local.maxInFlight <= 2);
      assert.equal(local.requests.length, 10);
    } finally {
      await pool.close();
      await local.close();
    }
  });

  test('block with poolTimeout raises EmptyPoolError while the only connection is held by a streaming response', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port, maxSize: 1, block: true });
    try {
      const held = await pool.urlopen('GET', '/hold', { preloadContent: false });
      assert.equal(held.status, 200);
      const started = performance.now();
      const err = await rejectionOf(pool.urlopen('GET', '/echo', { poolTimeout: 50 }));
      const elapsed = performance.now() - started;
      assert.ok(err instanceof EmptyPoolError, `expected EmptyPoolError, got ${err.name}: ${err.message}`);
      assert.ok(elapsed >= 40, `gave up after ${elapsed.toFixed(0)} ms, before poolTimeout`);
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms for a 50 ms poolTimeout`);
      // Releasing the half-read response closes its connection and frees the slot.
      held.releaseConn();
      const ok = await pool.urlopen('GET', '/echo/after', { poolTimeout: 1000 });
      assert.equal(ok.status, 200);
    } finally {
      await pool.close();
    }
  });
});

describe('closing and host checks', () => {
  test('a streaming response holds its connection until the body is read, then lets go of it', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const r = await pool.urlopen('GET', '/hold', { preloadContent: false });
      assert.ok(r.connection instanceof HTTPConnection, 'response.connection while the body is unread');
      assert.equal(pool.numIdle, 0);
      server.finishHeld();
      assert.equal((await r.read()).toString(), '0123456789');
      assert.equal(r.connection, null, 'response.connection is null once released');
      assert.equal(
        await waitUntil(() => pool.numIdle === 1, 1000),
        true,
        'the connection went back to the pool',
      );
      const next = echoOf(await pool.request('GET', '/echo/next'));
      assert.equal(pool.numConnections, 1, `reused, server connection ${next.connectionId}`);
    } finally {
      await pool.close();
    }
  });

  test('requests after close() reject with ClosedPoolError', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    const r = await pool.request('GET', '/echo');
    assert.equal(r.status, 200);
    await pool.close();
    const before = server.requests.length;
    const err = await rejectionOf(pool.request('GET', '/echo'));
    assert.ok(err instanceof ClosedPoolError, `expected ClosedPoolError, got ${err.name}`);
    assert.equal(server.requests.length, before);
  });

  test('close() idles out at once but lets an in-flight streaming response finish, then closes its connection', async () => {
    const local = await startHttpServer();
    const pool = new HTTPConnectionPool(HOST, { port: local.port, maxSize: 2 });
    try {
      // One idle connection and one busy one.
      await pool.request('GET', '/delay?ms=1');
      const streaming = await pool.urlopen('GET', '/hold', { preloadContent: false });
      assert.equal(local.stats.opened, 1, 'the idle connection was reused for /hold');
      const idleFirst = await pool.request('GET', '/echo');
      assert.equal(idleFirst.status, 200);
      assert.equal(local.stats.opened, 2);
      await pool.close();
      // The idle connection goes at once; the in-flight one stays.
      assert.equal(await waitUntil(() => local.openSockets === 1, 1000), true, `open: ${local.openSockets}`);
      assert.equal(local.heldCount, 1);
      local.finishHeld();
      const body = await streaming.read();
      assert.equal(body.toString(), '0123456789');
      assert.equal(
        await waitUntil(() => local.openSockets === 0, 1000),
        true,
        'the connection of the released response should be closed, not pooled',
      );
      assert.equal(pool.numOpen, 0);
    } finally {
      await pool.close();
      await local.close();
    }
  });

  test('close() rejects requests waiting for a connection with ClosedPoolError', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port, maxSize: 1, block: true });
    try {
      const held = await pool.urlopen('GET', '/hold', { preloadContent: false });
      const waiting = rejectionOf(pool.request('GET', '/echo/waiter'));
      await new Promise((r) => setTimeout(r, 20));
      await pool.close();
      const err = await waiting;
      assert.ok(err instanceof ClosedPoolError, `expected ClosedPoolError, got ${err.name}`);
      held.releaseConn();
      assert.ok(!server.requests.some((q) => q.url === '/echo/waiter'));
    } finally {
      await pool.close();
    }
  });

  test('a foreign absolute URL raises HostChangedError before any I/O', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const err = await rejectionOf(pool.request('GET', 'http://other.invalid/echo'));
      assert.ok(err instanceof HostChangedError, `expected HostChangedError, got ${err.name}`);
      assert.equal(err.url, 'http://other.invalid/echo');
      // Same host but another port or scheme is foreign too.
      const other = await rejectionOf(pool.request('GET', `http://${HOST}:${server.port + 1}/echo`));
      assert.ok(other instanceof HostChangedError);
      const https = await rejectionOf(pool.request('GET', `https://${HOST}:${server.port}/echo`));
      assert.ok(https instanceof HostChangedError);
      assert.equal(server.requests.length, before);
      // The pool's own origin as an absolute URL is fine.
      const own = await pool.request('GET', `http://${HOST}:${server.port}/echo/own`);
      assert.equal(own.status, 200);
    } finally {
      await pool.close();
    }
  });

  test('assertSameHost: false sends a foreign URL to the pool host', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const r = await pool.request('GET', 'http://other.invalid/echo/foreign', { assertSameHost: false });
      assert.equal(r.status, 200);
      assert.match(echoOf(r).url, /\/echo\/foreign$/);
    } finally {
      await pool.close();
    }
  });
});

describe('default headers', () => {
  test('pool headers are sent, and request headers replace them instead of merging', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port, headers: { 'X-Pool': 'pool-value' } });
    try {
      const withDefaults = echoOf(await pool.request('GET', '/echo'));
      assert.equal(withDefaults.headers['x-pool'], 'pool-value');
      const replaced = echoOf(await pool.request('GET', '/echo', { headers: { 'X-Req': 'req-value' } }));
      assert.equal(replaced.headers['x-req'], 'req-value');
      assert.equal(replaced.headers['x-pool'], undefined, 'request headers replace the pool headers');
      // Connection-level defaults still apply.
      assert.equal(replaced.headers.host, `${HOST}:${server.port}`);
    } finally {
      await pool.close();
    }
  });
});

describe('stale keep-alive connections', () => {
  test('a connection the server closed while idle is replaced without spending a retry', async () => {
    const raw = await rawServer((socket, req) => {
      if (socket.writableEnded) {
        socket.destroy();
        return;
      }
      // Keep-alive answer (no Connection: close), then the server hangs up anyway.
      socket.write(httpResponse(200, `served ${req.target}`));
      socket.end();
    });
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, maxSize: 1, retries: false });
    try {
      for (let i = 0; i < 3; i++) {
        const r = await pool.request('GET', `/r${i}`);
        assert.equal(r.status, 200);
        assert.equal(r.data.toString(), `served /r${i}`);
        assert.equal(historyOf(r).length, 0);
        // Let the FIN reach the client while the connection sits idle.
        await waitUntil(() => raw.openSockets === 0, 1000);
        await new Promise((res) => setTimeout(res, 10));
      }
      assert.equal(raw.stats.opened, 3);
      assert.deepEqual(
        raw.requests.map((q) => q.target),
        ['/r0', '/r1', '/r2'],
        'each request reached the server exactly once',
      );
      assert.equal(pool.numConnections, 3);
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  // The server answers the first request on each connection and drops the
  // connection, unanswered, on the second one.
  function dropSecondRequest() {
    return rawServer((socket, req, ctx) => {
      if (ctx.requestIndex >= 1) {
        socket.destroy();
        return;
      }
      socket.write(httpResponse(200, `conn ${ctx.connectionIndex} ${req.method} ${req.target}`));
    });
  }

  test('a GET that fails on a reused connection before any response byte is re-sent once on a fresh one', async () => {
    const raw = await dropSecondRequest();
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, maxSize: 1, retries: false });
    try {
      const first = await pool.request('GET', '/first');
      assert.equal(first.data.toString(), 'conn 0 GET /first');
      const second = await pool.request('GET', '/second');
      assert.equal(second.status, 200);
      assert.equal(second.data.toString(), 'conn 1 GET /second');
      assert.equal(historyOf(second).length, 0, 'the silent re-send spends no retry');
      assert.deepEqual(
        raw.requests.map((q) => [q.connectionIndex, q.target]),
        [
          [0, '/first'],
          [0, '/second'],
          [1, '/second'],
        ],
      );
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  test('a POST dropped on a reused connection fails with ProtocolError and is never sent twice', async () => {
    const raw = await dropSecondRequest();
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, maxSize: 1, retries: false });
    try {
      assert.equal((await pool.request('GET', '/warm')).status, 200);
      const err = await rejectionOf(pool.request('POST', '/submit', { body: 'payload' }));
      assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
      assert.ok(!(err instanceof MaxRetryError));
      await new Promise((res) => setTimeout(res, 50));
      const posts = raw.requests.filter((q) => q.method === 'POST');
      assert.equal(posts.length, 1, 'the POST must reach the server exactly once');
      assert.equal(posts[0]!.body.toString(), 'payload');
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  test('a POST dropped after being sent is not retried even with retries enabled', async () => {
    const raw = await dropSecondRequest();
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, maxSize: 1, retries: 3 });
    try {
      assert.equal((await pool.request('GET', '/warm')).status, 200);
      const err = await rejectionOf(pool.request('POST', '/submit', { body: 'payload' }));
      // urllib3: a read error on a method outside allowedMethods raises the original error.
      assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
      await new Promise((res) => setTimeout(res, 50));
      assert.equal(raw.requests.filter((q) => q.method === 'POST').length, 1);
    } finally {
      await pool.close();
      await raw.close();
    }
  });
});

describe('retries', () => {
  /** Resets the first `n` connections as soon as they are accepted, then answers normally. */
  function resetFirst(n: number) {
    return rawServer(
      (socket, req) => {
        socket.write(httpResponse(200, `ok ${req.target}`));
      },
      {
        onConnection: (socket, index) => {
          if (index < n) {
            socket.resetAndDestroy();
            return true;
          }
          return false;
        },
      },
    );
  }

  test('a GET on a server that resets the first two connections succeeds with retries: 3', async () => {
    const raw = await resetFirst(2);
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, retries: 3 });
    try {
      const r = await pool.request('GET', '/flaky');
      assert.equal(r.status, 200);
      assert.equal(r.data.toString(), 'ok /flaky');
      const history = historyOf(r);
      assert.equal(history.length, 2);
      for (const h of history) assert.ok(h.error instanceof HTTPError, `history error: ${String(h.error)}`);
      assert.equal(raw.stats.opened, 3);
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  test('exhausted retries raise MaxRetryError with the last error as reason', async () => {
    const raw = await resetFirst(1000);
    const pool = new HTTPConnectionPool(HOST, { port: raw.port, retries: 2 });
    try {
      const err = await rejectionOf(pool.request('GET', '/always-reset'));
      assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}: ${err.message}`);
      assert.ok(err.reason instanceof HTTPError, `reason: ${String(err.reason)}`);
      assert.equal(err.cause, err.reason);
      assert.match(err.url, /\/always-reset$/);
      assert.equal(raw.stats.opened, 3, 'one attempt plus two retries');
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  test('a status in statusForcelist is retried and the history records each status', async () => {
    let served = 0;
    const raw = await rawServer((socket) => {
      served++;
      socket.write(
        served <= 2 ? httpResponse(503, 'busy', {}, 'Service Unavailable') : httpResponse(200, 'ok'),
      );
    });
    const pool = new HTTPConnectionPool(HOST, { port: raw.port });
    try {
      const r = await pool.request('GET', '/busy', {
        retries: new Retry({ total: 3, statusForcelist: [503] }),
      });
      assert.equal(r.status, 200);
      assert.deepEqual(
        historyOf(r).map((h) => h.status),
        [503, 503],
      );
      assert.equal(served, 3);
      served = 0;
      const err = await rejectionOf(
        pool.request('GET', '/busy', { retries: new Retry({ total: 1, statusForcelist: [503] }) }),
      );
      assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
      assert.ok(err.reason instanceof ResponseError);
      assert.match(err.reason.message, /503/);
      assert.equal(served, 2);
      served = 0;
      const post = await pool.request('POST', '/busy', {
        body: 'x',
        retries: new Retry({ total: 3, statusForcelist: [503] }),
      });
      assert.equal(post.status, 503, 'POST is not in the default allowedMethods');
      assert.equal(served, 1);
    } finally {
      await pool.close();
      await raw.close();
    }
  });

  test('retries: false raises the original error', async () => {
    const raw = await resetFirst(1000);
    const pool = new HTTPConnectionPool(HOST, { port: raw.port });
    try {
      const err = await rejectionOf(pool.request('GET', '/once', { retries: false }));
      assert.ok(err instanceof HTTPError, `expected an HTTPError, got ${String(err)}`);
      assert.ok(!(err instanceof MaxRetryError), 'retries: false must not wrap the error');
      assert.ok(
        err.name === 'ProtocolError' || err.name === 'NewConnectionError',
        `expected the connection error itself, got ${err.name}`,
      );
      assert.equal(raw.stats.opened, 1);
    } finally {
      await pool.close();
      await raw.close();
    }
  });
});

describe('redirects within a pool', () => {
  test('a 302 to a relative path is followed and response.url is the final absolute URL', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const r = await pool.request('GET', '/redirect?to=/echo/final&status=302');
      assert.equal(r.status, 200);
      assert.equal(echoOf(r).url, '/echo/final');
      assert.equal(r.url, `http://${HOST}:${server.port}/echo/final`);
      const history = historyOf(r);
      assert.equal(history.length, 1);
      assert.equal(history[0]!.status, 302);
      assert.equal(history[0]!.redirectLocation, '/echo/final');
      assert.equal(server.requests.length - before, 2);
    } finally {
      await pool.close();
    }
  });

  test('a redirect to another host raises HostChangedError', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const target = 'http://other.invalid/elsewhere';
      const err = await rejectionOf(pool.request('GET', `/redirect?to=${encodeURIComponent(target)}`));
      assert.ok(
        err instanceof HostChangedError,
        `expected HostChangedError (urllib3's pool re-enters urlopen with assert_same_host), got ${err.name}`,
      );
      assert.equal(err.url, target);
    } finally {
      await pool.close();
    }
  });

  test('303 turns a POST into a GET without body or body headers', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const r = await pool.request('POST', '/redirect?status=303&to=/echo/after-303', {
        body: 'secret body',
        headers: { 'Content-Type': 'text/plain', 'X-Keep': 'kept' },
      });
      assert.equal(r.status, 200);
      const [first, second] = server.requests.slice(before);
      assert.equal(first!.method, 'POST');
      assert.equal(first!.body.toString(), 'secret body');
      assert.equal(second!.method, 'GET');
      assert.equal(second!.url, '/echo/after-303');
      assert.equal(second!.body.length, 0);
      assert.equal(second!.headers['content-type'], undefined);
      assert.equal(second!.headers['content-length'], undefined);
      assert.equal(second!.headers['transfer-encoding'], undefined);
      assert.equal(second!.headers['x-keep'], 'kept');
    } finally {
      await pool.close();
    }
  });

  test('307 keeps the POST and its body', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const r = await pool.request('POST', '/redirect?status=307&to=/echo/after-307', {
        body: 'the body',
        headers: { 'Content-Type': 'text/plain' },
      });
      assert.equal(r.status, 200);
      const echo = echoOf(r);
      assert.equal(echo.method, 'POST');
      assert.equal(echo.url, '/echo/after-307');
      assert.equal(echo.body, 'the body');
      assert.equal(echo.headers['content-type'], 'text/plain');
      assert.equal(server.requests.length - before, 2);
    } finally {
      await pool.close();
    }
  });

  test('302 keeps the method and body, as urllib3 does', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const r = await pool.request('POST', '/redirect?status=302&to=/echo/after-302', { body: 'kept body' });
      const echo = echoOf(r);
      assert.equal(echo.method, 'POST');
      assert.equal(echo.body, 'kept body');
    } finally {
      await pool.close();
    }
  });

  test('a 307 with a body that cannot be rewound raises UnrewindableBodyError instead of sending it empty', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      async function* once(): AsyncGenerator<Buffer> {
        yield Buffer.from('streamed once');
      }
      const err = await rejectionOf(
        pool.request('POST', '/redirect?status=307&to=/echo/never', { body: once() }),
      );
      assert.ok(err instanceof UnrewindableBodyError, `expected UnrewindableBodyError, got ${err.name}`);
      const sent = server.requests.slice(before);
      assert.equal(sent.length, 1, 'the redirect target must not get an empty body');
      assert.equal(sent[0]!.body.toString(), 'streamed once');
    } finally {
      await pool.close();
    }
  });

  test('a redirect loop ends in MaxRetryError once the redirect budget is spent', async () => {
    const local = await startHttpServer((req, res) => {
      if (req.url !== '/loop') return false;
      res.writeHead(302, { Location: '/loop', 'Content-Length': 0 });
      res.end();
      return true;
    });
    const pool = new HTTPConnectionPool(HOST, { port: local.port });
    try {
      const err = await rejectionOf(
        pool.request('GET', '/loop', { retries: new Retry({ total: 10, redirect: 2 }) }),
      );
      assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
      assert.ok(err.reason instanceof ResponseError, `reason: ${String(err.reason)}`);
      assert.equal(local.requests.length, 3, 'the first request and two followed redirects');
      const r = await pool.request('GET', '/loop', {
        retries: new Retry({ total: 10, redirect: 2, raiseOnRedirect: false }),
      });
      assert.equal(r.status, 302, 'raiseOnRedirect: false returns the last redirect');
      assert.equal(local.requests.length, 6);
    } finally {
      await pool.close();
      await local.close();
    }
  });

  test('redirect: false returns the 3xx response itself', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const r = await pool.request('GET', '/redirect?to=/echo/not-followed&status=302', { redirect: false });
      assert.equal(r.status, 302);
      assert.equal(r.getRedirectLocation(), '/echo/not-followed');
      assert.equal(r.data.toString(), 'redirecting');
      assert.equal(server.requests.length - before, 1);
    } finally {
      await pool.close();
    }
  });
});
