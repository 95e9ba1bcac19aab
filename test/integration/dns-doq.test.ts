// DNS over QUIC (RFC 9250) against an in-process DoQ server built on the
// quiche binding's server side (test/support/doq-server.ts) with the test CA:
// each query on its own stream with message ID 0, many queries on one kept
// alive connection, a new connection after the server closed the old one or
// it idled out, timeouts, certificate failures, hostile answers refused, the
// resolver as a URL on a PoolManager, a process that exits with an idle
// resolver, and a clear error where the QUIC binding cannot load.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { QuicResolver } from '../../src/dns/doq.js';
import { NameResolutionError, PoolManager, SSLError } from '../../src/index.js';
import { loadQuicTransport, setQuicUnavailableForTesting } from '../../src/net/quic/quic-loader.js';
import { rejectionOf } from '../support/rejection.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { runTsxScript } from '../support/child-script.js';
import { buildResponse, T } from '../support/dns-wire.js';
import { type DoqServerOptions, startDoqServer, type TestDoqServer } from '../support/doq-server.js';

const TABLE: Record<string, string[]> = {
  'www.test': ['192.0.2.10', '2001:db8::10'],
  'v4only.test': ['192.0.2.4'],
  'app.test': ['127.0.0.1'],
};
for (let i = 0; i < 300; i++) TABLE[`n${i}.test`] = [`198.51.100.${i % 250}`];

const DOQ_PROTOCOL_ERROR = 0x2;
const DOQ_EXCESSIVE_LOAD = 0x4;

let pki: TlsTestPki;
const cleanups: Array<() => Promise<void>> = [];
before(async () => {
  pki = await makeTlsTestPki();
});
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

const { reason: unavailable } = await loadQuicTransport();
const skip = unavailable === null ? false : `the QUIC binding does not load here: ${unavailable}`;

async function doqServer(options: Partial<DoqServerOptions> = {}): Promise<TestDoqServer> {
  const s = await startDoqServer({
    certPem: pki.server.certPem,
    keyPem: pki.server.keyPem,
    table: TABLE,
    ...options,
  });
  cleanups.push(() => s.close());
  return s;
}

function resolver(s: TestDoqServer, extra: Partial<ConstructorParameters<typeof QuicResolver>[0]> = {}) {
  const r = new QuicResolver({
    server: 'localhost',
    port: s.port,
    tls: { caCertData: pki.caCertPem },
    ...extra,
  });
  cleanups.push(() => r.close());
  return r;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('doq://', { skip }, () => {
  test('resolves A and AAAA over verified QUIC, each query on its own stream with message ID 0', async () => {
    const s = await doqServer();
    const r = resolver(s);
    const got = await r.getaddrinfo('www.test', 443);
    assert.deepEqual(
      got.map((a) => [a.address, a.family, a.port]),
      [
        ['2001:db8::10', 6, 443],
        ['192.0.2.10', 4, 443],
      ],
    );
    assert.deepEqual(s.alpns, ['doq']);
    assert.equal(s.queries.length, 2);
    assert.deepEqual(s.queries.map((q) => q.type).sort(), [T.A, T.AAAA]);
    for (const q of s.queries) {
      assert.equal(q.id, 0, 'RFC 9250: the message ID is 0');
      assert.ok(q.wellFramed, 'a 2-byte length that matches, then FIN');
      assert.equal(q.raw.length % 128, 0, 'padded to 128 bytes');
    }
    assert.notEqual(s.queries[0]!.streamId, s.queries[1]!.streamId);
    assert.ok(
      s.queries.every((q) => q.streamId % 4 === 0),
      'client-initiated bidirectional streams',
    );
    const v4 = await r.getaddrinfo('v4only.test', 80, { family: 4 });
    assert.deepEqual(v4, [{ address: '192.0.2.4', family: 4, port: 80 }]);
  });

  test('an IP server is verified against the IP addresses of its certificate', async () => {
    const s = await doqServer();
    const r = resolver(s, { server: '127.0.0.1' });
    assert.equal((await r.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
  });

  test('a name that does not exist is a final NameResolutionError', async () => {
    const s = await doqServer();
    const r = resolver(s);
    await assert.rejects(r.getaddrinfo('missing.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /NXDOMAIN from doq:\/\/localhost:\d+/);
      return true;
    });
  });

  test('hundreds of concurrent queries share one connection, beyond the server stream limit', async () => {
    const s = await doqServer({ maxStreams: 40 });
    const r = resolver(s, { cache: false });
    const names = Array.from({ length: 300 }, (_, i) => `n${i}.test`);
    const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80, { family: 4 })));
    assert.deepEqual(
      got.map((g) => g[0]!.address),
      names.map((_, i) => `198.51.100.${i % 250}`),
    );
    assert.equal(s.connections, 1, 'one QUIC connection');
    assert.equal(r.connectionsOpened, 1);
    assert.equal(new Set(s.queries.map((q) => q.streamId)).size, 300, 'a stream per query');
  });

  test('after the server closes the connection, the next query opens a new one', async () => {
    const s = await doqServer();
    const r = resolver(s, { cache: false });
    await r.getaddrinfo('v4only.test', 80, { family: 4 });
    s.closeConnections();
    await sleep(100);
    assert.equal((await r.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
    assert.equal(s.connections, 2);
    assert.equal(r.connectionsOpened, 2);
  });

  test('a query caught by the server closing a reused connection is sent again on a new one', async () => {
    let closeNext = false;
    const s = await doqServer({
      handler: (q) => {
        if (closeNext && q.connection === 0) {
          closeNext = false;
          return { kind: 'close', code: 0 };
        }
        return { kind: 'answer' };
      },
    });
    const r = resolver(s, { cache: false });
    await r.getaddrinfo('v4only.test', 80, { family: 4 });
    closeNext = true;
    assert.equal((await r.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
    assert.equal(s.connections, 2);
  });

  test('a connection that idled out is replaced by a new one', async () => {
    const s = await doqServer({ idleTimeoutMs: 300 });
    const r = resolver(s, { cache: false });
    await r.getaddrinfo('v4only.test', 80, { family: 4 });
    await sleep(800);
    assert.equal((await r.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
    assert.equal(s.connections, 2);
    assert.equal(r.connectionsOpened, 2);
  });

  test('a server that never answers is a timeout after the resolver timeout', async () => {
    const s = await doqServer({
      handler: (q) => (q.name === 'silent.test' ? { kind: 'silence' } : { kind: 'answer' }),
    });
    const r = resolver(s, { timeout: 300 });
    const t0 = performance.now();
    await assert.rejects(r.getaddrinfo('silent.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /doq:\/\/localhost:\d+ did not answer within 300 ms/);
      return true;
    });
    assert.ok(performance.now() - t0 < 2000);
    // The connection survives the cancelled queries.
    assert.equal((await r.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
    assert.equal(s.connections, 1);
  });

  test('a query waiting for the server to allow a stream takes the room a timed-out query gives up', async () => {
    const s = await doqServer({
      maxStreams: 1,
      handler: (q) => (q.name === 'silent.test' ? { kind: 'silence' } : { kind: 'answer' }),
    });
    const r = resolver(s, { timeout: 400, cache: false });
    const held = rejectionOf(r.getaddrinfo('silent.test', 80, { family: 4 }));
    await sleep(100);
    // The one stream is taken: this query waits for room until the silent one is cancelled.
    const t0 = performance.now();
    const waiting = r.getaddrinfo('v4only.test', 80, { family: 4 });
    const err = await held;
    assert.ok(err instanceof NameResolutionError, String(err));
    assert.match(err.message, /did not answer within 400 ms/);
    assert.equal((await waiting)[0]!.address, '192.0.2.4');
    assert.ok(performance.now() - t0 >= 250, 'it waited for the room');
    assert.deepEqual(
      s.queries.map((q) => q.name),
      ['silent.test', 'v4only.test'],
    );
    assert.equal(s.connections, 1);
  });

  test('a query that timed out cancels its stream (STOP_SENDING)', async () => {
    const s = await doqServer({ handler: () => ({ kind: 'answer', delayMs: 600 }) });
    const r = resolver(s, { timeout: 200 });
    await assert.rejects(r.getaddrinfo('v4only.test', 80, { family: 4 }), /did not answer within 200 ms/);
    await sleep(700);
    assert.equal(s.stoppedAnswers, 1, 'the late answer met STOP_SENDING');
    assert.equal(s.connections, 1, 'the connection survives');
  });

  test('a certificate from an unknown CA is a NameResolutionError caused by an SSLError', async () => {
    const s = await doqServer();
    const r = resolver(s, { tls: { caCertData: pki.otherCa.certPem } });
    await assert.rejects(r.getaddrinfo('www.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.ok(err.cause instanceof SSLError, String(err.cause));
      assert.match(err.message, /certificate presented by the server was refused/);
      return true;
    });
  });

  test('a certificate for another name is refused, checked natively or after the handshake', async () => {
    const s = await doqServer({ certPem: pki.wrongHost.certPem, keyPem: pki.wrongHost.keyPem });
    const byName = resolver(s);
    await assert.rejects(byName.getaddrinfo('www.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.ok(err.cause instanceof SSLError, String(err.cause));
      assert.match(err.message, /certificate presented by the server was refused/);
      return true;
    });
    const byIp = resolver(s, { server: '127.0.0.1' });
    await assert.rejects(byIp.getaddrinfo('www.test', 80), (err: Error) => {
      assert.ok(err.cause instanceof SSLError, String(err.cause));
      assert.match(err.message, /IP address mismatch, certificate is not valid for '127\.0\.0\.1'/);
      return true;
    });
    const other = await doqServer();
    const otherName = resolver(other, {
      server: '127.0.0.1',
      tls: { caCertData: pki.caCertPem, assertHostname: 'wrong.example' },
    });
    await assert.rejects(otherName.getaddrinfo('www.test', 80), /Hostname mismatch/);
    const unverified = resolver(s, { tls: { certReqs: 'CERT_NONE' } });
    assert.equal((await unverified.getaddrinfo('v4only.test', 80, { family: 4 }))[0]!.address, '192.0.2.4');
  });

  test('an answer with a non-zero message ID is a protocol error that closes the connection', async () => {
    const s = await doqServer({ handler: () => ({ kind: 'nonzero-id', id: 4660 }) });
    const r = resolver(s);
    await assert.rejects(r.getaddrinfo('v4only.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /DOQ_PROTOCOL_ERROR.*message ID 4660, not 0/);
      return true;
    });
    await sleep(50);
    assert.deepEqual(s.clientCloseCodes, [DOQ_PROTOCOL_ERROR]);
  });

  test('a frame whose length prefix is longer than the stream is refused', async () => {
    const s = await doqServer({ handler: () => ({ kind: 'short-frame' }) });
    const r = resolver(s);
    await assert.rejects(
      r.getaddrinfo('v4only.test', 80, { family: 4 }),
      /DOQ_PROTOCOL_ERROR.*the stream ended after \d+ of the \d+ bytes/,
    );
  });

  test('two messages on one stream are a protocol error; a query sharing the connection is sent again on a new one', async () => {
    const s = await doqServer({
      handler: (q) => {
        if (q.name === 'bad.test') {
          const one = buildResponse({ id: 0, question: q });
          const framed = Buffer.alloc(2 + one.length);
          framed.writeUInt16BE(one.length, 0);
          one.copy(framed, 2);
          return { kind: 'raw', bytes: Buffer.concat([framed, framed]) };
        }
        // The first connection's other query waits, so the protocol error catches it in flight.
        return q.connection === 0 && q.name === 'n2.test' ? { kind: 'silence' } : { kind: 'answer' };
      },
    });
    const r = resolver(s, { cache: false });
    await r.getaddrinfo('n1.test', 80, { family: 4 });
    const other = r.getaddrinfo('n2.test', 80, { family: 4 });
    await sleep(50);
    await assert.rejects(r.getaddrinfo('bad.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /DOQ_PROTOCOL_ERROR.*the stream carries \d+ bytes after the answer/);
      return true;
    });
    assert.equal((await other)[0]!.address, '198.51.100.2');
    assert.equal(s.connections, 2);
    await sleep(50);
    assert.deepEqual(s.clientCloseCodes, [DOQ_PROTOCOL_ERROR]);
  });

  test('an answer that cannot be decoded fails its query, saying so', async () => {
    const s = await doqServer({
      handler: () => ({ kind: 'raw', bytes: Buffer.from([0, 4, 0, 0, 0x81, 0x80]) }),
    });
    const r = resolver(s);
    await assert.rejects(
      r.getaddrinfo('v4only.test', 80, { family: 4 }),
      /doq:\/\/localhost:\d+: the answer cannot be decoded: /,
    );
  });

  test('an answer to another question is refused, not waited on', async () => {
    const s = await doqServer({
      handler: () => ({
        kind: 'answer',
        message: buildResponse({
          id: 0,
          question: { name: 'evil.test', type: T.A },
          answers: [{ name: 'evil.test', type: T.A, a: '203.0.113.66' }],
        }),
      }),
    });
    const r = resolver(s, { timeout: 5000 });
    const t0 = performance.now();
    await assert.rejects(
      r.getaddrinfo('v4only.test', 80, { family: 4 }),
      /the answer does not match the query: its question \(evil\.test type 1\) is not the query's \(v4only\.test type 1\)/,
    );
    assert.ok(performance.now() - t0 < 2000, 'at once, not after the timeout');
  });

  test('a reset stream fails the query with the DoQ error code', async () => {
    const s = await doqServer({ handler: () => ({ kind: 'reset', code: DOQ_EXCESSIVE_LOAD }) });
    const r = resolver(s);
    await assert.rejects(
      r.getaddrinfo('v4only.test', 80, { family: 4 }),
      /the server reset the query's stream \(DOQ_EXCESSIVE_LOAD\)/,
    );
  });

  test('a connection closed by the server under a first query fails it with the code', async () => {
    const s = await doqServer({ handler: () => ({ kind: 'close', code: DOQ_EXCESSIVE_LOAD }) });
    const r = resolver(s);
    await assert.rejects(
      r.getaddrinfo('v4only.test', 80, { family: 4 }),
      /the server closed the QUIC connection \(DOQ_EXCESSIVE_LOAD: scripted close\)/,
    );
  });

  test('source_address sets where the queries come from', async () => {
    const s = await doqServer();
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = probe.address().port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const r = resolver(s, { sourceAddress: ['127.0.0.1', port] });
    await r.getaddrinfo('v4only.test', 80, { family: 4 });
    assert.equal(s.queries[0]!.from, `127.0.0.1:${port}`);
  });

  test('a source_address that cannot be bound is a NameResolutionError saying so', async () => {
    const s = await doqServer();
    const r = resolver(s, { sourceAddress: ['192.0.2.1', 0] });
    await assert.rejects(r.getaddrinfo('v4only.test', 80, { family: 4 }), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /EADDRNOTAVAIL/);
      return true;
    });
  });

  test('close() ends the connection with DOQ_NO_ERROR, and the resolver is then unavailable', async () => {
    const s = await doqServer();
    const r = resolver(s);
    await r.getaddrinfo('v4only.test', 80, { family: 4 });
    assert.equal(r.isAvailable(), true);
    await r.close();
    assert.equal(r.isAvailable(), false);
    await sleep(100);
    assert.deepEqual(s.clientCloseCodes, [0]);
    await assert.rejects(r.getaddrinfo('www.test', 80), /is closed/);
  });

  test('works as a resolver URL on a PoolManager, with the CA given in the URL', async () => {
    const s = await doqServer();
    const web = http.createServer((req, res) => res.end(`hello ${req.headers.host}`));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => web.close(() => resolve())));
    const webPort = (web.address() as AddressInfo).port;
    const pm = new PoolManager({
      resolver: `doq://127.0.0.1:${s.port}?ca_certs=${encodeURIComponent(pki.caCert)}`,
    });
    cleanups.push(() => pm.close());
    const r = await pm.request('GET', `http://app.test:${webPort}/`);
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), `hello app.test:${webPort}`);
    assert.equal(r.connectionInfo?.destinationAddress?.[0], '127.0.0.1');
    assert.ok(s.queries.some((q) => q.name === 'app.test'));
  });

  test("takes the manager's CA options when the URL sets none", async () => {
    const s = await doqServer();
    const web = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => web.close(() => resolve())));
    const webPort = (web.address() as AddressInfo).port;
    const pm = new PoolManager({ caCerts: pki.caCert, resolver: `doq://localhost:${s.port}` });
    cleanups.push(() => pm.close());
    assert.equal((await pm.request('GET', `http://app.test:${webPort}/`)).status, 200);
  });

  test('a process with an idle doq resolver exits when its work is done', async () => {
    const s = await doqServer();
    const script = `import { QuicResolver } from ${JSON.stringify(path.resolve('src/dns/doq.ts'))};
const r = new QuicResolver({ server: 'localhost', port: ${s.port}, tls: { caCerts: ${JSON.stringify(pki.caCert)} } });
const got = await r.getaddrinfo('v4only.test', 80, { family: 4 });
console.log(got[0].address);`;
    const run = await runTsxScript(['--input-type=module', '-e', script]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), '192.0.2.4');
    assert.ok(
      run.lingered < 1000,
      `lingered ${run.lingered.toFixed(0)} ms after its answer (idle timeout: 30 s)`,
    );
  });
});

describe('doq:// where the QUIC binding cannot load', () => {
  test('a query fails with a NameResolutionError naming the reason, and the resolver reports itself unavailable', async () => {
    setQuicUnavailableForTesting('the optional dependency @matrixai/quic is not installed');
    try {
      const r = new QuicResolver({ server: '127.0.0.1', port: 853 });
      assert.equal(r.isAvailable(), true, 'not known before the first use');
      await assert.rejects(r.getaddrinfo('www.test', 80), (err: Error) => {
        assert.ok(err instanceof NameResolutionError);
        assert.match(
          err.message,
          /doq:\/\/127\.0\.0\.1:853: DNS over QUIC is unavailable: the optional dependency @matrixai\/quic is not installed/,
        );
        return true;
      });
      assert.equal(r.isAvailable(), false);
      await r.close();
    } finally {
      setQuicUnavailableForTesting(null);
    }
  });

  test('a list moves on to the next resolver', async () => {
    setQuicUnavailableForTesting('no prebuilt binary for this platform');
    try {
      const pm = new PoolManager({
        resolver: ['doq://127.0.0.1:853', 'in-memory://default?hosts=www.test:127.0.0.1'],
        retries: false,
      });
      const web = http.createServer((_req, res) => res.end('ok'));
      await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
      try {
        const port = (web.address() as AddressInfo).port;
        assert.equal((await pm.request('GET', `http://www.test:${port}/`)).status, 200);
      } finally {
        await pm.close();
        await new Promise<void>((resolve) => web.close(() => resolve()));
      }
    } finally {
      setQuicUnavailableForTesting(null);
    }
  });
});
