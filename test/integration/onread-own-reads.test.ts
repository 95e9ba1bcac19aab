// The socket of a plain HTTP/1.1 connection reads a long body into buffers
// of its own (ReadSink.ownReads); what comes after that body on the same
// connection (the next response, a 101 and its new protocol, stray bytes)
// and what ends the body early (a release, a drain, a failure) must leave
// the connection and the pool as they would be without it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HTTPConnectionPool, ReadTimeoutError, RequestAbortedError, Timeout } from '../../src/index.js';
import { drained } from '../support/drained.js';
import { type RawServer, rawServer } from '../support/servers.js';

function pattern(seed: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let k = 0; k < n; k++) b[k] = (k * 7 + seed) % 251;
  return b;
}

const LONG = 3 * 1024 * 1024;
const LEFTOVER = pattern(9, 200_000);

describe('a connection after a body read into buffers of its own', { timeout: 60_000 }, () => {
  let raw: RawServer;

  before(async () => {
    raw = await rawServer(async (socket, req) => {
      const url = new URL(req.target, 'http://x');
      switch (url.pathname) {
        case '/long': {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${LONG}\r\n\r\n`);
          for (let off = 0; off < LONG && !socket.destroyed; off += 512 * 1024) {
            if (!socket.write(pattern(off % 251, 512 * 1024))) await drained(socket);
          }
          return;
        }
        case '/long-chunked': {
          socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
          for (let off = 0; off < LONG && !socket.destroyed; off += 512 * 1024) {
            const piece = pattern(off % 251, 512 * 1024);
            if (!socket.write(Buffer.concat([Buffer.from('80000\r\n'), piece, Buffer.from('\r\n')])))
              await drained(socket);
          }
          socket.write(`0\r\nX-Trailer: ${'t'.repeat(5000)}\r\n\r\n`);
          return;
        }
        case '/long-small-chunks': {
          // 4 KiB chunks, framed and written 512 KiB at a time: reads hold many chunks each.
          socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
          const body = pattern(3, LONG);
          for (let off = 0; off < LONG && !socket.destroyed; off += 512 * 1024) {
            const parts: Buffer[] = [];
            for (let k = off; k < off + 512 * 1024; k += 4096)
              parts.push(Buffer.from('1000\r\n'), body.subarray(k, k + 4096), Buffer.from('\r\n'));
            if (!socket.write(Buffer.concat(parts))) await drained(socket);
          }
          socket.write('0\r\n\r\n');
          return;
        }
        case '/stall': {
          // A long body that stops half way and never ends.
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${LONG}\r\n\r\n`);
          socket.write(pattern(0, LONG / 2));
          return;
        }
        case '/small':
          socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello');
          return;
        case '/upgrade':
          socket.write(
            Buffer.concat([
              Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n'),
              LEFTOVER,
            ]),
          );
          socket.end();
          return;
        default:
          socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });

  after(async () => {
    await raw.close();
  });

  /** Reads `r` until more than `bytes` of its body came, then stops reading. */
  async function readPast(r: AsyncIterable<Buffer>, bytes: number): Promise<void> {
    let n = 0;
    for await (const c of r) {
      n += c.length;
      if (n > bytes) return;
    }
  }

  function expectedLong(): Buffer {
    const parts: Buffer[] = [];
    for (let off = 0; off < LONG; off += 512 * 1024) parts.push(pattern(off % 251, 512 * 1024));
    return Buffer.concat(parts);
  }

  test('the next response on the connection, then a 101 with its bytes, come through intact', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const start = raw.requests.length;
    const r = await pool.request('GET', '/long', { preloadContent: false });
    const conn = r.connection as unknown as { session: { sink: { ownReads: boolean; own: Buffer | null } } };
    const sink = conn.session.sink;
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(expectedLong()));
    // Idle again: the socket reads into the shared buffer and holds no buffer of its own.
    assert.equal(sink.ownReads, false);
    assert.equal(sink.own, null);
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
    const u = await pool.request('GET', '/upgrade', { headers: { Connection: 'Upgrade', Upgrade: 'echo' } });
    assert.equal(u.status, 101);
    const got: Buffer[] = [];
    for (;;) {
      const p = await u.extension!.nextPayload();
      if (p === null) break;
      got.push(p);
    }
    assert.ok(Buffer.concat(got).equals(LEFTOVER));
    assert.equal(new Set(raw.requests.slice(start).map((q) => q.connectionIndex)).size, 1, 'one connection');
  });

  test('a chunked long body with a long trailer, then a small response on the same connection', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const r = await pool.request('GET', '/long-chunked', { preloadContent: false });
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(expectedLong()));
    assert.equal(r.trailers?.get('x-trailer'), 't'.repeat(5000));
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
  });

  test('a fast chunked body of small chunks: no chunk handed out pins a read buffer more than twice its size', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const r = await pool.request('GET', '/long-small-chunks', { preloadContent: false });
    const chunks: Buffer[] = [];
    for await (const c of r) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(pattern(3, LONG)));
    // A caller may keep any one chunk (a parsed record, say): it must not hold a 1 MiB read buffer alive.
    const pinning = chunks.filter((c) => c.buffer.byteLength > Math.max(2 * c.length, 64 * 1024));
    assert.equal(pinning.length, 0, `${pinning.length} chunks of ${chunks.length} pin a larger buffer`);
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
  });

  test('a long body drained after part of it was read: the connection is reused and reads right', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const start = raw.requests.length;
    const r = await pool.request('GET', '/long', { preloadContent: false });
    await readPast(r, 1024 * 1024);
    await r.drainConn();
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
    const mine = raw.requests.slice(start);
    assert.equal(mine[0]!.connectionIndex, mine[1]!.connectionIndex);
  });

  test('a long body released half way: the connection closes, the next request gets a fresh one', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const start = raw.requests.length;
    const r = await pool.request('GET', '/long', { preloadContent: false });
    await readPast(r, 1024 * 1024);
    r.releaseConn();
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
    const mine = raw.requests.slice(start);
    assert.notEqual(mine[0]!.connectionIndex, mine[1]!.connectionIndex);
  });

  test('a long body aborted half way: RequestAbortedError, and the pool carries on with a fresh connection', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const ac = new AbortController();
    const r = await pool.request('GET', '/stall', { preloadContent: false, signal: ac.signal });
    let n = 0;
    const reading = (async () => {
      for await (const c of r) {
        n += c.length;
        if (n >= LONG / 2) ac.abort();
      }
    })();
    await assert.rejects(reading, RequestAbortedError);
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
  });

  test('a long body that stalls half way: a read timeout, and the pool carries on', async () => {
    await using pool = new HTTPConnectionPool(raw.host, {
      port: raw.port,
      maxSize: 1,
      timeout: new Timeout({ read: 200 }),
      retries: false,
    });
    const r = await pool.request('GET', '/stall', { preloadContent: false });
    await assert.rejects(
      (async () => {
        for await (const _ of r) {
          // read on
        }
      })(),
      ReadTimeoutError,
    );
    const s = await pool.request('GET', '/small');
    assert.equal(s.data.toString(), 'hello');
  });
});
