// HTTP/3 frame and stream-type numbers, settings, and the encoders for the
// frames this client sends (RFC 9114 sections 6.2 and 7). A frame is
// Type (varint), Length (varint), Payload; the reader is frame-reader.ts.

import { encodeVarint, varintLength, writeVarint } from './varint.js';

export const FRAME_DATA = 0x00;
export const FRAME_HEADERS = 0x01;
export const FRAME_CANCEL_PUSH = 0x03;
export const FRAME_SETTINGS = 0x04;
export const FRAME_PUSH_PROMISE = 0x05;
export const FRAME_GOAWAY = 0x07;
export const FRAME_MAX_PUSH_ID = 0x0d;

/** HTTP/2 frame types with no HTTP/3 meaning: receiving one is H3_FRAME_UNEXPECTED (section 7.2.8). */
export const HTTP2_ONLY_FRAMES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

/** Unidirectional stream types (section 6.2; RFC 9204 section 4.2). */
export const STREAM_CONTROL = 0x00;
export const STREAM_PUSH = 0x01;
export const STREAM_QPACK_ENCODER = 0x02;
export const STREAM_QPACK_DECODER = 0x03;

/** Settings (section 7.2.4.1; RFC 9204 section 5; RFC 9220). */
export const SETTINGS_QPACK_MAX_TABLE_CAPACITY = 0x01;
export const SETTINGS_MAX_FIELD_SECTION_SIZE = 0x06;
export const SETTINGS_QPACK_BLOCKED_STREAMS = 0x07;
export const SETTINGS_ENABLE_CONNECT_PROTOCOL = 0x08;
export const SETTINGS_H3_DATAGRAM = 0x33;

/** HTTP/2 settings identifiers that must not appear in HTTP/3 SETTINGS (section 7.2.4.1). */
export const HTTP2_ONLY_SETTINGS: ReadonlySet<number> = new Set([0x00, 0x02, 0x03, 0x04, 0x05]);

/** Frame type + length, ready to precede `payloadLength` bytes of payload. */
export function frameHeader(type: number, payloadLength: number): Buffer {
  const buf = Buffer.allocUnsafe(varintLength(type) + varintLength(payloadLength));
  writeVarint(buf, writeVarint(buf, 0, type), payloadLength);
  return buf;
}

/** A whole frame. */
export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(type, payload.length), payload]);
}

/** A SETTINGS frame from identifier/value pairs (section 7.2.4). */
export function encodeSettings(settings: ReadonlyMap<number, number>): Buffer {
  const parts: Buffer[] = [];
  for (const [id, value] of settings) parts.push(encodeVarint(id), encodeVarint(value));
  return encodeFrame(FRAME_SETTINGS, Buffer.concat(parts));
}

/** A GOAWAY frame (section 7.2.6); from a client the id is a push id. */
export function encodeGoaway(id: number): Buffer {
  return encodeFrame(FRAME_GOAWAY, encodeVarint(id));
}

/**
 * What this client opens its control stream with: the stream type, then
 * SETTINGS advertising a zero-capacity QPACK dynamic table, no blocked
 * streams, and the largest field section it accepts (RFC 9114 section 6.2.1,
 * RFC 9204 section 3.2.3).
 */
export function clientControlStreamPreface(maxFieldSectionSize: number): Buffer {
  return Buffer.concat([
    encodeVarint(STREAM_CONTROL),
    encodeSettings(
      new Map([
        [SETTINGS_QPACK_MAX_TABLE_CAPACITY, 0],
        [SETTINGS_QPACK_BLOCKED_STREAMS, 0],
        [SETTINGS_MAX_FIELD_SECTION_SIZE, maxFieldSectionSize],
      ]),
    ),
  ]);
}
