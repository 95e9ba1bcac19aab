// urllib3-ts against a real nginx from Debian (started on loopback by the
// harness): static files, keep-alive reuse, gzip, chunked bodies with
// trailers, redirects, and HTTPS with a CA generated for the test.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HTTPConnectionPool, PoolManager, SSLError, MaxRetryError } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { type NginxServer, nginxFixtureFiles, requireServer, startNginx } from '../support/real-servers.js';

const skip = requireServer('nginx') ?? requireServer('openssl');

describe('against nginx', { skip: skip ?? false }, () => {
  let nginx: NginxServer;
  let pki: TestPki;
  const files = nginxFixtureFiles();

  before(async () => {
    pki = await makeTestPki();
    nginx = await startNginx({ tls: { cert: pki.serverCert, key: pki.serverKey } });
  });
  after(async () => {
    await nginx?.stop();
  });

  test('a static file comes back byte for byte over one reused connection', async () => {
    await using pool = new HTTPConnectionPool(nginx.host, { port: nginx.port, maxSize: 1 });
    for (let i = 0; i < 50; i++) {
      const r = await pool.request('GET', '/small.txt');
      assert.equal(r.status, 200);
      assert.deepEqual(r.data, files['small.txt']);
    }
    assert.equal(pool.numConnections, 1);
  });

  test('a 1 MiB binary file streams in exact chunks', async () => {
    await using http = new PoolManager();
    const r = await http.request('GET', `${nginx.url}/big.bin`, { preloadContent: false });
    assert.equal(r.headers.get('content-length'), String(files['big.bin']!.length));
    const parts: Buffer[] = [];
    for await (const chunk of r.stream(100_000)) {
      if (parts.length > 0 && parts.length < 10) assert.equal(parts[parts.length - 1]!.length, 100_000);
      parts.push(chunk);
    }
    assert.deepEqual(Buffer.concat(parts), files['big.bin']);
  });

  test('gzip from nginx is decoded, and left alone with decodeContent: false', async () => {
    await using http = new PoolManager({ headers: { 'Accept-Encoding': 'gzip' } });
    const r = await http.request('GET', `${nginx.url}/text.txt`);
    assert.equal(r.headers.get('content-encoding'), 'gzip');
    assert.deepEqual(r.data, files['text.txt']);
    const raw = await http.request('GET', `${nginx.url}/text.txt`, { decodeContent: false });
    assert.equal(raw.data[0], 0x1f);
    assert.equal(raw.data[1], 0x8b);
    assert.ok(raw.data.length < files['text.txt']!.length);
  });

  test('JSON from a static file', async () => {
    await using http = new PoolManager();
    const r = await http.request('GET', `${nginx.url}/data.json`);
    assert.deepEqual(r.json(), { name: 'urllib3-ts', answer: 42, list: [1, 2, 3], text: 'héllo ✓' });
  });

  test('a chunked body with trailers', async () => {
    await using http = new PoolManager();
    const r = await http.request('GET', `${nginx.url}/trailers`);
    assert.equal(r.headers.get('transfer-encoding'), 'chunked');
    assert.deepEqual(r.data, files['small.txt']);
    assert.equal(r.trailers?.get('x-trailer-test'), 'done');
  });

  test('a redirect is followed and a 404 is returned as a response', async () => {
    await using http = new PoolManager();
    const r = await http.request('GET', `${nginx.url}/redirect`);
    assert.equal(r.status, 200);
    assert.equal(r.url, `${nginx.url}/small.txt`);
    const missing = await http.request('GET', `${nginx.url}/status/404`);
    assert.equal(missing.status, 404);
    assert.equal(missing.data.toString(), 'nope\n');
  });

  test('HTTPS verifies against the test CA and fails without it', async () => {
    const tlsUrl = `https://localhost:${nginx.tlsPort}`;
    await using trusting = new PoolManager({ caCerts: pki.caCert, retries: false });
    const r = await trusting.request('GET', `${tlsUrl}/small.txt`);
    assert.deepEqual(r.data, files['small.txt']);
    assert.equal(r.connectionInfo?.tlsVersion?.startsWith('TLSv1.'), true);

    await using plain = new PoolManager({ retries: 1 });
    await assert.rejects(plain.request('GET', `${tlsUrl}/small.txt`), (err: unknown) => {
      assert.ok(err instanceof MaxRetryError, String(err));
      assert.ok(err.reason instanceof SSLError);
      assert.match(err.reason.message, /certificate|issuer|CA/i);
      return true;
    });
  });
});
