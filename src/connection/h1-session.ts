// Drives the sans-IO HTTP/1.1 codec (protocol/h1) over one socket: one
// exchange at a time (a 'unique' reservation in pool terms). It writes the
// request, feeds socket bytes to the parser, turns parser events into the
// exchange core's calls (interim responses, the final head, body pieces, the
// end), applies the read timeout through the socket's own timer, and decides
// whether the connection may be reused afterwards. After a 101 Switching
// Protocols it lets go of the socket, which becomes the response's
// RawExtension and never returns to a pool.
//
// Parser callbacks only record what happened; anything that can re-enter the
// session (releasing the connection to a pool, which may start the next
// request on it) runs after feed() returns.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PreparedBody } from '../body/request-body.js';
import { HTTPError, IncompleteRead, InvalidChunkLength, markUnprocessed, ProtocolError } from '../errors.js';
import { HTTPHeaderDict } from '../headers.js';
import { H1ResponseParser, type ResponseHead } from '../protocol/h1/parser.js';
import { CRLF, chunkHeader, LAST_CHUNK, serializeRequestHead } from '../protocol/h1/serializer.js';
import { HttpVersion } from './connection-info.js';
import { type BodyWriter, ExchangeCore, Phase, Upload } from './exchange-core.js';
import { expectsContinue } from './expect-continue.js';
import { copyOf, isSharedReadBuffer, type ReadSink, SinkDuplex } from './read-sink.js';
import { DEFAULT_LIMITS, type ResponseLimits } from './response-limits.js';
import {
  type Exchange,
  type ExchangeRequest,
  type ProtocolSession,
  SENT,
  type SessionOwner,
} from './session.js';

/** Whether flat request header pairs carry an `Upgrade` field (RFC 9110 section 7.8). */
function asksUpgrade(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 7 && name.toLowerCase() === 'upgrade') return true;
  }
  return false;
}

/** Bodies up to this size go out in the same write as the head. */
const SMALL_BODY = 64 * 1024;
/**
 * The largest copy of body bytes out of the shared read buffer. glibc's
 * malloc serves allocations of 128 KiB and more with a fresh mmap and
 * returns them to the kernel when freed, so each such copy would fault in
 * new pages; smaller ones reuse freed heap memory. Measured on a 100 MiB
 * download: 16,600 page faults with one copy per 256 KiB read, 9,000 with
 * 64 KiB copies (BENCHMARKS.md, issue 17).
 */
const COPY_PIECE = 64 * 1024;
/** After this many body bytes of one response, the socket reads into buffers the body keeps (ReadSink.ownReads). */
const OWN_READS_AFTER = 256 * 1024;
/**
 * A body piece that fills at least this share of a read buffer of the
 * socket's own is handed out as a view of it (the buffer is then kept, and
 * the next read gets a new one); a shorter piece is copied out like one from
 * the shared buffer, and the buffer is reused. So every chunk the body hands
 * out is at least half the memory it keeps alive, whether the caller holds
 * all of them (a preloaded body) or only a few, however the network cut its
 * reads or the server its chunks (docs/api.md section 2, memory-bounded reading).
 */
const OWN_READ_KEPT_SHARE = 0.5;

/** One request/response on an HTTP/1.1 connection; feeds its HTTPResponse. */
class H1Exchange extends ExchangeCore implements Exchange {
  sent: Promise<void> = SENT;
  readonly streamId = null;
  /** The response finished before getResponse() collected it; hand-back waits for collection. */
  releaseDeferred = false;

  constructor(
    private readonly session: H1Session,
    opts: ExchangeRequest,
  ) {
    super(opts, session.label, session.limits);
  }

  get connectionObject(): unknown {
    return this.session.owner.connectionObject;
  }

  get pooled(): boolean {
    return this.session.owner.pooled;
  }

  protected get transportClosed(): boolean {
    return this.session.isClosed;
  }

  protected armTimer(): void {
    this.session.armTimer(this.opts.readTimeout);
  }

  protected disarmTimer(): void {
    this.session.disarmTimer();
  }

  protected pauseTransport(): void {
    this.session.socket.pause();
  }

  protected resumeTransport(): void {
    this.session.socket.resume();
  }

  protected afterFail(): void {
    this.session.exchangeFailed();
  }

  protected override onCollected(): void {
    this.session.collected(this);
  }

  releaseFromResponse(): void {
    this.session.release(this);
  }

  discardFromResponse(): void {
    this.session.discard(this);
  }

  /** @internal The session's way into the core's protected steps. */
  headIn(head: ResponseHead): void {
    if (head.status < 200 && head.status !== 101) {
      const wants = this.opts.onEarlyResponse !== null;
      this.interim(head.status, head.reason, 11, wants ? HTTPHeaderDict.fromRawPairs(head.headers) : null);
      return;
    }
    this.finalHead(
      head.status,
      head.reason,
      head.version,
      HTTPHeaderDict.fromRawPairs(head.headers),
      head.bodyKind === 'none' || head.upgrade,
      !head.upgrade,
    );
  }

  /** @internal Listen to the abort signal; false when it already fired. */
  attach(): boolean {
    return this.attachAbort();
  }

  /** @internal Stop listening to the abort signal. */
  forget(): void {
    this.detachAbort();
  }

  /** @internal */
  complete(): void {
    this.finish();
  }

  /** @internal */
  timedOut(): void {
    this.onReadTimeout();
  }

  /** @internal */
  poke(): void {
    this.wakeUp();
  }

  /** @internal A 101: the socket becomes the response's RawExtension. */
  upgradeTo(socket: Socket, sink: ReadSink | null, leftover: Buffer | null): void {
    // An onread socket's readable side stays empty: the extension reads through an adapter.
    const stream = sink === null ? socket : new SinkDuplex(socket, sink);
    this.phase = Phase.Upgraded;
    this.handOver(stream, { leftover, abort: () => stream.destroy() });
  }

  /** @internal */
  write(body: PreparedBody, writer: BodyWriter, expectContinue: boolean): Promise<void> {
    return this.sendBody(body, writer, expectContinue);
  }
}

export class H1Session implements ProtocolSession {
  readonly httpVersion = HttpVersion.h11;
  readonly reservation = 'unique' as const;
  readonly concurrency = 1;
  readonly socket: Socket;
  readonly owner: SessionOwner;
  private readonly parser: H1ResponseParser;
  private ex: H1Exchange | null = null;
  /** The exchange whose response getResponse() has not returned yet. */
  private uncollected: H1Exchange | null = null;
  /** False once anything says the connection must not carry another request. */
  private reusable = true;
  private closed = false;
  /** After a 101 the socket belongs to the response's extension: never destroyed from here. */
  private detached = false;
  /** The socket listeners, removed when a 101 hands the socket over. */
  private readonly socketListeners: ReadonlyArray<readonly [string, (...args: unknown[]) => void]>;
  private timerArmed = false;
  /** The socket is unref'd: idle, it does not keep the process alive. */
  private unrefd = false;
  /** Requests completed on this session. */
  requestsServed = 0;
  /** Set when the socket reads into the shared buffer (`onread`) instead of emitting 'data'. */
  private readonly sink: ReadSink | null;
  /** During an `onread` read: the buffer read into (shared or the socket's own) and how many bytes it holds; else null. */
  private shared: Buffer | null = null;
  private sharedEnd = 0;
  /** The copy of this read's bytes from the first body byte on, and where it starts in the read. */
  private sharedCopy: Buffer | null = null;
  private sharedCopyStart = 0;
  /** Body bytes of the current response so far. */
  private bodyBytes = 0;
  /** The request body writer: raw bytes, or chunked framing (RFC 9112 section 7.1). */
  private readonly plainWriter: BodyWriter;
  private readonly chunkedWriter: BodyWriter;

  /** What a response may bring back (docs/api.md section 4). */
  readonly limits: ResponseLimits;

  constructor(
    socket: Socket,
    owner: SessionOwner,
    maxHeaderSize: number,
    sink: ReadSink | null = null,
    limits: ResponseLimits = DEFAULT_LIMITS,
  ) {
    this.socket = socket;
    this.limits = limits;
    this.owner = owner;
    this.sink = sink;
    this.parser = new H1ResponseParser(
      {
        onHead: (head) => this.onHead(head),
        onBody: (chunk) => {
          const r = this.ex?.response;
          if (!r) return;
          this.bodyBytes += chunk.length;
          // A long body: later reads go into buffers the body keeps (no copy out of the shared one).
          if (this.bodyBytes > OWN_READS_AFTER && this.sink !== null) this.sink.ownReads = true;
          const shared = this.shared;
          if (shared === null) r._pushRaw(chunk);
          else if (chunk.length <= COPY_PIECE) r._pushRaw(this.retain(chunk));
          else if (chunk.length >= shared.length * OWN_READ_KEPT_SHARE && !isSharedReadBuffer(shared)) {
            // Most of a read buffer of the socket's own: a view of it, which the body keeps.
            this.sink!.keep(shared);
            r._pushRaw(chunk);
          } else {
            // A big piece goes in copies of COPY_PIECE: see there.
            for (let i = 0; i < chunk.length; i += COPY_PIECE)
              r._pushRaw(copyOf(chunk, i, Math.min(chunk.length, i + COPY_PIECE)));
          }
        },
        onTrailers: (pairs) => {
          if (this.ex) this.ex.trailers = HTTPHeaderDict.fromRawPairs(pairs);
        },
        onComplete: () => {
          if (this.sink !== null) this.sink.ownReads = false;
          if (this.ex) this.ex.phase = Phase.Complete;
        },
      },
      { maxHeaderSize, maxHeaderFields: limits.maxHeaderFields },
    );
    const listeners: Array<readonly [string, (...args: unknown[]) => void]> = [
      ['end', () => this.onEnd()],
      ['error', (err) => this.onSocketError(err as Error)],
      ['close', () => this.onClose()],
      ['timeout', () => this.onTimeout()],
    ];
    if (sink === null) listeners.push(['data', (chunk) => this.onData(chunk as Buffer)]);
    for (const [event, fn] of listeners) socket.on(event, fn);
    this.socketListeners = listeners;
    if (sink !== null) {
      sink.target = (buf, n) => this.onRead(buf, n);
      const early = sink.takeEarly();
      // Delivered as 'data' events would have been: after the caller resumed the socket.
      if (early !== null) process.nextTick(() => this.onEarly(early));
    }
    this.plainWriter = {
      selfDelimiting: false,
      write: (chunk) => socket.write(chunk),
      drain: () => this.drain(),
      end: () => {},
    };
    this.chunkedWriter = {
      selfDelimiting: true,
      write: (chunk) => {
        // A zero-length chunk would be the last chunk (RFC 9112 section 7.1): nothing to frame.
        if (chunk.length === 0) return true;
        socket.cork();
        socket.write(chunkHeader(chunk.length), 'latin1');
        socket.write(chunk);
        const ok = socket.write(CRLF);
        socket.uncork();
        return ok;
      },
      drain: () => this.drain(),
      end: () => {
        socket.write(LAST_CHUNK);
      },
    };
  }

  get label(): string {
    return this.owner.label;
  }

  /**
   * A read through `onread`: parsed in place, what is kept copied out, except
   * a body piece that fills most of a read buffer of the socket's own, which
   * is handed out as a view (see OWN_READ_KEPT_SHARE).
   */
  private onRead(buf: Buffer, n: number): boolean {
    this.shared = buf;
    this.sharedEnd = n;
    try {
      this.onData(n === buf.length ? buf : buf.subarray(0, n));
    } finally {
      this.shared = null;
      this.sharedCopy = null;
    }
    return true;
  }

  private onEarly(early: Buffer[]): void {
    if (this.detached || this.socket.destroyed) return;
    // One piece, so that a 101 among them hands all the rest to the extension.
    this.onData(early.length === 1 ? early[0]! : Buffer.concat(early));
  }

  /**
   * A body piece (at most COPY_PIECE bytes) that lies in the shared buffer,
   * as a view of a copy: a copy takes everything from the piece to the end of
   * the read, up to COPY_PIECE bytes, so many small pieces (chunks) of one
   * read share a copy.
   */
  private retain(chunk: Buffer): Buffer {
    const shared = this.shared!;
    const off = chunk.byteOffset - shared.byteOffset;
    let copy = this.sharedCopy;
    let start = off - this.sharedCopyStart;
    if (copy === null || start + chunk.length > copy.length) {
      copy = copyOf(shared, off, Math.min(this.sharedEnd, off + COPY_PIECE));
      this.sharedCopy = copy;
      this.sharedCopyStart = off;
      start = 0;
    }
    return start === 0 && chunk.length === copy.length ? copy : copy.subarray(start, start + chunk.length);
  }

  /** Free for a request now. */
  get isAvailable(): boolean {
    return this.ex === null && !this.closed && this.reusable;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  checkAlive(): true {
    return true;
  }

  // ---- sending ---------------------------------------------------------------

  /**
   * Start an exchange: write the head and the body. A request without a
   * streamed body is written synchronously and its `sent` is an already
   * settled promise, without the cost of an async frame per request.
   */
  open(opts: ExchangeRequest): Exchange {
    if (this.closed) {
      throw markUnprocessed(
        new ProtocolError(`${this.owner.label}: connection closed before the request could be sent`, {
          phase: 'send',
        }),
      );
    }
    if (this.ex !== null || this.uncollected !== null) {
      throw new ProtocolError(
        `${this.owner.label}: a request is already in flight on this connection (call getResponse() and read its body first)`,
      );
    }
    const head = serializeRequestHead(opts.method, opts.target, opts.headers);
    // An exchange in flight keeps the process alive; an idle connection does not.
    if (this.unrefd) {
      this.unrefd = false;
      this.socket.ref();
    }
    const ex = new H1Exchange(this, opts);
    this.ex = ex;
    this.uncollected = ex;
    this.parser.start(opts.method);
    if (!ex.attach()) throw ex.error!;
    const info = opts.connectionInfo;
    const started = info !== null ? performance.now() : 0;
    const body = opts.body;
    const sock = this.socket;
    // Looked up once, and only for a request with a body to hold back.
    const expect = body !== null && expectsContinue(opts.headers);
    if (body === null || (body.buffer !== null && body.buffer.length === 0 && !opts.chunked)) {
      sock.write(head, 'latin1');
      this.armTimer(opts.readTimeout);
    } else if (body.buffer !== null && !opts.chunked && body.buffer.length <= SMALL_BODY && !expect) {
      // Head and a small body in one write: one syscall, one TCP segment.
      const hlen = head.length;
      const buf = Buffer.allocUnsafe(hlen + body.buffer.length);
      buf.write(head, 0, hlen, 'latin1');
      body.buffer.copy(buf, hlen);
      sock.write(buf);
      this.armTimer(opts.readTimeout);
      opts.onUploadBody?.(body.buffer.length, body.length, true, false);
    } else {
      sock.write(head, 'latin1');
      // The server's answer (100 or final) is what we wait for: it is under the read timeout.
      if (expect) this.armTimer(opts.readTimeout);
      ex.sent = this.upload(ex, body, expect, started);
      return ex;
    }
    if (info !== null) info.requestSentLatency = performance.now() - started;
    return ex;
  }

  private async upload(ex: H1Exchange, body: PreparedBody, expect: boolean, started: number): Promise<void> {
    try {
      await ex.write(body, ex.opts.chunked ? this.chunkedWriter : this.plainWriter, expect);
    } finally {
      // Answered before the body was all sent: the server may still expect the rest.
      if (ex.upload !== Upload.Done) this.reusable = false;
    }
    this.armTimer(ex.opts.readTimeout);
    if (ex.opts.connectionInfo !== null)
      ex.opts.connectionInfo.requestSentLatency = performance.now() - started;
  }

  private drain(): Promise<void> {
    const ex = this.ex;
    return new Promise<void>((resolve, reject) => {
      const sock = this.socket;
      const done = () => {
        sock.removeListener('drain', done);
        sock.removeListener('close', done);
        if (ex !== null && ex.error !== null && ex.response === null) reject(ex.error);
        else if (this.closed && ex?.response == null)
          reject(new ProtocolError(`${this.owner.label}: connection closed while sending the request body`));
        else resolve();
      };
      sock.once('drain', done);
      sock.once('close', done);
    });
  }

  /** @internal The exchange was collected by getResponse(). */
  collected(ex: H1Exchange): void {
    if (this.uncollected === ex) this.uncollected = null;
    if (ex.releaseDeferred) {
      // The exchange finished before it was collected; the connection can go back to the pool now.
      ex.releaseDeferred = false;
      this.handBack();
    }
  }

  // ---- receiving --------------------------------------------------------------

  private onHead(head: ResponseHead): void {
    const ex = this.ex;
    if (ex === null) return;
    this.bodyBytes = 0;
    if (head.status >= 200 || head.status === 101) {
      if (!head.keepAlive || head.upgrade) this.reusable = false;
    }
    ex.headIn(head);
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null || ex.phase === Phase.Complete) {
      // Bytes nobody asked for: the connection is out of sync and must go.
      this.reusable = false;
      this.destroy();
      return;
    }
    ex.gotBytes = true;
    let consumed: number;
    try {
      consumed = this.parser.feed(chunk);
    } catch (err) {
      ex.fail(this.wrapParseError(err as Error, ex));
      return;
    }
    ex.poke();
    if (this.parser.state === 'upgraded') {
      // Protocol switch: the socket now belongs to the response's extension.
      let leftover = consumed < chunk.length ? chunk.subarray(consumed) : null;
      if (leftover !== null && this.shared !== null) leftover = copyOf(leftover, 0, leftover.length);
      this.upgrade(ex, leftover);
      return;
    }
    if (ex.completed) {
      if (consumed < chunk.length) this.reusable = false;
      this.completeExchange(ex);
    }
  }

  private onEnd(): void {
    const ex = this.ex;
    this.reusable = false;
    if (ex === null || ex.isOver) return;
    try {
      this.parser.finish();
    } catch (err) {
      const e = err as Error;
      if (!ex.opts.enforceContentLength && e instanceof IncompleteRead && ex.response !== null) {
        ex.phase = Phase.Complete;
        this.completeExchange(ex);
        return;
      }
      ex.fail(this.wrapEofError(e, ex));
      return;
    }
    if (ex.phase === Phase.Complete) this.completeExchange(ex);
  }

  private onSocketError(err: Error): void {
    this.reusable = false;
    const ex = this.ex;
    if (ex !== null && !ex.isOver) {
      const e =
        err instanceof HTTPError
          ? err
          : new ProtocolError(`${this.owner.label}: Connection aborted: ${err.message}`, { cause: err });
      ex.fail(e);
    }
  }

  private onClose(): void {
    this.reusable = false;
    const wasClosed = this.closed;
    this.closed = true;
    const ex = this.ex;
    if (ex !== null && !ex.isOver) {
      // 'end' may not fire on a reset; give the parser its EOF here.
      this.onEnd();
      if (this.ex === ex && !ex.isOver) {
        ex.fail(
          new ProtocolError(
            `${this.owner.label}: Connection aborted: remote end closed connection without response`,
          ),
        );
      }
    }
    if (!wasClosed) this.owner.sessionClosed(this);
  }

  private onTimeout(): void {
    const ex = this.ex;
    if (ex === null) this.disarmTimer();
    else ex.timedOut();
  }

  private wrapParseError(err: Error, ex: H1Exchange): Error {
    // As urllib3 reports a broken body: a ProtocolError caused by the InvalidChunkLength.
    if (err instanceof InvalidChunkLength) {
      return new ProtocolError(`${this.owner.label}: Connection broken: ${err.message} (${ex.opts.url})`, {
        cause: err,
      });
    }
    if (err instanceof HTTPError) {
      // Name where it happened without losing the type.
      if (!err.message.includes(this.owner.label))
        err.message = `${this.owner.label}: ${err.message} (${ex.opts.url})`;
      return err;
    }
    return new ProtocolError(`${this.owner.label}: ${err.message}`, { cause: err });
  }

  private wrapEofError(err: Error, ex: H1Exchange): Error {
    if (err instanceof IncompleteRead) {
      return new ProtocolError(`${this.owner.label}: Connection broken: ${err.message} (${ex.opts.url})`, {
        cause: err,
      });
    }
    if (!ex.gotBytes) {
      return new ProtocolError(
        `${this.owner.label}: Connection aborted: remote end closed connection without response`,
        { cause: err },
      );
    }
    return this.wrapParseError(err, ex);
  }

  /**
   * 101 Switching Protocols (RFC 9110 section 15.2.2): the socket leaves
   * HTTP/1.1 for the response's RawExtension, which gets the bytes that came
   * after the head first. The session lets go of the socket without closing
   * it and tells its owner it is gone, so the connection leaves its pool for
   * good (the pool may open another); only the extension closes the socket.
   * Honoured once the request is fully sent: a body still uploading would
   * share the socket with the new protocol, so that exchange fails instead.
   */
  private upgrade(ex: H1Exchange, leftover: Buffer | null): void {
    if (!asksUpgrade(ex.opts.headers)) {
      // A 101 nobody asked for: the socket would speak an unknown protocol and belong to no one.
      ex.fail(
        new ProtocolError(
          `${this.owner.label}: the server switched protocols (101) but the request to ${ex.opts.url} ` +
            'asked for no upgrade (no Upgrade header); the connection is closed',
          { permanent: true },
        ),
      );
      return;
    }
    if (ex.upload === Upload.Held || ex.upload === Upload.Streaming || ex.response === null) {
      ex.fail(
        new ProtocolError(
          `${this.owner.label}: the server switched protocols (101) while the request body to ${ex.opts.url} ` +
            'was still being sent; an upgrade needs the whole request sent first ' +
            '(send data after the upgrade with extension.sendPayload())',
        ),
      );
      return;
    }
    const socket = this.socket;
    this.disarmTimer();
    for (const [event, fn] of this.socketListeners) socket.removeListener(event, fn);
    this.detached = true;
    this.reusable = false;
    if (!this.closed) {
      this.closed = true;
      this.owner.sessionClosed(this);
    }
    this.requestsServed++;
    ex.upgradeTo(socket, this.sink, leftover);
  }

  // ---- exchange end ------------------------------------------------------------

  private completeExchange(ex: H1Exchange): void {
    this.requestsServed++;
    ex.complete();
  }

  /** @internal The current exchange failed: the connection cannot be trusted any more. */
  exchangeFailed(): void {
    this.reusable = false;
    this.destroy();
  }

  /** @internal */
  armTimer(readTimeout: number | null): void {
    if (readTimeout !== null && !this.closed) {
      this.socket.setTimeout(Math.max(1, readTimeout));
      this.timerArmed = true;
    }
  }

  /** @internal */
  disarmTimer(): void {
    if (this.timerArmed) {
      this.socket.setTimeout(0);
      this.timerArmed = false;
    }
  }

  /** @internal The response is done with the connection (its body was read to the end). */
  release(ex: H1Exchange): void {
    if (this.ex !== ex) return;
    if (ex.phase !== Phase.Complete) {
      this.discard(ex);
      return;
    }
    this.ex = null;
    if (ex.paused) this.socket.resume();
    if (ex.upload === Upload.Held || ex.upload === Upload.Streaming) this.reusable = false;
    if (this.uncollected === ex) {
      // Nobody has the response yet (it arrived before getResponse()): keep the
      // connection out of the pool until it is collected.
      ex.releaseDeferred = true;
      return;
    }
    this.handBack();
  }

  private handBack(): void {
    if (!this.reusable || this.closed) {
      this.destroy();
      return;
    }
    // Idle keep-alive sockets never hold the process open (as node:http's agent and undici).
    this.unrefd = true;
    this.socket.unref();
    this.owner.sessionIdle(this);
  }

  /** @internal The response was let go before its end: the connection goes. */
  discard(ex: H1Exchange): void {
    // A response of an earlier exchange must not close the connection under a later one.
    if (this.ex !== null && this.ex !== ex) return;
    this.reusable = false;
    if (this.ex !== null && !ex.isOver) {
      ex.error = new ProtocolError(`${this.owner.label}: response released before its body was read`);
      ex.phase = Phase.Failed;
      this.disarmTimer();
    }
    ex.forget();
    this.ex = null;
    this.uncollected = null;
    this.destroy();
  }

  /** Close the transport now. */
  destroy(): void {
    this.reusable = false;
    if (!this.detached && !this.socket.destroyed) this.socket.destroy();
    if (!this.closed) {
      this.closed = true;
      this.owner.sessionClosed(this);
    }
  }
}
