// The server's control stream, sans-IO (RFC 9114 section 6.2.1): SETTINGS
// first and only once, then GOAWAY (section 5.2) and frames to skip.
// SETTINGS rules (section 7.2.4): no identifier twice, none of HTTP/2's;
// unknown identifiers are ignored. GOAWAY from a server carries a client
// bidirectional stream id, never larger than an earlier one. Frames with no
// place here (DATA, HEADERS, PUSH_PROMISE, MAX_PUSH_ID, which only clients
// send) are H3_FRAME_UNEXPECTED; CANCEL_PUSH is H3_ID_ERROR since this
// client allows no pushes. The stream ending is H3_CLOSED_CRITICAL_STREAM.

import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MISSING_SETTINGS,
  H3_SETTINGS_ERROR,
  H3ConnectionError,
  H3_EXCESSIVE_LOAD,
} from './error-codes.js';
import { FrameReader } from './frame-reader.js';
import { FRAME_CANCEL_PUSH, FRAME_GOAWAY, FRAME_SETTINGS, HTTP2_ONLY_SETTINGS } from './frames.js';
import { readVarint, varintLengthOf } from './varint.js';

export interface ControlReaderHandlers {
  onSettings(settings: ReadonlyMap<number, number>): void;
  /** The server stops taking requests on streams >= `streamId`. */
  onGoaway(streamId: number): void;
}

/** A control frame bigger than this is refused: SETTINGS and GOAWAY are a few bytes. */
const MAX_CONTROL_FRAME = 16384;

/** Parses a SETTINGS payload (section 7.2.4.1). */
export function parseSettings(payload: Buffer): Map<number, number> {
  const settings = new Map<number, number>();
  let pos = 0;
  while (pos < payload.length) {
    const id = readVarint(payload, pos);
    if (id < 0) break;
    pos += varintLengthOf(payload[pos]!);
    const value = readVarint(payload, pos);
    if (value < 0) break;
    pos += varintLengthOf(payload[pos]!);
    if (HTTP2_ONLY_SETTINGS.has(id)) {
      throw new H3ConnectionError(H3_SETTINGS_ERROR, `SETTINGS carries HTTP/2 setting 0x${id.toString(16)}`);
    }
    if (settings.has(id)) {
      throw new H3ConnectionError(H3_SETTINGS_ERROR, `SETTINGS repeats setting 0x${id.toString(16)}`);
    }
    settings.set(id, value);
  }
  if (pos !== payload.length) throw new H3ConnectionError(H3_FRAME_ERROR, 'SETTINGS ends inside a setting');
  return settings;
}

/** Where the control stream is. */
export type ControlPhase = 'awaiting-settings' | 'open';

export class ControlReader {
  private phase: ControlPhase = 'awaiting-settings';
  private goaway = Number.POSITIVE_INFINITY;
  private readonly frames: FrameReader;

  constructor(private readonly handlers: ControlReaderHandlers) {
    this.frames = new FrameReader(
      {
        onDataFrame: () => {
          throw this.unexpected('DATA');
        },
        onData: () => {},
        onFrame: (type, payload) => this.onFrame(type, payload),
        tooLarge: (type, length) =>
          new H3ConnectionError(
            H3_EXCESSIVE_LOAD,
            `control frame 0x${type.toString(16)} of ${length} bytes is larger than ${MAX_CONTROL_FRAME}`,
          ),
      },
      () => MAX_CONTROL_FRAME,
    );
  }

  push(chunk: Buffer): void {
    this.frames.push(chunk);
  }

  end(): void {
    throw new H3ConnectionError(H3_CLOSED_CRITICAL_STREAM, 'the server closed its control stream');
  }

  private unexpected(what: string): H3ConnectionError {
    if (this.phase === 'awaiting-settings') {
      return new H3ConnectionError(
        H3_MISSING_SETTINGS,
        `the control stream starts with ${what}, not SETTINGS`,
      );
    }
    return new H3ConnectionError(H3_FRAME_UNEXPECTED, `${what} is not allowed on the control stream`);
  }

  private onFrame(type: number, payload: Buffer): void {
    if (type === FRAME_SETTINGS) {
      if (this.phase !== 'awaiting-settings') throw this.unexpected('a second SETTINGS');
      this.phase = 'open';
      this.handlers.onSettings(parseSettings(payload));
      return;
    }
    if (this.phase === 'awaiting-settings') throw this.unexpected(`frame type 0x${type.toString(16)}`);
    if (type === FRAME_GOAWAY) {
      const id = readVarint(payload, 0);
      if (id < 0 || varintLengthOf(payload[0]!) !== payload.length) {
        throw new H3ConnectionError(H3_FRAME_ERROR, 'GOAWAY payload is not one varint');
      }
      if (id % 4 !== 0) {
        throw new H3ConnectionError(H3_ID_ERROR, `GOAWAY names stream ${id}, not a client request stream`);
      }
      if (id > this.goaway) {
        throw new H3ConnectionError(H3_ID_ERROR, `GOAWAY raised its stream id from ${this.goaway} to ${id}`);
      }
      this.goaway = id;
      this.handlers.onGoaway(id);
      return;
    }
    if (type === FRAME_CANCEL_PUSH) {
      throw new H3ConnectionError(H3_ID_ERROR, 'CANCEL_PUSH received, but this client allows no server push');
    }
    throw this.unexpected(type === 0x01 ? 'HEADERS' : `frame type 0x${type.toString(16)}`);
  }
}
