// HTTPResponse (docs/api.md section 2): streaming first. The connection pushes
// raw body bytes in; readers pull bytes out through a bounded queue. When the
// queue holds more than about a megabyte the connection is paused, so a slow
// consumer of a huge body keeps memory flat. `data`, `json()` and `text()` are
// views over a fully read body.
//
// An encoded body is decoded as it is read, never ahead: encoded bytes wait in
// their own queue and the decoder is pulled for about what the reader asked
// (as urllib3 2.6 for CVE-2025-66471), so a small body that expands to a
// gigabyte costs no more memory than the reads ask for. An unencoded body's
// chunks go straight to the reader. A preloaded body is decoded whole.
//
// Connection hand-back follows urllib3: once the whole body has been received
// the connection is released (to its pool, if any); releasing earlier closes
// it, because a half-read connection is never reused.

import { Readable } from 'node:stream';
import { ReadableStream } from 'node:stream/web';
import { createContentDecoder, decodeAll, decodeAllSync, type ContentDecoder } from './body/decoders.js';
import { ResponseNotChunked } from './errors.js';
import { HTTPHeaderDict } from './headers.js';
import { type BodyChunk, bodyBytes, IterableBodyFeed } from './response-body-feed.js';
import type { ConnectionInfo } from './connection/connection-info.js';
import { responseTooLarge } from './connection/response-limits.js';
import type { RawExtension } from './extension.js';
import type { Retry } from './policies/retry.js';
import type { ResponseConnection, ResponseFeeder } from './response-feeder.js';
import type { HTTPResponseOptions, ReadOptions, ResponseInit } from './response-init.js';

// Pause the connection above HIGH_WATER queued bytes, resume below LOW_WATER. Wide enough
// that a fast reader of a big body rarely stops the socket (each pause and resume costs
// system calls), small enough to keep a slow reader's memory flat. For an encoded body
// the bytes counted are the encoded ones waiting for the decoder.
const HIGH_WATER = 1024 * 1024;
const LOW_WATER = 256 * 1024;
// The least a reader's demand asks of the decoder at a time: small reads (read1(), a
// stream(-1) chunk) do not cost a decoder round trip per few bytes.
const DECODE_STEP = 64 * 1024;
const EMPTY = Buffer.alloc(0);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const VERSION_STRINGS: Record<number, string> = {
  10: 'HTTP/1.0',
  11: 'HTTP/1.1',
  20: 'HTTP/2',
  30: 'HTTP/3',
};

/** Where the body's bytes wait between the connection and the reader. */
enum BodyMode {
  /** `_chunks` holds the bytes as they came (no decoding, or a preloaded body decoded at its end). */
  Plain = 0,
  /** Encoded bytes wait in `_raw`; the decoder turns them into `_chunks` as readers ask. */
  Decoding = 1,
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

  private _mode = BodyMode.Plain;
  private _chunks: Buffer[] = [];
  private _queued = 0;
  /** Encoded bytes not yet handed to the decoder (Decoding mode). */
  private _raw: Buffer[] = [];
  private _rawQueued = 0;
  private _paused = false;
  private _want = 0;
  private _rawDone = false;
  private _ended = false;
  private _error: Error | null = null;
  private _waiter: (() => void) | null = null;
  private _data: Buffer | null = null;
  private _decoder: ContentDecoder | null = null;
  /** The Content-Encoding could not be decoded at all (too many codings): the first decoding read fails. */
  private _decodeFailure: Error | null = null;
  /** The decoder has been given bytes: the body can no longer be read raw. */
  private _decoderFed = false;
  private _pumping = false;
  private _decodeContent: boolean;
  private _readStarted = false;
  private _closed = false;
  private _released = false;
  /** The reader let go of the connection: releaseConn(), drainConn(), close(), or a failure. */
  private _letGo = false;
  private _preloading: boolean;
  private _rawBytes = 0;
  /** @internal The connection's `maxResponseSize`, null for none; decoded bytes seen under it. */
  _maxSize: number | null = null;
  private _sizeSeen = 0;
  /** `_chunks` holds wire bytes (false once a preloaded body was decoded into it). */
  private _queueIsWire = true;

  constructor(init: ResponseInit | HTTPResponseOptions = {}) {
    if ('feeder' in init) {
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
      return;
    }
    this.status = init.status ?? 0;
    this.reason = init.reason ?? '';
    this.version = init.version ?? 11;
    this.headers = init.headers instanceof HTTPHeaderDict ? init.headers : new HTTPHeaderDict(init.headers);
    this.url = init.requestUrl ?? '';
    this._requestMethod = (init.requestMethod ?? 'GET').toUpperCase();
    this.connectionInfo = null;
    this.retries = init.retries ?? null;
    this._decodeContent = init.decodeContent ?? true;
    this._preloading = init.preloadContent ?? true;
    this._feeder = null;
    this._fillByHand(init.body ?? null);
  }

  get versionString(): string {
    return VERSION_STRINGS[this.version] ?? 'HTTP/1.1';
  }

  /**
   * The low-level connection until the body is released; null after
   * (docs/api.md section 2). A body that has fully arrived but is not read
   * yet keeps it: the pool may already reuse the connection, but the
   * response still names the connection that carried it, as urllib3's does
   * until release_conn().
   */
  get connection(): ResponseConnection | null {
    const feeder = this._feeder;
    if (feeder === null) return null;
    const bodyTaken = this._data !== null || (this._readStarted && this.closed);
    if (feeder.pooled && this._released && (this._letGo || bodyTaken)) return null;
    return feeder.connectionObject as ResponseConnection;
  }

  get closed(): boolean {
    return this._closed || (this._ended && this._queued === 0 && !this._pumping);
  }

  get bodyUsed(): boolean {
    return this._readStarted;
  }

  /** Whether the body comes with `Transfer-Encoding: chunked` (readChunked() needs it). */
  get chunked(): boolean {
    const te = this.headers.get('transfer-encoding') ?? '';
    return te.split(',').some((coding) => coding.trim().toLowerCase() === 'chunked');
  }

  /** The whole decoded body; throws on a streaming response not yet read to its end. */
  get data(): Buffer {
    if (this._data !== null) return this._data;
    throw new TypeError(
      'HTTPResponse.data is only available when preloadContent is true or the body was read with cacheContent: ' +
        'use `await response.read()` on a streaming response',
    );
  }

  /**
   * The body parsed as JSON (docs/api.md section 2); throws `SyntaxError` when it is not JSON.
   * `T` describes the value you expect; it is not checked at run time.
   */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
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

  /**
   * Body bytes taken from the wire so far, as urllib3's `tell()`: encoded
   * bytes when the body is decoded (those handed to the decoder), so it may
   * differ from what read() returned.
   */
  tell(): number {
    if (this._mode === BodyMode.Decoding) return this._rawBytes - this._rawQueued;
    return this._queueIsWire ? this._rawBytes - this._queued : this._rawBytes;
  }

  // ---- reading -------------------------------------------------------------

  /**
   * Up to `amt` bytes (exactly `amt` unless the body ends first); without
   * `amt`, the rest of the body. An empty Buffer means the body is done.
   * `decodeContent: false` returns the bytes as they came (still encoded), as
   * urllib3's `read(amt, decode_content=False)`; the first read decides, later
   * reads cannot switch once bytes were taken.
   */
  async read(amt?: number, options?: ReadOptions): Promise<Buffer> {
    if (amt !== undefined && (!Number.isInteger(amt) || amt < 0)) {
      throw new RangeError(`read(amt): amt must be a non-negative integer, got ${amt}`);
    }
    this._chooseDecoding(options?.decodeContent);
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

  /** At most `amt` bytes of whatever has arrived, waiting only if nothing has. `decodeContent` as for read(). */
  async read1(amt?: number, decodeContent?: boolean): Promise<Buffer> {
    this._chooseDecoding(decodeContent);
    this._readStarted = true;
    await this._waitFor(1);
    return this._take(amt === undefined || amt < 0 ? this._queued : amt);
  }

  /**
   * Chunks of `amt` bytes (the last may be shorter); `-1`: each chunk as it
   * arrives. `decodeContent` as for read().
   */
  async *stream(amt = 65536, decodeContent?: boolean): AsyncGenerator<Buffer, void, undefined> {
    this._chooseDecoding(decodeContent);
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

  /**
   * The body of a `Transfer-Encoding: chunked` response piece by piece as it
   * arrives, each at most `amt` bytes, as urllib3's `read_chunked()`. Throws
   * ResponseNotChunked when the response is not chunked.
   */
  async *readChunked(amt?: number, decodeContent?: boolean): AsyncGenerator<Buffer, void, undefined> {
    if (!this.chunked) {
      throw new ResponseNotChunked(
        `Response is not chunked: header 'transfer-encoding: chunked' is missing (${this.status} from ${this.url || 'a response built by hand'})`,
      );
    }
    if (amt === 0) return;
    this._chooseDecoding(decodeContent);
    for (;;) {
      const chunk = amt === undefined || amt < 0 ? await this._nextChunk() : await this.read1(amt);
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
    this._letGo = true;
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
    if (this._released) {
      this._letGo = true;
      return;
    }
    try {
      // What is thrown away need not be decoded.
      if (this._mode === BodyMode.Decoding) this._toPlain();
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
    this._letGo = true;
    if (!this._released) this._discard();
    if (this._decoder !== null) {
      this._decoder.destroy();
      this._decoder = null;
    }
    this._raw = [];
    this._rawQueued = 0;
  }

  // ---- feeding (called by the session) -------------------------------------

  /** @internal Prepare decoding once the head is known. */
  _setupDecoding(): void {
    // A preloaded body is decoded in one go by _finishRaw(), not streamed through a decoder.
    // Under a size limit a preloaded body is decoded as it streams in, so the limit applies as it grows.
    if (!this._decodeContent || this._ended || (this._preloading && this._maxSize === null)) return;
    const enc = this.headers.get('content-encoding');
    if (enc !== undefined) this._toDecoding(enc);
  }

  /** @internal A piece of raw body. */
  _pushRaw(chunk: Buffer): void {
    this._rawBytes += chunk.length;
    if (this._mode === BodyMode.Plain) {
      this._enqueue(chunk);
      return;
    }
    if (this._closed || this._error !== null) return;
    this._raw.push(chunk);
    this._rawQueued += chunk.length;
    if (!this._paused && this._rawQueued >= HIGH_WATER && this._feeder !== null) {
      this._paused = true;
      this._feeder.pauseBody();
    }
    if (this._queued < this._want) this._pump();
  }

  /** @internal The raw body is complete. */
  _finishRaw(trailers: HTTPHeaderDict | null): void {
    this._rawDone = true;
    if (trailers !== null) this.trailers = trailers;
    if (this._mode === BodyMode.Decoding) {
      // Every byte has arrived: the connection is free even though decoding goes on.
      this._releaseIfIntact();
      if (this._queued < this._want) this._pump();
    } else if (this._preloading && this._decodeContent && this.headers.has('content-encoding')) {
      const raw = this._takeAll();
      decodeAll(this.headers.get('content-encoding')!, raw).then(
        (out) => {
          this._queueIsWire = false;
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
    if (this._decoder !== null) {
      this._decoder.destroy();
      this._decoder = null;
    }
    this._raw = [];
    this._rawQueued = 0;
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

  /** A response built by hand: the body is there already, or comes from an iterable. */
  private _fillByHand(body: NonNullable<HTTPResponseOptions['body']> | null): void {
    const bytes = bodyBytes(body);
    if (bytes === null) {
      const feed = new IterableBodyFeed(
        body as Iterable<BodyChunk> | AsyncIterable<BodyChunk>,
        this._preloading,
      );
      this._feeder = feed;
      this._setupDecoding();
      feed.start({
        push: (chunk) => this._pushRaw(chunk),
        finish: () => this._finishRaw(null),
        fail: (error) => this._fail(error),
      });
      return;
    }
    if (this._preloading) {
      const enc = this.headers.get('content-encoding');
      this._data = this._decodeContent && enc !== undefined ? decodeAllSync(enc, bytes) : bytes;
      this._rawBytes = bytes.length;
      this._rawDone = this._ended = true;
      return;
    }
    this._setupDecoding();
    if (bytes.length > 0) this._pushRaw(bytes);
    this._finishRaw(null);
  }

  // ---- decoding ------------------------------------------------------------

  /**
   * Applies a read's `decodeContent`. Until bytes have been taken either way is
   * possible; after, the body cannot change between encoded and decoded (as
   * urllib3 refuses `read(decode_content=False)` after a decoding read).
   */
  private _chooseDecoding(decode: boolean | undefined): void {
    if (decode === undefined || this._preloading) return;
    if (this._mode === BodyMode.Decoding) {
      if (decode) return;
      if (this._decoderFed) {
        throw new TypeError(
          `read(..., { decodeContent: false }) after decoded reads of ${this._describe()}: ` +
            'the encoded bytes before this point went to the decoder',
        );
      }
      this._toPlain();
      return;
    }
    if (!decode) return;
    const enc = this.headers.get('content-encoding');
    if (enc === undefined) return;
    if (this.tell() > 0 || this._data !== null) {
      throw new TypeError(
        `read(..., { decodeContent: true }) after undecoded reads of ${this._describe()}: ` +
          'the encoded bytes before this point were returned as they came',
      );
    }
    this._toDecoding(enc);
  }

  /** Decode from here on: the bytes queued so far are the decoder's input. */
  private _toDecoding(enc: string): void {
    let decoder: ContentDecoder | null = null;
    try {
      decoder = createContentDecoder(enc);
    } catch (error) {
      this._decodeFailure = error as Error;
    }
    if (decoder === null && this._decodeFailure === null) return;
    this._mode = BodyMode.Decoding;
    this._decoder = decoder;
    this._decodeContent = true;
    [this._raw, this._chunks] = [this._chunks, []];
    [this._rawQueued, this._queued] = [this._queued, 0];
    this._ended = false;
  }

  /** Stop decoding: what waits for the decoder goes to the reader as it came. */
  private _toPlain(): void {
    this._decoder?.destroy();
    this._decoder = null;
    this._decodeFailure = null;
    this._mode = BodyMode.Plain;
    this._decodeContent = false;
    for (const chunk of this._raw) this._chunks.push(chunk);
    this._queued += this._rawQueued;
    this._raw = [];
    this._rawQueued = 0;
    if (this._rawDone && this._error === null) this._markEnded();
  }

  /** Pulls the decoder until the reader's demand is met; one pump at a time. */
  private _pump(): void {
    if (this._pumping || this._mode !== BodyMode.Decoding) return;
    this._pumping = true;
    this._pumpLoop().catch((err: Error) => this._fail(err));
  }

  private async _pumpLoop(): Promise<void> {
    try {
      while (this._queued < this._want && this._error === null && !this._ended) {
        if (this._decodeFailure !== null) throw this._decodeFailure;
        const decoder = this._decoder;
        if (decoder === null) return;
        let out: Buffer[];
        let ask = Math.max(this._want - this._queued, DECODE_STEP);
        // Under maxResponseSize a preloading reader (which wants everything) decodes step by step.
        if (this._maxSize !== null) ask = Math.min(ask, this._maxSize - this._sizeSeen + DECODE_STEP);
        try {
          out = await decoder.read(ask);
        } catch (error) {
          if (this._decoder !== decoder) return;
          throw error;
        }
        // Closed, failed or switched to raw reads meanwhile.
        if (this._decoder !== decoder) return;
        if (out.length > 0) {
          for (const piece of out) {
            if (this._maxSize !== null && this._overLimit(piece.length)) return;
            this._chunks.push(piece);
            this._queued += piece.length;
          }
          continue;
        }
        if (decoder.finished) {
          this._decoder = null;
          this._markEnded();
          return;
        }
        const raw = this._raw.shift();
        if (raw !== undefined) {
          this._rawQueued -= raw.length;
          this._decoderFed = true;
          decoder.write(raw);
          if (this._paused && this._rawQueued < LOW_WATER) this._resume();
        } else if (this._rawDone) {
          decoder.end();
        } else {
          // Starved: _pushRaw() starts the pump again when bytes come.
          this._resume();
          return;
        }
      }
    } finally {
      this._pumping = false;
      if (this._queued >= this._want) this._wake();
    }
  }

  /** Counts `n` decoded bytes against `maxResponseSize` (docs/api.md section 4); past it, the exchange and body fail. */
  private _overLimit(n: number): boolean {
    if ((this._sizeSeen += n) <= this._maxSize! || this._error !== null) return this._error !== null;
    const err = responseTooLarge(this.url, this._maxSize!, this.headers.has('content-encoding'));
    this._feeder?.failFromResponse?.(err);
    this._fail(err);
    return true;
  }

  private _describe(): string {
    return `the ${this.status} response from ${this.url || '(built by hand)'} (content-encoding: ${this.headers.get('content-encoding')})`;
  }

  private _releaseIfIntact(): void {
    // Everything arrived from the wire: the connection is no longer needed by this response.
    if (!this._released && this._feeder !== null && this._error === null) {
      this._released = true;
      this._feeder.releaseFromResponse();
    }
  }

  private _markEnded(): void {
    this._ended = true;
    this._releaseIfIntact();
    this._wake();
  }

  private _discard(): void {
    this._letGo = true;
    if (this._released) return;
    this._released = true;
    this._feeder?.discardFromResponse();
  }

  private _enqueue(chunk: Buffer): void {
    if (this._maxSize !== null && this._overLimit(chunk.length)) return;
    this._chunks.push(chunk);
    this._queued += chunk.length;
    this._maybePause();
    if (this._waiter !== null && (this._queued >= this._want || this._chunks.length > 64)) this._wake();
  }

  private _maybePause(): void {
    if (!this._paused && this._queued >= HIGH_WATER && this._queued >= this._want && this._feeder !== null) {
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
      if (this._mode === BodyMode.Decoding) {
        if (this._decodeFailure !== null) {
          this._fail(this._decodeFailure);
          continue;
        }
        this._pump();
      } else if (this._paused && (this._queued < LOW_WATER || this._queued < n)) {
        this._resume();
      }
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
    // In Decoding mode the connection waits on the encoded queue, which the pump drains.
    if (this._paused && this._mode === BodyMode.Plain && this._queued < LOW_WATER) this._resume();
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
