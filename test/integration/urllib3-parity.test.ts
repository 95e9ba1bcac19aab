// Issue 15 (urllib3 parity), against real loopback servers: how errors of a
// broken body reach the caller, what a response says about its connection,
// what a pool keeps of what it was given, absolute-form targets, socket
// options and set_tunnel without a proxy. Each test is named after its item.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BaseResolver,
  HTTPConnection,
  HTTPConnectionPool,
  HTTPSConnectionPool,
  IncompleteRead,
  InvalidChunkLength,
  MaxRetryError,
  ProtocolError,
  type ResolvedAddress,
  Retry,
  socketConstants,
} from '../../src/index.js';
import { httpResponse, waitUntil } from '../support/servers.js';
import { rejectionOf } from '../support/rejection.js';
import { scriptedFixtures } from '../support/scripted-fixtures.js';

const HOST = '127.0.0.1';

const { scripted, poolFor, pools } = scriptedFixtures();

describe('issue 15 item 3', () => {
  test('issue 15 item 3: a broken body read through a response is a ProtocolError caused by IncompleteRead or InvalidChunkLength, and Retry counts it as a read error', async () => {
    const badChunk = await scripted((socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n',
      );
    });
    const err = await rejectionOf(poolFor(badChunk).request('GET', '/bad-chunk'));
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err.name}: ${err.message}`);
    assert.equal(err instanceof InvalidChunkLength, false);
    assert.ok(err.cause instanceof InvalidChunkLength, `cause is ${String(err.cause)}`);
    assert.match(err.message, /Connection broken/);

    const truncated = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
      socket.end();
    });
    const pool = poolFor(truncated, { retries: new Retry({ total: 5, read: 1, other: 0 }) });
    const retried = await rejectionOf(pool.request('GET', '/truncated'));
    // read: 1 allows one retry, so two attempts reach the server before MaxRetryError.
    assert.ok(retried instanceof MaxRetryError, `got ${retried.name}: ${retried.message}`);
    assert.ok(retried.reason instanceof ProtocolError);
    assert.ok(retried.reason.cause instanceof IncompleteRead);
    assert.equal(truncated.requests.length, 2);
  });
});

describe('issue 15 item 10', () => {
  test('issue 15 item 10: response.connection stays set while a preloadContent: false body is unread, even when all of it has arrived, and is null after release', async () => {
    const raw = await scripted((socket) => {
      socket.write(httpResponse(200, 'small'));
    });
    const pool = poolFor(raw);
    const r = await pool.urlopen('GET', '/small', { preloadContent: false });
    // Every byte of the body is here (the pool already has the connection back).
    assert.equal(await waitUntil(() => pool.numIdle === 1, 1000), true);
    assert.ok(r.connection instanceof HTTPConnection, 'response.connection while the body is unread');
    assert.equal(r.connection.isVerified, false);
    assert.equal((await r.read()).toString(), 'small');
    assert.equal(r.connection, null, 'null once the body was read');

    const r2 = await pool.urlopen('GET', '/small', { preloadContent: false });
    assert.equal(await waitUntil(() => pool.numIdle === 1, 1000), true);
    assert.ok(r2.connection instanceof HTTPConnection);
    r2.releaseConn();
    assert.equal(r2.connection, null, 'null after releaseConn()');

    const preloaded = await pool.urlopen('GET', '/small');
    assert.equal(preloaded.connection, null, 'a preloaded response has released its connection');
  });
});

/** Sends every name to one loopback port, recording the name and port it was asked for. */
class OnePortResolver extends BaseResolver {
  asked: string[] = [];
  constructor(private readonly port: number) {
    super();
  }
  async getaddrinfo(host: string, port: number): Promise<ResolvedAddress[]> {
    this.asked.push(`${host} ${port}`);
    return [{ address: HOST, family: 4, port: this.port }];
  }
}

describe('issue 15 item 11', () => {
  test('issue 15 item 11: pools keep what they were given: port null when none was given, a zone id with a bare %', async () => {
    const raw = await scripted((socket) => {
      socket.write(httpResponse(200, 'ok'));
    });
    const resolver = new OnePortResolver(raw.port);
    const pool = new HTTPConnectionPool('Example.COM', { resolver, retries: false });
    pools.push(pool);
    assert.equal(pool.port, null);
    assert.equal(pool.host, 'example.com');
    assert.equal(String(pool), "HTTPConnectionPool(host='example.com', port=None)");
    assert.equal(new HTTPSConnectionPool('example.com').port, null);
    assert.equal(pool.isSameHost('http://example.com:80/x'), true);
    assert.equal(pool.isSameHost('http://example.com:8080/x'), false);
    // The scheme's default port is what connections use.
    const r = await pool.request('GET', '/x');
    assert.equal(r.data.toString(), 'ok');
    assert.deepEqual(resolver.asked, ['example.com 80']);
    assert.equal(raw.requests.at(-1)!.headers.host, 'example.com');
    assert.equal(r.url, 'http://example.com/x');

    assert.equal(new HTTPConnectionPool('[fe80::1%25eth0]', { port: 8080 }).host, 'fe80::1%eth0');
    assert.equal(new HTTPConnectionPool('fe80::1%eth0', { port: 8080 }).host, 'fe80::1%eth0');
    assert.equal(new HTTPConnectionPool('[FE80::1]').host, 'fe80::1');
  });
});

describe('issue 15 item 14', () => {
  test("issue 15 item 14: socketOptions takes urllib3's [level, option, value] triples, [] turns the TCP_NODELAY default off, and what Node cannot set is a TypeError", async () => {
    const { SOL_SOCKET, IPPROTO_TCP, TCP_NODELAY, SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPCNT } = socketConstants;
    assert.deepEqual(HTTPConnection.defaultSocketOptions, [[IPPROTO_TCP, TCP_NODELAY, 1]]);
    assert.deepEqual(new HTTPConnection(HOST, { socketOptions: [] }).socketOptions, {
      noDelay: false,
      keepAlive: false,
    });
    const raw = await scripted((socket) => {
      socket.write(httpResponse(200, 'ok'));
    });
    const pool = poolFor(raw, {
      socketOptions: [
        ...HTTPConnection.defaultSocketOptions,
        [SOL_SOCKET, SO_KEEPALIVE, 1],
        [IPPROTO_TCP, TCP_KEEPIDLE, 30],
      ],
    });
    assert.equal((await pool.request('GET', '/')).data.toString(), 'ok');
    const conn = new HTTPConnection(HOST, {
      socketOptions: [
        ...HTTPConnection.defaultSocketOptions,
        [SOL_SOCKET, SO_KEEPALIVE, 1],
        [IPPROTO_TCP, TCP_KEEPIDLE, 30],
      ],
    });
    assert.deepEqual(conn.socketOptions, { noDelay: true, keepAlive: true, keepAliveInitialDelay: 30000 });

    const unsupported = /cannot be set from Node\.js; supported: .*TCP_NODELAY.*SO_KEEPALIVE.*TCP_KEEPIDLE/;
    assert.throws(
      () => new HTTPConnection(HOST, { socketOptions: [[SOL_SOCKET, 2, 1]] }),
      (err: unknown) => {
        assert.ok(err instanceof TypeError);
        assert.match(err.message, unsupported);
        return true;
      },
    );
    assert.throws(
      () =>
        new HTTPConnectionPool(HOST, {
          socketOptions: [
            [SOL_SOCKET, SO_KEEPALIVE, 1],
            [IPPROTO_TCP, TCP_KEEPCNT, 5],
          ],
        }),
      unsupported,
    );
    assert.throws(
      () => new HTTPConnection(HOST, { socketOptions: [[IPPROTO_TCP, TCP_KEEPIDLE, 30]] }),
      /needs \[SOL_SOCKET, SO_KEEPALIVE, 1\]/,
    );
    assert.throws(
      () => new HTTPConnection(HOST, { socketOptions: { reuseAddress: true } as never }),
      /unknown socketOptions key "reuseAddress"/,
    );
  });
});
