// A node:zlib decompression stream (gzip, deflate, br, and zstd where Node has
// it) driven as a pull decoder. The stream runs in paused mode: zlib stops
// producing output once READ_AHEAD bytes (its readable high-water mark) wait
// unread, and goes on only when read() takes them. That, and not a limit on the input, is what keeps
// a decompression bomb from filling memory: a few kilobytes of input that
// expand to a gigabyte are decoded chunk by chunk as the reader asks.
//
// Encoded bytes are written one chunk at a time; the next is written once zlib
// has consumed the previous one, so bytes that follow the end of the
// compressed stream (gzip zero padding, trailing garbage after deflate or
// brotli) are seen and dropped, as zlib does.

import type { Transform } from 'node:stream';
import { DecodeError } from '../errors.js';
import { type Coding, type ContentDecoder, decodeError, destroyedError } from './content-decoder.js';

/** A node:zlib stream with the count of input bytes zlib has consumed. */
type ZlibStream = Transform & { readonly bytesWritten: number };

enum ZlibState {
  /** No stream yet (no input, or waiting for the bytes `create` must see). */
  Idle = 0,
  /** The stream is open and takes input. */
  Open = 1,
  /** zlib stopped taking input: the compressed stream ended; later input is dropped. */
  Complete = 2,
  /** The readable side ended and everything was handed out. */
  Finished = 3,
  Failed = 4,
  Destroyed = 5,
}

export class ZlibDecoder implements ContentDecoder {
  readonly #coding: Coding;
  readonly #header: string;
  /** How many leading bytes `create` needs to see before the stream can be chosen. */
  readonly #sniff: number;
  readonly #create: (head: Buffer) => Transform;
  #state = ZlibState.Idle;
  #stream: ZlibStream | null = null;
  /** Leading bytes kept until `#sniff` of them arrived. */
  #head: Buffer | null = null;
  /** Input waiting for zlib to consume the chunk before it. */
  #inbox: Buffer[] = [];
  #writing = false;
  /** Bytes of the chunks zlib has finished with. */
  #settled = 0;
  #endRequested = false;
  #endSent = false;
  #readableEnded = false;
  #error: unknown = null;
  #wake: (() => void) | null = null;

  constructor(coding: Coding, header: string, sniff: number, create: (head: Buffer) => Transform) {
    this.#coding = coding;
    this.#header = header;
    this.#sniff = sniff;
    this.#create = create;
  }

  get finished(): boolean {
    return this.#state === ZlibState.Finished;
  }

  write(chunk: Buffer): void {
    this.#checkUsable();
    if (this.#endRequested) throw new DecodeError(`write() after end() on the ${this.#coding} decoder`);
    if (chunk.length === 0 || this.#state === ZlibState.Complete) return;
    if (this.#state === ZlibState.Idle) {
      const head = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      if (head.length < this.#sniff) {
        this.#head = head;
        return;
      }
      this.#head = null;
      this.#open(head);
      chunk = head;
    }
    this.#inbox.push(chunk);
    this.#pump();
  }

  end(): void {
    if (this.#endRequested) return;
    this.#endRequested = true;
    if (this.#state === ZlibState.Idle) {
      // Fewer bytes than the sniff needs: zlib reports them as truncated.
      if (this.#head !== null) {
        const head = this.#head;
        this.#head = null;
        this.#open(head);
        this.#inbox.push(head);
      } else {
        // No input at all: an empty body, which urllib3 accepts for every coding.
        this.#state = ZlibState.Finished;
        return;
      }
    }
    this.#pump();
  }

  async read(max: number): Promise<Buffer[]> {
    for (;;) {
      this.#checkUsable();
      const stream = this.#stream;
      if (this.#state === ZlibState.Finished || stream === null) return [];
      const ready = stream.readableLength;
      if (ready > 0 && max > 0) {
        // Never more than the high-water mark: a larger read() would raise it for good.
        const out = stream.read(Math.min(max, ready, stream.readableHighWaterMark)) as Buffer | null;
        if (out !== null) return [out];
      }
      if (this.#readableEnded) {
        this.#state = ZlibState.Finished;
        stream.destroy();
        return [];
      }
      // Used up: zlib holds no input and no end is pending.
      if (!this.#writing && this.#inbox.length === 0 && !this.#endSent) return [];
      // zlib is working (or waits for this read to make room): let it go on, and wait.
      stream.read(0);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  destroy(): void {
    this.#stream?.destroy();
    this.#inbox = [];
    this.#head = null;
    if (this.#state === ZlibState.Destroyed || this.#state === ZlibState.Finished) return;
    this.#state = ZlibState.Destroyed;
    this.#notify();
  }

  #open(head: Buffer): void {
    const stream = this.#create(head) as ZlibStream;
    stream.on('readable', () => this.#notify());
    stream.on('end', () => {
      this.#readableEnded = true;
      this.#notify();
    });
    stream.on('error', (error) => this.#failed(stream, error));
    this.#stream = stream;
    this.#state = ZlibState.Open;
  }

  /** Writes the next waiting chunk (or the end) once zlib is done with the previous one. */
  #pump(): void {
    const stream = this.#stream;
    if (stream === null || this.#writing || this.#state !== ZlibState.Open) return;
    const chunk = this.#inbox.shift();
    if (chunk === undefined) {
      if (this.#endRequested && !this.#endSent) {
        this.#endSent = true;
        stream.end();
      }
      return;
    }
    this.#writing = true;
    stream.write(chunk, (error) => {
      this.#writing = false;
      if (error) this.#failed(stream, error);
      if (this.#state !== ZlibState.Open) {
        this.#notify();
        return;
      }
      this.#settled += chunk.length;
      // zlib consumes all it is given unless the compressed stream ended; it
      // then ends its readable side, and writing more would be an error.
      if (stream.bytesWritten < this.#settled) {
        this.#state = ZlibState.Complete;
        this.#inbox = [];
        this.#endSent = true;
      } else {
        this.#pump();
      }
      this.#notify();
    });
  }

  #failed(stream: ZlibStream, error: unknown): void {
    if (this.#state === ZlibState.Destroyed || this.#state === ZlibState.Failed) return;
    this.#error = error;
    this.#state = ZlibState.Failed;
    stream.destroy();
    this.#inbox = [];
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  #checkUsable(): void {
    if (this.#state === ZlibState.Destroyed) throw destroyedError(this.#header, this.#coding);
    if (this.#state === ZlibState.Failed) throw decodeError(this.#header, this.#coding, this.#error);
  }
}
