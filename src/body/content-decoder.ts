// The shape every Content-Encoding decoder has (RFC 9110 section 8.4), and the
// errors they raise. Decoders are pulled, not pushed: encoded bytes are handed
// over with write(), and decoding happens only as read(max) asks for output,
// so a small hostile body that expands to gigabytes costs no more memory than
// the reader asked for (docs/api.md section 2, "Reading is memory-bounded").

import { DecodeError } from '../errors.js';

export type Coding = 'gzip' | 'deflate' | 'br' | 'zstd';

/** Output chunk size of the zlib streams, and the step in which stacked decoders pass bytes on. */
export const CHUNK_SIZE = 64 * 1024;

/**
 * Decoded output a zlib stream may prepare ahead of reads (its readable
 * high-water mark): enough that zlib works while the reader handles the last
 * read, small enough to keep memory flat.
 */
export const READ_AHEAD = 4 * CHUNK_SIZE;

export interface ContentDecoder {
  /**
   * Hand over encoded bytes. Nothing is decoded yet: read() does that. `chunk`
   * must not be modified afterwards (it is kept until consumed).
   */
  write(chunk: Buffer): void;
  /** No more encoded bytes will come (calling it again does nothing). */
  end(): void;
  /**
   * Decoded bytes, `max` at most (`Infinity`: whatever is ready). Resolves with
   * a non-empty list when there is output; with an empty list when the decoder
   * has used up its input and needs write() or end(), or is `finished`.
   * Throws DecodeError on corrupt or truncated input. Calls must not overlap.
   */
  read(max: number): Promise<Buffer[]>;
  /** After end(): all output has been handed out. */
  readonly finished: boolean;
  /** Release resources (zlib handles) without finishing; a pending or later read() throws. */
  destroy(): void;
}

export function decodeError(header: string, coding: string, cause: unknown): DecodeError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new DecodeError(
    `Received response with content-encoding: ${header.trim()}, but failed to decode it (${coding}: ${reason})`,
    { cause },
  );
}

export function destroyedError(header: string, coding: string): DecodeError {
  return new DecodeError(`The ${coding} decoder for content-encoding: ${header.trim()} was destroyed`);
}

/** Moves up to `max` bytes from the front of `queue` into a list (splitting a buffer if needed). */
export function takeFrom(queue: Buffer[], max: number): Buffer[] {
  const out: Buffer[] = [];
  let room = max;
  while (room > 0 && queue.length > 0) {
    const first = queue[0]!;
    if (first.length <= room) {
      out.push(first);
      queue.shift();
      room -= first.length;
    } else {
      out.push(first.subarray(0, room));
      queue[0] = first.subarray(room);
      room = 0;
    }
  }
  return out;
}
