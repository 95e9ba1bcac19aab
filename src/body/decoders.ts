// Content-Encoding decoding for response bodies (RFC 9110 section 8.4):
// gzip / x-gzip, deflate (zlib-wrapped or raw, told apart by the first two
// bytes), br, zstd, identity, and stacked lists such as `gzip, br`.
//
// Decoders are incremental and memory-bounded: each write hands back only the
// output that input produced; nothing accumulates the whole body. gzip, deflate
// and br run on node:zlib streams (work off the main thread); zstd uses
// node:zlib where the running Node has it (>= 22.15) and the pure-JS fzstd
// otherwise. This module knows nothing of responses or sockets.
//
// Unlike urllib3, bytes after the last gzip member are an error unless they
// are zero padding: node:zlib reports such garbage in the same step that
// decodes the member before it, so that member's output cannot be kept.

import type { Transform } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as FzstdDecompress } from 'fzstd';
import { DecodeError } from '../errors.js';

export interface ContentDecoder {
  /**
   * Feed encoded bytes; returns decoded output produced so far (possibly empty array).
   * Throws DecodeError on corrupt input. Calls must not overlap (await each one), and
   * `chunk` must not be modified afterwards (it may be kept until it is consumed).
   */
  write(chunk: Buffer): Promise<Buffer[]>;
  /** End of input; returns the remaining output. Throws DecodeError on truncated/corrupt input. */
  end(): Promise<Buffer[]>;
  /** Release resources (e.g. zlib handles) without finishing. */
  destroy(): void;
}

/** The codings this library can undo, for Accept-Encoding. */
export const SUPPORTED_ENCODINGS: readonly string[] = Object.freeze(['gzip', 'deflate', 'br', 'zstd']);

type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

// Output chunk size for zlib streams: fewer, larger chunks than zlib's 16 KiB default.
const CHUNK_SIZE = 64 * 1024;

// zstd frames may ask for a window of up to 2 GiB; like libzstd's default
// (windowLog 27) we refuse more than 128 MiB so a hostile server cannot make us
// allocate it.
const ZSTD_MAX_WINDOW = 2 ** 27;

type ZstdFactory = (options: { chunkSize: number }) => Transform;
type ZstdOneShot = (
  data: Buffer,
  options: { chunkSize: number },
  cb: (err: Error | null, out: Buffer) => void,
) => void;
// Feature-detected: Node 20's typings and runtime do not have these.
const nativeZstd = zlib as unknown as { createZstdDecompress?: ZstdFactory; zstdDecompress?: ZstdOneShot };

/**
 * A decoder for `contentEncoding` (a Content-Encoding header value), or null
 * when there is nothing to undo (absent, empty, `identity`) or the value names
 * a coding we do not know: the body is then passed through undecoded, as
 * urllib3 does. Codings are undone in reverse order of listing.
 */
export function createContentDecoder(contentEncoding: string): ContentDecoder | null {
  const codings = parseCodings(contentEncoding);
  if (codings === null || codings.length === 0) return null;
  const decoders = codings.reverse().map((coding) => makeDecoder(coding, contentEncoding));
  return decoders.length === 1 ? decoders[0]! : new StackedDecoder(decoders);
}

/**
 * Decodes a whole body at once (zlib's one-shot functions: faster than the
 * streaming decoder for preloaded bodies). Returns `data` itself when
 * createContentDecoder would return null.
 */
export async function decodeAll(contentEncoding: string, data: Buffer): Promise<Buffer> {
  const codings = parseCodings(contentEncoding);
  if (codings === null) return data;
  let out = data;
  for (const coding of codings.reverse()) {
    // urllib3 tolerates empty bodies whatever they claim to be encoded with.
    if (out.length === 0) return out;
    out = await decodeOnce(coding, out, contentEncoding);
  }
  return out;
}

/** The codings in order of application, or null when one is unknown. */
function parseCodings(contentEncoding: string): Coding[] | null {
  if (typeof contentEncoding !== 'string') return null;
  const codings: Coding[] = [];
  for (const part of contentEncoding.split(',')) {
    const coding = part.trim().toLowerCase();
    switch (coding) {
      case '':
      case 'identity':
        break;
      case 'gzip':
      case 'x-gzip':
        codings.push('gzip');
        break;
      case 'deflate':
      case 'br':
      case 'zstd':
        codings.push(coding);
        break;
      default:
        return null;
    }
  }
  return codings;
}

// Z_SYNC_FLUSH: hand out everything decodable after each write, so output a
// server flushed mid-stream (event streams, long polls) is not held back.
function makeDecoder(coding: Coding, header: string): ContentDecoder {
  switch (coding) {
    case 'gzip':
      return new ZlibDecoder(coding, header, 0, () =>
        zlib.createGunzip({ chunkSize: CHUNK_SIZE, flush: zlib.constants.Z_SYNC_FLUSH }),
      );
    case 'deflate':
      return new ZlibDecoder(coding, header, 2, (head) =>
        isZlibHeader(head)
          ? zlib.createInflate({ chunkSize: CHUNK_SIZE, flush: zlib.constants.Z_SYNC_FLUSH })
          : zlib.createInflateRaw({ chunkSize: CHUNK_SIZE, flush: zlib.constants.Z_SYNC_FLUSH }),
      );
    case 'br':
      return new ZlibDecoder(coding, header, 0, () => zlib.createBrotliDecompress({ chunkSize: CHUNK_SIZE }));
    case 'zstd': {
      const create = nativeZstd.createZstdDecompress;
      const inner =
        typeof create === 'function'
          ? new ZlibDecoder(coding, header, 0, () => create.call(zlib, { chunkSize: CHUNK_SIZE }))
          : new FzstdDecoder(header);
      return new ZstdDecoder(inner, header);
    }
  }
}

function decodeError(header: string, coding: string, cause: unknown): DecodeError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DecodeError(
    `Received response with content-encoding: ${header.trim()}, but failed to decode it (${coding}: ${reason})`,
    { cause },
  );
}

function destroyedError(header: string, coding: string): DecodeError {
  return new DecodeError(`The ${coding} decoder for content-encoding: ${header.trim()} was destroyed`);
}

/**
 * RFC 1950 section 2.2: CM = 8 (deflate), CINFO <= 7 and the 16-bit header a
 * multiple of 31. Raw deflate cannot look like this in practice: it would be a
 * stored block with non-zero padding bits, which no encoder writes.
 */
function isZlibHeader(head: Buffer): boolean {
  if (head.length < 2) return false;
  const cmf = head[0]!;
  const flg = head[1]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/** A node:zlib decompression stream with the byte count every zlib stream keeps. */
type ZlibStream = Transform & { readonly bytesWritten: number };

/** A node:zlib decompression stream driven write by write. */
class ZlibDecoder implements ContentDecoder {
  readonly #coding: Coding;
  readonly #header: string;
  /** How many leading bytes `create` needs to see before the stream can be chosen. */
  readonly #sniff: number;
  readonly #create: (head: Buffer) => Transform;
  #stream: ZlibStream | null = null;
  #head: Buffer | null = null;
  #out: Buffer[] = [];
  #error: unknown = null;
  #failWaiters = new Set<(error: unknown) => void>();
  /** Bytes handed to the zlib stream so far. */
  #fed = 0;
  /** The compressed stream is complete: zlib stopped taking input. */
  #complete = false;
  #readableEnded = false;
  #destroyed = false;
  #ended = false;

  constructor(coding: Coding, header: string, sniff: number, create: (head: Buffer) => Transform) {
    this.#coding = coding;
    this.#header = header;
    this.#sniff = sniff;
    this.#create = create;
  }

  async write(chunk: Buffer): Promise<Buffer[]> {
    this.#checkUsable();
    if (this.#ended) throw new DecodeError(`write() after end() on the ${this.#coding} decoder`);
    if (chunk.length === 0) return [];
    if (this.#stream === null && this.#sniff > 0) {
      const head = this.#head === null ? chunk : Buffer.concat([this.#head, chunk]);
      if (head.length < this.#sniff) {
        this.#head = head;
        return [];
      }
      this.#head = null;
      chunk = head;
    }
    await this.#feed(chunk);
    return this.#take();
  }

  async end(): Promise<Buffer[]> {
    this.#checkUsable();
    if (this.#ended) return this.#take();
    this.#ended = true;
    if (this.#head !== null) {
      // Fewer bytes than the sniff needs: zlib reports them as truncated below.
      const head = this.#head;
      this.#head = null;
      await this.#feed(head);
    }
    const stream = this.#stream;
    // No input at all: an empty body, which urllib3 accepts for every coding.
    if (stream === null) return [];
    if (!this.#complete && !this.#readableEnded) {
      try {
        await this.#send((done) => {
          stream.once('end', () => done());
          stream.end();
        });
      } catch (error) {
        this.#failed(error);
      }
    }
    stream.destroy();
    return this.#take();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#stream?.destroy();
    this.#out = [];
    const error = destroyedError(this.#header, this.#coding);
    for (const fail of this.#failWaiters) fail(error);
    this.#failWaiters.clear();
  }

  async #feed(chunk: Buffer): Promise<void> {
    // Whatever follows a complete stream (gzip zero padding, bytes after the
    // end of a deflate or brotli stream) is ignored, as zlib does.
    if (this.#complete) return;
    const stream = this.#stream ?? this.#open(chunk);
    this.#fed += chunk.length;
    try {
      await this.#send((done) => stream.write(chunk, done));
    } catch (error) {
      this.#failed(error);
    }
    // zlib consumes all it is given unless the compressed stream ended; it then
    // ends its readable side, and writing more would be an error.
    if (stream.bytesWritten < this.#fed) this.#complete = true;
  }

  #checkUsable(): void {
    if (this.#destroyed) throw destroyedError(this.#header, this.#coding);
    if (this.#error !== null) throw decodeError(this.#header, this.#coding, this.#error);
  }

  #open(head: Buffer): ZlibStream {
    const stream = this.#create(head) as ZlibStream;
    stream.on('data', (data: Buffer) => this.#out.push(data));
    stream.on('end', () => {
      this.#readableEnded = true;
    });
    stream.on('error', (error) => {
      this.#error ??= error;
      for (const fail of this.#failWaiters) fail(error);
      this.#failWaiters.clear();
    });
    this.#stream = stream;
    return stream;
  }

  /** Runs one stream operation, settling on its callback or on the stream's first error. */
  #send(op: (done: (error?: Error | null) => void) => void): Promise<void> {
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => reject(error);
      this.#failWaiters.add(fail);
      op((error) => {
        this.#failWaiters.delete(fail);
        if (error) reject(error);
        else resolve();
      });
    });
  }

  #failed(error: unknown): never {
    if (this.#destroyed) {
      throw error instanceof DecodeError ? error : destroyedError(this.#header, this.#coding);
    }
    this.#error ??= error;
    this.#stream?.destroy();
    this.#out = [];
    throw decodeError(this.#header, this.#coding, this.#error);
  }

  #take(): Buffer[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

/** zstd through fzstd (pure JS, synchronous), for Node versions without zlib zstd. */
class FzstdDecoder implements ContentDecoder {
  readonly #header: string;
  #out: Buffer[] = [];
  #decompress: FzstdDecompress | null;
  #error: unknown = null;
  #sawInput = false;

  constructor(header: string) {
    this.#header = header;
    this.#decompress = new FzstdDecompress((data) => {
      if (data.length > 0) this.#out.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  async write(chunk: Buffer): Promise<Buffer[]> {
    const decompress = this.#usable();
    if (chunk.length === 0) return [];
    this.#sawInput = true;
    this.#run(() => decompress.push(chunk));
    return this.#take();
  }

  async end(): Promise<Buffer[]> {
    const decompress = this.#usable();
    if (this.#sawInput) this.#run(() => decompress.push(new Uint8Array(0), true));
    this.#decompress = null;
    return this.#take();
  }

  destroy(): void {
    this.#decompress = null;
    this.#out = [];
  }

  #usable(): FzstdDecompress {
    if (this.#error !== null) throw decodeError(this.#header, 'zstd', this.#error);
    if (this.#decompress === null) throw destroyedError(this.#header, 'zstd');
    return this.#decompress;
  }

  #run(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.#error = error;
      this.#out = [];
      throw decodeError(this.#header, 'zstd', error);
    }
  }

  #take(): Buffer[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

/**
 * zstd with frame checks common to both back ends: the window-size limit and
 * detection of a body that stops inside a frame.
 */
class ZstdDecoder implements ContentDecoder {
  readonly #inner: ContentDecoder;
  readonly #header: string;
  readonly #guard = new ZstdFrameGuard();

  constructor(inner: ContentDecoder, header: string) {
    this.#inner = inner;
    this.#header = header;
  }

  async write(chunk: Buffer): Promise<Buffer[]> {
    try {
      this.#guard.feed(chunk);
    } catch (error) {
      this.#inner.destroy();
      throw decodeError(this.#header, 'zstd', error);
    }
    return this.#inner.write(chunk);
  }

  async end(): Promise<Buffer[]> {
    if (!this.#guard.atFrameBoundary()) {
      this.#inner.destroy();
      throw decodeError(this.#header, 'zstd', new Error('unexpected end of file (truncated zstd frame)'));
    }
    return this.#inner.end();
  }

  destroy(): void {
    this.#inner.destroy();
  }
}

enum GuardState {
  Magic = 0,
  FrameHeaderDescriptor = 1,
  FrameHeader = 2,
  BlockHeader = 3,
  SkippableSize = 4,
}

/**
 * Follows the frame structure of RFC 8878 without decompressing: frame
 * headers (to check the window size before any decoder allocates it), block
 * headers (to skip block contents) and skippable frames.
 */
class ZstdFrameGuard {
  #state = GuardState.Magic;
  // The longest header collected here is a frame header: 4 + 1 + 1 + 4 + 8 bytes.
  readonly #bytes = Buffer.alloc(18);
  #have = 0;
  #need = 4;
  #skip = 0;
  #singleSegment = false;
  #checksum = false;
  #headerSize = 0;

  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const n = Math.min(this.#need - this.#have, chunk.length - i);
      chunk.copy(this.#bytes, this.#have, i, i + n);
      this.#have += n;
      i += n;
      if (this.#have === this.#need) this.#advance();
    }
  }

  atFrameBoundary(): boolean {
    return this.#state === GuardState.Magic && this.#have === 0 && this.#skip === 0;
  }

  #advance(): void {
    const b = this.#bytes;
    switch (this.#state) {
      case GuardState.Magic: {
        const magic = b.readUInt32LE(0);
        if (magic === 0xfd2fb528) {
          this.#state = GuardState.FrameHeaderDescriptor;
          this.#need = 5;
        } else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
          this.#state = GuardState.SkippableSize;
          this.#need = 8;
        } else {
          throw new Error('not zstd data (unknown frame magic number)');
        }
        return;
      }
      case GuardState.FrameHeaderDescriptor: {
        const fhd = b[4]!;
        if (fhd & 0x08) throw new Error('invalid zstd frame header (reserved bit set)');
        this.#singleSegment = (fhd & 0x20) !== 0;
        this.#checksum = (fhd & 0x04) !== 0;
        const fcsFlag = fhd >> 6;
        const dictSize = [0, 1, 2, 4][fhd & 0x03]!;
        const fcsSize = fcsFlag === 0 ? (this.#singleSegment ? 1 : 0) : 1 << fcsFlag;
        this.#headerSize = 5 + (this.#singleSegment ? 0 : 1) + dictSize;
        this.#need = this.#headerSize + fcsSize;
        this.#state = GuardState.FrameHeader;
        if (this.#have === this.#need) this.#advance();
        return;
      }
      case GuardState.FrameHeader: {
        let window: number;
        if (this.#singleSegment) {
          // The frame content size is the window; 2-byte sizes are offset by 256.
          const size = this.#need - this.#headerSize;
          window = 0;
          for (let k = size - 1; k >= 0; k--) window = window * 256 + b[this.#headerSize + k]!;
          if (size === 2) window += 256;
        } else {
          const descriptor = b[5]!;
          const base = 2 ** (10 + (descriptor >> 3));
          window = base + (base / 8) * (descriptor & 0x07);
        }
        if (window > ZSTD_MAX_WINDOW) {
          throw new Error(`zstd frame window of ${window} bytes exceeds the ${ZSTD_MAX_WINDOW} byte limit`);
        }
        this.#expectBlock();
        return;
      }
      case GuardState.BlockHeader: {
        const header = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        const last = (header & 1) === 1;
        const type = (header >> 1) & 3;
        if (type === 3) throw new Error('invalid zstd block type');
        // An RLE block stores one byte, whatever size it expands to.
        this.#skip = (type === 1 ? 1 : header >>> 3) + (last && this.#checksum ? 4 : 0);
        if (last) this.#expectMagic();
        else this.#expectBlock();
        return;
      }
      case GuardState.SkippableSize:
        this.#skip = b.readUInt32LE(4);
        this.#expectMagic();
        return;
    }
  }

  #expectBlock(): void {
    this.#state = GuardState.BlockHeader;
    this.#have = 0;
    this.#need = 3;
  }

  #expectMagic(): void {
    this.#state = GuardState.Magic;
    this.#have = 0;
    this.#need = 4;
  }
}

/** Codings undone one after the other, each one's output fed to the next. */
class StackedDecoder implements ContentDecoder {
  /** In decoding order: the last coding listed comes first. */
  readonly #decoders: ContentDecoder[];

  constructor(decoders: ContentDecoder[]) {
    this.#decoders = decoders;
  }

  async write(chunk: Buffer): Promise<Buffer[]> {
    try {
      let chunks = [chunk];
      for (const decoder of this.#decoders) {
        chunks = await feed(decoder, chunks);
        if (chunks.length === 0) break;
      }
      return chunks;
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  async end(): Promise<Buffer[]> {
    try {
      let chunks: Buffer[] = [];
      for (const decoder of this.#decoders) {
        chunks = await feed(decoder, chunks);
        for (const tail of await decoder.end()) chunks.push(tail);
      }
      return chunks;
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  destroy(): void {
    for (const decoder of this.#decoders) decoder.destroy();
  }
}

async function feed(decoder: ContentDecoder, chunks: Buffer[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const chunk of chunks) {
    for (const piece of await decoder.write(chunk)) out.push(piece);
  }
  return out;
}

type OneShot = (
  data: Buffer,
  options: zlib.ZlibOptions,
  cb: (err: Error | null, out: Buffer) => void,
) => void;

function runOneShot(fn: OneShot, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fn(data, { chunkSize: CHUNK_SIZE }, (err, out) => (err ? reject(err) : resolve(out)));
  });
}

async function decodeStreaming(coding: Coding, data: Buffer, header: string): Promise<Buffer> {
  const decoder = makeDecoder(coding, header);
  const out = await decoder.write(data);
  for (const tail of await decoder.end()) out.push(tail);
  return Buffer.concat(out);
}

async function decodeOnce(coding: Coding, data: Buffer, header: string): Promise<Buffer> {
  try {
    switch (coding) {
      case 'gzip':
        return await runOneShot(zlib.gunzip, data);
      case 'deflate':
        return await runOneShot(isZlibHeader(data) ? zlib.inflate : zlib.inflateRaw, data);
      case 'br':
        return await runOneShot(zlib.brotliDecompress as OneShot, data);
      case 'zstd': {
        const oneShot = nativeZstd.zstdDecompress;
        if (typeof oneShot !== 'function') return await decodeStreaming(coding, data, header);
        const guard = new ZstdFrameGuard();
        guard.feed(data);
        if (!guard.atFrameBoundary()) throw new Error('unexpected end of file (truncated zstd frame)');
        return await runOneShot(oneShot.bind(zlib) as OneShot, data);
      }
    }
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw decodeError(header, coding, error);
  }
}
