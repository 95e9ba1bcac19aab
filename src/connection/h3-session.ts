// Drives one HTTP/3 connection (RFC 9114) over a QUIC connection of the
// transport interface (net/quic): the control stream with our SETTINGS (a
// zero QPACK table), the server's control and QPACK streams through the
// sans-IO PeerStreams, GOAWAY, and one H3Exchange per request stream. A
// 'shared' session: up to the server's stream limit at once. When the limit
// is reached for a moment (the server's MAX_STREAMS not yet in), requests wait
// inside the session for a stream instead of failing.
//
// Liveness (docs/api.md section 9): a connection the peer closed, or that is
// draining after the peer's CONNECTION_CLOSE, takes no request. One idle for
// longer than the owner's `pingAfterIdle` proves it is alive with a QUIC PING
// before it is reused (as an HTTP/2 connection answers a PING); one idle
// almost as long as the QUIC idle timeout is closed without asking, since the
// peer may already have forgotten it (checked first: a server's idle timeout
// may be shorter than pingAfterIdle). A request that still meets a dead
// connection fails as unanswered, and the pool's stale-connection rule
// re-sends it once.
//
// Not here: the QUIC handshake and TLS checks (quic-dialer.ts), which
// connection a request goes to (the pool).

import { performance } from 'node:perf_hooks';
import { debug } from '../debug.js';
import { markUnprocessed, ProtocolError, RequestAbortedError } from '../errors.js';
import type { QuicCloseInfo, QuicConnection, QuicStream } from '../net/quic/quic-transport.js';
import {
  H3_NO_ERROR,
  H3_STREAM_CREATION_ERROR,
  H3ConnectionError,
  h3CodeName,
} from '../protocol/h3/error-codes.js';
import { clientControlStreamPreface, encodeFrame, FRAME_HEADERS } from '../protocol/h3/frames.js';
import { PeerStreams } from '../protocol/h3/peer-streams.js';
import { encodeFieldSection } from '../protocol/h3/qpack-encoder.js';
import { type ConnectionInfo, HttpVersion } from './connection-info.js';
import type { Dialed } from './dialer.js';
import { H3Exchange, type H3StreamHost } from './h3-exchange.js';
import { requestFields } from './h3-headers.js';
import type { QuicShell } from './quic-dialer.js';
import type { ResponseLimits } from './response-limits.js';
import type { ExchangeRequest, ProtocolSession, SessionOwner } from './session.js';
import type { SessionFactory, SessionOptions } from './session-factory.js';

/** A server announcing more streams (or none) still gets at most this many from us. */
const MAX_STREAMS_CAP = 1000;
/** How long the PING of a liveness check may take (ms), as HTTP/2's. */
const PING_TIMEOUT = 2_000;
/** A connection idle within this much of the QUIC idle timeout (half of a shorter one) is closed rather than reused (ms). */
const IDLE_MARGIN = 1_000;

export class H3Session implements ProtocolSession, H3StreamHost {
  readonly httpVersion = HttpVersion.h3;
  readonly reservation = 'shared' as const;
  readonly maxHeaderSize: number;
  /** Header field count, interim responses, decoded body size (docs/api.md section 4). */
  readonly limits: ResponseLimits;
  goawayId: number | null = null;
  closeError: Error | null = null;
  requestsServed = 0;
  private closed = false;
  private readonly active = new Set<H3Exchange>();
  /** Exchanges waiting for the server to allow another stream. */
  private readonly waiting: H3Exchange[] = [];
  private readonly peer: PeerStreams;
  private readonly authority: string;
  idleSince = performance.now();
  /** The PING in flight for checkAlive(), shared by every request waiting on it. */
  private aliveCheck: Promise<boolean> | null = null;

  constructor(
    private readonly quic: QuicConnection,
    private readonly owner: SessionOwner,
    o: SessionOptions,
    /** The connection's ConnectionInfo, completed once the transport knows more (the cipher). */
    private readonly info: ConnectionInfo | null = null,
  ) {
    this.maxHeaderSize = o.maxHeaderSize;
    this.limits = o.limits;
    this.authority = o.authority;
    this.peer = new PeerStreams({
      onSettings: () => {},
      onGoaway: (id) => this.onGoaway(id),
    });
    quic.onStream = (s) => this.onPeerStream(s);
    quic.onClose = (info) => this.onQuicClose(info);
    quic.onCapacity = () => this.openWaiting();
    const control = quic.openUniStream();
    control.write(clientControlStreamPreface(o.maxHeaderSize));
    // An idle connection never holds the process open; a request in flight does.
    quic.unref();
  }

  get label(): string {
    return this.owner.label;
  }

  get connectionObject(): unknown {
    return this.owner.connectionObject;
  }

  get pooled(): boolean {
    return this.owner.pooled;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get isAvailable(): boolean {
    return !this.closed && this.goawayId === null && !this.quic.isClosing;
  }

  get concurrency(): number {
    const max = this.quic.peerMaxBidiStreams;
    return Math.max(1, Math.min(max, MAX_STREAMS_CAP));
  }

  /**
   * Whether the connection may take a request: false (and closed) when it is
   * draining, idle past the QUIC idle timeout less a margin, or idle longer
   * than `pingAfterIdle` without answering a QUIC PING. Requests arriving
   * together share one PING.
   */
  checkAlive(): Promise<boolean> | true {
    if (this.aliveCheck !== null) return this.aliveCheck;
    // Closed: the connection sets up a new session before use, as after any close.
    if (this.closed) return true;
    if (this.quic.isClosing) return this.dead('the server closed it (draining)');
    if (this.active.size > 0) return true;
    const idle = performance.now() - this.idleSince;
    // Checked first: a server's idle timeout may be shorter than pingAfterIdle.
    const limit = this.quic.idleTimeout;
    if (limit > 0 && idle >= limit - Math.min(IDLE_MARGIN, limit / 2)) {
      return this.dead(`it was idle ${Math.round(idle)} ms, about its QUIC idle timeout (${limit} ms)`);
    }
    if (idle < this.owner.pingAfterIdle) return true;
    // The transport settles the PING unanswered when the connection closes first.
    const check = this.quic.ping(PING_TIMEOUT).then((ok) => {
      this.aliveCheck = null;
      if (ok) this.idleSince = performance.now();
      else if (!this.closed) {
        debug('HTTP/3 connection %s did not answer a QUIC PING after being idle; closing it', this.label);
        this.destroy();
      }
      return ok;
    });
    this.aliveCheck = check;
    return check;
  }

  private dead(why: string): Promise<boolean> {
    debug('HTTP/3 connection %s is not reused: %s', this.label, why);
    if (!this.closed) this.destroy();
    return Promise.resolve(false);
  }

  /**
   * @internal A response head arrived: complete `info` (and the connection's)
   * with what the transport learned since the handshake - the cipher suite,
   * which quiche knows once the server's session ticket is in.
   */
  fillTls(info: ConnectionInfo | null): void {
    if (info === null || info.cipher !== null) return;
    const cipher = this.quic.tlsCipher();
    if (cipher === null) return;
    info.cipher = cipher;
    if (this.info !== null) this.info.cipher = cipher;
  }

  /** Encode the head, open a stream (or queue for one) and start the exchange. */
  open(opts: ExchangeRequest): H3Exchange {
    try {
      if (!this.isAvailable) {
        throw markUnprocessed(
          new ProtocolError(
            `${this.label}: the HTTP/3 connection ${this.goawayId !== null ? 'is going away (GOAWAY)' : 'is closed'}; the request was not sent`,
            { phase: 'send' },
          ),
        );
      }
      const head = encodeFrame(
        FRAME_HEADERS,
        encodeFieldSection(requestFields(opts, this.authority, this.label)),
      );
      if (opts.signal?.aborted) {
        throw new RequestAbortedError(`${this.label}: request to ${opts.url} aborted`, {
          cause: opts.signal.reason,
        });
      }
      const ex = new H3Exchange(this, opts, head);
      if (this.active.size === 0) this.quic.ref();
      this.active.add(ex);
      if (this.waiting.length === 0 && this.quic.bidiStreamsLeft > 0) ex.begin(this.quic.openBidiStream());
      else this.waiting.push(ex);
      return ex;
    } catch (err) {
      const done = opts.onDone;
      opts.onDone = null;
      done?.();
      throw err;
    }
  }

  private openWaiting(): void {
    while (this.waiting.length > 0 && !this.closed && this.quic.bidiStreamsLeft > 0) {
      const ex = this.waiting.shift()!;
      if (ex.isOver) continue;
      ex.begin(this.quic.openBidiStream());
    }
  }

  private onPeerStream(s: QuicStream): void {
    // Servers open no bidirectional streams in HTTP/3 (RFC 9114 section 6.1).
    if ((s.id & 2) === 0) {
      this.connectionError(
        new H3ConnectionError(H3_STREAM_CREATION_ERROR, `the server opened bidirectional stream ${s.id}`),
      );
      return;
    }
    const guard = (f: () => void) => {
      try {
        f();
      } catch (e) {
        if (e instanceof H3ConnectionError) this.connectionError(e);
        else throw e;
      }
    };
    let ignored = false;
    s.setHandlers({
      onData: (chunk) =>
        guard(() => {
          if (ignored) return;
          if (this.peer.push(s.id, chunk) === 'ignore') {
            ignored = true;
            s.reset(H3_STREAM_CREATION_ERROR);
          }
        }),
      onEnd: () => guard(() => ignored || this.peer.end(s.id)),
      onReset: () => guard(() => ignored || this.peer.end(s.id)),
      onStopSending: () => {},
      onDrain: () => {},
    });
  }

  private onGoaway(id: number): void {
    this.goawayId = id;
    // Requests still waiting for a stream were not sent: they go elsewhere.
    for (const ex of this.waiting.splice(0)) {
      ex.failBeforeStream(
        markUnprocessed(
          new ProtocolError(
            `${this.label}: the server is going away (GOAWAY); the request was not sent (${ex.opts.url})`,
          ),
        ),
      );
    }
    // Those on streams at or above the id will not be processed (RFC 9114
    // section 5.2): cancelled and re-sent now, not when the server gets round
    // to closing the connection.
    for (const ex of [...this.active]) {
      const sid = ex.streamId;
      if (sid !== null && sid >= id && !ex.gotResponseBytes && !ex.isOver) {
        ex.fail(
          markUnprocessed(
            new ProtocolError(
              `${this.label}: the server is going away (GOAWAY, first unprocessed stream ${id}); the request on stream ${sid} was not processed (${ex.opts.url})`,
            ),
          ),
        );
      }
    }
    this.owner.sessionCapacityChanged(this);
  }

  /** @internal The codec found a connection error: close the connection with its code. */
  connectionError(err: H3ConnectionError): void {
    this.closeError ??= err;
    this.quic.close(err.h3Code, err.message.slice(0, 100));
  }

  /** @internal An exchange is over. */
  streamClosed(ex: H3Exchange, completed: boolean): void {
    if (!this.active.delete(ex)) return;
    if (completed) this.requestsServed++;
    if (this.active.size === 0) {
      this.idleSince = performance.now();
      // Closed too: a QUIC connection still sending its close (draining) must not hold the process.
      this.quic.unref();
    }
  }

  private onQuicClose(info: QuicCloseInfo): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError ??= describeClose(info, this.label);
    const err = this.closeError;
    for (const ex of this.waiting.splice(0)) {
      ex.failBeforeStream(
        markUnprocessed(
          new ProtocolError(
            `${this.label}: the connection closed before the request was sent (${ex.opts.url})`,
            { cause: err },
          ),
        ),
      );
    }
    for (const ex of [...this.active]) {
      // An exchange without its stream's events yet learns it here.
      ex.fail(
        this.goawayId !== null && (ex.streamId ?? 0) >= this.goawayId && !ex.gotResponseBytes
          ? markUnprocessed(
              new ProtocolError(
                `${this.label}: the server went away (GOAWAY) before answering (${ex.opts.url})`,
                { cause: err },
              ),
            )
          : new ProtocolError(`${this.label}: Connection aborted: ${err.message} (${ex.opts.url})`, {
              cause: err,
            }),
      );
    }
    this.owner.sessionClosed(this);
  }

  /** Close now: in-flight streams fail. */
  destroy(): void {
    if (!this.quic.isClosed) this.quic.close(H3_NO_ERROR, '');
    this.onQuicClose({ by: 'local', isApp: true, code: H3_NO_ERROR, reason: '', error: null });
  }
}

function describeClose(info: QuicCloseInfo, label: string): Error {
  if (info.error)
    return new ProtocolError(`${label}: the QUIC connection failed: ${info.error.message}`, {
      cause: info.error,
    });
  if (info.by === 'idle') return new ProtocolError(`${label}: the QUIC connection timed out (idle)`);
  const code = info.isApp ? h3CodeName(info.code) : `transport error 0x${info.code.toString(16)}`;
  const who = info.by === 'peer' ? 'the server closed the connection' : 'the connection was closed';
  return new ProtocolError(`${label}: ${who} with ${code}${info.reason ? ` (${info.reason})` : ''}`);
}

/** The session factory entry for HTTP/3: the dialer's transport is a QuicShell. */
export const startH3: SessionFactory = (dialed: Dialed, owner, o) =>
  new H3Session((dialed.transport as QuicShell).quic, owner, o, dialed.info);
