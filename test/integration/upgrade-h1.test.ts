// Upgrades on HTTP/1.1 (docs/api.md sections 2 and 9): a `101 Switching Protocols`
// answer returns a response whose `extension` is the raw socket - bytes that
// came with the 101 head first, payloads both ways with bounded memory, the
// read timeout on each wait, close() ending the socket - and the connection
// leaves its pool for good, which opens another for the next request.
// Servers: node:http handling 'upgrade' (an echo), and raw node:net scripts
// for peers that close or reset right after the 101.

import assert from 'node:assert/strict';
import type http from 'node:http';
import { createServer } from 'node:net';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  HTTPConnection,
  HTTPConnectionPool,
  PoolManager,
  ProtocolError,
  RawExtension,
  ReadTimeoutError,
  request,
  Timeout,
} from '../../src/index.js';
import { pattern } from './h2-fixtures.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import {
  httpResponse,
  type RawServer,
  rawServer,
  startHttpServer,
  type TestHttpServer,
  waitUntil,
} from '../support/servers.js';
import { assertEchoRoundTrip, readBytes } from './extension-io.js';

const UPGRADE = { Connection: 'Upgrade', Upgrade: 'echo' };
const EARLY = 'early bytes after the head';

/** Per upgraded server socket: whether it saw the client's end, and whether it closed. */
interface Upgraded {
  path: string;
  socket: net.Socket;
  sawEnd: boolean;
  closed: boolean;
  /** /flood: bytes handed to the socket so far */
  written: number;
}

let srv: TestHttpServer;
const upgraded: Upgraded[] = [];

function head101(extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n${extra}`;
}

/** Writes `total` pattern bytes, waiting for 'drain' whenever the socket says so. */
async function flood(u: Upgraded, total: number): Promise<void> {
  const chunk = 65536;
  while (u.written < total && !u.socket.destroyed) {
    const n = Math.min(chunk, total - u.written);
    const ok = u.socket.write(pattern(n, u.written));
    u.written += n;
    if (!ok) await new Promise((resolve) => u.socket.once('drain', resolve).once('close', resolve));
  }
}

before(async () => {
  srv = await startHttpServer();
  srv.server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    const u: Upgraded = { path: req.url ?? '', socket, sawEnd: false, closed: false, written: 0 };
    upgraded.push(u);
    socket.on('error', () => {});
    socket.on('end', () => {
      u.sawEnd = true;
    });
    socket.on('close', () => {
      u.closed = true;
    });
    switch (req.url) {
      case '/echo':
        // The head and the first bytes of the new protocol in one write: they arrive together.
        socket.write(head101(EARLY));
        break;
      case '/flood':
        socket.write(head101());
        void flood(u, 32 * 1024 * 1024).then(() => socket.end());
        return;
      default:
        socket.write(head101());
    }
    if (head.length > 0) socket.write(head);
    // Echo with backpressure; the client's end ends ours.
    socket.pipe(socket);
  });
});

after(async () => {
  await srv.close();
});

function lastUpgraded(): Upgraded {
  const u = upgraded[upgraded.length - 1];
  assert.ok(u, 'the server saw an upgrade');
  return u;
}

describe('101 Switching Protocols on HTTP/1.1', { timeout: 20_000 }, () => {
  test('a 101 answer returns a response whose extension echoes payloads, early bytes first', async () => {
    await using pm = new PoolManager();
    const r = await pm.request('GET', `${srv.origin}/echo`, { headers: UPGRADE });
    assert.equal(r.status, 101);
    assert.equal(r.version, 11);
    assert.equal(r.headers.get('upgrade'), 'echo');
    assert.equal(r.data.length, 0);
    const ext = r.extension;
    assert.ok(ext instanceof RawExtension);
    // The bytes that came in the same read as the head are delivered first.
    assert.equal((await readBytes(ext, EARLY.length)).toString(), EARLY);
    for (const msg of ['one', 'two', 'three'.repeat(1000)]) {
      await ext.sendPayload(msg);
      assert.equal((await readBytes(ext, msg.length)).toString(), msg);
    }
    await ext.sendPayload(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await readBytes(ext, 3))], [1, 2, 3]);
    await ext.close();
  });

  test('an 8 MiB payload makes the round trip intact while both sides stream', async () => {
    await using pool = new HTTPConnectionPool(srv.host, { port: srv.port });
    const r = await pool.request('GET', '/plain', { headers: UPGRADE });
    const ext = r.extension!;
    await assertEchoRoundTrip(ext, 8 * 1024 * 1024);
    await ext.close();
  });

  test('a consumer that does not read holds the server back (memory stays bounded)', async (t) => {
    await using pool = new HTTPConnectionPool(srv.host, { port: srv.port });
    const r = await pool.request('GET', '/flood', { headers: UPGRADE });
    const u = lastUpgraded();
    const ext = r.extension!;
    const first = await ext.nextPayload();
    assert.ok(first !== null && first.length > 0);
    // Give an unthrottled server ample time to run ahead, if it could.
    await sleep(300);
    t.diagnostic(
      `the server wrote ${(u.written / 2 ** 20).toFixed(1)} MiB of 32 MiB while the reader waited`,
    );
    // What is not read stays in the kernel's socket buffers (a few MiB on loopback), not in this process.
    assert.ok(u.written < 20 * 1024 * 1024, `the server got ${u.written} bytes ahead of the reader`);
    let offset = first.length;
    let ok = first.equals(pattern(first.length));
    for (let p = await ext.nextPayload(); p !== null; p = await ext.nextPayload()) {
      if (ok && !p.equals(pattern(p.length, offset))) ok = false;
      offset += p.length;
    }
    assert.equal(offset, 32 * 1024 * 1024);
    assert.ok(ok, 'bytes match');
    await ext.close();
  });

  test('close() ends the socket: the server sees the end, both ends close', async () => {
    await using pool = new HTTPConnectionPool(srv.host, { port: srv.port });
    const r = await pool.request('GET', '/plain', { headers: UPGRADE });
    const ext = r.extension!;
    const u = lastUpgraded();
    await ext.sendPayload('ping');
    assert.equal((await readBytes(ext, 4)).toString(), 'ping');
    assert.equal(ext.closed, false);
    await ext.close();
    assert.equal(ext.closed, true);
    assert.equal(ext.duplex.destroyed, true);
    assert.ok(await waitUntil(() => u.sawEnd && u.closed), 'the server saw the end and closed');
    assert.equal(await ext.nextPayload(), null);
    await assert.rejects(ext.sendPayload('late'), (err: Error) => {
      assert.ok(err instanceof ProtocolError);
      assert.match(err.message, /closed/);
      return true;
    });
    // Idempotent.
    await ext.close();
  });

  test('the upgraded connection leaves the pool; the pool opens a new one and reuses that', async () => {
    // block + maxSize 1: the next request would wait forever if the upgraded connection still held the slot.
    await using pool = new HTTPConnectionPool(srv.host, { port: srv.port, maxSize: 1, block: true });
    const before = srv.stats.opened;
    const r = await pool.request('GET', '/plain', { headers: UPGRADE });
    const ext = r.extension!;
    const upgradedPort = lastUpgraded().socket.remotePort;
    assert.equal(pool.numConnections, 1);
    assert.equal(pool.numOpen, 0, 'the upgraded connection is out of the pool');
    const a = await pool.request('GET', '/echo', { poolTimeout: 2000 });
    const b = await pool.request('GET', '/echo', { poolTimeout: 2000 });
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    assert.equal(pool.numConnections, 2, 'one new connection');
    assert.equal(srv.stats.opened - before, 2);
    const echoes = [a, b].map((x) => x.json() as { connectionId: number; remotePort: number });
    assert.equal(echoes[0]!.connectionId, echoes[1]!.connectionId, 'the new connection is reused');
    assert.notEqual(echoes[0]!.remotePort, upgradedPort, 'the upgraded connection never comes back');
    assert.equal(pool.numOpen, 1);
    // The upgraded socket still works while the pool serves others.
    await ext.sendPayload('still here');
    assert.equal((await readBytes(ext, 10)).toString(), 'still here');
    await ext.close();
    assert.equal(pool.numOpen, 1);
    assert.equal(pool.numConnections, 2);
  });

  test('releasing or closing the 101 response leaves the extension working', async () => {
    await using pm = new PoolManager();
    const r = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE, preloadContent: false });
    assert.equal(r.status, 101);
    r.releaseConn();
    r.close();
    const ext = r.extension!;
    await ext.sendPayload('after release');
    assert.equal((await readBytes(ext, 13)).toString(), 'after release');
    await ext.close();
  });

  test('closing the pool or the low-level connection does not cut an upgraded socket', async () => {
    const conn = new HTTPConnection(srv.host, { port: srv.port });
    await conn.request('GET', '/plain', { headers: UPGRADE });
    const r = await conn.getResponse();
    assert.equal(r.status, 101);
    await conn.close();
    const pm = new PoolManager();
    const r2 = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE });
    await pm.close();
    for (const ext of [r.extension!, r2.extension!]) {
      await ext.sendPayload('alive');
      assert.equal((await readBytes(ext, 5)).toString(), 'alive');
      await ext.close();
    }
    // The connection object itself can connect again afterwards.
    await conn.request('GET', '/echo');
    assert.equal((await conn.getResponse()).status, 200);
    await conn.close();
  });

  test('nextPayload() honours the read timeout; the stream stays usable after it', async () => {
    await using pm = new PoolManager({ timeout: new Timeout({ connect: 2000, read: 150 }) });
    const r = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE });
    const ext = r.extension!;
    const t0 = Date.now();
    const err = await ext.nextPayload().then(
      () => null,
      (e: Error) => e,
    );
    assert.ok(err instanceof ReadTimeoutError, `got ${err}`);
    assert.match(err.message, /read timeout=150 ms/);
    assert.match(err.message, new RegExp(`port=${srv.port}`));
    const took = Date.now() - t0;
    assert.ok(took >= 140 && took < 1500, `timed out after ${took} ms`);
    await ext.sendPayload('later');
    assert.equal((await readBytes(ext, 5)).toString(), 'later');
    await ext.close();
  });

  test('a pending nextPayload() resolves with null when close() is called', async () => {
    await using pm = new PoolManager();
    const r = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE });
    const ext = r.extension!;
    const pending = ext.nextPayload();
    await sleep(20);
    await ext.close();
    assert.equal(await pending, null);
  });

  test('the top-level request() upgrades too', async () => {
    const r = await request('GET', `${srv.origin}/echo`, { headers: UPGRADE });
    assert.equal(r.status, 101);
    const ext = r.extension!;
    assert.equal((await readBytes(ext, EARLY.length)).toString(), EARLY);
    await ext.sendPayload('top');
    assert.equal((await readBytes(ext, 3)).toString(), 'top');
    await ext.close();
  });

  test('the duplex can be piped instead of using nextPayload()', async () => {
    await using pm = new PoolManager();
    const r = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE });
    const duplex = r.extension!.duplex;
    const got: Buffer[] = [];
    duplex.on('data', (c: Buffer) => got.push(c));
    duplex.resume();
    duplex.write('piped');
    assert.ok(await waitUntil(() => Buffer.concat(got).toString() === 'piped'));
    await r.extension!.close();
  });

  test('no socket is left open once extensions are closed', async () => {
    const baseline = countOpenSockets();
    {
      await using pm = new PoolManager();
      const r = await pm.request('GET', `${srv.origin}/plain`, { headers: UPGRADE });
      const ext = r.extension!;
      await ext.sendPayload('x');
      await readBytes(ext, 1);
      const normal = await pm.request('GET', `${srv.origin}/echo`);
      assert.equal(normal.status, 200);
      await ext.close();
    }
    const n = await waitForSocketCount((c) => c <= baseline);
    assert.ok(n <= baseline, `${n} sockets open, ${baseline} before`);
  });
});

describe('misbehaving peers after a 101', { timeout: 10_000 }, () => {
  let raw: RawServer;

  before(async () => {
    raw = await rawServer((socket, req, ctx) => {
      switch (req.target) {
        case '/close':
          socket.end(head101());
          return;
        case '/reset':
          socket.write(head101());
          ctx.setTimer(() => socket.resetAndDestroy(), 30);
          return;
        case '/leftover-then-close':
          socket.end(head101('last words'));
          return;
        default:
          // Ignores Upgrade: an ordinary answer.
          socket.write(httpResponse(200, 'no upgrade here'));
      }
    });
  });

  after(async () => {
    await raw.close();
  });

  test('a peer that closes right after the 101 gives null from nextPayload()', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const r = await pool.request('GET', '/close', { headers: UPGRADE });
    assert.equal(r.status, 101);
    const ext = r.extension!;
    assert.equal(await ext.nextPayload(), null);
    assert.equal(await ext.nextPayload(), null);
    assert.ok(await waitUntil(() => ext.closed), 'the socket closed');
    await assert.rejects(ext.sendPayload('x'), ProtocolError);
    await ext.close();
  });

  test('bytes sent with the 101 just before the close still arrive', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const r = await pool.request('GET', '/leftover-then-close', { headers: UPGRADE });
    const ext = r.extension!;
    assert.equal((await readBytes(ext, 100)).toString(), 'last words');
    assert.equal(await ext.nextPayload(), null);
    await ext.close();
  });

  test('a peer that resets after the 101 makes nextPayload() reject with ProtocolError', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const r = await pool.request('GET', '/reset', { headers: UPGRADE });
    assert.equal(r.status, 101);
    const ext = r.extension!;
    await assert.rejects(ext.nextPayload(), (err: Error) => {
      assert.ok(err instanceof ProtocolError, `got ${err}`);
      assert.match(err.message, new RegExp(`port=${raw.port}`));
      assert.match(err.message, /upgraded stream/);
      return true;
    });
    await assert.rejects(ext.sendPayload('x'), ProtocolError);
    await ext.close();
  });

  test('a server that ignores Upgrade answers normally: no extension, the connection is reused', async () => {
    await using pool = new HTTPConnectionPool(raw.host, { port: raw.port });
    const before = raw.requests.length;
    const a = await pool.request('GET', '/ignore', { headers: UPGRADE });
    const b = await pool.request('GET', '/ignore', { headers: UPGRADE });
    assert.equal(a.status, 200);
    assert.equal(a.extension, null);
    assert.equal(b.data.toString(), 'no upgrade here');
    const reqs = raw.requests.slice(before);
    assert.equal(reqs[0]!.connectionIndex, reqs[1]!.connectionIndex);
    assert.equal(pool.numConnections, 1);
  });

  test('a 101 while the request body is still uploading fails the request', async () => {
    // The server answers 101 as soon as the head arrives; the body keeps coming slowly.
    const sockets = new Set<net.Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.once('data', () => socket.write(head101()));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await using p = new HTTPConnectionPool('127.0.0.1', { port, retries: false });
      async function* body() {
        for (let i = 0; i < 100; i++) {
          yield Buffer.alloc(1024, 'b');
          await sleep(10);
        }
      }
      await assert.rejects(p.request('POST', '/upload', { headers: UPGRADE, body: body() }), (err: Error) => {
        assert.ok(err instanceof ProtocolError, `got ${err}`);
        assert.match(err.message, /switched protocols \(101\) while the request body/);
        return true;
      });
      assert.equal(p.numOpen, 0);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
