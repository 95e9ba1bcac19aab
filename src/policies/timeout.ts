// Timeout (docs/api.md section 5): urllib3's connect / read / total limits, in
// milliseconds. `connect` bounds DNS + TCP + TLS (+ proxy) set-up, `read`
// bounds each wait for response bytes, and `total` caps connect + read of one
// attempt; `connectTimeout` and `readTimeout` resolve the three into the
// numbers a connection should use.
//
// A Timeout holds one piece of state, the connect start time, so a pool
// should use a fresh copy (`Timeout.from` and `clone()` return one) per
// attempt. This module arms no timers itself.

import { TimeoutStateError } from '../errors.js';
import { checkOptions, optionSet } from '../options.js';

/** The "not given" marker: use the default, which is no limit. */
export const DEFAULT_TIMEOUT: unique symbol = Symbol('Timeout.DEFAULT_TIMEOUT');
export type DefaultTimeout = typeof DEFAULT_TIMEOUT;

/** One limit in ms: a positive finite number, `null` for none, or the default marker. */
export type TimeoutValue = number | null | DefaultTimeout;

export interface TimeoutOptions {
  /** Connection set-up limit in ms. */
  connect?: TimeoutValue;
  /** Limit on each wait for response bytes, in ms. */
  read?: TimeoutValue;
  /** Limit on connect + read of one attempt, in ms. */
  total?: number | null;
}

export interface TimeoutClock {
  /** A monotonic clock in ms; defaults to `performance.now`. */
  now?: () => number;
}

const TIMEOUT_OPTIONS = optionSet('connect', 'read', 'total');
const CLOCK_OPTIONS = optionSet('now');
const defaultNow = (): number => performance.now();

function validate(value: unknown, name: string): TimeoutValue {
  if (value === undefined || value === DEFAULT_TIMEOUT) return DEFAULT_TIMEOUT;
  if (value === null) return null;
  if (typeof value === 'boolean') {
    throw new TypeError(`Timeout: ${name} cannot be a boolean (got ${value}); use a number of ms or null`);
  }
  if (typeof value !== 'number') {
    throw new TypeError(`Timeout: ${name} must be a number of ms or null, got ${typeof value}`);
  }
  if (!Number.isFinite(value) || value <= 0) {
    // 0 would mean "fail at once", never what a caller wants; null is "no limit".
    throw new RangeError(
      `Timeout: ${name} must be a finite number of ms greater than 0, got ${value}; use null for no limit`,
    );
  }
  return value;
}

function show(value: TimeoutValue): string {
  if (value === DEFAULT_TIMEOUT) return 'DEFAULT';
  return value === null ? 'None' : String(value);
}

export class Timeout {
  /** The default-marker: a limit left unset, which resolves to no limit. */
  static readonly DEFAULT_TIMEOUT: DefaultTimeout = DEFAULT_TIMEOUT;

  /** Total limit of one attempt in ms, or `null`. */
  readonly total: number | null;
  /** The connect limit as given (may be the default marker). */
  readonly connect: TimeoutValue;
  /** The read limit as given (may be the default marker). */
  readonly read: TimeoutValue;
  readonly #now: () => number;
  #startConnect: number | null = null;

  /**
   * @param options limits in ms; an omitted `connect` or `read` is
   *   `DEFAULT_TIMEOUT`, an omitted `total` is `null`.
   * @param clock injects the monotonic clock (tests); kept by `clone()`.
   */
  constructor(options: TimeoutOptions = {}, clock: TimeoutClock = {}) {
    checkOptions('Timeout', options, TIMEOUT_OPTIONS);
    checkOptions('Timeout clock', clock, CLOCK_OPTIONS);
    this.connect = validate(options.connect, 'connect');
    this.read = validate(options.read, 'read');
    const total = validate(options.total, 'total');
    this.total = total === DEFAULT_TIMEOUT ? null : total;
    if (clock.now !== undefined && typeof clock.now !== 'function') {
      throw new TypeError('Timeout: clock.now must be a function');
    }
    this.#now = clock.now ?? defaultNow;
  }

  /**
   * Normalises a request's `timeout` option: a Timeout gives a fresh copy of
   * it, a number `t` gives `{ connect: t, read: t }`, `null` gives no limits
   * and `undefined` gives a copy of `fallback` (or the default: no limits).
   */
  static from(value: Timeout | number | null | undefined, fallback?: Timeout): Timeout {
    if (value instanceof Timeout) return value.clone();
    if (value === undefined) return fallback === undefined ? new Timeout() : fallback.clone();
    if (value === null) return new Timeout({ connect: null, read: null });
    if (typeof value === 'number') return new Timeout({ connect: value, read: value });
    throw new TypeError(`Timeout.from: expected a Timeout, a number of ms or null, got ${typeof value}`);
  }

  /** A copy with the same limits and clock whose connect timer has not started. */
  clone(): Timeout {
    return new Timeout({ connect: this.connect, read: this.read, total: this.total }, { now: this.#now });
  }

  /** Starts the connect timer and returns its start time; a second call is a TimeoutStateError. */
  startConnect(): number {
    if (this.#startConnect !== null) throw new TimeoutStateError('Timeout timer has already been started.');
    this.#startConnect = this.#now();
    return this.#startConnect;
  }

  /** Ms since `startConnect()`; a TimeoutStateError before it. */
  getConnectDuration(): number {
    if (this.#startConnect === null) {
      throw new TimeoutStateError("Can't get connect duration for timer that has not started.");
    }
    return this.#now() - this.#startConnect;
  }

  /** The limit for connection set-up in ms: the smaller of connect and total; `null` for none. */
  get connectTimeout(): number | null {
    const connect = this.connect === DEFAULT_TIMEOUT ? null : this.connect;
    if (this.total === null) return connect;
    return connect === null ? this.total : Math.min(connect, this.total);
  }

  /**
   * The limit for each read in ms. With a total, what the connect phase left
   * of it bounds the read limit; that needs `startConnect()` first when no
   * read limit is set (a TimeoutStateError otherwise, as in urllib3), while a
   * set read limit is returned as is before the connect timer starts.
   */
  get readTimeout(): number | null {
    const read = this.read === DEFAULT_TIMEOUT ? null : this.read;
    if (this.total === null) return read;
    if (read !== null) {
      if (this.#startConnect === null) return read;
      return Math.max(0, Math.min(this.total - this.getConnectDuration(), read));
    }
    return Math.max(0, this.total - this.getConnectDuration());
  }

  toString(): string {
    return `Timeout(connect=${show(this.connect)}, read=${show(this.read)}, total=${show(this.total)})`;
  }
}
