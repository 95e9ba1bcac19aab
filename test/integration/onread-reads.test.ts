// Plain-TCP HTTP/1.1 sockets read into one shared, reused buffer (Node's
// `onread`): every read overwrites the bytes of the one before, so anything
// kept past a read (body chunks, partial lines, chunk-size remainders,
// trailers, the bytes after a 101) must be a copy. These tests cut heads,
// chunk framing and bodies across read boundaries, keep chunks around while
// later reads arrive, and check every byte.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { HTTPConnection, HTTPConnectionPool, type HTTPResponse } from '../../src/index.js';
import { drained } from '../support/drained.js';
import { LOOPBACK, type RawServer, rawServer } from '../support/servers.js';

/** Byte i of a body: changes with the position mod 251 and with each 256 KiB block. */
function expectedByte(i: number): number {
  return ((i % 251) ^ ((i >>> 18) * 37)) & 0xff;
}

function patternAt(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let k = 0; k < n; k++) b[k] = expectedByte(offset + k);
  return b;
}

/** Deterministic pseudo-random numbers (so a failure can be replayed). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Writes `data` in pieces of random size (1 byte up to `max`), yielding to the
 * event loop between them so that the client sees many reads cut at odd places.
 */
async function writeInPieces(socket: net.Socket, data: Buffer, random: () => number, max: number) {
  let pos = 0;
  while (pos < data.length && !socket.destroyed) {
    const n = Math.min(data.length - pos, 1 + Math.floor(random() * max));
    const ok = socket.write(data.subarray(pos, pos + n));
    pos += n;
    if (!ok) await drained(socket);
    else await tick();
  }
}

function bodyFor(index: number, size: number): Buffer {
  return patternAt(index * 7919, size);
}

function chunkedMessage(sizes: number[], trailers: Array<[string, string]>): { wire: Buffer; body: Buffer } {
  const parts: Buffer[] = [];
  const bodyParts: Buffer[] = [];
  let offset = 0;
  parts.push(
    Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n', 'latin1'),
  );
  sizes.forEach((size, k) => {
    const data = patternAt(offset, size);
    offset += size;
    bodyParts.push(data);
    const ext = k % 3 === 0 ? `;ext${k}="a;b"` : '';
    parts.push(Buffer.from(`${size.toString(16)}${ext}\r\n`, 'latin1'), data, Buffer.from('\r\n', 'latin1'));
  });
  parts.push(Buffer.from('0\r\n', 'latin1'));
  for (const [name, value] of trailers) parts.push(Buffer.from(`${name}: ${value}\r\n`, 'latin1'));
  parts.push(Buffer.from('\r\n', 'latin1'));
  return { wire: Buffer.concat(parts), body: Buffer.concat(bodyParts) };
}

const CHUNK_SIZES = [
  1, 7, 4096, 65535, 300_000, 13, 262_144, 262_145, 2, 0x1fff, 1_000_000, 3, 262_143, 99_999, 17, 500_000,
];

/** Reads a streamed body, holding on to the chunks for a while (later reads must not change them). */
async function readHolding(r: HTTPResponse, check: (offset: number, chunk: Buffer) => void, pauseEvery = 16) {
  let offset = 0;
  let held: Array<[number, Buffer]> = [];
  let heldBytes = 0;
  let n = 0;
  for await (const chunk of r) {
    held.push([offset, chunk]);
    offset += chunk.length;
    heldBytes += chunk.length;
    if (heldBytes >= 4 * 1024 * 1024) {
      for (const [o, c] of held) check(o, c);
      held = [];
      heldBytes = 0;
    }
    if (++n % pauseEvery === 0) await sleep(2);
  }
  for (const [o, c] of held) check(o, c);
  return offset;
}

function connectionSocket(conn: HTTPConnection): net.Socket {
  return (conn as unknown as { session: { socket: net.Socket } }).session.socket;
}

describe('plain HTTP/1.1 reads into a shared reused buffer', { timeout: 60_000 }, () => {
  let raw: RawServer;
  const CHUNKED = chunkedMessage(CHUNK_SIZES, [
    ['X-Sum', 'all-bytes'],
    ['X-Long', 'v'.repeat(3000)],
  ]);
  const BIG = 32 * 1024 * 1024;
  const GZ_PLAIN = patternAt(12345, 8 * 1024 * 1024);
  const GZ = gzipSync(GZ_PLAIN, { level: 1 });

  before(async () => {
    raw = await rawServer(async (socket, req, ctx) => {
      const random = rng(ctx.connectionIndex * 1000 + ctx.requestIndex + 1);
      // Small pieces must leave at once, not wait for Nagle.
      socket.setNoDelay(true);
      const url = new URL(req.target, 'http://x');
      switch (url.pathname) {
        case '/keepalive': {
          const i = Number(url.searchParams.get('i'));
          const size = Number(url.searchParams.get('size'));
          const head =
            `HTTP/1.1 200 OK\r\nX-Index: ${i}\r\nX-Pad: ${'p'.repeat((i * 131) % 5000)}\r\n` +
            `Content-Length: ${size}\r\n\r\n`;
          const wire = Buffer.concat([Buffer.from(head, 'latin1'), bodyFor(i, size)]);
          await writeInPieces(socket, wire, random, i % 4 === 0 && size < 100_000 ? 40 : 70_000);
          return;
        }
        case '/interim': {
          // Many 1xx heads and the final response in one write, larger than the read buffer.
          const parts: string[] = [];
          for (let k = 0; k < 40; k++) {
            parts.push(`HTTP/1.1 103 Early Hints\r\nLink: <${String(k).repeat(7000)}>\r\nX-K: ${k}\r\n\r\n`);
          }
          const body = bodyFor(5, 300_000);
          parts.push(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
          socket.write(Buffer.concat([Buffer.from(parts.join(''), 'latin1'), body]));
          return;
        }
        case '/chunked':
          await writeInPieces(socket, CHUNKED.wire, random, 90_000);
          return;
        case '/chunked-oneshot':
          socket.write(CHUNKED.wire);
          return;
        case '/big': {
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BIG}\r\n\r\n`);
          const step = 1024 * 1024;
          for (let off = 0; off < BIG && !socket.destroyed; off += step) {
            if (!socket.write(patternAt(off, step))) {
              await drained(socket);
            }
          }
          return;
        }
        case '/trickle': {
          // 4 MiB in 40 KiB writes, a turn of the event loop apart: many short reads.
          const size = 4 * 1024 * 1024;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
          for (let off = 0; off < size && !socket.destroyed; off += 40_960) {
            if (!socket.write(patternAt(off, Math.min(40_960, size - off)))) await drained(socket);
            else await tick();
          }
          return;
        }
        case '/gzip':
          socket.write(`HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: ${GZ.length}\r\n\r\n`);
          await writeInPieces(socket, GZ, random, 200_000);
          return;
        default:
          socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      }
    });
  });

  after(async () => {
    await raw.close();
  });

  test('plain HTTP connections read with onread (no data listener on the socket)', async () => {
    const conn = new HTTPConnection(raw.host, { port: raw.port });
    await conn.request('GET', '/keepalive?i=1&size=10');
    const r = await conn.getResponse();
    assert.equal(r.data.length, 10);
    assert.equal(connectionSocket(conn).listenerCount('data'), 0);
    await conn.close();
  });

  test('keep-alive responses cut into odd pieces: heads and bodies straddle reads', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const random = rng(42);
    for (let i = 0; i < 160; i++) {
      const size = i % 10 === 0 ? 300_000 + Math.floor(random() * 300_000) : Math.floor(random() * 70_000);
      const preload = i % 2 === 0;
      const r = await pool.request('GET', `/keepalive?i=${i}&size=${size}`, { preloadContent: preload });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-index'), String(i));
      assert.equal(r.headers.get('x-pad'), 'p'.repeat((i * 131) % 5000));
      let body: Buffer;
      if (preload) body = r.data;
      else {
        const chunks: Buffer[] = [];
        for await (const c of r) chunks.push(c);
        body = Buffer.concat(chunks);
      }
      assert.equal(body.length, size, `response ${i}`);
      assert.ok(body.equals(bodyFor(i, size)), `response ${i}: body bytes`);
    }
    assert.equal(raw.stats.opened, 1 + 1, 'one connection for the whole loop (plus the first test)');
  });

  test('many interim heads and the final response in one write, larger than the read buffer', async () => {
    const conn = new HTTPConnection(raw.host, { port: raw.port });
    const early: Array<[string | undefined, string | undefined]> = [];
    await conn.request('GET', '/interim', {
      onEarlyResponse: (e) => early.push([e.headers.get('link'), e.headers.get('x-k')]),
    });
    const r = await conn.getResponse();
    assert.equal(r.status, 200);
    assert.equal(early.length, 40);
    early.forEach(([link, k], n) => {
      assert.equal(k, String(n));
      assert.equal(link, `<${String(n).repeat(7000)}>`);
    });
    assert.ok(r.data.equals(bodyFor(5, 300_000)));
    await conn.close();
  });

  for (const path of ['/chunked', '/chunked-oneshot']) {
    test(`chunked body larger than the read buffer, framing cut across reads (${path})`, async () => {
      await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
      for (let round = 0; round < 3; round++) {
        const r = await pool.request('GET', path, { preloadContent: round !== 0 });
        let body: Buffer;
        if (round === 0) {
          const got = Buffer.allocUnsafe(CHUNKED.body.length);
          const n = await readHolding(r, (o, c) => c.copy(got, o));
          assert.equal(n, CHUNKED.body.length);
          body = got;
        } else {
          body = r.data;
        }
        assert.equal(body.length, CHUNKED.body.length);
        assert.ok(body.equals(CHUNKED.body), `round ${round}: body bytes`);
        assert.equal(r.trailers?.get('x-sum'), 'all-bytes');
        assert.equal(r.trailers?.get('x-long'), 'v'.repeat(3000));
      }
    });
  }

  test('a 32 MiB body read slowly, chunks held while later reads arrive: every byte checked', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const r = await pool.request('GET', '/big', { preloadContent: false });
    let bad = -1;
    const n = await readHolding(r, (offset, chunk) => {
      if (bad !== -1) return;
      if (!chunk.equals(patternAt(offset, chunk.length))) {
        for (let k = 0; k < chunk.length; k++) {
          if (chunk[k] !== expectedByte(offset + k)) {
            bad = offset + k;
            break;
          }
        }
      }
    });
    assert.equal(n, BIG);
    assert.equal(bad, -1, `first wrong byte at ${bad}`);
  });

  test('past its first 256 KiB a long body is read into buffers of its own and handed out without a copy', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const r = await pool.request('GET', '/big', { preloadContent: false });
    const backing = new Map<ArrayBufferLike, number>();
    let offset = 0;
    let wrong = 0;
    for await (const chunk of r) {
      if (!chunk.equals(patternAt(offset, chunk.length))) wrong++;
      offset += chunk.length;
      backing.set(chunk.buffer, chunk.buffer.byteLength);
    }
    assert.equal(offset, BIG);
    assert.equal(wrong, 0);
    // Views of 1 MiB read buffers of the socket's own (each at least half filled), several of them:
    // no copy for those reads. (The shared read buffer, 256 KiB, is never handed out: a body piece
    // from it is a copy of at most 64 KiB.)
    const own = [...backing.values()].filter((n) => n === 1024 * 1024).length;
    assert.ok(own >= 3, `${own} of ${backing.size} chunk buffers are read buffers of 1 MiB`);
    // The next response on the same connection reads into the shared buffer again, and is intact.
    const small = await pool.request('GET', '/keepalive?i=3&size=1000');
    assert.ok(small.data.equals(bodyFor(3, 1000)));
  });

  test('a body that arrives in short reads, every chunk held: the chunks pin at most twice its bytes', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port, maxSize: 1 });
    const r = await pool.request('GET', '/trickle', { preloadContent: false });
    const held: Buffer[] = [];
    for await (const chunk of r) held.push(chunk);
    const body = Buffer.concat(held);
    assert.ok(body.equals(patternAt(0, 4 * 1024 * 1024)));
    const pinned = new Set(held.map((c) => c.buffer));
    let bytes = 0;
    for (const b of pinned) bytes += b.byteLength;
    assert.ok(
      bytes <= 2 * body.length,
      `${bytes} bytes pinned by ${pinned.size} buffers for a ${body.length}-byte body`,
    );
  });

  test('a gzip body decoded while streaming (the decoder keeps chunks across reads)', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const r = await pool.request('GET', '/gzip', { preloadContent: false });
    const got = Buffer.allocUnsafe(GZ_PLAIN.length);
    const n = await readHolding(r, (o, c) => c.copy(got, o), 4);
    assert.equal(n, GZ_PLAIN.length);
    assert.ok(got.equals(GZ_PLAIN));
  });
});

describe('a 101 upgrade on an onread socket', { timeout: 30_000 }, () => {
  let server: net.Server;
  let port = 0;
  const LEFTOVER = patternAt(777, 300_000);

  before(async () => {
    server = net.createServer((socket) => {
      socket.on('error', () => {});
      let buf = Buffer.alloc(0);
      const onHead = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.removeListener('data', onHead);
        const rest = buf.subarray(end + 4);
        socket.write(
          Buffer.concat([
            Buffer.from('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n'),
            LEFTOVER,
          ]),
        );
        if (rest.length > 0) socket.write(rest);
        socket.pipe(socket);
      };
      socket.on('data', onHead);
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('leftover bytes larger than the read buffer, then a large echo both ways', async (t) => {
    await using pool = new HTTPConnectionPool(LOOPBACK, { port });
    const r = await pool.request('GET', '/', { headers: { Connection: 'Upgrade', Upgrade: 'echo' } });
    assert.equal(r.status, 101);
    const ext = r.extension!;
    t.after(() => ext.duplex.destroy());
    const total = LEFTOVER.length + 16 * 1024 * 1024;
    const sent = patternAt(5_000_000, total - LEFTOVER.length);
    const sending = (async () => {
      const random = rng(7);
      for (let pos = 0; pos < sent.length; ) {
        const n = Math.min(sent.length - pos, 1 + Math.floor(random() * 200_000));
        await ext.sendPayload(sent.subarray(pos, pos + n));
        pos += n;
      }
    })();
    const held: Buffer[] = [];
    let got = 0;
    let k = 0;
    while (got < total) {
      const p = await ext.nextPayload();
      assert.ok(p !== null, `stream ended after ${got} bytes`);
      held.push(p);
      got += p.length;
      if (++k % 32 === 0) await sleep(1);
    }
    await sending;
    const all = Buffer.concat(held);
    assert.equal(all.length, total);
    assert.ok(all.subarray(0, LEFTOVER.length).equals(LEFTOVER), 'the leftover bytes came first, intact');
    assert.ok(all.subarray(LEFTOVER.length).equals(sent), 'every echoed byte came back in order');
    await ext.close();
    assert.equal(ext.closed, true);
  });
});
