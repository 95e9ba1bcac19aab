// The UDP sockets one dou:// resolver sends its queries on (docs/api.md
// section 10). Opening a socket per query costs a socket, a bind, a connect
// and a close (and a libuv handle) for every A and every AAAA asked; instead
// a resolver keeps a few long-lived sockets and multiplexes its queries on
// them, keeping what RFC 5452 asks of a stub resolver:
//
// * Each socket is bound by the kernel to a random source port and connected
//   to the server, so the kernel drops datagrams from anyone else; the
//   source of each datagram is checked again here.
// * Each query goes to one of the sockets picked at random, and a socket
//   takes at most `maxQueries` queries, for at most `maxAgeMs`
//   milliseconds: then it is retired (answers still come in on it, it takes no
//   new query) and closes when its last query ends, and a new socket with a
//   new random port takes its slot. An off-path attacker must guess the
//   16-bit random ID and a source port that keeps moving. The quota also
//   bounds the answers that can queue on one socket: 100 small datagrams
//   fit Linux's default receive buffer (208 KiB) with room to spare, so a
//   burst of queries spreads over more sockets instead of losing answers.
// * An answer is matched to its query by ID (unique among the queries in
//   flight on its socket: a clash draws another ID) and then checked by
//   acceptResponse() (QR, opcode, question). A datagram with an ID no query
//   waits for, a wrong question, or from the wrong source is dropped and the
//   wait goes on: spoofed or late answers never win.
// * A query without an answer is sent again on the same socket about every
//   second (between `resendAfterMs` and 1.5 times that: one timer per socket
//   looks over its queries every half `resendAfterMs`, rather than a timer
//   per query) until the resolver's timeout (the query's QueryCancel) ends
//   it.
//
// The sockets are unref'd: an idle resolver never holds the process open. A
// query in flight does, through its socket's resend timer, which is ref'd
// only while queries wait on it. A socket error fails the
// queries on that socket only; close() fails every query still waiting and
// closes every socket.

import dgram from 'node:dgram';
import net from 'node:net';
import { debug } from '../debug.js';
import { acceptResponse } from './answer.js';
import type { QueryCancel } from './cancel.js';
import type { Message } from './message.js';
import type { OutgoingQuery } from './query-job.js';
import { randomQueryId, withFreeId } from './query-resolver.js';

export interface UdpQuerySocketsOptions {
  /** The server's IP address. */
  address: string;
  port: number;
  /** Local address and port to bind; a fixed port means a single socket that is never replaced. */
  sourceAddress?: [string, number] | null;
  /** How the resolver is named in messages, e.g. "dou://127.0.0.1:53". */
  name: string;
  /** Sockets in use at once (default 4). */
  size?: number;
  /** Queries one socket takes before it is replaced (default 100). */
  maxQueries?: number;
  /** Milliseconds one socket takes new queries for before it is replaced (default 10,000). */
  maxAgeMs?: number;
  /** Milliseconds between sends of an unanswered query (default 1,000). */
  resendAfterMs?: number;
  /** Queries on the wire at once; more wait their turn (default 64). */
  maxInFlight?: number;
  /**
   * What a truncated answer is replaced with (dou:// asks again over TCP);
   * without it, the truncated answer is the result.
   */
  onTruncated?: ((query: OutgoingQuery, cancel: QueryCancel) => Promise<Message>) | null;
}

/**
 * connecting: bound or binding, connect() not yet done; its queries wait to be sent.
 * open: connected; queries are sent as they come.
 * closed: gone (closed, failed, or the pool closed).
 * Apart from its state, a socket is retired once it is out of its slot: it
 * takes no new query and closes after its last one.
 */
export type UdpSocketState = 'connecting' | 'open' | 'closed';

/** Where a query's outcome goes: exactly one of the two is called, once. */
export interface AnswerSink {
  answered(m: Message): void;
  failed(err: unknown): void;
}

interface Waiting {
  query: OutgoingQuery;
  sink: AnswerSink;
  cancel: QueryCancel;
  onAbort: (reason: unknown) => void;
  /** The socket's resend tick when it was last sent; -1 before its first send. */
  sentTick: number;
  /** Counts among the `active` queries: until answered, failed, or first sent again. */
  holdsPlace: boolean;
}

interface Queued {
  query: OutgoingQuery;
  /** Called off while it waited (its sink told): skipped when its turn comes. */
  cancel: QueryCancel;
  sink: AnswerSink;
  onAbort: (reason: unknown) => void;
}

interface QuerySocket {
  state: UdpSocketState;
  /** Out of its slot: no new query; closes when `waiting` empties. */
  retired: boolean;
  socket: dgram.Socket;
  /** Queries in flight by ID. */
  waiting: Map<number, Waiting>;
  /** Queries given to this socket so far. */
  taken: number;
  openedAt: number;
  /** The local port once connected (for debug lines and tests). */
  localPort: number;
  /**
   * The server's address as the kernel writes it, once connected: what a
   * datagram's source must be (the address given may be written otherwise,
   * e.g. "0:0:0:0:0:0:0:1" for "::1").
   */
  remoteAddress: string;
  /** Looks over `waiting` every half resend interval, sending again what waited long enough. */
  resendTimer: NodeJS.Timeout | null;
  /** Runs of resendTimer so far. */
  tick: number;
}

/**
 * Queries on the wire at once, per resolver. A burst of hundreds (a service
 * resolving many names at start) overflowed the server's receive buffer:
 * 400 queries at once to unbound lost some to UdpRcvbufErrors, and each loss
 * waited a second for its resend. The rest wait here and go as answers come.
 * A query still unanswered when it is first sent again (after a second) is
 * taken for lost and gives its place up, so that losses do not stall the
 * queries behind them for a second each; it is still sent again and its
 * answer still taken.
 */
const MAX_IN_FLIGHT = 64;
const DEFAULT_SIZE = 4;
const DEFAULT_MAX_QUERIES = 100;
const DEFAULT_MAX_AGE_MS = 10_000;
const DEFAULT_RESEND_AFTER_MS = 1_000;
/** Served places at the head of the queue past which it is compacted (when they are half of it). */
const QUEUE_COMPACT_AT = 256;
/** A DNS header is 12 bytes: anything shorter is no answer. */
const HEADER_LENGTH = 12;

export class UdpQuerySockets {
  readonly address: string;
  readonly port: number;
  readonly size: number;
  readonly maxQueries: number;
  readonly maxAgeMs: number;
  readonly resendAfterMs: number;
  private readonly sourceAddress: [string, number] | null;
  private readonly name: string;
  private readonly type: dgram.SocketType;
  private readonly slots: Array<QuerySocket | null>;
  /** Every socket not yet closed: the slots' and the retired ones. */
  private readonly live = new Set<QuerySocket>();
  private closed = false;
  readonly maxInFlight: number;
  private readonly onTruncated: ((query: OutgoingQuery, cancel: QueryCancel) => Promise<Message>) | null;
  /** Queries on the wire now (sent, not yet answered or given up; a TCP retry of a truncated answer counts). */
  private active = 0;
  /** Queries waiting for a place on the wire, in order, from `queueHead` on. */
  private queue: Queued[] = [];
  private queueHead = 0;
  /** Sockets opened so far (for tests and measurements). */
  opened = 0;

  constructor(options: UdpQuerySocketsOptions) {
    this.address = options.address;
    this.port = options.port;
    this.name = options.name;
    this.sourceAddress = options.sourceAddress ?? null;
    this.type = net.isIPv6(this.address) ? 'udp6' : 'udp4';
    const fixedPort = this.sourceAddress !== null && this.sourceAddress[1] !== 0;
    // One local port can be bound once: a fixed source port is one socket, kept.
    this.size = fixedPort ? 1 : Math.max(1, options.size ?? DEFAULT_SIZE);
    this.maxQueries = fixedPort ? Number.POSITIVE_INFINITY : (options.maxQueries ?? DEFAULT_MAX_QUERIES);
    this.maxAgeMs = fixedPort ? Number.POSITIVE_INFINITY : (options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
    this.resendAfterMs = options.resendAfterMs ?? DEFAULT_RESEND_AFTER_MS;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? MAX_IN_FLIGHT);
    this.onTruncated = options.onTruncated ?? null;
    this.slots = new Array<QuerySocket | null>(this.size).fill(null);
  }

  /** Sockets not yet closed (slots and retired ones). */
  get liveSockets(): number {
    return this.live.size;
  }

  /** Queries waiting for an answer, over every socket. */
  get inFlight(): number {
    let n = 0;
    for (const s of this.live) n += s.waiting.size;
    return n;
  }

  /**
   * Sends `query` and resolves with the first datagram that answers it;
   * rejects when `cancel` fires. (submit() without the promise.)
   */
  exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      this.submit(query, cancel, { answered: resolve, failed: reject });
    });
  }

  /**
   * Sends `query`; `sink` hears of the first datagram that answers it, or of
   * the failure (`cancel` fired, a socket error, close()). At most
   * `maxInFlight` queries are on the wire at once; the others wait their
   * turn here (see MAX_IN_FLIGHT).
   */
  submit(query: OutgoingQuery, cancel: QueryCancel, sink: AnswerSink): void {
    if (this.closed) {
      sink.failed(new Error('the resolver was closed while the query was in flight'));
      return;
    }
    if (cancel.aborted) {
      sink.failed(cancel.reason);
      return;
    }
    if (this.active < this.maxInFlight) {
      this.active++;
      this.sendNow(query, cancel, sink);
      return;
    }
    const q: Queued = { query, cancel, sink, onAbort: (reason) => sink.failed(reason) };
    cancel.on(q.onAbort);
    this.queue.push(q);
  }

  /** A query on the wire ended: the next ones waiting take its place. */
  private release(): void {
    this.active--;
    while (this.active < this.maxInFlight) {
      const next = this.dequeue();
      if (next === null) return;
      next.cancel.off(next.onAbort);
      this.active++;
      this.sendNow(next.query, next.cancel, next.sink);
    }
  }

  /** The first query still waiting for the wire, taken off the queue; null when none. */
  private dequeue(): Queued | null {
    while (this.queueHead < this.queue.length) {
      const q = this.queue[this.queueHead]!;
      this.queue[this.queueHead++] = undefined as unknown as Queued;
      if (this.queueHead === this.queue.length) {
        this.queue = [];
        this.queueHead = 0;
      } else if (this.queueHead >= QUEUE_COMPACT_AT && this.queueHead * 2 >= this.queue.length) {
        // A backlog that never empties: drop the places served, or the array grows for ever.
        this.queue = this.queue.slice(this.queueHead);
        this.queueHead = 0;
      }
      if (!q.cancel.aborted) return q;
    }
    return null;
  }

  /** Puts `query` on the wire (it holds one of the `active` places, given back when it ends). */
  private sendNow(query: OutgoingQuery, cancel: QueryCancel, sink: AnswerSink): void {
    if (this.closed || cancel.aborted) {
      this.release();
      sink.failed(
        this.closed ? new Error('the resolver was closed while the query was in flight') : cancel.reason,
      );
      return;
    }
    const s = this.pick();
    let q = query;
    if (s.waiting.has(q.id)) q = withFreeId(q, s.waiting);
    s.taken++;
    const w: Waiting = { query: q, sink, cancel, onAbort: () => {}, sentTick: -1, holdsPlace: true };
    w.onAbort = (reason) => this.settle(s, w, reason);
    cancel.on(w.onAbort);
    s.waiting.set(q.id, w);
    if (s.state === 'open') this.send(s, w);
    // else: sent when the socket is connected.
  }

  /** Fails every query still waiting and closes every socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('the resolver was closed while the query was in flight');
    for (let q = this.dequeue(); q !== null; q = this.dequeue()) {
      q.cancel.off(q.onAbort);
      q.sink.failed(err);
    }
    for (const s of [...this.live]) this.fail(s, err);
    this.slots.fill(null);
  }

  /** A socket for one more query: a random slot's, replaced first if it is used up. */
  private pick(): QuerySocket {
    const i = this.size === 1 ? 0 : randomQueryId() % this.size;
    const s = this.slots[i];
    if (s !== null && s !== undefined && s.state !== 'closed') {
      if (s.taken < this.maxQueries && performance.now() - s.openedAt < this.maxAgeMs) return s;
      this.retire(s);
    }
    const fresh = this.open();
    this.slots[i] = fresh;
    return fresh;
  }

  private open(): QuerySocket {
    const socket = dgram.createSocket({ type: this.type });
    const s: QuerySocket = {
      state: 'connecting',
      retired: false,
      socket,
      waiting: new Map(),
      taken: 0,
      openedAt: performance.now(),
      localPort: 0,
      remoteAddress: '',
      resendTimer: null,
      tick: 0,
    };
    this.opened++;
    this.live.add(s);
    socket.unref();
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => this.onDatagram(s, msg, rinfo));
    socket.on('error', (err: Error) => this.fail(s, err));
    const connect = () => {
      if (s.state === 'closed') return;
      // connect() hands its error (EACCES for a broadcast address, ENETUNREACH)
      // to this callback, not to 'error': unseen, the first send would fail
      // with a message about a missing port instead.
      socket.connect(this.port, this.address, (err?: Error) => {
        if (err) this.fail(s, err);
        else this.onConnected(s);
      });
    };
    if (this.sourceAddress !== null) {
      socket.bind({ address: this.sourceAddress[0], port: this.sourceAddress[1] }, connect);
    } else {
      connect();
    }
    return s;
  }

  private onConnected(s: QuerySocket): void {
    if (s.state !== 'connecting') return;
    s.state = 'open';
    try {
      s.localPort = s.socket.address().port;
      s.remoteAddress = s.socket.remoteAddress().address;
    } catch {
      // closed meanwhile
    }
    debug('dns %s: UDP socket from port %d connected', this.name, s.localPort);
    for (const w of s.waiting.values()) this.send(s, w);
  }

  private send(s: QuerySocket, w: Waiting): void {
    if (s.state === 'closed') return;
    w.sentTick = s.tick;
    try {
      s.socket.send(w.query.bytes, (err) => {
        if (err) this.settle(s, w, err);
      });
    } catch (err) {
      // The socket is no longer running (Node closed it after an error).
      this.fail(s, err as Error);
      return;
    }
    if (s.resendTimer === null) {
      const half = Math.max(1, Math.floor(this.resendAfterMs / 2));
      s.resendTimer = setInterval(() => this.resendDue(s), half);
    } else {
      s.resendTimer.ref();
    }
  }

  /**
   * The resend timer's run: queries sent at least two ticks ago (between one
   * and one and a half `resendAfterMs`) go out again; with nothing waiting,
   * the timer stops.
   */
  private resendDue(s: QuerySocket): void {
    if (s.waiting.size === 0 || s.state === 'closed') {
      this.stopResends(s);
      return;
    }
    s.tick++;
    let freed = 0;
    for (const w of s.waiting.values()) {
      if (w.sentTick < 0 || s.tick - w.sentTick < 3) continue;
      if (debug.enabled)
        debug('dns %s: no answer yet for %s id %d, sending it again', this.name, w.query.name, w.query.id);
      if (w.holdsPlace) {
        w.holdsPlace = false;
        freed++;
      }
      this.send(s, w);
      if ((s.state as UdpSocketState) === 'closed') break;
    }
    // After the walk: the queries let on take places on this socket too.
    for (let i = 0; i < freed; i++) this.release();
  }

  private stopResends(s: QuerySocket): void {
    if (s.resendTimer !== null) clearInterval(s.resendTimer);
    s.resendTimer = null;
  }

  private onDatagram(s: QuerySocket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (rinfo.address !== s.remoteAddress || rinfo.port !== this.port) {
      debug('dns dropped a datagram from %s:%d (queried %s)', rinfo.address, rinfo.port, this.name);
      return;
    }
    if (msg.length < HEADER_LENGTH) {
      debug('dns dropped a %d-byte datagram from %s', msg.length, this.name);
      return;
    }
    const w = s.waiting.get(msg.readUInt16BE(0));
    if (w === undefined) {
      debug(
        'dns dropped an answer with ID %d from %s: no query waits for it',
        msg.readUInt16BE(0),
        this.name,
      );
      return;
    }
    const m = acceptResponse(w.query, msg, this.name);
    if (m !== null) this.settle(s, w, null, m);
  }

  /** Ends one query: with its answer, or with `err`. */
  private settle(s: QuerySocket, w: Waiting, err: unknown, m?: Message): void {
    if (s.waiting.get(w.query.id) !== w) return;
    s.waiting.delete(w.query.id);
    w.cancel.off(w.onAbort);
    // Nothing left to resend: the timer no longer holds the process (it stops at its next run).
    if (s.waiting.size === 0) {
      if (s.retired) this.closeSocket(s);
      else s.resendTimer?.unref();
    }
    if (m?.truncated && this.onTruncated !== null) {
      debug('dns answer for %s id %d truncated, asking again over TCP', w.query.name, w.query.id);
      // The TCP retry keeps the query's place on the wire: a server that
      // truncates every answer gets no more TCP connections at once than that.
      const sink = w.sink;
      const holdsPlace = w.holdsPlace;
      this.onTruncated(w.query, w.cancel).then(
        (full) => {
          if (holdsPlace) this.release();
          sink.answered(full);
        },
        (e) => {
          if (holdsPlace) this.release();
          sink.failed(e);
        },
      );
      return;
    }
    if (w.holdsPlace) this.release();
    if (m === undefined) w.sink.failed(err);
    else w.sink.answered(m);
  }

  /** Takes `s` out of its slot: it takes no new query and closes after its last one. */
  private retire(s: QuerySocket): void {
    s.retired = true;
    debug('dns %s: UDP socket from port %d replaced after %d queries', this.name, s.localPort, s.taken);
    if (s.waiting.size === 0) this.closeSocket(s);
  }

  /** A socket error (or the pool closing): every query on `s` fails with `err`, `s` closes. */
  private fail(s: QuerySocket, err: Error): void {
    if (s.state === 'closed') return;
    debug('dns %s: UDP socket from port %d failed: %s', this.name, s.localPort, err.message);
    this.closeSocket(s);
    for (const w of [...s.waiting.values()]) this.settleFailed(s, w, err);
  }

  private settleFailed(s: QuerySocket, w: Waiting, err: Error): void {
    s.waiting.delete(w.query.id);
    w.cancel.off(w.onAbort);
    if (w.holdsPlace) this.release();
    w.sink.failed(err);
  }

  private closeSocket(s: QuerySocket): void {
    if (s.state === 'closed') return;
    s.state = 'closed';
    this.stopResends(s);
    this.live.delete(s);
    try {
      s.socket.close();
    } catch {
      // already closed by Node after an error
    }
  }
}
