// HTTPResponse (docs/api.md section 2): streaming first. The connection pushes raw
// body bytes in; readers pull decoded bytes out through one bounded queue.
// When the queue holds more than about a megabyte the connection is paused, so
// a slow consumer of a huge body keeps memory flat. `data`, `json()` and
// `text()` are views over a fully read body.
//
// Connection hand-back follows urllib3: once the whole body has been received
// the connection is released (to its pool, if any); releasing earlier closes
// it, because a half-read connection is never reused.

import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { createContentDecoder, decodeAll, type ContentDecoder } from './body/decoders.js';
import { HTTPError, ProtocolError } from './errors.js';
import type { HTTPHeaderDict } from './headers.js';
import type { ConnectionInfo } from './connection/connection-info.js';
import type { RawExtension } from './extension.js';
import type { Retry } from './policies/retry.js';

/** What a response needs from the thing feeding it (an HTTP/1.1 or HTTP/2 session). */
/**
 * What `response.connection` is: the connection that carried the response
 * (an HTTPConnection or HTTPSConnection). Declared here, by what the
 * response promises, so the response does not depend on the connection layer.
 */
export interface ResponseConnection {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly label: string;
  readonly isConnected: boolean;
  readonly isVerified: boolean;
  readonly isProxyVerified: boolean | null;
  readonly connectionInfo: ConnectionInfo | null;
  readonly requestsServed: number;
  close(): Promise<void>;
}

export interface ResponseFeeder {
  /** Stop delivering body bytes for now (backpressure). */
  pauseBody(): void;
  resumeBody(): void;
  /** The body was fully received and the reader is done with the connection: hand it back. */
  releaseFromResponse(): void;
  /** Close the connection: the body was not read to its end, or something failed. */
  discardFromResponse(): void;
  /** The low-level connection object exposed as `response.connection`. */
  readonly connectionObject: unknown;
  /** Whether releasing hands the connection to a pool (then `response.connection` becomes null). */
  readonly pooled: boolean;
}

export interface ResponseInit {
  status: number;
  reason: string;
  version: 10 | 11 | 20 | 30;
  headers: HTTPHeaderDict;
  requestMethod: string;
  requestUrl: string;
  preloadContent: boolean;
  decodeContent: boolean;
  feeder: ResponseFeeder | null;
  connectionInfo: ConnectionInfo | null;
  /** True when the message has no body at all (HEAD, 204, 304, 1xx). */
  noBody: boolean;
}

// Pause the connection above HIGH_WATER queued bytes, resume below LOW_WATER. Wide enough
// that a fast reader of a big body rarely stops the socket (each pause and resume costs
// system calls), small enough to keep a slow reader's memory flat.
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
const EMPTY = Buffer.alloc(0);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const VERSION_STRINGS: Record<number, string> = {
  10: 'HTTP/1.0',
  11: 'HTTP/1.1',
  20: 'HTTP/2',
  30: 'HTTP/3',
};

export interface ReadOptions {
  decodeContent?: boolean;
  cacheContent?: boolean;
}

export class HTTPResponse {
  readonly status: number;
  readonly reason: string;
  readonly version: 10 | 11 | 20 | 30;
  readonly headers: HTTPHeaderDict;
  /** Absolute URL of the final request (set by pools and managers). */
  url: string;
  /** The Retry used for this request, with its history (set by pools). */
  retries: Retry | null = null;
  /** Trailer fields, once the body has been fully read. */
  trailers: HTTPHeaderDict | null = null;
  readonly connectionInfo: ConnectionInfo | null;
  /**
   * The raw stream after `101 Switching Protocols` (HTTP/1.1) or an accepted
   * extended CONNECT (HTTP/2, RFC 8441); null otherwise.
   */
  extension: RawExtension | null = null;

  /** @internal */ _feeder: ResponseFeeder | null;
  /** @internal */ readonly _requestMethod: string;
  /** @internal */ _promise: unknown = null;

  private _chunks: Buffer[] = [];
  private _queued = 0;
  private _paused = false;
  private _want = 0;
  private _rawDone = false;
  private _ended = false;
  private _error: Error | null = null;
  private _waiter: (() => void) | null = null;
  private _data: Buffer | null = null;
  private _decoder: ContentDecoder | null = null;
  private _decodeChain: Promise<void> | null = null;
  private _decodeContent: boolean;
  private _readStarted = false;
  private _closed = false;
  private _released = false;
  private _preloading: boolean;
  private _rawBytes = 0;
  private _decPending = 0;

  constructor(init: ResponseInit) {
    this.status = init.status;
    this.reason = init.reason;
    this.version = init.version;
    this.headers = init.headers;
    this.url = init.requestUrl;
    this._requestMethod = init.requestMethod;
    this._feeder = init.feeder;
    this.connectionInfo = init.connectionInfo;
    this._decodeContent = init.decodeContent;
    this._preloading = init.preloadContent;
    if (init.preloadContent) this._want = Number.POSITIVE_INFINITY;
    if (init.noBody) {
      this._rawDone = true;
      this._ended = true;
      if (init.preloadContent) this._data = EMPTY;
    }
  }

  get versionString(): string {
    return VERSION_STRINGS[this.version] ?? 'HTTP/1.1';
  }

  /** The low-level connection until the body is released; null after. */
  get connection(): ResponseConnection | null {
    if (this._feeder === null || (this._released && this._feeder.pooled)) return null;
    return this._feeder.connectionObject as ResponseConnection;
  }

  get closed(): boolean {
    return this._closed || (this._ended && this._queued === 0 && this._decodeChain === null);
  }

  get bodyUsed(): boolean {
    return this._readStarted;
  }

  /** The whole decoded body; throws on a streaming response not yet read to its end. */
  get data(): Buffer {
    if (this._data !== null) return this._data;
    throw new TypeError(
      'HTTPResponse.data is only available when preloadContent is true or the body was read with cacheContent: ' +
        'use `await response.read()` on a streaming response',
    );
  }

  json(): unknown {
    return JSON.parse(this.text());
  }

  text(): string {
    const data = this.data;
    const charset = charsetOf(this.headers.get('content-type'));
    if (charset === 'utf-8' || charset === 'utf8') return data.toString('utf8');
    try {
      return new TextDecoder(charset).decode(data);
    } catch {
      return data.toString('utf8');
    }
  }

  getRedirectLocation(): string | null | false {
    if (!REDIRECT_STATUSES.has(this.status)) return false;
    return this.headers.get('location') ?? null;
  }

  isFromPromise(promise: unknown): boolean {
    return this._promise !== null && this._promise === promise;
  }

  // ---- reading -------------------------------------------------------------

  /**
   * Up to `amt` bytes (exactly `amt` unless the body ends first); without
   * `amt`, the rest of the body. An empty Buffer means the body is done.
   */
  async read(amt?: number, options?: ReadOptions): Promise<Buffer> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) {
      throw new RangeError(`read(amt): amt must be a non-negative integer, got ${amt}`);
    }
    if (options?.decodeContent === false && !this._readStarted && this._decoder !== null) {
      this._decoder.destroy();
      this._decoder = null;
      this._decodeContent = false;
    }
    this._readStarted = true;
    if (amt === undefined) {
      await this._waitFor(Number.POSITIVE_INFINITY);
      const all = this._takeAll();
      if (options?.cacheContent) this._data = all;
      return all;
    }
    if (amt === 0) return EMPTY;
    await this._waitFor(amt);
    return this._take(amt);
  }

  /** At most `amt` bytes of whatever has arrived, waiting only if nothing has. */
  async read1(amt?: number): Promise<Buffer> {
    this._readStarted = true;
    await this._waitFor(1);
    return this._take(amt === undefined || amt < 0 ? this._queued : amt);
  }

  /** Chunks of `amt` bytes (the last may be shorter); `-1`: each chunk as it arrives. */
  async *stream(amt = 65536): AsyncGenerator<Buffer, void, undefined> {
    if (amt === -1) {
      // Chunk by chunk as they were queued: no concatenation (read1() would join all queued chunks).
      for (;;) {
        const chunk = await this._nextChunk();
        if (chunk.length === 0) return;
        yield chunk;
      }
    }
    for (;;) {
      const chunk = await this.read(amt);
      if (chunk.length === 0) return;
      yield chunk;
    }
  }

  [Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    return this.stream(-1);
  }

  toReadable(): Readable {
    const it = this.stream(-1);
    const readable = new Readable({
      read: () => {
        it.next().then(
          (r) => readable.push(r.done ? null : r.value),
          (err: Error) => readable.destroy(err),
        );
      },
      destroy: (err, cb) => {
        if (!this._ended) this.close();
        cb(err);
      },
    });
    return readable;
  }

  toWebStream(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read1();
        if (chunk.length === 0) controller.close();
        else controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
      },
      cancel: () => {
        this.close();
      },
    });
  }

  // ---- connection hand-back -----------------------------------------------

  /** Give the connection back: reused if the body was fully received, closed otherwise. */
  releaseConn(): void {
    if (this._released || this._feeder === null) return;
    if (this._rawDone && this._error === null) {
      this._released = true;
      this._feeder.releaseFromResponse();
    } else {
      this._discard();
    }
  }

  /** Read and discard the rest of the body, then release the connection for reuse. */
  async drainConn(): Promise<void> {
    if (this._released) return;
    try {
      // Discard as we go: draining a large body must not buffer it.
      this._chunks = [];
      this._queued = 0;
      while ((await this.read1()).length > 0) {
        // keep reading
      }
      this.releaseConn();
    } catch {
      this._discard();
    }
  }

  /** Close the connection; it is not returned to the pool. */
  close(): void {
    this._closed = true;
    if (!this._released) this._discard();
    if (this._decoder !== null) {
      this._decoder.destroy();
      this._decoder = null;
    }
  }

  // ---- feeding (called by the session) -------------------------------------

  /** @internal Prepare decoding once the head is known. */
  _setupDecoding(): void {
    // A preloaded body is decoded in one go by _finishRaw(), not streamed through a decoder.
    if (!this._decodeContent || this._ended || this._preloading) return;
    const enc = this.headers.get('content-encoding');
    if (enc === undefined) return;
    this._decoder = createContentDecoder(enc);
  }

  /** @internal A piece of raw body. */
  _pushRaw(chunk: Buffer): void {
    this._rawBytes += chunk.length;
    if (this._decoder === null) {
      this._enqueue(chunk);
      return;
    }
    const dec = this._decoder;
    const len = chunk.length;
    this._decPending += len;
    const step = (out: Buffer[]) => {
      this._decPending -= len;
      for (const b of out) if (b.length > 0) this._enqueue(b);
    };
    this._decodeChain = (this._decodeChain ?? Promise.resolve())
      .then(() => dec.write(chunk))
      .then(step, (err: Error) => this._fail(err));
    // The decoder consumes asynchronously; count its input against the queue too.
    this._maybePause();
  }

  /** @internal The raw body is complete. */
  _finishRaw(trailers: HTTPHeaderDict | null): void {
    this._rawDone = true;
    if (trailers !== null) this.trailers = trailers;
    if (this._decoder !== null) {
      const dec = this._decoder;
      const chain = this._decodeChain ?? Promise.resolve();
      this._decodeChain = chain
        .then(() => dec.end())
        .then(
          (out) => {
            for (const b of out) if (b.length > 0) this._enqueue(b);
            this._decodeChain = null;
            this._markEnded();
          },
          (err: Error) => this._fail(err),
        );
    } else if (this._preloading && this._decodeContent && this.headers.has('content-encoding')) {
      const raw = this._takeAll();
      decodeAll(this.headers.get('content-encoding')!, raw).then(
        (out) => {
          this._enqueue(out);
          this._markEnded();
        },
        (err: Error) => this._fail(err),
      );
    } else {
      this._markEnded();
    }
  }

  /** @internal The body failed (protocol error, reset, timeout). */
  _fail(err: Error): void {
    if (this._error !== null) return;
    this._error = err;
    if (!this._rawDone) this._discard();
    this._wake();
  }

  /** @internal Used by sessions to know whether the reader still wants bytes. */
  get _isRawDone(): boolean {
    return this._rawDone;
  }

  /**
   * @internal Fill `data` now if the body is already complete; false when
   * it is not (or failed): then _preload() waits, or throws the failure.
   */
  _tryPreload(): boolean {
    if (this._error !== null || !this._ended) return false;
    this._data = this._takeAll();
    return true;
  }

  /** @internal Wait until the preloaded body is complete and fill `data`. */
  async _preload(): Promise<void> {
    await this._waitFor(Number.POSITIVE_INFINITY);
    this._data = this._takeAll();
  }

  private _markEnded(): void {
    this._ended = true;
    if (this._decoder !== null) this._decoder = null;
    // Everything arrived from the wire: the connection is no longer needed by this response.
    if (!this._released && this._feeder !== null && this._error === null) {
      this._released = true;
      this._feeder.releaseFromResponse();
    }
    this._wake();
  }

  private _discard(): void {
    if (this._released) return;
    this._released = true;
    this._feeder?.discardFromResponse();
  }

  private _enqueue(chunk: Buffer): void {
    this._chunks.push(chunk);
    this._queued += chunk.length;
    this._maybePause();
    if (this._waiter !== null && (this._queued >= this._want || this._chunks.length > 64)) this._wake();
  }

  private _maybePause(): void {
    const held = this._queued + this._decPending;
    if (!this._paused && held >= HIGH_WATER && this._queued >= this._want && this._feeder !== null) {
      this._paused = true;
      this._feeder.pauseBody();
    }
  }

  private _resume(): void {
    if (this._paused) {
      this._paused = false;
      this._feeder?.resumeBody();
    }
  }

  private _wake(): void {
    const w = this._waiter;
    if (w !== null) {
      this._waiter = null;
      w();
    }
  }

  /** Wait until `n` bytes are queued, the body ended, or it failed. */
  private async _waitFor(n: number): Promise<void> {
    for (;;) {
      if (this._error !== null) throw this._error;
      if (this._queued >= n || this._ended) return;
      this._want = n;
      if (this._paused && (this._queued + this._decPending < LOW_WATER || this._queued < n)) this._resume();
      await new Promise<void>((resolve) => {
        this._waiter = resolve;
      });
    }
  }

  /** The oldest queued chunk, whole; empty at the end of the body. */
  private async _nextChunk(): Promise<Buffer> {
    this._readStarted = true;
    await this._waitFor(1);
    const chunks = this._chunks;
    let first: Buffer | undefined;
    do first = chunks.shift();
    while (first !== undefined && first.length === 0);
    if (first === undefined) return EMPTY;
    this._queued -= first.length;
    this._afterTake();
    return first;
  }

  private _take(n: number): Buffer {
    if (this._queued === 0) return EMPTY;
    let out: Buffer;
    const first = this._chunks[0]!;
    if (first.length >= n) {
      if (first.length === n) this._chunks.shift();
      else this._chunks[0] = first.subarray(n);
      out = first.length === n ? first : first.subarray(0, n);
    } else {
      const len = Math.min(n, this._queued);
      out = Buffer.allocUnsafe(len);
      let off = 0;
      while (off < len) {
        const c = this._chunks[0]!;
        const need = len - off;
        if (c.length <= need) {
          c.copy(out, off);
          off += c.length;
          this._chunks.shift();
        } else {
          c.copy(out, off, 0, need);
          this._chunks[0] = c.subarray(need);
          off += need;
        }
      }
    }
    this._queued -= out.length;
    this._afterTake();
    return out;
  }

  private _takeAll(): Buffer {
    const chunks = this._chunks;
    const out =
      chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, this._queued);
    this._chunks = [];
    this._queued = 0;
    this._afterTake();
    return out;
  }

  private _afterTake(): void {
    this._want = 0;
    if (this._paused && this._queued + this._decPending < LOW_WATER) this._resume();
  }

  /** Raw (still encoded) body bytes received so far. */
  get rawBytesReceived(): number {
    return this._rawBytes;
  }
}

function charsetOf(contentType: string | undefined): string {
  if (contentType === undefined) return 'utf-8';
  const i = contentType.toLowerCase().indexOf('charset=');
  if (i === -1) return 'utf-8';
  let v = contentType.slice(i + 8).trim();
  const semi = v.indexOf(';');
  if (semi !== -1) v = v.slice(0, semi).trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
  return v.toLowerCase() || 'utf-8';
}

/** Wrap a body-read failure so that callers see a ProtocolError (urllib3's "Connection broken"). */
export function connectionBroken(cause: Error, where: string): HTTPError {
  if (cause instanceof HTTPError) return cause;
  return new ProtocolError(`${where}: Connection broken: ${cause.message}`, { cause });
}
