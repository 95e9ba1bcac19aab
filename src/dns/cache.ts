// The answer cache of the DNS resolvers (docs/api.md section 10), one per
// resolver, keyed by name and record type. Rules a long-running service can
// trust:
//
// * An answer is kept for its TTL (the smallest over the records and the
//   CNAMEs followed), clamped to [minTtl, maxTtl]: the floor is 0 s by
//   default, so a TTL of 0 is never cached (RFC 1035 section 3.2.1: "only
//   used for the transaction in progress"), and the ceiling is one day, as
//   unbound's cache-max-ttl, so a huge TTL cannot pin an address forever.
//   A floor above 0 is the user's explicit choice to serve past the TTL.
// * A negative answer (NXDOMAIN, NODATA) is kept for the SOA minimum bounded
//   by the SOA TTL (RFC 2308 section 5), at most maxNegativeTtl (one hour).
//   Failures (timeouts, SERVFAIL) are never cached.
// * An entry is never served once its time is up: expiry is checked on every
//   read against a monotonic clock (injectable for tests).
// * Concurrent lookups of one key share one query (coalescing).
// * At most maxEntries entries; the oldest go first.

export interface DnsCacheOptions {
  /** Seconds; answers with a smaller TTL are kept this long (default 0). */
  minTtl?: number;
  /** Seconds; answers are kept at most this long (default 86,400). */
  maxTtl?: number;
  /** Seconds; negative answers are kept at most this long (default 3,600). */
  maxNegativeTtl?: number;
  /** Entries kept at most (default 10,000). */
  maxEntries?: number;
  /** Milliseconds from a monotonic clock (default performance.now). */
  clock?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class DnsCache<V> {
  readonly minTtl: number;
  readonly maxTtl: number;
  readonly maxNegativeTtl: number;
  readonly maxEntries: number;
  private readonly clock: () => number;
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inflight = new Map<string, Promise<V>>();

  constructor(options: DnsCacheOptions = {}) {
    this.minTtl = options.minTtl ?? 0;
    this.maxTtl = options.maxTtl ?? 86_400;
    this.maxNegativeTtl = options.maxNegativeTtl ?? 3_600;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.clock = options.clock ?? (() => performance.now());
    if (
      !(this.minTtl >= 0 && this.maxTtl >= this.minTtl && this.maxNegativeTtl >= 0 && this.maxEntries >= 0)
    ) {
      throw new TypeError('DNS cache: need 0 <= minTtl <= maxTtl, maxNegativeTtl >= 0 and maxEntries >= 0');
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /** The live entry for `key`, or undefined (an expired entry is dropped on the way). */
  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (this.clock() >= e.expiresAt) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  /** Seconds `key` still has to live, or 0. */
  remainingTtl(key: string): number {
    const e = this.entries.get(key);
    return e === undefined ? 0 : Math.max(0, (e.expiresAt - this.clock()) / 1000);
  }

  set(key: string, value: V, ttlSeconds: number, negative = false): void {
    const ttl = negative
      ? Math.min(Math.max(ttlSeconds, this.minTtl), this.maxNegativeTtl)
      : Math.min(Math.max(ttlSeconds, this.minTtl), this.maxTtl);
    if (!(ttl > 0) || this.maxEntries === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.clock() + ttl * 1000 });
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }

  /**
   * The cached value, or the one `load` produces; concurrent calls for one
   * key while a load runs all wait for that same load. `load` stores what
   * may be cached through set(); a rejection is shared and not cached.
   */
  lookup(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return Promise.resolve(hit);
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = load().finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** The load running for `key`, if any (what lookup() shares). */
  pending(key: string): Promise<V> | undefined {
    return this.inflight.get(key);
  }

  /**
   * Registers `p` as the load running for `key`, for a caller that ends it
   * itself with loadEnded() (without the promise that lookup() chains on
   * every load); concurrent lookups share it meanwhile.
   */
  loading(key: string, p: Promise<V>): void {
    this.inflight.set(key, p);
  }

  /** The load for `key` settled: the next lookup reads the cache, or loads again. */
  loadEnded(key: string): void {
    this.inflight.delete(key);
  }

  /** How many loads are running (for tests of coalescing). */
  get pendingLoads(): number {
    return this.inflight.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
