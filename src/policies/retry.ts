// Retry (docs/api.md section 6): urllib3 v2's retry policy, with durations in ms.
// A Retry is an immutable value: `increment()` classifies what went wrong
// (connect error, read error, other error, redirect or retryable status),
// spends the matching counters and returns a new Retry, or throws
// `MaxRetryError` / the original error when no retry is allowed. Backoff and
// Retry-After (delta-seconds, RFC 9110 section 10.2.3, or a date read as
// urllib3 reads it, see retry-after-date.ts) decide how long `sleep()` waits.
//
// It sends nothing and never re-sends a request itself: the pool's `urlopen`
// loop asks it what to do. Its only side effect is the timer in `sleep()`.

import {
  HTTPError,
  InvalidHeader,
  MaxRetryError,
  type PoolLike,
  ProtocolError,
  ProxyError,
  ReadTimeoutError,
  ResponseError,
} from '../errors.js';
import { checkOptions, optionSet } from '../options.js';
import { parseRetryAfterDate } from './retry-after-date.js';

/** One step of a request's history, recorded by each `increment()`. */
export interface RequestHistory {
  readonly method: string | null;
  readonly url: string | null;
  readonly error: Error | null;
  readonly status: number | null;
  readonly redirectLocation: string | null;
}

/** What `increment()` needs from a response (duck-typed, so no import of response.ts). */
export interface RetryResponse {
  readonly status: number;
  readonly headers: { get(name: string): string | null | undefined };
  getRedirectLocation(): string | null | false;
}

/** What `sleep()` and `getRetryAfter()` need from a response. */
export type RetryAfterSource = Pick<RetryResponse, 'status' | 'headers'>;

export interface RetryOptions {
  /** Retries of any kind; `null` = no overall limit; `false` = raise errors at once and return redirects. */
  total?: number | false | null;
  /** Retries after connection errors (the request was not sent); `false` re-raises at once. */
  connect?: number | false | null;
  /** Retries after read errors (the request may have been processed); `false` re-raises at once. */
  read?: number | false | null;
  /** Redirects to follow; `false` = follow none and return the 3xx response. */
  redirect?: number | false | null;
  /** Retries on a status in `statusForcelist`. */
  status?: number | null;
  /** Retries after any other error. */
  other?: number | null;
  /** Methods a read error or a status may be retried for (upper-cased); `null` or empty = every method. */
  allowedMethods?: Iterable<string> | null;
  /** Statuses that force a retry (for an allowed method). */
  statusForcelist?: Iterable<number> | null;
  /** Backoff in ms: factor * 2^(consecutive errors - 1), from the second consecutive error on. */
  backoffFactor?: number;
  /** Cap on the backoff in ms. */
  backoffMax?: number;
  /** A random extra in [0, backoffJitter] ms added to each backoff. */
  backoffJitter?: number;
  /** Throw MaxRetryError when redirects run out (else return the 3xx response). */
  raiseOnRedirect?: boolean;
  /** Throw MaxRetryError when status retries run out (else return the response). */
  raiseOnStatus?: boolean;
  history?: Iterable<RequestHistory>;
  /** Wait as Retry-After says on a retried response (and retry 413, 429 and 503 that carry it). */
  respectRetryAfterHeader?: boolean;
  /** Headers dropped when a redirect leaves the host (compared case-insensitively). */
  removeHeadersOnRedirect?: Iterable<string>;
  /** Cap on a Retry-After wait in ms. */
  retryAfterMax?: number;
}

export interface IncrementOptions {
  method?: string | null;
  url?: string | null;
  response?: RetryResponse | null;
  error?: unknown;
  pool?: PoolLike | null;
  /** Accepted for parity with urllib3; JavaScript errors carry their own stack. */
  stacktrace?: unknown;
}

export interface FromOptions {
  /** `false` (or 0) disables following redirects; anything else leaves them to `total`. */
  redirect?: boolean | number | null;
  /** Used when `retries` is `null` or `undefined` (default `Retry.DEFAULT`). */
  default?: Retry | number | boolean | null;
}

export interface SleepOptions {
  /** Aborting rejects the sleep with `signal.reason`. */
  signal?: AbortSignal;
}

/** How `increment()` counts an error: urllib3's connection / read / other split. */
export type ErrorKind = 'connect' | 'read' | 'other';

/**
 * Connect errors happened before the request reached the server: every
 * error whose declared phase is 'connect' (ConnectTimeoutError and its
 * subclasses by default, TLS, proxy and handshake failures during set-up),
 * and a ProxyError caused by one. Read errors (ReadTimeoutError,
 * ProtocolError) happened after it was sent.
 */
export function classifyError(error: unknown): ErrorKind {
  if (error instanceof HTTPError && error.phase === 'connect') return 'connect';
  if (error instanceof ProxyError && error.cause instanceof HTTPError && error.cause.phase === 'connect')
    return 'connect';
  if (error instanceof ReadTimeoutError || error instanceof ProtocolError) return 'read';
  return 'other';
}

// ---- validation -------------------------------------------------------------

const RETRY_OPTIONS = optionSet(
  'total',
  'connect',
  'read',
  'redirect',
  'status',
  'other',
  'allowedMethods',
  'statusForcelist',
  'backoffFactor',
  'backoffMax',
  'backoffJitter',
  'raiseOnRedirect',
  'raiseOnStatus',
  'history',
  'respectRetryAfterHeader',
  'removeHeadersOnRedirect',
  'retryAfterMax',
);
const INCREMENT_OPTIONS = optionSet('method', 'url', 'response', 'error', 'pool', 'stacktrace');
const FROM_OPTIONS = optionSet('redirect', 'default');
const SLEEP_OPTIONS = optionSet('signal');

function count(value: unknown, name: string, allowFalse: boolean): number | false | null {
  if (value === null) return null;
  if (value === false && allowFalse) return false;
  if (typeof value !== 'number') {
    throw new TypeError(
      `Retry: ${name} must be a number${allowFalse ? ', false' : ''} or null, got ${typeof value}`,
    );
  }
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Retry: ${name} must be a non-negative integer, got ${value}`);
  }
  return value;
}

function duration(value: unknown, name: string): number {
  if (typeof value !== 'number')
    throw new TypeError(`Retry: ${name} must be a number of ms, got ${typeof value}`);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Retry: ${name} must be a finite number of ms >= 0, got ${value}`);
  }
  return value;
}

function flag(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean')
    throw new TypeError(`Retry: ${name} must be a boolean, got ${typeof value}`);
  return value;
}

function iterable(value: unknown, name: string): Iterable<unknown> {
  if (
    typeof value === 'string' ||
    value === null ||
    typeof value !== 'object' ||
    !(Symbol.iterator in value)
  ) {
    throw new TypeError(`Retry: ${name} must be an iterable (array or Set)`);
  }
  return value as Iterable<unknown>;
}

function methodSet(value: unknown): ReadonlySet<string> | null {
  if (value === null) return null;
  const out = new Set<string>();
  for (const m of iterable(value, 'allowedMethods')) {
    if (typeof m !== 'string') throw new TypeError('Retry: allowedMethods must contain strings');
    out.add(m.toUpperCase());
  }
  return out;
}

function statusSet(value: unknown): ReadonlySet<number> {
  const out = new Set<number>();
  if (value === null) return out;
  for (const s of iterable(value, 'statusForcelist')) {
    if (typeof s !== 'number' || !Number.isInteger(s)) {
      throw new TypeError('Retry: statusForcelist must contain integer status codes');
    }
    out.add(s);
  }
  return out;
}

function headerSet(value: unknown): ReadonlySet<string> {
  const out = new Set<string>();
  for (const h of iterable(value, 'removeHeadersOnRedirect')) {
    if (typeof h !== 'string') throw new TypeError('Retry: removeHeadersOnRedirect must contain strings');
    out.add(h.toLowerCase());
  }
  return out;
}

function historyList(value: unknown): readonly RequestHistory[] {
  return Object.freeze(Array.from(iterable(value, 'history') as Iterable<RequestHistory>));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error), { cause: error });
}

/** Python-style rendering, so messages read like urllib3's. */
function show(value: number | boolean | null): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/** setTimeout in chunks, since Node fires at once for delays above 2^31-1 ms. */
function defaultSleeper(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const arm = (left: number): void => {
      timer = setTimeout(
        () => {
          if (left > MAX_TIMER_MS) arm(left - MAX_TIMER_MS);
          else {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          }
        },
        Math.min(left, MAX_TIMER_MS),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    arm(ms);
  });
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

type RetryFields = Pick<
  Retry,
  | 'total'
  | 'connect'
  | 'read'
  | 'redirect'
  | 'status'
  | 'other'
  | 'allowedMethods'
  | 'statusForcelist'
  | 'backoffFactor'
  | 'backoffMax'
  | 'backoffJitter'
  | 'raiseOnRedirect'
  | 'raiseOnStatus'
  | 'history'
  | 'respectRetryAfterHeader'
  | 'removeHeadersOnRedirect'
  | 'retryAfterMax'
>;

/** Validates the given options onto `into` (which holds defaults or the current values). */
function applyOptions(into: Mutable<RetryFields>, options: RetryOptions, where: string): void {
  checkOptions(where, options, RETRY_OPTIONS);
  const o = options as Record<keyof RetryOptions, unknown>;
  if (o.total !== undefined) into.total = count(o.total, 'total', true);
  if (o.connect !== undefined) into.connect = count(o.connect, 'connect', true);
  if (o.read !== undefined) into.read = count(o.read, 'read', true);
  if (o.redirect !== undefined) into.redirect = count(o.redirect, 'redirect', true) as number | null;
  if (o.status !== undefined) into.status = count(o.status, 'status', false) as number | null;
  if (o.other !== undefined) into.other = count(o.other, 'other', false) as number | null;
  if (o.allowedMethods !== undefined) into.allowedMethods = methodSet(o.allowedMethods);
  if (o.statusForcelist !== undefined) into.statusForcelist = statusSet(o.statusForcelist);
  if (o.backoffFactor !== undefined) into.backoffFactor = duration(o.backoffFactor, 'backoffFactor');
  if (o.backoffMax !== undefined) into.backoffMax = duration(o.backoffMax, 'backoffMax');
  if (o.backoffJitter !== undefined) into.backoffJitter = duration(o.backoffJitter, 'backoffJitter');
  if (o.raiseOnRedirect !== undefined) into.raiseOnRedirect = flag(o.raiseOnRedirect, 'raiseOnRedirect');
  if (o.raiseOnStatus !== undefined) into.raiseOnStatus = flag(o.raiseOnStatus, 'raiseOnStatus');
  if (o.history !== undefined) into.history = historyList(o.history);
  if (o.respectRetryAfterHeader !== undefined) {
    into.respectRetryAfterHeader = flag(o.respectRetryAfterHeader, 'respectRetryAfterHeader');
  }
  if (o.removeHeadersOnRedirect !== undefined) {
    into.removeHeadersOnRedirect = headerSet(o.removeHeadersOnRedirect);
  }
  if (o.retryAfterMax !== undefined) into.retryAfterMax = duration(o.retryAfterMax, 'retryAfterMax');
}

/** urllib3's rule: with retries or redirects disabled, redirects are returned, not raised. */
function settle(fields: Mutable<RetryFields>): void {
  if ((fields.redirect as unknown) === false || fields.total === false) {
    fields.redirect = 0;
    fields.raiseOnRedirect = false;
  }
}

function fieldsOf(retry: Retry): Mutable<RetryFields> {
  return {
    total: retry.total,
    connect: retry.connect,
    read: retry.read,
    redirect: retry.redirect,
    status: retry.status,
    other: retry.other,
    allowedMethods: retry.allowedMethods,
    statusForcelist: retry.statusForcelist,
    backoffFactor: retry.backoffFactor,
    backoffMax: retry.backoffMax,
    backoffJitter: retry.backoffJitter,
    raiseOnRedirect: retry.raiseOnRedirect,
    raiseOnStatus: retry.raiseOnStatus,
    history: retry.history,
    respectRetryAfterHeader: retry.respectRetryAfterHeader,
    removeHeadersOnRedirect: retry.removeHeadersOnRedirect,
    retryAfterMax: retry.retryAfterMax,
  };
}

// Built without the constructor: spent counters go negative, which the public
// options rightly refuse. The prototype is kept, so subclasses survive (which
// is also why Retry has no #private members: they would not exist here).
function derive<T extends Retry>(from: T, fields: RetryFields): T {
  return Object.assign(Object.create(Object.getPrototypeOf(from)) as T, fields);
}

function isMethodRetryable(retry: Retry, method: string): boolean {
  // urllib3 treats an empty collection like None: every method.
  const allowed = retry.allowedMethods;
  return allowed === null || allowed.size === 0 || allowed.has(method.toUpperCase());
}

export class Retry {
  /** Methods retried after read errors and on statuses by default: the idempotent ones. */
  static readonly DEFAULT_ALLOWED_METHODS: ReadonlySet<string> = new Set([
    'HEAD',
    'GET',
    'PUT',
    'DELETE',
    'OPTIONS',
    'TRACE',
  ]);
  /** Statuses retried without a forcelist when they carry Retry-After. */
  static readonly RETRY_AFTER_STATUS_CODES: ReadonlySet<number> = new Set([413, 429, 503]);
  /** Headers dropped on a cross-host redirect by default. */
  static readonly DEFAULT_REMOVE_HEADERS_ON_REDIRECT: ReadonlySet<string> = new Set([
    'Cookie',
    'Authorization',
    'Proxy-Authorization',
  ]);
  /** Default cap on the backoff: 2 minutes. */
  static readonly DEFAULT_BACKOFF_MAX = 120_000;
  /** Default cap on a Retry-After wait: 6 hours. */
  static readonly DEFAULT_RETRY_AFTER_MAX = 21_600_000;

  /** Waits `ms`; replace it in tests to observe sleeps without waiting. */
  static sleeper: (ms: number, signal?: AbortSignal) => Promise<void> = defaultSleeper;
  /** Wall clock (epoch ms) that HTTP-dates are measured against; replaceable in tests. */
  static now: () => number = () => Date.now();
  /** Source of backoff jitter in [0, 1); replaceable in tests. */
  static random: () => number = Math.random;

  readonly total: number | false | null;
  readonly connect: number | false | null;
  readonly read: number | false | null;
  readonly redirect: number | null;
  readonly status: number | null;
  readonly other: number | null;
  /** Upper-cased methods; `null` (or an empty set, as in urllib3) allows every method. */
  readonly allowedMethods: ReadonlySet<string> | null;
  readonly statusForcelist: ReadonlySet<number>;
  readonly backoffFactor: number;
  readonly backoffMax: number;
  readonly backoffJitter: number;
  readonly raiseOnRedirect: boolean;
  readonly raiseOnStatus: boolean;
  readonly history: readonly RequestHistory[];
  readonly respectRetryAfterHeader: boolean;
  /** Lower-cased header names. */
  readonly removeHeadersOnRedirect: ReadonlySet<string>;
  readonly retryAfterMax: number;

  constructor(options: RetryOptions = {}) {
    const fields: Mutable<RetryFields> = {
      total: 10,
      connect: null,
      read: null,
      redirect: null,
      status: null,
      other: null,
      allowedMethods: Retry.DEFAULT_ALLOWED_METHODS,
      statusForcelist: new Set<number>(),
      backoffFactor: 0,
      backoffMax: Retry.DEFAULT_BACKOFF_MAX,
      backoffJitter: 0,
      raiseOnRedirect: true,
      raiseOnStatus: true,
      history: Object.freeze([]),
      respectRetryAfterHeader: true,
      removeHeadersOnRedirect: headerSet(Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT),
      retryAfterMax: Retry.DEFAULT_RETRY_AFTER_MAX,
    };
    applyOptions(fields, options, 'Retry');
    settle(fields);
    this.total = fields.total;
    this.connect = fields.connect;
    this.read = fields.read;
    this.redirect = fields.redirect;
    this.status = fields.status;
    this.other = fields.other;
    this.allowedMethods = fields.allowedMethods;
    this.statusForcelist = fields.statusForcelist;
    this.backoffFactor = fields.backoffFactor;
    this.backoffMax = fields.backoffMax;
    this.backoffJitter = fields.backoffJitter;
    this.raiseOnRedirect = fields.raiseOnRedirect;
    this.raiseOnStatus = fields.raiseOnStatus;
    this.history = fields.history;
    this.respectRetryAfterHeader = fields.respectRetryAfterHeader;
    this.removeHeadersOnRedirect = fields.removeHeadersOnRedirect;
    this.retryAfterMax = fields.retryAfterMax;
  }

  /** The default policy: 3 retries of any kind. */
  static readonly DEFAULT: Retry = new Retry({ total: 3 });

  /**
   * Normalises a `retries` option (urllib3's `Retry.from_int`): a Retry is
   * returned as is; `null`/`undefined` take `default` (else `Retry.DEFAULT`);
   * `true` means "the default"; a number or `false` becomes `Retry({ total })`,
   * with redirects left to `total` unless `redirect` is false.
   */
  static from(retries: Retry | number | boolean | null | undefined, options: FromOptions = {}): Retry {
    checkOptions('Retry.from', options, FROM_OPTIONS);
    const fallback = options.default ?? Retry.DEFAULT;
    let value = retries ?? fallback;
    if (value === true) value = fallback === true ? Retry.DEFAULT : fallback;
    if (value instanceof Retry) return value;
    const redirect = options.redirect ?? true;
    return new Retry({ total: value, redirect: redirect ? null : false });
  }

  /** A copy with `overrides` applied (validated like the constructor's options). */
  new(overrides: RetryOptions = {}): this {
    const fields = fieldsOf(this);
    applyOptions(fields, overrides, 'Retry.new');
    settle(fields);
    return derive(this, fields);
  }

  /**
   * The backoff before the next attempt, in ms: 0 until two consecutive errors
   * (redirects end a streak), then backoffFactor * 2^(streak - 1) plus jitter,
   * capped at backoffMax.
   */
  getBackoffTime(): number {
    let streak = 0;
    for (let i = this.history.length - 1; i >= 0 && this.history[i]!.redirectLocation === null; i--) streak++;
    if (streak <= 1) return 0;
    let backoff = this.backoffFactor * 2 ** (streak - 1);
    if (this.backoffJitter !== 0) backoff += (this.constructor as typeof Retry).random() * this.backoffJitter;
    return Math.max(0, Math.min(this.backoffMax, backoff));
  }

  /**
   * A Retry-After value (delta-seconds or HTTP-date) as a wait in ms: a past
   * date waits 0, and no wait exceeds `retryAfterMax`. Anything else is an
   * InvalidHeader.
   */
  parseRetryAfter(value: string): number {
    let ms: number;
    if (/^\s*[0-9]+\s*$/.test(value)) ms = Number(value.trim()) * 1000;
    else {
      const date = parseRetryAfterDate(value);
      if (date === null) throw new InvalidHeader(`Invalid Retry-After header: ${value}`);
      ms = date - (this.constructor as typeof Retry).now();
    }
    return Math.min(Math.max(ms, 0), this.retryAfterMax);
  }

  /** The response's Retry-After as a wait in ms, or `null` without one. */
  getRetryAfter(response: RetryAfterSource): number | null {
    const value = response.headers.get('retry-after');
    if (value === undefined || value === null) return null;
    return this.parseRetryAfter(value);
  }

  /** Sleeps as Retry-After says; resolves to whether it slept (a zero wait does not). */
  async sleepForRetry(response: RetryAfterSource, options: SleepOptions = {}): Promise<boolean> {
    checkOptions('Retry.sleepForRetry', options, SLEEP_OPTIONS);
    const wait = this.getRetryAfter(response);
    if (!wait) return false;
    await (this.constructor as typeof Retry).sleeper(wait, options.signal);
    return true;
  }

  /**
   * Waits before the next attempt: as the response's Retry-After says when
   * respectRetryAfterHeader is on, whatever the status (a forced 500 with
   * Retry-After waits too, as in urllib3: RETRY_AFTER_STATUS_CODES only decides
   * which statuses are retried without being forced), else for the backoff,
   * which is 0 by default.
   */
  async sleep(response?: RetryAfterSource | null, options: SleepOptions = {}): Promise<void> {
    checkOptions('Retry.sleep', options, SLEEP_OPTIONS);
    if (this.respectRetryAfterHeader && response != null && (await this.sleepForRetry(response, options))) {
      return;
    }
    const backoff = this.getBackoffTime();
    if (backoff <= 0) return;
    await (this.constructor as typeof Retry).sleeper(backoff, options.signal);
  }

  /**
   * Whether a response should be retried: the method must be allowed, and the
   * status either forced or (with retries left and Retry-After honoured) a
   * 413, 429 or 503 that carries Retry-After.
   */
  isRetry(method: string, statusCode: number, hasRetryAfter = false): boolean {
    if (!isMethodRetryable(this, method)) return false;
    if (this.statusForcelist.has(statusCode)) return true;
    return (
      typeof this.total === 'number' &&
      this.total !== 0 &&
      this.respectRetryAfterHeader &&
      hasRetryAfter &&
      Retry.RETRY_AFTER_STATUS_CODES.has(statusCode)
    );
  }

  /** True once any counter has gone below zero. */
  isExhausted(): boolean {
    for (const c of [this.total, this.connect, this.read, this.redirect, this.status, this.other]) {
      if (typeof c === 'number' && c < 0) return true;
    }
    return false;
  }

  /**
   * Records one failed attempt and returns the Retry for the next one.
   * Throws the original error when retries are off (`total: false`, or
   * `connect`/`read: false` for that kind) or a read error hit a method that
   * is not allowed; throws MaxRetryError (with `reason` the error or a
   * ResponseError) when a counter runs out.
   */
  increment(options: IncrementOptions = {}): this {
    checkOptions('Retry.increment', options, INCREMENT_OPTIONS);
    const method = options.method ?? null;
    const url = options.url ?? null;
    const response = options.response ?? null;
    const hasError = options.error !== undefined && options.error !== null;
    const error = options.error;
    const errorValue = hasError ? toError(error) : null;

    if (this.total === false && hasError) throw error;

    // `false - 1` is -1 in urllib3: a redirect with retries disabled exhausts at once.
    const total = this.total === null ? null : (this.total === false ? 0 : this.total) - 1;
    let connect = this.connect;
    let read = this.read;
    let redirect = this.redirect;
    let statusCount = this.status;
    let other = this.other;
    let cause = 'unknown';
    let status: number | null = null;
    let redirectLocation: string | null = null;
    let location: string | null | false = null;

    if (hasError) {
      const kind = classifyError(error);
      if (kind === 'connect') {
        if (connect === false) throw error;
        if (connect !== null) connect -= 1;
      } else if (kind === 'read') {
        if (read === false || method === null || !isMethodRetryable(this, method)) throw error;
        if (read !== null) read -= 1;
      } else if (other !== null) other -= 1;
    } else if (response !== null && (location = response.getRedirectLocation())) {
      if (redirect !== null) redirect -= 1;
      cause = 'too many redirects';
      redirectLocation = location;
      status = response.status;
    } else {
      // A retryable status (in statusForcelist, or Retry-After on 413/429/503).
      cause = ResponseError.GENERIC_ERROR;
      if (response?.status) {
        if (statusCount !== null) statusCount -= 1;
        cause = ResponseError.SPECIFIC_ERROR.replace('{status_code}', String(response.status));
        status = response.status;
      }
    }

    const fields = fieldsOf(this);
    fields.total = total;
    fields.connect = connect;
    fields.read = read;
    fields.redirect = redirect;
    fields.status = statusCount;
    fields.other = other;
    fields.history = Object.freeze([
      ...this.history,
      Object.freeze({ method, url, error: errorValue, status, redirectLocation }),
    ]);
    const next = derive(this, fields);

    if (next.isExhausted()) {
      const reason = errorValue ?? new ResponseError(cause);
      throw new MaxRetryError(options.pool ?? null, url ?? '', reason);
    }
    return next;
  }

  toString(): string {
    return (
      `${this.constructor.name}(total=${show(this.total)}, connect=${show(this.connect)}, ` +
      `read=${show(this.read)}, redirect=${show(this.redirect)}, status=${show(this.status)})`
    );
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
