// Incremental HTTP/3 frame reader for one stream (RFC 9114 section 7.1):
// bytes go in as the transport delivers them, cut anywhere; frames come out.
// DATA payloads are streamed as zero-copy views of the input, never
// collected; other known frames are collected up to a size limit and handed
// over whole; unknown and reserved frame types (section 7.2.8, 9) are skipped
// without being stored. HTTP/2 frame types are a connection error.
// What a frame means on which stream is for the readers built on this one.

import { H3_FRAME_ERROR, H3_FRAME_UNEXPECTED, H3ConnectionError } from './error-codes.js';
import {
  FRAME_CANCEL_PUSH,
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_MAX_PUSH_ID,
  FRAME_PUSH_PROMISE,
  FRAME_SETTINGS,
  HTTP2_ONLY_FRAMES,
} from './frames.js';
import { readVarint, varintLengthOf } from './varint.js';

/** Frame types whose payload is collected and handed over whole. */
const COLLECTED: ReadonlySet<number> = new Set([
  FRAME_HEADERS,
  FRAME_CANCEL_PUSH,
  FRAME_SETTINGS,
  FRAME_PUSH_PROMISE,
  FRAME_GOAWAY,
  FRAME_MAX_PUSH_ID,
]);

export interface FrameReaderHandlers {
  /** A DATA frame begins (called for empty ones too). */
  onDataFrame(length: number): void;
  /** A piece of the current DATA frame's payload. */
  onData(chunk: Buffer): void;
  /** A complete HEADERS, SETTINGS, GOAWAY, CANCEL_PUSH, PUSH_PROMISE or MAX_PUSH_ID frame. */
  onFrame(type: number, payload: Buffer): void;
  /** The error for a collected frame longer than `maxPayload(type)` allows. */
  tooLarge(type: number, length: number): Error;
}

/** Where the reader is: named states, one frame at a time. */
export type FrameReaderState = 'type' | 'length' | 'collect' | 'data' | 'skip';

export class FrameReader {
  private state: FrameReaderState = 'type';
  private readonly pending = Buffer.allocUnsafe(8);
  private pendingLen = 0;
  private value = 0;
  private type = 0;
  private remaining = 0;
  private parts: Buffer[] = [];

  constructor(
    private readonly handlers: FrameReaderHandlers,
    private readonly maxPayload: (type: number) => number,
  ) {}

  /** Between frames, with nothing half read. */
  get atBoundary(): boolean {
    return this.state === 'type' && this.pendingLen === 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.state) {
        case 'type': {
          pos = this.varint(chunk, pos);
          if (pos < 0) return;
          this.type = this.value;
          if (HTTP2_ONLY_FRAMES.has(this.type)) {
            throw new H3ConnectionError(
              H3_FRAME_UNEXPECTED,
              `received HTTP/2 frame type 0x${this.type.toString(16)}, which HTTP/3 does not have`,
            );
          }
          this.state = 'length';
          break;
        }
        case 'length': {
          pos = this.varint(chunk, pos);
          if (pos < 0) return;
          this.startPayload(this.value);
          break;
        }
        case 'data': {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          const piece = chunk.subarray(pos, pos + n);
          pos += n;
          if (this.remaining === 0) this.state = 'type';
          this.handlers.onData(piece);
          break;
        }
        case 'collect': {
          const n = Math.min(this.remaining, end - pos);
          this.parts.push(chunk.subarray(pos, pos + n));
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.finishCollect();
          break;
        }
        case 'skip': {
          const n = Math.min(this.remaining, end - pos);
          this.remaining -= n;
          pos += n;
          if (this.remaining === 0) this.state = 'type';
          break;
        }
      }
    }
  }

  /** The stream ended: a frame cut short is H3_FRAME_ERROR (section 7.1). */
  end(): void {
    if (!this.atBoundary) {
      throw new H3ConnectionError(H3_FRAME_ERROR, 'the stream ended in the middle of a frame');
    }
  }

  private startPayload(length: number): void {
    const type = this.type;
    this.remaining = length;
    if (type === FRAME_DATA) {
      this.state = length === 0 ? 'type' : 'data';
      this.handlers.onDataFrame(length);
    } else if (COLLECTED.has(type)) {
      if (length > this.maxPayload(type)) throw this.handlers.tooLarge(type, length);
      this.parts = [];
      this.state = 'collect';
      if (length === 0) this.finishCollect();
    } else {
      this.state = length === 0 ? 'type' : 'skip';
    }
  }

  private finishCollect(): void {
    const parts = this.parts;
    this.parts = [];
    this.state = 'type';
    const payload = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.handlers.onFrame(this.type, payload);
  }

  /** Reads a varint that may be split across pushes; -1 when the chunk ran out first. */
  private varint(chunk: Buffer, pos: number): number {
    if (this.pendingLen === 0) {
      const len = varintLengthOf(chunk[pos]!);
      if (pos + len <= chunk.length) {
        this.value = readVarint(chunk, pos);
        return pos + len;
      }
    }
    while (pos < chunk.length) {
      this.pending[this.pendingLen++] = chunk[pos++]!;
      if (this.pendingLen === varintLengthOf(this.pending[0]!)) {
        this.value = readVarint(this.pending.subarray(0, this.pendingLen), 0);
        this.pendingLen = 0;
        return pos;
      }
    }
    return -1;
  }
}
