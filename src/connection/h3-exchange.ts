// One request/response on one HTTP/3 request stream (RFC 9114 section 4.1),
// on top of the exchange core: the request head goes out as a QPACK-encoded
// HEADERS frame, the body as DATA frames, and the stream's bytes come back
// through the sans-IO ResponseReader. Pausing the response pauses only this
// stream: its bytes stay in the QUIC stack and flow control holds the server
// back while other streams go on. A stream reset by the server fails the
// exchange with the facts the retry rules read (H3_REQUEST_REJECTED: not
// processed, like HTTP/2's REFUSED_STREAM); an abort resets the stream.
//
// The session may hand the exchange its stream later than it is created, when
// the server's stream limit is reached for a moment (`begin`).

import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { IncompleteRead, markUnprocessed, ProtocolError } from '../errors.js';
import { HTTPHeaderDict } from '../headers.js';
import type { QuicStream } from '../net/quic/quic-transport.js';
import {
  H3_NO_ERROR,
  H3_REQUEST_CANCELLED,
  H3ConnectionError,
  H3StreamError,
  peerResetError,
} from '../protocol/h3/error-codes.js';
import { FRAME_DATA, frameHeader } from '../protocol/h3/frames.js';
import { ResponseReader } from '../protocol/h3/response-reader.js';
import { type BodyWriter, Phase, Upload } from './exchange-core.js';
import { StreamExchange } from './stream-exchange.js';
import { expectsContinue } from './expect-continue.js';
import type { ConnectionInfo } from './connection-info.js';
import type { ResponseLimits } from './response-limits.js';
import type { Exchange, ExchangeRequest } from './session.js';

/** What an exchange needs of its session. */
export interface H3StreamHost {
  readonly label: string;
  readonly connectionObject: unknown;
  readonly pooled: boolean;
  readonly maxHeaderSize: number;
  /** Header field count, interim responses, decoded body size (docs/api.md section 4). */
  readonly limits: ResponseLimits;
  /** Set by GOAWAY: request streams with this id or above were not processed. */
  readonly goawayId: number | null;
  /** Why every stream failed, once the connection did. */
  readonly closeError: Error | null;
  /** The codec found a connection error: close the connection with its code. */
  connectionError(err: H3ConnectionError): void;
  /** A stream of this session is over (once per exchange). */
  streamClosed(ex: H3Exchange, completed: boolean): void;
  /** A response head arrived: complete the ConnectionInfo with what the transport learned since. */
  fillTls(info: ConnectionInfo | null): void;
}

export class H3Exchange extends StreamExchange<H3StreamHost> implements Exchange {
  sent: Promise<void>;
  private stream: QuicStream | null = null;
  private readonly reader: ResponseReader;
  private closedReported = false;
  private contentLength: number | null = null;
  private drainWaiter: (() => void) | null = null;
  private settleSent: { resolve: () => void; reject: (e: Error) => void } | null = null;
  private readonly writer: BodyWriter;

  constructor(
    host: H3StreamHost,
    opts: ExchangeRequest,
    /** The HEADERS frame, encoded. */
    private readonly head: Buffer,
  ) {
    super(host, opts);
    this.reader = new ResponseReader(
      {
        onInterim: (status, fields) => {
          if (this.failOverFieldLimit(fields.length / 2)) return;
          const wants = this.opts.onEarlyResponse !== null;
          this.interim(
            status,
            STATUS_CODES[status] ?? '',
            30,
            wants ? HTTPHeaderDict.fromRawPairs(fields) : null,
          );
        },
        onHead: (status, fields) => {
          if (!this.failOverFieldLimit(fields.length / 2)) this.onHead(status, fields);
        },
        onData: (chunk) => {
          const r = this.response;
          if (r !== null && this.error === null && !r._isRawDone) r._pushRaw(chunk);
        },
        onTrailers: (fields) => {
          if (this.failOverFieldLimit(fields.length / 2, 'trailer')) return;
          this.trailers = HTTPHeaderDict.fromRawPairs(fields);
        },
      },
      host.maxHeaderSize,
    );
    this.writer = {
      selfDelimiting: false,
      write: (chunk) => {
        const s = this.stream!;
        s.write(frameHeader(FRAME_DATA, chunk.length));
        return s.write(chunk);
      },
      drain: () =>
        new Promise<void>((resolve) => {
          const done = () => {
            this.drainWaiter = null;
            this.wake = null;
            resolve();
          };
          this.drainWaiter = done;
          this.wake = done;
        }),
      end: () => this.stream?.end(),
    };
    this.attachAbort();
    this.sent = new Promise<void>((resolve, reject) => {
      this.settleSent = { resolve, reject };
    });
    this.sent.catch(() => {});
  }

  /** The stream id (0, 4, 8...: client bidirectional, RFC 9000 section 2.1); null before it opens. */
  get streamId(): number | null {
    return this.stream?.id ?? null;
  }

  // ---- sending ---------------------------------------------------------------

  /** The session gives the exchange its stream: send the head, then the body. */
  begin(stream: QuicStream): void {
    this.stream = stream;
    stream.setHandlers({
      onData: (chunk) => this.onData(chunk),
      onEnd: () => this.onEnd(),
      onReset: (code) => this.onReset(code),
      onStopSending: (code) => this.onStopSending(code),
      onDrain: () => this.drainWaiter?.(),
    });
    if (this.isOver) {
      // Aborted while waiting for a stream.
      stream.reset(H3_REQUEST_CANCELLED);
      return;
    }
    const body = this.opts.body;
    const noBody = body === null || (body.buffer !== null && body.buffer.length === 0);
    if (noBody) {
      stream.end(this.head);
      if (body !== null) this.opts.onUploadBody?.(0, 0, true, false);
      this.sentOk();
      this.armTimer();
      return;
    }
    stream.write(this.head);
    this.upload = Upload.Streaming;
    this.sendAll().then(
      () => this.sentOk(),
      (e: Error) => this.settleSent?.reject(e),
    );
  }

  private readonly createdAt = performance.now();

  private sentOk(): void {
    const info = this.opts.connectionInfo;
    if (info !== null) info.requestSentLatency = performance.now() - this.createdAt;
    this.settleSent?.resolve();
    this.settleSent = null;
  }

  private async sendAll(): Promise<void> {
    try {
      await this.sendBody(this.opts.body!, this.writer, expectsContinue(this.opts.headers));
    } catch {
      // sendBody failed the exchange; the error is thrown below.
    }
    if (this.error !== null && this.response === null) throw this.error;
    this.armTimer();
  }

  /** The exchange could not get a stream (the connection closed first). */
  failBeforeStream(err: Error): void {
    this.fail(err);
  }

  // ---- receiving --------------------------------------------------------------

  private onData(chunk: Buffer): void {
    this.gotBytes = true;
    this.refreshTimer();
    if (this.isOver) return;
    try {
      this.reader.push(chunk);
    } catch (e) {
      this.codecError(e);
    }
  }

  private onHead(status: number, fields: string[]): void {
    this.host.fillTls(this.opts.connectionInfo);
    const dict = HTTPHeaderDict.fromRawPairs(fields);
    const noBody = this.opts.method === 'HEAD' || status === 204 || status === 304;
    if (!noBody) {
      const cl = dict.get('content-length');
      if (cl !== undefined && /^\d+$/.test(cl.trim())) this.contentLength = Number(cl.trim());
    }
    this.finalHead(status, STATUS_CODES[status] ?? '', 30, dict, noBody, true);
  }

  private onEnd(): void {
    if (this.isOver) {
      this.reportClosed();
      return;
    }
    let complete: boolean;
    try {
      complete = this.reader.end();
    } catch (e) {
      this.codecError(e);
      return;
    }
    if (!complete) {
      this.fail(
        new ProtocolError(
          `${this.label}: the server ended stream ${this.streamId} without a response (${this.opts.url})`,
        ),
      );
      return;
    }
    const cl = this.contentLength;
    const received = this.reader.received;
    if (cl !== null && received !== cl && (received > cl || this.opts.enforceContentLength)) {
      this.fail(this.lengthError(cl, received));
      return;
    }
    this.complete();
  }

  private lengthError(cl: number, received: number): Error {
    if (received > cl) {
      return new ProtocolError(
        `${this.label}: the response body is longer (${received} bytes) than its Content-Length (${cl}) (${this.opts.url})`,
      );
    }
    const cause = new IncompleteRead(received, cl - received);
    return new ProtocolError(`${this.label}: Connection broken: ${cause.message} (${this.opts.url})`, {
      cause,
    });
  }

  private complete(): void {
    const uploading = this.upload === Upload.Held || this.upload === Upload.Streaming;
    this.phase = Phase.Complete;
    if (uploading) {
      // The server answered in full before the upload ended: stop it (RFC 9114 section 4.1).
      this.stream?.reset(H3_NO_ERROR);
    }
    this.streamIsClosed = true;
    this.finish();
    this.reportClosed();
  }

  private onReset(code: number): void {
    this.streamIsClosed = true;
    if (this.isOver) {
      this.reportClosed();
      return;
    }
    this.fail(this.resetError(code));
  }

  private onStopSending(code: number): void {
    // The server wants no more of the body; a response may still come (RFC 9114 section 4.1).
    if (this.upload === Upload.Streaming || this.upload === Upload.Held) this.upload = Upload.Abandoned;
    this.drainWaiter?.();
    this.wakeUp();
    if (code !== H3_NO_ERROR && this.response === null && !this.isOver) this.fail(this.resetError(code));
  }

  /** Why the stream broke: a reset code from the server, or -1 when the whole connection went. */
  private resetError(code: number): Error {
    const where = `${this.label}: stream ${this.streamId} (${this.opts.url})`;
    const goaway = this.host.goawayId;
    const id = this.streamId;
    if (goaway !== null && id !== null && id >= goaway && !this.gotBytes) {
      return markUnprocessed(
        new ProtocolError(
          `${this.label}: the server is going away (GOAWAY, first unprocessed stream ${goaway}); the request was not processed (${this.opts.url})`,
        ),
      );
    }
    if (code === -1) {
      const cause = this.host.closeError;
      return new ProtocolError(
        `${this.label}: Connection aborted: ${cause?.message ?? 'the QUIC connection closed'} (${this.opts.url})`,
        { cause: cause ?? undefined },
      );
    }
    return peerResetError(code, where, this.gotBytes);
  }

  private codecError(e: unknown): void {
    const err = e as Error;
    const wrapped = new ProtocolError(`${this.label}: ${err.message} (${this.opts.url})`, { cause: err });
    if (e instanceof H3ConnectionError) {
      this.fail(wrapped);
      this.host.connectionError(e);
      return;
    }
    if (e instanceof H3StreamError && !this.streamIsClosed) {
      this.streamIsClosed = true;
      this.stream?.reset(e.h3Code);
    }
    this.fail(wrapped);
  }

  protected afterFail(): void {
    if (!this.streamIsClosed) {
      this.streamIsClosed = true;
      this.stream?.reset(H3_REQUEST_CANCELLED);
    }
    this.drainWaiter?.();
    this.settleSent?.reject(this.error!);
    this.settleSent = null;
    this.reportClosed();
  }

  private reportClosed(): void {
    if (this.closedReported || !this.isOver) return;
    this.closedReported = true;
    this.host.streamClosed(this, this.phase === Phase.Complete);
    const done = this.opts.onDone;
    if (done !== null) {
      this.opts.onDone = null;
      done();
    }
  }

  protected pauseTransport(): void {
    this.stream?.pause();
  }

  protected resumeTransport(): void {
    this.stream?.resume();
  }

  // ---- ResponseFeeder -------------------------------------------------------------

  protected cancelStream(): void {
    // Only this stream goes; the connection carries on.
    if (!this.streamIsClosed) {
      this.streamIsClosed = true;
      this.stream?.reset(H3_REQUEST_CANCELLED);
    }
    this.reportClosed();
  }
}
