// HTTP/2 behind proxies (docs/api.md sections 8 and 9): the protocol is chosen
// with the target, inside the tunnel - an HTTP CONNECT tunnel, TLS in TLS
// through an HTTPS proxy, or SOCKS - and requests share the one tunnelled
// connection. A connection that forwards to an HTTPS proxy stays HTTP/1.1.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HttpVersion, ProxyManager, SOCKSProxyManager } from '../../src/index.js';
import {
  startHttpProxy,
  startSocksProxy,
  type TestProxy,
  type TestSocksProxy,
} from '../support/proxy-servers.js';
import { type H2TestServer, startH2Server } from './h2-fixtures.js';
import { startHttpServer, type TestHttpServer } from '../support/http-fixtures.js';

let target: H2TestServer;
let h2c: H2TestServer;
let proxy: TestProxy;
let tlsProxy: TestProxy;
let socks: TestSocksProxy;
let h1: TestHttpServer;

before(async () => {
  [target, h2c] = await Promise.all([startH2Server(), startH2Server({ tls: false })]);
  proxy = await startHttpProxy();
  tlsProxy = await startHttpProxy({
    tls: { cert: target.pki!.serverCertPem, key: target.pki!.serverKeyPem },
  });
  socks = await startSocksProxy();
  h1 = await startHttpServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`h1 ${req.url}`);
  });
});

after(async () => {
  await Promise.all([
    target.close(),
    h2c.close(),
    proxy.close(),
    tlsProxy.close(),
    socks.close(),
    h1.close(),
  ]);
});

describe('HTTP/2 through proxies', () => {
  test('through an HTTP CONNECT tunnel: one tunnel, shared by concurrent requests', async () => {
    await using pm = new ProxyManager(proxy.url, { caCerts: target.pki!.caCert, maxSize: 4 });
    const connects = proxy.seen.connects.length;
    const rs = await Promise.all(
      Array.from({ length: 10 }, () => pm.request('GET', `${target.origin}/delay/50`)),
    );
    assert.ok(rs.every((r) => r.status === 200 && r.version === 20));
    assert.equal(proxy.seen.connects.length - connects, 1);
  });

  test('TLS in TLS through an HTTPS proxy', async () => {
    await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
      caCerts: target.pki!.caCert,
    });
    const r = await pm.request('GET', `${target.origin}/hello`);
    assert.equal(r.version, 20);
    assert.equal(r.data.toString(), 'hello');
  });

  test('requests forwarded to an HTTPS proxy stay HTTP/1.1', async () => {
    await using pm = new ProxyManager(tlsProxy.url.replace('127.0.0.1', 'localhost'), {
      caCerts: target.pki!.caCert,
    });
    const before = tlsProxy.seen.forwarded.length;
    const r = await pm.request('GET', h1.url('/x'));
    assert.equal(r.status, 200);
    assert.equal(r.version, 11);
    assert.equal(r.data.toString(), 'h1 /x');
    assert.equal(tlsProxy.seen.forwarded.length - before, 1);
  });

  test('through SOCKS5h, for https and for h2c', async () => {
    await using pm = new SOCKSProxyManager(`socks5h://127.0.0.1:${socks.port}`, {
      caCerts: target.pki!.caCert,
    });
    const r = await pm.request('GET', `${target.origin}/hello`);
    assert.equal(r.version, 20);
    await using plain = new SOCKSProxyManager(`socks5h://127.0.0.1:${socks.port}`, {
      disabledSvn: new Set([HttpVersion.h11]),
    });
    const r2 = await plain.request('GET', `${h2c.origin}/hello`);
    assert.equal(r2.version, 20);
    assert.equal(r2.data.toString(), 'hello');
  });
});
