// Pooling on HTTP/2 (docs/api.md sections 4 and 9, docs/architecture.md "The session seam", "shared
// reservations"): concurrent requests share one connection up to the
// server's MAX_CONCURRENT_STREAMS, then a second one opens; only one
// connection is set up at a time while the protocol is unknown; idle
// connections follow maxSize; GOAWAY and dead connections are replaced;
// long-idle connections must answer a PING before reuse; no socket leaks.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import http2 from 'node:http2';
import {
  type HTTPConnection,
  HTTPConnectionPool,
  HTTPSConnectionPool,
  HttpVersion,
  PoolManager,
  RequestAbortedError,
} from '../../src/index.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { waitUntil } from '../support/servers.js';
import { type H2TestServer, HOST, LoopbackResolver, startH2Server, tlsOptions } from './h2-fixtures.js';
import { startTlsServer, type TlsServer } from './tls-fixtures.js';

const servers: Array<{ close(): Promise<void> }> = [];
async function server(...args: Parameters<typeof startH2Server>): Promise<H2TestServer> {
  const s = await startH2Server(...args);
  servers.push(s);
  return s;
}

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A TCP relay to `target` that can freeze its existing links (a peer that went silent without closing). */
async function freezableRelay(target: number): Promise<{
  port: number;
  links: Array<{ frozen: boolean; a: net.Socket; b: net.Socket }>;
}> {
  const links: Array<{ frozen: boolean; a: net.Socket; b: net.Socket }> = [];
  const relay = net.createServer((a) => {
    const b = net.connect(target, HOST);
    const link = { frozen: false, a, b };
    links.push(link);
    a.on('data', (d) => {
      if (!link.frozen) b.write(d);
    });
    b.on('data', (d) => {
      if (!link.frozen) a.write(d);
    });
    a.on('error', () => b.destroy());
    b.on('error', () => a.destroy());
    a.on('close', () => b.destroy());
    b.on('close', () => a.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, HOST, resolve));
  servers.push({
    close: () => {
      for (const l of links) {
        l.a.destroy();
        l.b.destroy();
      }
      return new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  });
  return { port: (relay.address() as net.AddressInfo).port, links };
}

/**
 * An h2c pool whose one connection has been idle past its PING threshold and
 * whose peer has gone silent (the relay link frozen, nothing closed).
 */
async function silentIdleConnection(): Promise<{
  pool: HTTPConnectionPool;
  links: Array<{ frozen: boolean; a: net.Socket; b: net.Socket }>;
}> {
  const s = await server({ tls: false });
  const { links, port } = await freezableRelay(s.port);
  const pool = new HTTPConnectionPool(HOST, { port, disabledSvn: new Set([HttpVersion.h11]), timeout: 5000 });
  const r = await pool.request('GET', '/hello', { preloadContent: false });
  (r.connection as HTTPConnection)._pingAfterIdle = 10;
  await r.read();
  await sleep(30);
  links[0]!.frozen = true;
  return { pool, links };
}

describe('sharing one connection', () => {
  let s: H2TestServer;
  before(async () => {
    s = await server({ settings: { maxConcurrentStreams: 100 } });
  });

  test('50 concurrent requests use one TCP connection under MAX_CONCURRENT_STREAMS 100', async () => {
    const before = s.connections;
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 10 });
    const rs = await Promise.all(
      Array.from({ length: 50 }, (_, i) => pool.request('GET', `/delay/100?i=${i}`)),
    );
    assert.ok(rs.every((r) => r.status === 200 && r.version === 20));
    assert.deepEqual(
      rs.map((r) => r.data.toString()),
      Array.from({ length: 50 }, (_, i) => `delayed 100 ?i=${i}`),
    );
    assert.equal(s.connections - before, 1, 'one TCP connection');
    assert.equal(s.maxStreamsPerSession, 50, 'all 50 were in flight at once');
    assert.equal(pool.numConnections, 1);
  });

  test('sequential requests reuse the connection', async () => {
    const before = s.connections;
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    for (let i = 0; i < 5; i++) assert.equal((await pool.request('GET', '/hello')).data.toString(), 'hello');
    assert.equal(s.connections - before, 1);
    assert.equal(pool.numIdle, 1);
    assert.equal(pool.numOpen, 1);
  });

  test('only one TLS handshake while 20 requests start together on a fresh pool', async () => {
    const before = { handshakes: s.handshakes, connections: s.connections };
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 20 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => pool.request('GET', '/hello')));
    assert.equal(rs.length, 20);
    assert.equal(s.handshakes - before.handshakes, 1);
    assert.equal(s.connections - before.connections, 1);
  });

  test('the same through a PoolManager, for h2c too', async () => {
    const c = await server({ tls: false });
    await using pm = new PoolManager({ disabledSvn: new Set([HttpVersion.h11]), maxSize: 4 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => pm.request('GET', `${c.origin}/delay/50`)));
    assert.ok(rs.every((r) => r.version === 20));
    assert.equal(c.connections, 1);
  });
});

describe('MAX_CONCURRENT_STREAMS', () => {
  test('a server limiting to 5 streams with 10 in flight gets a second connection', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 5 } });
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 1 });
    const rs = await Promise.all(Array.from({ length: 10 }, () => pool.request('GET', '/delay/150')));
    assert.ok(rs.every((r) => r.status === 200));
    assert.equal(s.connections, 2);
    assert.equal(s.maxStreamsPerSession, 5, 'never more than 5 streams on one connection');
    // maxSize 1: one idle connection is kept, the other closed once its streams ended.
    assert.ok(await waitUntil(() => pool.numOpen === 1 && s.openConnections === 1));
    assert.equal(pool.numIdle, 1);
  });

  test('with block and maxSize 1 the requests queue for the 5 streams of one connection', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 5 } });
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      maxSize: 1,
      block: true,
    });
    const started = Date.now();
    const rs = await Promise.all(Array.from({ length: 10 }, () => pool.request('GET', '/delay/150')));
    assert.ok(rs.every((r) => r.status === 200));
    assert.equal(s.connections, 1);
    assert.equal(s.maxStreamsPerSession, 5);
    assert.ok(Date.now() - started >= 280, 'two rounds of 5');
  });

  test('a SETTINGS change lowering the limit is honoured for new streams', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 10 } });
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 1 });
    await pool.request('GET', '/hello');
    for (const session of s.sessions) session.settings({ maxConcurrentStreams: 2 });
    await sleep(50);
    await Promise.all(Array.from({ length: 4 }, () => pool.request('GET', '/delay/100')));
    assert.equal(s.connections, 2);
    assert.ok(s.maxStreamsPerSession <= 2);
  });
});

describe('protocol unknown until ALPN', () => {
  let h1: TlsServer;
  before(async () => {
    const pki = (await server()).pki!;
    h1 = await startTlsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
    servers.push(h1);
  });

  test('when ALPN says http/1.1 the waiting requests open their own connections', async () => {
    const pki = (await server()).pki!;
    await using pool = new HTTPSConnectionPool('localhost', {
      port: h1.port,
      caCerts: pki.caCert,
      resolver: new LoopbackResolver(),
      maxSize: 5,
    });
    const before = h1.accepted;
    const rs = await Promise.all(Array.from({ length: 5 }, () => pool.request('GET', '/')));
    assert.ok(rs.every((r) => r.version === 11));
    assert.equal(h1.accepted - before, 5);
    // Now the origin is known to be HTTP/1.1: no more waiting for one connection first.
    assert.equal(pool.numIdle, 5);
  });

  test('a failed handshake fails the waiting requests with the same error, each spending its own retry', async () => {
    // Nothing listens on this port.
    const port = await new Promise<number>((resolve) => {
      const srv = net.createServer().listen(0, HOST, () => {
        const p = (srv.address() as net.AddressInfo).port;
        srv.close(() => resolve(p));
      });
    });
    await using pool = new HTTPSConnectionPool('localhost', {
      port,
      resolver: new LoopbackResolver(),
      maxSize: 5,
      retries: false,
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => pool.request('GET', '/')));
    assert.ok(results.every((r) => r.status === 'rejected'));
    const errs = results.map((r) => (r as PromiseRejectedResult).reason as Error);
    assert.ok(
      errs.every((e) => e.name === 'NewConnectionError'),
      errs.map((e) => e.name).join(),
    );
    assert.equal(pool.numConnections, 1, 'one attempt, shared by all five');
    assert.equal(pool.numOpen, 0);
  });
});

describe('connection lifetime', () => {
  test('GOAWAY on an idle connection: the next request opens a new one', async () => {
    const s = await server();
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    await pool.request('GET', '/hello');
    for (const session of s.sessions) session.goaway(http2.constants.NGHTTP2_NO_ERROR);
    await waitUntil(() => pool.numOpen === 0);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, 2);
  });

  test('a server that closed an idle connection is replaced transparently', async () => {
    const s = await server();
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    await pool.request('GET', '/hello');
    for (const session of s.sessions) session.destroy();
    await waitUntil(() => pool.numOpen === 0);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.connections, 2);
  });

  test('a connection idle longer than the threshold answers a PING before reuse', async () => {
    const s = await server();
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const r = await pool.request('GET', '/hello', { preloadContent: false });
    const conn = r.connection as HTTPConnection;
    conn._pingAfterIdle = 30;
    await r.read();
    await sleep(60);
    assert.equal(s.pings, 0);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(s.pings, 1);
    assert.equal(s.connections, 1);
    // A recently used connection is not pinged.
    await pool.request('GET', '/hello');
    assert.equal(s.pings, 1);
  });

  test('a burst of requests after an idle spell shares one PING and one connection', async () => {
    const s = await server();
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const r = await pool.request('GET', '/hello', { preloadContent: false });
    (r.connection as HTTPConnection)._pingAfterIdle = 30;
    await r.read();
    await sleep(60);
    // More than node:http2's limit of outstanding PINGs (10) if each request sent its own.
    const burst = await Promise.all(Array.from({ length: 50 }, () => pool.request('GET', '/hello')));
    assert.ok(burst.every((b) => b.status === 200));
    assert.equal(s.pings, 1);
    assert.equal(s.connections, 1);
    assert.equal(pool.numConnections, 1);
  });

  test('a long-idle connection that does not answer the PING is replaced', async () => {
    const silent = await silentIdleConnection();
    await using pool = silent.pool;
    const links = silent.links;
    const started = Date.now();
    const r2 = await pool.request('GET', '/hello');
    assert.equal(r2.data.toString(), 'hello');
    assert.equal(links.length, 2, 'a second connection');
    assert.ok(Date.now() - started < 4000);
  });

  test('a request aborted while its long-idle connection answers no PING fails at once, and the pool goes on', async () => {
    const silent = await silentIdleConnection();
    await using pool = silent.pool;
    const links = silent.links;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const started = Date.now();
    await assert.rejects(pool.request('GET', '/hello', { signal: ac.signal }), (e: unknown) => {
      assert.ok(e instanceof RequestAbortedError, String(e));
      assert.match((e as Error).message, /aborted while the connection was checked alive/);
      return true;
    });
    assert.ok(
      Date.now() - started < 1000,
      `aborted after ${Date.now() - started} ms, not at the PING timeout`,
    );
    // The unanswered PING closes the frozen connection; the next request gets a new one.
    const r2 = await pool.request('GET', '/hello');
    assert.equal(r2.data.toString(), 'hello');
    assert.equal(links.length, 2);
  });

  test('close() while streams are in flight: they finish, then the connection closes', async () => {
    const s = await server();
    const pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const pending = Promise.all([pool.request('GET', '/delay/100'), pool.request('GET', '/delay/150')]);
    await sleep(30);
    await pool.close();
    const rs = await pending;
    assert.ok(rs.every((r) => r.status === 200));
    assert.ok(await waitUntil(() => pool.numOpen === 0 && s.openConnections === 0));
  });
});

describe('accounting', () => {
  test('no socket is left open after close(), whatever happened to the streams', async () => {
    const s = await server({ settings: { maxConcurrentStreams: 4 } });
    const baseline = countOpenSockets();
    const pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      maxSize: 2,
      retries: false,
    });
    const ac = new AbortController();
    const jobs = [
      ...Array.from({ length: 8 }, () => pool.request('GET', '/delay/50')),
      pool.request('GET', '/rst/2'),
      pool.request('GET', '/bytes/1000000', { preloadContent: false }).then((r) => {
        r.releaseConn();
        return r;
      }),
      pool.request('GET', '/hang', { signal: ac.signal }),
      pool.request('GET', '/short'),
    ];
    setTimeout(() => ac.abort(), 100);
    const results = await Promise.allSettled(jobs);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 9);
    assert.ok(s.maxStreamsPerSession <= 4);
    await pool.close();
    const n = await waitForSocketCount((c) => c <= baseline, 3000);
    assert.ok(n <= baseline, `sockets left open: ${n - baseline}`);
    assert.equal(pool.numOpen, 0);
  });
});
