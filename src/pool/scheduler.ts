// Which connection a request goes out on, for one origin (docs/api.md
// section 4). It lives apart from the pool's urlopen loop because it is the
// most intricate logic in the project and must be testable without sockets:
// it sees connections only through Poolable, so a unit test drives it with
// fake ones, and a new protocol (HTTP/3) needs no change here.
//
// It keeps all of its own state - nothing is stored on the connections:
// `all` (every connection it opened and not yet closed), `idle` (a stack:
// the most recently used is the most likely to still be open), `leases`
// (each 'shared' connection with requests on it, and how many), the waiters,
// the connection being established, and what the origin negotiated last.
//
// Why the rules are as they are:
//  * A 'unique' connection (HTTP/1.1) leaves `idle` while busy; a 'shared'
//    one (HTTP/2) takes requests up to its `concurrency` minus its leases,
//    and only then does a request open a second connection.
//  * Which kind a connection is, is known only once it connected (ALPN), so
//    while the origin may share, only one connection is established at a
//    time and the others wait for it: they share it, or, when it turns out
//    'unique', go on to open their own. The origin's protocol is remembered
//    as an HttpVersion (room for an Alt-Svc cache), not a yes/no.
//  * When that connection fails, its waiters fail with the same error (each
//    spends its own retry) rather than each waiting out its own attempt in
//    turn; an abort is the opener's own business and the waiters go on.
//  * A connection that stops taking requests (GOAWAY) drains: no new
//    requests, closed once its last lease ends. One that dies while reserved
//    frees its slot at once.
//  * With `block`, no more than maxSize connections exist and requests wait
//    (poolTimeout, then EmptyPoolError); waiters are served first come,
//    first served.
//
// The hot path is acquireNow(): a connection available right now is taken
// synchronously and with no allocation; only waiting builds a promise.

import { HttpVersion } from '../connection/connection-info.js';
import type { Poolable, PoolOwner } from '../connection/poolable.js';
import { debug } from '../debug.js';
import { ClosedPoolError, EmptyPoolError, type PoolLike, RequestAbortedError } from '../errors.js';

/** What a request asks of the scheduler. */
export interface ConnRequest<C> {
  /** A new connection (the re-send after a stale keep-alive connection failed). */
  fresh: boolean;
  /** Any connection but this one (the re-send of a request a shared connection did not process). */
  avoid: C | null;
  /** With `block`: how long (ms) to wait for a free slot before EmptyPoolError; null waits on. */
  poolTimeout: number | null;
  /** Ends a wait with RequestAbortedError. */
  signal: AbortSignal | null;
}

export interface SchedulerOptions<C> {
  /** The owning pool: named in errors and debug lines. */
  pool: PoolLike;
  /** Connections kept for reuse; with `block`, connections open at most. */
  maxSize: number;
  block: boolean;
  /** A new, unconnected connection to the origin. */
  create: () => C;
}

/** Why a request waits: for the connection being established, or for a free slot (block). */
type WaitReason = 'establishing' | 'full';

interface Waiter<C> {
  readonly fresh: boolean;
  readonly avoid: C | null;
  reason: WaitReason;
  readonly resolve: (conn: C) => void;
  readonly reject: (err: Error) => void;
  timer: NodeJS.Timeout | null;
  readonly signal: AbortSignal | null;
  onAbort: (() => void) | null;
}

export class PoolScheduler<C extends Poolable> implements PoolOwner<C> {
  private readonly pool: PoolLike;
  private readonly maxSize: number;
  private readonly block: boolean;
  private readonly create: () => C;

  private readonly all = new Set<C>();
  private readonly idle: C[] = [];
  /**
   * 'shared' connections with requests on them, and how many. A connection
   * that drains (no longer available) stays until its count reaches 0; a
   * count of 0 exists only while streamDone() offers the slot to waiters.
   */
  private readonly leases = new Map<C, number>();
  private readonly waiters: Waiter<C>[] = [];
  /** The connection being set up while the origin may share; others wait for it. */
  private establishing: C | null = null;
  /** What the origin negotiated last (on a connection that could have shared); null: not known. */
  private originVersion: HttpVersion | null = null;
  /** Why acquire() last returned null. */
  private reason: WaitReason = 'full';
  private pumping = false;
  private pumpAgain = false;
  private closed = false;

  constructor(options: SchedulerOptions<C>) {
    this.pool = options.pool;
    this.maxSize = options.maxSize;
    this.block = options.block;
    this.create = options.create;
  }

  /** Idle connections ready for reuse. */
  get numIdle(): number {
    return this.idle.length;
  }

  /** Connections open or being opened (idle or busy). */
  get numOpen(): number {
    return this.all.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The protocol the origin negotiated last, or null when not known. */
  get knownVersion(): HttpVersion | null {
    return this.originVersion;
  }

  /**
   * A connection available right now (its slot reserved), or null when the
   * caller must wait through getConn(). No promise and no allocation: most
   * requests get a connection here.
   */
  acquireNow(req: ConnRequest<C>): C | null {
    if (this.closed) return null;
    return this.acquire(req);
  }

  /**
   * A connection for one request: a free slot on a shared connection, an
   * idle connection (most recent first), or a new one; or a wait, for the
   * connection being established or, with `block`, for a free slot.
   */
  getConn(req: ConnRequest<C>): Promise<C> {
    if (this.closed) return Promise.reject(new ClosedPoolError(this.pool, 'Pool is closed.'));
    const now = this.acquire(req);
    if (now !== null) return Promise.resolve(now);
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(this.abortedError(signal));
    return new Promise<C>((resolve, reject) => {
      const w: Waiter<C> = {
        fresh: req.fresh,
        avoid: req.avoid,
        reason: this.reason,
        resolve,
        reject,
        timer: null,
        signal,
        onAbort: null,
      };
      if (req.poolTimeout !== null && this.block) {
        w.timer = setTimeout(() => {
          this.removeWaiter(w);
          reject(
            new EmptyPoolError(
              this.pool,
              "Pool is empty and a new connection can't be opened due to blocking mode.",
            ),
          );
        }, req.poolTimeout);
      }
      if (signal !== null) {
        w.onAbort = () => {
          this.removeWaiter(w);
          reject(this.abortedError(signal));
        };
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiters.push(w);
    });
  }

  private abortedError(signal: AbortSignal): RequestAbortedError {
    return new RequestAbortedError(`${String(this.pool)}: aborted while waiting for a connection`, {
      cause: signal.reason,
    });
  }

  /** A connection for `req` now (with its lease when shared), or null to wait (`this.reason` says why). */
  private acquire(req: { readonly fresh: boolean; readonly avoid: C | null }): C | null {
    if (!req.fresh) {
      if (this.leases.size > 0) {
        for (const conn of this.leases.keys()) {
          if (conn === req.avoid || !conn.isAvailable) continue;
          const held = this.leases.get(conn) ?? 0;
          if (conn.concurrency > held) {
            this.leases.set(conn, held + 1);
            return conn;
          }
        }
      }
      for (let i = this.idle.length - 1; i >= 0; i = Math.min(i - 1, this.idle.length - 1)) {
        const conn = this.idle[i]!;
        if (conn === req.avoid) continue;
        this.idle.splice(i, 1);
        if (conn.reservation === 'shared') {
          if (conn.isAvailable && conn.concurrency > 0) {
            this.leases.set(conn, 1);
            return conn;
          }
        } else if (conn.isAvailable) {
          return conn;
        }
        // Dropped while idle (the server closed it): replace it.
        debug('Resetting dropped connection: %s', this.pool.host);
        this.discard(conn);
      }
      if (this.establishing !== null) {
        this.reason = 'establishing';
        return null;
      }
    }
    if (!this.block || this.all.size < this.maxSize) return this.open();
    if (req.fresh && this.idle.length > 0) {
      this.discard(this.idle.shift()!);
      return this.open();
    }
    this.reason = 'full';
    return null;
  }

  /** A new connection; while the origin may share it is the one others wait for. */
  private open(): C {
    const conn = this.create();
    conn.poolOwner = this;
    this.all.add(conn);
    if (this.establishing === null && this.originMayShare() && conn.mayShare) this.establishing = conn;
    return conn;
  }

  /** Not known to speak a protocol whose connections are 'unique'. */
  private originMayShare(): boolean {
    return this.originVersion !== HttpVersion.h11;
  }

  /** Serve the waiters that can be served now, in order. Re-entrant calls fold into the running one. */
  private pump(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        for (let i = 0; i < this.waiters.length; ) {
          const w = this.waiters[i]!;
          const conn = this.closed ? null : this.acquire(w);
          if (conn === null) {
            if (!this.closed) w.reason = this.reason;
            i++;
            continue;
          }
          this.waiters.splice(i, 1);
          this.clearWaiter(w);
          w.resolve(conn);
        }
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private removeWaiter(w: Waiter<C>): void {
    const i = this.waiters.indexOf(w);
    if (i !== -1) this.waiters.splice(i, 1);
    this.clearWaiter(w);
  }

  private clearWaiter(w: Waiter<C>): void {
    if (w.timer !== null) clearTimeout(w.timer);
    w.timer = null;
    if (w.onAbort !== null) w.signal?.removeEventListener('abort', w.onAbort);
    w.onAbort = null;
  }

  /**
   * A new connection is up (the caller connected it): a 'shared' one is
   * offered to others from now on, with the opener holding its first lease.
   */
  connected(conn: C): void {
    if (this.establishing === conn) this.establishing = null;
    if (conn.reservation === 'shared') {
      this.originVersion = conn.httpVersion;
      if (this.all.has(conn)) this.leases.set(conn, 1);
    } else if (conn.mayShare) {
      this.originVersion = conn.httpVersion;
    }
    this.pump();
  }

  /**
   * Connecting `conn` failed with `err`: the waiters for it fail alike
   * (aborts excepted). The caller discards the connection.
   */
  connectFailed(conn: C, err: unknown): void {
    if (this.establishing !== conn) return;
    this.establishing = null;
    if (!(err instanceof RequestAbortedError) && err instanceof Error) {
      for (const w of this.waiters.filter((x) => x.reason === 'establishing')) {
        this.removeWaiter(w);
        w.reject(err);
      }
    }
    this.pump();
  }

  /**
   * The lease a request holds on the shared connection `conn`, as a
   * function that gives it back once (when the request's stream is over).
   */
  leaseFor(conn: C): () => void {
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.streamDone(conn);
    };
  }

  private streamDone(conn: C): void {
    const held = this.leases.get(conn);
    // Closed (and forgotten) meanwhile.
    if (held === undefined) return;
    const left = Math.max(0, held - 1);
    if (this.closed || !conn.isAvailable) {
      // Pool closed or GOAWAY: the connection goes once its last lease ends.
      if (left > 0) {
        this.leases.set(conn, left);
      } else {
        this.leases.delete(conn);
        this.discard(conn);
      }
      return;
    }
    this.leases.set(conn, left);
    this.pump();
    if (this.leases.get(conn) === 0) {
      this.leases.delete(conn);
      this.keepIdle(conn);
    }
  }

  // ---- PoolOwner: what connections tell the scheduler -------------------------

  /** A 'unique' connection finished its request and may be reused. */
  connectionIdle(conn: C): void {
    if (!this.all.has(conn)) return;
    if (this.closed || !conn.isAvailable) {
      this.discard(conn);
      return;
    }
    if (this.waiters.length > 0) {
      this.idle.push(conn);
      this.pump();
      const i = this.idle.indexOf(conn);
      if (i === -1) return;
      this.idle.splice(i, 1);
    }
    this.keepIdle(conn);
  }

  /** A connection closed (by either side): free its slot. */
  connectionClosed(conn: C): void {
    this.forget(conn);
  }

  /** A shared connection takes more or fewer requests (SETTINGS), or none any more (GOAWAY). */
  connectionCapacityChanged(conn: C): void {
    if (!this.all.has(conn)) return;
    if (conn.reservation !== 'unique' && !conn.isAvailable) {
      const i = this.idle.indexOf(conn);
      if (i !== -1) this.idle.splice(i, 1);
      if ((this.leases.get(conn) ?? 0) === 0) this.discard(conn);
    }
    this.pump();
  }

  // ---- giving connections up --------------------------------------------------

  private keepIdle(conn: C): void {
    if (this.idle.length >= this.maxSize) {
      debug(
        'Connection pool is full, discarding connection: %s. Connection pool size: %d',
        this.pool.host,
        this.maxSize,
      );
      this.discard(conn);
      return;
    }
    this.idle.push(conn);
  }

  /** Close `conn` and free its slot (a failed request, a dead connection). */
  discard(conn: C): void {
    this.forget(conn);
    void conn.close();
  }

  private forget(conn: C): void {
    if (!this.all.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
    this.leases.delete(conn);
    if (this.establishing === conn) this.establishing = null;
    if (!this.closed && this.waiters.length > 0) this.pump();
  }

  /**
   * Close idle connections now and busy ones once their request is over;
   * waiting and later requests fail with ClosedPoolError.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const conn of this.idle.splice(0)) this.discard(conn);
    for (const [conn, held] of [...this.leases]) if (held === 0) this.discard(conn);
    for (const w of this.waiters.splice(0)) {
      this.clearWaiter(w);
      w.reject(new ClosedPoolError(this.pool, 'Pool is closed.'));
    }
  }
}
