// HTTP/2 failures and the retry rules (docs/api.md sections 6 and 9): a request
// the server never processed (REFUSED_STREAM, or above the last stream of a
// GOAWAY) is re-sent on another connection without spending a retry,
// whatever its method; any other stream reset or a dead connection is a
// ProtocolError that Retry treats as a read error.

import assert from 'node:assert/strict';
import http2, { type ServerHttp2Stream } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPSConnectionPool, MaxRetryError, ProtocolError, Retry } from '../../src/index.js';
import { type H2TestServer, rejectionOf, startH2Server, tlsOptions } from './h2-fixtures.js';

const { NGHTTP2_NO_ERROR, NGHTTP2_REFUSED_STREAM, NGHTTP2_ENHANCE_YOUR_CALM } = http2.constants;

const servers: H2TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function server(...args: Parameters<typeof startH2Server>): Promise<H2TestServer> {
  const s = await startH2Server(...args);
  servers.push(s);
  return s;
}

/**
 * On its first connection, the server acknowledges the first `keep` streams
 * with a GOAWAY (code `code`) once `keep + 1` have arrived, answers those
 * after a delay and ignores the rest; later connections answer at once.
 * Responses say which connection and stream answered.
 */
function goawayServer(keep: number, code: number) {
  let first: http2.Http2Session | null = null;
  const arrived: ServerHttp2Stream[] = [];
  let lastAcked = 0;
  return {
    processed: [] as string[],
    handler(this: { processed: string[] }, stream: ServerHttp2Stream) {
      const session = stream.session!;
      first ??= session;
      if (session !== first) {
        stream.respond({ ':status': 200 });
        stream.end(`second connection, stream ${stream.id}`);
        return true;
      }
      arrived.push(stream);
      if (arrived.length === keep + 1) {
        lastAcked = arrived[keep - 1]!.id!;
        session.goaway(code, lastAcked);
        for (const st of arrived.slice(0, keep)) {
          setTimeout(() => {
            if (st.destroyed) return;
            this.processed.push(String(st.id));
            st.respond({ ':status': 200 });
            st.end(`first connection, stream ${st.id}`);
          }, 100);
        }
      }
      return true;
    },
  };
}

describe('GOAWAY', () => {
  test('mid-flight: processed streams are answered, the others re-sent on a new connection', async () => {
    const g = goawayServer(2, NGHTTP2_NO_ERROR);
    const s = await server({ handler: (st) => g.handler(st) });
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), retries: 0 });
    const rs = await Promise.all([
      pool.request('GET', '/a'),
      pool.request('GET', '/b'),
      pool.request('POST', '/c', { body: 'not idempotent' }),
      pool.request('GET', '/d'),
      pool.request('DELETE', '/e'),
    ]);
    const bodies = rs.map((r) => r.data.toString());
    assert.deepEqual(bodies.slice(0, 2), ['first connection, stream 1', 'first connection, stream 3']);
    for (const b of bodies.slice(2)) assert.match(b, /^second connection/);
    assert.ok(rs.every((r) => r.status === 200 && r.retries!.history.length === 0));
    assert.equal(s.connections, 2);
    // The server saw the POST body twice at most once processed: on the second connection only.
    assert.deepEqual(g.processed, ['1', '3']);
  });

  test('with an error code: processed streams fail (Retry rules), unprocessed ones are re-sent', async () => {
    const g = goawayServer(2, NGHTTP2_ENHANCE_YOUR_CALM);
    const s = await server({ handler: (st) => g.handler(st) });
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    const results = await Promise.allSettled([
      pool.request('GET', '/a'),
      pool.request('GET', '/b'),
      pool.request('GET', '/c'),
      pool.request('GET', '/d'),
    ]);
    const [a, b, c, d] = results;
    for (const r of [a, b]) {
      assert.equal(r!.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as Error;
      assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    }
    for (const r of [c, d]) {
      assert.equal(r!.status, 'fulfilled');
      assert.match(
        (r as PromiseFulfilledResult<{ data: Buffer }>).value.data.toString(),
        /^second connection/,
      );
    }
  });
});

describe('RST_STREAM', () => {
  let s: H2TestServer;
  before(async () => {
    s = await server();
  });

  test('REFUSED_STREAM is re-sent without spending a retry, whatever the method', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), retries: 0 });
    const r = await pool.request('GET', `/rst-once/get/${NGHTTP2_REFUSED_STREAM}`);
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), `answered after reset ${NGHTTP2_REFUSED_STREAM}`);
    assert.equal(r.retries!.history.length, 0);
    assert.equal(s.hits.get('rst-once/get'), 2);
    const post = await pool.request('POST', `/rst-once/post/${NGHTTP2_REFUSED_STREAM}`, { body: 'payload' });
    assert.equal(post.status, 200);
    assert.equal(s.hits.get('rst-once/post'), 2);
  });

  test('a server that always refuses: after a few re-sends the ProtocolError goes to Retry', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    const before = s.streams;
    const err = await rejectionOf(pool.request('GET', `/rst/${NGHTTP2_REFUSED_STREAM}`));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /REFUSED_STREAM/);
    assert.equal(s.streams - before, 4, 'the first attempt and three re-sends');
  });

  test('another reset is a ProtocolError naming the code', async () => {
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    const err = await rejectionOf(pool.request('GET', '/rst/2'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /INTERNAL_ERROR/);
  });

  test('...which Retry re-sends for an idempotent method, spending a retry', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const r = await pool.request('GET', '/rst-once/retry-get/2', {
      retries: new Retry({ total: 2, backoffFactor: 0 }),
    });
    assert.equal(r.status, 200);
    assert.equal(r.retries!.history.length, 1);
    assert.ok(r.retries!.history[0]!.error instanceof ProtocolError);
  });

  test('...and not for POST (a read error)', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const err = await rejectionOf(
      pool.request('POST', '/rst-once/retry-post/2', {
        body: 'x',
        retries: new Retry({ total: 2, backoffFactor: 0 }),
      }),
    );
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.equal(s.hits.get('rst-once/retry-post'), 1);
  });

  test('when retries run out on resets, MaxRetryError', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s) });
    const err = await rejectionOf(
      pool.request('GET', '/rst/2', { retries: new Retry({ total: 1, backoffFactor: 0 }) }),
    );
    assert.ok(err instanceof MaxRetryError, `${err.name}: ${err.message}`);
    assert.ok((err as MaxRetryError).reason instanceof ProtocolError);
  });
});

describe('connection failures', () => {
  test('the server dropping the connection mid-response is a ProtocolError for every stream on it', async () => {
    const s = await server({
      handler: (stream) => {
        stream.respond({ ':status': 200 });
        stream.write('partial');
        setTimeout(() => stream.session?.destroy(), 50);
        return true;
      },
    });
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      ...tlsOptions(s),
      retries: false,
    });
    const results = await Promise.allSettled([
      pool.request('GET', '/x'),
      pool.request('GET', '/y'),
      pool.request('GET', '/z', { preloadContent: false }).then((r) => r.read()),
    ]);
    for (const r of results) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as Error;
      assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    }
    await sleep(20);
    assert.equal(pool.numOpen, 0);
  });
});
