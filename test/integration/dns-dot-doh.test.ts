// DNS over TLS and DNS over HTTPS against in-process servers with the test
// CA: verified TLS, one kept-alive connection carrying pipelined queries,
// answers matched by ID, a connection opened for one query that outlives it
// for the queries that joined it, a bad certificate and a server gone; DoH in wire
// format by GET and POST and in the JSON form, through an injected HTTP/2
// client, with HTTP errors and mismatched answers refused.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPSResolver } from '../../src/dns/doh.js';
import { TLSResolver } from '../../src/dns/dot.js';
import { decodeMessage } from '../../src/dns/message.js';
import { NameResolutionError, SSLError } from '../../src/errors.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { http2DohClient } from '../support/doh-client.js';
import { buildResponse, parseQuery, T } from '../support/dns-wire.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-servers.js';

let pki: TlsTestPki;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  pki = await makeTlsTestPki();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

function answerFor(q: { id: number; name: string; type: number }): Buffer {
  if (q.name.startsWith('nx')) return buildResponse({ id: q.id, question: q, rcode: 3 });
  const n = Number(/(\d+)/.exec(q.name)?.[1] ?? 1) % 250;
  return q.type === T.A
    ? buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: `192.0.2.${n}` }] })
    : buildResponse({ id: q.id, question: q });
}

async function dotServer(handler = answerFor, delayMs = 0): Promise<TestDnsServer> {
  const s = await startDnsServer((q) => ({ messages: [handler(q)], delayMs }), {
    tls: { cert: pki.server.certPem, key: pki.server.keyPem },
  });
  cleanups.push(() => s.close());
  return s;
}

/**
 * A TCP relay in front of the DoT server on `upstream`: its sockets toward
 * the client (to reset one), each piped upstream after `delayMs(i)` (to hold
 * a handshake back).
 */
async function relay(
  upstream: number,
  delayMs: (i: number) => number = () => 0,
): Promise<{ port: number; clients: net.Socket[] }> {
  const clients: net.Socket[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const delay = delayMs(clients.length);
    clients.push(client);
    sockets.add(client);
    client.on('error', () => {});
    setTimeout(() => {
      if (client.destroyed) return;
      const up = net.connect(upstream, '127.0.0.1');
      sockets.add(up);
      up.on('error', () => client.destroy());
      client.on('close', () => up.destroy());
      client.pipe(up).pipe(client);
    }, delay);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    for (const sock of sockets) sock.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, clients };
}

describe('dot://', () => {
  test('verifies the server certificate and pipelines queries on one connection', async () => {
    const s = await dotServer(answerFor, 50);
    const r = new TLSResolver({ server: 'localhost', port: s.tlsPort!, tls: { caCertData: pki.caCertPem } });
    const names = Array.from({ length: 20 }, (_, i) => `h${i + 1}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 443, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map((_, i) => `192.0.2.${i + 1}`),
    );
    assert.equal(s.connections, 1, 'one TLS connection for all 20 queries');
    assert.equal(r.connectionsOpened, 1);
    assert.ok(
      s.queries.every((q) => q.raw.length % 128 === 0),
      'queries are padded to 128 bytes',
    );
    await r.getaddrinfo('later.test', 443, { family: 4 });
    assert.equal(s.connections, 1, 'the connection is kept alive for later queries');
    await r.close();
  });

  test('answers arriving out of order are matched by ID, and a foreign ID is dropped', async () => {
    const s = await startDnsServer(
      (q) => ({
        delayMs: q.name === 'slow.test' ? 150 : 0,
        messages: [
          buildResponse({
            id: (q.id + 7) & 0xffff,
            question: q,
            answers: [{ name: q.name, type: T.A, a: '203.0.113.66' }],
          }),
          answerFor(q),
        ],
      }),
      { tls: { cert: pki.server.certPem, key: pki.server.keyPem } },
    );
    cleanups.push(() => s.close());
    const r = new TLSResolver({ server: '127.0.0.1', port: s.tlsPort!, tls: { caCertData: pki.caCertPem } });
    const [slow, fast] = await Promise.all([
      r.getaddrinfo('slow.test', 80, { family: 4 }),
      r.getaddrinfo('fast7.test', 80, { family: 4 }),
    ]);
    assert.equal(slow[0]!.address, '192.0.2.1');
    assert.equal(fast[0]!.address, '192.0.2.7');
    await r.close();
  });

  test('a certificate from an unknown CA is a NameResolutionError caused by an SSLError', async () => {
    const s = await dotServer();
    const r = new TLSResolver({
      server: 'localhost',
      port: s.tlsPort!,
      tls: { caCertData: pki.otherCa.certPem },
    });
    await assert.rejects(r.getaddrinfo('a.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.ok(err.cause instanceof SSLError, String(err.cause));
      assert.match(err.message, /certificate verify failed/);
      return true;
    });
    await r.close();
  });

  test('TLS versions that cannot meet are a NameResolutionError naming the resolver once', async () => {
    const s = await dotServer();
    const r = new TLSResolver({
      server: '127.0.0.1',
      port: s.tlsPort!,
      tls: { caCertData: pki.caCertPem, sslMinimumVersion: 'TLSv1.3', sslMaximumVersion: 'TLSv1.2' },
    });
    await assert.rejects(r.getaddrinfo('a.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /no TLS version in common/);
      assert.equal(err.message.split(r.describe()).length - 1, 1, err.message);
      return true;
    });
    await r.close();
  });

  test('a certificate for another name is refused', async () => {
    const s = await dotServer();
    const r = new TLSResolver({
      server: '127.0.0.1',
      port: s.tlsPort!,
      tls: { caCertData: pki.caCertPem, serverHostname: 'wrong.example' },
    });
    await assert.rejects(r.getaddrinfo('a.test', 80), /hostname mismatch/);
    await r.close();
  });

  test('a connection the server closed is replaced by a new one for the next query', async () => {
    const s = await dotServer();
    const r = new TLSResolver({
      server: 'localhost',
      port: s.tlsPort!,
      tls: { caCertData: pki.caCertPem },
      cache: false,
    });
    await r.getaddrinfo('one1.test', 80, { family: 4 });
    s.dropConnections();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal((await r.getaddrinfo('two2.test', 80, { family: 4 }))[0]!.address, '192.0.2.2');
    assert.equal(s.connections, 2);
    await r.close();
  });

  test('queries that drew the same ID while the connection was opening are both answered', async () => {
    // IDs are drawn unique among the queries on the connection, but before it
    // is open there is none to check against: a cold burst of a few hundred
    // draws a clash about every other time.
    class SameIds extends TLSResolver {
      protected override newQueryId(): number {
        return 7;
      }
    }
    const s = await dotServer(answerFor, 20);
    const r = new SameIds({ server: 'localhost', port: s.tlsPort!, tls: { caCertData: pki.caCertPem } });
    const got = await Promise.all(
      ['c1.test', 'c2.test', 'c3.test'].map((n) => r.getaddrinfo(n, 80, { family: 4 })),
    );
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
    );
    assert.equal(new Set(s.queries.map((q) => q.id)).size, 3, 'each went out under an ID of its own');
    await r.close();
  });

  test('a query caught by a reset of the kept connection is sent again on a new one', async () => {
    // A server may drop an idle connection just as a query goes out; the
    // query then meets a TCP reset (ECONNRESET) rather than a clean close.
    let seen = 0;
    const s = await startDnsServer((q) => (q.name === 'caught.test' && seen++ === 0 ? null : answerFor(q)), {
      tls: { cert: pki.server.certPem, key: pki.server.keyPem },
    });
    cleanups.push(() => s.close());
    const { port, clients } = await relay(s.tlsPort!);
    const r = new TLSResolver({
      server: 'localhost',
      port,
      tls: { caCertData: pki.caCertPem },
      timeout: 2_000,
      cache: false,
    });
    cleanups.push(() => r.close());
    await r.getaddrinfo('warm1.test', 80, { family: 4 });
    const caught = r.getaddrinfo('caught.test', 80, { family: 4 });
    await sleep(100);
    clients[0]!.resetAndDestroy();
    assert.deepEqual(await caught, [{ address: '192.0.2.1', family: 4, port: 80 }]);
    assert.equal(clients.length, 2);
  });

  test('a connection opened for a query near its deadline goes on for the queries that joined it', async () => {
    // slow.test is never answered: it waits on the kept connection until the
    // server drops it, then is sent again on a new one, whose handshake a
    // relay holds back; n2.test joins that new connection meanwhile.
    const s = await startDnsServer((q) => (q.name === 'slow.test' ? null : answerFor(q)), {
      tls: { cert: pki.server.certPem, key: pki.server.keyPem },
    });
    cleanups.push(() => s.close());
    const { port, clients } = await relay(s.tlsPort!, (i) => (i === 0 ? 0 : 1_100));
    const r = new TLSResolver({
      server: 'localhost',
      port,
      tls: { caCertData: pki.caCertPem },
      timeout: 1_500,
      cache: false,
    });
    cleanups.push(() => r.close());
    await r.getaddrinfo('warm1.test', 80, { family: 4 });
    const slow = r.getaddrinfo('slow.test', 80, { family: 4 }).catch((e: unknown) => e);
    await sleep(700);
    s.dropConnections(); // slow.test: sent again, on a connection that takes 1.1 s to open
    await sleep(100);
    const joined = r.getaddrinfo('n2.test', 80, { family: 4 });
    const err = await slow;
    assert.ok(err instanceof NameResolutionError);
    assert.match(String((err as Error).message), /did not answer within 1500 ms/);
    // Before, the connection was opened under slow.test's cancel and died with it.
    assert.equal((await joined)[0]!.address, '192.0.2.2');
    assert.equal(clients.length, 2);
  });

  test('close() while the server’s name is looked up fails the query and opens no connection', async () => {
    const s = await dotServer();
    const r = new TLSResolver({ server: 'localhost', port: s.tlsPort!, tls: { caCertData: pki.caCertPem } });
    const pending = r.getaddrinfo('one1.test', 80, { family: 4 }).then(
      () => null,
      (err: unknown) => err,
    );
    await r.close();
    const err = await pending;
    assert.ok(err instanceof NameResolutionError);
    assert.match(err.message, /dot:\/\/localhost:\d+: the resolver was closed while the query was in flight/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(s.connections, 0, 'no connection made for a closed resolver');
    assert.equal(r.connectionsOpened, 0);
  });

  test('a TLS server that never answers is a timeout after the resolver timeout', async () => {
    const s = await startDnsServer(() => null, { tls: { cert: pki.server.certPem, key: pki.server.keyPem } });
    cleanups.push(() => s.close());
    const r = new TLSResolver({
      server: 'localhost',
      port: s.tlsPort!,
      timeout: 300,
      tls: { caCertData: pki.caCertPem },
    });
    await assert.rejects(
      r.getaddrinfo('a.test', 80, { family: 4 }),
      /dot:\/\/localhost:\d+ did not answer within 300 ms/,
    );
    await r.close();
  });

  test('a port that does not speak TLS is an SSLError saying so', async () => {
    const open = new Set<net.Socket>();
    const plain = net.createServer((sock) => {
      open.add(sock);
      sock.on('error', () => {});
      sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          plain.close(() => resolve());
          for (const sock of open) sock.destroy();
        }),
    );
    const port = (plain.address() as net.AddressInfo).port;
    const r = new TLSResolver({
      server: 'localhost',
      port,
      timeout: 2000,
      tls: { caCertData: pki.caCertPem },
    });
    await assert.rejects(r.getaddrinfo('a.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.ok(err.cause instanceof SSLError, String(err.cause));
      assert.match(err.message, /did not answer in TLS/);
      return true;
    });
    await r.close();
  });

  test('a server gone is a NameResolutionError', async () => {
    const s = await dotServer();
    const r = new TLSResolver({ server: 'localhost', port: s.tlsPort!, tls: { caCertData: pki.caCertPem } });
    await s.close();
    await assert.rejects(r.getaddrinfo('a.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /ECONNREFUSED/);
      return true;
    });
    await r.close();
  });
});

interface DohServer {
  origin: string;
  port: number;
  seen: Array<{
    method: string;
    path: string;
    contentType: string | undefined;
    accept: string | undefined;
    auth?: string;
  }>;
}

async function dohServer(
  respond?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, body: Buffer) => void,
): Promise<DohServer> {
  const seen: DohServer['seen'] = [];
  const server = http2.createSecureServer({ cert: pki.server.certPem, key: pki.server.keyPem });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
  });
  server.on('request', (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'],
        accept: req.headers.accept,
        auth: req.headers.authorization,
      });
      if (respond) return respond(req, res, body);
      const url = new URL(req.url, 'https://x');
      if (url.pathname === '/resolve') {
        const name = url.searchParams.get('name')!;
        const type = Number(url.searchParams.get('type'));
        res.setHeader('content-type', 'application/dns-json');
        res.end(
          JSON.stringify({
            Status: 0,
            Question: [{ name: `${name}.`, type }],
            Answer:
              type === 1
                ? [
                    { name: `${name}.`, type: 5, TTL: 60, data: 'target.test.' },
                    { name: 'target.test.', type: 1, TTL: 60, data: '192.0.2.42' },
                  ]
                : [],
          }),
        );
        return;
      }
      const query =
        req.method === 'POST' ? body : Buffer.from(url.searchParams.get('dns') ?? '', 'base64url');
      res.setHeader('content-type', 'application/dns-message');
      res.end(answerFor(parseQuery(query)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const session of sessions) session.destroy();
      }),
  );
  return { origin: `https://localhost:${port}`, port, seen };
}

describe('doh://', () => {
  test('RFC 8484 GET: base64url query with ID 0 and padding, wire-format answer', async () => {
    const s = await dohServer();
    const client = http2DohClient(pki.caCertPem);
    cleanups.push(() => client.close!());
    const r = new HTTPSResolver({ server: 'localhost', port: s.port, client });
    assert.deepEqual(await r.getaddrinfo('h5.test', 80, { family: 4 }), [
      { address: '192.0.2.5', family: 4, port: 80 },
    ]);
    assert.equal(s.seen[0]!.method, 'GET');
    assert.equal(s.seen[0]!.accept, 'application/dns-message');
    const sent = Buffer.from(new URL(s.seen[0]!.path, 'https://x').searchParams.get('dns')!, 'base64url');
    assert.equal(sent.readUInt16BE(0), 0, 'ID 0 (RFC 8484 section 4.1)');
    assert.equal(sent.length % 128, 0);
    assert.equal(decodeMessage(sent).questions[0]!.name, 'h5.test');
  });

  test('RFC 8484 POST with headers, and both families over one HTTP/2 session', async () => {
    const s = await dohServer();
    const client = http2DohClient(pki.caCertPem);
    cleanups.push(() => client.close!());
    const r = new HTTPSResolver({
      server: 'localhost',
      port: s.port,
      method: 'POST',
      headers: { authorization: 'Bearer t0k' },
      client,
    });
    await r.getaddrinfo('h9.test', 80);
    assert.deepEqual(
      s.seen.map((x) => [x.method, x.contentType, x.auth]),
      [
        ['POST', 'application/dns-message', 'Bearer t0k'],
        ['POST', 'application/dns-message', 'Bearer t0k'],
      ],
    );
    assert.equal(client.sessionsOpened, 1);
  });

  test('the JSON form follows its CNAME to the address', async () => {
    const s = await dohServer();
    const client = http2DohClient(pki.caCertPem);
    cleanups.push(() => client.close!());
    const r = new HTTPSResolver({
      server: 'localhost',
      port: s.port,
      path: '/resolve',
      rfc8484: false,
      client,
    });
    assert.deepEqual(await r.getaddrinfo('json.test', 80, { family: 4 }), [
      { address: '192.0.2.42', family: 4, port: 80 },
    ]);
    assert.equal(s.seen[0]!.accept, 'application/dns-json');
  });

  test('an HTTP error status, a wrong content type or an answer to another question is a NameResolutionError', async () => {
    const client = http2DohClient(pki.caCertPem);
    cleanups.push(() => client.close!());
    const status = await dohServer((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    await assert.rejects(
      new HTTPSResolver({ server: 'localhost', port: status.port, client }).getaddrinfo('a.test', 80),
      /answered HTTP 503/,
    );
    const html = await dohServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end('<html>');
    });
    await assert.rejects(
      new HTTPSResolver({ server: 'localhost', port: html.port, client }).getaddrinfo('a.test', 80),
      /content-type 'text\/html'/,
    );
    const other = await dohServer((_req, res) => {
      res.setHeader('content-type', 'application/dns-message');
      res.end(answerFor({ id: 0, name: 'evil.test', type: T.A }));
    });
    await assert.rejects(
      new HTTPSResolver({ server: 'localhost', port: other.port, client }).getaddrinfo('a.test', 80, {
        family: 4,
      }),
      /does not match the query/,
    );
  });

  test('a failure while following a CNAME names the host that was asked for', async () => {
    const client = http2DohClient(pki.caCertPem);
    cleanups.push(() => client.close!());
    const s = await dohServer((req, res) => {
      const q = parseQuery(
        Buffer.from(new URL(req.url, 'https://x').searchParams.get('dns') ?? '', 'base64url'),
      );
      if (q.name !== 'alias.test') {
        res.statusCode = 503;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/dns-message');
      res.end(
        buildResponse({
          id: q.id,
          question: q,
          answers: [{ name: q.name, type: T.CNAME, cname: 'target.test' }],
        }),
      );
    });
    const r = new HTTPSResolver({ server: 'localhost', port: s.port, client });
    await assert.rejects(r.getaddrinfo('alias.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(
        err.message,
        /^Failed to resolve 'alias\.test' \(doh:\/\/localhost:\d+\/dns-query answered HTTP 503\)$/,
      );
      return true;
    });
  });

  test('without a client or a registered factory, doh:// says what it needs', () => {
    assert.throws(() => new HTTPSResolver({ server: 'localhost' }), /needs an HTTP client/);
  });
});
