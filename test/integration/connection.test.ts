// The low-level connection flow (docs/api.md section 4, "The low-level
// connection"): HTTPConnection / HTTPSConnection against in-process servers
// on loopback - connect, request, getResponse, reuse, reconnect, body
// framing, default headers, header validation, connect and read timeouts,
// source address, socket options, TLS verification and ConnectionInfo.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  BaseResolver,
  ConnectTimeoutError,
  HTTPConnection,
  HTTPError,
  HTTPSConnection,
  InvalidHeader,
  NewConnectionError,
  ReadTimeoutError,
  type ResolvedAddress,
  type ResolveOptions,
  SKIP_HEADER,
  SSLError,
} from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { getFreePort } from '../support/free-port.js';
import {
  canBind,
  type EchoBody,
  httpResponse,
  rawServer,
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
  waitUntil,
} from '../support/servers.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Answers every name with 127.0.0.1, so 'localhost' never depends on /etc/hosts. */
class LoopbackResolver extends BaseResolver {
  calls: string[] = [];
  async getaddrinfo(host: string, port: number, _options?: ResolveOptions): Promise<ResolvedAddress[]> {
    this.calls.push(host);
    return [{ address: HOST, family: 4, port }];
  }
}

/** A resolver whose answer never comes. */
class SilentResolver extends BaseResolver {
  calls: Array<[string, number]> = [];
  getaddrinfo(host: string, port: number, _options?: ResolveOptions): Promise<ResolvedAddress[]> {
    this.calls.push([host, port]);
    return new Promise<ResolvedAddress[]>(() => {});
  }
}

function echoOf(data: Buffer): EchoBody {
  return JSON.parse(data.toString('utf8')) as EchoBody;
}

let server: TestHttpServer;

before(async () => {
  server = await startHttpServer();
});

after(async () => {
  await server.close();
});

describe('HTTPConnection request flow', () => {
  test('request and getResponse return status, headers and body, and resp.connection is the connection', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.connect();
      assert.equal(conn.isConnected, true);
      assert.equal(conn.isClosed, false);
      await conn.request('GET', '/echo/path?q=1', { headers: { 'X-Test': 'yes' } });
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      assert.equal(resp.reason, 'OK');
      assert.equal(resp.version, 11);
      assert.equal(resp.headers.get('content-type'), 'application/json');
      const echo = echoOf(resp.data);
      assert.equal(echo.method, 'GET');
      assert.equal(echo.url, '/echo/path?q=1');
      assert.equal(echo.headers['x-test'], 'yes');
      assert.equal(resp.connection, conn);
    } finally {
      await conn.close();
    }
  });

  test('a second request on the same connection reuses its socket', async () => {
    const before = server.stats.opened;
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo/1');
      const first = echoOf((await conn.getResponse()).data);
      await conn.request('GET', '/echo/2');
      const second = echoOf((await conn.getResponse()).data);
      assert.equal(server.stats.opened - before, 1, 'the server should see a single TCP connection');
      assert.equal(first.remotePort, second.remotePort);
      assert.equal(first.connectionId, second.connectionId);
    } finally {
      await conn.close();
    }
  });

  test('close() then a new request reconnects on a new socket', async () => {
    const before = server.stats.opened;
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo/a');
      const first = echoOf((await conn.getResponse()).data);
      await conn.close();
      assert.equal(conn.isConnected, false);
      assert.equal(conn.isClosed, true);
      await conn.request('GET', '/echo/b');
      const second = echoOf((await conn.getResponse()).data);
      assert.equal(server.stats.opened - before, 2, 'the server should see two TCP connections');
      assert.notEqual(first.connectionId, second.connectionId);
      assert.equal(conn.isConnected, true);
    } finally {
      await conn.close();
    }
  });

  test('getResponse returns a response that arrived in full before it was called', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo/early-bird');
      // The whole response reaches the socket before anyone asks for it.
      await new Promise((r) => setTimeout(r, 50));
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      assert.equal(echoOf(resp.data).url, '/echo/early-bird');
    } finally {
      await conn.close();
    }
  });

  test('getResponse with preloadContent: false returns a response that arrived before it was called', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo/early-stream', { preloadContent: false });
      await new Promise((r) => setTimeout(r, 50));
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      const body = await resp.read();
      assert.equal((JSON.parse(body.toString()) as EchoBody).url, '/echo/early-stream');
    } finally {
      await conn.close();
    }
  });

  test('a string body is sent UTF-8 encoded with its byte length as Content-Length', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      const text = 'héllo wörld ✓';
      await conn.request('POST', '/echo', { body: text });
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.body, text);
      assert.equal(echo.headers['content-length'], String(Buffer.byteLength(text)));
      assert.equal(echo.headers['transfer-encoding'], undefined);
    } finally {
      await conn.close();
    }
  });

  test('a Buffer body is sent with Content-Length', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      const body = Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255]);
      await conn.request('PUT', '/echo', { body });
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.method, 'PUT');
      assert.equal(echo.headers['content-length'], '10');
      assert.equal(echo.headers['transfer-encoding'], undefined);
      assert.equal(echo.bodyLength, 10);
      const rec = server.requests.at(-1)!;
      assert.deepEqual(rec.body, body);
    } finally {
      await conn.close();
    }
  });

  test('an async generator body is sent with Transfer-Encoding: chunked and arrives whole', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      async function* parts(): AsyncGenerator<Buffer> {
        yield Buffer.from('first-');
        await new Promise((r) => setTimeout(r, 5));
        yield Buffer.from('second-');
        yield Buffer.from('third');
      }
      await conn.request('POST', '/echo', { body: parts() });
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.headers['transfer-encoding'], 'chunked');
      assert.equal(echo.headers['content-length'], undefined);
      assert.equal(echo.body, 'first-second-third');
    } finally {
      await conn.close();
    }
  });

  test('chunked: true sends a Buffer body with Transfer-Encoding: chunked', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('POST', '/echo', { body: Buffer.from('chunky body'), chunked: true });
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.headers['transfer-encoding'], 'chunked');
      assert.equal(echo.headers['content-length'], undefined);
      assert.equal(echo.body, 'chunky body');
    } finally {
      await conn.close();
    }
  });

  test('default headers are Host with the port, the library User-Agent and Accept-Encoding: identity', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo');
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.headers.host, `${HOST}:${server.port}`);
      assert.equal(echo.headers['user-agent'], `urllib3-ts/${PACKAGE_VERSION}`);
      assert.equal(echo.headers['accept-encoding'], 'identity');
      // A GET without a body carries no framing header at all.
      assert.equal(echo.headers['content-length'], undefined);
      assert.equal(echo.headers['transfer-encoding'], undefined);
    } finally {
      await conn.close();
    }
  });

  test('SKIP_HEADER as the User-Agent value suppresses the header', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      await conn.request('GET', '/echo', { headers: { 'User-Agent': SKIP_HEADER } });
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.headers['user-agent'], undefined);
      assert.ok(
        !echo.rawHeaders.some((h) => h.includes(SKIP_HEADER)),
        'the marker itself must never be sent',
      );
      // the other defaults stay
      assert.equal(echo.headers['accept-encoding'], 'identity');
    } finally {
      await conn.close();
    }
  });

  test('a header value with CR/LF is refused with InvalidHeader before anything is written', async () => {
    const raw = await rawServer((socket) => {
      socket.write(httpResponse(200, 'fine'));
    });
    const conn = new HTTPConnection(HOST, { port: raw.port });
    try {
      await conn.connect();
      await waitUntil(() => raw.stats.opened === 1, 1000);
      const err = await rejectionOf(
        conn.request('GET', '/x', { headers: { 'X-Evil': 'a\r\nX-Injected: 1' } }),
      );
      assert.ok(err instanceof InvalidHeader, `expected InvalidHeader, got ${err.name}: ${err.message}`);
      assert.ok(err instanceof HTTPError);
      // give any stray write time to arrive
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(raw.received[0]?.length ?? 0, 0, 'no byte may reach the server');
      // The connection is still usable for a valid request, which is all the server sees.
      await conn.request('GET', '/ok');
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      assert.equal(raw.requests.length, 1);
      assert.equal(raw.requests[0]!.target, '/ok');
      assert.ok(!raw.received[0]!.toString('latin1').includes('X-Injected'));
    } finally {
      await conn.close();
      await raw.close();
    }
  });

  test('a header name with CR/LF is refused with InvalidHeader', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      const err = await rejectionOf(conn.request('GET', '/echo', { headers: { 'X-A\r\nX-B': 'v' } }));
      assert.ok(err instanceof InvalidHeader, `expected InvalidHeader, got ${err.name}`);
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.requests.length, before);
    } finally {
      await conn.close();
    }
  });

  test('an invalid method is a TypeError', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      const before = server.requests.length;
      for (const method of ['GE T', 'GET\r\nX: y', '', 'G(ET)']) {
        const err = await rejectionOf(conn.request(method, '/echo'));
        assert.ok(
          err instanceof TypeError,
          `method ${JSON.stringify(method)}: expected TypeError, got ${err.name}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.requests.length, before, 'nothing may be sent');
    } finally {
      await conn.close();
    }
  });

  test('an unknown option is a TypeError at construction', () => {
    assert.throws(
      () => new HTTPConnection(HOST, { port: server.port, timeOut: 5 } as unknown as { port: number }),
      TypeError,
    );
  });
});

describe('HTTPConnection connecting', () => {
  test('a refused connection is a NewConnectionError naming host and port', async () => {
    const port = await getFreePort(HOST);
    const conn = new HTTPConnection(HOST, { port, timeout: 1000 });
    try {
      const err = await rejectionOf(conn.connect());
      assert.ok(
        err instanceof NewConnectionError,
        `expected NewConnectionError, got ${err.name}: ${err.message}`,
      );
      assert.ok(
        err instanceof ConnectTimeoutError,
        'NewConnectionError extends ConnectTimeoutError (urllib3 v2)',
      );
      assert.ok(err.message.includes(HOST), `message should name the host: ${err.message}`);
      assert.ok(err.message.includes(String(port)), `message should name the port: ${err.message}`);
      assert.equal((err.cause as NodeJS.ErrnoException | undefined)?.code, 'ECONNREFUSED');
      assert.equal(conn.isConnected, false);
    } finally {
      await conn.close();
    }
  });

  test('a refused connection on request() is a NewConnectionError too', async () => {
    const port = await getFreePort(HOST);
    const conn = new HTTPConnection(HOST, { port, timeout: 1000 });
    try {
      const err = await rejectionOf(conn.request('GET', '/'));
      assert.ok(err instanceof NewConnectionError, `expected NewConnectionError, got ${err.name}`);
    } finally {
      await conn.close();
    }
  });

  test('a resolver that never answers ends in ConnectTimeoutError within the connect timeout', async () => {
    const resolver = new SilentResolver();
    const conn = new HTTPConnection('never.test', { port: 8080, timeout: 100, resolver });
    try {
      const started = performance.now();
      const err = await rejectionOf(conn.connect());
      const elapsed = performance.now() - started;
      assert.ok(
        err instanceof ConnectTimeoutError,
        `expected ConnectTimeoutError, got ${err.name}: ${err.message}`,
      );
      assert.equal(err.name, 'ConnectTimeoutError', 'a timeout is not a refused connection');
      assert.match(err.message, /never\.test/);
      assert.match(err.message, /timed out/i);
      assert.ok(elapsed >= 80, `gave up too early (${elapsed.toFixed(0)} ms)`);
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms for a 100 ms connect timeout`);
      assert.deepEqual(resolver.calls, [['never.test', 8080]]);
    } finally {
      await conn.close();
    }
  });

  test('a server that accepts and never answers ends in ReadTimeoutError', async () => {
    const raw = await rawServer(() => {
      // read the request, say nothing
    });
    const conn = new HTTPConnection(HOST, { port: raw.port, timeout: 100 });
    try {
      await conn.request('GET', '/silent');
      const started = performance.now();
      const err = await rejectionOf(conn.getResponse());
      const elapsed = performance.now() - started;
      assert.ok(
        err instanceof ReadTimeoutError,
        `expected ReadTimeoutError, got ${err.name}: ${err.message}`,
      );
      assert.ok(elapsed >= 80, `timed out too early (${elapsed.toFixed(0)} ms)`);
      assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms for a 100 ms read timeout`);
      assert.equal(raw.requests.length, 1, 'the request itself was sent');
      // The timed-out connection is not left open.
      assert.equal(await waitUntil(() => raw.openSockets === 0, 1000), true, 'the socket should be closed');
    } finally {
      await conn.close();
      await raw.close();
    }
  });

  test('sourceAddress binds the local end: the server sees 127.0.0.2', async (t) => {
    if (!(await canBind('127.0.0.2'))) {
      t.skip('127.0.0.2 cannot be bound on this machine');
      return;
    }
    const conn = new HTTPConnection(HOST, { port: server.port, sourceAddress: ['127.0.0.2', 0] });
    try {
      await conn.request('GET', '/echo');
      const echo = echoOf((await conn.getResponse()).data);
      assert.equal(echo.remoteAddress, '127.0.0.2');
    } finally {
      await conn.close();
    }
  });

  test('socketOptions default to noDelay on, and noDelay: false and keepAlive are accepted', async () => {
    const dflt = new HTTPConnection(HOST, { port: server.port });
    const off = new HTTPConnection(HOST, { port: server.port, socketOptions: { noDelay: false } });
    const ka = new HTTPConnection(HOST, {
      port: server.port,
      socketOptions: { keepAlive: true, keepAliveInitialDelay: 1000 },
    });
    try {
      assert.equal(dflt.socketOptions.noDelay, true);
      assert.equal(off.socketOptions.noDelay, false);
      assert.equal(ka.socketOptions.noDelay, true, 'noDelay stays on when other options are given');
      for (const conn of [dflt, off, ka]) {
        await conn.request('POST', '/echo', { body: 'abc' });
        const resp = await conn.getResponse();
        assert.equal(resp.status, 200);
        assert.equal(echoOf(resp.data).body, 'abc');
      }
    } finally {
      await Promise.all([dflt.close(), off.close(), ka.close()]);
    }
  });

  test('connectionInfo of a plain HTTP connection has no TLS fields', async () => {
    const conn = new HTTPConnection(HOST, { port: server.port });
    try {
      // read through a function so the assertion does not narrow the property for the rest of the test
      const infoOf = (c: HTTPConnection) => c.connectionInfo;
      assert.equal(infoOf(conn), null, 'no info before connecting');
      await conn.request('GET', '/echo');
      const resp = await conn.getResponse();
      const info = infoOf(conn);
      assert.ok(info !== null);
      assert.deepEqual(info.destinationAddress, [HOST, server.port]);
      assert.equal(info.tlsVersion, null);
      assert.equal(info.cipher, null);
      assert.equal(info.certificateDer, null);
      assert.equal(info.issuerCertificateDer, null);
      assert.equal(info.isEncrypted(), false);
      assert.equal(info.httpVersion, 'HTTP/1.1');
      assert.ok(info.establishedLatency >= 0);
      assert.ok(resp.connectionInfo !== null);
      assert.deepEqual(resp.connectionInfo.destinationAddress, [HOST, server.port]);
    } finally {
      await conn.close();
    }
  });
});

describe('HTTPSConnection', () => {
  let pki: TestPki;
  let tlsServer: TestHttpsServer;

  before(async () => {
    pki = await makeTestPki();
    tlsServer = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
  });

  after(async () => {
    await tlsServer?.close();
  });

  test('default verification rejects a certificate from an unknown CA with SSLError', async () => {
    const conn = new HTTPSConnection('localhost', { port: tlsServer.port, resolver: new LoopbackResolver() });
    try {
      const err = await rejectionOf(conn.connect());
      assert.ok(err instanceof SSLError, `expected SSLError, got ${err.name}: ${err.message}`);
      assert.match(
        err.message,
        /unable to (get local issuer|verify the first) certificate|unknown CA|self[- ]signed/i,
        `the message should give the verification reason: ${err.message}`,
      );
      assert.equal(conn.isConnected, false);
      assert.equal(conn.isVerified, false);
      assert.equal(tlsServer.requests.length, 0);
    } finally {
      await conn.close();
    }
  });

  test('caCerts with the test CA verifies the server, sends SNI and makes isVerified true', async () => {
    const resolver = new LoopbackResolver();
    const sniBefore = tlsServer.sniNames.length;
    const conn = new HTTPSConnection('localhost', { port: tlsServer.port, caCerts: pki.caCert, resolver });
    try {
      await conn.request('GET', '/echo/tls');
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      assert.equal(echoOf(resp.data).url, '/echo/tls');
      assert.equal(conn.isVerified, true);
      assert.equal(resp.connection, conn);
      assert.deepEqual(tlsServer.sniNames.slice(sniBefore), ['localhost']);
      assert.equal(echoOf(resp.data).headers.host, `localhost:${tlsServer.port}`);
      assert.deepEqual(resolver.calls, ['localhost']);
    } finally {
      await conn.close();
    }
  });

  test("certReqs: 'CERT_NONE' connects to the unverified server", async () => {
    const conn = new HTTPSConnection('localhost', {
      port: tlsServer.port,
      certReqs: 'CERT_NONE',
      resolver: new LoopbackResolver(),
    });
    try {
      await conn.request('GET', '/echo/insecure');
      const resp = await conn.getResponse();
      assert.equal(resp.status, 200);
      assert.equal(conn.isVerified, false);
    } finally {
      await conn.close();
    }
  });

  test("certReqs: 'CERT_NONE' emits InsecureRequestWarning once per hostname", async () => {
    const seen: Error[] = [];
    const onWarning = (w: Error) => {
      if (w.name === 'InsecureRequestWarning') seen.push(w);
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 2; i++) {
        const conn = new HTTPSConnection('warn-once.test', {
          port: tlsServer.port,
          certReqs: 'CERT_NONE',
          resolver: new LoopbackResolver(),
        });
        try {
          await conn.request('GET', '/echo');
          assert.equal((await conn.getResponse()).status, 200);
        } finally {
          await conn.close();
        }
      }
      // 'warning' events are delivered on a later tick.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 10));
      const mine = seen.filter((w) => w.message.includes('warn-once.test'));
      assert.equal(mine.length, 1, `warnings: ${seen.map((w) => w.message).join(' | ')}`);
    } finally {
      process.off('warning', onWarning);
    }
  });

  test('connectionInfo of an HTTPS connection carries TLS version, cipher, address and certificate', async () => {
    const conn = new HTTPSConnection('localhost', {
      port: tlsServer.port,
      caCerts: pki.caCert,
      resolver: new LoopbackResolver(),
    });
    try {
      await conn.request('GET', '/echo');
      const resp = await conn.getResponse();
      await resp.read();
      const info = conn.connectionInfo;
      assert.ok(info !== null);
      assert.ok(
        info.tlsVersion === 'TLSv1.2' || info.tlsVersion === 'TLSv1.3',
        `tlsVersion ${info.tlsVersion}`,
      );
      assert.equal(typeof info.cipher, 'string');
      assert.ok((info.cipher ?? '').length > 0);
      assert.deepEqual(info.destinationAddress, [HOST, tlsServer.port]);
      assert.ok(Buffer.isBuffer(info.certificateDer), 'certificateDer should be a Buffer');
      const expected = new X509Certificate(pki.serverCertPem).raw;
      assert.ok(info.certificateDer.equals(expected), 'certificateDer should be the server certificate');
      assert.equal(info.isEncrypted(), true);
      assert.ok(info.tlsHandshakeLatency > 0);
      assert.equal(resp.connectionInfo?.isEncrypted(), true);
    } finally {
      await conn.close();
    }
  });
});
