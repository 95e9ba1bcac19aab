// Issue 15 (urllib3 parity), the proxy and TLS items, against in-process
// HTTP and HTTPS proxies: failures towards the proxy are ProxyErrors, the
// proxy's own context serves forwarding too, and what a connection says
// about its verification is true. Each test is named after its item.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createUrllib3Context,
  HTTPConnection,
  HTTPConnectionPool,
  HTTPSConnectionPool,
  HTTPSConnection,
  ProxyError,
  ProxyManager,
  ReadTimeoutError,
  RequestError,
  SSLError,
  MaxRetryError,
  TimeoutError,
} from '../../src/index.js';
import { LoopbackResolver } from './tls-fixtures.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { startHttpProxy, type TestProxy } from '../support/proxy-servers.js';
import {
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
} from '../support/servers.js';
import { rejectionOf } from '../support/rejection.js';

let pki: TestPki;
let target: TestHttpServer;
let tlsTarget: TestHttpsServer;
let tlsProxy: TestProxy;
let plainProxy: TestProxy;

before(async () => {
  pki = await makeTestPki();
  target = await startHttpServer();
  tlsTarget = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
  tlsProxy = await startHttpProxy({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } });
  plainProxy = await startHttpProxy();
});

after(async () => {
  await Promise.all([target.close(), tlsTarget.close(), tlsProxy.close(), plainProxy.close()]);
});

test('issue 15 item 8: setTunnel() without a proxy option tunnels through the first hop, never sends the request to it', async () => {
  const conn = new HTTPConnection(plainProxy.host, { port: plainProxy.port });
  conn.setTunnel('127.0.0.1', { port: target.port, headers: { 'X-Tunnel': 'yes' } });
  assert.equal(conn.proxyIsTunneling, true);
  const forwardedBefore = plainProxy.seen.forwarded.length;
  const connectsBefore = plainProxy.seen.connects.length;
  try {
    await conn.request('GET', '/echo');
    const r = await conn.getResponse();
    assert.equal(r.status, 200);
    assert.equal((r.json() as { url: string }).url, '/echo');
    assert.equal(conn.hasConnectedToProxy, true);
  } finally {
    await conn.close();
  }
  assert.equal(
    plainProxy.seen.forwarded.length,
    forwardedBefore,
    'the proxy must not see the request itself',
  );
  assert.equal(plainProxy.seen.connects.length, connectsBefore + 1);
  const connect = plainProxy.seen.connects.at(-1)!;
  assert.equal(connect.authority, `127.0.0.1:${target.port}`);
  assert.equal(connect.headers['x-tunnel'], 'yes');
});

test('issue 15 item 9: a TLS failure towards an HTTPS proxy is a ProxyError whose cause is the SSLError, forwarding or tunnelling', async () => {
  await using pm = new ProxyManager(`https://localhost:${tlsProxy.port}`, { retries: false });
  for (const url of [`${target.origin}/echo`, `https://localhost:${tlsTarget.port}/echo`]) {
    const err = await rejectionOf(pm.request('GET', url));
    assert.ok(err instanceof ProxyError, `${url}: got ${err.name}: ${err.message}`);
    assert.ok(err.cause instanceof SSLError, `${url}: cause is ${String(err.cause)}`);
    assert.equal(err.phase, 'connect');
  }
});

test('issue 15 item 9: an https:// proxy URL pointing at an HTTP-only proxy is a ProxyError with the "only uses HTTP" hint', async () => {
  await using pm = new ProxyManager(`https://127.0.0.1:${plainProxy.port}`, { retries: false });
  for (const url of [`${target.origin}/echo`, `https://localhost:${tlsTarget.port}/echo`]) {
    const err = await rejectionOf(pm.request('GET', url));
    assert.ok(err instanceof ProxyError, `${url}: got ${err.name}: ${err.message}`);
    assert.match(err.message, /Your proxy appears to only use HTTP and not HTTPS/);
  }
});

test('issue 15 item 15: proxySslContext verifies the TLS leg to an HTTPS proxy that forwards, not only tunnels', async () => {
  const proxyCtx = createUrllib3Context();
  proxyCtx.loadVerifyLocations({ cafile: pki.caCert });
  await using pm = new ProxyManager(`https://localhost:${tlsProxy.port}`, {
    proxySslContext: proxyCtx,
    retries: false,
  });
  const before = tlsProxy.seen.forwarded.length;
  const r = await pm.request('GET', `${target.origin}/echo`);
  assert.equal(r.status, 200);
  assert.equal(tlsProxy.seen.forwarded.length, before + 1);
});

test('issue 15 item 16: through an HTTPS proxy that forwards, isVerified is false and isProxyVerified true', async () => {
  const conn = new HTTPSConnection('localhost', {
    port: tlsProxy.port,
    proxy: `https://localhost:${tlsProxy.port}`,
    caCerts: pki.caCert,
  });
  try {
    await conn.connect();
    assert.equal(conn.hasConnectedToProxy, true);
    assert.equal(conn.isProxyVerified, true);
    assert.equal(conn.isVerified, false);
  } finally {
    await conn.close();
  }
});

test("issue 15 item 16: a ReadTimeoutError is also an instanceof RequestError, as urllib3's", () => {
  const err = new ReadTimeoutError(null, '/x', 'Read timed out.');
  assert.ok(err instanceof TimeoutError);
  assert.ok(err instanceof RequestError);
  // Only RequestError itself widens; its subclasses keep the ordinary check.
  assert.equal(err instanceof MaxRetryError, false);
  assert.equal(new TimeoutError('x') instanceof RequestError, false);
  assert.ok(new MaxRetryError(null, '/x') instanceof RequestError);
});

test('issue 15 item 11: a trailing dot is looked up in DNS but left out of host, the Host header and the certificate check', async () => {
  const resolver = new LoopbackResolver();
  await using pool = new HTTPSConnectionPool('localhost.', {
    port: tlsTarget.port,
    caCerts: pki.caCert,
    resolver,
    retries: false,
  });
  assert.equal(pool.host, 'localhost.', 'the pool keeps what it was given');
  const r = await pool.request('GET', '/echo');
  assert.equal(r.status, 200);
  const echo = r.json() as { headers: Record<string, string> };
  assert.equal(echo.headers.host, `localhost:${tlsTarget.port}`);
  assert.deepEqual(resolver.calls, ['localhost.']);
  assert.equal(tlsTarget.sniNames.at(-1), 'localhost');
  assert.equal(r.url, `https://localhost:${tlsTarget.port}/echo`);
  const conn = new HTTPSConnection('localhost.', { port: tlsTarget.port });
  assert.equal(conn.host, 'localhost');
});

test('issue 15 item 12: an absolute URL given to a pool on an HTTP proxy goes out in absolute form, so foreign hosts work with assertSameHost: false', async () => {
  await using pool = new HTTPConnectionPool(plainProxy.host, { port: plainProxy.port, retries: false });
  const before = plainProxy.seen.forwarded.length;
  const r = await pool.request('GET', `${target.origin}/echo?q=1#frag`, { assertSameHost: false });
  assert.equal(r.status, 200);
  assert.equal((r.json() as { url: string }).url, '/echo?q=1');
  assert.equal(plainProxy.seen.forwarded.length, before + 1);
  const seen = plainProxy.seen.forwarded.at(-1)!;
  assert.equal(seen.url, `${target.origin}/echo?q=1`, 'absolute form, without the fragment');
  assert.equal(seen.headers.host, `127.0.0.1:${target.port}`);
  assert.equal(r.url, `${target.origin}/echo?q=1`);
});
