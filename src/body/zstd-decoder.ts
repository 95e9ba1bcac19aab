// zstd (RFC 8878) decoding: node:zlib's zstd stream where the running Node has
// it (>= 22.15), the pure-JS fzstd otherwise. Both sit behind ZstdDecoder,
// which checks the frame structure first (ZstdFrameGuard: window and block
// size limits, a body that stops inside a frame).
//
// fzstd decodes synchronously whatever it is given, so it is given one block
// at a time: a block regenerates at most 128 KiB, which bounds each step.

import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as FzstdDecompress } from 'fzstd';
import { DecodeError } from '../errors.js';
import {
  type ContentDecoder,
  CHUNK_SIZE,
  decodeError,
  destroyedError,
  READ_AHEAD,
  takeFrom,
} from './content-decoder.js';
import { ZlibDecoder } from './zlib-decoder.js';
import { ZstdFrameGuard } from './zstd-frame-guard.js';

type ZstdFactory = (options: { chunkSize: number; readableHighWaterMark: number }) => Transform;
type ZstdOneShot = (
  data: Buffer,
  options: { chunkSize: number },
  cb: (err: Error | null, out: Buffer) => void,
) => void;
type ZstdSync = (data: Buffer) => Buffer;
// Feature-detected: Node 20's typings and runtime do not have these.
export const nativeZstd = zlib as unknown as {
  createZstdDecompress?: ZstdFactory;
  zstdDecompress?: ZstdOneShot;
  zstdDecompressSync?: ZstdSync;
};

export function createZstdDecoder(header: string): ContentDecoder {
  const create = nativeZstd.createZstdDecompress;
  const inner =
    typeof create === 'function'
      ? new ZlibDecoder('zstd', header, 0, () =>
          create.call(zlib, { chunkSize: CHUNK_SIZE, readableHighWaterMark: READ_AHEAD }),
        )
      : new FzstdDecoder(header);
  return new ZstdDecoder(inner, header);
}

/** Throws unless `data` is whole zstd frames within the limits (for one-shot decoding). */
export function checkZstdFrames(data: Buffer): void {
  const guard = new ZstdFrameGuard();
  guard.feed(data);
  if (!guard.atFrameBoundary()) throw new Error('unexpected end of file (truncated zstd frame)');
}

/** zstd with the frame checks common to both back ends. */
class ZstdDecoder implements ContentDecoder {
  readonly #inner: ContentDecoder;
  readonly #header: string;
  readonly #guard = new ZstdFrameGuard();

  constructor(inner: ContentDecoder, header: string) {
    this.#inner = inner;
    this.#header = header;
  }

  get finished(): boolean {
    return this.#inner.finished;
  }

  write(chunk: Buffer): void {
    try {
      this.#guard.feed(chunk);
    } catch (error) {
      this.#inner.destroy();
      throw decodeError(this.#header, 'zstd', error);
    }
    this.#inner.write(chunk);
  }

  end(): void {
    if (!this.#guard.atFrameBoundary()) {
      this.#inner.destroy();
      throw decodeError(this.#header, 'zstd', new Error('unexpected end of file (truncated zstd frame)'));
    }
    this.#inner.end();
  }

  read(max: number): Promise<Buffer[]> {
    return this.#inner.read(max);
  }

  destroy(): void {
    this.#inner.destroy();
  }
}

enum FzstdState {
  Open = 0,
  Ending = 1,
  Finished = 2,
  Failed = 3,
  Destroyed = 4,
}

/** zstd through fzstd (pure JS, synchronous), for Node versions without zlib zstd. */
class FzstdDecoder implements ContentDecoder {
  readonly #header: string;
  readonly #blocks = new ZstdFrameGuard();
  readonly #decompress: FzstdDecompress;
  #state = FzstdState.Open;
  #inbox: Buffer[] = [];
  /** Decoded output not handed out yet (a block at most, beyond what read() asked). */
  #out: Buffer[] = [];
  #error: unknown = null;
  #sawInput = false;

  constructor(header: string) {
    this.#header = header;
    this.#decompress = new FzstdDecompress((data) => {
      if (data.length > 0) this.#out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  get finished(): boolean {
    return this.#state === FzstdState.Finished;
  }

  write(chunk: Buffer): void {
    this.#checkUsable();
    if (this.#state !== FzstdState.Open) throw new DecodeError('write() after end() on the zstd decoder');
    if (chunk.length > 0) this.#inbox.push(chunk);
  }

  end(): void {
    if (this.#state === FzstdState.Open) this.#state = FzstdState.Ending;
  }

  async read(max: number): Promise<Buffer[]> {
    for (;;) {
      this.#checkUsable();
      if (this.#out.length > 0) return takeFrom(this.#out, max);
      if (this.#state === FzstdState.Finished) return [];
      const chunk = this.#inbox[0];
      if (chunk !== undefined) {
        // Up to the end of the next block, so one push regenerates one block.
        const end = this.#blocks.advance(chunk, 0);
        if (end === chunk.length) this.#inbox.shift();
        else this.#inbox[0] = chunk.subarray(end);
        this.#sawInput = true;
        this.#run(chunk.subarray(0, end), false);
        continue;
      }
      if (this.#state === FzstdState.Open) return [];
      if (this.#sawInput) this.#run(new Uint8Array(0), true);
      this.#state = FzstdState.Finished;
    }
  }

  destroy(): void {
    this.#inbox = [];
    this.#out = [];
    if (this.#state !== FzstdState.Finished) this.#state = FzstdState.Destroyed;
  }

  #checkUsable(): void {
    if (this.#state === FzstdState.Failed) throw decodeError(this.#header, 'zstd', this.#error);
    if (this.#state === FzstdState.Destroyed) throw destroyedError(this.#header, 'zstd');
  }

  #run(input: Uint8Array, final: boolean): void {
    try {
      this.#decompress.push(input, final);
    } catch (error) {
      this.#error = error;
      this.#state = FzstdState.Failed;
      this.#out = [];
      this.#inbox = [];
      throw decodeError(this.#header, 'zstd', error);
    }
  }
}
