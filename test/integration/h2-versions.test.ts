// HTTP versions (docs/api.md section 9, 11): HTTPS offers h2 and http/1.1 in
// ALPN and speaks what the server picks; disabledSvn takes versions away
// (h2c with prior knowledge when HTTP/1.1 is off on plain http); impossible
// choices are TypeErrors before any I/O.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type ConnectionInfo,
  HTTPConnection,
  HTTPConnectionPool,
  HTTPSConnection,
  HTTPSConnectionPool,
  HttpVersion,
  PoolManager,
  ProtocolError,
  SSLError,
  createUrllib3Context,
} from '../../src/index.js';
import { type H2TestServer, rejectionOf, startH2Server, tlsOptions } from './h2-fixtures.js';
import { startTlsServer, type TlsServer } from './tls-fixtures.js';
import { startHttpServer, type TestHttpServer } from '../support/http-fixtures.js';

let h2: H2TestServer;
let h2c: H2TestServer;
let both: H2TestServer;
let h1only: TlsServer;
let plainH1: TestHttpServer;

before(async () => {
  [h2, h2c, both] = await Promise.all([
    startH2Server(),
    startH2Server({ tls: false }),
    startH2Server({ allowHTTP1: true }),
  ]);
  h1only = await startTlsServer({ cert: h2.pki!.serverCertPem, key: h2.pki!.serverKeyPem });
  plainH1 = await startHttpServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('http/1.1 only');
  });
});

after(async () => {
  await Promise.all([h2.close(), h2c.close(), both.close(), h1only.close(), plainH1.close()]);
});

describe('ALPN', () => {
  test('HTTPS speaks HTTP/2 when the server selects h2: version 20, HTTP/2, ConnectionInfo.httpVersion', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: h2.port, ...tlsOptions(h2) });
    let info: ConnectionInfo | null = null;
    const r = await pool.request('GET', '/hello', {
      onPostConnection: (i) => {
        info = i;
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.version, 20);
    assert.equal(r.versionString, 'HTTP/2');
    assert.equal(r.data.toString(), 'hello');
    assert.equal(r.reason, 'OK');
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h2);
    assert.ok(info !== null && (info as ConnectionInfo).httpVersion === HttpVersion.h2);
    assert.equal((info as unknown as ConnectionInfo).isEncrypted(), true);
    assert.deepEqual(h2.alpn.at(-1), 'h2');
  });

  test('h2 and http/1.1 are offered; a server that picks http/1.1 gets HTTP/1.1', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: h1only.port, ...tlsOptions(h2) });
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(r.version, 11);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h11);
    assert.deepEqual(h1only.connections.at(-1)?.alpnOffered, ['h2', 'http/1.1']);
    assert.equal(h1only.connections.at(-1)?.alpn, 'http/1.1');
  });

  test('a server offering both picks h2', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: both.port, ...tlsOptions(both) });
    const r = await pool.request('GET', '/hello');
    assert.equal(r.version, 20);
  });

  test('disabledSvn with h2 offers http/1.1 only and speaks HTTP/1.1', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: both.port,
      ...tlsOptions(both),
      disabledSvn: new Set([HttpVersion.h2]),
    });
    const r = await pool.request('GET', '/anything');
    assert.equal(r.version, 11);
    assert.equal(r.data.toString(), 'http1 /anything');
    assert.equal(both.alpn.at(-1), 'http/1.1');
    await using pool2 = new HTTPSConnectionPool('localhost', {
      port: h1only.port,
      ...tlsOptions(h2),
      disabledSvn: new Set([HttpVersion.h2]),
    });
    await pool2.request('GET', '/');
    assert.deepEqual(h1only.connections.at(-1)?.alpnOffered, ['http/1.1']);
  });

  test('disabledSvn with h11 offers h2 only; a server without h2 fails the handshake', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: h1only.port,
      ...tlsOptions(h2),
      disabledSvn: new Set([HttpVersion.h11]),
      retries: false,
    });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /ALPN/);
    await using ok = new HTTPSConnectionPool('localhost', {
      port: h2.port,
      ...tlsOptions(h2),
      disabledSvn: new Set([HttpVersion.h11]),
    });
    assert.equal((await ok.request('GET', '/hello')).version, 20);
  });

  test('an explicit alpnProtocols wins over the default offer', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: h1only.port,
      ...tlsOptions(h2),
      alpnProtocols: ['http/1.1'],
    });
    await pool.request('GET', '/');
    assert.deepEqual(h1only.connections.at(-1)?.alpnOffered, ['http/1.1']);
    // ...and h2 in it is spoken
    await using pool2 = new HTTPSConnectionPool('localhost', {
      port: h2.port,
      ...tlsOptions(h2),
      alpnProtocols: ['h2'],
    });
    assert.equal((await pool2.request('GET', '/hello')).version, 20);
  });

  test("an sslContext's ALPN list wins over the default offer", async () => {
    const ctx = createUrllib3Context();
    ctx.setAlpnProtocols(['http/1.1']);
    await using pool = new HTTPSConnectionPool('localhost', {
      port: h1only.port,
      ...tlsOptions(h2),
      sslContext: ctx,
      caCerts: h2.pki!.caCert,
    });
    await pool.request('GET', '/');
    assert.deepEqual(h1only.connections.at(-1)?.alpnOffered, ['http/1.1']);
  });

  test('the low-level HTTPSConnection speaks HTTP/2 through request() and getResponse()', async () => {
    const conn = new HTTPSConnection('localhost', { port: h2.port, ...tlsOptions(h2) });
    try {
      await conn.request('POST', '/echo', { body: 'low level', headers: { 'X-A': 'b' } });
      const r = await conn.getResponse();
      assert.equal(r.version, 20);
      assert.equal(r.connection, conn);
      const echo = r.json() as { method: string; bodyLength: number; headers: Record<string, string> };
      assert.equal(echo.method, 'POST');
      assert.equal(echo.bodyLength, 9);
      assert.equal(echo.headers['x-a'], 'b');
      assert.equal(conn.connectionInfo?.httpVersion, HttpVersion.h2);
      // A second request on the same connection.
      await conn.request('GET', '/hello');
      assert.equal((await conn.getResponse()).data.toString(), 'hello');
      assert.equal(h2.sessions.size >= 1, true);
    } finally {
      await conn.close();
    }
    assert.equal(conn.isClosed, true);
  });
});

describe('h2c (prior knowledge)', () => {
  test('disabledSvn with h11 on plain http speaks HTTP/2 without TLS', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', {
      port: h2c.port,
      disabledSvn: new Set([HttpVersion.h11]),
    });
    const r = await pool.request('GET', '/hello');
    assert.equal(r.version, 20);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h2);
    assert.equal(r.connectionInfo?.isEncrypted(), false);
    assert.equal(r.data.toString(), 'hello');
    const echo = (await pool.request('GET', '/echo')).json() as { scheme: string; authority: string };
    assert.equal(echo.scheme, 'http');
    assert.equal(echo.authority, `127.0.0.1:${h2c.port}`);
  });

  test('through a PoolManager', async () => {
    await using pm = new PoolManager({ disabledSvn: new Set([HttpVersion.h11]) });
    const r = await pm.request('GET', `${h2c.origin}/hello`);
    assert.equal(r.version, 20);
  });

  test('plain http without disabledSvn stays HTTP/1.1', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port: plainH1.port });
    const r = await pool.request('GET', '/');
    assert.equal(r.version, 11);
  });

  test('h2c against an HTTP/1.1-only server is a clear ProtocolError', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', {
      port: plainH1.port,
      disabledSvn: new Set([HttpVersion.h11]),
      retries: false,
    });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /HTTP\/2/);
  });
});

describe('disabledSvn validation', () => {
  const everyVersion = new Set([HttpVersion.h11, HttpVersion.h2, HttpVersion.h3]);
  const onlyH3 = new Set([HttpVersion.h11, HttpVersion.h2]);

  test('disabling every version is a TypeError', () => {
    for (const make of [
      () => new HTTPConnection('localhost', { disabledSvn: everyVersion }),
      () => new HTTPSConnection('localhost', { disabledSvn: everyVersion }),
      () => new HTTPConnectionPool('localhost', { disabledSvn: everyVersion }),
      () => new PoolManager({ disabledSvn: everyVersion }),
    ]) {
      assert.throws(make, (err: Error) => err instanceof TypeError && /every HTTP version/.test(err.message));
    }
  });

  test('HTTP/3 alone is accepted on HTTPS, and a clear permanent error on plain http', async () => {
    assert.doesNotThrow(() => new HTTPSConnectionPool('localhost', { disabledSvn: onlyH3 }));
    const conn = new HTTPConnection('localhost', { port: 9, disabledSvn: onlyH3 });
    await assert.rejects(conn.connect(), (err: Error) => {
      assert.match(err.message, /only HTTP\/3, which runs over QUIC with TLS/);
      assert.equal((err as { permanent?: boolean }).permanent, true);
      return true;
    });
  });

  test('values that are not HttpVersions are a TypeError', () => {
    assert.throws(
      () => new HTTPConnection('localhost', { disabledSvn: new Set(['h2' as HttpVersion]) }),
      /not an HttpVersion/,
    );
  });

  test('disabling h3 alone changes nothing', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: h2.port,
      ...tlsOptions(h2),
      disabledSvn: new Set([HttpVersion.h3]),
    });
    assert.equal((await pool.request('GET', '/hello')).version, 20);
  });
});
