// Happy Eyeballs v2 (RFC 8305) over any resolver (docs/api.md section 10,
// `happyEyeballs: boolean | number`), as a function of its inputs: the
// resolver, the host, a family restriction, the attempt delay, how many
// attempts may run at once, and a `connect` function that opens one
// transport to one address. It knows nothing of HTTP or TLS.
//
// * AAAA and A are asked together (section 3). Connecting starts as soon as
//   the AAAA answer arrives, or 50 ms (the resolution delay) after the A
//   answer if the AAAA one is still missing; late answers join the queue.
// * Addresses are interleaved by family, IPv6 first (section 4).
// * A new attempt starts every `attemptDelay` (250 ms, section 5), or at once
//   when an attempt fails, with at most `concurrency` attempts running.
// * The first transport to connect wins; the attempts still running are
//   aborted and any transport that connects after the winner is closed.
// * `timeout` bounds the whole race, resolution included: it is applied
//   once, never per address.
//
// `connect` gets an IP literal, so Node's own autoSelectFamily (which only
// acts on names) never races underneath; callers should still pass
// `autoSelectFamily: false` to net.connect to make that explicit.

import { performance } from 'node:perf_hooks';
import { debug } from '../debug.js';
import { ConnectTimeoutError, NewConnectionError, RequestAbortedError } from '../errors.js';
import { literalAddress, type BaseResolver, type ResolvedAddress } from '../dns/resolver.js';

/** RFC 8305 section 8: the recommended Connection Attempt Delay. */
export const DEFAULT_ATTEMPT_DELAY_MS = 250;
/** RFC 8305 section 8: the recommended Resolution Delay. */
export const RESOLUTION_DELAY_MS = 50;
/** urllib3-future's default number of concurrent attempts for `happyEyeballs: true`. */
export const DEFAULT_CONCURRENCY = 4;

/**
 * `happyEyeballs` option -> how many attempts may run at once: true -> 4, a
 * number above 1 -> that number, anything else -> 1 (disabled: one address
 * after another, as urllib3-future treats numbers <= 1).
 */
export function happyEyeballsConcurrency(option: boolean | number | null | undefined): number {
  if (option === true) return DEFAULT_CONCURRENCY;
  if (typeof option === 'number' && Number.isInteger(option) && option > 1) return option;
  return 1;
}

/** The `happyEyeballs` option validated and turned into a concurrency (see happyEyeballsConcurrency). */
export function checkHappyEyeballs(option: unknown, where: string): number {
  if (option === undefined || option === null) return 1;
  if (
    typeof option === 'boolean' ||
    (typeof option === 'number' && Number.isInteger(option) && option >= 0)
  ) {
    return happyEyeballsConcurrency(option);
  }
  throw new TypeError(
    `${where}: happyEyeballs must be a boolean or a non-negative integer (concurrent attempts), got ${JSON.stringify(option)}`,
  );
}

export interface Closable {
  destroy(): void;
}

export interface HappyEyeballsOptions<T extends Closable> {
  resolver: BaseResolver;
  host: string;
  port: number;
  /** 0: both families; 4 or 6: only that one (`socketFamily`). */
  family: 0 | 4 | 6;
  /** Milliseconds between attempts (default 250). */
  attemptDelay?: number;
  /** Attempts running at once at most (see happyEyeballsConcurrency). */
  concurrency: number;
  /** Milliseconds for resolution and the whole race; null = no limit. */
  timeout: number | null;
  signal?: AbortSignal | null;
  /** Opens one transport to one address; must give up when `signal` fires. */
  connect(address: ResolvedAddress, signal: AbortSignal): Promise<T>;
  /** Who is connecting, for messages: e.g. "HTTPConnection(host='a', port=80)". */
  label?: string;
}

export interface AttemptRecord {
  address: ResolvedAddress;
  /** Milliseconds after the race started. */
  startedAt: number;
  outcome: 'connected' | 'failed' | 'cancelled' | 'pending';
  error?: Error;
}

export interface HappyEyeballsResult<T> {
  socket: T;
  address: ResolvedAddress;
  /** Milliseconds until the first addresses were known. */
  resolutionLatency: number;
  /** Milliseconds from then until the winner connected. */
  establishedLatency: number;
  attempts: AttemptRecord[];
}

/** Races connections to `host` as RFC 8305 describes; see the file comment. */
export function happyEyeballs<T extends Closable>(
  o: HappyEyeballsOptions<T>,
): Promise<HappyEyeballsResult<T>> {
  return new Race(o).run();
}

class Race<T extends Closable> {
  private readonly label: string;
  private readonly delay: number;
  private readonly started = performance.now();
  private readonly attempts: AttemptRecord[] = [];
  private readonly controllers = new Map<AttemptRecord, AbortController>();
  private readonly v6: ResolvedAddress[] = [];
  private readonly v4: ResolvedAddress[] = [];
  private readonly tried = new Set<string>();
  private running = 0;
  private resolvedAt: number | null = null;
  private lookupsPending = 0;
  private lookupErrors: Partial<Record<4 | 6, unknown>> = {};
  private state: 'resolving' | 'racing' | 'won' | 'failed' = 'resolving';
  private delayTimer: NodeJS.Timeout | null = null;
  private resolutionTimer: NodeJS.Timeout | null = null;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private resolve!: (r: HappyEyeballsResult<T>) => void;
  private reject!: (e: unknown) => void;

  constructor(private readonly o: HappyEyeballsOptions<T>) {
    this.label = o.label ?? `${o.host}:${o.port}`;
    this.delay = o.attemptDelay ?? DEFAULT_ATTEMPT_DELAY_MS;
  }

  run(): Promise<HappyEyeballsResult<T>> {
    return new Promise<HappyEyeballsResult<T>>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      const signal = this.o.signal;
      if (signal?.aborted) return this.fail(this.abortError());
      signal?.addEventListener('abort', this.onAbort, { once: true });
      if (this.o.timeout !== null) {
        this.deadlineTimer = setTimeout(
          () =>
            this.fail(
              new ConnectTimeoutError(
                `${this.label}: Connection to ${this.o.host} timed out. (connect timeout=${this.o.timeout} ms)`,
              ),
            ),
          this.o.timeout,
        );
      }
      this.startLookups();
    });
  }

  private readonly onAbort = () => this.fail(this.abortError());

  private abortError(): RequestAbortedError {
    return new RequestAbortedError(`${this.label}: request aborted while connecting`, {
      cause: this.o.signal?.reason,
    });
  }

  private startLookups(): void {
    const literal = literalAddress(this.o.host, this.o.port, this.o.family);
    if (literal !== null) {
      if (literal.length === 0) {
        this.fail(
          new NewConnectionError(null, `${this.label}: ${this.o.host} is not an IPv${this.o.family} address`),
        );
        return;
      }
      this.addAddresses(literal[0]!.family, literal);
      this.startRacing();
      return;
    }
    const families: Array<4 | 6> = this.o.family === 0 ? [6, 4] : [this.o.family];
    this.lookupsPending = families.length;
    for (const family of families) {
      this.o.resolver
        .getaddrinfo(this.o.host, this.o.port, { family, signal: this.o.signal ?? undefined })
        .then(
          (list) =>
            this.onLookup(
              family,
              list.filter((a) => a.family === family),
              null,
            ),
          (err) => this.onLookup(family, [], err),
        );
    }
  }

  private onLookup(family: 4 | 6, list: ResolvedAddress[], err: unknown): void {
    this.lookupsPending--;
    if (this.state === 'won' || this.state === 'failed') return;
    if (err !== null) this.lookupErrors[family] = err;
    debug(
      'happy eyeballs %s: %s lookup -> %s',
      this.label,
      family === 6 ? 'AAAA' : 'A',
      err ? (err as Error).message : list.map((a) => a.address).join(' ') || 'none',
    );
    this.addAddresses(family, list);
    if (this.state === 'racing') {
      this.pump();
      return;
    }
    // Resolving: start on AAAA at once; on A alone, give AAAA the resolution delay.
    if (this.lookupsPending === 0 || (family === 6 && list.length > 0)) {
      this.startRacing();
      return;
    }
    if (family === 4 && list.length > 0 && this.resolutionTimer === null) {
      this.resolutionTimer = setTimeout(() => this.startRacing(), RESOLUTION_DELAY_MS);
    }
  }

  private addAddresses(family: 4 | 6, list: ResolvedAddress[]): void {
    (family === 6 ? this.v6 : this.v4).push(...list.filter((a) => !this.tried.has(a.address)));
  }

  private startRacing(): void {
    if (this.state !== 'resolving') return;
    if (this.resolutionTimer !== null) clearTimeout(this.resolutionTimer);
    this.state = 'racing';
    this.resolvedAt = performance.now();
    this.pump();
  }

  /** Takes the next address in interleaved order, or null. */
  private next(): ResolvedAddress | null {
    // Interleave by how many of each family were already tried.
    const triedV6 = this.attempts.filter((a) => a.address.family === 6).length;
    const triedV4 = this.attempts.length - triedV6;
    const preferV6 = triedV6 <= triedV4 || this.v4.length === 0;
    const pick = (preferV6 && this.v6.length > 0 ? this.v6 : this.v4.length > 0 ? this.v4 : this.v6).shift();
    return pick ?? null;
  }

  /** Starts an attempt if the stagger allows one, and decides when everything failed. */
  private pump(): void {
    if (this.state !== 'racing') return;
    if (this.delayTimer === null && this.running < this.o.concurrency) {
      const address = this.next();
      if (address !== null) {
        this.startAttempt(address);
        this.delayTimer = setTimeout(() => {
          this.delayTimer = null;
          this.pump();
        }, this.delay);
      }
    }
    if (this.running === 0 && this.v6.length === 0 && this.v4.length === 0 && this.lookupsPending === 0) {
      this.fail(this.exhaustedError());
    }
  }

  private startAttempt(address: ResolvedAddress): void {
    this.tried.add(address.address);
    const record: AttemptRecord = {
      address,
      startedAt: performance.now() - this.started,
      outcome: 'pending',
    };
    const ac = new AbortController();
    this.attempts.push(record);
    this.controllers.set(record, ac);
    this.running++;
    debug('happy eyeballs %s: attempt %d to %s', this.label, this.attempts.length, address.address);
    this.o.connect(address, ac.signal).then(
      (socket) => {
        this.running--;
        this.controllers.delete(record);
        if (this.state !== 'racing') {
          // Lost the race (or it ended): this transport is not wanted.
          record.outcome = 'cancelled';
          socket.destroy();
          return;
        }
        record.outcome = 'connected';
        this.win(socket, address);
      },
      (err: Error) => {
        this.running--;
        this.controllers.delete(record);
        if (record.outcome === 'pending') record.outcome = ac.signal.aborted ? 'cancelled' : 'failed';
        record.error = err;
        if (this.state !== 'racing') return;
        debug('happy eyeballs %s: attempt to %s failed: %s', this.label, address.address, err?.message);
        // A failure frees its slot at once (RFC 8305 section 5).
        if (this.delayTimer !== null) {
          clearTimeout(this.delayTimer);
          this.delayTimer = null;
        }
        this.pump();
      },
    );
  }

  private win(socket: T, address: ResolvedAddress): void {
    this.state = 'won';
    this.cleanup();
    const now = performance.now();
    const resolvedAt = this.resolvedAt ?? now;
    debug(
      'happy eyeballs %s: connected to %s after %d ms',
      this.label,
      address.address,
      Math.round(now - this.started),
    );
    this.resolve({
      socket,
      address,
      resolutionLatency: resolvedAt - this.started,
      establishedLatency: now - resolvedAt,
      attempts: this.attempts,
    });
  }

  private fail(err: unknown): void {
    if (this.state === 'won' || this.state === 'failed') return;
    this.state = 'failed';
    this.cleanup();
    this.reject(err);
  }

  private cleanup(): void {
    if (this.delayTimer !== null) clearTimeout(this.delayTimer);
    if (this.resolutionTimer !== null) clearTimeout(this.resolutionTimer);
    if (this.deadlineTimer !== null) clearTimeout(this.deadlineTimer);
    this.o.signal?.removeEventListener('abort', this.onAbort);
    for (const [record, ac] of this.controllers) {
      record.outcome = 'cancelled';
      ac.abort(new Error('another address won the race'));
    }
  }

  private exhaustedError(): unknown {
    if (this.attempts.length === 0) {
      // Nothing to try: the lookups failed (A's error names the commoner case) or found nothing.
      return (
        this.lookupErrors[4] ??
        this.lookupErrors[6] ??
        new NewConnectionError(null, `${this.label}: no address for ${this.o.host}`)
      );
    }
    if (this.attempts.length === 1) return this.attempts[0]!.error;
    const detail = this.attempts
      .map((a) => `${a.address.address}: ${a.error?.message ?? a.outcome}`)
      .join('; ');
    return new NewConnectionError(
      null,
      `${this.label}: Failed to establish a new connection to ${this.o.host}:${this.o.port}: every address failed (${detail})`,
      { cause: this.attempts[this.attempts.length - 1]!.error },
    );
  }
}
