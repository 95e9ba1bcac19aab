// Hostile HTTP/2 servers, scripted frame by frame over raw node:net (h2c with
// prior knowledge): a connection error the client itself detects (a garbage
// frame, an oversized frame), a peer that grants zero streams, a
// GOAWAY(NO_ERROR) that the server never follows with a close, and stream
// resets under `retries: false`. Every case must settle every request, with a
// clear error, and leave no socket behind (docs/api.md sections 6 and 9).

import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  HTTPConnectionPool,
  HttpVersion,
  MaxRetryError,
  PoolManager,
  ProtocolError,
  Retry,
} from '../../src/index.js';
import {
  data,
  FrameType,
  frame,
  goaway,
  type RawH2Server,
  type RawH2ServerOptions,
  rawH2Server,
  responseHeaders,
  rstStream,
} from '../support/h2-raw.js';
import { countOpenSockets } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

const H2C = { disabledSvn: new Set([HttpVersion.h11]) };

const servers: RawH2Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function server(options: RawH2ServerOptions): Promise<RawH2Server> {
  const s = await rawH2Server(options);
  servers.push(s);
  return s;
}

/** Resolves with the promise's outcome, or 'hung' after `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => {
    timer = setTimeout(() => resolve('hung'), ms);
  });
  try {
    return await Promise.race([p, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The client's sockets still open: every socket in the process less the
 * server's own ends (which these servers never close: they allow half-open
 * connections, so a client that only half-closes leaks its socket).
 */
function clientSockets(s: RawH2Server): number {
  return countOpenSockets() - s.open;
}

async function waitFor(pred: () => boolean, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

describe('an HTTP/2 connection error the client detects', () => {
  for (const [what, bytes] of [
    ['a DATA frame on stream 0 (garbage)', () => frame(FrameType.DATA, 0, 0, Buffer.from('garbage'))],
    ['a frame larger than SETTINGS_MAX_FRAME_SIZE', () => frame(FrameType.DATA, 0, 1, Buffer.alloc(20_000))],
  ] as const) {
    test(`${what} settles every pending request with a ProtocolError and closes the socket`, async () => {
      let requests = 0;
      const s = await server({
        onRequest: (conn) => {
          // Once three streams are open, break the connection.
          if (++requests === 3) conn.socket.write(bytes());
        },
      });
      const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, retries: false, ...H2C });
      const all = Promise.allSettled([
        pool.request('GET', '/a'),
        pool.request('GET', '/b'),
        pool.request('GET', '/c'),
      ]);
      const results = await within(all, 3000);
      assert.notEqual(results, 'hung', 'the requests never settled');
      for (const r of results as PromiseSettledResult<unknown>[]) {
        assert.equal(r.status, 'rejected');
        const err = (r as PromiseRejectedResult).reason as Error;
        assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
        assert.match(err.message, /HTTP\/2 connection (error|failed)/);
      }
      assert.ok(await waitFor(() => clientSockets(s) === 0), `${clientSockets(s)} client sockets still open`);
      await pool.close();
    });
  }
});

describe('a peer that grants zero streams', () => {
  test('SETTINGS_MAX_CONCURRENT_STREAMS = 0 fails at once with a clear ProtocolError, on one connection', async () => {
    const s = await server({ settings: [[0x3, 0]] });
    const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, retries: false, ...H2C });
    const started = Date.now();
    const err = await within(rejectionOf(pool.request('GET', '/')), 3000);
    assert.notEqual(err, 'hung', 'the request never settled');
    const e = err as Error;
    assert.ok(e instanceof ProtocolError, `${e.name}: ${e.message}`);
    assert.match(e.message, /MAX_CONCURRENT_STREAMS/);
    assert.ok(Date.now() - started < 1000, `took ${Date.now() - started} ms`);
    assert.equal(s.connections.length, 1);
    assert.ok(await waitFor(() => clientSockets(s) === 0), `${clientSockets(s)} client sockets still open`);
    await pool.close();
  });
});

describe('GOAWAY(NO_ERROR) from a server that never closes', () => {
  test('the socket is closed once the streams it let finish are done', async () => {
    const s = await server({
      onRequest: (conn, id) => {
        conn.socket.write(Buffer.concat([goaway(id, 0), responseHeaders(id, 200), data(id, 'bye', true)]));
      },
    });
    const http = new PoolManager({ retries: false, ...H2C });
    for (let i = 0; i < 5; i++) {
      const r = await http.request('GET', `${s.origin}/${i}`);
      assert.equal(r.status, 200);
      assert.equal(r.data.toString(), 'bye');
    }
    assert.ok(
      await waitFor(() => clientSockets(s) === 0),
      `${clientSockets(s)} of 5 client sockets still open`,
    );
    await http.close();
  });

  test('after close(), releasing a response whose stream was still open destroys the socket', async () => {
    const s = await server({
      onRequest: (conn, id) => {
        conn.socket.write(Buffer.concat([goaway(id, 0), responseHeaders(id, 200), data(id, 'partial')]));
      },
    });
    const http = new PoolManager({ retries: false, ...H2C });
    const r = await http.request('GET', `${s.origin}/`, { preloadContent: false });
    assert.equal(r.status, 200);
    await http.close();
    r.releaseConn();
    assert.ok(
      await waitFor(() => clientSockets(s) === 0),
      `${clientSockets(s)} client sockets still open after close()`,
    );
  });
});

describe('stream resets and retries', () => {
  test('a GET reset with INTERNAL_ERROR under retries: false is sent once', async () => {
    let streams = 0;
    const s = await server({
      onRequest: (conn, id) => {
        // The first request is answered, so the connection is a reused one for the second.
        if (++streams === 1)
          conn.socket.write(Buffer.concat([responseHeaders(id, 200), data(id, 'ok', true)]));
        else conn.socket.write(rstStream(id, 2));
      },
    });
    const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, retries: false, ...H2C });
    const first = await pool.request('GET', '/first');
    assert.equal(first.status, 200);
    for (const path of ['/second', '/third']) {
      const err = await rejectionOf(pool.request('GET', path));
      assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
      assert.match(err.message, /INTERNAL_ERROR/);
    }
    assert.equal(streams, 3, 'a reset request was re-sent');
    assert.equal(s.connections.length, 1);
    await pool.close();
  });

  test('with Retry({ total: 2 }) a reset GET is re-sent twice, then MaxRetryError', async () => {
    let streams = 0;
    const s = await server({
      onRequest: (conn, id) => {
        streams++;
        conn.socket.write(rstStream(id, 2));
      },
    });
    const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, ...H2C });
    const err = await rejectionOf(
      pool.request('GET', '/', { retries: new Retry({ total: 2, backoffFactor: 0 }) }),
    );
    assert.ok(err instanceof MaxRetryError, `${err.name}: ${err.message}`);
    assert.equal(streams, 3);
    await pool.close();
  });
});

describe('messages that say what happened', () => {
  test("the client's own flood detection is not reported as a reset by the server", async () => {
    const s = await server({
      onRequest: (conn) => {
        // 20,000 PINGs to a client whose answers are never read: nghttp2's flood guard trips.
        conn.socket.pause();
        const ping = frame(FrameType.PING, 0, 0, Buffer.alloc(8));
        conn.socket.write(Buffer.concat(Array.from({ length: 20_000 }, () => ping)));
      },
    });
    const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, retries: false, ...H2C });
    const err = await within(rejectionOf(pool.request('GET', '/')), 5000);
    assert.notEqual(err, 'hung');
    const e = err as Error;
    assert.ok(e instanceof ProtocolError, `${e.name}: ${e.message}`);
    assert.doesNotMatch(e.message, /reset by the server/);
    assert.match(e.message, /closed by the client: Flooding was detected/);
    await pool.close();
  });

  test('a body longer than its Content-Length is not reported as 0 bytes read', async () => {
    const s = await server({
      onRequest: (conn, id) => {
        conn.socket.write(
          Buffer.concat([responseHeaders(id, 200, [['content-length', '5']]), data(id, '0123456789', true)]),
        );
      },
    });
    const pool = new HTTPConnectionPool('127.0.0.1', { port: s.port, retries: false, ...H2C });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /did not match its Content-Length \(5\)/);
    assert.match(err.message, /fewer or more than it announced/);
    await pool.close();
  });
});
