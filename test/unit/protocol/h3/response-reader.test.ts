// The response side of a request stream (RFC 9114 section 4.1): interim
// heads, the final head, DATA and trailers in order, split at every byte;
// frames out of order, malformed heads and oversized sections refused with
// the right HTTP/3 error codes.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../../../src/errors.js';
import {
  H3_EXCESSIVE_LOAD,
  H3_FRAME_ERROR,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MESSAGE_ERROR,
  H3ConnectionError,
  H3StreamError,
} from '../../../../src/protocol/h3/error-codes.js';
import { encodeFrame, encodeSettings } from '../../../../src/protocol/h3/frames.js';
import { encodeFieldSection } from '../../../../src/protocol/h3/qpack-encoder.js';
import { ResponseReader } from '../../../../src/protocol/h3/response-reader.js';

type Event = [string, ...unknown[]];

const headers = (fields: string[]) => encodeFrame(0x01, encodeFieldSection(fields));
const data = (text: string) => encodeFrame(0x00, Buffer.from(text));

function run(pieces: Buffer[], max = 65536): { events: Event[]; complete: boolean } {
  const events: Event[] = [];
  const r = new ResponseReader(
    {
      onInterim: (status, h) => events.push(['interim', status, h]),
      onHead: (status, h) => events.push(['head', status, h]),
      onData: (chunk) => {
        const last = events[events.length - 1];
        if (last?.[0] === 'data') last[1] = String(last[1]) + chunk.toString();
        else events.push(['data', chunk.toString()]);
      },
      onTrailers: (t) => events.push(['trailers', t]),
    },
    max,
  );
  for (const p of pieces) r.push(p);
  return { events, complete: r.end() };
}

function code(c: number) {
  return (e: unknown) => (e instanceof H3ConnectionError || e instanceof H3StreamError) && e.h3Code === c;
}

const full = Buffer.concat([
  headers([':status', '103', 'link', '</a.css>; rel=preload']),
  headers([':status', '200', 'content-type', 'text/plain', 'x-custom', 'yes']),
  data('hello, '),
  encodeFrame(0x21, Buffer.from('reserved')),
  data('world'),
  headers(['x-checksum', 'abc']),
]);

const expected: Event[] = [
  ['interim', 103, ['link', '</a.css>; rel=preload']],
  ['head', 200, ['content-type', 'text/plain', 'x-custom', 'yes']],
  ['data', 'hello, world'],
  ['trailers', ['x-checksum', 'abc']],
];

describe('ResponseReader', () => {
  test('reads interim head, head, body and trailers the same way at every split', () => {
    assert.deepEqual(run([full]), { events: expected, complete: true });
    assert.deepEqual(run([...full].map((b) => Buffer.from([b]))), { events: expected, complete: true });
    for (let cut = 1; cut < full.length; cut++) {
      assert.deepEqual(
        run([full.subarray(0, cut), full.subarray(cut)]),
        { events: expected, complete: true },
        `cut ${cut}`,
      );
    }
  });

  test('counts the body bytes received', () => {
    const r = new ResponseReader({ onInterim() {}, onHead() {}, onData() {}, onTrailers() {} }, 1000);
    r.push(full);
    assert.equal(r.received, 12);
    assert.equal(r.phase, 'trailers');
  });

  test('a stream ending before the final head delivers no response', () => {
    assert.equal(run([headers([':status', '100'])]).complete, false);
    assert.equal(run([]).complete, false);
  });

  test('a response without a body ends after its head', () => {
    assert.deepEqual(run([headers([':status', '204'])]), { events: [['head', 204, []]], complete: true });
  });

  test('a stream ending inside a frame is H3_FRAME_ERROR', () => {
    const cut = full.subarray(0, full.length - 2);
    assert.throws(() => run([cut]), code(H3_FRAME_ERROR));
  });

  test('DATA before the head and anything after the trailers are H3_FRAME_UNEXPECTED', () => {
    assert.throws(() => run([data('early')]), code(H3_FRAME_UNEXPECTED));
    assert.throws(() => run([full, data('late')]), code(H3_FRAME_UNEXPECTED));
    assert.throws(() => run([full, headers(['x', 'y'])]), code(H3_FRAME_UNEXPECTED));
  });

  test('SETTINGS, GOAWAY and MAX_PUSH_ID on a request stream are H3_FRAME_UNEXPECTED; PUSH_PROMISE is H3_ID_ERROR', () => {
    assert.throws(() => run([encodeSettings(new Map())]), code(H3_FRAME_UNEXPECTED));
    assert.throws(() => run([encodeFrame(0x07, Buffer.from([0]))]), code(H3_FRAME_UNEXPECTED));
    assert.throws(() => run([encodeFrame(0x0d, Buffer.from([0]))]), code(H3_FRAME_UNEXPECTED));
    assert.throws(() => run([encodeFrame(0x05, Buffer.from([0, 0, 0]))]), code(H3_ID_ERROR));
  });

  test('malformed heads are the stream error H3_MESSAGE_ERROR', () => {
    const bad: [string[], RegExp][] = [
      [['content-type', 'x'], /no :status/],
      [[':status', '200', ':path', '/'], /pseudo-header ":path"/],
      [[':path', '/', ':status', '200'], /pseudo-header ":path"/],
      [[':status', '20'], /:status "20"/],
      [[':status', '2000'], /:status/],
      [[':status', '101'], /101 Switching Protocols/],
      [[':status', '200', 'Content-Type', 'x'], /upper-case field name "Content-Type"/],
      [[':status', '200', 'transfer-encoding', 'chunked'], /connection-specific field "transfer-encoding"/],
      [[':status', '200', 'connection', 'close'], /connection-specific/],
    ];
    for (const [fields, message] of bad) {
      assert.throws(
        () => run([headers(fields)]),
        (e: unknown) => code(H3_MESSAGE_ERROR)(e) && message.test((e as Error).message),
        fields.join(' '),
      );
    }
  });

  test('pseudo-headers in trailers are malformed', () => {
    assert.throws(
      () => run([headers([':status', '200']), headers([':status', '200'])]),
      code(H3_MESSAGE_ERROR),
    );
  });

  test('a HEADERS frame larger than maxHeaderSize is H3_EXCESSIVE_LOAD, named as the header section', () => {
    const big = headers([':status', '200', 'x-big', 'v'.repeat(200)]);
    assert.throws(
      () => run([big], 100),
      (e: unknown) =>
        code(H3_EXCESSIVE_LOAD)(e) &&
        e instanceof ProtocolError &&
        /Response header section of \d+ bytes exceeds the limit of 100 bytes \(maxHeaderSize\)/.test(
          e.message,
        ),
    );
  });

  test('a head whose decoded size exceeds maxHeaderSize is H3_EXCESSIVE_LOAD', () => {
    // Small on the wire (static indexes) but 32 bytes per field once decoded.
    const many = headers([':status', '200', ...Array.from({ length: 10 }, () => ['vary', 'origin']).flat()]);
    assert.throws(() => run([many], 200), code(H3_EXCESSIVE_LOAD));
  });
});
