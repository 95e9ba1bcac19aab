// What every protocol's exchange does the same way (docs/architecture.md,
// "the exchange core"): interim (1xx) responses, building the final
// HTTPResponse, handing it to getResponse() (at the head, or once the body is
// in when preloading), the upload loop with its progress callbacks and error
// messages, waiting for `100 Continue`, abort wiring, the read-timeout error,
// and pausing a body the reader is not keeping up with. A protocol subclass
// supplies the transport-specific parts: a BodyWriter for the request body
// (chunked framing stays in HTTP/1.1's), how its read timer is armed, how its
// transport is paused, and what happens to the connection when the exchange
// fails, completes or is released.
//
// An exchange's life is two named state machines, as h11 keeps one per side:
// `phase` for the response (waiting -> receiving -> complete, or failed, or
// upgraded) and `upload` for the request body (none / held for 100-continue /
// streaming / done / abandoned when the server answered first).

import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { PreparedBody } from '../body/request-body.js';
import { HTTPError, ProtocolError, ReadTimeoutError, RequestAbortedError } from '../errors.js';
import { RawExtension, type RawExtensionInit } from '../extension.js';
import type { HTTPHeaderDict } from '../headers.js';
import { HTTPResponse } from '../response.js';
import type { ResponseFeeder } from '../response-feeder.js';
import { CONTINUE_TIMEOUT, waitUntil } from './expect-continue.js';
import { DEFAULT_LIMITS, type ResponseLimits } from './response-limits.js';
import type { ExchangeRequest } from './session.js';

/** The response side of an exchange. */
export const Phase = {
  /** No final response head yet (interim 1xx responses may have come). */
  Waiting: 'waiting',
  /** The final head is in; the body is arriving. */
  Receiving: 'receiving',
  /** The response arrived to its end. */
  Complete: 'complete',
  /** The exchange failed (its error is `error`). */
  Failed: 'failed',
  /** The transport (or stream) now belongs to the response's RawExtension. */
  Upgraded: 'upgraded',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** The request-body side of an exchange. */
export const Upload = {
  /** Nothing left to send after the head (no body, or it went with the head). */
  None: 'none',
  /** `Expect: 100-continue`: the body waits for the server's go-ahead. */
  Held: 'held',
  /** The body is being written. */
  Streaming: 'streaming',
  /** The whole body was written. */
  Done: 'done',
  /** The server answered before the body was all sent; the rest is dropped. */
  Abandoned: 'abandoned',
} as const;
export type Upload = (typeof Upload)[keyof typeof Upload];

/** How a protocol writes request-body bytes. */
export interface BodyWriter {
  /** Write one piece; false asks the caller to await drain() before the next. */
  write(chunk: Buffer): boolean;
  /** Settles when more may be written (or the exchange ended). */
  drain(): Promise<void>;
  /** The body is complete: end its framing (the last chunk, END_STREAM). */
  end(): void;
  /** Whether the framing carries the length itself (chunked), so no Content-Length check. */
  readonly selfDelimiting: boolean;
}

export abstract class ExchangeCore implements ResponseFeeder {
  readonly opts: ExchangeRequest;
  phase: Phase = Phase.Waiting;
  upload: Upload = Upload.None;
  response: HTTPResponse | null = null;
  error: Error | null = null;
  trailers: HTTPHeaderDict | null = null;
  /** Some byte of the response arrived. */
  gotBytes = false;
  /** The reader paused the body: no read timeout while we hold the transport back. */
  paused = false;
  /** getResponse() was called. */
  protected collected = false;
  /**
   * Set while getResponse() waits: for the head, or with `waitBody` (a
   * preloaded response) for the whole body. Created only when someone
   * waits, so an exchange that fails before anyone asks leaves no
   * unhandled rejection behind.
   */
  private waitResolve: ((r: HTTPResponse) => void) | null = null;
  private waitReject: ((e: Error) => void) | null = null;
  private waitBody = false;
  private abortListener: (() => void) | null = null;
  /** Re-checks a waiting upload's condition (drain, 100 Continue, final answer, failure). */
  protected wake: (() => void) | null = null;
  /** Interim (1xx) responses seen, and when the first came (performance.now()). */
  private interims = 0;
  private firstInterimAt = 0;

  constructor(
    opts: ExchangeRequest,
    protected readonly label: string,
    protected readonly limits: ResponseLimits = DEFAULT_LIMITS,
  ) {
    this.opts = opts;
  }

  // ---- what a protocol supplies ------------------------------------------------

  /** The object exposed as `response.connection`. */
  abstract readonly connectionObject: unknown;
  /** Whether releasing hands the connection to a pool. */
  abstract readonly pooled: boolean;
  /** Start (or restart) the read timer; the core calls it only when one is wanted. */
  protected abstract armTimer(): void;
  protected abstract disarmTimer(): void;
  /** Stop / restart reading from the transport (backpressure). */
  protected abstract pauseTransport(): void;
  protected abstract resumeTransport(): void;
  /** The transport (or stream) is closed: nothing more can be sent. */
  protected abstract get transportClosed(): boolean;
  /** Protocol teardown after the exchange failed (close the stream or the connection). */
  protected abstract afterFail(err: Error): void;
  abstract releaseFromResponse(): void;
  abstract discardFromResponse(): void;

  get gotResponseBytes(): boolean {
    return this.gotBytes;
  }

  /** The response arrived to its end. */
  get completed(): boolean {
    return this.phase === Phase.Complete;
  }

  /** The response is settled one way or another: complete, failed or upgraded. */
  get isOver(): boolean {
    const p = this.phase;
    return p === Phase.Complete || p === Phase.Failed || p === Phase.Upgraded;
  }

  // ---- aborts --------------------------------------------------------------------

  /** Listen to the request's signal; false when it is already aborted (the exchange failed). */
  protected attachAbort(): boolean {
    const signal = this.opts.signal;
    if (signal === null) return true;
    if (signal.aborted) {
      this.fail(this.abortError());
      return false;
    }
    this.abortListener = () => this.fail(this.abortError());
    signal.addEventListener('abort', this.abortListener, { once: true });
    return true;
  }

  protected detachAbort(): void {
    if (this.abortListener !== null) {
      this.opts.signal?.removeEventListener('abort', this.abortListener);
      this.abortListener = null;
    }
  }

  protected abortError(): RequestAbortedError {
    return new RequestAbortedError(`${this.label}: request to ${this.opts.url} aborted`, {
      cause: this.opts.signal?.reason,
    });
  }

  // ---- receiving -------------------------------------------------------------------

  /**
   * An interim (1xx) response other than 101: a 100 releases a held body,
   * and `onEarlyResponse` sees every one. `headers` is null when nobody
   * listens (callers build it only when `opts.onEarlyResponse` is set).
   */
  protected interim(
    status: number,
    reason: string,
    version: 11 | 20 | 30,
    headers: HTTPHeaderDict | null,
  ): void {
    if (!this.interimAllowed()) return;
    if (status === 100 && this.upload === Upload.Held) {
      this.upload = Upload.Streaming;
      this.wakeUp();
    }
    const cb = this.opts.onEarlyResponse;
    if (cb === null || headers === null) return;
    const early = new HTTPResponse({
      status,
      reason,
      version,
      headers,
      requestMethod: this.opts.method,
      requestUrl: this.opts.url,
      preloadContent: true,
      decodeContent: false,
      feeder: null,
      connectionInfo: this.opts.connectionInfo,
      noBody: true,
    });
    try {
      cb(early);
    } catch {
      // A throwing callback must not break the exchange.
    }
  }

  /**
   * Limits on interim responses (docs/api.md section 4): at most
   * `maxInterimResponses` of them, and they do not keep a request alive past
   * its read timeout: the final head must come within the read timeout of the
   * first interim one, however many arrive in between. False when the
   * exchange failed.
   */
  private interimAllowed(): boolean {
    const n = ++this.interims;
    if (n > this.limits.maxInterimResponses) {
      this.fail(
        new ProtocolError(
          `${this.label}: the server sent more than ${this.limits.maxInterimResponses} interim (1xx) responses ` +
            `to ${this.opts.url} (maxInterimResponses)`,
          { permanent: true },
        ),
      );
      return false;
    }
    const readTimeout = this.opts.readTimeout;
    if (readTimeout === null) return true;
    const now = performance.now();
    if (n === 1) {
      this.firstInterimAt = now;
    } else if (now - this.firstInterimAt >= readTimeout) {
      this.fail(
        new ReadTimeoutError(
          null,
          this.opts.url,
          `${this.label}: Read timed out. (read timeout=${readTimeout} ms; ${n} interim responses ` +
            'but no final response within it)',
        ),
      );
      return false;
    }
    return true;
  }

  /**
   * The final response head: builds the HTTPResponse fed by this exchange.
   * `deliverNow` hands it to a waiting getResponse() at once (not when
   * preloading, nor for an upgrade, whose response waits for its extension).
   */
  protected finalHead(
    status: number,
    reason: string,
    version: 10 | 11 | 20 | 30,
    headers: HTTPHeaderDict,
    noBody: boolean,
    deliverNow: boolean,
  ): HTTPResponse {
    const resp = new HTTPResponse({
      status,
      reason,
      version,
      headers,
      requestMethod: this.opts.method,
      requestUrl: this.opts.url,
      preloadContent: this.opts.preloadContent,
      decodeContent: this.opts.decodeContent,
      feeder: this,
      connectionInfo: this.opts.connectionInfo,
      noBody,
    });
    const maxSize = this.limits.maxResponseSize;
    if (maxSize !== null) resp._maxSize = maxSize;
    resp._setupDecoding();
    this.response = resp;
    this.phase = Phase.Receiving;
    if (deliverNow && this.waitResolve !== null && !this.waitBody) this.deliver(resp);
    this.wakeUp();
    return resp;
  }

  /** The response arrived to its end (`phase` is set by the caller for upgrades). */
  protected finish(): void {
    if (this.phase !== Phase.Upgraded) this.phase = Phase.Complete;
    this.disarmTimer();
    this.detachAbort();
    this.wakeUp();
    const resp = this.response;
    if (resp !== null) {
      resp._finishRaw(this.trailers);
      if (this.waitResolve !== null) this.deliver(resp);
    }
  }

  /**
   * The one hand-over path of both upgrades (a 101 on HTTP/1.1, an accepted
   * extended CONNECT on HTTP/2): the exchange is over and its transport (or
   * stream) goes on as the response's RawExtension, no longer under this
   * exchange's read timeout, abort signal or body logic.
   */
  protected handOver(stream: Duplex, init: Pick<RawExtensionInit, 'leftover' | 'abort' | 'endError'>): void {
    const resp = this.response!;
    this.phase = Phase.Upgraded;
    resp.extension = new RawExtension(stream, {
      label: this.label,
      url: this.opts.url,
      readTimeout: this.opts.readTimeout,
      ...init,
    });
    this.finish();
  }

  /** Fail the exchange once: settle the waiters, fail the response, then the protocol's teardown. */
  fail(err: Error): void {
    if (this.error !== null || this.phase === Phase.Complete || this.phase === Phase.Upgraded) return;
    this.error = err;
    this.phase = Phase.Failed;
    this.disarmTimer();
    this.detachAbort();
    const reject = this.waitReject;
    if (reject !== null) {
      this.waitResolve = null;
      this.waitReject = null;
      reject(err);
    }
    if (this.response !== null) this.response._fail(err);
    this.wakeUp();
    this.afterFail(err);
  }

  /** The read timer fired: a failure unless the exchange is over or the reader paused. */
  protected onReadTimeout(): void {
    if (this.isOver || this.paused) {
      this.disarmTimer();
      return;
    }
    this.fail(
      new ReadTimeoutError(
        null,
        this.opts.url,
        `${this.label}: Read timed out. (read timeout=${this.opts.readTimeout} ms)`,
      ),
    );
  }

  /** Hook run when getResponse() collects the exchange (HTTP/1.1 hands a finished connection back then). */
  protected onCollected(): void {}

  /**
   * The final response head; with preloadContent, once the whole body is in.
   * When the answer is already here (a small preloaded response read in
   * the same read as its head), no promise is waited on at all.
   */
  getResponse(): Promise<HTTPResponse> {
    if (this.collected) {
      return Promise.reject(new ProtocolError(`${this.label}: the response was already collected`));
    }
    this.collected = true;
    this.onCollected();
    const resp = this.response;
    if (resp === null && this.error !== null) return Promise.reject(this.error);
    const preload = this.opts.preloadContent;
    if (resp !== null && this.phase !== Phase.Upgraded) {
      if (!preload || resp._tryPreload()) return Promise.resolve(resp);
      // The body is still coming (or being decoded, or failed): _preload() waits for it or throws.
      if (this.isOver) return resp._preload().then(() => resp);
    } else if (resp !== null) {
      return Promise.resolve(resp);
    }
    return new Promise<HTTPResponse>((resolve, reject) => {
      this.waitResolve = resolve;
      this.waitReject = reject;
      this.waitBody = preload;
    });
  }

  /** Settles getResponse()'s promise with the response (filling `data` first when preloading). */
  private deliver(resp: HTTPResponse): void {
    const resolve = this.waitResolve!;
    const reject = this.waitReject!;
    this.waitResolve = null;
    this.waitReject = null;
    if (!this.waitBody || resp._tryPreload()) resolve(resp);
    // A compressed preloaded body is decoded asynchronously after the last byte.
    else resp._preload().then(() => resolve(resp), reject);
  }

  // ---- sending -------------------------------------------------------------------

  /**
   * Send the body through `writer`: after the go-ahead when the request
   * expects 100-continue, stopping when the server answers in full first.
   * A failure fails the exchange, unless the server already answered (say
   * 413, then closed): that answer is still the response, as in urllib3.
   */
  protected async sendBody(body: PreparedBody, writer: BodyWriter, expectContinue: boolean): Promise<void> {
    const progress = this.opts.onUploadBody;
    let sent = 0;
    if (expectContinue) {
      this.upload = Upload.Held;
      if (!(await this.waitForContinue())) {
        // Answered before the body went out (417, 401, a redirect...): that answer
        // is the response and the body is never sent.
        this.upload = Upload.Abandoned;
        if (this.error !== null && this.response === null) throw this.error;
        progress?.(0, body.length, true, false);
        return;
      }
    }
    this.upload = Upload.Streaming;
    try {
      if (body.buffer !== null) {
        const ok = writer.write(body.buffer);
        sent = body.buffer.length;
        progress?.(sent, body.length, false, false);
        if (!ok) await writer.drain();
      } else if (body.stream !== null) {
        for await (const chunk of body.stream) {
          if (this.error !== null) throw this.error;
          if (this.phase === Phase.Complete || this.transportClosed) break;
          if (chunk.length === 0) continue;
          const ok = writer.write(chunk);
          sent += chunk.length;
          progress?.(sent, body.length, false, false);
          if (!ok) await writer.drain();
        }
      }
      if (this.error !== null && this.response === null) throw this.error;
      if (this.phase === Phase.Complete || (this.transportClosed && this.response !== null)) {
        this.upload = Upload.Abandoned;
      } else {
        if (!writer.selfDelimiting && body.length !== null && sent !== body.length) {
          throw new ProtocolError(
            `${this.label}: request body produced ${sent} bytes but Content-Length is ${body.length}`,
          );
        }
        if (this.error === null) writer.end();
        this.upload = Upload.Done;
      }
      progress?.(sent, body.length, true, false);
    } catch (err) {
      progress?.(sent, body.length, true, true);
      if (this.response !== null && this.error === null) {
        this.upload = Upload.Abandoned;
        return;
      }
      const e =
        err instanceof HTTPError
          ? err
          : new ProtocolError(`${this.label}: sending the request body failed: ${(err as Error).message}`, {
              cause: err,
            });
      this.upload = Upload.Abandoned;
      this.fail(e);
      throw e;
    }
  }

  /**
   * Hold the body back until 100 Continue (true: send it), a final response
   * or a failure (false: do not), or CONTINUE_TIMEOUT of silence (true, as
   * RFC 9110 section 10.1.1 asks of a client that cannot know).
   */
  private async waitForContinue(): Promise<boolean> {
    const w = waitUntil(
      () =>
        this.upload !== Upload.Held || this.response !== null || this.error !== null || this.transportClosed,
      CONTINUE_TIMEOUT,
    );
    this.wake = w.wake;
    await w.promise;
    if (this.wake === w.wake) this.wake = null;
    return this.response === null && this.error === null && !this.transportClosed;
  }

  protected wakeUp(): void {
    const w = this.wake;
    if (w !== null) w();
  }

  // ---- ResponseFeeder --------------------------------------------------------------

  /** The response refused its body (over maxResponseSize): the exchange fails with its error. */
  failFromResponse(err: Error): void {
    this.fail(err);
  }

  pauseBody(): void {
    if (this.isOver || this.transportClosed) return;
    this.paused = true;
    // A paused reader is not a slow server: no read timeout while we hold the transport back.
    this.disarmTimer();
    this.pauseTransport();
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.isOver) this.armTimer();
    this.resumeTransport();
  }
}
