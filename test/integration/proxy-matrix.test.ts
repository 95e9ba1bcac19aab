// The proxy connection matrix against in-process proxies and targets:
// what the proxy saw, what the target saw, and that nothing proxy-related
// reaches the target through a tunnel.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  HTTPConnection,
  HTTPSConnection,
  MaxRetryError,
  ProxyError,
  ProxyManager,
  ProxySchemeUnknown,
  proxyFromUrl,
} from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { startHttpProxy, type TestProxy } from '../support/proxy-servers.js';
import {
  type EchoBody,
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
} from '../support/servers.js';

let pki: TestPki;
let target: TestHttpServer;
let tlsTarget: TestHttpsServer;
let proxy: TestProxy;
let authProxy: TestProxy;
let tlsProxy: TestProxy;

before(async () => {
  pki = await makeTestPki();
  target = await startHttpServer();
  tlsTarget = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
  proxy = await startHttpProxy();
  authProxy = await startHttpProxy({ auth: { username: 'user', password: 'p@ss' } });
  tlsProxy = await startHttpProxy({ tls: { cert: pki.serverCertPem, key: pki.serverKeyPem } });
});

after(async () => {
  await Promise.all([target.close(), tlsTarget.close(), proxy.close(), authProxy.close(), tlsProxy.close()]);
});

const echo = (r: { json(): unknown }) => r.json() as EchoBody;

describe('HTTP proxy', () => {
  test('http target: absolute-URI forwarding through one pool for every http target', async () => {
    await using pm = new ProxyManager(proxy.url, { proxyHeaders: { 'X-Proxy-Only': 'yes' } });
    const before = proxy.seen.forwarded.length;
    const r = await pm.request('GET', `${target.origin}/echo?a=1`);
    const seen = proxy.seen.forwarded.slice(before);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.url, `${target.origin}/echo?a=1`);
    assert.equal(seen[0]!.headers['x-proxy-only'], 'yes');
    assert.equal(seen[0]!.headers.host, `127.0.0.1:${target.port}`);
    assert.equal(echo(r).url, '/echo?a=1');
    // A second http origin shares the proxy's pool.
    await pm.request('GET', `http://localhost:${target.port}/echo`);
    assert.equal(pm.pools.size, 1);
  });

  test('https target: CONNECT tunnel, then verified TLS to the target with SNI', async () => {
    await using pm = new ProxyManager(proxy.url, {
      caCerts: pki.caCert,
      proxyHeaders: { 'X-Proxy-Only': 'yes' },
    });
    const connects = proxy.seen.connects.length;
    const forwarded = proxy.seen.forwarded.length;
    const sni = tlsTarget.sniNames.length;
    const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`, {
      headers: { 'X-Target': '1' },
    });
    assert.equal(r.status, 200);
    const c = proxy.seen.connects.slice(connects);
    assert.equal(c.length, 1);
    assert.equal(c[0]!.authority, `localhost:${tlsTarget.port}`);
    assert.equal(c[0]!.headers['x-proxy-only'], 'yes');
    assert.equal(proxy.seen.forwarded.length, forwarded, 'nothing forwarded in clear');
    assert.equal(tlsTarget.sniNames[sni], 'localhost');
    const body = echo(r);
    assert.equal(body.headers['x-proxy-only'], undefined, 'proxy headers never reach the target');
    assert.equal(body.headers['x-target'], '1');
    assert.equal(r.connection, null);
  });

  test('a tunnelled connection is reused for the next request to the same target', async () => {
    await using pm = new ProxyManager(proxy.url, { caCerts: pki.caCert });
    const connects = proxy.seen.connects.length;
    for (let i = 0; i < 3; i++) await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(proxy.seen.connects.length - connects, 1);
  });

  test('credentials in the proxy URL become Proxy-Authorization, on CONNECT only for tunnels', async () => {
    const url = authProxy.url.replace('http://', 'http://user:p%40ss@');
    await using pm = new ProxyManager(url, { caCerts: pki.caCert });
    const r1 = await pm.request('GET', `${target.origin}/echo`);
    assert.equal(r1.status, 200);
    const expected = `Basic ${Buffer.from('user:p@ss').toString('base64')}`;
    assert.equal(authProxy.seen.forwarded.at(-1)!.headers['proxy-authorization'], expected);
    const r2 = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r2.status, 200);
    assert.equal(authProxy.seen.connects.at(-1)!.headers['proxy-authorization'], expected);
    assert.equal(echo(r2).headers['proxy-authorization'], undefined);
  });

  test('a CONNECT answered 407 is a ProxyError that keeps the status', async () => {
    await using pm = new ProxyManager(authProxy.url, { caCerts: pki.caCert, retries: false });
    await assert.rejects(pm.request('GET', `https://localhost:${tlsTarget.port}/echo`), (err: unknown) => {
      assert.ok(err instanceof ProxyError, String(err));
      assert.equal(err.status, 407);
      assert.match(err.message, /407/);
      return true;
    });
  });

  test('with retries, proxy failures count as connect errors and end in MaxRetryError', async () => {
    await using pm = new ProxyManager(authProxy.url, { caCerts: pki.caCert, retries: 2 });
    const before = authProxy.seen.connects.length;
    await assert.rejects(
      pm.request('POST', `https://localhost:${tlsTarget.port}/echo`, { body: 'x' }),
      (err: unknown) => {
        assert.ok(err instanceof MaxRetryError, String(err));
        assert.ok(err.reason instanceof ProxyError);
        return true;
      },
    );
    // Connect errors are retried even for POST: 1 + 2 attempts.
    assert.equal(authProxy.seen.connects.length - before, 3);
  });

  test('an unreachable proxy is a connect failure naming the proxy', async () => {
    await using pm = new ProxyManager('http://127.0.0.1:1', { retries: false });
    await assert.rejects(pm.request('GET', `${target.origin}/echo`), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.match(err.message, /127\.0\.0\.1.*1/);
      return true;
    });
  });

  test('an unknown proxy scheme is ProxySchemeUnknown', () => {
    assert.throws(() => new ProxyManager('ftp://127.0.0.1:21'), ProxySchemeUnknown);
    assert.throws(() => proxyFromUrl('gopher://x:1'), ProxySchemeUnknown);
  });
});

describe('HTTPS proxy', () => {
  test('http target: TLS to the proxy, then forwarding', async () => {
    await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
      caCerts: pki.caCert,
    });
    const before = tlsProxy.seen.forwarded.length;
    const r = await pm.request('GET', `${target.origin}/echo`);
    assert.equal(r.status, 200);
    assert.equal(tlsProxy.seen.forwarded.length - before, 1);
    assert.equal(tlsProxy.seen.forwarded.at(-1)!.url, `${target.origin}/echo`);
  });

  test('https target: TLS to the proxy, CONNECT, TLS to the target inside (TLS in TLS)', async () => {
    await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
      caCerts: pki.caCert,
    });
    const connects = tlsProxy.seen.connects.length;
    const sni = tlsTarget.sniNames.length;
    const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r.status, 200);
    assert.equal(tlsProxy.seen.connects.length - connects, 1);
    assert.equal(tlsTarget.sniNames[sni], 'localhost');
    const conn = (await pm.connectionFromUrl(`https://localhost:${tlsTarget.port}/`)) as unknown;
    assert.ok(conn);
  });

  test('https target with useForwardingForHttps: absolute https URL sent to the proxy', async () => {
    await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
      caCerts: pki.caCert,
      useForwardingForHttps: true,
    });
    const before = tlsProxy.seen.forwarded.length;
    const connects = tlsProxy.seen.connects.length;
    const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r.status, 200);
    assert.equal(tlsProxy.seen.connects.length, connects);
    assert.equal(tlsProxy.seen.forwarded.at(-1)!.url, `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(tlsProxy.seen.forwarded.length - before, 1);
  });

  test('an https:// proxy URL for a proxy that only speaks HTTP gets the hint', async () => {
    await using pm = new ProxyManager(proxy.url.replace('http://', 'https://'), {
      caCerts: pki.caCert,
      retries: false,
    });
    await assert.rejects(pm.request('GET', `https://localhost:${tlsTarget.port}/echo`), (err: unknown) => {
      assert.ok(err instanceof ProxyError, String(err));
      assert.match(err.message, /appears to only use HTTP and not HTTPS/);
      return true;
    });
  });
});

describe('the low-level flow', () => {
  test('HTTPConnection to the proxy with setTunnel to the target', async () => {
    const conn = new HTTPConnection(proxy.host, { port: proxy.port, proxy: proxy.url });
    conn.setTunnel('127.0.0.1', { port: target.port, headers: { 'X-Tunnel': 'h' } });
    assert.equal(conn.proxyIsTunneling, true);
    await conn.connect();
    assert.equal(conn.hasConnectedToProxy, true);
    await conn.request('GET', '/echo');
    const r = await conn.getResponse();
    assert.equal(echo(r).url, '/echo');
    assert.equal(proxy.seen.connects.at(-1)!.headers['x-tunnel'], 'h');
    await conn.close();
  });

  test('HTTPSConnection through a tunnel verifies the target', async () => {
    const conn = new HTTPSConnection(proxy.host, { port: proxy.port, proxy: proxy.url, caCerts: pki.caCert });
    conn.setTunnel('localhost', { port: tlsTarget.port, scheme: 'https' });
    await conn.connect();
    assert.equal(conn.isVerified, true);
    await conn.request('GET', '/echo');
    const r = await conn.getResponse();
    assert.equal(r.status, 200);
    await conn.close();
  });

  test('forwarding: absolute URLs to an HTTPConnection whose proxy is set', async () => {
    const conn = new HTTPConnection(proxy.host, { port: proxy.port, proxy: proxy.url });
    assert.equal(conn.proxyIsForwarding, true);
    await conn.request('GET', `${target.origin}/echo?x=1`);
    const r = await conn.getResponse();
    assert.equal(echo(r).url, '/echo?x=1');
    assert.equal(proxy.seen.forwarded.at(-1)!.url, `${target.origin}/echo?x=1`);
    await conn.close();
  });
});
