// Retries after errors, against servers and resolvers that fail in scripted
// ways (docs/api.md section 6, urllib3 v2's Retry.increment as driven by
// HTTPConnectionPool.urlopen):
//
//  * connect errors - refused, DNS failure, connect timeout, TLS handshake -
//    happened before the request left, so they are retried for any method and
//    spend the `connect` counter;
//  * read errors - reset after the request, reset after the headers, headers
//    cut short, read timeout - happened after it left, so they spend `read`
//    and are retried only for methods in allowedMethods (a POST gets the
//    error itself, never MaxRetryError);
//  * retries: false raises the first error as it is;
//  * the backoff between attempts (factor, jitter, cap) as observed through
//    an injected Retry.sleeper, and history entries with what went wrong.
// Every test ends with no socket left open.

import assert from 'node:assert/strict';
import type net from 'node:net';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import {
  BaseResolver,
  ConnectTimeoutError,
  HTTPConnectionPool,
  HTTPSConnectionPool,
  MaxRetryError,
  NameResolutionError,
  NewConnectionError,
  PoolManager,
  ProtocolError,
  ReadTimeoutError,
  type ResolvedAddress,
  Retry,
  SSLError,
  Timeout,
} from '../../src/index.js';
import { getFreePort } from '../support/free-port.js';
import {
  httpResponse,
  type RawHandler,
  type RawServer,
  type RawServerOptions,
  rawServer,
} from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';

// ---- scaffolding -------------------------------------------------------------------

/** A resolver that counts its calls and answers with `answer`. */
class ScriptedResolver extends BaseResolver {
  calls = 0;
  constructor(private readonly answer: (host: string, port: number) => Promise<ResolvedAddress[]>) {
    super();
  }
  getaddrinfo(host: string, port: number): Promise<ResolvedAddress[]> {
    this.calls++;
    return this.answer(host, port);
  }
}

const servers: RawServer[] = [];
const closers: Array<{ close(): Promise<void> }> = [];

async function scripted(handler: RawHandler, options?: RawServerOptions): Promise<RawServer> {
  const s = await rawServer(handler, options);
  servers.push(s);
  return s;
}

function track<T extends { close(): Promise<void> }>(x: T): T {
  closers.push(x);
  return x;
}

function assertMaxRetry(err: Error, reason: new (...args: never[]) => Error): MaxRetryError {
  assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}: ${err.message}`);
  assert.ok(err.reason instanceof reason, `expected reason ${reason.name}, got ${String(err.reason)}`);
  assert.equal(err.cause, err.reason);
  return err;
}

let slept: number[] = [];
const saved = { sleeper: Retry.sleeper, random: Retry.random };
let baseline = 0;

beforeEach(() => {
  slept = [];
  Retry.sleeper = async (ms) => {
    slept.push(ms);
  };
  baseline = countOpenSockets();
});

afterEach(async () => {
  Retry.sleeper = saved.sleeper;
  Retry.random = saved.random;
  await Promise.all(closers.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  const left = await waitForSocketCount((n) => n <= baseline);
  assert.ok(left <= baseline, `${left - baseline} socket(s) left open after the test`);
});

after(() => {
  Retry.sleeper = saved.sleeper;
  Retry.random = saved.random;
});

/** A server that reads each request and resets the connection at once. */
function resetAfterRequest(): Promise<RawServer> {
  return scripted((socket) => {
    socket.resetAndDestroy();
  });
}

// ---- connect errors --------------------------------------------------------------------

describe('connect errors are retried for any method and spend the connect counter', () => {
  test('a refused connection is retried for a POST until connect runs out, then MaxRetryError with NewConnectionError', async () => {
    const port = await getFreePort(HOST);
    const resolver = new ScriptedResolver(async () => [{ address: HOST, family: 4, port }]);
    const pool = track(new HTTPConnectionPool('refused.test', { port, resolver }));
    const err = await rejectionOf(
      pool.request('POST', '/submit', {
        body: 'payload',
        retries: new Retry({ total: 10, connect: 2, read: 0 }),
      }),
    );
    const max = assertMaxRetry(err, NewConnectionError);
    assert.equal((max.reason!.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(resolver.calls, 3, 'one attempt and two connect retries');
    assert.match(max.url, /^http:\/\/refused\.test:\d+\/submit$/);
  });

  test('a DNS failure is a NameResolutionError counted as a connect error', async () => {
    const resolver = new ScriptedResolver(async (host) => {
      const e = new Error(`getaddrinfo ENOTFOUND ${host}`) as NodeJS.ErrnoException;
      e.code = 'ENOTFOUND';
      throw e;
    });
    const pool = track(new HTTPConnectionPool('nowhere.test', { port: 80, resolver }));
    const err = await rejectionOf(
      pool.request('POST', '/', { body: 'x', retries: new Retry({ total: 10, connect: 1, read: 0 }) }),
    );
    const max = assertMaxRetry(err, NameResolutionError);
    assert.match(max.reason!.message, /nowhere\.test/);
    assert.equal(resolver.calls, 2);
  });

  test('a connect timeout is a ConnectTimeoutError counted as a connect error', async () => {
    const resolver = new ScriptedResolver(() => new Promise<ResolvedAddress[]>(() => {}));
    const pool = track(
      new HTTPConnectionPool('silent.test', {
        port: 80,
        resolver,
        timeout: new Timeout({ connect: 30, read: 5000 }),
      }),
    );
    const started = performance.now();
    const err = await rejectionOf(
      pool.request('POST', '/', { body: 'x', retries: new Retry({ total: 10, connect: 1, read: 0 }) }),
    );
    const elapsed = performance.now() - started;
    const max = assertMaxRetry(err, ConnectTimeoutError);
    assert.equal(max.reason!.name, 'ConnectTimeoutError', 'a timeout, not a refusal');
    assert.equal(resolver.calls, 2);
    assert.ok(elapsed >= 50 && elapsed < 2000, `two 30 ms connect timeouts took ${elapsed.toFixed(0)} ms`);
  });

  test('a failed TLS handshake is an SSLError counted as a connect error, retried even for a POST', async () => {
    // Answers the ClientHello with plain HTTP, as a misconfigured port would.
    const raw = await scripted(() => {}, {
      onConnection: (socket) => {
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
        return true;
      },
    });
    const pool = track(new HTTPSConnectionPool(HOST, { port: raw.port }));
    const err = await rejectionOf(
      pool.request('POST', '/', { body: 'x', retries: new Retry({ total: 10, connect: 1, read: 0 }) }),
    );
    assertMaxRetry(err, SSLError);
    assert.equal(raw.stats.opened, 2, 'one attempt and one connect retry');
    assert.equal(raw.requests.length, 0, 'no request ever reached the server');
  });

  test('connect: false raises the connect error itself at once', async () => {
    const port = await getFreePort(HOST);
    const pool = track(new HTTPConnectionPool(HOST, { port }));
    const err = await rejectionOf(
      pool.request('GET', '/', { retries: new Retry({ total: 5, connect: false }) }),
    );
    assert.ok(err instanceof NewConnectionError, `expected NewConnectionError itself, got ${err.name}`);
  });
});

// ---- read errors ---------------------------------------------------------------------------

describe('read errors are retried only for allowed methods and spend the read counter', () => {
  test('a reset after the request was sent: a GET is retried until read runs out, a POST raises the ProtocolError itself', async () => {
    const raw = await resetAfterRequest();
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const err = await rejectionOf(
      pool.request('GET', '/reset', { retries: new Retry({ total: 10, connect: 0, read: 2 }) }),
    );
    assertMaxRetry(err, ProtocolError);
    assert.equal(raw.requests.length, 3, 'one attempt and two read retries');

    const post = await rejectionOf(pool.request('POST', '/reset', { body: 'once', retries: 5 }));
    assert.ok(post instanceof ProtocolError, `expected ProtocolError, got ${post.name}`);
    assert.ok(!(post instanceof MaxRetryError));
    assert.equal(raw.requests.length, 4, 'the POST was sent exactly once');
  });

  test('a reset after the response headers is a read error: a GET is retried and succeeds, a POST raises it', async () => {
    let n = 0;
    const raw = await scripted((socket, req) => {
      n++;
      if (n === 1 || req.method === 'POST') {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
        setImmediate(() => socket.resetAndDestroy());
        return;
      }
      socket.write(httpResponse(200, 'complete'));
    });
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const r = await pool.request('GET', '/partial', { retries: new Retry({ total: 3, read: 1 }) });
    assert.equal(r.data.toString(), 'complete');
    const history = r.retries!.history;
    assert.equal(history.length, 1);
    assert.ok(history[0]!.error instanceof ProtocolError, `history error: ${String(history[0]!.error)}`);

    const err = await rejectionOf(pool.request('POST', '/partial', { body: 'x', retries: 3 }));
    assert.ok(err instanceof ProtocolError && !(err instanceof MaxRetryError), `got ${err.name}`);
  });

  test('headers cut short by the server closing are a read error', async () => {
    const raw = await scripted((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nContent-Le');
    });
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const err = await rejectionOf(
      pool.request('GET', '/cut', { retries: new Retry({ total: 10, read: 1 }) }),
    );
    assertMaxRetry(err, ProtocolError);
    assert.equal(raw.requests.length, 2);

    const put = await rejectionOf(
      pool.request('PATCH', '/cut', { body: 'x', retries: new Retry({ total: 10, read: 5 }) }),
    );
    assert.ok(put instanceof ProtocolError && !(put instanceof MaxRetryError), `got ${put.name}`);
    assert.equal(raw.requests.length, 3, 'PATCH is not in the default allowedMethods');
  });

  test('a read timeout on a POST raises the ReadTimeoutError itself after one attempt', async () => {
    const raw = await scripted(() => {
      // never answers
    });
    const pool = track(
      new HTTPConnectionPool(HOST, { port: raw.port, timeout: new Timeout({ connect: 1000, read: 40 }) }),
    );
    const err = await rejectionOf(pool.request('POST', '/slow', { body: 'x', retries: 5 }));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${err.name}`);
    assert.equal(raw.requests.length, 1);
  });

  test('allowedMethods decides which methods a read error is retried for; null allows every method', async () => {
    const raw = await resetAfterRequest();
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const postOnly = new Retry({ total: 1, allowedMethods: ['post'] });
    assertMaxRetry(
      await rejectionOf(pool.request('POST', '/', { body: 'x', retries: postOnly })),
      ProtocolError,
    );
    assert.equal(raw.requests.length, 2, 'the POST was retried');
    const get = await rejectionOf(pool.request('GET', '/', { retries: postOnly }));
    assert.ok(get instanceof ProtocolError && !(get instanceof MaxRetryError), `got ${get.name}`);
    assert.equal(raw.requests.length, 3, 'the GET was not');
    const any = new Retry({ total: 1, allowedMethods: null });
    assertMaxRetry(await rejectionOf(pool.request('PATCH', '/', { body: 'x', retries: any })), ProtocolError);
    assert.equal(raw.requests.length, 5);
  });

  test('read: false raises the read error itself at once', async () => {
    const raw = await resetAfterRequest();
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const err = await rejectionOf(
      pool.request('GET', '/', { retries: new Retry({ total: 5, read: false }) }),
    );
    assert.ok(err instanceof ProtocolError && !(err instanceof MaxRetryError), `got ${err.name}`);
    assert.equal(raw.requests.length, 1);
  });
});

// ---- retries disabled, total ----------------------------------------------------------------

describe('retries: false and the total budget', () => {
  test('retries: false raises the original connect error and the original read timeout, unwrapped', async () => {
    const port = await getFreePort(HOST);
    const refused = track(new HTTPConnectionPool(HOST, { port }));
    const e1 = await rejectionOf(refused.request('GET', '/', { retries: false }));
    assert.ok(e1 instanceof NewConnectionError, `got ${e1.name}`);

    const raw = await scripted(() => {});
    const pm = track(new PoolManager({ timeout: new Timeout({ connect: 1000, read: 40 }) }));
    const e2 = await rejectionOf(pm.request('GET', `${raw.origin}/slow`, { retries: false }));
    assert.ok(e2 instanceof ReadTimeoutError, `got ${e2.name}`);
    assert.equal(raw.requests.length, 1);
  });

  test('connect and read errors share total: the request stops when total runs out whatever the kind', async () => {
    // The first attempt is refused (a closed port), the second is reset after the request.
    const closed = await getFreePort(HOST);
    const raw = await scripted((socket, req) => {
      if (req.connectionIndex === 0) socket.resetAndDestroy();
      else socket.write(httpResponse(200, 'third time'));
    });
    const ports = [closed, raw.port, raw.port];
    const resolver = new ScriptedResolver(async () => [
      { address: HOST, family: 4, port: ports.shift() ?? raw.port },
    ]);
    const pool = track(new HTTPConnectionPool('mixed.test', { port: 80, resolver }));
    const err = await rejectionOf(
      pool.request('GET', '/', { retries: new Retry({ total: 1, connect: 5, read: 5 }) }),
    );
    assertMaxRetry(err, ProtocolError);
    assert.equal(resolver.calls, 2, 'a refused attempt and a reset one: total 1 allows no third');
    assert.equal(raw.stats.opened, 1);
    const ok = await pool.request('GET', '/', { retries: 3 });
    assert.equal(ok.data.toString(), 'third time');
  });
});

// ---- backoff and history ---------------------------------------------------------------------

describe('backoff between error retries', () => {
  /** Resets the first `n` connections as soon as they send a request. */
  function failFirst(n: number): Promise<RawServer> {
    return scripted((socket: net.Socket, req) => {
      if (req.connectionIndex < n) socket.resetAndDestroy();
      else socket.write(httpResponse(200, 'ok'));
    });
  }

  test('the backoff is 0 before the first retry, then factor * 2^(n-1) for the n-th consecutive error', async () => {
    const raw = await failFirst(4);
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const r = await pool.request('GET', '/', { retries: new Retry({ total: 5, backoffFactor: 100 }) });
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [200, 400, 800], 'no sleep before the first retry');
    assert.equal(raw.stats.opened, 5);
  });

  test('jitter is added to the backoff and backoffMax caps the sum', async () => {
    Retry.random = () => 0.5;
    const raw = await failFirst(4);
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    await pool.request('GET', '/', {
      retries: new Retry({ total: 5, backoffFactor: 100, backoffJitter: 40, backoffMax: 500 }),
    });
    assert.deepEqual(slept, [220, 420, 500]);
  });

  test('each error retry adds a history entry with method, absolute url and the error', async () => {
    const raw = await failFirst(2);
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port }));
    const r = await pool.request('PUT', '/item?id=1', { body: 'v', retries: 3 });
    assert.equal(r.status, 200);
    const history = r.retries!.history;
    assert.equal(history.length, 2);
    for (const h of history) {
      assert.equal(h.method, 'PUT');
      assert.equal(h.url, `http://${HOST}:${raw.port}/item?id=1`);
      assert.ok(h.error instanceof ProtocolError, `error: ${String(h.error)}`);
      assert.equal(h.status, null);
      assert.equal(h.redirectLocation, null);
    }
    assert.equal(r.retries!.total, 1, 'two of three retries spent');
    for (const req of raw.requests)
      assert.equal(req.body.toString(), 'v', 'the Buffer body went out whole each time');
  });
});
