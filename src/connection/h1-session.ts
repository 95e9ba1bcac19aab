// Drives the sans-IO HTTP/1.1 codec (protocol/h1) over one socket: one
// exchange at a time (an exclusive reservation in pool terms). It writes the
// request, feeds socket bytes to the parser, turns parser events into an
// HTTPResponse, applies the read timeout between pieces of the response, and
// decides whether the connection may be reused afterwards. After a 101
// Switching Protocols it lets go of the socket, which becomes the response's
// RawExtension and never returns to a pool.
//
// Parser callbacks only record what happened; anything that can re-enter the
// session (releasing the connection to a pool, which may start the next
// request on it) runs after feed() returns.

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import type { PreparedBody } from '../body/request-body.js';
import { HTTPError, ProtocolError, ReadTimeoutError, RequestAbortedError } from '../errors.js';
import { RawExtension } from '../extension.js';
import { HTTPHeaderDict } from '../headers.js';
import { H1ResponseParser, type ResponseHead } from '../protocol/h1/parser.js';
import { chunkHeader, CRLF, LAST_CHUNK, serializeRequestHead } from '../protocol/h1/serializer.js';
import { HTTPResponse, type ResponseFeeder } from '../response.js';
import type { ConnectionInfo } from './connection-info.js';
import { CONTINUE_TIMEOUT, expectsContinue, waitUntil } from './expect-continue.js';

export type UploadProgress = (
  totalSent: number,
  contentLength: number | null,
  isCompleted: boolean,
  anyError: boolean,
) => void;

export interface ExchangeOptions {
  method: string;
  target: string;
  /** Flat [name, value, ...] pairs, validated by the serializer. */
  headers: string[];
  body: PreparedBody | null;
  chunked: boolean;
  preloadContent: boolean;
  decodeContent: boolean;
  enforceContentLength: boolean;
  readTimeout: number | null;
  signal: AbortSignal | null;
  onUploadBody: UploadProgress | null;
  onEarlyResponse: ((early: HTTPResponse) => void) | null;
  /** For messages: the absolute URL being fetched. */
  url: string;
  connectionInfo: ConnectionInfo | null;
}

/** Callbacks into the owning connection. */
export interface SessionOwner {
  readonly label: string;
  readonly connectionObject: unknown;
  readonly pooled: boolean;
  /** The exchange finished and the connection can take the next request. */
  sessionIdle(session: H1Session): void;
  /** The transport is gone (closed by either side or discarded). */
  sessionClosed(session: H1Session): void;
}

const SMALL_BODY = 64 * 1024;

/**
 * The one read buffer of every plain-TCP HTTP/1.1 socket (Node's `onread`):
 * the kernel fills it and the bytes are handled synchronously inside the
 * read callback, before any other socket's read can overwrite them, so all
 * sockets can share it. Whatever outlives the callback (body bytes, the
 * bytes after a 101) is copied out; the parser copies partial lines itself.
 * 256 KiB: a read of a fast download takes what the kernel has, up to this.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * Where an `onread` socket's bytes go. The socket is created before its
 * session exists; bytes that arrive before a session attaches (a server
 * talking first) are copied, reading stops, and the session gets them when
 * it attaches. After a 101 the upgraded stream's adapter takes over.
 */
export class ReadSink {
  /** Handles `n` bytes at the start of `buf`; false stops reading (resume() restarts). */
  target: ((buf: Buffer, n: number) => boolean) | null = null;
  /** Copies of bytes that came before a target was attached. */
  early: Buffer[] | null = null;

  /** The `onread` option for net.connect(). */
  readonly onread = {
    buffer: SHARED_READ_BUFFER,
    callback: (n: number, buf: Buffer): boolean => {
      const t = this.target;
      if (t !== null) return t(buf, n);
      (this.early ??= []).push(copyOf(buf, 0, n));
      return false;
    },
  };

  /** Bytes kept before attachment, once. */
  takeEarly(): Buffer[] | null {
    const e = this.early;
    this.early = null;
    return e;
  }
}

function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

class Exchange {
  response: HTTPResponse | null = null;
  /**
   * Set while getResponse() waits: for the head, or with `waitBody` (a
   * preloaded response) for the whole body, so that a small response costs
   * one promise however its bytes arrive. Created only when someone waits:
   * an exchange that fails before anyone asks needs no promise at all (and so
   * cannot leave an unhandled rejection behind).
   */
  waitResolve: ((r: HTTPResponse) => void) | null = null;
  waitReject: ((e: Error) => void) | null = null;
  waitBody = false;
  gotBytes = false;
  writeStarted = false;
  completed = false;
  trailers: HTTPHeaderDict | null = null;
  error: Error | null = null;
  abortListener: (() => void) | null = null;
  bodyPaused = false;
  /** The request body is still being written. */
  uploading = false;
  /** The request carries `Expect: 100-continue`; its body waits for the go-ahead. */
  expectContinue = false;
  /** A 100 Continue arrived. */
  continued = false;
  /** Re-checks a waiting upload's condition (100 Continue, final answer, failure). */
  wake: (() => void) | null = null;
  /** The response finished before getResponse() collected it; hand-back waits for collection. */
  releaseDeferred = false;
  constructor(readonly opts: ExchangeOptions) {}
}

/** What send() returns when the request went out in one synchronous write. */
export const SENT: Promise<void> = Promise.resolve();

export class H1Session implements ResponseFeeder {
  readonly socket: Socket;
  private readonly parser: H1ResponseParser;
  private readonly owner: SessionOwner;
  private ex: Exchange | null = null;
  /** The exchange whose response getResponse() has not returned yet. */
  private uncollected: Exchange | null = null;
  /** False once anything says the connection must not carry another request. */
  private reusable = true;
  private closed = false;
  /** After a 101 the socket belongs to the response's extension: never destroyed from here. */
  private detached = false;
  /** The socket listeners, removed when a 101 hands the socket over. */
  private readonly socketListeners: ReadonlyArray<readonly [string, (...args: unknown[]) => void]>;
  private readTimeout: number | null = null;
  private timerArmed = false;
  /** Requests completed on this session. */
  requestsServed = 0;
  /** Set when the socket reads into the shared buffer (`onread`) instead of emitting 'data'. */
  private readonly sink: ReadSink | null;
  /** During a read from the shared buffer: that buffer and how many bytes it holds; else null. */
  private shared: Buffer | null = null;
  private sharedEnd = 0;
  /** The copy of this read's bytes from the first body byte on, and where it starts in the read. */
  private sharedCopy: Buffer | null = null;
  private sharedCopyStart = 0;

  constructor(socket: Socket, owner: SessionOwner, maxHeaderSize: number, sink: ReadSink | null = null) {
    this.socket = socket;
    this.owner = owner;
    this.sink = sink;
    this.parser = new H1ResponseParser(
      {
        onHead: (head) => this.onHead(head),
        onBody: (chunk) => {
          const r = this.ex?.response;
          if (r) r._pushRaw(this.shared === null ? chunk : this.retain(chunk));
        },
        onTrailers: (pairs) => {
          if (this.ex) this.ex.trailers = HTTPHeaderDict.fromRawPairs(pairs);
        },
        onComplete: () => {
          if (this.ex) this.ex.completed = true;
        },
      },
      { maxHeaderSize },
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
  }

  /** A read into the shared buffer: parse it in place, copying out only what is kept. */
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
   * A body piece that lies in the shared buffer, as a view of a copy: the
   * first piece of a read copies everything from it to the end of the read,
   * so a read costs one copy however many pieces (chunks) it holds.
   */
  private retain(chunk: Buffer): Buffer {
    const shared = this.shared!;
    const off = chunk.byteOffset - shared.byteOffset;
    let copy = this.sharedCopy;
    if (copy === null) {
      copy = copyOf(shared, off, this.sharedEnd);
      this.sharedCopy = copy;
      this.sharedCopyStart = off;
    }
    const start = off - this.sharedCopyStart;
    return start === 0 && chunk.length === copy.length ? copy : copy.subarray(start, start + chunk.length);
  }

  get connectionObject(): unknown {
    return this.owner.connectionObject;
  }

  get pooled(): boolean {
    return this.owner.pooled;
  }

  /** Whether the session can take a request now. */
  get isIdle(): boolean {
    return this.ex === null && !this.closed && this.reusable;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get busy(): boolean {
    return this.ex !== null;
  }

  // ---- sending ---------------------------------------------------------------

  /**
   * Start an exchange: write the head and the body. Resolves when the request
   * is fully written (or when the server answered before the upload finished).
   * Not an async function: a request without a streamed body is written
   * synchronously and gets an already-settled promise, without the cost of
   * an async frame per request.
   */
  send(opts: ExchangeOptions): Promise<void> {
    try {
      return this.startExchange(opts);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  private startExchange(opts: ExchangeOptions): Promise<void> {
    if (this.closed) {
      const e = new ProtocolError(`${this.owner.label}: connection closed before the request could be sent`);
      (e as ProtocolError & { requestNotSent?: boolean }).requestNotSent = true;
      throw e;
    }
    if (this.ex !== null || this.uncollected !== null) {
      throw new ProtocolError(
        `${this.owner.label}: a request is already in flight on this connection (call getResponse() and read its body first)`,
      );
    }
    const head = serializeRequestHead(opts.method, opts.target, opts.headers);
    const ex = new Exchange(opts);
    this.ex = ex;
    this.uncollected = ex;
    this.parser.start(opts.method);
    this.readTimeout = opts.readTimeout;
    if (opts.signal !== null) {
      const signal = opts.signal;
      if (signal.aborted) {
        this.abort(ex, signal);
        throw ex.error!;
      }
      ex.abortListener = () => this.abort(ex, signal);
      signal.addEventListener('abort', ex.abortListener, { once: true });
    }
    const info = opts.connectionInfo;
    const started = info !== null ? performance.now() : 0;
    const body = opts.body;
    const sock = this.socket;
    ex.writeStarted = true;
    if (body === null || (body.buffer !== null && body.buffer.length === 0 && !opts.chunked)) {
      sock.write(head, 'latin1');
      this.armTimer();
    } else if (
      body.buffer !== null &&
      !opts.chunked &&
      body.buffer.length <= SMALL_BODY &&
      !expectsContinue(opts.headers)
    ) {
      // Head and a small body in one write: one syscall, one TCP segment.
      const hlen = head.length;
      const buf = Buffer.allocUnsafe(hlen + body.buffer.length);
      buf.write(head, 0, hlen, 'latin1');
      body.buffer.copy(buf, hlen);
      sock.write(buf);
      this.armTimer();
      opts.onUploadBody?.(body.buffer.length, body.length, true, false);
    } else {
      sock.write(head, 'latin1');
      if (expectsContinue(opts.headers)) {
        ex.expectContinue = true;
        // The server's answer (100 or final) is what we wait for: it is under the read timeout.
        this.armTimer();
      }
      return this.upload(ex, body, opts, started);
    }
    if (info !== null) info.requestSentLatency = performance.now() - started;
    return SENT;
  }

  private async upload(
    ex: Exchange,
    body: PreparedBody,
    opts: ExchangeOptions,
    started: number,
  ): Promise<void> {
    ex.uploading = true;
    try {
      if (ex.expectContinue && !(await this.waitForContinue(ex))) {
        // Answered before the body went out (417, 401, a redirect...): that answer is
        // the response and the body is never sent; the server may still expect it,
        // so the connection cannot carry another request.
        this.reusable = false;
        opts.onUploadBody?.(0, body.length, true, false);
        if (ex.error !== null && ex.response === null) throw ex.error;
        return;
      }
      await this.writeBody(ex, body, opts);
    } finally {
      ex.uploading = false;
    }
    this.armTimer();
    if (opts.connectionInfo !== null) opts.connectionInfo.requestSentLatency = performance.now() - started;
  }

  private async writeBody(ex: Exchange, body: PreparedBody, opts: ExchangeOptions): Promise<void> {
    const sock = this.socket;
    let sent = 0;
    const progress = opts.onUploadBody;
    try {
      if (body.buffer !== null) {
        if (opts.chunked) {
          sock.cork();
          if (body.buffer.length > 0) {
            sock.write(chunkHeader(body.buffer.length), 'latin1');
            sock.write(body.buffer);
            sock.write(CRLF);
          }
          sock.write(LAST_CHUNK);
          sock.uncork();
        } else if (!sock.write(body.buffer)) {
          await this.drain(ex);
        }
        sent = body.buffer.length;
        progress?.(sent, body.length, false, false);
      } else if (body.stream !== null) {
        for await (const chunk of body.stream) {
          if (ex.error !== null) throw ex.error;
          if (chunk.length === 0) continue;
          let ok: boolean;
          if (opts.chunked) {
            sock.cork();
            sock.write(chunkHeader(chunk.length), 'latin1');
            sock.write(chunk);
            ok = sock.write(CRLF);
            sock.uncork();
          } else {
            ok = sock.write(chunk);
          }
          sent += chunk.length;
          progress?.(sent, body.length, false, false);
          if (!ok) await this.drain(ex);
          if (ex.completed) break;
        }
        if (ex.completed) {
          // The server answered before the upload ended: the rest of the body is dropped.
          this.reusable = false;
        } else if (opts.chunked && ex.error === null) {
          sock.write(LAST_CHUNK);
        }
        if (!opts.chunked && body.length !== null && sent !== body.length) {
          throw new ProtocolError(
            `${this.owner.label}: request body produced ${sent} bytes but Content-Length is ${body.length}`,
          );
        }
      }
      progress?.(sent, body.length, true, false);
    } catch (err) {
      progress?.(sent, body.length, true, true);
      // The server may have answered (say 413) and closed before the upload ended:
      // that answer is still the response, as in urllib3.
      if (ex.response !== null && ex.error === null) {
        this.reusable = false;
        return;
      }
      const e =
        err instanceof HTTPError
          ? err
          : new ProtocolError(
              `${this.owner.label}: sending the request body failed: ${(err as Error).message}`,
              {
                cause: err,
              },
            );
      this.failExchange(ex, e);
      throw e;
    }
  }

  /**
   * Hold the body back until 100 Continue (true: send it), a final response or
   * a failure (false: do not), or CONTINUE_TIMEOUT of silence (true).
   */
  private async waitForContinue(ex: Exchange): Promise<boolean> {
    const w = waitUntil(
      () => ex.continued || ex.response !== null || ex.error !== null || this.closed,
      CONTINUE_TIMEOUT,
    );
    ex.wake = w.wake;
    await w.promise;
    ex.wake = null;
    return ex.response === null && ex.error === null && !this.closed;
  }

  private drain(ex: Exchange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const sock = this.socket;
      const done = () => {
        sock.removeListener('drain', done);
        sock.removeListener('close', done);
        if (ex.error !== null && ex.response === null) reject(ex.error);
        else if (this.closed && ex.response === null)
          reject(new ProtocolError(`${this.owner.label}: connection closed while sending the request body`));
        else resolve();
      };
      sock.once('drain', done);
      sock.once('close', done);
    });
  }

  /**
   * Wait for the final response head (and the whole body when preloading).
   * When the answer is already here - the usual case for a small preloaded
   * response read in the same socket read as its head - no promise is waited
   * on at all.
   */
  getResponse(): Promise<HTTPResponse> {
    const ex = this.uncollected;
    if (ex === null) {
      return Promise.reject(new ProtocolError(`${this.owner.label}: no request was sent on this connection`));
    }
    this.uncollected = null;
    const resp = ex.response;
    if (ex.releaseDeferred) {
      // The exchange finished before it was collected; the connection can go back to the pool now.
      ex.releaseDeferred = false;
      this.handBack();
    }
    if (resp === null && ex.error !== null) return Promise.reject(ex.error);
    const preload = ex.opts.preloadContent;
    if (resp !== null) {
      if (!preload || resp._tryPreload()) return Promise.resolve(resp);
      // The body is still coming (or being decoded, or failed): _preload() waits for it or throws.
      if (ex.completed || ex.error !== null) return resp._preload().then(() => resp);
    }
    return new Promise<HTTPResponse>((resolve, reject) => {
      ex.waitResolve = resolve;
      ex.waitReject = reject;
      ex.waitBody = preload;
    });
  }

  /** Settles getResponse()'s promise with the response (filling `data` first when preloading). */
  private deliver(ex: Exchange, resp: HTTPResponse): void {
    const resolve = ex.waitResolve!;
    const reject = ex.waitReject!;
    ex.waitResolve = null;
    ex.waitReject = null;
    if (!ex.waitBody || resp._tryPreload()) resolve(resp);
    // A compressed preloaded body is decoded asynchronously after the last byte.
    else resp._preload().then(() => resolve(resp), reject);
  }

  /** Bytes of response seen for the current exchange (the stale-connection rule needs it). */
  get exchangeGotBytes(): boolean {
    return this.ex?.gotBytes ?? false;
  }

  // ---- receiving --------------------------------------------------------------

  private onHead(head: ResponseHead): void {
    const ex = this.ex;
    if (ex === null) return;
    if (head.status < 200 && head.status !== 101) {
      if (head.status === 100) ex.continued = true;
      const cb = ex.opts.onEarlyResponse;
      if (cb !== null) {
        const early = new HTTPResponse({
          status: head.status,
          reason: head.reason,
          version: head.version,
          headers: HTTPHeaderDict.fromRawPairs(head.headers),
          requestMethod: ex.opts.method,
          requestUrl: ex.opts.url,
          preloadContent: true,
          decodeContent: false,
          feeder: null,
          connectionInfo: ex.opts.connectionInfo,
          noBody: true,
        });
        try {
          cb(early);
        } catch {
          // A throwing callback must not break the exchange.
        }
      }
      return;
    }
    if (!head.keepAlive || head.upgrade) this.reusable = false;
    const resp = new HTTPResponse({
      status: head.status,
      reason: head.reason,
      version: head.version,
      headers: HTTPHeaderDict.fromRawPairs(head.headers),
      requestMethod: ex.opts.method,
      requestUrl: ex.opts.url,
      preloadContent: ex.opts.preloadContent,
      decodeContent: ex.opts.decodeContent,
      feeder: this,
      connectionInfo: ex.opts.connectionInfo,
      noBody: head.bodyKind === 'none' || head.upgrade,
    });
    resp._setupDecoding();
    ex.response = resp;
    // A 101's response is delivered once its extension is attached (upgrade()).
    if (ex.waitResolve !== null && !ex.waitBody && !head.upgrade) this.deliver(ex, resp);
  }

  private onData(chunk: Buffer): void {
    const ex = this.ex;
    if (ex === null || ex.completed) {
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
      this.failExchange(ex, this.wrapParseError(err as Error, ex));
      return;
    }
    if (ex.wake !== null) ex.wake();
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
    } else if (this.timerArmed) {
      // Fresh bytes arrived: the socket's inactivity timer restarts by itself.
    }
  }

  private onEnd(): void {
    const ex = this.ex;
    this.reusable = false;
    if (ex === null || ex.completed || ex.error !== null) return;
    try {
      this.parser.finish();
    } catch (err) {
      const e = err as Error;
      if (!ex.opts.enforceContentLength && e.name === 'IncompleteRead' && ex.response !== null) {
        ex.completed = true;
        this.completeExchange(ex);
        return;
      }
      this.failExchange(ex, this.wrapEofError(e, ex));
      return;
    }
    if (ex.completed) this.completeExchange(ex);
  }

  private onSocketError(err: Error): void {
    this.reusable = false;
    const ex = this.ex;
    if (ex !== null && !ex.completed) {
      const e =
        err instanceof HTTPError
          ? err
          : new ProtocolError(`${this.owner.label}: Connection aborted: ${err.message}`, { cause: err });
      this.failExchange(ex, e);
    }
  }

  private onClose(): void {
    this.reusable = false;
    const wasClosed = this.closed;
    this.closed = true;
    const ex = this.ex;
    if (ex !== null && !ex.completed && ex.error === null) {
      // 'end' may not fire on a reset; give the parser its EOF here.
      this.onEnd();
      if (this.ex === ex && !ex.completed && ex.error === null) {
        this.failExchange(
          ex,
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
    if (ex === null || ex.completed || ex.bodyPaused) {
      this.disarmTimer();
      return;
    }
    this.failExchange(
      ex,
      new ReadTimeoutError(
        null,
        ex.opts.url,
        `${this.owner.label}: Read timed out. (read timeout=${this.readTimeout} ms)`,
      ),
    );
  }

  private wrapParseError(err: Error, ex: Exchange): Error {
    if (err instanceof HTTPError) {
      // Name where it happened without losing the type.
      if (!err.message.includes(this.owner.label))
        err.message = `${this.owner.label}: ${err.message} (${ex.opts.url})`;
      return err;
    }
    return new ProtocolError(`${this.owner.label}: ${err.message}`, { cause: err });
  }

  private wrapEofError(err: Error, ex: Exchange): Error {
    if (err.name === 'IncompleteRead') {
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
  private upgrade(ex: Exchange, leftover: Buffer | null): void {
    const resp = ex.response;
    if (ex.uploading || resp === null) {
      this.failExchange(
        ex,
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
    ex.completed = true;
    // An onread socket's readable side stays empty: the extension reads through an adapter.
    const stream: Duplex = this.sink === null ? socket : new SinkDuplex(socket, this.sink);
    resp.extension = new RawExtension(stream, {
      label: this.owner.label,
      url: ex.opts.url,
      readTimeout: ex.opts.readTimeout,
      leftover,
      abort: () => stream.destroy(),
    });
    if (!this.closed) {
      this.closed = true;
      this.owner.sessionClosed(this);
    }
    this.completeExchange(ex);
  }

  // ---- exchange end ------------------------------------------------------------

  private completeExchange(ex: Exchange): void {
    this.disarmTimer();
    this.detachAbort(ex);
    this.requestsServed++;
    const resp = ex.response;
    if (resp !== null) {
      resp._finishRaw(ex.trailers);
      if (ex.waitResolve !== null) this.deliver(ex, resp);
    }
  }

  private failExchange(ex: Exchange, err: Error): void {
    if (ex.error !== null) return;
    ex.error = err;
    this.reusable = false;
    this.disarmTimer();
    this.detachAbort(ex);
    if (ex.waitReject !== null) {
      const reject = ex.waitReject;
      ex.waitResolve = null;
      ex.waitReject = null;
      reject(err);
    }
    if (ex.response !== null) ex.response._fail(err);
    if (ex.wake !== null) ex.wake();
    this.destroy();
  }

  private abort(ex: Exchange, signal: AbortSignal): void {
    this.failExchange(
      ex,
      new RequestAbortedError(`${this.owner.label}: request to ${ex.opts.url} aborted`, {
        cause: signal.reason,
      }),
    );
  }

  private detachAbort(ex: Exchange): void {
    if (ex.abortListener !== null) {
      ex.opts.signal?.removeEventListener('abort', ex.abortListener);
      ex.abortListener = null;
    }
  }

  private armTimer(): void {
    if (this.readTimeout !== null && !this.closed) {
      this.socket.setTimeout(Math.max(1, this.readTimeout));
      this.timerArmed = true;
    }
  }

  private disarmTimer(): void {
    if (this.timerArmed) {
      this.socket.setTimeout(0);
      this.timerArmed = false;
    }
  }

  // ---- ResponseFeeder -------------------------------------------------------------

  pauseBody(): void {
    const ex = this.ex;
    if (ex === null || this.closed) return;
    ex.bodyPaused = true;
    // A paused reader is not a slow server: no read timeout while we hold the socket back.
    this.disarmTimer();
    this.socket.pause();
  }

  resumeBody(): void {
    const ex = this.ex;
    if (ex === null || this.closed) return;
    ex.bodyPaused = false;
    if (!ex.completed) this.armTimer();
    this.socket.resume();
  }

  releaseFromResponse(): void {
    const ex = this.ex;
    if (ex === null) return;
    if (!ex.completed || ex.error !== null) {
      this.discardFromResponse();
      return;
    }
    this.ex = null;
    if (ex.bodyPaused) this.socket.resume();
    if (ex.uploading) this.reusable = false;
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
    this.owner.sessionIdle(this);
  }

  discardFromResponse(): void {
    const ex = this.ex;
    this.reusable = false;
    if (ex !== null && !ex.completed && ex.error === null) {
      ex.error = new ProtocolError(`${this.owner.label}: response released before its body was read`);
      this.detachAbort(ex);
    }
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

/**
 * The upgraded stream of an `onread` socket, as a Duplex: what the socket
 * reads is copied out of the shared buffer and pushed here; when the reader
 * falls behind (push() says so) the socket stops reading until it asks for
 * more, so unread bytes wait in the kernel as they would on the socket
 * itself. Writes, end and destroy go to the socket; the socket's end, error
 * and close come through.
 */
class SinkDuplex extends Duplex {
  private readonly sock: Socket;
  private readonly sink: ReadSink;
  /** Reading stopped because the reader is behind. */
  private held = false;
  /** The socket saw the peer's end. */
  private eof = false;

  constructor(sock: Socket, sink: ReadSink) {
    // Half-open handling is the socket's (allowHalfOpen false: it ends its side on the peer's end).
    super({ allowHalfOpen: false });
    this.sock = sock;
    this.sink = sink;
    sink.target = (buf, n) => this.onRead(buf, n);
    sock.on('end', () => {
      this.eof = true;
      this.push(null);
    });
    sock.on('error', (err: Error) => this.destroy(err));
    sock.on('close', () => {
      // After a clean end the reader may still have bytes to take; the end comes after them.
      if (!this.eof) this.destroy();
    });
  }

  private onRead(buf: Buffer, n: number): boolean {
    if (this.destroyed) return false;
    if (this.push(copyOf(buf, 0, n))) return true;
    this.held = true;
    return false;
  }

  override _read(): void {
    if (this.held) {
      this.held = false;
      if (!this.sock.destroyed) this.sock.resume();
    }
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.sock.destroyed) {
      cb(new ProtocolError('the upgraded socket is closed'));
      return;
    }
    this.sock.write(chunk, encoding, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const sock = this.sock;
    if (sock.destroyed || sock.writableFinished) cb();
    else sock.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.sink.target = null;
    if (!this.sock.destroyed) this.sock.destroy();
    cb(err);
  }
}
