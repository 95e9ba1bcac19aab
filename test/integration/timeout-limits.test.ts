// Timeouts through pools and the PoolManager (docs/api.md section 5, urllib3's
// Timeout): `connect` bounds the set-up only, `read` bounds the wait for the
// head and every gap between body bytes (a trickle under the limit
// survives, a stall does not, preloaded or streamed), `total` caps connect
// plus read of one attempt, each attempt (retry, request) runs on a fresh
// clone so a shared Timeout is never started, and a number means connect
// and read. Misuse of the timer itself (TimeoutStateError) is pinned in
// test/unit/policies/timeout.test.ts.

import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import {
  BaseResolver,
  ConnectTimeoutError,
  HTTPConnectionPool,
  MaxRetryError,
  PoolManager,
  ReadTimeoutError,
  type ResolvedAddress,
  Retry,
  Timeout,
  TimeoutStateError,
} from '../../src/index.js';
import { httpResponse, type RawHandler, type RawServer, rawServer, writeSlowly } from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';

const HOST = '127.0.0.1';

/** Resolves to 127.0.0.1:`port` after `delay` ms (or never, with delay null), counting calls. */
class SlowResolver extends BaseResolver {
  calls = 0;
  constructor(
    private readonly port: number,
    private readonly delay: number | null,
    private readonly onCall: () => void = () => {},
  ) {
    super();
  }
  getaddrinfo(): Promise<ResolvedAddress[]> {
    this.calls++;
    this.onCall();
    if (this.delay === null) return new Promise(() => {});
    return new Promise((resolve) =>
      setTimeout(() => resolve([{ address: HOST, family: 4, port: this.port }]), this.delay!),
    );
  }
}

const servers: RawServer[] = [];
const closers: Array<{ close(): Promise<void> }> = [];
let baseline = 0;

beforeEach(() => {
  baseline = countOpenSockets();
});

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  const left = await waitForSocketCount((n) => n <= baseline);
  assert.ok(left <= baseline, `${left - baseline} socket(s) left open after the test`);
});

after(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function scripted(handler: RawHandler): Promise<RawServer> {
  const s = await rawServer(handler);
  servers.push(s);
  return s;
}

function track<T extends { close(): Promise<void> }>(x: T): T {
  closers.push(x);
  return x;
}

/** Runs `start` and times it from before its first synchronous step (a request starts its clock at once). */
async function timed<T>(start: () => Promise<T>): Promise<[T | Error, number]> {
  const started = performance.now();
  try {
    const v = await start();
    return [v, performance.now() - started];
  } catch (err) {
    return [err as Error, performance.now() - started];
  }
}

/** Sends the head, then the body a byte at a time every `gap` ms (stalling for good after `stallAfter` bytes). */
function trickle(body: string, gap: number, stallAfter = Number.POSITIVE_INFINITY): RawHandler {
  return async (socket) => {
    socket.setNoDelay(true);
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
    await writeSlowly(socket, body.slice(0, stallAfter), { chunkSize: 1, delayMs: gap });
  };
}

describe('the read timeout applies between body bytes', () => {
  test('a byte every 30 ms under a 150 ms read timeout survives, streamed as well as preloaded', async () => {
    const raw = await scripted(trickle('0123456789', 30));
    const pool = track(
      new HTTPConnectionPool(HOST, {
        port: raw.port,
        retries: false,
        timeout: new Timeout({ connect: 1000, read: 150 }),
      }),
    );
    const [preloaded, elapsed] = await timed(() => pool.request('GET', '/'));
    assert.ok(!(preloaded instanceof Error), `preloaded: ${String(preloaded)}`);
    assert.equal(preloaded.data.toString(), '0123456789');
    assert.ok(elapsed > 150, `the body took ${elapsed.toFixed(0)} ms in all, more than one read timeout`);

    const streamed = await pool.urlopen('GET', '/', { preloadContent: false });
    const parts: Buffer[] = [];
    for await (const chunk of streamed.stream(-1)) parts.push(chunk);
    assert.equal(Buffer.concat(parts).toString(), '0123456789');
  });

  test('a body that stalls mid-way fails a preloaded request with ReadTimeoutError after about the read timeout', async () => {
    const raw = await scripted(trickle('0123456789', 10, 4));
    const pool = track(
      new HTTPConnectionPool(HOST, {
        port: raw.port,
        retries: false,
        timeout: new Timeout({ connect: 1000, read: 80 }),
      }),
    );
    const [err, elapsed] = await timed(() => pool.request('GET', '/stall'));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${String(err)}`);
    assert.ok(elapsed >= 70 && elapsed < 1500, `failed after ${elapsed.toFixed(0)} ms`);
    assert.equal(pool.numOpen, 0, 'the timed-out connection was discarded');
  });

  test('a GET whose body stalls is retried as a read error; the retry that answers in time succeeds', async () => {
    let n = 0;
    const raw = await scripted(async (socket) => {
      n++;
      if (n === 1) {
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234');
        return; // stalls
      }
      socket.write(httpResponse(200, 'on time'));
    });
    const pool = track(
      new HTTPConnectionPool(HOST, { port: raw.port, timeout: new Timeout({ connect: 1000, read: 60 }) }),
    );
    const r = await pool.request('GET', '/', { retries: new Retry({ total: 2, read: 1 }) });
    assert.equal(r.data.toString(), 'on time');
    assert.ok(r.retries!.history[0]!.error instanceof ReadTimeoutError);
  });
});

describe('connect, read and total', () => {
  test('the connect timeout bounds only the set-up: a slow resolver fails with ConnectTimeoutError under a long read timeout', async () => {
    const resolver = new SlowResolver(1, null);
    const pool = track(
      new HTTPConnectionPool('slow.test', {
        port: 80,
        resolver,
        retries: false,
        timeout: new Timeout({ connect: 50, read: 10_000 }),
      }),
    );
    const [err, elapsed] = await timed(() => pool.request('GET', '/'));
    assert.ok(err instanceof ConnectTimeoutError, `expected ConnectTimeoutError, got ${String(err)}`);
    assert.ok(elapsed >= 40 && elapsed < 1500, `gave up after ${elapsed.toFixed(0)} ms`);
  });

  test('the read timeout bounds the wait for the head: a silent server fails with ReadTimeoutError under a long connect timeout', async () => {
    const raw = await scripted(() => {});
    const pool = track(
      new HTTPConnectionPool(HOST, {
        port: raw.port,
        retries: false,
        timeout: new Timeout({ connect: 10_000, read: 50 }),
      }),
    );
    const [err, elapsed] = await timed(() => pool.request('GET', '/'));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${String(err)}`);
    assert.ok(elapsed >= 40 && elapsed < 1500, `gave up after ${elapsed.toFixed(0)} ms`);
  });

  test('a number is both limits', async () => {
    const raw = await scripted(() => {});
    const pm = track(new PoolManager());
    const [err] = await timed(() => pm.request('GET', `${raw.origin}/`, { timeout: 50, retries: false }));
    assert.ok(err instanceof ReadTimeoutError, `read: got ${String(err)}`);
    const slow = track(
      new HTTPConnectionPool('slow.test', { port: 80, resolver: new SlowResolver(1, null), retries: false }),
    );
    const [err2] = await timed(() => slow.request('GET', '/', { timeout: 50 }));
    assert.ok(err2 instanceof ConnectTimeoutError, `connect: got ${String(err2)}`);
  });

  test('total caps connect plus read: what the connect phase used is taken from the read limit', async () => {
    // A fake clock: the resolver "takes" 90 of the 100 ms total, leaving 10 ms to read
    // while the read limit alone would allow 5 s.
    let now = 0;
    const clock = { now: () => now };
    const raw = await scripted((socket, _req, ctx) => {
      ctx.setTimer(() => socket.write(httpResponse(200, 'late')), 300);
    });
    const resolver = new SlowResolver(raw.port, 0, () => {
      now += 90;
    });
    const timeout = new Timeout({ connect: 5000, read: 5000, total: 100 }, clock);
    const pool = track(new HTTPConnectionPool('fake.test', { port: 80, resolver, retries: false, timeout }));
    const [err, elapsed] = await timed(() => pool.request('GET', '/'));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${String(err)}`);
    assert.ok(
      elapsed < 250,
      `the 10 ms left of total should end it well before the 300 ms answer (${elapsed.toFixed(0)} ms)`,
    );
    assert.match(err.message, /read timeout=10 ms/);
  });

  test('total alone limits a silent server', async () => {
    const raw = await scripted(() => {});
    const pool = track(
      new HTTPConnectionPool(HOST, { port: raw.port, retries: false, timeout: new Timeout({ total: 60 }) }),
    );
    const [err, elapsed] = await timed(() => pool.request('GET', '/'));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${String(err)}`);
    assert.ok(elapsed >= 40 && elapsed < 1500, `gave up after ${elapsed.toFixed(0)} ms`);
  });
});

describe('a fresh Timeout for every attempt', () => {
  test('a shared Timeout with total serves many requests and retries, and is itself never started', async () => {
    let n = 0;
    const raw = await scripted((socket) => {
      n++;
      if (n % 2 === 1) socket.resetAndDestroy();
      else socket.end(httpResponse(200, `ok ${n}`, { Connection: 'close' }));
    });
    const timeout = new Timeout({ connect: 1000, read: 1000, total: 2000 });
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port, timeout }));
    const pm = track(new PoolManager());
    for (let i = 0; i < 3; i++) {
      const r = await pool.request('GET', '/', { timeout, retries: 2 });
      assert.equal(r.status, 200);
      assert.equal(r.retries!.history.length, 1, 'each request was retried once');
    }
    const r = await pm.request('GET', `${raw.origin}/`, { timeout, retries: 2 });
    assert.equal(r.status, 200);
    assert.throws(
      () => timeout.getConnectDuration(),
      TimeoutStateError,
      'the caller’s Timeout was never started',
    );
    assert.throws(() => pool.timeout.getConnectDuration(), TimeoutStateError, 'nor the pool’s');
  });

  test('each retry gets the whole read timeout again', async () => {
    let n = 0;
    const raw = await scripted((socket, _req, ctx) => {
      n++;
      // Attempts 1 and 2 answer after 70 ms (over the 50 ms limit), attempt 3 after 30 ms.
      ctx.setTimer(() => socket.write(httpResponse(200, `attempt ${n}`)), n < 3 ? 70 : 30);
    });
    const pool = track(
      new HTTPConnectionPool(HOST, { port: raw.port, timeout: new Timeout({ connect: 1000, read: 50 }) }),
    );
    const r = await pool.request('GET', '/', { retries: 3 });
    assert.equal(r.data.toString(), 'attempt 3');
    assert.equal(r.retries!.history.length, 2);
    assert.ok(r.retries!.history.every((h) => h.error instanceof ReadTimeoutError));
  });

  test('with the read limit spent on every attempt the request ends in MaxRetryError naming ReadTimeoutError', async () => {
    const raw = await scripted(() => {});
    const pool = track(new HTTPConnectionPool(HOST, { port: raw.port, timeout: 30 }));
    const [err] = await timed(() => pool.request('GET', '/', { retries: new Retry({ total: 2 }) }));
    assert.ok(err instanceof MaxRetryError, `got ${String(err)}`);
    assert.ok(err.reason instanceof ReadTimeoutError);
    assert.equal(raw.requests.length, 3);
  });
});
