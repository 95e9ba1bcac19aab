// The server's unidirectional streams (RFC 9114 section 6.2, RFC 9204
// section 4.2): the control stream's SETTINGS and GOAWAY rules, the QPACK
// streams at a zero table capacity, reserved stream types ignored, and the
// client's own control stream preface. Fed whole and split at every byte.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../../../src/errors.js';
import { parseSettings } from '../../../../src/protocol/h3/control-reader.js';
import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MISSING_SETTINGS,
  H3_REQUEST_CANCELLED,
  H3_REQUEST_REJECTED,
  H3_SETTINGS_ERROR,
  H3_STREAM_CREATION_ERROR,
  H3ConnectionError,
  h3CodeName,
  peerResetError,
  QPACK_DECODER_STREAM_ERROR,
  QPACK_ENCODER_STREAM_ERROR,
} from '../../../../src/protocol/h3/error-codes.js';
import {
  clientControlStreamPreface,
  encodeFrame,
  encodeGoaway,
  encodeSettings,
} from '../../../../src/protocol/h3/frames.js';
import { PeerStreams } from '../../../../src/protocol/h3/peer-streams.js';
import { encodeVarint } from '../../../../src/protocol/h3/varint.js';

const hex = (s: string) => Buffer.from(s.replace(/ /g, ''), 'hex');

function peer() {
  const events: unknown[] = [];
  const streams = new PeerStreams({
    onSettings: (s) => events.push(['settings', [...s]]),
    onGoaway: (id) => events.push(['goaway', id]),
  });
  return { events, streams };
}

function code(c: number) {
  return (e: unknown) => e instanceof H3ConnectionError && e.h3Code === c;
}

const control = Buffer.concat([
  encodeVarint(0x00),
  encodeSettings(
    new Map([
      [0x01, 0],
      [0x06, 16384],
      [0x21, 7],
    ]),
  ),
  encodeFrame(0x1f * 2 + 0x21, Buffer.from('grease')),
  encodeGoaway(8),
  encodeGoaway(4),
]);

describe('the server control stream', () => {
  test('SETTINGS then GOAWAYs are reported the same way at every split', () => {
    const expected = [
      [
        'settings',
        [
          [1, 0],
          [6, 16384],
          [0x21, 7],
        ],
      ],
      ['goaway', 8],
      ['goaway', 4],
    ];
    for (let cut = 0; cut <= control.length; cut++) {
      const { events, streams } = peer();
      assert.equal(streams.push(3, control.subarray(0, cut)), 'read');
      streams.push(3, control.subarray(cut));
      assert.deepEqual(events, expected, `cut ${cut}`);
    }
    const { events, streams } = peer();
    for (const b of control) streams.push(3, Buffer.from([b]));
    assert.equal(events.length, 3);
  });

  test('a first frame other than SETTINGS is H3_MISSING_SETTINGS', () => {
    const { streams } = peer();
    assert.throws(
      () => streams.push(3, Buffer.concat([encodeVarint(0), encodeGoaway(0)])),
      code(H3_MISSING_SETTINGS),
    );
  });

  test('a second SETTINGS, DATA or HEADERS on the control stream is H3_FRAME_UNEXPECTED', () => {
    for (const frame of [
      encodeSettings(new Map()),
      encodeFrame(0, Buffer.alloc(1)),
      encodeFrame(1, Buffer.alloc(1)),
    ]) {
      const { streams } = peer();
      streams.push(3, Buffer.concat([encodeVarint(0), encodeSettings(new Map())]));
      assert.throws(() => streams.push(3, frame), code(H3_FRAME_UNEXPECTED));
    }
  });

  test('a GOAWAY that raises its id, or names no client request stream, is H3_ID_ERROR', () => {
    const start = Buffer.concat([encodeVarint(0), encodeSettings(new Map()), encodeGoaway(4)]);
    let p = peer();
    p.streams.push(3, start);
    assert.throws(() => p.streams.push(3, encodeGoaway(8)), code(H3_ID_ERROR));
    p = peer();
    p.streams.push(3, Buffer.concat([encodeVarint(0), encodeSettings(new Map())]));
    assert.throws(() => p.streams.push(3, encodeGoaway(6)), code(H3_ID_ERROR));
  });

  test('the control stream closing is H3_CLOSED_CRITICAL_STREAM', () => {
    const { streams } = peer();
    streams.push(3, control);
    assert.throws(() => streams.end(3), code(H3_CLOSED_CRITICAL_STREAM));
  });

  test('a second control stream is H3_STREAM_CREATION_ERROR', () => {
    const { streams } = peer();
    streams.push(3, control);
    assert.throws(() => streams.push(7, encodeVarint(0)), code(H3_STREAM_CREATION_ERROR));
  });
});

describe('SETTINGS', () => {
  test('a repeated identifier or an HTTP/2 setting is H3_SETTINGS_ERROR', () => {
    assert.throws(() => parseSettings(hex('0600 0601')), code(H3_SETTINGS_ERROR));
    for (const id of [0x02, 0x03, 0x04, 0x05])
      assert.throws(() => parseSettings(Buffer.from([id, 0])), code(H3_SETTINGS_ERROR));
  });

  test('this client advertises a zero QPACK table, no blocked streams and its header limit', () => {
    const preface = clientControlStreamPreface(65536);
    assert.equal(preface[0], 0x00, 'control stream type');
    assert.equal(preface[1], 0x04, 'SETTINGS');
    const settings = parseSettings(preface.subarray(3));
    assert.deepEqual(
      [...settings],
      [
        [0x01, 0],
        [0x07, 0],
        [0x06, 65536],
      ],
    );
  });
});

describe('other unidirectional streams', () => {
  test('reserved and unknown stream types are ignored', () => {
    const { streams } = peer();
    assert.equal(
      streams.push(11, Buffer.concat([encodeVarint(0x1f * 5 + 0x21), Buffer.from('xyz')])),
      'ignore',
    );
    assert.equal(streams.push(15, encodeVarint(0x54)), 'ignore');
    streams.end(11);
  });

  test('an ignored stream is forgotten at once: a thousand reserved streams keep no state', () => {
    const { streams } = peer();
    for (let i = 0; i < 1000; i++) {
      assert.equal(streams.push(15 + 4 * i, encodeVarint(0x1f * i + 0x21)), 'ignore');
    }
    assert.equal(streams.size, 0);
  });

  test('a stream type split across pushes is read once complete', () => {
    const { streams } = peer();
    const type = encodeVarint(0x1f * 1000 + 0x21);
    assert.equal(streams.push(11, type.subarray(0, 1)), 'read');
    assert.equal(streams.push(11, type.subarray(1)), 'ignore');
  });

  test('a push stream is H3_ID_ERROR: this client allows no push', () => {
    const { streams } = peer();
    assert.throws(() => streams.push(3, Buffer.from([0x01, 0x00])), code(H3_ID_ERROR));
  });

  test('the QPACK encoder stream may only set a zero capacity', () => {
    const { streams } = peer();
    assert.equal(streams.push(7, Buffer.from([0x02, 0x20, 0x20])), 'read');
    assert.throws(() => streams.push(7, Buffer.from([0x3f, 0x01])), code(QPACK_ENCODER_STREAM_ERROR));
    for (const insert of [0xc0, 0x40, 0x00]) {
      const p = peer();
      assert.throws(() => p.streams.push(7, Buffer.from([0x02, insert])), code(QPACK_ENCODER_STREAM_ERROR));
    }
  });

  test('the QPACK decoder stream may only cancel streams', () => {
    const { streams } = peer();
    // Stream Cancellation for stream 4, then for stream 200 (6-bit prefix continued), split inside.
    assert.equal(streams.push(11, Buffer.from([0x03, 0x44, 0x7f])), 'read');
    assert.equal(streams.push(11, Buffer.from([0x89])), 'read');
    assert.equal(streams.push(11, Buffer.from([0x01])), 'read');
    assert.throws(() => streams.push(11, Buffer.from([0x81])), code(QPACK_DECODER_STREAM_ERROR));
    const p = peer();
    assert.throws(() => p.streams.push(11, Buffer.from([0x03, 0x01])), code(QPACK_DECODER_STREAM_ERROR));
  });

  test('closing a QPACK stream is H3_CLOSED_CRITICAL_STREAM', () => {
    const { streams } = peer();
    streams.push(7, Buffer.from([0x02]));
    assert.throws(() => streams.end(7), code(H3_CLOSED_CRITICAL_STREAM));
  });
});

describe('error codes', () => {
  test('have their RFC names; reserved codes are named as such', () => {
    assert.equal(h3CodeName(0x10b), 'H3_REQUEST_REJECTED');
    assert.equal(h3CodeName(0x200), 'QPACK_DECOMPRESSION_FAILED');
    assert.equal(h3CodeName(0x21 + 0x1f * 4), 'reserved code 0x9d');
    assert.equal(h3CodeName(0x999), '0x999');
  });

  test('H3_REQUEST_REJECTED before a response marks the request not processed, as REFUSED_STREAM', () => {
    const rejected = peerResetError(H3_REQUEST_REJECTED, 'conn a.test:443', false);
    assert.ok(rejected instanceof ProtocolError);
    assert.equal(rejected.processed, false);
    assert.match(
      rejected.message,
      /conn a\.test:443: the server rejected the request \(H3_REQUEST_REJECTED\); the request was not processed/,
    );
  });

  test('other resets leave "processed" unknown', () => {
    assert.equal(peerResetError(H3_REQUEST_CANCELLED, 'x', false).processed, null);
    assert.equal(peerResetError(H3_REQUEST_REJECTED, 'x', true).processed, null);
    assert.match(
      peerResetError(H3_REQUEST_CANCELLED, 'x', false).message,
      /reset the stream with H3_REQUEST_CANCELLED/,
    );
  });
});
