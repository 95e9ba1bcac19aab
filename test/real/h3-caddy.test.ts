// HTTP/3 against a real caddy from Debian (docs/api.md section 9): requests
// forced onto HTTP/3 with disabledSvn, POST bodies (one of 32 MiB, past many
// flow-control windows), a 100 MiB download whose
// checksum matches, 1,000 concurrent requests on one connection, what
// ConnectionInfo reports, the certificate failure matrix as SSLError, IP hosts
// verified against the certificate's IP SANs, fingerprints, client
// certificates, read timeouts and aborts. caddy proxies /echo to an upstream
// in this process, which reports what it received.

import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import {
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  HttpVersion,
  ProtocolError,
  ReadTimeoutError,
  RequestAbortedError,
  SSLError,
  Timeout,
} from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { type CaddyServer, type CaddySite, h3CaddySkip, startCaddy } from '../support/real-caddy.js';

const ONLY_H3 = new Set([HttpVersion.h11, HttpVersion.h2]);
const BIG = 100 * 1024 * 1024;

const skip = await h3CaddySkip();

describe('HTTP/3 against caddy', { skip: skip ?? false }, () => {
  let pki: TlsTestPki;
  const caddies: CaddyServer[] = [];
  const ports: Record<string, number> = {};
  let root: string;
  let upstream: http.Server;
  let bigSha: string;
  const pools: HTTPSConnectionPool[] = [];

  function pool(
    site: string,
    opts: HTTPSConnectionPoolOptions = {},
    host = 'localhost',
  ): HTTPSConnectionPool {
    const p = new HTTPSConnectionPool(host, {
      port: ports[site]!,
      caCerts: pki.caCert,
      disabledSvn: ONLY_H3,
      retries: false,
      ...opts,
    });
    pools.push(p);
    return p;
  }

  before(async () => {
    pki = await makeTlsTestPki();
    root = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-h3-root-'));
    writeFileSync(path.join(root, 'small.txt'), 'hello over QUIC\n');
    writeFileSync(path.join(root, 'index.html'), 'index');
    const big = randomBytes(BIG);
    bigSha = createHash('sha256').update(big).digest('hex');
    writeFileSync(path.join(root, 'big.bin'), big);
    upstream = http.createServer((req, res) => {
      if (req.url === '/echo/stall') return; // never answers
      const h = createHash('sha256');
      let n = 0;
      req.on('data', (c: Buffer) => {
        h.update(c);
        n += c.length;
      });
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            method: req.method,
            url: req.url,
            headers: req.headers,
            length: n,
            sha: h.digest('hex'),
          }),
        );
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const up = upstream.address() as AddressInfo;
    // One caddy per certificate: a handshake without SNI (IP hosts, pinned
    // fingerprints) gets whichever loaded certificate holds the address.
    const upstreamAt = `127.0.0.1:${up.port}`;
    const start = (sites: CaddySite[]) => startCaddy({ root, upstream: upstreamAt, sites });
    const servers = await Promise.all([
      start([
        { name: 'good', cert: pki.server.cert, key: pki.server.key },
        { name: 'mtls', cert: pki.server.cert, key: pki.server.key, clientCa: pki.caCert },
      ]),
      ...(['wrongHost', 'expired', 'selfSigned', 'unknownCa'] as const).map((name) =>
        start([{ name, cert: pki[name].cert, key: pki[name].key }]),
      ),
    ]);
    caddies.push(...servers);
    for (const c of servers) Object.assign(ports, c.ports);
  });

  after(async () => {
    for (const p of pools) await p.close();
    await Promise.all(caddies.map((c) => c.stop()));
    upstream?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test('a GET over HTTP/3 reports version 30 and an HTTP/3 ConnectionInfo with TLS 1.3 and the certificate', async () => {
    const r = await pool('good').request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'hello over QUIC\n');
    assert.equal(r.version, 30);
    const info = r.connectionInfo!;
    assert.equal(info.httpVersion, HttpVersion.h3);
    assert.equal(info.tlsVersion, 'TLSv1.3');
    assert.ok(info.isEncrypted());
    assert.deepEqual(info.certificateDer, pki.server.certDer);
    assert.equal(info.certificateDict?.subject?.CN, 'localhost');
    assert.deepEqual(info.destinationAddress, ['127.0.0.1', ports.good]);
  });

  test('POST bodies from a buffer and from a stream reach the server whole', async () => {
    const p = pool('good');
    const buf = randomBytes(300_000);
    const r1 = await p.request('POST', '/echo/buffer', { body: buf });
    const j1 = r1.json() as { method: string; length: number; sha: string };
    assert.equal(j1.method, 'POST');
    assert.equal(j1.length, buf.length);
    assert.equal(j1.sha, createHash('sha256').update(buf).digest('hex'));
    const parts = Array.from({ length: 40 }, () => randomBytes(50_000));
    // caddy 2.6 forwards an HTTP/3 request body without Content-Length as empty
    // (its quic-go takes a missing length for 0), so the length is given.
    const r2 = await p.request('PUT', '/echo/stream', {
      body: Readable.from(parts),
      headers: { 'content-length': '2000000' },
    });
    const j2 = r2.json() as { length: number; sha: string };
    assert.equal(j2.length, 2_000_000);
    assert.equal(j2.sha, createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  });

  test('a 32 MiB upload crosses many flow-control windows and arrives whole', async () => {
    const p = pool('good');
    // Far past quic-go's stream and connection windows (512 KiB and 768 KiB
    // at first, grown to at most 6 and 15 MiB): the upload goes on only as
    // the server hands out credit, window after window.
    const body = randomBytes(32 << 20);
    const r = await p.request('POST', '/echo/buffer', { body });
    assert.equal(r.status, 200);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h3);
    const j = r.json() as { length: number; sha: string };
    assert.equal(j.length, body.length);
    assert.equal(j.sha, createHash('sha256').update(body).digest('hex'));
  });

  test('sourceAddress is where the QUIC packets come from', async () => {
    // caddy's reverse proxy tells the upstream the client's address.
    const r = await pool('good', { sourceAddress: ['127.0.0.2', 0] }).request('GET', '/echo/h');
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h3);
    const j = r.json() as { headers: Record<string, string> };
    assert.equal(j.headers['x-forwarded-for'], '127.0.0.2');
  });

  test('request headers arrive lower-cased with the Host as :authority', async () => {
    const r = await pool('good').request('GET', '/echo/h', {
      headers: { 'X-Custom': 'yes', Connection: 'keep-alive' },
    });
    const j = r.json() as { headers: Record<string, string> };
    assert.equal(j.headers['x-custom'], 'yes');
    assert.equal(j.headers.host, `localhost:${ports.good}`);
  });

  test('a 100 MiB download streams with a matching SHA-256', async () => {
    const r = await pool('good').request('GET', '/big.bin', { preloadContent: false });
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of r.stream(1 << 20)) {
      h.update(chunk);
      n += chunk.length;
    }
    assert.equal(n, BIG);
    assert.equal(h.digest('hex'), bigSha);
  });

  test('1,000 concurrent requests share one QUIC connection', async () => {
    const p = pool('good', { maxSize: 1, block: true });
    const rs = await Promise.all(Array.from({ length: 1000 }, () => p.request('GET', '/small.txt')));
    assert.ok(rs.every((r) => r.status === 200 && r.data.toString() === 'hello over QUIC\n'));
    assert.equal(p.numConnections, 1);
  });

  test('an IP host is verified against the certificate IP SANs, and sent no SNI', async () => {
    const r = await pool('good', {}, '127.0.0.1').request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.deepEqual(r.connectionInfo?.certificateDer, pki.server.certDer);
    // The same check, against an address the certificate does not hold.
    await assert.rejects(
      pool('good', { assertHostname: '127.0.0.2' }).request('GET', '/small.txt'),
      (e: unknown) => e instanceof SSLError && /IP address mismatch.*'127\.0\.0\.2'/.test(e.message),
    );
  });

  test('assertHostname names another host: checked against the certificate after the handshake', async () => {
    await assert.rejects(
      pool('good', { assertHostname: 'other.example' }).request('GET', '/small.txt'),
      (e: unknown) => e instanceof SSLError && /Hostname mismatch.*'other\.example'/.test(e.message),
    );
    // An IP host checked against a name: no SNI (never an IP), the name checked after the handshake.
    const r = await pool('good', { assertHostname: 'localhost' }, '127.0.0.1').request('GET', '/small.txt');
    assert.equal(r.status, 200);
  });

  for (const [site, why] of [
    ['wrongHost', /certificate|handshake/i],
    ['expired', /certificate_expired|certificate/i],
    ['selfSigned', /unknown_ca|certificate/i],
    ['unknownCa', /unknown_ca|certificate/i],
  ] as const) {
    test(`a ${site} certificate fails the handshake with an SSLError (connect phase)`, async () => {
      await assert.rejects(pool(site).request('GET', '/small.txt'), (e: unknown) => {
        assert.ok(e instanceof SSLError, `expected SSLError, got ${String(e)}`);
        assert.match((e as Error).message, why);
        assert.equal((e as SSLError).phase, 'connect');
        return true;
      });
    });
  }

  test('certReqs CERT_NONE accepts a self-signed certificate', async () => {
    const r = await pool('selfSigned', { certReqs: 'CERT_NONE', caCerts: null }).request('GET', '/small.txt');
    assert.equal(r.status, 200);
  });

  test('assertFingerprint pins the certificate: a match passes, a mismatch is an SSLError before any request', async () => {
    const good = createHash('sha256').update(pki.server.certDer).digest('hex');
    const r = await pool('good', { assertFingerprint: good }).request('GET', '/small.txt');
    assert.equal(r.status, 200);
    await assert.rejects(
      pool('good', { assertFingerprint: 'aa'.repeat(32) }).request('GET', '/small.txt'),
      (e: unknown) => e instanceof SSLError && /Fingerprints did not match/.test(e.message),
    );
  });

  test('a client certificate (with keyPassword) passes a server that requires one', async () => {
    const r = await pool('mtls', {
      certFile: pki.client.cert,
      keyFile: pki.client.encryptedKey,
      keyPassword: pki.clientKeyPassword,
    }).request('GET', '/small.txt');
    assert.equal(r.status, 200);
    await assert.rejects(pool('mtls').request('GET', '/small.txt'), (e: unknown) => {
      assert.ok(e instanceof SSLError || e instanceof ProtocolError, String(e));
      return true;
    });
  });

  test('sslMaximumVersion below TLS 1.3 makes HTTP/3 unavailable, with the reason', async () => {
    await assert.rejects(
      pool('good', { sslMaximumVersion: 'TLSv1.2' }).request('GET', '/small.txt'),
      (e: unknown) => e instanceof Error && /HTTP\/3 .*unavailable.*TLS 1\.3/.test(e.message),
    );
  });

  test('a ciphers list QUIC cannot keep to makes HTTP/3 unavailable; TLS 1.2 names alone do not', async () => {
    await assert.rejects(
      pool('good', { ciphers: 'TLS_AES_256_GCM_SHA384' }).request('GET', '/small.txt'),
      (e: unknown) =>
        e instanceof Error &&
        /HTTP\/3 .*unavailable.*cannot leave out TLS_AES_128_GCM_SHA256/.test(e.message),
    );
    const r = await pool('good', { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }).request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h3);
  });

  test('a read timeout applies to a response that never comes', async () => {
    const p = pool('good', { timeout: new Timeout({ connect: 5000, read: 300 }) });
    await assert.rejects(p.request('GET', '/echo/stall'), ReadTimeoutError);
    const r = await p.request('GET', '/small.txt');
    assert.equal(r.status, 200, 'the connection still serves the next request');
  });

  test('an upload the server stops reading waits for credit without spinning the CPU', async () => {
    const p = pool('good');
    const ac = new AbortController();
    const stalled = p.request('POST', '/echo/stall', { body: Buffer.alloc(64 << 20), signal: ac.signal });
    stalled.catch(() => {});
    await sleep(1_000); // flow control has stopped the upload by now
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(1_000);
    const used = process.cpuUsage(cpu0);
    const perSecond = (used.user + used.system) / 1000 / ((performance.now() - t0) / 1000);
    ac.abort();
    await assert.rejects(stalled, RequestAbortedError);
    // Measured: ~30 ms of CPU a second while waiting; ~550 when every event-loop turn retried the write.
    assert.ok(perSecond < 200, `${Math.round(perSecond)} ms of CPU a second while the upload waited`);
  });

  test('an abort resets only its stream; the connection carries on', async () => {
    const p = pool('good', { maxSize: 1, block: true });
    const ac = new AbortController();
    const stalled = p.request('GET', '/echo/stall', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      stalled,
      (e: unknown) => e instanceof RequestAbortedError || e instanceof ProtocolError,
    );
    const r = await p.request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.equal(p.numConnections, 1);
  });

  test("caddy's Alt-Svc moves later requests from HTTP/2 to HTTP/3, and the cache remembers it", async () => {
    const cache = new Map<string, string | null>();
    const p = pool('good', { disabledSvn: null, preemptiveQuicCache: cache, maxSize: 1, block: true });
    const first = await p.request('GET', '/small.txt');
    assert.equal(first.version, 20, 'the first request goes over TCP');
    const origin = `localhost:${ports.good}`;
    assert.equal(cache.get(origin), origin, 'Alt-Svc h3 remembered for the origin');
    const second = await p.request('GET', '/small.txt');
    assert.equal(second.version, 30, 'later requests go over HTTP/3');
    assert.equal(second.data.toString(), 'hello over QUIC\n');
  });

  test('a seeded preemptiveQuicCache sends the first request over HTTP/3', async () => {
    const origin = `localhost:${ports.good}`;
    const p = pool('good', { disabledSvn: null, preemptiveQuicCache: new Map([[origin, origin]]) });
    const r = await p.request('GET', '/small.txt');
    assert.equal(r.version, 30);
  });

  test('SSLKEYLOGFILE receives the secrets of the QUIC handshake', async () => {
    const file = path.join(root, 'keys.log');
    const before = process.env.SSLKEYLOGFILE;
    process.env.SSLKEYLOGFILE = file;
    try {
      const r = await pool('good').request('GET', '/small.txt');
      assert.equal(r.version, 30);
    } finally {
      if (before === undefined) delete process.env.SSLKEYLOGFILE;
      else process.env.SSLKEYLOGFILE = before;
    }
    assert.match(readFileSync(file, 'utf8'), /CLIENT_TRAFFIC_SECRET_0 [0-9a-f]+ [0-9a-f]+/);
  });

  test('an idle HTTP/3 connection does not hold the process open', () => {
    const script = `import { PoolManager, HttpVersion } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))};
const pm = new PoolManager({ caCerts: ${JSON.stringify(pki.caCert)}, disabledSvn: new Set([HttpVersion.h11, HttpVersion.h2]) });
const r = await pm.request('GET', 'https://localhost:${ports.good}/small.txt');
console.log(r.version);`;
    const file = path.join(root, 'idle.mts');
    writeFileSync(file, script);
    const t0 = performance.now();
    const out = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), '30');
    assert.ok(performance.now() - t0 < 10_000, 'exited long before the QUIC idle timeout (30 s)');
  });

  test('an HTTP/3 connection idle again after a liveness PING does not hold the process open', () => {
    const script = `import { PoolManager, HttpVersion } from ${JSON.stringify(path.resolve(import.meta.dirname, '../../src/index.ts'))};
const pm = new PoolManager({ caCerts: ${JSON.stringify(pki.caCert)}, disabledSvn: new Set([HttpVersion.h11, HttpVersion.h2]) });
const url = 'https://localhost:${ports.good}/small.txt';
const first = await pm.request('GET', url, { preloadContent: false });
first.connection._pingAfterIdle = 10;
await first.read();
await new Promise((r) => setTimeout(r, 50));
const second = await pm.request('GET', url);
console.log(first.version, second.version, second.connection === first.connection);`;
    const file = path.join(root, 'idle-ping.mts');
    writeFileSync(file, script);
    const t0 = performance.now();
    const out = spawnSync(process.execPath, ['--import', 'tsx', file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stdout.trim(), '30 30 true', 'the PING was answered and the connection reused');
    assert.ok(performance.now() - t0 < 10_000, 'exited long before the QUIC idle timeout (30 s)');
  });

  test('a body read slowly (paused stream) still arrives whole', async () => {
    const r = await pool('good').request('GET', '/big.bin', { preloadContent: false });
    const h = createHash('sha256');
    let n = 0;
    for await (const chunk of r.stream(4 << 20)) {
      h.update(chunk);
      n += chunk.length;
      if (n < 16 << 20) await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(h.digest('hex'), bigSha);
  });
});
