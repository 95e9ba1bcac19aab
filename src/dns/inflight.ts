// The queries one resolver has in flight, with their timeout (docs/api.md
// section 10): close() calls them all off, and each one is called off with
// a ConnectTimeoutError when its time is up. Every query of a resolver has
// the same timeout, so the order they started in is the order their time
// runs out in: a list, oldest first, and one timer for its head, instead of
// a setTimeout (a Timeout object and a closure) and a Set entry per query.
// A query that ends is unlinked at once; the timer, when it fires, calls
// off what is due and is set again for the new head. The timer holds the
// process open while a query is in flight (as a pending dns.lookup does),
// and is cleared when the list empties.

import { ConnectTimeoutError } from '../errors.js';
import { QueryCancel } from './cancel.js';

/** A query in flight: its cancel, its deadline and its place in the list. */
export class InflightQuery extends QueryCancel {
  /** performance.now() past which it is called off; Infinity without a timeout. */
  deadline = Number.POSITIVE_INFINITY;
  prev: InflightQuery | null = null;
  next: InflightQuery | null = null;
  /** In the list (not yet ended or called off). */
  linked = false;
}

export class InflightQueries {
  private head: InflightQuery | null = null;
  private tail: InflightQuery | null = null;
  /** Set for the head's deadline while there is a head (deadlines only grow: never re-armed earlier). */
  private timer: NodeJS.Timeout | null = null;
  private count = 0;

  /** `timeoutMs`: each query's time, null for none. */
  constructor(private readonly timeoutMs: number | null) {}

  /** Queries in the list (for tests). */
  get size(): number {
    return this.count;
  }

  /**
   * A query in flight from now (`q`, or a new one): its cancel fires on
   * timeout or closeAll(). A query that ended may start again (its next
   * question, with a time of its own).
   */
  start(q: InflightQuery = new InflightQuery()): InflightQuery {
    if (q.linked) this.end(q);
    q.deadline = this.timeoutMs === null ? Number.POSITIVE_INFINITY : performance.now() + this.timeoutMs;
    q.prev = this.tail;
    if (this.tail === null) this.head = q;
    else this.tail.next = q;
    this.tail = q;
    q.linked = true;
    this.count++;
    if (this.timer === null && this.timeoutMs !== null) this.arm(q.deadline);
    return q;
  }

  /** The query ended (answered, failed or called off): out of the list. */
  end(cancel: QueryCancel): void {
    const q = cancel as InflightQuery;
    if (!q.linked) return;
    q.linked = false;
    if (q.prev === null) this.head = q.next;
    else q.prev.next = q.next;
    if (q.next === null) this.tail = q.prev;
    else q.next.prev = q.prev;
    q.prev = null;
    q.next = null;
    this.count--;
    if (this.head === null && this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  /** Calls off every query in flight with `reason`. */
  closeAll(reason: unknown): void {
    for (let q = this.head; q !== null; q = this.head) {
      this.end(q);
      q.abort(reason);
    }
  }

  private arm(at: number): void {
    this.timer = setTimeout(this.fire, Math.max(1, Math.ceil(at - performance.now())));
  }

  private readonly fire = (): void => {
    this.timer = null;
    const now = performance.now();
    // Due within the timer's own granularity: called off now, not a millisecond later.
    for (let q = this.head; q !== null && q.deadline <= now + 1; q = this.head) {
      this.end(q);
      q.abort(new ConnectTimeoutError(`no answer within ${this.timeoutMs} ms`));
    }
    if (this.head !== null && this.timer === null) this.arm(this.head.deadline);
  };
}
