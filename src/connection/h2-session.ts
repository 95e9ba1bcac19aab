// Drives one HTTP/2 connection (RFC 9113) through node:http2: the framing,
// HPACK and flow control are Node's; the request/response semantics are the
// exchange core's, so the pool, retries, timeouts and HTTPResponse behave the
// same on both protocols. A 'shared' session: up to the peer's
// MAX_CONCURRENT_STREAMS exchanges (H2Exchange, one per stream) at once.
//
// Not here: which connection a request goes to, and how many streams a
// connection may carry at once. The pool decides that from `isAvailable`
// and `concurrency`; an exchange frees its slot through `onDone`, exactly
// once, when its stream is over.

import http2, { type ClientHttp2Session, type ClientHttp2Stream, type OutgoingHttpHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { debug } from '../debug.js';
import {
  InvalidHeader,
  markConnectError,
  markUnprocessed,
  ProtocolError,
  RequestAbortedError,
} from '../errors.js';
import { HttpVersion } from './connection-info.js';
import { H2Exchange, type H2StreamHost } from './h2-exchange.js';
import { requestHeaders, upgradeProtocol } from './h2-headers.js';
import { DEFAULT_LIMITS, type ResponseLimits } from './response-limits.js';
import type { ExchangeRequest, ProtocolSession, SessionOwner } from './session.js';

/** Our receive window per stream: what one paused stream may hold in Node's buffers. */
const STREAM_WINDOW = 256 * 1024;
/** Our receive window for the whole connection, shared by its streams (RFC 9113 section 6.9). */
const CONNECTION_WINDOW = 8 * 1024 * 1024;
/** A peer that announces no limit (or a huge one) still gets at most this many streams from us. */
const MAX_STREAMS_CAP = 1000;
/** A busy connection with nothing read for this long is PINGed (ms). */
const HEALTH_INTERVAL = 500;
/** How long that PING may take before the connection counts as dead (ms). */
const HEALTH_PING_TIMEOUT = 1_000;
/** How long the liveness PING of a long-idle connection may take (ms). */
const PING_TIMEOUT = 2_000;

export class H2Session implements ProtocolSession, H2StreamHost {
  readonly httpVersion = HttpVersion.h2;
  readonly reservation = 'shared' as const;
  private readonly session: ClientHttp2Session;
  /** The TCP (or TLS) socket under the session: destroyed with it, never left half-closed. */
  private readonly socket: Socket;
  private readonly owner: SessionOwner;
  private readonly scheme: 'http' | 'https';
  readonly maxHeaderSize: number;
  /** What a response may bring back (docs/api.md section 4). */
  readonly limits: ResponseLimits;
  private closed = false;
  /** Set by GOAWAY: streams above lastStreamId were not processed. */
  goaway: { code: number; lastStreamId: number } | null = null;
  /** Why the connection failed, once it did. */
  sessionError: Error | null = null;
  /** Streams open on this connection. */
  activeStreams = 0;
  /** Streams completed on this connection. */
  requestsServed = 0;
  /** performance.now() when the last stream ended (or the session opened). */
  idleSince = performance.now();
  /** The PING in flight for checkAlive(), shared by every request waiting on it. */
  private aliveCheck: Promise<boolean> | null = null;
  /** The health check while streams are in flight (checkHealth). */
  private healthTimer: NodeJS.Timeout | null = null;
  private healthPing = false;
  private lastBytesRead = 0;

  private constructor(
    session: ClientHttp2Session,
    socket: Socket,
    owner: SessionOwner,
    scheme: 'http' | 'https',
    maxHeaderSize: number,
    limits: ResponseLimits,
  ) {
    this.limits = limits;
    this.session = session;
    this.socket = socket;
    this.owner = owner;
    this.scheme = scheme;
    this.maxHeaderSize = maxHeaderSize;
    session.on('goaway', (code: number, lastStreamId: number) => {
      this.goaway = { code, lastStreamId };
      this.owner.sessionCapacityChanged(this);
      // Node would half-close and wait for the server's FIN, which a hostile server never sends.
      if (this.activeStreams === 0) this.destroy();
    });
    session.on('remoteSettings', () => {
      if (!this.closed) this.owner.sessionCapacityChanged(this);
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
    owner: SessionOwner,
    o: {
      authority: string;
      scheme: 'http' | 'https';
      timeout: number | null;
      signal: AbortSignal | null;
      maxHeaderSize: number;
      limits?: ResponseLimits;
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
      const opened = new H2Session(
        session,
        socket,
        owner,
        o.scheme,
        o.maxHeaderSize,
        o.limits ?? DEFAULT_LIMITS,
      );
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        session.destroy();
        socket.destroy();
        reject(markConnectError(err));
      };
      const onAbort = () =>
        fail(
          new RequestAbortedError(`${owner.label}: aborted while connecting`, { cause: o.signal?.reason }),
        );
      const onSettings = () => {
        if (settled) return;
        if (session.remoteSettings?.maxConcurrentStreams === 0) {
          // Nothing could ever be sent on it; another connection would be told the same.
          fail(
            new ProtocolError(
              `${owner.label}: the HTTP/2 server allows no streams (SETTINGS_MAX_CONCURRENT_STREAMS = 0); ` +
                'no request can be sent on this connection',
              { permanent: true },
            ),
          );
          return;
        }
        settled = true;
        cleanup();
        try {
          session.setLocalWindowSize(CONNECTION_WINDOW);
        } catch {
          // An old peer may not take it; the default window still works.
        }
        resolve(opened);
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

  get transportGone(): boolean {
    return this.closed || this.session.destroyed || this.session.closed || this.socket.destroyed;
  }

  get isAvailable(): boolean {
    return this.acceptsStreams;
  }

  get concurrency(): number {
    return this.maxConcurrentStreams;
  }

  /**
   * A connection idle for longer than the owner's `pingAfterIdle` must
   * answer a PING before it is reused; false when it did not (it is closed
   * then). A burst of requests arriving together after an idle spell shares
   * one PING: the peer (and node:http2, which allows only a few outstanding
   * PINGs) should see one, not one each.
   */
  checkAlive(): Promise<boolean> | true {
    if (this.aliveCheck !== null) return this.aliveCheck;
    if (this.activeStreams > 0) return true;
    if (performance.now() - this.idleSince < this.owner.pingAfterIdle) return true;
    const check = this.ping(PING_TIMEOUT).then((ok) => {
      this.aliveCheck = null;
      if (ok) {
        this.idleSince = performance.now();
      } else {
        debug('HTTP/2 connection %s did not answer a PING after being idle; closing it', this.label);
        this.destroy();
      }
      return ok;
    });
    this.aliveCheck = check;
    return check;
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
  open(opts: ExchangeRequest): H2Exchange {
    try {
      return this.openStream(opts);
    } catch (err) {
      const done = opts.onDone;
      opts.onDone = null;
      done?.();
      throw err;
    }
  }

  private openStream(opts: ExchangeRequest): H2Exchange {
    if (!this.acceptsStreams) {
      throw markUnprocessed(
        new ProtocolError(
          `${this.owner.label}: the HTTP/2 connection ${this.goaway !== null ? 'is going away (GOAWAY)' : 'is closed'}; the request was not sent`,
          { phase: 'send' },
        ),
      );
    }
    const protocol = upgradeProtocol(opts.headers);
    const headers = requestHeaders(opts, protocol, this.scheme);
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
      throw markUnprocessed(
        new ProtocolError(`${this.owner.label}: could not open an HTTP/2 stream: ${e.message}`, {
          cause: e,
          phase: 'send',
        }),
      );
    }
    if (this.activeStreams++ === 0) {
      this.setRef(true);
      this.setHealthTimer(true);
    }
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
      throw new ProtocolError(
        `${this.owner.label}: the server at ${origin} does not allow extended CONNECT (RFC 8441: ` +
          `no SETTINGS_ENABLE_CONNECT_PROTOCOL), so the 'Upgrade: ${protocol}' request cannot be sent over ` +
          'HTTP/2; to upgrade over HTTP/1.1 instead, disable HTTP/2 for it: ' +
          'disabledSvn: new Set([HttpVersion.h2])',
        { permanent: true },
      );
    }
    if (!noBody) {
      throw new ProtocolError(
        `${this.owner.label}: an 'Upgrade: ${protocol}' request to ${origin} cannot carry a body over ` +
          'HTTP/2 (an extended CONNECT stream carries only the new protocol): ' +
          'send the data with extension.sendPayload() after the upgrade',
        { permanent: true },
      );
    }
  }

  /** @internal An exchange's stream closed. */
  streamClosed(completed: boolean): void {
    this.activeStreams--;
    if (completed) this.requestsServed++;
    if (this.activeStreams === 0) {
      this.idleSince = performance.now();
      this.setHealthTimer(false);
      // A connection that is going away goes now that its last stream is over.
      if (this.goaway !== null) {
        this.destroy();
        return;
      }
      // An idle connection never holds the process open; a stream in flight does.
      if (!this.session.destroyed) this.setRef(false);
    }
  }

  /** The session and its socket hold the process open, or not. */
  private setRef(ref: boolean): void {
    if (ref) {
      this.session.ref();
      this.socket.ref();
    } else {
      this.session.unref();
      this.socket.unref();
    }
  }

  /**
   * The health check of a connection with streams in flight (as Go's
   * ReadIdleTimeout): after HEALTH_INTERVAL with nothing read, a PING must
   * come back within HEALTH_PING_TIMEOUT, else the connection is dead and
   * every stream on it fails at once. This is also how a connection error
   * nghttp2 detects itself (a garbage frame, an oversized frame) surfaces:
   * nghttp2 sends GOAWAY and stops reading and writing, but tells JavaScript
   * nothing, so the PING goes unanswered. One timer per busy connection;
   * nothing per request or per frame.
   */
  private checkHealth(): void {
    if (this.closed || this.activeStreams === 0 || this.healthPing) return;
    const read = this.socket.bytesRead;
    if (read !== this.lastBytesRead) {
      this.lastBytesRead = read;
      return;
    }
    this.healthPing = true;
    void this.ping(HEALTH_PING_TIMEOUT).then((ok) => {
      this.healthPing = false;
      this.lastBytesRead = this.socket.bytesRead;
      if (ok || this.closed) return;
      this.sessionError ??= new ProtocolError(
        `${this.owner.label}: HTTP/2 connection failed: nothing from the server for ` +
          `${HEALTH_INTERVAL + HEALTH_PING_TIMEOUT} ms, not even a PING answer (the peer is gone, ` +
          'or the client closed the connection after a protocol error in what the server sent)',
      );
      debug('HTTP/2 connection %s failed its health check; closing it', this.label);
      this.destroy();
    });
  }

  private setHealthTimer(on: boolean): void {
    if (on) {
      if (this.healthTimer !== null) return;
      this.lastBytesRead = this.socket.bytesRead;
      this.healthTimer = setInterval(() => this.checkHealth(), HEALTH_INTERVAL);
      this.healthTimer.unref();
    } else if (this.healthTimer !== null) {
      clearInterval(this.healthTimer);
      this.healthTimer = null;
    }
  }

  private onClose(): void {
    this.setHealthTimer(false);
    // Node closes a session gracefully by half-closing the socket; it goes for good here.
    if (!this.socket.destroyed) this.socket.destroy();
    if (this.closed) return;
    this.closed = true;
    this.owner.sessionClosed(this);
  }

  /** Close now: in-flight streams fail. */
  destroy(): void {
    if (!this.session.destroyed) this.session.destroy();
    this.onClose();
  }
}
