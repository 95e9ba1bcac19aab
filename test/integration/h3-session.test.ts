// The HTTP/3 session and exchange (docs/api.md section 9) against a scripted
// in-memory QUIC peer (h3-memory-quic.ts), through an unchanged pool: what a
// real server rarely does on demand - interim heads and trailers, resets with
// H3_REQUEST_REJECTED (re-sent without spending a retry) and other codes,
// GOAWAY, malformed responses, a closed control stream, stream limits,
// aborts and content-length mismatches.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpVersion } from '../../src/connection/connection-info.js';
import {
  MaxRetryError,
  ProtocolError,
  RequestAbortedError,
  ResponsePromise,
  type HTTPResponse,
} from '../../src/index.js';
import {
  H3_CLOSED_CRITICAL_STREAM,
  H3_FRAME_UNEXPECTED,
  H3_MESSAGE_ERROR,
  H3_REQUEST_CANCELLED,
  H3_REQUEST_REJECTED,
  H3_STREAM_CREATION_ERROR,
} from '../../src/protocol/h3/error-codes.js';
import { encodeVarint } from '../../src/protocol/h3/varint.js';
import { encodeFrame } from '../../src/protocol/h3/frames.js';
import { memoryH3Pool } from './h3-memory-pool.js';
import { rejectionOf } from '../support/rejection.js';

const h3Pool = memoryH3Pool;

const field = (fields: string[], name: string) => fields[fields.indexOf(name) + 1];

describe('HTTP/3 session over an in-memory QUIC peer', () => {
  test('the request goes out as pseudo-headers and lower-case fields; the response is version 30', async () => {
    const { pool, conns } = h3Pool((req, reply) =>
      reply.head(200, ['content-type', 'text/plain']).data('hi').end(),
    );
    const r = await pool.request('GET', '/path?q=1', { headers: { 'X-Thing': 'a', Connection: 'close' } });
    assert.equal(r.status, 200);
    assert.equal(r.version, 30);
    assert.equal(r.data.toString(), 'hi');
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h3);
    const f = conns[0]!.requests[0]!.fields;
    assert.deepEqual(f.slice(0, 8), [
      ':method',
      'GET',
      ':scheme',
      'https',
      ':authority',
      'h3.test',
      ':path',
      '/path?q=1',
    ]);
    assert.equal(field(f, 'x-thing'), 'a');
    assert.ok(!f.includes('connection'), 'connection-specific fields are not sent');
    await pool.close();
  });

  test('the response limits of the pool apply over HTTP/3: maxResponseSize and maxHeaderFields, trailers included', async () => {
    const { pool } = h3Pool(
      (req, reply) =>
        req.fields.includes('/many-fields')
          ? reply.head(200, ['a', '1', 'b', '2', 'c', '3', 'd', '4']).data('ok').end()
          : req.fields.includes('/many-trailers')
            ? reply.head(200).data('ok').trailers(['a', '1', 'b', '2', 'c', '3', 'd', '4']).end()
            : reply.head(200).data('x'.repeat(5000)).end(),
      { maxResponseSize: 1000, maxHeaderFields: 3, retries: false },
    );
    const big = await rejectionOf(pool.request('GET', '/big'));
    assert.ok(big instanceof ProtocolError, String(big));
    assert.match(big.message, /larger than maxResponseSize \(1000 bytes\)/);
    const many = await rejectionOf(pool.request('GET', '/many-fields'));
    assert.ok(many instanceof ProtocolError, String(many));
    assert.match(many.message, /more than 3 fields \(maxHeaderFields\)/);
    const trailers = await rejectionOf(pool.request('GET', '/many-trailers'));
    assert.ok(trailers instanceof ProtocolError, String(trailers));
    assert.match(trailers.message, /trailer section has more than 3 fields \(maxHeaderFields\)/);
    await pool.close();
  });

  test('interim 1xx heads reach onEarlyResponse, trailers reach response.trailers', async () => {
    const { pool } = h3Pool((_req, reply) =>
      reply
        .head(103, ['link', '</s.css>; rel=preload'])
        .head(200)
        .data('part one, ')
        .data('part two')
        .trailers(['x-checksum', 'abc'])
        .end(),
    );
    const early: HTTPResponse[] = [];
    const r = await pool.request('GET', '/', { onEarlyResponse: (e: HTTPResponse) => early.push(e) });
    assert.equal(r.data.toString(), 'part one, part two');
    assert.equal(early.length, 1);
    assert.equal(early[0]!.status, 103);
    assert.equal(early[0]!.headers.get('link'), '</s.css>; rel=preload');
    assert.equal(r.trailers?.get('x-checksum'), 'abc');
    await pool.close();
  });

  test('a POST body arrives in DATA frames', async () => {
    const { pool, conns } = h3Pool((req, reply) => reply.head(200).data(`got ${req.body.length}`).end());
    const r = await pool.request('POST', '/up', { body: Buffer.alloc(100_000, 7) });
    assert.equal(r.data.toString(), 'got 100000');
    assert.equal(field(conns[0]!.requests[0]!.fields, 'content-length'), '100000');
    await pool.close();
  });

  test('H3_REQUEST_REJECTED is re-sent without spending a retry, whatever the method', async () => {
    let calls = 0;
    const { pool } = h3Pool(
      (_req, reply) => {
        if (calls++ === 0) reply.reset(H3_REQUEST_REJECTED);
        else reply.head(200).data('second time').end();
      },
      { retries: 0 },
    );
    const r = await pool.request('POST', '/once', { body: 'x' });
    assert.equal(r.data.toString(), 'second time');
    assert.equal(r.retries!.history.length, 0);
    assert.equal(calls, 2);
    await pool.close();
  });

  test('another reset code is a ProtocolError naming it', async () => {
    const { pool } = h3Pool((_req, reply) => reply.reset(H3_REQUEST_CANCELLED), { retries: false });
    await assert.rejects(pool.request('GET', '/'), (e: unknown) => {
      assert.ok(e instanceof ProtocolError);
      assert.match((e as Error).message, /reset the stream with H3_REQUEST_CANCELLED/);
      assert.equal((e as ProtocolError).processed, null);
      return true;
    });
    await pool.close();
  });

  test('requests on streams a GOAWAY excluded are re-sent on a new connection', async () => {
    const { pool, conns } = h3Pool(
      (req, reply) => {
        if (conns.indexOf(req.conn) === 0 && req.streamId >= 4) return; // never answered: GOAWAY below
        reply
          .head(200)
          .data(`conn ${conns.indexOf(req.conn)} stream ${req.streamId}`)
          .end();
        if (conns.indexOf(req.conn) === 0) {
          req.conn.goaway(4);
          setImmediate(() => req.conn.serverClose(0x100));
        }
      },
      { retries: 0, maxSize: 1, block: true },
    );
    const rs = await Promise.all([
      pool.request('GET', '/a'),
      pool.request('GET', '/b'),
      pool.request('GET', '/c'),
    ]);
    const bodies = rs.map((r) => r.data.toString());
    assert.equal(bodies[0], 'conn 0 stream 0');
    assert.ok(
      bodies.slice(1).every((b) => b.startsWith('conn 1')),
      bodies.join(' | '),
    );
    await pool.close();
  });

  test(
    'requests a GOAWAY excluded are cancelled and re-sent at once, even when the server keeps the connection open',
    { timeout: 10_000 },
    async () => {
      const { pool, conns } = h3Pool(
        (req, reply) => {
          if (conns.indexOf(req.conn) === 0 && req.streamId >= 4) {
            if (req.streamId === 8) req.conn.goaway(4); // and never a word more on this connection
            return;
          }
          reply
            .head(200)
            .data(`conn ${conns.indexOf(req.conn)} stream ${req.streamId}`)
            .end();
        },
        { retries: 0 },
      );
      const first = await pool.request('GET', '/a');
      assert.equal(first.data.toString(), 'conn 0 stream 0');
      const rs = await Promise.all([pool.request('GET', '/b'), pool.request('GET', '/c')]);
      assert.ok(
        rs.every((r) => r.data.toString().startsWith('conn 1')),
        rs.map((r) => r.data.toString()).join(' | '),
      );
      assert.equal(conns[0]!.resets.get(4), H3_REQUEST_CANCELLED, 'the excluded stream was cancelled');
      await pool.close();
    },
  );

  test('a reserved stream type is stopped with H3_STREAM_CREATION_ERROR; its later bytes are not read as a new stream', async () => {
    const { pool, conns } = h3Pool((_req, reply) => reply.head(200).data('ok').end());
    assert.equal((await pool.request('GET', '/a')).status, 200);
    const quic = conns[0]!;
    const reserved = quic.serverOpenUni(encodeVarint(0x1f * 3 + 0x21));
    assert.equal(quic.resets.get(reserved.id), H3_STREAM_CREATION_ERROR);
    // Bytes already in flight: they would read as a second control stream.
    quic.serverSend(reserved.id, Buffer.from([0x00, 0x04, 0x00]));
    assert.equal(quic.isClosed, false);
    assert.equal((await pool.request('GET', '/b')).status, 200);
    assert.equal(conns.length, 1);
    await pool.close();
  });

  test('a malformed response head resets the stream with H3_MESSAGE_ERROR; the connection lives on', async () => {
    let n = 0;
    const { pool, conns } = h3Pool(
      (_req, reply) => {
        if (n++ === 0) reply.head(200, ['Bad-Case', 'x']).end();
        else reply.head(200).data('ok').end();
      },
      { retries: false },
    );
    await assert.rejects(pool.request('GET', '/'), /H3_MESSAGE_ERROR.*upper-case field name "Bad-Case"/);
    assert.equal(conns[0]!.resets.get(0), H3_MESSAGE_ERROR);
    const r = await pool.request('GET', '/');
    assert.equal(r.data.toString(), 'ok');
    assert.equal(conns.length, 1);
    await pool.close();
  });

  test('DATA before the head closes the connection with H3_FRAME_UNEXPECTED', async () => {
    const { pool, conns } = h3Pool((_req, reply) => reply.data('early').end(), { retries: false });
    await assert.rejects(pool.request('GET', '/'), /H3_FRAME_UNEXPECTED/);
    assert.equal(conns[0]!.closedWith?.code, H3_FRAME_UNEXPECTED);
    await pool.close();
  });

  test('the server closing its control stream closes the connection with H3_CLOSED_CRITICAL_STREAM', async () => {
    const { pool, conns } = h3Pool((req, reply) => {
      reply.head(200).data('x').end();
      setImmediate(() => req.conn.serverEnd(3));
    });
    await pool.request('GET', '/');
    for (let i = 0; i < 20 && conns[0]!.closedWith === null; i++) await new Promise((r) => setImmediate(r));
    assert.equal(conns[0]!.closedWith?.code, H3_CLOSED_CRITICAL_STREAM);
    await pool.close();
  });

  test('a body shorter than its Content-Length is an error naming the IncompleteRead', async () => {
    const { pool } = h3Pool((_req, reply) => reply.head(200, ['content-length', '10']).data('12345').end(), {
      retries: false,
    });
    await assert.rejects(pool.request('GET', '/'), /IncompleteRead\(5 bytes read, 5 more expected\)/);
    await pool.close();
  });

  test('requests beyond the server stream limit wait for credit instead of failing', async () => {
    const { pool, conns } = h3Pool(
      (_req, reply) => reply.head(200).data('ok').end(),
      { maxSize: 1, block: true },
      2,
    );
    conns.length = 0;
    const rs = await Promise.all(Array.from({ length: 10 }, () => pool.request('GET', '/')));
    assert.ok(rs.every((r) => r.data.toString() === 'ok'));
    assert.equal(conns.length, 1, 'one connection');
    await pool.close();
  });

  test('an abort resets only its stream with H3_REQUEST_CANCELLED', async () => {
    const { pool, conns } = h3Pool((req, reply) => {
      if (req.fields.includes('/hang')) return;
      reply.head(200).data('fine').end();
    });
    const ac = new AbortController();
    const hang = pool.request('GET', '/hang', { signal: ac.signal, retries: false });
    setTimeout(() => ac.abort(), 20);
    await assert.rejects(hang, RequestAbortedError);
    assert.equal(conns[0]!.resets.get(0), H3_REQUEST_CANCELLED);
    const r = await pool.request('GET', '/ok');
    assert.equal(r.data.toString(), 'fine');
    assert.equal(conns.length, 1);
    await pool.close();
  });

  test('a response released unread resets its stream; the connection serves the next request', async () => {
    const { pool, conns } = h3Pool((req, reply) => {
      reply.head(200).data('a'.repeat(1000));
      if (!req.fields.includes('/big')) reply.end();
    });
    const r = await pool.request('GET', '/big', { preloadContent: false });
    r.releaseConn();
    assert.equal(conns[0]!.resets.get(0), H3_REQUEST_CANCELLED);
    const r2 = await pool.request('GET', '/small');
    assert.equal(r2.data.length, 1000);
    await pool.close();
  });

  test('the connection closing mid-response fails the request with the reason', async () => {
    const { pool } = h3Pool(
      (req, reply) => {
        reply.head(200).data('partial');
        setImmediate(() => req.conn.serverClose(0x102, 'going down'));
      },
      { retries: false },
    );
    await assert.rejects(pool.request('GET', '/'), (e: unknown) => {
      assert.ok(e instanceof ProtocolError || e instanceof MaxRetryError, String(e));
      assert.match((e as Error).message, /H3_INTERNAL_ERROR \(going down\)/);
      return true;
    });
    await pool.close();
  });

  test('multiplexed: true resolves once sent; getResponse() gives the responses as they arrive', async () => {
    const held: (() => void)[] = [];
    const { pool, conns } = h3Pool((req, reply) => {
      const path = field(req.fields, ':path')!;
      const answer = () => reply.head(200).data(path).end();
      if (path === '/slow') held.push(answer);
      else answer();
    });
    const slow = await pool.urlopen('GET', '/slow', { multiplexed: true });
    const fast = await pool.urlopen('GET', '/fast', { multiplexed: true });
    assert.ok(slow instanceof ResponsePromise && fast instanceof ResponsePromise);
    const first = await pool.getResponse();
    assert.equal(first?.data.toString(), '/fast');
    held.forEach((f) => f());
    const second = await pool.getResponse({ promise: slow });
    assert.equal(second?.data.toString(), '/slow');
    assert.equal(await pool.getResponse(), null);
    assert.equal(conns.length, 1, 'both on one connection');
    await pool.close();
  });

  test('HTTP/2 frame types on a request stream close the connection', async () => {
    const { pool } = h3Pool((_req, reply) => reply.raw(encodeFrame(0x06, Buffer.alloc(8))).end(), {
      retries: false,
    });
    await assert.rejects(pool.request('GET', '/'), /HTTP\/2 frame type 0x6/);
    await pool.close();
  });
});
