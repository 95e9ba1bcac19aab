// The unidirectional streams a server opens, sans-IO (RFC 9114 section 6.2,
// RFC 9204 section 4.2). Each starts with a stream type: the control stream
// (handed to ControlReader), the QPACK encoder and decoder streams, push
// streams, or a reserved/unknown type, which is ignored: `push` answers
// 'ignore' and the session stops reading it. One control, one encoder and one
// decoder stream at most (H3_STREAM_CREATION_ERROR); a push stream is
// H3_ID_ERROR as this client allows no pushes. Closing a critical stream is
// H3_CLOSED_CRITICAL_STREAM.
//
// With a dynamic table capacity of 0 advertised, the server's QPACK encoder
// stream may only say "Set Dynamic Table Capacity 0" (RFC 9204 section 4.3):
// any insertion is QPACK_ENCODER_STREAM_ERROR. Its decoder stream speaks of
// this client's encoder, which never uses the table: Section Acknowledgment
// and Insert Count Increment are QPACK_DECODER_STREAM_ERROR, Stream
// Cancellation is read and ignored (section 4.4).

import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_ID_ERROR,
  H3_STREAM_CREATION_ERROR,
  H3ConnectionError,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from './error-codes.js';
import { ControlReader, type ControlReaderHandlers } from './control-reader.js';
import { STREAM_CONTROL, STREAM_PUSH, STREAM_QPACK_DECODER, STREAM_QPACK_ENCODER } from './frames.js';
import { readVarint, varintLengthOf } from './varint.js';

/** What one incoming stream is, once its type is read. */
type Kind = 'unknown-yet' | 'control' | 'qpack-encoder' | 'qpack-decoder' | 'ignored';

interface Incoming {
  kind: Kind;
  /** Bytes not consumed yet: a split stream type or QPACK instruction. */
  pending: Buffer | null;
}

/** What the session should do with a stream after `push`. */
export type UniVerdict = 'read' | 'ignore';

export class PeerStreams {
  private readonly streams = new Map<number, Incoming>();
  private readonly seen = new Set<Kind>();
  private readonly control: ControlReader;

  constructor(handlers: ControlReaderHandlers) {
    this.control = new ControlReader(handlers);
  }

  /** Bytes arrived on unidirectional stream `id`. */
  push(id: number, chunk: Buffer): UniVerdict {
    let s = this.streams.get(id);
    if (s === undefined) {
      s = { kind: 'unknown-yet', pending: null };
      this.streams.set(id, s);
    }
    let data = s.pending === null ? chunk : Buffer.concat([s.pending, chunk]);
    s.pending = null;
    if (s.kind === 'unknown-yet') {
      if (data.length === 0) return 'read';
      const type = readVarint(data, 0);
      if (type < 0) {
        s.pending = Buffer.from(data);
        return 'read';
      }
      s.kind = this.kindOf(type);
      data = data.subarray(varintLengthOf(data[0]!));
    }
    switch (s.kind) {
      case 'control':
        this.control.push(data);
        return 'read';
      case 'qpack-encoder':
        s.pending = encoderInstructions(data);
        return 'read';
      case 'qpack-decoder':
        s.pending = decoderInstructions(data);
        return 'read';
      default:
        // Forgotten at once: the caller stops reading it and passes none of its bytes again
        // (kept, one entry per reserved stream a server opens would pile up for the connection's life).
        this.streams.delete(id);
        return 'ignore';
    }
  }

  /** How many incoming streams are being read (their state kept). */
  get size(): number {
    return this.streams.size;
  }

  /** Unidirectional stream `id` ended (FIN or reset). */
  end(id: number): void {
    const s = this.streams.get(id);
    this.streams.delete(id);
    if (s === undefined) return;
    if (s.kind === 'control') this.control.end();
    if (s.kind === 'qpack-encoder' || s.kind === 'qpack-decoder') {
      throw new H3ConnectionError(
        H3_CLOSED_CRITICAL_STREAM,
        `the server closed its QPACK ${s.kind.slice(6)} stream`,
      );
    }
  }

  private kindOf(type: number): Kind {
    let kind: Kind;
    if (type === STREAM_CONTROL) kind = 'control';
    else if (type === STREAM_QPACK_ENCODER) kind = 'qpack-encoder';
    else if (type === STREAM_QPACK_DECODER) kind = 'qpack-decoder';
    else if (type === STREAM_PUSH) {
      throw new H3ConnectionError(
        H3_ID_ERROR,
        'the server opened a push stream, but this client allows no push',
      );
    } else return 'ignored';
    if (this.seen.has(kind)) {
      throw new H3ConnectionError(H3_STREAM_CREATION_ERROR, `the server opened a second ${kind} stream`);
    }
    this.seen.add(kind);
    return kind;
  }
}

/**
 * Reads the server's QPACK encoder stream; returns bytes of an instruction
 * not complete yet, or null. Only Set Dynamic Table Capacity 0 (0x20) is
 * acceptable at capacity 0.
 */
function encoderInstructions(data: Buffer): Buffer | null {
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x20) continue;
    const what =
      (b & 0xe0) === 0x20
        ? 'set a dynamic table capacity above the 0 this client allows'
        : 'inserted into the dynamic table, whose capacity this client set to 0';
    throw new H3ConnectionError(QPACK_ENCODER_STREAM_ERROR, `the server's QPACK encoder ${what}`);
  }
  return null;
}

/** Reads the server's QPACK decoder stream; returns bytes of an incomplete instruction, or null. */
function decoderInstructions(data: Buffer): Buffer | null {
  let pos = 0;
  while (pos < data.length) {
    const b = data[pos]!;
    if (b & 0x80) {
      throw new H3ConnectionError(
        QPACK_DECODER_STREAM_ERROR,
        'Section Acknowledgment for a field section that used no dynamic table',
      );
    }
    if (!(b & 0x40)) {
      throw new H3ConnectionError(
        QPACK_DECODER_STREAM_ERROR,
        'Insert Count Increment, but this client never inserts into the dynamic table',
      );
    }
    // Stream Cancellation: 01 stream-id(6); skip the integer, continuation bytes included.
    let end = pos + 1;
    if ((b & 0x3f) === 0x3f) {
      while (end < data.length && data[end]! & 0x80) end++;
      if (end >= data.length) return Buffer.from(data.subarray(pos));
      end++;
    }
    pos = end;
  }
  return null;
}
