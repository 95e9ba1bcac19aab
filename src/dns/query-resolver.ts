// What the DNS-speaking resolvers (dou.ts, dot.ts, doh.ts, doq.ts) share:
// turning getaddrinfo() into A and AAAA queries asked together, the cache
// (cache.ts) with coalescing per name and type, and one QueryJob per lookup
// that is not in it (query-job.ts: the query, the CNAMEs the server did not
// chase, the per-query timeout, failures as NameResolutionErrors that say
// what happened). A subclass only moves bytes: exchange() sends one query
// and returns the decoded response that matches it (ID, question, source),
// having dropped any that do not; dou.ts overrides sendJob() to hand a job
// to its UDP sockets without a promise per query.

import { randomBytes } from 'node:crypto';
import { debug } from '../debug.js';
import { ConnectTimeoutError, RequestAbortedError } from '../errors.js';
import { DnsCache, type DnsCacheOptions } from './cache.js';
import type { QueryCancel } from './cancel.js';
import { resolutionError } from './failure.js';
import { InflightQueries } from './inflight.js';
import { type JobContext, type LookupResult, type OutgoingQuery, QueryJob } from './query-job.js';
import type { Message, ResourceRecord } from './message.js';
import { RRType } from './message.js';
import {
  BaseResolver,
  type BaseResolverOptions,
  literalAddress,
  matchesHostPattern,
  normaliseHost,
  type ResolveOptions,
  type ResolvedAddress,
} from './resolver.js';

export interface QueryResolverOptions extends BaseResolverOptions {
  /** Milliseconds one query may take, retries over another transport included (default 5,000). */
  timeout?: number | null;
  /** Cache settings, or false for no cache (each lookup asks the server). */
  cache?: DnsCacheOptions | false;
}

export type { LookupResult, OutgoingQuery } from './query-job.js';

const DEFAULT_TIMEOUT_MS = 5_000;
const NO_RECORDS: ResourceRecord[] = [];

function pushAddress(out: ResolvedAddress[], rr: ResourceRecord, port: number): void {
  const d = rr.data;
  if (d.kind === 'a') out.push({ address: d.address, family: 4, port });
  else if (d.kind === 'aaaa') out.push({ address: d.address, family: 6, port });
}

// Query IDs come from the CSPRNG (RFC 5452 section 9.2), drawn in batches.
let idPool = randomBytes(0);
let idOffset = 0;
export function randomQueryId(): number {
  if (idOffset + 2 > idPool.length) {
    idPool = randomBytes(512);
    idOffset = 0;
  }
  const id = idPool.readUInt16BE(idOffset);
  idOffset += 2;
  return id;
}

/**
 * `q` under a random ID no query in `taken` uses, its bytes copied and
 * rewritten: for a query whose ID is already in flight where answers are
 * matched by ID (a dou:// socket, the DoT connection).
 */
export function withFreeId(q: OutgoingQuery, taken: Map<number, unknown>): OutgoingQuery {
  let id = randomQueryId();
  while (taken.has(id)) id = randomQueryId();
  const bytes = Buffer.from(q.bytes);
  bytes.writeUInt16BE(id, 0);
  debug('dns query %s type %d: ID %d already in flight, sent as %d', q.name, q.type, q.id, id);
  return { name: q.name, type: q.type, id, bytes };
}

export abstract class QueryResolver extends BaseResolver {
  readonly timeout: number | null;
  protected readonly cache: DnsCache<LookupResult> | null;
  protected closed = false;
  /** The queries in flight, called off by their timeout or close(). */
  private readonly inflight: InflightQueries;
  private context: JobContext | null = null;

  constructor(options: QueryResolverOptions = {}) {
    super(options);
    this.timeout = options.timeout === undefined ? DEFAULT_TIMEOUT_MS : options.timeout;
    this.inflight = new InflightQueries(this.timeout);
    this.cache = options.cache === false ? null : new DnsCache<LookupResult>(options.cache ?? {});
  }

  /** Where queries go, for messages: e.g. "dou://127.0.0.1:53". */
  abstract describe(): string;

  /**
   * `send(query)` on a connection kept for many queries, and once more on a
   * fresh connection when the connection it reused closed under it: a server
   * may close an idle connection just as a query goes out (RFC 7766 section
   * 6.2.1 for DNS over TLS, RFC 9250 section 5.5 for DNS over QUIC). The
   * transport marks such an error with `connectionClosed`.
   */
  protected async sendOnceMore(
    reused: boolean,
    query: OutgoingQuery,
    cancel: QueryCancel,
    send: (query: OutgoingQuery, cancel: QueryCancel) => Promise<Message>,
  ): Promise<Message> {
    try {
      return await send(query, cancel);
    } catch (err) {
      if (!reused || cancel.aborted || !(err as { connectionClosed?: boolean }).connectionClosed) throw err;
      debug(
        'dns %s: connection closed under the query for %s, sending it again',
        this.describe(),
        query.name,
      );
      return send(query, cancel);
    }
  }

  /**
   * A connection that queries share (DoT's TLS connection, DoQ's QUIC one),
   * opened under a cancel of its own: the resolver's timeout from now, and
   * close(). The query whose turn started it may be near its own deadline
   * (sent again after a kept connection closed under it); when it gives up,
   * the connection goes on for the queries that joined (joinAttempt()).
   */
  protected startAttempt<T>(open: (cancel: QueryCancel) => Promise<T>): Promise<T> {
    const attempt = this.inflight.start();
    return open(attempt).then(
      (v) => {
        this.inflight.end(attempt);
        return v;
      },
      (err: unknown) => {
        this.inflight.end(attempt);
        if (attempt.aborted && attempt.reason instanceof ConnectTimeoutError) {
          throw new ConnectTimeoutError(`no connection within ${this.timeout} ms`, { cause: err });
        }
        throw err;
      },
    );
  }

  /** `attempt`, for a query that leaves it (rejecting) as soon as its own `cancel` fires. */
  protected joinAttempt<T>(attempt: Promise<T>, cancel: QueryCancel): Promise<T> {
    if (cancel.aborted) return Promise.reject(cancel.reason);
    return new Promise<T>((resolve, reject) => {
      const leave = (reason: unknown) => reject(reason);
      cancel.on(leave);
      attempt.then(
        (v) => {
          cancel.off(leave);
          resolve(v);
        },
        (err: unknown) => {
          cancel.off(leave);
          reject(err);
        },
      );
    });
  }

  /** Sends `query` and resolves with the matching response; `cancel` fires on timeout or close. */
  protected abstract exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message>;

  /** The ID for a new query: random by default (DoH uses 0, RFC 8484 section 4.1). */
  protected newQueryId(): number {
    return randomQueryId();
  }

  /** EDNS padding block for the query (RFC 8467: 128 over encrypted transports); 0 = none. */
  protected paddingBlock(): number {
    return 0;
  }

  override isAvailable(): boolean {
    return !this.closed;
  }

  override async close(): Promise<void> {
    this.closed = true;
    const reason = new Error('the resolver was closed while the query was in flight');
    this.inflight.closeAll(reason);
    this.cache?.clear();
  }

  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const family = options?.family ?? 0;
    const literal = literalAddress(host, port, family);
    if (literal !== null) return literal;
    const name = normaliseHost(host);
    if (this.hostPatterns.length > 0 && !matchesHostPattern(name, this.hostPatterns)) {
      throw resolutionError(host, `${this.describe()} only answers for ${this.hostPatterns.join(', ')}`, {
        final: true,
      });
    }
    // Fast path: both families cached, no promise per family.
    const cache = this.cache;
    if (cache !== null) {
      const v6 = family === 4 ? null : cache.get(`${name}|${RRType.AAAA}`);
      const v4 = family === 6 ? null : cache.get(`${name}|${RRType.A}`);
      if (v6 !== undefined && v4 !== undefined) return this.addresses(host, port, [v6, v4]);
    }
    const signal = options?.signal;
    if (family !== 0) {
      const r = await this.lookup(name, family === 6 ? RRType.AAAA : RRType.A, signal);
      return this.addresses(host, port, [r]);
    }
    const settled = await Promise.allSettled([
      this.lookup(name, RRType.AAAA, signal),
      this.lookup(name, RRType.A, signal),
    ]);
    // Called off while the other family was still out: no partial answer.
    if (signal?.aborted) throw abortedError(name, signal);
    const results: Array<LookupResult | null> = [null, null];
    let failure: unknown = null;
    for (let i = 0; i < 2; i++) {
      const s = settled[i]!;
      if (s.status === 'fulfilled') results[i] = s.value;
      else failure ??= s.reason;
    }
    const found = this.addresses(host, port, results, true);
    // One family failing (a timeout on AAAA) does not hide the other's addresses.
    if (found.length > 0) return found;
    if (failure === null) return this.addresses(host, port, results);
    throw failure;
  }

  /** Interleaves IPv6 and IPv4 addresses (RFC 8305 section 4); throws when there are none. */
  private addresses(
    host: string,
    port: number,
    results: Array<LookupResult | null>,
    probe = false,
  ): ResolvedAddress[] {
    // At most two lists (AAAA, A): interleave them record by record.
    let first: ResourceRecord[] = NO_RECORDS;
    let second: ResourceRecord[] = NO_RECORDS;
    let nxdomain = false;
    for (let i = 0; i < results.length; i++) {
      const r = results[i];
      if (r === null || r === undefined) continue;
      if (r.kind !== 'records') {
        if (r.kind === 'nxdomain') nxdomain = true;
      } else if (first === NO_RECORDS) first = r.records;
      else second = r.records;
    }
    const out: ResolvedAddress[] = [];
    const longest = first.length > second.length ? first.length : second.length;
    for (let i = 0; i < longest; i++) {
      if (i < first.length) pushAddress(out, first[i]!, port);
      if (i < second.length) pushAddress(out, second[i]!, port);
    }
    if (out.length === 0 && !probe) {
      throw resolutionError(
        host,
        nxdomain
          ? `the name does not exist (NXDOMAIN from ${this.describe()})`
          : `no address records for this name (from ${this.describe()})`,
        { final: true },
      );
    }
    return out;
  }

  override async getHttpsAlpn(host: string, options?: { signal?: AbortSignal }): Promise<string[] | null> {
    const result = await this.lookup(normaliseHost(host), RRType.HTTPS, options?.signal);
    if (result.kind !== 'records') return [];
    // ServiceMode records in priority order; AliasMode (priority 0) carries no ALPN.
    const alpn: string[] = [];
    const records = result.records
      .filter((r) => r.data.kind === 'svcb' && r.data.priority > 0)
      .sort((a, b) =>
        a.data.kind === 'svcb' && b.data.kind === 'svcb' ? a.data.priority - b.data.priority : 0,
      );
    for (const r of records) {
      if (r.data.kind !== 'svcb') continue;
      for (const id of r.data.alpn) if (!alpn.includes(id)) alpn.push(id);
      if (!r.data.noDefaultAlpn && !alpn.includes('http/1.1')) alpn.push('http/1.1');
    }
    return alpn;
  }

  /** One name and type: from the cache, or one query shared by everyone asking meanwhile. */
  lookup(name: string, type: number, signal?: AbortSignal): Promise<LookupResult> {
    if (this.closed) return Promise.reject(resolutionError(name, `${this.describe()} is closed`));
    // Checked before the shared query starts: raceSignal() would give up on it
    // at once, and its failure would then reach no handler.
    if (signal?.aborted) return Promise.reject(abortedError(name, signal));
    const key = `${name}|${type}`;
    const cache = this.cache;
    let shared = cache === null ? undefined : cache.pending(key);
    if (shared === undefined) {
      const hit = cache === null ? undefined : cache.get(key);
      if (hit !== undefined) shared = Promise.resolve(hit);
      else {
        let resolve!: (r: LookupResult) => void;
        let reject!: (err: unknown) => void;
        shared = new Promise<LookupResult>((res, rej) => {
          resolve = res;
          reject = rej;
        });
        const job = new QueryJob(this.jobContext(), name, type, key, resolve, reject);
        // Registered before the query goes out: a job that ends at once ends the load.
        cache?.loading(key, shared);
        job.ask();
      }
    }
    return signal ? raceSignal(shared, signal, name) : shared;
  }

  /** What this resolver's query jobs share (made on first use: describe() needs the subclass's fields). */
  private jobContext(): JobContext {
    this.context ??= {
      label: this.describe(),
      timeout: this.timeout,
      inflight: this.inflight,
      cache: this.cache,
      newId: () => this.newQueryId(),
      padBlock: this.paddingBlock(),
      send: (job) => this.sendJob(job),
    };
    return this.context;
  }

  /**
   * Puts a job's query on the wire; the job hears of its answer or failure
   * once. By default through exchange(); a transport with a path of its own
   * (dou://'s UDP sockets) overrides this.
   */
  protected sendJob(job: QueryJob): void {
    this.exchange(job, job).then(
      (m) => job.answered(m),
      (err) => job.failed(err),
    );
  }
}

function abortedError(name: string, signal: AbortSignal): RequestAbortedError {
  return new RequestAbortedError(`resolving ${name} was aborted`, { cause: signal.reason });
}

/** `p`, or a RequestAbortedError as soon as `signal` fires (the shared query goes on for the others). */
function raceSignal<T>(p: Promise<T>, signal: AbortSignal, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortedError(name, signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
