// One request/response on one HTTP/2 stream (RFC 9113 section 8.1), on top
// of the exchange core: this file maps Node's stream events onto the core's
// steps and decides what a stream's end or reset means. Pausing the response
// pauses only this stream (Node then stops returning flow-control credit for
// it, so the server stops sending on it while other streams go on). An
// accepted extended CONNECT (RFC 8441) hands the stream to the response's
// RawExtension; it keeps its slot on the connection until it closes.

import { STATUS_CODES } from 'node:http';
import http2, { type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { performance } from 'node:perf_hooks';
import { IncompleteRead, markUnprocessed, ProtocolError } from '../errors.js';
import { type BodyWriter, Phase, Upload } from './exchange-core.js';
import { StreamExchange } from './stream-exchange.js';
import { expectsContinue } from './expect-continue.js';
import { codeName, headerDict, headerListSize } from './h2-headers.js';
import type { ResponseLimits } from './response-limits.js';
import { type Exchange, type ExchangeRequest, SENT } from './session.js';

const {
  NGHTTP2_NO_ERROR,
  NGHTTP2_PROTOCOL_ERROR,
  NGHTTP2_REFUSED_STREAM,
  NGHTTP2_CANCEL,
  HTTP2_HEADER_STATUS,
} = http2.constants;

/** What an exchange needs of the session its stream belongs to. */
export interface H2StreamHost {
  readonly label: string;
  readonly connectionObject: unknown;
  readonly pooled: boolean;
  readonly isClosed: boolean;
  /** The connection under the session is gone or going (socket destroyed, session closing). */
  readonly transportGone: boolean;
  /** Set by GOAWAY: streams above lastStreamId were not processed. */
  readonly goaway: { code: number; lastStreamId: number } | null;
  /** Why streams fail when the whole connection failed. */
  readonly sessionError: Error | null;
  readonly maxHeaderSize: number;
  readonly limits: ResponseLimits;
  /** A stream of this session closed. */
  streamClosed(completed: boolean): void;
}

/** Where a stream's shared listeners find their exchange. */
const EXCHANGE = Symbol('exchange');
type ExchangeStream = ClientHttp2Stream & { [EXCHANGE]: H2Exchange };

export class H2Exchange extends StreamExchange<H2StreamHost> implements Exchange {
  sent: Promise<void>;
  private readonly stream: ClientHttp2Stream;
  private streamError: Error | null = null;
  private received = 0;
  /**
   * DATA that came before the 'response' event: node:http2 emits 'response'
   * on the next tick, so when several frames are parsed in one go (the GOAWAY
   * watch feeds the session from JavaScript) the body can overtake its head.
   */
  private early: Buffer[] | null = null;
  /**
   * Set while the early DATA (and the stream's end or close, if they came in
   * the same read) waits for the next turn of the event loop after the head:
   * the caller sees the response before its body completes and releases the
   * connection, as when each frame arrives in a read of its own.
   */
  private held: { end: boolean; close: boolean } | null = null;
  private contentLength: number | null = null;
  /**
   * The readable side ended because the stream closed, not because the peer
   * sent END_STREAM. Node ends the readable side the same way in both cases
   * (with rstCode NO_ERROR); only whether the stream was already closed when
   * the end was pushed tells them apart.
   */
  private endedByClose = false;
  /** The request is an extended CONNECT (an `Upgrade` request, RFC 8441). */
  private readonly tunnel: boolean;
  /** Whether the end of the readable side was pushed yet (see endedByClose). */
  private eofSeen = false;
  /** The stream's own push(), which watchedPush wraps. */
  private readonly streamPush: ClientHttp2Stream['push'];

  constructor(
    host: H2StreamHost,
    stream: ClientHttp2Stream,
    opts: ExchangeRequest,
    endStream: boolean,
    tunnel: boolean,
  ) {
    super(host, opts);
    this.stream = stream;
    this.tunnel = tunnel;
    // An extended CONNECT has no body to upload, though its side of the stream stays open.
    this.upload = endStream || tunnel ? Upload.None : Upload.Streaming;
    // The listeners are shared functions that find this exchange on the stream: no closures per stream.
    (stream as ExchangeStream)[EXCHANGE] = this;
    stream.on('headers', H2Exchange.onStreamHeaders);
    // node:http2 reports a 100 as 'continue' (only an Expect: 100-continue upload waits for one).
    const expect = this.upload === Upload.Streaming && expectsContinue(opts.headers);
    if (expect) {
      stream.on('continue', () => {
        if (this.upload === Upload.Held) this.upload = Upload.Streaming;
        this.wakeUp();
      });
    }
    stream.on('response', H2Exchange.onStreamResponse);
    stream.on('data', H2Exchange.onStreamData);
    stream.on('trailers', H2Exchange.onStreamTrailers);
    stream.on('end', H2Exchange.onStreamEnd);
    this.streamPush = stream.push;
    stream.push = H2Exchange.watchedPush;
    stream.on('error', H2Exchange.onStreamError);
    stream.on('close', H2Exchange.onStreamClosed);
    this.attachAbort();
    if (this.upload === Upload.Streaming && opts.body !== null) {
      this.sent = this.start(expect);
      // The pool awaits `sent` only for its outcome; a failure also reaches getResponse().
      this.sent.catch(() => {});
    } else {
      // Nothing to upload: the request is on its way already (no promise for the pool to wait on).
      this.sent = this.headOnly();
    }
  }

  // ---- the stream's listeners: shared functions, `this` is the stream ----------------

  // (Function expressions in static fields: Node calls them with the stream as `this`.)
  private static readonly onStreamHeaders = function (
    this: ExchangeStream,
    headers: IncomingHttpHeaders,
    _f: number,
    raw?: string[],
  ): void {
    this[EXCHANGE].onInformational(headers, raw);
  };

  private static readonly onStreamResponse = function (
    this: ExchangeStream,
    headers: IncomingHttpHeaders,
    flags: number,
    raw?: string[],
  ): void {
    this[EXCHANGE].onResponse(headers, flags, raw);
  };

  private static readonly onStreamData = function (this: ExchangeStream, chunk: Buffer): void {
    this[EXCHANGE].onData(chunk);
  };

  private static readonly onStreamTrailers = function (
    this: ExchangeStream,
    headers: IncomingHttpHeaders,
    _f: number,
    raw?: string[],
  ): void {
    const ex = this[EXCHANGE];
    if (!ex.tooManyFields(raw, 'trailer')) ex.trailers = headerDict(raw, headers);
  };

  private static readonly onStreamEnd = function (this: ExchangeStream): void {
    this[EXCHANGE].onEnd();
  };

  private static readonly onStreamError = function (this: ExchangeStream, err: Error): void {
    const ex = this[EXCHANGE];
    ex.streamError ??= err;
  };

  private static readonly onStreamClosed = function (this: ExchangeStream): void {
    this[EXCHANGE].onStreamClose();
  };

  /** The stream's push(), watched for the end of the readable side (see endedByClose). */
  private static readonly watchedPush = function (
    this: ExchangeStream,
    chunk: unknown,
    encoding?: BufferEncoding,
  ): boolean {
    const ex = this[EXCHANGE];
    if (chunk === null && !ex.eofSeen) {
      ex.eofSeen = true;
      ex.endedByClose = this.closed;
    }
    return ex.streamPush.call(this, chunk, encoding);
  };

  /** The stream id (odd numbers, RFC 9113 section 5.1.1); null before it is assigned. */
  get streamId(): number | null {
    return this.stream.id ?? null;
  }

  // ---- sending ---------------------------------------------------------------

  /** Send the body (after a 100 Continue when `expect`); settles when the request is on its way. */
  private async start(expect: boolean): Promise<void> {
    const opts = this.opts;
    const info = opts.connectionInfo;
    const started = info !== null ? performance.now() : 0;
    try {
      const stream = this.stream;
      const writer: BodyWriter = {
        selfDelimiting: false,
        write: (chunk) => stream.write(chunk),
        drain: () => this.drain(),
        end: () => {
          stream.end();
        },
      };
      await this.sendBody(opts.body!, writer, expect);
    } catch {
      // sendBody failed the exchange; the error is thrown below.
    }
    if (this.error !== null && this.response === null) throw this.error;
    if (info !== null) info.requestSentLatency = performance.now() - started;
    this.armTimer();
  }

  /** A request whose head (with END_STREAM, or an extended CONNECT) is all there is to send. */
  private headOnly(): Promise<void> {
    const opts = this.opts;
    if (opts.body !== null) opts.onUploadBody?.(0, opts.body.length, true, false);
    if (this.error !== null && this.response === null) {
      const failed = Promise.reject(this.error);
      failed.catch(() => {});
      return failed;
    }
    if (opts.connectionInfo !== null) opts.connectionInfo.requestSentLatency = 0;
    this.armTimer();
    return SENT;
  }

  private drain(): Promise<void> {
    return new Promise<void>((resolve) => {
      const stream = this.stream;
      const done = () => {
        stream.removeListener('drain', done);
        this.wake = null;
        resolve();
      };
      stream.once('drain', done);
      this.wake = done;
    });
  }

  // ---- receiving --------------------------------------------------------------

  private onInformational(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    this.gotBytes = true;
    if (this.tooManyFields(raw)) return;
    this.refreshTimer();
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    if (!(status >= 100 && status < 200) || status === 101) return;
    const wants = this.opts.onEarlyResponse !== null;
    this.interim(status, STATUS_CODES[status] ?? '', 20, wants ? headerDict(raw, headers) : null);
  }

  private onResponse(headers: IncomingHttpHeaders, flags: number, raw: string[] | undefined): void {
    if (this.error !== null) return;
    this.gotBytes = true;
    this.refreshTimer();
    if (headerListSize(raw) > this.host.maxHeaderSize) {
      this.fail(
        new ProtocolError(
          `${this.label}: response header block is larger than maxHeaderSize (${this.host.maxHeaderSize} bytes)`,
        ),
      );
      return;
    }
    if (this.tooManyFields(raw)) return;
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 || this.stream.endAfterHeaders;
    // A 2xx to an extended CONNECT opens the tunnel: what follows is the new protocol, not a body.
    const tunnel = this.tunnel && status >= 200 && status < 300;
    const noBody = this.opts.method === 'HEAD' || status === 204 || status === 304 || endStream || tunnel;
    const dict = headerDict(raw, headers);
    if (!noBody) {
      const cl = dict.get('content-length');
      if (cl !== undefined && /^\d+$/.test(cl.trim())) this.contentLength = Number(cl.trim());
    }
    const resp = this.finalHead(status, STATUS_CODES[status] ?? '', 20, dict, noBody, !tunnel);
    if (tunnel) this.openTunnel();
    const early = this.early;
    if (early === null) return;
    this.early = null;
    if (tunnel) {
      // The new protocol's first bytes: the extension reads them before the stream's own.
      this.stream.unshift(Buffer.concat(early));
      return;
    }
    const held = { end: false, close: false };
    this.held = held;
    setImmediate(() => {
      this.held = null;
      const more = this.early;
      this.early = null;
      for (const chunk of more === null ? early : early.concat(more)) {
        if (this.error === null && !resp._isRawDone) resp._pushRaw(chunk);
      }
      if (held.end) this.onEnd();
      if (held.close) this.onStreamClose();
    });
  }

  /** More regular fields than maxHeaderFields (docs/api.md section 4): the exchange fails. */
  private tooManyFields(raw: string[] | undefined, section: 'header' | 'trailer' = 'header'): boolean {
    if (raw === undefined || raw.length <= 2 * this.limits.maxHeaderFields) return false;
    let n = 0;
    for (let i = 0; i < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 0x3a) n++;
    return this.failOverFieldLimit(n, section);
  }

  /**
   * The extended CONNECT was accepted: the stream goes on as the response's
   * RawExtension. It keeps its slot on the connection (the pool's lease ends
   * when the stream closes); closing or releasing the response leaves it alone.
   */
  private openTunnel(): void {
    const stream = this.stream;
    stream.removeListener('data', H2Exchange.onStreamData);
    stream.removeListener('end', H2Exchange.onStreamEnd);
    this.handOver(stream, {
      abort: () => {
        if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
      },
      // A reset (RFC 8441 section 5: the HTTP/2 image of a TCP RST) ends the stream like END_STREAM.
      endError: () => {
        const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
        if (!this.endedByClose || code === NGHTTP2_NO_ERROR) return null;
        const sessionError = this.host.sessionError;
        const why =
          this.host.isClosed || sessionError !== null || stream.session?.destroyed !== false
            ? `the connection closed${sessionError !== null ? `: ${sessionError.message}` : ''}`
            : `it was reset with ${codeName(code)}`;
        return new ProtocolError(
          `${this.label}: the upgraded stream ${stream.id} to ${this.opts.url} broke: ${why}`,
          { cause: sessionError ?? this.streamError ?? undefined },
        );
      },
    });
  }

  private onData(chunk: Buffer): void {
    this.gotBytes = true;
    this.refreshTimer();
    this.received += chunk.length;
    const r = this.response;
    if (r === null || this.held !== null) {
      if (this.error === null) (this.early ??= []).push(chunk);
      return;
    }
    if (this.error === null && !r._isRawDone) r._pushRaw(chunk);
  }

  private onEnd(): void {
    if (this.held !== null) {
      this.held.end = true;
      return;
    }
    if (this.isOver) return;
    // Node ends the readable side of a reset stream too: that is a failure, decided on 'close'.
    const rst = this.stream.rstCode;
    if (this.stream.aborted || (rst !== undefined && rst !== NGHTTP2_NO_ERROR)) return;
    if (this.endedByClose) {
      // RST_STREAM(NO_ERROR), or the connection going, before END_STREAM: the response is cut short.
      const broken = this.brokenConnectionError();
      if (broken !== null) {
        this.fail(broken);
        return;
      }
      this.fail(
        new ProtocolError(
          `${this.label}: the server closed stream ${this.stream.id} before the response was complete ` +
            `(${this.received} body bytes received) (${this.opts.url})`,
          { cause: this.host.sessionError ?? undefined },
        ),
      );
      return;
    }
    if (this.response === null) {
      this.fail(new ProtocolError(`${this.label}: the stream ended without a response`));
      return;
    }
    const cl = this.contentLength;
    if (cl !== null && this.received !== cl) {
      if (this.received > cl || this.opts.enforceContentLength) {
        this.fail(this.lengthError(cl));
        return;
      }
    }
    this.complete();
  }

  private lengthError(cl: number): Error {
    if (this.received > cl) {
      return new ProtocolError(
        `${this.label}: the response body is longer (${this.received} bytes) than its Content-Length (${cl}) (${this.opts.url})`,
      );
    }
    const cause = new IncompleteRead(this.received, cl - this.received);
    return new ProtocolError(`${this.label}: Connection broken: ${cause.message} (${this.opts.url})`, {
      cause,
    });
  }

  private complete(): void {
    const uploading = this.upload === Upload.Held || this.upload === Upload.Streaming;
    this.phase = Phase.Complete;
    if (uploading && !this.streamIsClosed) {
      // The server answered in full before the upload ended: stop it (RFC 9113 section 8.1).
      this.stream.close(NGHTTP2_NO_ERROR);
    } else if (this.tunnel && !this.streamIsClosed) {
      // A refused extended CONNECT: our side, left open for the tunnel, ends too.
      this.stream.end();
    }
    this.releaseSlot();
    this.finish();
  }

  private onStreamClose(): void {
    if (this.held !== null) {
      this.held.close = true;
      return;
    }
    this.streamIsClosed = true;
    this.disarmTimer();
    if (!this.isOver) {
      // nghttp2 resets a stream whose body is shorter than its Content-Length;
      // without enforceContentLength what arrived is the body, as on HTTP/1.1.
      if (this.isShortBody(this.stream.rstCode ?? 0) && !this.opts.enforceContentLength) this.complete();
      else this.fail(this.closeError());
    }
    this.detachAbort();
    this.wakeUp();
    this.host.streamClosed(this.phase === Phase.Complete || this.phase === Phase.Upgraded);
    this.releaseSlot();
  }

  /**
   * Free the pool's slot: once the response is complete or the stream
   * failed (it is closed, or reset by us, from the protocol's view), even
   * if Node's 'close' event comes a little later. An upgraded stream keeps
   * its slot until it closes.
   */
  private releaseSlot(): void {
    if (this.phase === Phase.Upgraded && !this.streamIsClosed) return;
    const done = this.opts.onDone;
    if (done !== null) {
      this.opts.onDone = null;
      done();
    }
  }

  /** The stream was reset because its body fell short of Content-Length. */
  private isShortBody(code: number): boolean {
    return (
      this.response !== null &&
      code === NGHTTP2_PROTOCOL_ERROR &&
      this.contentLength !== null &&
      this.received < this.contentLength
    );
  }

  /** Why a stream closed before its response was complete. */
  private closeError(): Error {
    const stream = this.stream;
    const id = stream.id;
    const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
    const goaway = this.host.goaway;
    const label = this.label;
    if (
      code === NGHTTP2_REFUSED_STREAM ||
      id === undefined ||
      (goaway !== null && id > goaway.lastStreamId && !this.gotBytes)
    ) {
      const why =
        code === NGHTTP2_REFUSED_STREAM
          ? 'the server refused the stream (REFUSED_STREAM)'
          : goaway !== null
            ? `the server is going away (GOAWAY, last stream ${goaway.lastStreamId})`
            : 'the connection closed before the stream was opened';
      return markUnprocessed(
        new ProtocolError(`${label}: ${why}; the request was not processed (${this.opts.url})`, {
          cause: this.streamError ?? undefined,
        }),
      );
    }
    if (this.isShortBody(code)) return this.resetLengthError(this.contentLength!);
    const broken = this.brokenConnectionError();
    if (broken !== null) return broken;
    const sessionError = this.host.sessionError;
    // Node cancels the streams of a connection that went away under them (the server
    // closed it, perhaps before these streams even reached it): not the server's reset.
    if (sessionError !== null || (code === NGHTTP2_CANCEL && this.host.transportGone)) {
      const why = sessionError?.message ?? 'the connection closed';
      return new ProtocolError(`${label}: Connection aborted: ${why} (${this.opts.url})`, {
        cause: sessionError ?? this.streamError ?? undefined,
      });
    }
    const local = this.streamError as NodeJS.ErrnoException | null;
    if (local !== null && local.code !== 'ERR_HTTP2_STREAM_ERROR') {
      // Node itself ended the stream (its flood or memory guards, a frame it could not send):
      // not the server's reset, whatever code it put on the stream.
      return new ProtocolError(
        `${label}: stream ${id} was closed by the client: ${local.message} (${this.opts.url})`,
        {
          cause: local,
        },
      );
    }
    // The server answered this stream, with a reset: the request reached it, so the
    // stale-connection re-send does not apply; only the Retry settings decide (docs/api.md section 6).
    this.gotBytes = true;
    if (code === NGHTTP2_NO_ERROR) {
      return new ProtocolError(
        `${label}: the server closed stream ${id} before the response was complete (${this.opts.url})`,
        { cause: this.streamError ?? undefined },
      );
    }
    return new ProtocolError(
      `${label}: stream ${id} was reset by the server with ${codeName(code)} (${this.opts.url})`,
      {
        cause: this.streamError ?? undefined,
      },
    );
  }

  /** The client found the connection broken (a connection error it detected): the session's error says how. */
  private brokenConnectionError(): Error | null {
    const e = this.host.sessionError;
    if (!(e instanceof ProtocolError)) return null;
    return new ProtocolError(`${e.message} (${this.opts.url})`, { cause: e });
  }

  /**
   * nghttp2 reset the stream with PROTOCOL_ERROR because its DATA did not
   * match Content-Length: too short at END_STREAM, or a frame that would go
   * past it (which is dropped, so `received` alone cannot tell which).
   */
  private resetLengthError(cl: number): Error {
    const cause = new IncompleteRead(this.received, cl - this.received);
    return new ProtocolError(
      `${this.label}: the response body did not match its Content-Length (${cl}): the stream was reset ` +
        `(PROTOCOL_ERROR) after ${this.received} body bytes, the server sent fewer or more than it announced (${this.opts.url})`,
      { cause },
    );
  }

  protected afterFail(): void {
    if (!this.streamIsClosed && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.releaseSlot();
  }

  protected pauseTransport(): void {
    this.stream.pause();
  }

  protected resumeTransport(): void {
    this.stream.resume();
  }

  // ---- ResponseFeeder -------------------------------------------------------------

  protected cancelStream(): void {
    // Only this stream goes: RST_STREAM CANCEL; the connection carries on.
    if (!this.streamIsClosed && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.releaseSlot();
  }
}
