// The HTTP/3 session's liveness check and its TLS facts (docs/api.md section
// 9, "Liveness"), against the scripted in-memory QUIC peer of
// h3-memory-quic.ts through an unchanged pool: PING after pingAfterIdle,
// one PING for a burst, unanswered PINGs, draining connections, connections
// idle about as long as the QUIC idle timeout, a connection that dies under a
// request (the stale-connection re-send), and a cipher learned after the
// handshake reaching ConnectionInfo.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, test } from 'node:test';
import { type HTTPConnection, ProtocolError } from '../../src/index.js';
import type { MemoryQuic, Script } from './h3-memory-quic.js';
import { memoryH3Pool } from './h3-memory-pool.js';
import { idleIn } from '../support/idle-connection.js';

const ok: Script = (_req, reply) => reply.head(200).data('ok').end();

/** A pool of one connection (maxSize 1, block) over in-memory QUIC peers running `script`. */
const h3Pool = (script: Script, opts: Record<string, unknown> = {}) =>
  memoryH3Pool(script, { maxSize: 1, block: true, ...opts });

/**
 * A pool (retries: 0) whose first connection dies (QUIC idle timeout) when a
 * request for /again arrives on it, before any response byte.
 */
function firstConnectionDiesOnAgain() {
  const { pool, conns } = h3Pool(
    (req, reply) => {
      if (conns.indexOf(req.conn) === 0 && req.fields.includes('/again')) {
        req.conn.idleOut();
        return;
      }
      reply.head(200).data('ok').end();
    },
    { retries: 0 },
  );
  return { pool, conns };
}

describe('HTTP/3 liveness over an in-memory QUIC peer', () => {
  test('a recently used connection is reused without a PING', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 10_000, '/first');
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 1);
    assert.equal(conns[0]!.pings, 0);
    await pool.close();
  });

  test('past pingAfterIdle, a burst of requests shares one answered PING and the connection', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 20, '/first');
    await sleep(40);
    const rs = await Promise.all(Array.from({ length: 20 }, () => pool.request('GET', '/')));
    assert.ok(rs.every((r) => r.status === 200));
    assert.equal(conns.length, 1);
    assert.equal(conns[0]!.pings, 1);
    await pool.close();
  });

  test('a connection that does not answer its PING is closed and the request goes out on a new one', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 20, '/first');
    conns[0]!.answersPing = false;
    await sleep(40);
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 2);
    assert.equal(conns[0]!.pings, 1);
    assert.ok(conns[0]!.isClosed, 'the silent connection was closed');
    assert.equal(conns[0]!.requests.length, 1, 'nothing more was sent on it');
    await pool.close();
  });

  test('a connection the server closes while its PING is unanswered gives way at once, not at the PING timeout', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 20, '/first');
    conns[0]!.answersPing = false;
    await sleep(40);
    setTimeout(() => conns[0]!.serverClose(0x100), 50);
    const t0 = performance.now();
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 2);
    assert.equal(conns[0]!.pings, 1);
    assert.ok(
      performance.now() - t0 < 1_000,
      `took ${Math.round(performance.now() - t0)} ms (the PING waits 2 s)`,
    );
    await pool.close();
  });

  test('a draining connection (the peer closed it) takes no request, and is not PINGed', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 10_000, '/first');
    conns[0]!.draining = true;
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 2);
    assert.equal(conns[0]!.requests.length, 1);
    assert.equal(conns[0]!.pings, 0);
    await pool.close();
  });

  test('a connection idle about as long as the QUIC idle timeout is closed without a PING', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 10, '/first');
    conns[0]!.idleTimeout = 60;
    await sleep(50);
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 2);
    assert.equal(conns[0]!.pings, 0);
    assert.ok(conns[0]!.isClosed);
    await pool.close();
  });

  test('a server idle timeout shorter than pingAfterIdle still retires a connection idle about that long', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 10_000, '/first');
    conns[0]!.idleTimeout = 300;
    await sleep(200);
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 2, 'a new connection, not the one the server may have forgotten');
    assert.equal(conns[0]!.pings, 0);
    assert.ok(conns[0]!.isClosed);
    assert.equal(conns[0]!.requests.length, 1);
    await pool.close();
  });

  test('a connection used moments ago is reused even when the idle timeout is short', async () => {
    const { pool, conns } = h3Pool(ok);
    await idleIn(pool, 10_000, '/first');
    conns[0]!.idleTimeout = 300;
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(conns.length, 1);
    await pool.close();
  });

  test('a connection that dies under a request before any response byte: the request is re-sent once, spending no retry', async () => {
    const { pool, conns } = firstConnectionDiesOnAgain();
    await idleIn(pool, 10_000, '/first');
    const r = await pool.request('GET', '/again');
    assert.equal(r.data.toString(), 'ok');
    assert.equal(conns.length, 2);
    await pool.close();
  });

  test('...but not a POST, which fails with the reason', async () => {
    const { pool } = firstConnectionDiesOnAgain();
    await idleIn(pool, 10_000, '/first');
    await assert.rejects(
      pool.request('POST', '/again', { body: 'x' }),
      (e: unknown) => e instanceof ProtocolError && /timed out \(idle\)/.test((e as Error).message),
    );
    await pool.close();
  });

  test('a connection closed with a response in flight no longer holds the process open while it closes', async () => {
    const { pool, conns } = h3Pool((_req, reply) => {
      reply.head(200).data('part');
    });
    const r = await pool.request('GET', '/slow', { preloadContent: false });
    assert.equal(r.status, 200);
    assert.equal(conns[0]!.refd, true, 'a request in flight holds the process');
    await (r.connection as HTTPConnection).close();
    assert.ok(conns[0]!.isClosed);
    assert.equal(conns[0]!.refd, false, 'the closed connection is unref-ed');
    await pool.close();
  });

  test('a cipher the transport learns after the handshake reaches ConnectionInfo at the response head', async () => {
    const { pool, conns } = h3Pool((_req, reply) => {
      conns[0]!.cipher = 'TLS_CHACHA20_POLY1305_SHA256';
      reply.head(200).data('ok').end();
    });
    const conn = new Promise<MemoryQuic>((resolve) => setImmediate(() => resolve(conns[0]!)));
    const pending = pool.request('GET', '/');
    (await conn).cipher = null;
    const r1 = await pending;
    assert.equal(r1.connectionInfo?.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
    const r2 = await pool.request('GET', '/');
    assert.equal(r2.connectionInfo?.cipher, 'TLS_CHACHA20_POLY1305_SHA256', 'reuses carry it');
    await pool.close();
  });
});
