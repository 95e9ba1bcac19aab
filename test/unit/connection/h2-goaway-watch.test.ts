// The scanner under the GOAWAY watch (src/connection/h2-goaway-watch.ts):
// it reads the client's outgoing HTTP/2 frames, byte stream cut anywhere,
// and reports a GOAWAY with an error code, never one without, never a frame
// that only looks like one inside another frame's payload.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { OutgoingFrameScanner } from '../../../src/connection/h2-goaway-watch.js';
import { FrameType, frame, goaway, PREFACE, settings } from '../../support/h2-raw.js';

function scanAll(pieces: Buffer[]): Array<[number, string]> {
  const seen: Array<[number, string]> = [];
  const s = new OutgoingFrameScanner((code, detail) => seen.push([code, detail]));
  for (const p of pieces) s.scan(p);
  return seen;
}

function withDebug(code: number, text: string): Buffer {
  const g = goaway(0, code);
  const payload = Buffer.concat([g.subarray(9), Buffer.from(text)]);
  return frame(FrameType.GOAWAY, 0, 0, payload);
}

describe('OutgoingFrameScanner', () => {
  const stream = Buffer.concat([
    PREFACE,
    settings([[3, 100]]),
    // A DATA payload that contains the bytes of a GOAWAY frame: not a GOAWAY.
    frame(FrameType.DATA, 0, 1, withDebug(1, 'fake')),
    goaway(0, 0),
    withDebug(1, 'DATA: stream_id == 0'),
  ]);

  test('a GOAWAY with an error code is reported with its debug data, whole or cut at any byte', () => {
    assert.deepEqual(scanAll([stream]), [[1, 'DATA: stream_id == 0']]);
    for (let cut = 1; cut < stream.length; cut++) {
      assert.deepEqual(
        scanAll([stream.subarray(0, cut), stream.subarray(cut)]),
        [[1, 'DATA: stream_id == 0']],
        `cut at ${cut}`,
      );
    }
    assert.deepEqual(scanAll([...stream].map((b) => Buffer.from([b]))), [[1, 'DATA: stream_id == 0']]);
  });

  test('GOAWAY(NO_ERROR), the client closing politely, is not reported', () => {
    assert.deepEqual(scanAll([PREFACE, goaway(7, 0)]), []);
  });
});
