// HTTP/3's edges that need no QUIC peer (docs/api.md section 9): where the
// QUIC binding cannot load, forcing HTTP/3 fails with the reason and nothing
// else breaks (also in a child process where the package cannot be found);
// a closed UDP port fails fast; a silent one times out within the connect
// timeout; proxies and options QUIC cannot honour are refused clearly.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createSecureContext } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import {
  ConnectTimeoutError,
  HTTPConnectionPool,
  HTTPSConnection,
  HTTPSConnectionPool,
  HttpVersion,
  InMemoryResolver,
  NewConnectionError,
  RequestAbortedError,
  SSLError,
  Timeout,
} from '../../src/index.js';
import { dialRoute, type H3Route } from '../../src/connection/h3-route.js';
import { loadQuicTransport, setQuicUnavailableForTesting } from '../../src/net/quic/quic-loader.js';
import { makeTestPki } from '../support/certs.js';
import { startHttpServer, startHttpsServer, type TestHttpServer } from '../support/servers.js';

const ONLY_H3 = new Set([HttpVersion.h11, HttpVersion.h2]);
const REPO = path.resolve(import.meta.dirname, '../..');

/** The UDP sockets and timers alive in this process (node:test's own included: compare before and after). */
function handles(): { udp: number; timers: number } {
  const all = process.getActiveResourcesInfo();
  return {
    udp: all.filter((h) => h === 'UDPWrap').length,
    timers: all.filter((h) => h === 'Timeout').length,
  };
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

describe('HTTP/3 where the QUIC binding cannot load', () => {
  let server: TestHttpServer;
  before(async () => {
    server = await startHttpServer();
  });
  after(async () => {
    setQuicUnavailableForTesting(null);
    await server.close();
  });

  test('forcing HTTP/3 fails at once with the reason, and HTTP/1.1 still works', async () => {
    setQuicUnavailableForTesting('the optional dependency @matrixai/quic is not installed');
    try {
      const pool = new HTTPSConnectionPool('localhost', { port: 1, disabledSvn: ONLY_H3 });
      await assert.rejects(pool.request('GET', '/'), (e: unknown) => {
        assert.ok(e instanceof NewConnectionError, String(e));
        assert.match(
          e.message,
          /HTTP\/3 to .* is unavailable: the optional dependency @matrixai\/quic is not installed/,
        );
        assert.equal(e.permanent, true, 'not retried');
        return true;
      });
      await pool.close();
      const plain = new HTTPConnectionPool(server.host, { port: server.port });
      const r = await plain.request('GET', '/echo');
      assert.equal(r.status, 200);
      await plain.close();
    } finally {
      setQuicUnavailableForTesting(null);
    }
  });

  test('in a process where the package cannot be resolved, the library imports and serves HTTP/1.1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-noquic-'));
    try {
      const hook = path.join(dir, 'hide-quic.mjs');
      writeFileSync(
        hook,
        `import { register } from 'node:module';
register('data:text/javascript,' + encodeURIComponent(\`export async function resolve(s, c, next) {
  if (s.startsWith('@matrixai/quic')) { const e = new Error('Cannot find package ' + s); e.code = 'ERR_MODULE_NOT_FOUND'; throw e; }
  return next(s, c);
}\`));
`,
      );
      const script = path.join(dir, 'main.mts');
      writeFileSync(
        script,
        `import http from 'node:http';
import { HTTPConnectionPool, HTTPSConnectionPool, HttpVersion } from ${JSON.stringify(path.join(REPO, 'src/index.ts'))};
const server = http.createServer((_q, s) => s.end('plain ok'));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const pool = new HTTPConnectionPool('127.0.0.1', { port: server.address().port });
const r = await pool.request('GET', '/');
console.log(r.data.toString());
const h3 = new HTTPSConnectionPool('localhost', { port: 1, disabledSvn: new Set([HttpVersion.h11, HttpVersion.h2]) });
try { await h3.request('GET', '/'); } catch (e) { console.log(e.name + ': ' + e.message); }
await pool.close(); server.close();
`,
      );
      const out = spawnSync(process.execPath, ['--import', 'tsx', '--import', hook, script], {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(out.status, 0, out.stderr);
      assert.match(out.stdout, /^plain ok$/m);
      assert.match(
        out.stdout,
        /NewConnectionError: HTTP\/3 to .* is unavailable: the optional dependency @matrixai\/quic is not installed/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('HTTP/3 connecting without a QUIC peer', async () => {
  const { reason } = await loadQuicTransport();
  const skip = reason === null ? false : `the QUIC binding does not load here: ${reason}`;

  test('a closed UDP port fails fast with NewConnectionError', { skip }, async () => {
    const port = await freeUdpPort();
    const pool = new HTTPSConnectionPool('127.0.0.1', {
      port,
      disabledSvn: ONLY_H3,
      retries: false,
      timeout: 5000,
    });
    const t0 = performance.now();
    await assert.rejects(pool.request('GET', '/'), (e: unknown) => {
      assert.ok(e instanceof NewConnectionError, String(e));
      assert.match(e.message, /QUIC connection to .*nothing answers on that UDP port/);
      return true;
    });
    assert.ok(performance.now() - t0 < 3000, 'well before the connect timeout');
    await pool.close();
  });

  test(
    'a client key BoringSSL cannot read is an SSLError naming the client certificate or key, not a name resolution failure',
    { skip },
    async () => {
      const pki = await makeTestPki();
      const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-h3-badkey-'));
      const keyFile = path.join(dir, 'bad.key');
      writeFileSync(keyFile, 'not a key\n');
      const pool = new HTTPSConnectionPool('localhost', {
        port: await freeUdpPort(),
        disabledSvn: ONLY_H3,
        retries: false,
        caCerts: pki.caCert,
        certFile: pki.serverCert,
        keyFile,
      });
      try {
        await assert.rejects(pool.request('GET', '/'), (e: unknown) => {
          assert.ok(e instanceof SSLError, String(e));
          assert.equal(e.phase, 'connect');
          assert.match(e.message, /QUIC TLS stack refused the client certificate or key/);
          return true;
        });
      } finally {
        await pool.close();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test("the connection's sourceAddress is where its QUIC packets come from", { skip }, async () => {
    const silent = dgram.createSocket('udp4');
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    const from = new Promise<string>((r) => silent.once('message', (_m, rinfo) => r(rinfo.address)));
    const ac = new AbortController();
    const route: H3Route = {
      label: 'h3-source',
      conn: null,
      state: { isVerified: false, isProxyVerified: null, hasConnectedToProxy: false },
      destination: { host: '127.0.0.1', port: silent.address().port },
      proxied: false,
      disabledSvn: ONLY_H3,
      cache: null,
      resolver: new InMemoryResolver({ hosts: [] }),
      socketFamily: 0,
      tls: { certReqs: 'CERT_NONE' },
      sourceAddress: '127.0.0.2',
    };
    const dialing = dialRoute(route, 5_000, ac.signal, () => Promise.reject(new Error('no TCP here')));
    try {
      assert.equal(await from, '127.0.0.2');
    } finally {
      ac.abort();
      await assert.rejects(dialing, RequestAbortedError);
      silent.close();
    }
  });

  test(
    'a server that never answers the handshake is a ConnectTimeoutError after the connect timeout',
    { skip },
    async () => {
      const silent = dgram.createSocket('udp4');
      let datagrams = 0;
      silent.on('message', () => datagrams++);
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
      try {
        const pool = new HTTPSConnectionPool('127.0.0.1', {
          port: silent.address().port,
          disabledSvn: ONLY_H3,
          retries: false,
          timeout: new Timeout({ connect: 300 }),
        });
        const t0 = performance.now();
        await assert.rejects(pool.request('GET', '/'), ConnectTimeoutError);
        const took = performance.now() - t0;
        assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
        assert.ok(datagrams > 0, 'the Initial packet was sent');
        await pool.close();
      } finally {
        silent.close();
      }
    },
  );

  test(
    'an abort during the handshake with a silent server fails at once with RequestAbortedError, leaving no UDP socket or timer',
    { skip },
    async () => {
      const silent = dgram.createSocket('udp4');
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
      const base = handles();
      try {
        const pool = new HTTPSConnectionPool('127.0.0.1', {
          port: silent.address().port,
          disabledSvn: ONLY_H3,
          retries: false,
          timeout: new Timeout({ connect: 10_000 }),
        });
        const ac = new AbortController();
        setTimeout(() => ac.abort(), 100);
        const t0 = performance.now();
        await assert.rejects(pool.request('GET', '/', { signal: ac.signal }), (e: unknown) => {
          assert.ok(e instanceof RequestAbortedError, String(e));
          return true;
        });
        assert.ok(performance.now() - t0 < 2_000, 'not at the connect timeout');
        await pool.close();
        await new Promise((r) => setTimeout(r, 20));
        const now = handles();
        assert.ok(now.udp <= base.udp, `UDP sockets: ${now.udp} after, ${base.udp} before`);
        assert.ok(now.timers <= base.timers, `timers: ${now.timers} after, ${base.timers} before`);
      } finally {
        silent.close();
      }
    },
  );

  test(
    'an abort while handshakes race to three silent addresses fails at once, leaving no UDP socket or timer',
    { skip },
    async () => {
      const first = dgram.createSocket('udp4');
      await new Promise<void>((r) => first.bind(0, '127.0.0.1', r));
      const port = first.address().port;
      const silent = [first];
      for (const ip of ['127.0.0.2', '127.0.0.3']) {
        const s = dgram.createSocket('udp4');
        await new Promise<void>((r) => s.bind(port, ip, r));
        silent.push(s);
      }
      const reached = new Set<number>();
      silent.forEach((s, i) => s.on('message', () => reached.add(i)));
      const base = handles();
      const pool = new HTTPSConnectionPool('race.test', {
        port,
        disabledSvn: ONLY_H3,
        retries: false,
        resolver: new InMemoryResolver({ hosts: { 'race.test': ['127.0.0.1', '127.0.0.2', '127.0.0.3'] } }),
        timeout: new Timeout({ connect: 10_000 }),
      });
      try {
        const ac = new AbortController();
        // Attempts start at 0, 250 and 500 ms: all three are in flight.
        setTimeout(() => ac.abort(), 650);
        const t0 = performance.now();
        await assert.rejects(pool.request('GET', '/', { signal: ac.signal }), RequestAbortedError);
        assert.ok(performance.now() - t0 < 2_000, 'not at the connect timeout');
        assert.equal(reached.size, 3, 'every address got an Initial packet');
        await pool.close();
        await new Promise((r) => setTimeout(r, 20));
        const now = handles();
        assert.ok(now.udp <= base.udp, `UDP sockets: ${now.udp} after, ${base.udp} before`);
        assert.ok(now.timers <= base.timers, `timers: ${now.timers} after, ${base.timers} before`);
      } finally {
        for (const s of silent) s.close();
      }
    },
  );

  test('HTTP/3 through a proxy is refused: proxies never carry it', async () => {
    const conn = new HTTPSConnection('localhost', {
      port: 443,
      proxy: 'http://127.0.0.1:9',
      disabledSvn: ONLY_H3,
    });
    await assert.rejects(conn.connect(), /HTTP\/3 cannot go through a proxy/);
  });

  test(
    'a Node SecureContext or a TLS maximum below 1.3 makes HTTP/3 unavailable, with the reason',
    { skip },
    async () => {
      const a = new HTTPSConnection('localhost', {
        port: 1,
        disabledSvn: ONLY_H3,
        sslContext: createSecureContext(),
      });
      await assert.rejects(a.connect(), /unavailable: a Node SecureContext/);
      const b = new HTTPSConnection('localhost', {
        port: 1,
        disabledSvn: ONLY_H3,
        sslMaximumVersion: 'TLSv1.2',
      });
      await assert.rejects(b.connect(), /unavailable: QUIC needs TLS 1\.3 but sslMaximumVersion is TLSv1\.2/);
    },
  );
});

describe('Alt-Svc discovery over TCP, and the fallback when QUIC fails', async () => {
  const { reason } = await loadQuicTransport();
  const skip = reason === null ? false : `the QUIC binding does not load here: ${reason}`;

  test(
    'a silent QUIC endpoint falls back to TCP without spending a retry, then cools down',
    { skip },
    async () => {
      const pki = await makeTestPki();
      const silent = dgram.createSocket('udp4');
      let datagrams = 0;
      silent.on('message', () => datagrams++);
      await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
      const udpPort = silent.address().port;
      const server = await startHttpsServer(
        { cert: pki.serverCertPem, key: pki.serverKeyPem },
        (_req, res) => {
          res.setHeader('alt-svc', `h3=":${udpPort}"; ma=60`);
          res.end('over tcp');
          return true;
        },
      );
      const cache = new Map<string, string | null>();
      const pool = new HTTPSConnectionPool('localhost', {
        port: server.port,
        caCerts: pki.caCert,
        retries: 0,
        timeout: new Timeout({ connect: 600 }),
        preemptiveQuicCache: cache,
      });
      try {
        const r1 = await pool.request('GET', '/one');
        assert.equal(r1.version, 11);
        assert.equal(cache.get(`localhost:${server.port}`), `localhost:${udpPort}`, 'Alt-Svc was remembered');
        const r2 = await pool.request('GET', '/two');
        assert.equal(r2.data.toString(), 'over tcp');
        assert.equal(r2.version, 11);
        assert.equal(r2.retries!.history.length, 0, 'no retry spent');
        assert.ok(datagrams > 0, 'HTTP/3 was tried first');
        const seen = datagrams;
        const r3 = await pool.request('GET', '/three');
        assert.equal(r3.version, 11);
        assert.equal(datagrams, seen, 'not tried again during the cool-down');
      } finally {
        await pool.close();
        await server.close();
        silent.close();
      }
    },
  );

  test('Alt-Svc: clear forgets the origin; h3 disabled ignores Alt-Svc', async () => {
    const pki = await makeTestPki();
    let header = 'h3=":1"; ma=60';
    const server = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem }, (_req, res) => {
      res.setHeader('alt-svc', header);
      res.end('ok');
      return true;
    });
    const cache = new Map<string, string | null>();
    const origin = `localhost:${server.port}`;
    const noH3 = new HTTPSConnectionPool('localhost', {
      port: server.port,
      caCerts: pki.caCert,
      preemptiveQuicCache: cache,
      disabledSvn: new Set([HttpVersion.h3]),
    });
    await noH3.request('GET', '/');
    assert.equal(cache.has(origin), false, 'disabledSvn h3: Alt-Svc is not read');
    await noH3.close();
    const pool = new HTTPSConnectionPool('localhost', {
      port: server.port,
      caCerts: pki.caCert,
      preemptiveQuicCache: cache,
    });
    try {
      await pool.request('GET', '/');
      assert.equal(cache.get(origin), 'localhost:1');
      header = 'clear';
      cache.set(origin, null); // known not to speak HTTP/3: TCP, whose response clears the entry
      await pool.request('GET', '/');
      assert.equal(cache.has(origin), false);
    } finally {
      await pool.close();
      await server.close();
    }
  });
});
