// urllib3-ts through real proxies from Debian, started on loopback by the
// harness: squid (forwarding and CONNECT, with and without basic auth),
// stunnel in front of squid (an HTTPS proxy: forwarding and TLS in TLS), and
// dante (SOCKS4 and SOCKS5, with and without username/password).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { MaxRetryError, ProxyError, ProxyManager, SOCKSProxyManager } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import {
  type DanteProxy,
  type RunningProxy,
  readSquidAccessLog,
  requireProxy,
  type SquidProxy,
  startDante,
  startSquid,
  startStunnelFor,
} from '../support/real-proxies.js';
import {
  type EchoBody,
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
} from '../support/servers.js';

const CREDS = { username: 'alice', password: 's3cret pass' };
const skip = requireProxy('squid', 'squid-auth', 'stunnel', 'dante', 'dante-auth');

describe('through real proxies', { skip: skip ?? false }, () => {
  let pki: TestPki;
  let target: TestHttpServer;
  let tlsTarget: TestHttpsServer;
  let squid: SquidProxy;
  let squidAuth: SquidProxy;
  let stunnel: RunningProxy;
  let dante: DanteProxy;
  let danteAuth: DanteProxy;

  before(async () => {
    pki = await makeTestPki();
    target = await startHttpServer();
    tlsTarget = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
    [squid, squidAuth, dante, danteAuth] = await Promise.all([
      startSquid(),
      startSquid({ auth: CREDS }),
      startDante(),
      startDante({ auth: CREDS }),
    ]);
    stunnel = await startStunnelFor(
      { host: squid.host, port: squid.port },
      { cert: pki.serverCert, key: pki.serverKey },
    );
  });

  after(async () => {
    await Promise.all([squid, squidAuth, dante, danteAuth, stunnel].filter(Boolean).map((p) => p.stop()));
    await Promise.all([target?.close(), tlsTarget?.close()]);
  });

  const echo = (r: { json(): unknown }) => r.json() as EchoBody;

  test('squid forwards an http request in absolute form with the proxy headers', async () => {
    await using pm = new ProxyManager(squid.url, { proxyHeaders: { 'X-Proxy-Note': 'for squid' } });
    const r = await pm.request('GET', `${target.origin}/echo?via=squid`);
    assert.equal(r.status, 200);
    assert.equal(echo(r).url, '/echo?via=squid');
    const log = readSquidAccessLog(squid).filter((e) => e.url.includes('via=squid'));
    assert.equal(log.length, 1);
    assert.equal(log[0]!.method, 'GET');
    assert.equal(log[0]!.url, `${target.origin}/echo?via=squid`);
  });

  test('squid tunnels an https request with CONNECT and the target is verified', async () => {
    const pm = new ProxyManager(squid.url, { caCerts: pki.caCert, proxyHeaders: { 'X-Proxy-Note': 'n' } });
    const r = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r.status, 200);
    assert.equal(echo(r).headers['x-proxy-note'], undefined);
    // squid logs a CONNECT when the tunnel closes.
    await pm.close();
    let log = readSquidAccessLog(squid).filter((e) => e.method === 'CONNECT');
    for (let i = 0; i < 60 && log.length === 0; i++) {
      await new Promise((res) => setTimeout(res, 50));
      log = readSquidAccessLog(squid).filter((e) => e.method === 'CONNECT');
    }
    assert.ok(
      log.some((e) => e.url === `localhost:${tlsTarget.port}`),
      JSON.stringify(log),
    );
  });

  test('squid with basic auth: 407 without credentials, success with them', async () => {
    await using anonymous = new ProxyManager(squidAuth.url, { caCerts: pki.caCert, retries: false });
    await assert.rejects(
      anonymous.request('GET', `https://localhost:${tlsTarget.port}/echo`),
      (err: unknown) => {
        assert.ok(err instanceof ProxyError, String(err));
        assert.equal(err.status, 407);
        return true;
      },
    );
    const withCreds = squidAuth.url.replace(
      'http://',
      `http://${CREDS.username}:${encodeURIComponent(CREDS.password)}@`,
    );
    await using pm = new ProxyManager(withCreds, { caCerts: pki.caCert });
    const plain = await pm.request('GET', `${target.origin}/echo?auth=1`);
    assert.equal(plain.status, 200);
    assert.equal(echo(plain).headers['proxy-authorization'], undefined);
    const tunnelled = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(tunnelled.status, 200);
    const users = readSquidAccessLog(squidAuth)
      .filter((e) => e.status === 200)
      .map((e) => e.user);
    assert.ok(users.includes(CREDS.username));
  });

  test('stunnel + squid as an HTTPS proxy: forwarding and TLS in TLS', async () => {
    const proxyUrl = stunnel.url.replace('127.0.0.1', 'localhost');
    await using pm = new ProxyManager(proxyUrl, { caCerts: pki.caCert });
    const r1 = await pm.request('GET', `${target.origin}/echo?over=tls`);
    assert.equal(echo(r1).url, '/echo?over=tls');
    const r2 = await pm.request('GET', `https://localhost:${tlsTarget.port}/echo`);
    assert.equal(r2.status, 200);
    assert.equal(r2.connectionInfo?.tlsVersion?.startsWith('TLSv1.'), true);
  });

  test('dante: socks5 and socks5h reach http and https targets', async () => {
    await using s5 = new SOCKSProxyManager(dante.url);
    assert.equal(echo(await s5.request('GET', `${target.origin}/echo?s=5`)).url, '/echo?s=5');
    await using s5h = new SOCKSProxyManager(dante.url.replace('socks5:', 'socks5h:'), {
      caCerts: pki.caCert,
    });
    assert.equal((await s5h.request('GET', `https://localhost:${tlsTarget.port}/echo`)).status, 200);
    assert.equal(
      echo(await s5h.request('GET', `http://localhost:${target.port}/echo?s=5h`)).url,
      '/echo?s=5h',
    );
  });

  test('dante: socks4', async () => {
    await using s4 = new SOCKSProxyManager(dante.socks4Url);
    assert.equal(echo(await s4.request('GET', `${target.origin}/echo?s=4`)).url, '/echo?s=4');
  });

  test('dante with username/password: accepted, and refused with a wrong password', async () => {
    await using ok = new SOCKSProxyManager(danteAuth.url, {
      username: CREDS.username,
      password: CREDS.password,
    });
    assert.equal((await ok.request('GET', `${target.origin}/echo`)).status, 200);
    await using bad = new SOCKSProxyManager(danteAuth.url, {
      username: CREDS.username,
      password: 'wrong',
      retries: 1,
    });
    await assert.rejects(bad.request('GET', `${target.origin}/echo`), (err: unknown) => {
      assert.ok(err instanceof MaxRetryError, String(err));
      assert.ok(err.reason instanceof ProxyError);
      return true;
    });
  });

  test('dante reports an unreachable target with its SOCKS reply code', async () => {
    await using pm = new SOCKSProxyManager(dante.url, { retries: false });
    await assert.rejects(pm.request('GET', 'http://127.0.0.1:1/'), (err: unknown) => {
      assert.ok(err instanceof ProxyError, String(err));
      assert.match(err.message, /\(0x[0-9a-f]+\)/);
      return true;
    });
  });
});
