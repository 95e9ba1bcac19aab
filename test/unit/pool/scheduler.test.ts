// PoolScheduler without sockets: fake Poolable connections whose state the
// test sets by hand, and a test that plays the pool's part (connect what it
// is handed, finish requests, give leases back). One test per scheduling
// rule: LIFO reuse, maxSize, block and poolTimeout, waiters in order, aborts
// while waiting, shared connections up to their concurrency, one connection
// established at a time while the origin may share, failed establishment,
// GOAWAY draining, a connection that dies while reserved, the fresh and
// avoid re-sends, and close().

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpVersion } from '../../../src/connection/connection-info.js';
import type { Poolable, PoolOwner, Reservation } from '../../../src/connection/poolable.js';
import { ClosedPoolError, EmptyPoolError, RequestAbortedError } from '../../../src/errors.js';
import { type ConnRequest, PoolScheduler } from '../../../src/pool/scheduler.js';

let ids = 0;

/** A connection whose state the test sets; it tells its owner what a real one would. */
class FakeConn implements Poolable {
  readonly id = ++ids;
  reservation: Reservation | null = null;
  httpVersion: HttpVersion | null = null;
  isClosed = true;
  isAvailable = false;
  concurrency = 1;
  poolOwner: PoolOwner<this> | null = null;
  closeCalls = 0;
  alive: Promise<boolean> | true = true;

  constructor(readonly mayShare: boolean) {}

  checkAlive(): Promise<boolean> | true {
    return this.alive;
  }

  close(): Promise<void> {
    this.closeCalls++;
    this.goDown();
    return Promise.resolve();
  }

  /** Connected as HTTP/1.1 with its first request in flight. */
  upUnique(): this {
    this.reservation = 'unique';
    this.httpVersion = HttpVersion.h11;
    this.isClosed = false;
    this.isAvailable = false;
    this.concurrency = 1;
    return this;
  }

  /** Connected as HTTP/2, taking up to `concurrency` streams. */
  upShared(concurrency: number): this {
    this.reservation = 'shared';
    this.httpVersion = HttpVersion.h2;
    this.isClosed = false;
    this.isAvailable = true;
    this.concurrency = concurrency;
    return this;
  }

  /** A 'unique' connection is handed its next request. */
  busy(): void {
    this.isAvailable = false;
  }

  /** A 'unique' connection's request is over. */
  finish(): void {
    this.isAvailable = true;
    this.poolOwner?.connectionIdle(this);
  }

  /** The peer sent GOAWAY. */
  goaway(): void {
    this.isAvailable = false;
    this.poolOwner?.connectionCapacityChanged(this);
  }

  /** The transport closed under us. */
  die(): void {
    this.goDown();
    this.poolOwner?.connectionClosed(this);
  }

  private goDown(): void {
    this.isClosed = true;
    this.isAvailable = false;
    this.reservation = null;
  }
}

/** Stands in for the pool: errors name it. */
class HTTPConnectionPool {
  readonly host = 'example.test';
  readonly port = 80;
  toString(): string {
    return `HTTPConnectionPool(host='${this.host}', port=${this.port})`;
  }
}

function setup(options: { maxSize?: number; block?: boolean; mayShare?: boolean } = {}) {
  const made: FakeConn[] = [];
  const scheduler = new PoolScheduler<FakeConn>({
    pool: new HTTPConnectionPool(),
    maxSize: options.maxSize ?? 1,
    block: options.block ?? false,
    create: () => {
      const conn = new FakeConn(options.mayShare ?? false);
      made.push(conn);
      return conn;
    },
  });
  return { scheduler, made };
}

function want(over: Partial<ConnRequest<FakeConn>> = {}): ConnRequest<FakeConn> {
  return { fresh: false, avoid: null, poolTimeout: null, signal: null, ...over };
}

/** What the pool does with a connection it was handed: connect it when new, mark it busy when not. */
function take(
  scheduler: PoolScheduler<FakeConn>,
  conn: FakeConn,
  as: 'unique' | number = 'unique',
): FakeConn {
  if (conn.isClosed) {
    if (as === 'unique') conn.upUnique();
    else conn.upShared(as);
    scheduler.connected(conn);
  } else if (conn.reservation === 'unique') {
    conn.busy();
  }
  return conn;
}

function now(scheduler: PoolScheduler<FakeConn>, over: Partial<ConnRequest<FakeConn>> = {}): FakeConn {
  const conn = scheduler.acquireNow(want(over));
  assert.ok(conn !== null, 'a connection is available at once');
  return conn;
}

/** Whether `p` has settled, after the pending reactions ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('PoolScheduler', () => {
  test('idle connections are reused last in, first out', () => {
    const { scheduler } = setup({ maxSize: 3 });
    const a = take(scheduler, now(scheduler));
    const b = take(scheduler, now(scheduler));
    const c = take(scheduler, now(scheduler));
    a.finish();
    b.finish();
    c.finish();
    assert.equal(scheduler.numIdle, 3);
    assert.equal(now(scheduler), c);
    assert.equal(now(scheduler), b);
    assert.equal(now(scheduler), a);
    assert.equal(scheduler.numIdle, 0);
  });

  test('no more than maxSize connections are kept idle, and the one over is closed', () => {
    const { scheduler } = setup({ maxSize: 1 });
    const a = take(scheduler, now(scheduler));
    const b = take(scheduler, now(scheduler));
    assert.notEqual(a, b, 'without block a second connection opens beyond maxSize');
    a.finish();
    b.finish();
    assert.equal(scheduler.numIdle, 1);
    assert.equal(scheduler.numOpen, 1);
    assert.equal(b.closeCalls, 1, 'the connection returned to a full pool is closed');
    assert.equal(a.closeCalls, 0);
  });

  test('with block, no more than maxSize connections are open and the next request waits for one', async () => {
    const { scheduler, made } = setup({ maxSize: 1, block: true });
    const a = take(scheduler, now(scheduler));
    assert.equal(scheduler.acquireNow(want()), null);
    const waiting = scheduler.getConn(want());
    assert.equal(await settled(waiting), false);
    assert.equal(made.length, 1);
    a.finish();
    assert.equal(await waiting, a);
  });

  test('with block and poolTimeout, a request that finds no free slot fails with EmptyPoolError', async () => {
    const { scheduler } = setup({ maxSize: 1, block: true });
    take(scheduler, now(scheduler));
    await assert.rejects(scheduler.getConn(want({ poolTimeout: 10 })), (err: unknown) => {
      assert.ok(err instanceof EmptyPoolError);
      assert.equal(
        err.message,
        "HTTPConnectionPool(host='example.test', port=80): Pool is empty and a new connection can't be opened due to blocking mode.",
      );
      return true;
    });
  });

  test('waiters are served in the order they came', async () => {
    const { scheduler } = setup({ maxSize: 1, block: true });
    const a = take(scheduler, now(scheduler));
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) =>
      scheduler.getConn(want()).then((conn) => {
        order.push(n);
        return conn;
      }),
    );
    for (const w of waits) {
      a.finish();
      take(scheduler, await w);
    }
    assert.deepEqual(order, [1, 2, 3]);
  });

  test('an abort while waiting rejects with RequestAbortedError and gives up the place in line', async () => {
    const { scheduler } = setup({ maxSize: 1, block: true });
    const a = take(scheduler, now(scheduler));
    const ac = new AbortController();
    const first = scheduler.getConn(want({ signal: ac.signal }));
    const second = scheduler.getConn(want());
    ac.abort(new Error('user gave up'));
    await assert.rejects(first, (err: unknown) => {
      assert.ok(err instanceof RequestAbortedError);
      assert.equal(
        err.message,
        "HTTPConnectionPool(host='example.test', port=80): aborted while waiting for a connection",
      );
      assert.equal((err.cause as Error).message, 'user gave up');
      return true;
    });
    a.finish();
    assert.equal(await second, a, 'the next waiter gets the connection');
    await assert.rejects(scheduler.getConn(want({ signal: ac.signal })), RequestAbortedError);
  });

  test('a shared connection takes requests up to its concurrency, then a second connection opens', () => {
    const { scheduler, made } = setup({ maxSize: 4, mayShare: true });
    const a = take(scheduler, now(scheduler), 2);
    assert.equal(now(scheduler), a, 'the second request shares the connection');
    const b = now(scheduler);
    assert.notEqual(b, a, 'the third opens another');
    assert.equal(made.length, 2);
  });

  test('a shared connection goes back to the idle stack when its last lease ends, and is shared again', () => {
    const { scheduler } = setup({ maxSize: 2, mayShare: true });
    const a = take(scheduler, now(scheduler), 10);
    const first = scheduler.leaseFor(a);
    assert.equal(now(scheduler), a);
    const second = scheduler.leaseFor(a);
    first();
    first();
    assert.equal(scheduler.numIdle, 0, 'a lease given back twice counts once');
    second();
    assert.equal(scheduler.numIdle, 1);
    assert.equal(now(scheduler), a);
    assert.equal(now(scheduler), a);
  });

  test('while the origin may share, one connection is established at a time and the others share it', async () => {
    const { scheduler, made } = setup({ maxSize: 4, mayShare: true });
    const a = now(scheduler);
    assert.equal(scheduler.acquireNow(want()), null, 'the second request waits for the first connection');
    const waiting = [scheduler.getConn(want()), scheduler.getConn(want())];
    assert.equal(made.length, 1);
    take(scheduler, a, 100);
    assert.deepEqual(await Promise.all(waiting), [a, a]);
    assert.equal(made.length, 1);
    assert.equal(scheduler.knownVersion, HttpVersion.h2);
  });

  test('when the connection established turns out unique, the waiters open their own, and later ones at once', async () => {
    const { scheduler, made } = setup({ maxSize: 4, mayShare: true });
    const a = now(scheduler);
    const waiting = scheduler.getConn(want());
    take(scheduler, a, 'unique');
    const b = await waiting;
    assert.notEqual(b, a);
    assert.equal(scheduler.knownVersion, HttpVersion.h11);
    // The origin is known to speak HTTP/1.1: connections open side by side.
    const c = now(scheduler);
    const d = now(scheduler);
    assert.notEqual(c, d);
    assert.equal(made.length, 4);
  });

  test('a failed establishing connection fails its waiters with the same error', async () => {
    const { scheduler } = setup({ maxSize: 4, mayShare: true });
    const a = now(scheduler);
    const waiting = [scheduler.getConn(want()), scheduler.getConn(want())];
    const boom = new Error('connection refused');
    scheduler.connectFailed(a, boom);
    scheduler.discard(a);
    for (const w of waiting) await assert.rejects(w, (err: unknown) => err === boom);
    assert.equal(scheduler.numOpen, 0);
  });

  test('an abort of the establishing connection leaves its waiters to open their own', async () => {
    const { scheduler } = setup({ maxSize: 4, mayShare: true });
    const a = now(scheduler);
    const waiting = scheduler.getConn(want());
    scheduler.connectFailed(a, new RequestAbortedError('the opener gave up'));
    scheduler.discard(a);
    const b = await waiting;
    assert.notEqual(b, a);
    assert.ok(b.isClosed, 'a new connection, to be connected by the waiter');
  });

  test('a draining connection (GOAWAY) takes no new requests and closes once its last lease ends', () => {
    const { scheduler } = setup({ maxSize: 4, mayShare: true });
    const a = take(scheduler, now(scheduler), 10);
    const first = scheduler.leaseFor(a);
    assert.equal(now(scheduler), a);
    const second = scheduler.leaseFor(a);
    a.goaway();
    const b = now(scheduler);
    assert.notEqual(b, a, 'a new request goes elsewhere');
    first();
    assert.equal(a.closeCalls, 0, 'a request is still on it');
    second();
    assert.equal(a.closeCalls, 1);
    assert.equal(scheduler.numOpen, 1);
  });

  test('an idle shared connection that receives GOAWAY is closed at once', () => {
    const { scheduler } = setup({ maxSize: 4, mayShare: true });
    const a = take(scheduler, now(scheduler), 10);
    scheduler.leaseFor(a)();
    assert.equal(scheduler.numIdle, 1);
    a.goaway();
    assert.equal(a.closeCalls, 1);
    assert.equal(scheduler.numIdle, 0);
    assert.equal(scheduler.numOpen, 0);
  });

  test('a unique connection that dies while reserved frees its slot for a waiter', async () => {
    const { scheduler } = setup({ maxSize: 1, block: true });
    const a = take(scheduler, now(scheduler));
    const waiting = scheduler.getConn(want());
    a.die();
    const b = await waiting;
    assert.notEqual(b, a);
    assert.equal(scheduler.numOpen, 1);
    a.finish();
    assert.equal(scheduler.numIdle, 0, 'the dead connection never comes back');
  });

  test('a shared connection that dies while leased frees its slot, and its leases end quietly', async () => {
    const { scheduler } = setup({ maxSize: 1, block: true, mayShare: true });
    const a = take(scheduler, now(scheduler), 1);
    const lease = scheduler.leaseFor(a);
    const waiting = scheduler.getConn(want());
    a.die();
    const b = await waiting;
    assert.notEqual(b, a);
    lease();
    assert.equal(scheduler.numIdle, 0);
    assert.equal(scheduler.numOpen, 1);
  });

  test('a dropped idle connection is replaced by a new one', () => {
    const { scheduler } = setup({ maxSize: 2 });
    const a = take(scheduler, now(scheduler));
    a.finish();
    a.isAvailable = false; // the server closed it while idle; the close event has not arrived
    const b = now(scheduler);
    assert.notEqual(b, a);
    assert.equal(a.closeCalls, 1);
    assert.equal(scheduler.numOpen, 1);
  });

  test('a request that asks for a fresh connection never gets an idle one; with block the idle one makes room', () => {
    const { scheduler } = setup({ maxSize: 1, block: true });
    const a = take(scheduler, now(scheduler));
    a.finish();
    const b = now(scheduler, { fresh: true });
    assert.notEqual(b, a);
    assert.equal(a.closeCalls, 1, 'the idle connection was closed to stay within maxSize');
    assert.equal(scheduler.numOpen, 1);
  });

  test('a request that avoids a connection gets another one', () => {
    const { scheduler } = setup({ maxSize: 4, mayShare: true });
    const a = take(scheduler, now(scheduler), 10);
    const b = now(scheduler, { avoid: a });
    assert.notEqual(b, a);
    // And an idle unique connection is passed over the same way.
    const u = setup({ maxSize: 4 });
    const c = take(u.scheduler, now(u.scheduler));
    c.finish();
    assert.notEqual(now(u.scheduler, { avoid: c }), c);
    assert.equal(u.scheduler.numIdle, 1, 'the avoided connection stays idle');
  });

  test('close() closes idle connections, fails waiters and later requests, and busy ones close when done', async () => {
    const { scheduler } = setup({ maxSize: 2, block: true, mayShare: true });
    const shared = take(scheduler, now(scheduler), 1);
    const lease = scheduler.leaseFor(shared);
    const unique = take(scheduler, now(scheduler, { avoid: shared }), 'unique');
    const waiting = scheduler.getConn(want());
    scheduler.close();
    await assert.rejects(waiting, (err: unknown) => {
      assert.ok(err instanceof ClosedPoolError);
      assert.equal(err.message, "HTTPConnectionPool(host='example.test', port=80): Pool is closed.");
      return true;
    });
    await assert.rejects(scheduler.getConn(want()), ClosedPoolError);
    assert.equal(scheduler.acquireNow(want()), null);
    assert.equal(shared.closeCalls + unique.closeCalls, 0, 'busy connections stay until their request ends');
    lease();
    unique.finish();
    assert.equal(shared.closeCalls, 1);
    assert.equal(unique.closeCalls, 1);
    assert.equal(scheduler.numOpen, 0);
    assert.equal(scheduler.isClosed, true);
  });

  test('the scheduler keeps its state to itself: a connection carries only its owner', () => {
    const { scheduler } = setup({ maxSize: 2, mayShare: true });
    const a = now(scheduler);
    const before = Object.keys(a).sort();
    take(scheduler, a, 10);
    now(scheduler);
    scheduler.leaseFor(a)();
    assert.deepEqual(Object.keys(a).sort(), before);
    assert.equal(a.poolOwner, scheduler);
  });
});
