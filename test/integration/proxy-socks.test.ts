// SOCKS4, SOCKS4a, SOCKS5 and SOCKS5h through an in-process SOCKS server,
// and ProxyManager.fromEnv choosing direct, HTTP or SOCKS per URL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MaxRetryError, ProxyError, ProxyManager, SOCKSProxyManager } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import {
  startHttpProxy,
  startSocksProxy,
  type TestProxy,
  type TestSocksProxy,
} from '../support/proxy-servers.js';
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
let socks: TestSocksProxy;
let authSocks: TestSocksProxy;
let failingSocks: TestSocksProxy;
let httpProxy: TestProxy;

before(async () => {
  pki = await makeTestPki();
  target = await startHttpServer();
  tlsTarget = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
  socks = await startSocksProxy();
  authSocks = await startSocksProxy({ auth: { username: 'user', password: 'secret' } });
  failingSocks = await startSocksProxy({ failWith: 5 });
  httpProxy = await startHttpProxy();
});

after(async () => {
  await Promise.all([
    target.close(),
    tlsTarget.close(),
    socks.close(),
    authSocks.close(),
    failingSocks.close(),
    httpProxy.close(),
  ]);
});

describe('SOCKSProxyManager', () => {
  for (const scheme of ['socks4', 'socks4a', 'socks5', 'socks5h'] as const) {
    test(`${scheme} reaches an http target`, async () => {
      await using pm = new SOCKSProxyManager(`${scheme}://127.0.0.1:${socks.port}`);
      const before = socks.seen.requests.length;
      const r = await pm.request('GET', `http://localhost:${target.port}/echo`);
      assert.equal((r.json() as EchoBody).url, '/echo');
      const seen = socks.seen.requests.slice(before);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.version, scheme.startsWith('socks4') ? 4 : 5);
      assert.equal(seen[0]!.port, target.port);
      // socks4a and socks5h let the proxy resolve the name; socks4 and socks5 resolve locally.
      if (scheme === 'socks4a' || scheme === 'socks5h') {
        assert.equal(seen[0]!.host, 'localhost');
        assert.equal(seen[0]!.addressType, 'domain');
      } else {
        assert.equal(seen[0]!.host, '127.0.0.1');
      }
    });
  }

  test('socks5h reaches an https target with verification and SNI of the target', async () => {
    await using pm = new SOCKSProxyManager(`socks5h://127.0.0.1:${socks.port}`, { caCerts: pki.caCert });
    const sni = tlsTarget.sniNames.length;
    const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r.status, 200);
    assert.equal(tlsTarget.sniNames[sni], 'localhost');
  });

  test('username and password from the URL or the options', async () => {
    await using fromUrl = new SOCKSProxyManager(`socks5://user:secret@127.0.0.1:${authSocks.port}`);
    assert.equal((await fromUrl.request('GET', `${target.origin}/echo`)).status, 200);
    await using fromOptions = new SOCKSProxyManager(`socks5://127.0.0.1:${authSocks.port}`, {
      username: 'user',
      password: 'secret',
    });
    assert.equal((await fromOptions.request('GET', `${target.origin}/echo`)).status, 200);
    assert.equal(authSocks.seen.requests.at(-1)!.username, 'user');
  });

  test('refused credentials are a ProxyError that says so', async () => {
    await using pm = new SOCKSProxyManager(`socks5://user:wrong@127.0.0.1:${authSocks.port}`, {
      retries: false,
    });
    await assert.rejects(pm.request('GET', `${target.origin}/echo`), (err: unknown) => {
      assert.ok(err instanceof ProxyError, String(err));
      assert.match(err.message, /authentication failed|rejected/i);
      return true;
    });
  });

  test('an unreachable target is a ProxyError carrying the SOCKS reply code', async () => {
    await using pm = new SOCKSProxyManager(`socks5://127.0.0.1:${failingSocks.port}`, { retries: false });
    await assert.rejects(pm.request('GET', `${target.origin}/echo`), (err: unknown) => {
      assert.ok(err instanceof ProxyError, String(err));
      assert.match(err.message, /connection refused \(0x5\)/);
      assert.equal((err as ProxyError & { replyCode?: number }).replyCode, 5);
      return true;
    });
  });

  test('SOCKS failures are connect errors for Retry', async () => {
    await using pm = new SOCKSProxyManager(`socks5://127.0.0.1:${failingSocks.port}`, { retries: 2 });
    const before = failingSocks.seen.requests.length;
    await assert.rejects(pm.request('POST', `${target.origin}/echo`, { body: 'x' }), MaxRetryError);
    assert.equal(failingSocks.seen.requests.length - before, 3);
  });
});

describe('ProxyManager.fromEnv', () => {
  test('sends each request directly or through the proxy the environment names', async () => {
    await using pm = ProxyManager.fromEnv(
      {},
      {
        http_proxy: httpProxy.url,
        HTTP_PROXY: 'http://127.0.0.1:1',
        https_proxy: `socks5h://127.0.0.1:${socks.port}`,
        no_proxy: `localhost:${target.port}`,
      },
    );
    const forwarded = httpProxy.seen.forwarded.length;
    const r1 = await pm.request('GET', `http://127.0.0.1:${target.port}/echo`);
    assert.equal(r1.status, 200);
    assert.equal(httpProxy.seen.forwarded.length - forwarded, 1, 'lower-case http_proxy wins');
    const r2 = await pm.request('GET', `http://localhost:${target.port}/echo`);
    assert.equal(r2.status, 200);
    assert.equal(httpProxy.seen.forwarded.length - forwarded, 1, 'NO_PROXY host:port goes direct');
    assert.equal(pm.proxyFor(`http://localhost:${target.port}/`), null);
    assert.equal(pm.proxyFor('https://example.test/'), `socks5h://127.0.0.1:${socks.port}`);
  });
});
