// Where an HTTP/3 connection goes, against a real caddy (docs/api.md
// sections 9 and 10): every address of the name is tried, the families
// interleaved, under one connect timeout - shown with addresses that
// black-hole UDP (a network namespace, test/support/blackhole.ts) listed
// before the one caddy answers on - and a DNS HTTPS record that offers h3,
// served by unbound, sends the first request over HTTP/3 without waiting for
// Alt-Svc, unless disabledSvn or the cool-down says otherwise.

import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { quicCoolingDown } from '../../src/connection/h3-alt-svc.js';
import {
  ConnectTimeoutError,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  HttpVersion,
  InMemoryResolver,
  PlainResolver,
  Timeout,
} from '../../src/index.js';
import { type Blackhole, createBlackhole } from '../support/blackhole.js';
import type { TlsTestPki } from '../support/certs.js';
import { type H3Caddy, h3CaddySkip, startH3Caddy } from '../support/real-caddy.js';
import { requireServer } from '../support/real-servers.js';
import { startUnbound, type UnboundServer } from '../support/unbound.js';

const ONLY_H3 = new Set([HttpVersion.h11, HttpVersion.h2]);

const skip = await h3CaddySkip();

describe('HTTP/3 addresses and DNS hints against caddy', { skip: skip ?? false }, () => {
  let server: H3Caddy;
  let pki: TlsTestPki;
  let port: number;
  const pools: HTTPSConnectionPool[] = [];

  function pool(host: string, opts: HTTPSConnectionPoolOptions = {}): HTTPSConnectionPool {
    const p = new HTTPSConnectionPool(host, { port, caCerts: pki.caCert, retries: false, ...opts });
    pools.push(p);
    return p;
  }

  before(async () => {
    server = await startH3Caddy('h3-where', { 'small.txt': 'here\n' }, [
      'localhost',
      '127.0.0.1',
      'svc.test',
      'plain.test',
    ]);
    pki = server.pki;
    port = server.port;
  });

  after(async () => {
    for (const p of pools) await p.close();
    await server?.stop();
  });

  describe('every address', () => {
    let hole: Blackhole | string;
    before(() => {
      hole = createBlackhole();
    });
    after(() => {
      if (typeof hole !== 'string') hole.teardown();
    });

    test('an IPv4 address that never answers comes first: the next address gets its turn within the connect timeout', async (t) => {
      if (typeof hole === 'string') return t.skip(hole);
      const resolver = new InMemoryResolver({ hosts: { localhost: [hole.ipv4, '127.0.0.1'] } });
      const t0 = performance.now();
      const r = await pool('localhost', {
        resolver,
        disabledSvn: ONLY_H3,
        timeout: new Timeout({ connect: 3000 }),
      }).request('GET', '/small.txt');
      const took = performance.now() - t0;
      assert.equal(r.version, 30);
      assert.deepEqual(r.connectionInfo?.destinationAddress, ['127.0.0.1', port]);
      assert.ok(took >= 200, `the silent address was tried first (${Math.round(took)} ms)`);
      assert.ok(took < 2000, `took ${Math.round(took)} ms`);
    });

    test('families interleave: a silent IPv6 address first, then IPv4', async (t) => {
      if (typeof hole === 'string') return t.skip(hole);
      // Two silent IPv6 addresses: one after the other, 127.0.0.1 would wait 500 ms.
      const resolver = new InMemoryResolver({
        hosts: { localhost: [hole.ipv6, hole.ipv6.replace(/::1$/, '::2'), '127.0.0.1'] },
      });
      const r = await pool('localhost', {
        resolver,
        disabledSvn: ONLY_H3,
        timeout: new Timeout({ connect: 3000 }),
      }).request('GET', '/small.txt');
      assert.equal(r.version, 30);
      // Interleaved, 127.0.0.1 is the second attempt (about 250 ms), not the third.
      assert.deepEqual(r.connectionInfo?.destinationAddress, ['127.0.0.1', port]);
      const latency = r.connectionInfo?.establishedLatency ?? 0;
      assert.ok(latency >= 200 && latency < 450, `connected after ${Math.round(latency)} ms`);
    });

    test('every address silent: one ConnectTimeoutError at the connect timeout, not one per address', async (t) => {
      if (typeof hole === 'string') return t.skip(hole);
      const second = hole.ipv4.replace(/\.1$/, '.2');
      const resolver = new InMemoryResolver({ hosts: { localhost: [hole.ipv4, second] } });
      const t0 = performance.now();
      await assert.rejects(
        pool('localhost', {
          resolver,
          disabledSvn: ONLY_H3,
          timeout: new Timeout({ connect: 800 }),
        }).request('GET', '/small.txt'),
        (e: unknown) => e instanceof ConnectTimeoutError && /no QUIC handshake/.test((e as Error).message),
      );
      const took = performance.now() - t0;
      assert.ok(took >= 750 && took < 1400, `took ${Math.round(took)} ms`);
    });
  });

  describe('HTTPS records', { skip: requireServer('unbound') ?? false }, () => {
    let ub: UnboundServer;
    let dns: PlainResolver;
    before(async () => {
      ub = await startUnbound({ cert: pki.server.cert, key: pki.server.key });
      dns = new PlainResolver({ server: '127.0.0.1', port: ub.port });
    });
    after(async () => {
      await dns?.close();
      await ub?.stop();
    });

    // svc.test has an HTTPS record with alpn h3,h2 in unbound's zone; its
    // address comes from the in-memory resolver, and the certificate (for
    // localhost) is checked under serverHostname.
    const names = () => [
      new InMemoryResolver({ hosts: { 'svc.test': '127.0.0.1', 'plain.test': '127.0.0.1' } }),
      dns,
    ];

    test('a name whose HTTPS record offers h3 sends its first request over HTTP/3', async () => {
      const cache = new Map<string, string | null>();
      const r = await pool('svc.test', {
        resolver: names(),
        serverHostname: 'localhost',
        preemptiveQuicCache: cache,
      }).request('GET', '/small.txt');
      assert.equal(r.version, 30);
      assert.equal(r.data.toString(), 'here\n');
    });

    test('a name without an HTTPS record goes over TCP first, then Alt-Svc takes over', async () => {
      const p = pool('plain.test', {
        resolver: names(),
        serverHostname: 'localhost',
        maxSize: 1,
        block: true,
      });
      const r = await p.request('GET', '/small.txt');
      assert.equal(r.version, 20);
      const again = await p.request('GET', '/small.txt');
      assert.equal(again.version, 30, "caddy's Alt-Svc moved the origin to HTTP/3");
    });

    test('disabledSvn with HTTP/3 ignores the HTTPS record', async () => {
      const r = await pool('svc.test', {
        resolver: names(),
        serverHostname: 'localhost',
        disabledSvn: new Set([HttpVersion.h3]),
      }).request('GET', '/small.txt');
      assert.equal(r.version, 20);
    });

    test('a QUIC attempt the HTTPS record asked for that fails falls back to TCP and cools the origin down', async () => {
      // A TCP-only HTTPS server: UDP on its port is refused (ICMP).
      const server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (_req, res) =>
        res.end('tcp only\n'),
      );
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const tcpPort = (server.address() as AddressInfo).port;
      try {
        const cache = new Map<string, string | null>();
        const p = pool('svc.test', {
          port: tcpPort,
          resolver: names(),
          serverHostname: 'localhost',
          preemptiveQuicCache: cache,
        });
        const r = await p.request('GET', '/small.txt');
        assert.equal(r.version, 11);
        assert.equal(r.data.toString(), 'tcp only\n');
        assert.ok(quicCoolingDown(cache, `svc.test:${tcpPort}`), 'cooling down on TCP');
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });
});
