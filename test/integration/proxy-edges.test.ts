// Proxy details beyond the matrix: the TLS context for the proxy leg,
// isProxyVerified, a proxy that hangs up during CONNECT, and the top-level
// request() opting into proxies from the environment.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import {
  createUrllib3Context,
  HTTPSConnection,
  MaxRetryError,
  ProxyError,
  ProxyManager,
  request,
} from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { getFreePort } from '../support/free-port.js';
import { startHttpProxy, type TestProxy } from '../support/proxy-servers.js';
import {
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
} from '../support/servers.js';

let pki: TestPki;
let target: TestHttpServer;
let tlsTarget: TestHttpsServer;
let tlsProxy: TestProxy;
let plainProxy: TestProxy;
let hangUp: net.Server;
let hangUpPort: number;

before(async () => {
  pki = await makeTestPki();
  target = await startHttpServer();
  tlsTarget = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
  tlsProxy = await startHttpProxy({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } });
  plainProxy = await startHttpProxy();
  // Reads the CONNECT request, then closes without answering.
  hangUp = net.createServer((s) => {
    s.once('data', () => s.destroy());
  });
  await new Promise<void>((r) => hangUp.listen(0, '127.0.0.1', r));
  hangUpPort = (hangUp.address() as net.AddressInfo).port;
});

after(async () => {
  await Promise.all([target.close(), tlsTarget.close(), tlsProxy.close(), plainProxy.close()]);
  await new Promise<void>((r) => hangUp.close(() => r()));
});

test('proxySslContext carries the trust for the proxy leg while caCerts verifies the target', async () => {
  const proxyCtx = createUrllib3Context();
  proxyCtx.loadVerifyLocations({ cafile: pki.caCert });
  await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
    proxySslContext: proxyCtx,
    caCerts: pki.caCert,
  });
  const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
  assert.equal(r.status, 200);
});

test('without any trust for the proxy the TLS leg to it fails with a ProxyError', async () => {
  await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), { retries: false });
  await assert.rejects(pm.request('GET', `${target.origin}/echo`), (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.match(err.message, /certif|issuer|CA/i);
    return true;
  });
});

test('isProxyVerified and hasConnectedToProxy describe the proxy leg', async () => {
  const conn = new HTTPSConnection('localhost', {
    port: tlsProxy.port,
    proxy: `https://localhost:${tlsProxy.port}`,
    caCerts: pki.caCert,
  });
  conn.setTunnel('localhost', { port: tlsTarget.port, scheme: 'https' });
  assert.equal(conn.hasConnectedToProxy, false);
  await conn.connect();
  assert.equal(conn.hasConnectedToProxy, true);
  assert.equal(conn.isProxyVerified, true);
  assert.equal(conn.isVerified, true);
  await conn.close();
});

test('a proxy that closes during CONNECT is a ProxyError, retried as a connect error', async () => {
  await using pm = new ProxyManager(`http://127.0.0.1:${hangUpPort}`, { caCerts: pki.caCert, retries: 1 });
  await assert.rejects(
    pm.request('POST', `https://localhost:${tlsTarget.port}/echo`, { body: 'x' }),
    (err: unknown) => {
      assert.ok(err instanceof MaxRetryError, String(err));
      assert.ok(err.reason instanceof ProxyError);
      assert.match(err.reason.message, /closed the connection during CONNECT/);
      return true;
    },
  );
});

test('the top-level request() uses the environment proxy only when asked', async () => {
  const saved = { http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };
  process.env.http_proxy = plainProxy.url;
  delete process.env.no_proxy;
  try {
    const before = plainProxy.seen.forwarded.length;
    const direct = await request('GET', `${target.origin}/echo`);
    assert.equal(direct.status, 200);
    assert.equal(plainProxy.seen.forwarded.length, before);
    const proxied = await request('GET', `${target.origin}/echo`, { proxyFromEnv: true });
    assert.equal(proxied.status, 200);
    assert.equal(plainProxy.seen.forwarded.length, before + 1);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('a proxy that refuses the connection is named once in the message, with the reason', async () => {
  const closed = await getFreePort();
  await using proxy = new ProxyManager(`http://127.0.0.1:${closed}/`);
  for (const url of [`${target.origin}/get`, `${tlsTarget.origin}/get`]) {
    const err = await proxy.request('GET', url, { retries: false }).then(
      () => assert.fail('the request should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProxyError);
    const message = err.message;
    const label = message.slice(0, message.indexOf(': '));
    assert.match(label, new RegExp(`^HTTPS?Connection\\(host='127\\.0\\.0\\.1', port=${closed}\\)$`));
    assert.equal(message.split(label).length - 1, 1, message);
    assert.match(message, new RegExp(`Unable to connect to proxy 127\\.0\\.0\\.1:${closed}: .*ECONNREFUSED`));
  }
});
