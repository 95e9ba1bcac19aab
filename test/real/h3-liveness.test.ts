// HTTP/3 connections that die while idle, against a real caddy (docs/api.md
// section 9, "Liveness"): an idle connection proves it is alive with a QUIC
// PING before reuse; a PING that goes unanswered - UDP dropped by a relay in
// this process acting as a firewall, or a caddy restarted on the same ports
// that forgot the connection - retires the connection, and the request goes
// on a new one (over HTTP/3, or over TCP when HTTP/3 was only discovered); a
// stopped caddy (ICMP port unreachable) fails the stale connection at once
// and the request is re-sent once. Also the cipher suite ConnectionInfo
// reports over QUIC, checked against the handshake's secrets.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  ConnectTimeoutError,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  HttpVersion,
  NewConnectionError,
  Timeout,
} from '../../src/index.js';
import { startUdpRelay, type UdpRelay } from '../support/h3-udp-relay.js';
import { idleIn } from '../support/idle-connection.js';
import {
  type H3Caddy,
  h3CaddySkip,
  probe,
  spawnCaddy,
  startCaddy,
  startH3Caddy,
} from '../support/real-caddy.js';

const ONLY_H3 = new Set([HttpVersion.h11, HttpVersion.h2]);
const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

const skip = await h3CaddySkip();

/** Starts caddy again from a Caddyfile (same ports), as after a restart; the old one must be gone. */
async function restartCaddy(caddyfile: string, port: number): Promise<{ stop(): Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-caddy-again-'));
  const conf = path.join(dir, 'Caddyfile');
  writeFileSync(conf, caddyfile);
  const { child, stop } = spawnCaddy(conf, dir);
  const deadline = Date.now() + 15_000;
  while (!(await probe(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`caddy did not come back on port ${port}`);
    }
    await sleep(50);
  }
  return { stop };
}

describe('HTTP/3 liveness against caddy', { skip: skip ?? false }, () => {
  let server: H3Caddy;
  let relay: UdpRelay;
  const pools: HTTPSConnectionPool[] = [];

  function pool(port: number, opts: HTTPSConnectionPoolOptions = {}): HTTPSConnectionPool {
    const p = new HTTPSConnectionPool('localhost', {
      port,
      caCerts: server.pki.caCert,
      disabledSvn: ONLY_H3,
      retries: false,
      maxSize: 1,
      block: true,
      ...opts,
    });
    pools.push(p);
    return p;
  }

  before(async () => {
    server = await startH3Caddy('h3-live', { 'small.txt': 'alive\n' });
  });

  after(async () => {
    for (const p of pools) await p.close();
    relay?.close();
    await server?.stop();
  });

  test('ConnectionInfo names the TLS 1.3 cipher suite, one whose hash matches the length of the handshake secrets', async () => {
    const file = path.join(server.root, 'keys.log');
    const saved = process.env.SSLKEYLOGFILE;
    process.env.SSLKEYLOGFILE = file;
    let first: Awaited<ReturnType<HTTPSConnectionPool['request']>>;
    const p = pool(server.port);
    try {
      first = await p.request('GET', '/small.txt');
    } finally {
      if (saved === undefined) delete process.env.SSLKEYLOGFILE;
      else process.env.SSLKEYLOGFILE = saved;
    }
    assert.equal(first.version, 30);
    const cipher = first.connectionInfo?.cipher ?? null;
    assert.ok(cipher !== null && TLS13_SUITES.includes(cipher), `cipher: ${cipher}`);
    assert.equal(first.connectionInfo?.tlsVersion, 'TLSv1.3');
    // SHA-384 suites derive 48-byte secrets, SHA-256 ones 32-byte secrets.
    const secret = /CLIENT_TRAFFIC_SECRET_0 [0-9a-f]+ ([0-9a-f]+)/.exec(readFileSync(file, 'utf8'))?.[1];
    assert.ok(secret !== undefined, 'the key log holds the traffic secret');
    assert.equal(secret.length / 2, cipher.endsWith('SHA384') ? 48 : 32);
    const again = await p.request('GET', '/small.txt');
    assert.equal(again.connectionInfo?.cipher, cipher, 'a reused connection reports the same suite');
  });

  test('an idle connection answers a QUIC PING and is reused', async () => {
    const p = pool(server.port);
    const conn = await idleIn(p, 50, '/small.txt');
    await sleep(120);
    const alive = conn.checkAlive();
    assert.ok(alive instanceof Promise, 'past pingAfterIdle the check is a PING');
    assert.equal(await alive, true);
    assert.equal(conn.checkAlive(), true, 'the answer counts as activity');
    await sleep(120);
    const r2 = await p.request('GET', '/small.txt');
    assert.equal(r2.status, 200);
    assert.equal(r2.connectionInfo?.establishedLatency, 0, 'the same connection, reused');
    assert.equal(p.numConnections, 1);
  });

  test('UDP dropped on the way: the unanswered PING retires the connection and the request falls back to TCP', async () => {
    relay = await startUdpRelay(server.port);
    const origin = `localhost:${server.port}`;
    const cache = new Map<string, string | null>([[origin, `localhost:${relay.port}`]]);
    const p = pool(server.port, {
      disabledSvn: null,
      preemptiveQuicCache: cache,
      timeout: new Timeout({ connect: 2000, read: 5000 }),
    });
    const conn = await idleIn(p, 50, '/small.txt');
    assert.equal(conn.httpVersion, HttpVersion.h3, 'HTTP/3 through the relay');
    await sleep(100);
    relay.drop();
    const t0 = performance.now();
    const r2 = await p.request('GET', '/small.txt');
    const took = performance.now() - t0;
    assert.equal(r2.status, 200);
    assert.equal(r2.version, 20, 'over TCP (HTTP/2) after the QUIC path went silent');
    assert.ok(relay.dropped > 0, 'the PING and a new handshake were sent and dropped');
    // The PING's 2 s, then half the connect timeout for a new handshake, then TCP.
    assert.ok(took < 5000, `took ${Math.round(took)} ms`);
    const r3 = await p.request('GET', '/small.txt');
    assert.equal(r3.version, 20, 'the origin cools down on TCP');
    relay.forward();
  });

  test('forced HTTP/3 with UDP dropped: a ConnectTimeoutError after the PING and the connect timeout, no hang', async () => {
    relay ??= await startUdpRelay(server.port);
    relay.forward();
    const p = pool(relay.port, { timeout: new Timeout({ connect: 1000, read: 5000 }) });
    const conn = await idleIn(p, 50, '/small.txt');
    assert.equal(conn.httpVersion, HttpVersion.h3);
    await sleep(100);
    relay.drop();
    const t0 = performance.now();
    await assert.rejects(p.request('GET', '/small.txt'), ConnectTimeoutError);
    const took = performance.now() - t0;
    assert.ok(took < 4500, `took ${Math.round(took)} ms`);
    relay.forward();
  });

  test('caddy restarted on the same ports: the PING of the forgotten connection goes unanswered and the request reconnects over HTTP/3', async () => {
    const own = await startCaddy({
      root: server.root,
      sites: [{ name: 'own', cert: server.pki.server.cert, key: server.pki.server.key }],
    });
    const port = own.ports.own!;
    const caddyfile = readFileSync(path.join(own.dir, 'Caddyfile'), 'utf8');
    let again: { stop(): Promise<void> } | null = null;
    try {
      const p = pool(port, { timeout: new Timeout({ connect: 2000, read: 5000 }) });
      const first = await idleIn(p, 50, '/small.txt');
      await own.stop();
      again = await restartCaddy(caddyfile, port);
      await sleep(100);
      const t0 = performance.now();
      const r2 = await p.request('GET', '/small.txt');
      assert.equal(r2.version, 30);
      assert.equal(r2.data.toString(), 'alive\n');
      assert.ok(first.isClosed, 'the first connection was closed');
      assert.ok((r2.connectionInfo?.tlsHandshakeLatency ?? 0) > 0, 'a new connection');
      assert.ok(performance.now() - t0 < 4000);

      // Stopped for good: the next request meets ICMP port unreachable at once
      // on its (recently used) connection, is re-sent once, and the new
      // connection is refused: a NewConnectionError, promptly.
      await again.stop();
      again = null;
      const t1 = performance.now();
      await assert.rejects(
        p.request('GET', '/small.txt'),
        (e: unknown) => e instanceof NewConnectionError && /ICMP port unreachable/.test((e as Error).message),
      );
      assert.ok(performance.now() - t1 < 2000);
    } finally {
      await again?.stop();
      await own.stop();
    }
  });
});
