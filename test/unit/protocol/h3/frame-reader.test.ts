// The HTTP/3 frame reader (RFC 9114 section 7.1) fed whole, byte by byte and
// split at every point: DATA streamed, other frames collected, unknown and
// reserved types skipped, HTTP/2 types refused, truncation detected.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3ConnectionError,
  H3StreamError,
} from '../../../../src/protocol/h3/error-codes.js';
import { FrameReader } from '../../../../src/protocol/h3/frame-reader.js';
import {
  encodeFrame,
  encodeGoaway,
  encodeSettings,
  frameHeader,
} from '../../../../src/protocol/h3/frames.js';
import { encodeVarint } from '../../../../src/protocol/h3/varint.js';

type Event = [string, number | string];

function reader(events: Event[], max = 1024): FrameReader {
  return new FrameReader(
    {
      onDataFrame: (len) => events.push(['data-frame', len]),
      onData: (chunk) => events.push(['data', chunk.toString('latin1')]),
      onFrame: (type, payload) => events.push([`frame-${type}`, payload.toString('hex')]),
      tooLarge: (type, len) => new H3StreamError(0x107, `frame ${type} of ${len} too large`),
    },
    () => max,
  );
}

/** Joins adjacent data pieces so events compare whatever the split. */
function normalize(events: Event[]): Event[] {
  const out: Event[] = [];
  for (const e of events) {
    const last = out[out.length - 1];
    if (e[0] === 'data' && last?.[0] === 'data') last[1] = String(last[1]) + String(e[1]);
    else out.push([e[0], e[1]]);
  }
  return out;
}

/** Feeds `bytes` whole, byte by byte and cut at every point; returns the events of each way, normalized. */
function everySplit(bytes: Buffer): Event[][] {
  const ways: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let cut = 1; cut < bytes.length; cut++) ways.push([bytes.subarray(0, cut), bytes.subarray(cut)]);
  return ways.map((pieces) => {
    const events: Event[] = [];
    const r = reader(events);
    for (const p of pieces) r.push(p);
    r.end();
    return normalize(events);
  });
}

const reservedType = 0x1f * 3 + 0x21;

const stream = Buffer.concat([
  encodeFrame(0x01, Buffer.from('head')),
  frameHeader(reservedType, 5),
  Buffer.from('grease'.slice(0, 5)),
  encodeFrame(0x00, Buffer.from('hello ')),
  encodeFrame(0x00, Buffer.alloc(0)),
  encodeFrame(0x21, Buffer.from('unknown frame')),
  encodeFrame(0x00, Buffer.from('world'.repeat(40))),
  encodeFrame(0x01, Buffer.from('trailers')),
]);

const expected: Event[] = [
  ['frame-1', Buffer.from('head').toString('hex')],
  ['data-frame', 6],
  ['data', 'hello '],
  ['data-frame', 0],
  ['data-frame', 200],
  ['data', 'world'.repeat(40)],
  ['frame-1', Buffer.from('trailers').toString('hex')],
];

describe('FrameReader', () => {
  test('reads frames the same way whole, byte by byte and split at every point', () => {
    for (const events of everySplit(stream)) assert.deepEqual(events, expected);
  });

  test('DATA pieces are views of the input, not copies', () => {
    const input = encodeFrame(0x00, Buffer.from('abc'));
    let piece: Buffer | null = null;
    const r = new FrameReader(
      {
        onDataFrame: () => {},
        onData: (c) => (piece = c),
        onFrame: () => {},
        tooLarge: () => new Error('x'),
      },
      () => 0,
    );
    r.push(input);
    assert.ok(piece !== null);
    assert.equal((piece as Buffer).buffer, input.buffer);
  });

  test('SETTINGS and GOAWAY frames are collected whole', () => {
    const events: Event[] = [];
    const r = reader(events);
    r.push(Buffer.concat([encodeSettings(new Map([[6, 4096]])), encodeGoaway(8)]));
    assert.deepEqual(events, [
      ['frame-4', '06' + '5000'],
      ['frame-7', '08'],
    ]);
  });

  test('HTTP/2 frame types are H3_FRAME_UNEXPECTED', () => {
    for (const type of [0x02, 0x06, 0x08, 0x09]) {
      const r = reader([]);
      assert.throws(
        () => r.push(encodeFrame(type, Buffer.alloc(4))),
        (e: unknown) => e instanceof H3ConnectionError && e.h3Code === H3_FRAME_UNEXPECTED,
      );
    }
  });

  test('a stream ending inside a frame is H3_FRAME_ERROR at every cut', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const events: Event[] = [];
      const r = reader(events);
      r.push(stream.subarray(0, cut));
      const boundary = r.atBoundary;
      if (boundary) {
        r.end();
        continue;
      }
      assert.throws(
        () => r.end(),
        (e: unknown) => e instanceof H3ConnectionError && e.h3Code === H3_FRAME_ERROR,
        `cut ${cut}`,
      );
    }
  });

  test('a collected frame longer than the limit fails before its payload arrives', () => {
    const r = reader([], 10);
    assert.throws(() => r.push(frameHeader(0x01, 11)), /frame 1 of 11 too large/);
  });

  test('unknown frames of any length are skipped without a limit', () => {
    const events: Event[] = [];
    const r = reader(events, 10);
    r.push(Buffer.concat([encodeVarint(0x40), encodeVarint(100000)]));
    for (let i = 0; i < 100; i++) r.push(Buffer.alloc(1000));
    r.push(encodeFrame(0x00, Buffer.from('x')));
    r.end();
    assert.deepEqual(events, [
      ['data-frame', 1],
      ['data', 'x'],
    ]);
  });
});
