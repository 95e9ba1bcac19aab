// doh:// query options that reach the HTTP client underneath (docs/api.md
// section 10): `disabled_svn` chooses the HTTP version the DoH server is
// asked over, `proxy` and `proxy_headers` send the queries through an HTTP
// proxy's CONNECT tunnel. A real DoH server in process (node:http2 with
// HTTP/1.1 allowed, the test CA) records what it was asked over.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ResolverDescription } from '../../src/dns/description.js';
import { setDohClientFactory } from '../../src/dns/doh.js';
import { NameResolutionError } from '../../src/errors.js';
import { poolManagerDohClient } from '../../src/pool/doh-client.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { buildResponse, parseQuery, T } from '../support/dns-wire.js';
import { startHttpProxy } from '../support/proxy-servers.js';

interface Asked {
  httpVersion: string;
  method: string;
  name: string;
}

let pki: TlsTestPki;
let server: http2.Http2SecureServer;
let port: number;
const asked: Asked[] = [];

function answer(query: Buffer): Buffer {
  const q = parseQuery(query);
  return q.type === T.A
    ? buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '192.0.2.77' }] })
    : buildResponse({ id: q.id, question: q });
}

/** A hostile DoH server: 200, the right type, then 64 MiB of body; counts what it wrote. */
let hugeBytesWritten = 0;
function endlessBody(res: http2.Http2ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/dns-message' });
  const chunk = Buffer.alloc(64 * 1024);
  const pump = () => {
    while (hugeBytesWritten < 64 * 1024 * 1024 && !res.destroyed && !res.closed) {
      hugeBytesWritten += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed && !res.closed) res.end();
  };
  pump();
}

before(async () => {
  setDohClientFactory(poolManagerDohClient);
  pki = await makeTlsTestPki();
  server = http2.createSecureServer({ cert: pki.server.certPem, key: pki.server.keyPem, allowHTTP1: true });
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url, 'https://localhost');
      const query =
        req.method === 'GET'
          ? Buffer.from(url.searchParams.get('dns') ?? '', 'base64url')
          : Buffer.concat(chunks);
      if (parseQuery(query).name.startsWith('huge')) return endlessBody(res);
      const a = answer(query);
      asked.push({ httpVersion: req.httpVersion, method: req.method, name: parseQuery(query).name });
      res.writeHead(200, { 'content-type': 'application/dns-message', 'content-length': a.length });
      res.end(a);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  setDohClientFactory(null);
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const base = () => `doh://localhost:${port}/dns-query?ca_certs=${encodeURIComponent(pki.caCert)}&timeout=3`;

describe('doh:// options for the HTTP client', () => {
  test('an answer body larger than any DNS message is refused without reading it all', async () => {
    const r = ResolverDescription.fromUrl(base()).new();
    await assert.rejects(r.getaddrinfo('huge.test', 443, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError, String(err));
      assert.match(
        err.message,
        /doh:\/\/localhost:\d+\/dns-query: the answer body is larger than 262144 bytes/,
      );
      return true;
    });
    await r.close();
    assert.ok(hugeBytesWritten < 16 * 1024 * 1024, `the server wrote ${hugeBytesWritten} bytes`);
  });

  test('without disabled_svn the DoH server is asked over HTTP/2', async () => {
    asked.length = 0;
    const r = ResolverDescription.fromUrl(base()).new();
    const got = await r.getaddrinfo('plain.test', 443, { family: 4 });
    assert.deepEqual(
      got.map((a) => a.address),
      ['192.0.2.77'],
    );
    await r.close();
    assert.deepEqual(
      asked.map((a) => a.httpVersion),
      ['2.0'],
    );
  });

  test('disabled_svn=h2 asks the DoH server over HTTP/1.1', async () => {
    asked.length = 0;
    const r = ResolverDescription.fromUrl(`${base()}&disabled_svn=h2`).new();
    const got = await r.getaddrinfo('h1only.test', 443);
    assert.deepEqual(
      got.map((a) => a.address),
      ['192.0.2.77'],
    );
    await r.close();
    assert.ok(asked.length >= 1, 'the server was asked');
    assert.deepEqual(new Set(asked.map((a) => a.httpVersion)), new Set(['1.1']));
    assert.deepEqual(new Set(asked.map((a) => a.name)), new Set(['h1only.test']));
  });

  test('proxy= sends the queries through the proxy in a CONNECT tunnel, with proxy_headers', async () => {
    asked.length = 0;
    const proxy = await startHttpProxy();
    try {
      const r = ResolverDescription.fromUrl(
        `${base()}&proxy=${encodeURIComponent(proxy.url)}&proxy_headers=${encodeURIComponent('X-Via-Test: dns')}`,
      ).new();
      const got = await r.getaddrinfo('proxied.test', 443, { family: 4 });
      assert.deepEqual(
        got.map((a) => a.address),
        ['192.0.2.77'],
      );
      await r.close();
      assert.equal(proxy.seen.connects.length, 1, 'one tunnel');
      assert.equal(proxy.seen.connects[0]!.authority, `localhost:${port}`);
      assert.equal(proxy.seen.connects[0]!.headers['x-via-test'], 'dns');
      assert.equal(proxy.seen.forwarded.length, 0, 'nothing is forwarded in plain text');
      assert.deepEqual(
        asked.map((a) => a.name),
        ['proxied.test'],
      );
    } finally {
      await proxy.close();
    }
  });
});
