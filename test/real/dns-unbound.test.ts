// Every DNS transport against a real server: unbound from Debian, started on
// loopback with a static local zone and the test CA's certificate (UDP/TCP,
// DNS over TLS, DNS over HTTPS/2). Skipped where unbound is not installed,
// failing under CI=true.

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ResolverDescription } from '../../src/dns/description.js';
import { HTTPSResolver, setDohClientFactory } from '../../src/dns/doh.js';
import { TLSResolver } from '../../src/dns/dot.js';
import { PlainResolver } from '../../src/dns/dou.js';
import { setUpResolver } from '../../src/dns/resolver-option.js';
import { NameResolutionError, SSLError } from '../../src/errors.js';
import { happyEyeballs } from '../../src/net/happy-eyeballs.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { http2DohClient, type TestDohClient } from '../support/doh-client.js';
import { poolManagerDohClient } from '../../src/pool/doh-client.js';
import { requireServer } from '../support/real-servers.js';
import { startUnbound, type UnboundServer } from '../support/unbound.js';

const skip = requireServer('unbound') ?? false;
let pki: TlsTestPki;
let ub: UnboundServer;
let client: TestDohClient;

before(async () => {
  if (skip) return;
  pki = await makeTlsTestPki();
  ub = await startUnbound({ cert: pki.server.cert, key: pki.server.key });
  client = http2DohClient(pki.caCertPem);
});
after(async () => {
  await client?.close?.();
  await ub?.stop();
});

const sorted = (list: Array<{ address: string }>) => list.map((a) => a.address).sort();

describe('unbound', { skip }, () => {
  test('dou:// resolves both families, CNAMEs, many records, and says NXDOMAIN', async () => {
    const r = ResolverDescription.fromUrl(`dou://127.0.0.1:${ub.port}?timeout=2`).new();
    assert.deepEqual(await r.getaddrinfo('a.test', 443), [
      { address: '2001:db8::1', family: 6, port: 443 },
      { address: '192.0.2.1', family: 4, port: 443 },
    ]);
    assert.deepEqual(await r.getaddrinfo('v4.test', 80), [{ address: '192.0.2.4', family: 4, port: 80 }]);
    assert.deepEqual(sorted(await r.getaddrinfo('alias.test', 80)), ['192.0.2.1', '2001:db8::1']);
    assert.equal((await r.getaddrinfo('many.test', 80, { family: 4 })).length, 20);
    await assert.rejects(r.getaddrinfo('nowhere.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /does not exist \(NXDOMAIN/);
      return true;
    });
    await r.close();
  });

  test("dou:// reads an HTTPS record's ALPN ids", async () => {
    const r = new PlainResolver({ server: '127.0.0.1', port: ub.port });
    assert.deepEqual(await r.getHttpsAlpn('svc.test'), ['h3', 'h2', 'http/1.1']);
    assert.deepEqual(await r.getHttpsAlpn('a.test'), []);
    await r.close();
  });

  test('dot:// verifies unbound with the CA from the URL and pipelines on one connection', async () => {
    const r = ResolverDescription.fromUrl(
      `dot://localhost:${ub.tlsPort}?ca_certs=${encodeURIComponent(pki.caCert)}`,
    ).new();
    assert.ok(r instanceof TLSResolver);
    const names = ['a.test', 'v4.test', 'alias.test', 'many.test', 'local.test'];
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 853, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g.length),
      [1, 1, 1, 20, 1],
    );
    assert.equal(r.connectionsOpened, 1);
    await r.close();
  });

  test('dot:// refuses unbound when the CA is not trusted', async () => {
    const r = new TLSResolver({
      server: 'localhost',
      port: ub.tlsPort,
      tls: { caCertData: pki.otherCa.certPem },
    });
    await assert.rejects(r.getaddrinfo('a.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError && err.cause instanceof SSLError, String(err));
      return true;
    });
    await r.close();
  });

  test('doh:// over HTTP/2 by GET and POST', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const r = new HTTPSResolver({ server: 'localhost', port: ub.httpsPort, method, client });
      assert.deepEqual(sorted(await r.getaddrinfo('a.test', 443)), ['192.0.2.1', '2001:db8::1']);
      await assert.rejects(r.getaddrinfo('nowhere.test', 443), /NXDOMAIN/);
      await r.close();
    }
  });

  test("doh:// over the library's own PoolManager (HTTP/2), from a URL with the CA in its options", async () => {
    setDohClientFactory(poolManagerDohClient);
    try {
      const r = ResolverDescription.fromUrl(
        `doh://localhost:${ub.httpsPort}/dns-query?ca_certs=${encodeURIComponent(pki.caCert)}&timeout=3`,
      ).new();
      assert.deepEqual(sorted(await r.getaddrinfo('a.test', 443)), ['192.0.2.1', '2001:db8::1']);
      assert.equal((await r.getaddrinfo('many.test', 443, { family: 4 })).length, 20);
      await assert.rejects(r.getaddrinfo('nowhere.test', 443), /NXDOMAIN/);
      await r.close();
      // Without the CA, the pool refuses unbound's certificate.
      const untrusted = ResolverDescription.fromUrl(`doh://localhost:${ub.httpsPort}?ca_cert_data=x`);
      untrusted.set('ca_cert_data', pki.otherCa.certPem);
      const u = untrusted.new();
      await assert.rejects(u.getaddrinfo('a.test', 443), (err: Error) => err instanceof NameResolutionError);
      await u.close();
    } finally {
      setDohClientFactory(null);
    }
  });

  test('a list: a restricted dou:// for *.test, localhost through the system', async () => {
    const setup = setUpResolver([`dou://127.0.0.1:${ub.port}?hosts=*.test`, 'null://default']);
    assert.equal((await setup.resolver.getaddrinfo('v4.test', 80))[0]!.address, '192.0.2.4');
    assert.equal((await setup.resolver.getaddrinfo('localhost', 80, { family: 4 }))[0]!.address, '127.0.0.1');
    await assert.rejects(setup.resolver.getaddrinfo('example.org', 80), /disabled/);
    await setup.close();
  });

  test('Happy Eyeballs over dou://: ::1 refuses, 127.0.0.1 connects', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    const resolver = new PlainResolver({ server: '127.0.0.1', port: ub.port });
    const r = await happyEyeballs({
      resolver,
      host: 'local.test',
      port,
      family: 0,
      concurrency: 4,
      timeout: 3000,
      connect: (a, signal) =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: a.address, port: a.port, autoSelectFamily: false });
          signal.addEventListener('abort', () => s.destroy(), { once: true });
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    });
    assert.equal(r.address.address, '127.0.0.1');
    assert.deepEqual(
      r.attempts.map((a) => [a.address.address, a.outcome]),
      [
        ['::1', 'failed'],
        ['127.0.0.1', 'connected'],
      ],
    );
    r.socket.destroy();
    await resolver.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
