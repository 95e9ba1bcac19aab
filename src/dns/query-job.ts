// One lookup of a name and record type on the wire (docs/api.md section 10),
// for the DNS-speaking resolvers (query-resolver.ts): the query for the
// name, the CNAMEs the server did not chase, each asked in turn under the
// resolver's timeout, and the result, cached and handed to everyone who
// asked meanwhile. A cold burst of lookups sends hundreds of queries, so one
// object carries a whole lookup: it is the query the transport sends
// (OutgoingQuery), the query's cancel and its place among those in flight
// (InflightQuery: timeout and close()), and where the answer goes
// (answered()/failed()), rather than a chain of async functions and
// promises per query.
//
// States: 'asking' (a query is out, or about to be) -> 'done' (settled:
// the lookup's promise is resolved or rejected, the shared load ended).
// A transport reports exactly once per query; anything after 'done' is
// ignored.

import { debug } from '../debug.js';
import { ConnectTimeoutError, HTTPError } from '../errors.js';
import { interpret, MAX_CNAME_CHAIN } from './answer.js';
import type { DnsCache } from './cache.js';
import { resolutionError } from './failure.js';
import { type InflightQueries, InflightQuery } from './inflight.js';
import { encodeQuery, type Message } from './message.js';
import type { QueryKey } from './answer.js';
import type { ResourceRecord } from './message.js';

/** What one lookup of a name and type ended with; failures are thrown instead. */
export type LookupResult =
  | { kind: 'records'; records: ResourceRecord[] }
  | { kind: 'nxdomain' | 'nodata'; chain: string[] };

/** A query as a transport sends it: its key and its bytes. */
export interface OutgoingQuery extends QueryKey {
  bytes: Buffer;
}

/** What a job needs of its resolver, made once per resolver. */
export interface JobContext {
  /** The resolver as messages name it, e.g. "dou://127.0.0.1:53". */
  label: string;
  timeout: number | null;
  inflight: InflightQueries;
  cache: DnsCache<LookupResult> | null;
  /** The ID for a new query. */
  newId(): number;
  /** EDNS padding block (0: none). */
  padBlock: number;
  /** Puts `job` on the wire; the transport calls job.answered() or job.failed() once. */
  send(job: QueryJob): void;
}

export type QueryJobState = 'asking' | 'done';

const NO_BYTES = Buffer.alloc(0);

export class QueryJob extends InflightQuery implements OutgoingQuery {
  state: QueryJobState = 'asking';
  /** The query now on the wire: its ID, the name it asks (the last CNAME target) and its bytes. */
  id = 0;
  name: string;
  bytes: Buffer = NO_BYTES;
  /** CNAMEs followed so far, over every answer. */
  private followed = 0;
  /** The smallest TTL seen so far, in seconds. */
  private ttl = Number.POSITIVE_INFINITY;
  private chain: string[] | null = null;
  /** When the query now out was sent (debug lines only). */
  private sentAt = 0;

  constructor(
    private readonly ctx: JobContext,
    /** The name the user asked for. */
    private readonly host: string,
    readonly type: number,
    /** The cache key of the shared load, ended when the job is done. */
    private readonly key: string,
    private readonly resolve: (r: LookupResult) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    super();
    this.name = host;
  }

  /** Sends the query for `name` (the host, or the CNAME target to ask next). */
  ask(): void {
    const ctx = this.ctx;
    const id = ctx.newId();
    try {
      this.bytes = encodeQuery({ id, name: this.name, type: this.type, padBlock: ctx.padBlock });
    } catch (err) {
      this.finish(resolutionError(this.host, (err as Error).message, { final: true, cause: err }));
      return;
    }
    this.id = id;
    ctx.inflight.start(this);
    if (debug.enabled) {
      this.sentAt = performance.now();
      debug('dns query %s type %d id %d -> %s', this.name, this.type, id, ctx.label);
    }
    ctx.send(this);
  }

  /** The transport's answer to the query now out (matched and checked already). */
  answered(m: Message): void {
    if (this.state === 'done') return;
    const ctx = this.ctx;
    ctx.inflight.end(this);
    if (debug.enabled) {
      debug(
        'dns answer %s type %d id %d rcode %d, %d records in %d ms',
        this.name,
        this.type,
        this.id,
        m.rcode,
        m.answers.length,
        Math.round(performance.now() - this.sentAt),
      );
    }
    const outcome = interpret({ id: m.id, name: this.name, type: this.type }, m, this.followed);
    if (outcome.kind === 'error') {
      this.finish(resolutionError(this.host, `${outcome.reason} (from ${ctx.label})`));
      return;
    }
    if (outcome.kind === 'records' || outcome.kind === 'follow') {
      if (outcome.ttl < this.ttl) this.ttl = outcome.ttl;
      if (outcome.chain.length > 0) (this.chain ??= []).push(...outcome.chain);
    }
    if (outcome.kind === 'records') {
      const result: LookupResult = { kind: 'records', records: outcome.records };
      ctx.cache?.set(this.key, result, this.ttl);
      this.finish(null, result);
      return;
    }
    if (outcome.kind === 'follow') {
      this.followed += outcome.chain.length;
      if (this.followed >= MAX_CNAME_CHAIN) {
        this.finish(
          resolutionError(this.host, `the CNAME chain is longer than ${MAX_CNAME_CHAIN} names`, {
            final: true,
          }),
        );
        return;
      }
      this.name = outcome.target;
      this.ask();
      return;
    }
    if (outcome.chain.length > 0) (this.chain ??= []).push(...outcome.chain);
    const result: LookupResult = { kind: outcome.kind, chain: this.chain ?? [] };
    ctx.cache?.set(this.key, result, Math.min(outcome.negativeTtl, this.ttl), true);
    this.finish(null, result);
  }

  /** The query now out failed: timed out, called off, or the transport's error. */
  failed(err: unknown): void {
    if (this.state === 'done') return;
    const ctx = this.ctx;
    ctx.inflight.end(this);
    debug('dns query %s type %d id %d failed: %s', this.name, this.type, this.id, (err as Error)?.message);
    if (this.aborted && this.reason instanceof ConnectTimeoutError) {
      this.finish(
        resolutionError(this.host, `${ctx.label} did not answer within ${ctx.timeout} ms`, {
          cause: this.reason,
        }),
      );
      return;
    }
    if (err instanceof HTTPError && err.name === 'NameResolutionError') {
      this.finish(err);
      return;
    }
    // Errors from the TLS layer already start with the resolver's label.
    const why = (err as Error)?.message ?? String(err);
    const where = ctx.label;
    this.finish(resolutionError(this.host, why.startsWith(where) ? why : `${where}: ${why}`, { cause: err }));
  }

  private finish(err: unknown, result?: LookupResult): void {
    this.state = 'done';
    this.bytes = NO_BYTES;
    this.ctx.cache?.loadEnded(this.key);
    if (result !== undefined) this.resolve(result);
    else this.reject(err);
  }
}
