// What a pool needs to know about a connection to schedule requests on it,
// and nothing more (docs/architecture.md, "the session seam"). The pool never
// learns which protocol a connection speaks beyond its reservation kind and
// its HttpVersion: a connection carrying one request at a time is a 'unique'
// reservation (HTTP/1.1), one carrying up to a peer-given number of
// concurrent requests is 'shared' (HTTP/2, later HTTP/3). Which one a
// connection is, is known only once it has connected (ALPN, prior knowledge).

import type { HttpVersion } from './connection-info.js';

export type Reservation = 'unique' | 'shared';

/** Signals a connection sends the pool that owns it. */
export interface PoolOwner<C> {
  /** A 'unique' connection finished its request and can take the next one. */
  connectionIdle(conn: C): void;
  /** The connection's transport is gone (closed by either side). */
  connectionClosed(conn: C): void;
  /** A 'shared' connection now takes more or fewer requests (SETTINGS, GOAWAY). */
  connectionCapacityChanged(conn: C): void;
}

export interface Poolable {
  /** How requests share this connection; null until it has connected. */
  readonly reservation: Reservation | null;
  /** The protocol it speaks; null until it has connected. */
  readonly httpVersion: HttpVersion | null;
  /**
   * Connecting may end in a 'shared' reservation (TLS offering h2 in ALPN,
   * h2c by prior knowledge): the pool opens one such connection per origin
   * at a time until it knows.
   */
  readonly mayShare: boolean;
  /** No open transport (never connected, or closed). */
  readonly isClosed: boolean;
  /**
   * 'unique': free for a request now. 'shared': open and still accepting new
   * requests (no GOAWAY); how many is `concurrency` minus the pool's leases.
   */
  readonly isAvailable: boolean;
  /** 'shared': requests it may carry at once (the peer's limit); 'unique': 1. */
  readonly concurrency: number;
  /**
   * A connection idle long enough to be suspect proves it is alive (an
   * HTTP/2 PING); false when it did not, and it is closed then. true at once
   * when no check is needed.
   */
  checkAlive(): Promise<boolean> | true;
  close(): Promise<void>;
  /** The pool that owns the connection, or null. */
  poolOwner: PoolOwner<this> | null;
}
