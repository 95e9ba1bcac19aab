// Drives one HTTP/2 connection (RFC 9113) through node:http2: the framing,
// HPACK and flow control are Node's; the request/response semantics are ours
// and match H1Session's, so the pool, retries, timeouts and HTTPResponse
// behave the same on both protocols.
//
// One H2Session per connection, one H2Exchange per stream. An exchange feeds
// its HTTPResponse through the ResponseFeeder interface: pausing the response
// pauses only that stream (Node then stops returning flow-control credit for
// it, so the server stops sending on that stream while the others go on).
// An upgrade request (`Connection: upgrade` + `Upgrade: <protocol>`) goes out
// as an extended CONNECT (RFC 8441); once accepted, its stream becomes the
// response's RawExtension and keeps its slot until it closes.
//
// Not here: which connection a request goes to, and how many streams a
// connection may carry at once. The pool decides that from `acceptsStreams`
// and `maxConcurrentStreams`; an exchange frees its slot through `onDone`,
// exactly once, when its stream is over.

import { STATUS_CODES } from 'node:http';
import http2, {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { PreparedBody } from '../body/request-body.js';
import {
  HTTPError,
  IncompleteRead,
  InvalidHeader,
  ProtocolError,
  ReadTimeoutError,
  RequestAbortedError,
} from '../errors.js';
import { HTTPHeaderDict } from '../headers.js';
import { RawExtension } from '../extension.js';
import { markConnectError } from '../net/connect.js';
import { validateHeaderName, validateHeaderValue } from '../protocol/h1/serializer.js';
import { HTTPResponse, type ResponseFeeder } from '../response.js';
import { CONTINUE_TIMEOUT, expectsContinue, waitUntil } from './expect-continue.js';
import type { ExchangeOptions } from './h1-session.js';

const {
  NGHTTP2_NO_ERROR,
  NGHTTP2_PROTOCOL_ERROR,
  NGHTTP2_REFUSED_STREAM,
  NGHTTP2_CANCEL,
  HTTP2_HEADER_STATUS,
} = http2.constants;

/** Our receive window per stream: what one paused stream may hold in Node's buffers. */
const STREAM_WINDOW = 256 * 1024;
/** Our receive window for the whole connection, shared by its streams (RFC 9113 section 6.9). */
const CONNECTION_WINDOW = 8 * 1024 * 1024;
/** A peer that announces no limit (or a huge one) still gets at most this many streams from us. */
const MAX_STREAMS_CAP = 1000;

/**
 * Connection-specific header fields are forbidden in HTTP/2 (RFC 9113
 * section 8.2.2); Host travels as :authority (section 8.3.1).
 */
const DROPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'host',
]);

const ERROR_CODE_NAMES: Record<number, string> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};

function codeName(code: number): string {
  return ERROR_CODE_NAMES[code] ?? `error code ${code}`;
}

/** Callbacks into the owning connection. */
export interface H2SessionOwner {
  readonly label: string;
  readonly connectionObject: unknown;
  readonly pooled: boolean;
  /** GOAWAY or new SETTINGS: how many streams the connection takes has changed. */
  h2CapacityChanged(session: H2Session): void;
  /** The connection is gone. */
  h2SessionClosed(session: H2Session): void;
}

export interface H2ExchangeOptions extends ExchangeOptions {
  /** Called once when the stream is over, whatever the outcome: frees the pool's slot. */
  onDone: (() => void) | null;
}

/**
 * Marks an error for a request the server never processed (REFUSED_STREAM,
 * or a stream above the last one a GOAWAY acknowledged, RFC 9113 sections
 * 8.7 and 6.8): the pool re-sends it on another connection without spending
 * a retry, whatever its method.
 */
function notProcessed<E extends Error>(err: E, notSent = false): E {
  (err as E & { requestNotProcessed?: boolean }).requestNotProcessed = true;
  if (notSent) (err as E & { requestNotSent?: boolean }).requestNotSent = true;
  return err;
}

/** Whether the server is known not to have processed the request behind `err`. */
export function isUnprocessedError(err: unknown): boolean {
  return (err as { requestNotProcessed?: boolean } | null)?.requestNotProcessed === true;
}

/**
 * Marks an error that re-sending the same request cannot cure (the server's
 * settings forbid it): the pool neither re-sends it nor spends retries on it.
 */
function permanent<E extends Error>(err: E): E {
  (err as E & { permanent?: boolean }).permanent = true;
  return err;
}

/** Whether re-sending the request behind `err` would meet the same error. */
export function isPermanentError(err: unknown): boolean {
  return (err as { permanent?: boolean } | null)?.permanent === true;
}

/**
 * The protocol an upgrade request asks for: the first token of its `Upgrade`
 * field, lower-cased, when `Connection` names the `upgrade` option too (RFC
 * 9110 section 7.8); HTTP/2 sends it as the `:protocol` of an extended
 * CONNECT (RFC 8441 section 4). null otherwise: a stray Upgrade field is
 * dropped like any connection-specific field, and `h2c` / `h2` are HTTP/1.1's
 * ways to reach HTTP/2, meaningless on it.
 */
function upgradeProtocol(pairs: readonly string[]): string | null {
  let protocol: string | null = null;
  let optioned = false;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (name.length === 7 && protocol === null && name.toLowerCase() === 'upgrade') {
      protocol = pairs[i + 1]!.split(',')[0]!.trim().toLowerCase();
    } else if (name.length === 10 && name.toLowerCase() === 'connection') {
      optioned ||= pairs[i + 1]!.split(',').some((o) => o.trim().toLowerCase() === 'upgrade');
    }
  }
  if (!optioned || protocol === '' || protocol === 'h2c' || protocol === 'h2') return null;
  return protocol;
}

/** Header fields from Node's raw list, without pseudo-headers. */
function headerDict(raw: readonly string[] | undefined, obj: IncomingHttpHeaders): HTTPHeaderDict {
  if (raw !== undefined) {
    const flat: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) !== 58 /* : */) flat.push(name, raw[i + 1]!);
    }
    return HTTPHeaderDict.fromRawPairs(flat);
  }
  const h = new HTTPHeaderDict();
  for (const name of Object.keys(obj)) {
    if (name.charCodeAt(0) === 58) continue;
    const v = obj[name];
    if (Array.isArray(v)) for (const item of v) h.add(name, item);
    else if (v !== undefined) h.add(name, String(v));
  }
  return h;
}

/** RFC 9113 section 6.5.2's size of a header list: name + value + 32 per field. */
function headerListSize(raw: readonly string[] | undefined): number {
  if (raw === undefined) return 0;
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n + 16 * raw.length;
}

export class H2Session {
  private readonly session: ClientHttp2Session;
  private readonly owner: H2SessionOwner;
  private readonly scheme: 'http' | 'https';
  private readonly maxHeaderSize: number;
  private closed = false;
  /** Set by GOAWAY: streams above lastStreamId were not processed. */
  goaway: { code: number; lastStreamId: number } | null = null;
  private sessionError: Error | null = null;
  /** Streams open on this connection. */
  activeStreams = 0;
  /** Streams completed on this connection. */
  requestsServed = 0;
  /** performance.now() when the last stream ended (or the session opened). */
  idleSince = performance.now();

  private constructor(
    session: ClientHttp2Session,
    owner: H2SessionOwner,
    scheme: 'http' | 'https',
    maxHeaderSize: number,
  ) {
    this.session = session;
    this.owner = owner;
    this.scheme = scheme;
    this.maxHeaderSize = maxHeaderSize;
    session.on('goaway', (code: number, lastStreamId: number) => {
      this.goaway = { code, lastStreamId };
      this.owner.h2CapacityChanged(this);
    });
    session.on('remoteSettings', () => {
      if (!this.closed) this.owner.h2CapacityChanged(this);
    });
    session.on('error', (err: Error) => {
      this.sessionError ??= err;
    });
    session.on('close', () => this.onClose());
    // Stream-level frame errors are reported on the streams themselves.
    session.on('frameError', () => {});
  }

  /**
   * Start HTTP/2 over a connected socket (TLS with ALPN h2, or plain TCP
   * for h2c with prior knowledge) and wait for the server's SETTINGS, so
   * the pool knows its MAX_CONCURRENT_STREAMS before it hands out streams.
   * Failures are connect errors: no request was sent.
   */
  static open(
    socket: Socket,
    owner: H2SessionOwner,
    o: {
      authority: string;
      scheme: 'http' | 'https';
      timeout: number | null;
      signal: AbortSignal | null;
      maxHeaderSize: number;
    },
  ): Promise<H2Session> {
    return new Promise<H2Session>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | null = null;
      const session = http2.connect(`${o.scheme}://${o.authority}`, {
        createConnection: () => socket,
        settings: {
          enablePush: false,
          initialWindowSize: STREAM_WINDOW,
          maxHeaderListSize: o.maxHeaderSize,
        },
        maxHeaderListPairs: 4096,
        // Paused streams keep their unread data in Node's buffers: bounded by the windows above.
        maxSessionMemory: 64,
      });
      const h2 = new H2Session(session, owner, o.scheme, o.maxHeaderSize);
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        session.destroy();
        reject(markConnectError(err));
      };
      const onAbort = () =>
        fail(
          new RequestAbortedError(`${owner.label}: aborted while connecting`, { cause: o.signal?.reason }),
        );
      const onSettings = () => {
        if (settled) return;
        settled = true;
        cleanup();
        try {
          session.setLocalWindowSize(CONNECTION_WINDOW);
        } catch {
          // An old peer may not take it; the default window still works.
        }
        resolve(h2);
      };
      const onError = (err: Error) =>
        fail(
          new ProtocolError(
            `${owner.label}: the HTTP/2 connection failed before it was ready: ${err.message}` +
              (o.scheme === 'http' ? ' (does the server speak HTTP/2 with prior knowledge, h2c?)' : ''),
            { cause: err },
          ),
        );
      const onClose = () =>
        fail(
          new ProtocolError(
            `${owner.label}: the server closed the connection before its HTTP/2 SETTINGS arrived` +
              (o.scheme === 'http' ? ' (does it speak HTTP/2 with prior knowledge, h2c?)' : ''),
          ),
        );
      const cleanup = () => {
        if (timer !== null) clearTimeout(timer);
        session.removeListener('remoteSettings', onSettings);
        session.removeListener('error', onError);
        session.removeListener('close', onClose);
        o.signal?.removeEventListener('abort', onAbort);
      };
      session.once('remoteSettings', onSettings);
      session.on('error', onError);
      session.once('close', onClose);
      if (o.signal !== null) {
        if (o.signal.aborted) {
          onAbort();
          return;
        }
        o.signal.addEventListener('abort', onAbort, { once: true });
      }
      if (o.timeout !== null) {
        timer = setTimeout(
          () =>
            fail(
              new ProtocolError(
                `${owner.label}: no HTTP/2 SETTINGS from the server within the connect timeout (${o.timeout} ms)`,
              ),
            ),
          Math.max(1, o.timeout),
        );
      }
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Whether new streams may be opened (open, no GOAWAY). */
  get acceptsStreams(): boolean {
    return !this.closed && this.goaway === null && !this.session.closed && !this.session.destroyed;
  }

  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS, capped. */
  get maxConcurrentStreams(): number {
    const m = this.session.remoteSettings?.maxConcurrentStreams;
    return typeof m === 'number' ? Math.min(m, MAX_STREAMS_CAP) : 100;
  }

  get connectionObject(): unknown {
    return this.owner.connectionObject;
  }

  get pooled(): boolean {
    return this.owner.pooled;
  }

  get label(): string {
    return this.owner.label;
  }

  /** Whether the peer still answers: a PING round trip within `timeout` ms. */
  ping(timeout: number): Promise<boolean> {
    if (!this.acceptsStreams) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(1, timeout));
      let sent = false;
      try {
        sent = this.session.ping((err) => {
          clearTimeout(timer);
          resolve(err === null || err === undefined);
        });
      } catch {
        sent = false;
      }
      if (!sent) {
        clearTimeout(timer);
        resolve(false);
      }
    });
  }

  /**
   * Open the stream and send the request head; `start()` on the exchange
   * sends the body. If this throws, `onDone` has already been called.
   */
  openStream(opts: H2ExchangeOptions): H2Exchange {
    try {
      return this.open(opts);
    } catch (err) {
      const done = opts.onDone;
      opts.onDone = null;
      done?.();
      throw err;
    }
  }

  private open(opts: H2ExchangeOptions): H2Exchange {
    if (!this.acceptsStreams) {
      throw notProcessed(
        new ProtocolError(
          `${this.owner.label}: the HTTP/2 connection ${this.goaway !== null ? 'is going away (GOAWAY)' : 'is closed'}; the request was not sent`,
        ),
        true,
      );
    }
    const protocol = upgradeProtocol(opts.headers);
    const headers = this.requestHeaders(opts, protocol);
    if (opts.signal?.aborted) {
      throw new RequestAbortedError(`${this.owner.label}: request to ${opts.url} aborted`, {
        cause: opts.signal.reason,
      });
    }
    const body = opts.body;
    const noBody = body === null || (body.buffer !== null && body.buffer.length === 0);
    if (protocol !== null) this.checkExtendedConnect(protocol, headers, noBody);
    // An extended CONNECT keeps our side open: after a 2xx it carries the new protocol.
    const endStream = noBody && protocol === null;
    let stream: ClientHttp2Stream;
    try {
      stream = this.session.request(headers, { endStream });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ERR_HTTP2_INVALID_HEADER_VALUE' || e.code === 'ERR_INVALID_HTTP_TOKEN') {
        throw new InvalidHeader(`${this.owner.label}: ${e.message}`, { cause: e });
      }
      throw notProcessed(
        new ProtocolError(`${this.owner.label}: could not open an HTTP/2 stream: ${e.message}`, { cause: e }),
        true,
      );
    }
    this.activeStreams++;
    return new H2Exchange(this, stream, opts, endStream, protocol !== null);
  }

  /**
   * An `Upgrade` request goes out as an extended CONNECT (RFC 8441), which
   * needs the server's SETTINGS_ENABLE_CONNECT_PROTOCOL and has no request
   * body of its own: what follows the head is the new protocol's.
   */
  private checkExtendedConnect(protocol: string, headers: OutgoingHttpHeaders, noBody: boolean): void {
    const origin = `${this.scheme}://${String(headers[':authority'] ?? this.owner.label)}`;
    if (this.session.remoteSettings?.enableConnectProtocol !== true) {
      throw permanent(
        new ProtocolError(
          `${this.owner.label}: the server at ${origin} does not allow extended CONNECT (RFC 8441: ` +
            `no SETTINGS_ENABLE_CONNECT_PROTOCOL), so the 'Upgrade: ${protocol}' request cannot be sent over ` +
            'HTTP/2; to upgrade over HTTP/1.1 instead, disable HTTP/2 for it: ' +
            'disabledSvn: new Set([HttpVersion.h2])',
        ),
      );
    }
    if (!noBody) {
      throw permanent(
        new ProtocolError(
          `${this.owner.label}: an 'Upgrade: ${protocol}' request to ${origin} cannot carry a body over ` +
            'HTTP/2 (an extended CONNECT stream carries only the new protocol): ' +
            'send the data with extension.sendPayload() after the upgrade',
        ),
      );
    }
  }

  /** Node's header object for a request: pseudo-headers first, connection-specific fields dropped. */
  private requestHeaders(opts: H2ExchangeOptions, protocol: string | null): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = Object.create(null);
    // An extended CONNECT (RFC 8441 section 4) has :scheme and :path like any request.
    const connect = opts.method === 'CONNECT' && protocol === null;
    h[':method'] = protocol !== null ? 'CONNECT' : opts.method;
    if (protocol !== null) h[':protocol'] = protocol;
    let path = opts.target;
    let authority: string | null = null;
    if (path.charCodeAt(0) !== 47 /* / */ && path !== '*' && !connect) {
      // Absolute form (a forwarding proxy's target): HTTP/2 carries it as :authority + :path.
      try {
        const u = new URL(path);
        authority = u.host;
        path = `${u.pathname}${u.search}`;
      } catch {
        // leave it; the server will answer 400
      }
    }
    const pairs = opts.headers;
    for (let i = 0; i < pairs.length; i += 2) {
      const name = pairs[i]!;
      const value = pairs[i + 1]!;
      validateHeaderName(name);
      validateHeaderValue(name, value);
      const lower = name.toLowerCase();
      if (lower === 'host') {
        authority ??= value;
        continue;
      }
      if (DROPPED_HEADERS.has(lower)) continue;
      // TE may only say "trailers" in HTTP/2 (RFC 9113 section 8.2.2).
      if (lower === 'te' && value.trim().toLowerCase() !== 'trailers') continue;
      const prev = h[lower];
      if (prev === undefined) h[lower] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else h[lower] = [String(prev), value];
    }
    if (authority !== null) h[':authority'] = authority;
    if (!connect) {
      h[':scheme'] = this.scheme;
      h[':path'] = path;
    }
    return h;
  }

  /** @internal An exchange's stream closed. */
  _streamClosed(completed: boolean): void {
    this.activeStreams--;
    if (completed) this.requestsServed++;
    if (this.activeStreams === 0) this.idleSince = performance.now();
  }

  /** @internal Why streams on this session fail when the session itself failed. */
  get _sessionError(): Error | null {
    return this.sessionError;
  }

  /** @internal */
  get _maxHeaderSize(): number {
    return this.maxHeaderSize;
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.h2SessionClosed(this);
  }

  /** Close now: in-flight streams fail. */
  destroy(): void {
    if (!this.session.destroyed) this.session.destroy();
    this.onClose();
  }
}

/** One request/response on one stream; feeds its HTTPResponse. */
export class H2Exchange implements ResponseFeeder {
  readonly opts: H2ExchangeOptions;
  response: HTTPResponse | null = null;
  error: Error | null = null;
  /** Some response frame (headers or data) arrived for this stream. */
  gotBytes = false;
  /** The response was received to its end. */
  completed = false;
  private readonly session: H2Session;
  private readonly stream: ClientHttp2Stream;
  private streamError: Error | null = null;
  private streamClosed = false;
  private uploadDone: boolean;
  private timer: NodeJS.Timeout | null = null;
  private timerWanted = false;
  private paused = false;
  private received = 0;
  private contentLength: number | null = null;
  private trailers: HTTPHeaderDict | null = null;
  private headResolve: ((r: HTTPResponse) => void) | null = null;
  private headReject: ((e: Error) => void) | null = null;
  private abortListener: (() => void) | null = null;
  /** Wakes an upload waiting for 'drain' or for a 100 Continue. */
  private wake: (() => void) | null = null;
  private continued = false;
  private collected = false;
  /**
   * The readable side ended because the stream closed, not because the peer
   * sent END_STREAM. Node ends the readable side the same way in both cases
   * (with rstCode NO_ERROR); only whether the stream was already closed when
   * the end was pushed tells them apart.
   */
  private endedByClose = false;
  /** The request is an extended CONNECT (an `Upgrade` request, RFC 8441). */
  private readonly tunnel: boolean;
  /** Its 2xx arrived: the stream belongs to the response's extension now. */
  private tunnelled = false;
  private readonly dataListener = (chunk: Buffer) => this.onData(chunk);
  private readonly endListener = () => this.onEnd();

  constructor(
    session: H2Session,
    stream: ClientHttp2Stream,
    opts: H2ExchangeOptions,
    endStream: boolean,
    tunnel = false,
  ) {
    this.session = session;
    this.stream = stream;
    this.opts = opts;
    this.tunnel = tunnel;
    // An extended CONNECT has no body to upload, though its side of the stream stays open.
    this.uploadDone = endStream || tunnel;
    const ex = this;
    // Node passes the raw header list as a third argument its typings do not declare.
    type HeadersListener = (headers: IncomingHttpHeaders, flags: number, raw?: string[]) => void;
    const on = (event: string, fn: HeadersListener) => stream.on(event, fn as (...args: unknown[]) => void);
    on('headers', (headers, _flags, raw) => this.onInformational(headers, raw));
    stream.on('continue', () => {
      this.continued = true;
      this.wakeUp();
    });
    on('response', (headers, flags, raw) => this.onResponse(headers, flags, raw));
    stream.on('data', this.dataListener);
    on('trailers', (headers, _flags, raw) => {
      this.trailers = headerDict(raw, headers);
    });
    stream.on('end', this.endListener);
    const push = stream.push;
    let eofSeen = false;
    stream.push = function (this: ClientHttp2Stream, chunk: unknown, encoding?: BufferEncoding): boolean {
      if (chunk === null && !eofSeen) {
        eofSeen = true;
        ex.endedByClose = stream.closed;
      }
      return push.call(this, chunk, encoding);
    };
    stream.on('error', (err: Error) => {
      this.streamError ??= err;
    });
    stream.on('close', () => this.onStreamClose());
    if (opts.signal !== null) {
      const signal = opts.signal;
      this.abortListener = () =>
        this.fail(
          new RequestAbortedError(`${session.label}: request to ${opts.url} aborted`, {
            cause: signal.reason,
          }),
        );
      signal.addEventListener('abort', this.abortListener, { once: true });
    }
  }

  /** The stream id (odd numbers, RFC 9113 section 5.1.1); null before it is assigned. */
  get streamId(): number | null {
    return this.stream.id ?? null;
  }

  get connectionObject(): unknown {
    return this.session.connectionObject;
  }

  get pooled(): boolean {
    return this.session.pooled;
  }

  // ---- sending ---------------------------------------------------------------

  /** @internal Send the body (if any); resolves when the request is on its way. */
  async start(): Promise<void> {
    const opts = this.opts;
    const info = opts.connectionInfo;
    const started = info !== null ? performance.now() : 0;
    if (!this.uploadDone) await this.upload(opts.body!);
    else if (opts.body !== null) opts.onUploadBody?.(0, opts.body.length, true, false);
    if (this.error !== null && this.response === null) throw this.error;
    if (info !== null) info.requestSentLatency = performance.now() - started;
    this.armTimer();
  }

  private async upload(body: PreparedBody): Promise<void> {
    const opts = this.opts;
    const stream = this.stream;
    const progress = opts.onUploadBody;
    let sent = 0;
    try {
      if (expectsContinue(opts.headers)) await this.waitForContinue();
      if (this.response !== null || this.error !== null) {
        // Answered before the body went out (417, 401...): that answer is the response;
        // the stream is reset with NO_ERROR once it is complete (RFC 9113 section 8.1).
        if (this.error !== null && this.response === null) throw this.error;
        progress?.(0, body.length, true, false);
        return;
      }
      if (body.buffer !== null) {
        const ok = stream.write(body.buffer);
        sent = body.buffer.length;
        progress?.(sent, body.length, false, false);
        if (!ok) await this.drain();
      } else if (body.stream !== null) {
        for await (const chunk of body.stream) {
          if (this.error !== null) throw this.error;
          if (this.completed || this.streamClosed) break;
          if (chunk.length === 0) continue;
          const ok = stream.write(chunk);
          sent += chunk.length;
          progress?.(sent, body.length, false, false);
          if (!ok) await this.drain();
        }
      }
      if (this.error !== null) throw this.error;
      if (!this.completed && !this.streamClosed) {
        if (body.length !== null && sent !== body.length) {
          throw new ProtocolError(
            `${this.session.label}: request body produced ${sent} bytes but Content-Length is ${body.length}`,
          );
        }
        stream.end();
      }
      this.uploadDone = true;
      progress?.(sent, body.length, true, false);
    } catch (err) {
      progress?.(sent, body.length, true, true);
      if (this.response !== null && this.error === null) return;
      const e =
        err instanceof HTTPError
          ? err
          : new ProtocolError(
              `${this.session.label}: sending the request body failed: ${(err as Error).message}`,
              { cause: err },
            );
      this.fail(e);
      throw e;
    }
  }

  /** Until 100 Continue, a final response, a failure, or CONTINUE_TIMEOUT (then send anyway, RFC 9110 10.1.1). */
  private async waitForContinue(): Promise<void> {
    const w = waitUntil(
      () => this.continued || this.response !== null || this.error !== null || this.streamClosed,
      CONTINUE_TIMEOUT,
    );
    this.wake = w.wake;
    await w.promise;
    if (this.wake === w.wake) this.wake = null;
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

  private wakeUp(): void {
    const w = this.wake;
    if (w !== null) w();
  }

  // ---- receiving --------------------------------------------------------------

  /** The final response head; with preloadContent, once the whole body is in. */
  getResponse(): Promise<HTTPResponse> {
    if (this.collected) {
      return Promise.reject(new ProtocolError(`${this.session.label}: the response was already collected`));
    }
    this.collected = true;
    const resp = this.response;
    if (resp !== null || this.error !== null) {
      if (resp === null) return Promise.reject(this.error!);
      if (!this.opts.preloadContent) return Promise.resolve(resp);
      return resp._preload().then(() => resp);
    }
    const head = new Promise<HTTPResponse>((resolve, reject) => {
      this.headResolve = resolve;
      this.headReject = reject;
    });
    if (!this.opts.preloadContent) return head;
    return head.then((r) => r._preload().then(() => r));
  }

  private onInformational(headers: IncomingHttpHeaders, raw: string[] | undefined): void {
    this.gotBytes = true;
    this.refreshTimer();
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    if (!(status >= 100 && status < 200) || status === 101) return;
    const cb = this.opts.onEarlyResponse;
    if (cb === null) return;
    const early = new HTTPResponse({
      status,
      reason: STATUS_CODES[status] ?? '',
      version: 20,
      headers: headerDict(raw, headers),
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

  private onResponse(headers: IncomingHttpHeaders, flags: number, raw: string[] | undefined): void {
    if (this.error !== null) return;
    this.gotBytes = true;
    this.refreshTimer();
    if (headerListSize(raw) > this.session._maxHeaderSize) {
      this.fail(
        new ProtocolError(
          `${this.session.label}: response header block is larger than maxHeaderSize (${this.session._maxHeaderSize} bytes)`,
        ),
      );
      return;
    }
    const status = Number(headers[HTTP2_HEADER_STATUS]);
    const method = this.opts.method;
    const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 || this.stream.endAfterHeaders;
    // A 2xx to an extended CONNECT opens the tunnel: what follows is the new protocol, not a body.
    const tunnel = this.tunnel && status >= 200 && status < 300;
    const noBody = method === 'HEAD' || status === 204 || status === 304 || endStream || tunnel;
    const dict = headerDict(raw, headers);
    if (!noBody) {
      const cl = dict.get('content-length');
      if (cl !== undefined && /^\d+$/.test(cl.trim())) this.contentLength = Number(cl.trim());
    }
    const resp = new HTTPResponse({
      status,
      reason: STATUS_CODES[status] ?? '',
      version: 20,
      headers: dict,
      requestMethod: method,
      requestUrl: this.opts.url,
      preloadContent: this.opts.preloadContent,
      decodeContent: this.opts.decodeContent,
      feeder: this,
      connectionInfo: this.opts.connectionInfo,
      noBody,
    });
    resp._setupDecoding();
    this.response = resp;
    if (tunnel) this.handOver(resp);
    this.wakeUp();
    const resolve = this.headResolve;
    if (resolve !== null) {
      this.headResolve = null;
      this.headReject = null;
      resolve(resp);
    }
  }

  /**
   * The extended CONNECT was accepted: the HTTP exchange is over and the
   * stream goes on as the response's RawExtension. It keeps its slot on the
   * connection (the pool's lease ends when the stream closes) and is no
   * longer subject to this exchange's read timeout, abort signal or body
   * logic; closing or releasing the response leaves it alone.
   */
  private handOver(resp: HTTPResponse): void {
    const stream = this.stream;
    this.tunnelled = true;
    this.completed = true;
    this.disarmTimer();
    this.detachAbort();
    stream.removeListener('data', this.dataListener);
    stream.removeListener('end', this.endListener);
    resp.extension = new RawExtension(stream, {
      label: this.session.label,
      url: this.opts.url,
      readTimeout: this.opts.readTimeout,
      abort: () => {
        if (!stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
      },
      // A reset (RFC 8441 section 5: the HTTP/2 image of a TCP RST) ends the stream like END_STREAM.
      endError: () => {
        const code = stream.rstCode ?? NGHTTP2_NO_ERROR;
        if (!this.endedByClose || code === NGHTTP2_NO_ERROR) return null;
        const sessionError = this.session._sessionError;
        const why =
          this.session.isClosed || sessionError !== null || stream.session?.destroyed !== false
            ? `the connection closed${sessionError !== null ? `: ${sessionError.message}` : ''}`
            : `it was reset with ${codeName(code)}`;
        return new ProtocolError(
          `${this.session.label}: the upgraded stream ${stream.id} to ${this.opts.url} broke: ${why}`,
          { cause: sessionError ?? this.streamError ?? undefined },
        );
      },
    });
    resp._finishRaw(null);
  }

  private onData(chunk: Buffer): void {
    this.gotBytes = true;
    const t = this.timer;
    if (t !== null) t.refresh();
    this.received += chunk.length;
    const r = this.response;
    if (r !== null && this.error === null && !r._isRawDone) r._pushRaw(chunk);
  }

  private onEnd(): void {
    if (this.error !== null || this.completed) return;
    // Node ends the readable side of a reset stream too: that is a failure, decided on 'close'.
    const rst = this.stream.rstCode;
    if (this.stream.aborted || (rst !== undefined && rst !== NGHTTP2_NO_ERROR)) return;
    if (this.endedByClose) {
      // RST_STREAM(NO_ERROR), or the connection going, before END_STREAM: the response is cut short.
      this.fail(
        new ProtocolError(
          `${this.session.label}: the server closed stream ${this.stream.id} before the response was complete ` +
            `(${this.received} body bytes received) (${this.opts.url})`,
          { cause: this.session._sessionError ?? undefined },
        ),
      );
      return;
    }
    if (this.response === null) {
      this.fail(new ProtocolError(`${this.session.label}: the stream ended without a response`));
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
        `${this.session.label}: the response body is longer (${this.received} bytes) than its Content-Length (${cl}) (${this.opts.url})`,
      );
    }
    const cause = new IncompleteRead(this.received, cl - this.received);
    return new ProtocolError(
      `${this.session.label}: Connection broken: ${cause.message} (${this.opts.url})`,
      {
        cause,
      },
    );
  }

  private complete(): void {
    this.completed = true;
    this.disarmTimer();
    this.detachAbort();
    this.wakeUp();
    if (!this.uploadDone && !this.streamClosed) {
      // The server answered in full before the upload ended: stop it (RFC 9113 section 8.1).
      this.stream.close(NGHTTP2_NO_ERROR);
    } else if (this.tunnel && !this.streamClosed) {
      // A refused extended CONNECT: our side, left open for the tunnel, ends too.
      this.stream.end();
    }
    this.releaseSlot();
    this.response!._finishRaw(this.trailers);
  }

  private onStreamClose(): void {
    this.streamClosed = true;
    this.disarmTimer();
    if (!this.completed && this.error === null) {
      // nghttp2 resets a stream whose body is shorter than its Content-Length;
      // without enforceContentLength what arrived is the body, as on HTTP/1.1.
      if (this.isShortBody(this.stream.rstCode ?? 0) && !this.opts.enforceContentLength) this.complete();
      else this.fail(this.closeError());
    }
    this.detachAbort();
    this.wakeUp();
    this.session._streamClosed(this.completed);
    this.releaseSlot();
  }

  /**
   * Free the pool's slot: once the response is complete or the stream
   * failed (it is closed, or reset by us, from the protocol's view), even
   * if Node's 'close' event comes a little later.
   */
  private releaseSlot(): void {
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
    const goaway = this.session.goaway;
    const label = this.session.label;
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
      return notProcessed(
        new ProtocolError(`${label}: ${why}; the request was not processed (${this.opts.url})`, {
          cause: this.streamError ?? undefined,
        }),
      );
    }
    const cl = this.contentLength;
    if (this.isShortBody(code)) return this.lengthError(cl!);
    const sessionError = this.session._sessionError;
    if (sessionError !== null || (code === NGHTTP2_CANCEL && this.session.isClosed)) {
      const why = sessionError?.message ?? 'the connection closed';
      return new ProtocolError(`${label}: Connection aborted: ${why} (${this.opts.url})`, {
        cause: sessionError ?? this.streamError ?? undefined,
      });
    }
    if (code === NGHTTP2_NO_ERROR) {
      return new ProtocolError(
        `${label}: the server closed stream ${id} before the response was complete (${this.opts.url})`,
        { cause: this.streamError ?? undefined },
      );
    }
    return new ProtocolError(
      `${label}: stream ${id} was reset by the server with ${codeName(code)} (${this.opts.url})`,
      { cause: this.streamError ?? undefined },
    );
  }

  private fail(err: Error): void {
    if (this.error !== null || this.completed) return;
    this.error = err;
    this.disarmTimer();
    this.detachAbort();
    this.wakeUp();
    const reject = this.headReject;
    if (reject !== null) {
      this.headResolve = null;
      this.headReject = null;
      reject(err);
    }
    if (!this.streamClosed && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.releaseSlot();
    if (this.response !== null) this.response._fail(err);
  }

  private detachAbort(): void {
    if (this.abortListener !== null) {
      this.opts.signal?.removeEventListener('abort', this.abortListener);
      this.abortListener = null;
    }
  }

  // ---- read timeout: between pieces of the response, not while paused ----------

  private armTimer(): void {
    this.timerWanted = true;
    if (this.opts.readTimeout === null || this.completed || this.error !== null || this.paused) return;
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    const ms = Math.max(1, this.opts.readTimeout);
    this.timer = setTimeout(() => this.onTimeout(), ms);
    this.timer.unref();
  }

  private refreshTimer(): void {
    const t = this.timer;
    if (t !== null) t.refresh();
  }

  private disarmTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  private onTimeout(): void {
    this.timer = null;
    if (this.completed || this.error !== null || this.paused) return;
    this.fail(
      new ReadTimeoutError(
        null,
        this.opts.url,
        `${this.session.label}: Read timed out. (read timeout=${this.opts.readTimeout} ms)`,
      ),
    );
  }

  // ---- ResponseFeeder -------------------------------------------------------------

  pauseBody(): void {
    if (this.streamClosed || this.completed) return;
    this.paused = true;
    // A paused reader is not a slow server: no read timeout while we hold the stream back.
    this.disarmTimer();
    this.stream.pause();
  }

  resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.timerWanted) this.armTimer();
    this.stream.resume();
  }

  releaseFromResponse(): void {
    if (!this.completed || this.error !== null) this.discardFromResponse();
  }

  discardFromResponse(): void {
    // The stream is the extension's: only extension.close() ends it.
    if (this.tunnelled) return;
    if (!this.completed && this.error === null) {
      this.error = new ProtocolError(`${this.session.label}: response released before its body was read`);
      this.disarmTimer();
      this.detachAbort();
      this.wakeUp();
    }
    // Only this stream goes: RST_STREAM CANCEL; the connection carries on.
    if (!this.streamClosed && !this.stream.closed) this.stream.close(NGHTTP2_CANCEL);
    this.releaseSlot();
  }
}
