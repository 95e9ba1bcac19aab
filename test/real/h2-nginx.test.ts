// HTTP/2 against a real nginx from Debian (`http2` on its TLS listener, ALPN
// h2): static files, concurrency on one connection, gzip, trailers,
// redirects, and HTTP/1.1 on the same listener when h2 is disabled.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HTTPSConnectionPool, HttpVersion, PoolManager } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { type NginxServer, nginxFixtureFiles, requireServer, startNginx } from '../support/real-servers.js';

const skip = requireServer('nginx') ?? requireServer('openssl');

describe('HTTP/2 against nginx', { skip: skip ?? false }, () => {
  let nginx: NginxServer & { tlsPort: number; tlsUrl: string };
  let pki: TestPki;
  const files = nginxFixtureFiles();

  before(async () => {
    pki = await makeTestPki();
    nginx = await startNginx({ tls: { cert: pki.serverCert, key: pki.serverKey }, http2: true });
  });
  after(async () => {
    await nginx?.stop();
  });

  function pool(options: { maxSize?: number; disabledSvn?: Set<HttpVersion> } = {}): HTTPSConnectionPool {
    return new HTTPSConnectionPool(nginx.host, { port: nginx.tlsPort, caCerts: pki.caCert, ...options });
  }

  test('ALPN picks h2: version 20, files byte for byte', async () => {
    await using p = pool();
    const r = await p.request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.equal(r.version, 20);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h2);
    assert.deepEqual(r.data, files['small.txt']);
    const big = await p.request('GET', '/big.bin', { preloadContent: false });
    const parts: Buffer[] = [];
    for await (const c of big.stream(100_000)) parts.push(c);
    assert.deepEqual(Buffer.concat(parts), files['big.bin']);
  });

  test('40 concurrent requests share one connection', async () => {
    await using p = pool({ maxSize: 10 });
    const rs = await Promise.all(
      Array.from({ length: 40 }, (_, i) => p.request('GET', i % 2 ? '/small.txt' : '/data.json')),
    );
    assert.ok(rs.every((r) => r.status === 200 && r.version === 20));
    assert.equal(p.numConnections, 1);
  });

  test('gzip is decoded', async () => {
    await using http = new PoolManager({ caCerts: pki.caCert, headers: { 'Accept-Encoding': 'gzip' } });
    const r = await http.request('GET', `${nginx.tlsUrl}/text.txt`);
    assert.equal(r.version, 20);
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    assert.deepEqual(r.data, files['text.txt']);
  });

  test('trailers from add_trailer arrive as response.trailers', async () => {
    await using p = pool();
    const r = await p.request('GET', '/trailers');
    assert.equal(r.version, 20);
    assert.deepEqual(r.data, files['small.txt']);
    assert.equal(r.trailers?.get('x-trailer-test'), 'done');
  });

  test('a redirect is followed and a 404 is a response', async () => {
    await using http = new PoolManager({ caCerts: pki.caCert });
    const r = await http.request('GET', `${nginx.tlsUrl}/redirect`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.data, files['small.txt']);
    assert.equal(r.retries?.history.length, 1);
    const missing = await http.request('GET', `${nginx.tlsUrl}/status/404`);
    assert.equal(missing.status, 404);
    assert.equal(missing.version, 20);
  });

  test('multiplexed requests on nginx', async () => {
    await using p = pool();
    const a = await p.request('GET', '/small.txt', { multiplexed: true });
    const b = await p.request('GET', '/data.json', { multiplexed: true });
    const got = [await p.getResponse(), await p.getResponse()];
    assert.ok(got.every((r) => r !== null && r.status === 200));
    assert.ok(got.some((r) => r!.isFromPromise(a)));
    assert.ok(got.some((r) => r!.isFromPromise(b)));
    assert.equal(await p.getResponse(), null);
  });

  test('with h2 disabled the same listener speaks HTTP/1.1', async () => {
    await using p = pool({ disabledSvn: new Set([HttpVersion.h2]) });
    const r = await p.request('GET', '/small.txt');
    assert.equal(r.version, 11);
    assert.deepEqual(r.data, files['small.txt']);
  });
});
