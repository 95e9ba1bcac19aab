// Content-Encoding decoding for response bodies (RFC 9110 section 8.4):
// gzip / x-gzip, deflate (zlib-wrapped or raw, told apart by the first two
// bytes), br, zstd, identity, and stacked lists such as `gzip, br`, at most
// five deep (MAX_STACKED_CODINGS, as urllib3 since 2.6).
//
// Streaming decoders are pulled (content-decoder.ts): output is produced only
// as the reader asks for it, so memory stays bounded by what was asked for
// whatever a body expands to. gzip, deflate and br run on node:zlib streams
// (zlib-decoder.ts); zstd on node:zlib where the running Node has it
// (>= 22.15) and on the pure-JS fzstd otherwise (zstd-decoder.ts). A whole
// body (a preloaded response) is decoded in one go by decodeAll(); it is as
// large as it is. This module knows nothing of responses or sockets.
//
// Unlike urllib3, bytes after the last gzip member are an error unless they
// are zero padding: node:zlib reports such garbage in the same step that
// decodes the member before it, so that member's output cannot be kept.

import zlib from 'node:zlib';
import { decompress as fzstdDecompress } from 'fzstd';
import { DecodeError } from '../errors.js';
import { type Coding, type ContentDecoder, CHUNK_SIZE, decodeError, READ_AHEAD } from './content-decoder.js';
import { StackedDecoder } from './stacked-decoder.js';
import { ZlibDecoder } from './zlib-decoder.js';
import { checkZstdFrames, createZstdDecoder, nativeZstd } from './zstd-decoder.js';

export type { ContentDecoder } from './content-decoder.js';

/** The codings this library can undo, for Accept-Encoding. */
export const SUPPORTED_ENCODINGS: readonly string[] = Object.freeze(['gzip', 'deflate', 'br', 'zstd']);

/**
 * How many codings one Content-Encoding may stack (identity not counted).
 * More is a DecodeError, as in urllib3 2.6 (CVE-2025-66418): each layer
 * costs a decoder, and a chain of a thousand is an attack, not a body.
 */
export const MAX_STACKED_CODINGS = 5;

/**
 * A decoder for `contentEncoding` (a Content-Encoding header value), or null
 * when there is nothing to undo (absent, empty, `identity`) or the value names
 * a coding we do not know: the body is then passed through undecoded, as
 * urllib3 does. Codings are undone in reverse order of listing. Throws
 * DecodeError when more than MAX_STACKED_CODINGS are listed.
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

/** decodeAll() on the calling thread, for a response built by hand around a body (docs/api.md section 2). */
export function decodeAllSync(contentEncoding: string, data: Buffer): Buffer {
  const codings = parseCodings(contentEncoding);
  if (codings === null) return data;
  let out = data;
  for (const coding of codings.reverse()) {
    if (out.length === 0) return out;
    try {
      out = decodeOnceSync(coding, out);
    } catch (error) {
      throw decodeError(contentEncoding, coding, error);
    }
  }
  return out;
}

/** The codings in order of application, or null when one is unknown. */
function parseCodings(contentEncoding: string): Coding[] | null {
  if (typeof contentEncoding !== 'string') return null;
  const codings: Coding[] = [];
  let unknown = false;
  for (const part of contentEncoding.split(',')) {
    const coding = part.trim().toLowerCase();
    switch (coding) {
      case '':
      case 'identity':
        continue;
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
        unknown = true;
        codings.push(coding as Coding);
    }
    if (codings.length > MAX_STACKED_CODINGS) {
      throw new DecodeError(
        `Received response with content-encoding: ${truncate(contentEncoding)}, which stacks more than ` +
          `${MAX_STACKED_CODINGS} codings: too many content encodings in the chain`,
      );
    }
  }
  return unknown ? null : codings;
}

function truncate(header: string): string {
  const trimmed = header.trim();
  return trimmed.length > 80 ? `${trimmed.slice(0, 77)}...` : trimmed;
}

// Z_SYNC_FLUSH: hand out everything decodable after each write, so output a
// server flushed mid-stream (event streams, long polls) is not held back.
// readableHighWaterMark: zlib stops once READ_AHEAD bytes of output wait unread.
const ZLIB_OPTIONS = {
  chunkSize: CHUNK_SIZE,
  readableHighWaterMark: READ_AHEAD,
  flush: zlib.constants.Z_SYNC_FLUSH,
};

function makeDecoder(coding: Coding, header: string): ContentDecoder {
  switch (coding) {
    case 'gzip':
      return new ZlibDecoder(coding, header, 0, () => zlib.createGunzip(ZLIB_OPTIONS));
    case 'deflate':
      return new ZlibDecoder(coding, header, 2, (head) =>
        isZlibHeader(head) ? zlib.createInflate(ZLIB_OPTIONS) : zlib.createInflateRaw(ZLIB_OPTIONS),
      );
    case 'br':
      return new ZlibDecoder(coding, header, 0, () =>
        // The options reach the stream's Transform, as for the other zlib streams; the typings omit it.
        zlib.createBrotliDecompress({
          chunkSize: CHUNK_SIZE,
          readableHighWaterMark: READ_AHEAD,
        } as zlib.BrotliOptions),
      );
    case 'zstd':
      return createZstdDecoder(header);
  }
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
  decoder.write(data);
  decoder.end();
  const out: Buffer[] = [];
  while (!decoder.finished) for (const piece of await decoder.read(Number.POSITIVE_INFINITY)) out.push(piece);
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
        checkZstdFrames(data);
        return await runOneShot(oneShot.bind(zlib) as OneShot, data);
      }
    }
  } catch (error) {
    if (error instanceof DecodeError) throw error;
    throw decodeError(header, coding, error);
  }
}

function decodeOnceSync(coding: Coding, data: Buffer): Buffer {
  switch (coding) {
    case 'gzip':
      return zlib.gunzipSync(data, { chunkSize: CHUNK_SIZE });
    case 'deflate':
      return (isZlibHeader(data) ? zlib.inflateSync : zlib.inflateRawSync)(data, { chunkSize: CHUNK_SIZE });
    case 'br':
      return zlib.brotliDecompressSync(data, { chunkSize: CHUNK_SIZE });
    case 'zstd': {
      checkZstdFrames(data);
      const sync = nativeZstd.zstdDecompressSync;
      if (typeof sync === 'function') return sync.call(zlib, data);
      const out = fzstdDecompress(data);
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    }
  }
}
