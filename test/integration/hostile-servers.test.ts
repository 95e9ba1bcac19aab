// Hostile and broken peers, scripted byte by byte with raw node:net servers:
// truncated bodies, garbage, stalls, conflicting framing, oversized headers,
// tiny writes, informational responses, and a storm of failures through one
// PoolManager that must leave no socket and no unhandled rejection behind.

import assert from 'node:assert/strict';
import type net from 'node:net';
import { before, describe, test } from 'node:test';
import {
  HTTPError,
  type HTTPResponse,
  IncompleteRead,
  InvalidChunkLength,
  MaxRetryError,
  PoolManager,
  ProtocolError,
  ReadTimeoutError,
  Timeout,
} from '../../src/index.js';
import { getFreePort } from '../support/free-port.js';
import {
  httpResponse,
  type RawServer,
  startHttpServer,
  type TestHttpServer,
  waitUntil,
  writeSlowly,
} from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';
import { scriptedFixtures } from '../support/scripted-fixtures.js';

const HOST = '127.0.0.1';

const { scripted, poolFor, servers, pools } = scriptedFixtures();

function truncatedBody(socket: net.Socket): void {
  socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nContent-Type: text/plain\r\n\r\n');
  socket.write('0123456789');
  socket.end();
}

function assertIncompleteRead(err: Error): void {
  assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
  const cause = err instanceof IncompleteRead ? err : err.cause;
  assert.ok(cause instanceof IncompleteRead, `expected IncompleteRead as the cause, got ${String(cause)}`);
  assert.equal(cause.partial, 10);
  assert.equal(cause.expected, 90);
}

describe('truncated and malformed responses', () => {
  test('a body cut short (10 of 100 bytes) is a ProtocolError caused by IncompleteRead', async () => {
    const raw = await scripted((socket) => truncatedBody(socket));
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/truncated'));
    assertIncompleteRead(err);
  });

  test('a body cut short fails the streaming reader with ProtocolError caused by IncompleteRead', async () => {
    const raw = await scripted((socket) => truncatedBody(socket));
    const pool = poolFor(raw);
    const resp = await pool.urlopen('GET', '/truncated', { preloadContent: false });
    assert.equal(resp.status, 200);
    const got: Buffer[] = [];
    const err = await rejectionOf(
      (async () => {
        for await (const chunk of resp.stream(4)) got.push(chunk);
      })(),
    );
    assertIncompleteRead(err);
    assert.ok(Buffer.concat(got).length <= 10);
    assert.equal(await waitUntil(() => raw.openSockets === 0, 1000), true);
  });

  test('enforceContentLength: false returns the bytes that did arrive', async () => {
    const raw = await scripted((socket) => truncatedBody(socket));
    const pool = poolFor(raw);
    const resp = await pool.request('GET', '/truncated', { enforceContentLength: false });
    assert.equal(resp.status, 200);
    assert.equal(resp.data.toString(), '0123456789');
  });

  test('garbage instead of a status line is a ProtocolError', async () => {
    const raw = await scripted((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.6\r\nthis is not http at all\r\n\r\n');
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/garbage'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
    assert.equal(await waitUntil(() => raw.openSockets === 0, 1000), true, 'the connection must be closed');
  });

  test('binary garbage with NUL bytes is a ProtocolError', async () => {
    const raw = await scripted((socket) => {
      socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a]));
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/binary'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
  });

  test('two different Content-Length headers are a ProtocolError', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!');
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/two-lengths'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
  });

  test('a Content-Length list with different values is a ProtocolError', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!');
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/length-list'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
  });

  test('a chunked body with a bad chunk size is InvalidChunkLength', async () => {
    const raw = await scripted((socket) => {
      socket.write(
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n',
      );
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/bad-chunk'));
    assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err.name}: ${err.message}`);
    const chunkErr = err instanceof InvalidChunkLength ? err : err.cause;
    assert.ok(
      chunkErr instanceof InvalidChunkLength,
      `expected InvalidChunkLength (itself or as the cause), got ${err.name}: ${err.message}`,
    );
  });

  test('a header section over 64 KiB is a ProtocolError, not a wait for more', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\n');
      // 70 KiB of header and no end of the head: only the size limit can end this.
      socket.write(`X-Huge: ${'a'.repeat(70 * 1024)}\r\n`);
    });
    const pool = poolFor(raw, { timeout: 2000 });
    const started = performance.now();
    const err = await rejectionOf(pool.request('GET', '/huge-head'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
    assert.ok(performance.now() - started < 1500, 'the limit should trip as soon as it is crossed');
  });

  test('maxHeaderSize lowers the header limit', async () => {
    const raw = await scripted((socket) => {
      socket.write(httpResponse(200, 'ok', { 'X-Big': 'b'.repeat(2048) }));
    });
    const small = poolFor(raw, { maxHeaderSize: 1024 });
    const err = await rejectionOf(small.request('GET', '/big-head'));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
    const dflt = poolFor(raw);
    const ok = await dflt.request('GET', '/big-head');
    assert.equal(ok.headers.get('x-big')?.length, 2048);
  });

  test('a folded header line (obs-fold) is refused with a ProtocolError and the pool keeps serving', async () => {
    // The project's contract (issue [1]) rejects obs-fold rather than unfolding it:
    // a folded line is a classic request-smuggling and header-injection vector.
    let calls = 0;
    const raw = await scripted((socket) => {
      calls++;
      if (calls === 1)
        socket.write('HTTP/1.1 200 OK\r\nX-Folded: first\r\n \tsecond\r\nContent-Length: 2\r\n\r\nok');
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/folded', { retries: false }));
    assert.ok(err instanceof ProtocolError, `expected ProtocolError, got ${err.name}: ${err.message}`);
    assert.match(err.message, /fold/i);
    const ok = await pool.request('GET', '/after');
    assert.equal(ok.data.toString(), 'ok');
  });

  test('a server that answers 413 while the upload is still going gives that 413 as the response', async () => {
    let uploaded = 0;
    const raw = await scripted(() => {}, {
      onConnection: (socket) => {
        let answered = false;
        socket.on('data', (chunk: Buffer) => {
          uploaded += chunk.length;
          if (answered) return;
          answered = true;
          socket.write(httpResponse(413, 'too big', { Connection: 'close' }, 'Payload Too Large'));
        });
        return true;
      },
    });
    const pool = poolFor(raw, { timeout: 2000 });
    const resp = await pool.request('POST', '/upload', { body: Buffer.alloc(4 * 1024 * 1024, 0x61) });
    assert.equal(resp.status, 413);
    assert.equal(resp.data.toString(), 'too big');
    assert.ok(uploaded > 0);
  });

  test('a response written one byte at a time is parsed the same', async () => {
    const head =
      'HTTP/1.1 201 Created\r\nContent-Type: text/plain; charset=utf-8\r\nX-Multi: a\r\nX-Multi: b\r\n' +
      'Content-Length: 11\r\n\r\n';
    const raw = await scripted(async (socket) => {
      socket.setNoDelay(true);
      await writeSlowly(socket, head, { chunkSize: 1, delayMs: 1 });
      await writeSlowly(socket, 'hello world', { chunkSize: 1, delayMs: 1 });
    });
    const pool = poolFor(raw, { timeout: 2000 });
    const resp = await pool.request('GET', '/tiny-writes');
    assert.equal(resp.status, 201);
    assert.equal(resp.reason, 'Created');
    assert.equal(resp.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.deepEqual(resp.headers.getList('x-multi'), ['a', 'b']);
    assert.equal(resp.text(), 'hello world');
  });
});

describe('stalling servers and read timeouts', () => {
  test('a server that stalls after the headers ends in ReadTimeoutError carrying pool and url', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n');
    });
    const pool = poolFor(raw, { timeout: new Timeout({ connect: 1000, read: 100 }) });
    const started = performance.now();
    const err = await rejectionOf(pool.request('GET', '/stall-after-head'));
    const elapsed = performance.now() - started;
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${err.name}: ${err.message}`);
    assert.ok(elapsed >= 80 && elapsed < 1000, `elapsed ${elapsed.toFixed(0)} ms for a 100 ms read timeout`);
    assert.equal(err.pool, pool);
    assert.match(err.url, /\/stall-after-head$/);
  });

  test('a streamed body that stalls fails the reader with ReadTimeoutError', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234');
    });
    const pool = poolFor(raw, { timeout: new Timeout({ connect: 1000, read: 100 }) });
    const resp = await pool.urlopen('GET', '/stall-mid-body', { preloadContent: false });
    const err = await rejectionOf(resp.read());
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${err.name}: ${err.message}`);
    assert.equal(
      await waitUntil(() => raw.openSockets === 0, 1000),
      true,
      'the timed-out connection is closed',
    );
  });

  test('the read timeout is per gap: a byte every 50 ms under a 200 ms read timeout succeeds', async () => {
    const body = 'abcdefgh';
    const raw = await scripted(async (socket) => {
      socket.setNoDelay(true);
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`);
      await writeSlowly(socket, body, { chunkSize: 1, delayMs: 50 });
    });
    const pool = poolFor(raw, { timeout: new Timeout({ connect: 1000, read: 200 }) });
    const started = performance.now();
    const resp = await pool.request('GET', '/trickle');
    const elapsed = performance.now() - started;
    assert.equal(resp.data.toString(), body);
    assert.ok(elapsed > 250, `the whole body took ${elapsed.toFixed(0)} ms, longer than one read timeout`);
  });

  test('a server that never answers ends in ReadTimeoutError', async () => {
    const raw = await scripted(() => {});
    const pool = poolFor(raw, { timeout: 100 });
    const err = await rejectionOf(pool.request('GET', '/never'));
    assert.ok(err instanceof ReadTimeoutError, `expected ReadTimeoutError, got ${err.name}: ${err.message}`);
    assert.equal(raw.requests.length, 1);
  });

  test('with retries a silent server ends in MaxRetryError whose reason is the ReadTimeoutError', async () => {
    const raw = await scripted(() => {});
    const pool = poolFor(raw, { timeout: 100, retries: 1 });
    const err = await rejectionOf(pool.request('GET', '/never-retried'));
    assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}: ${err.message}`);
    assert.ok(err.reason instanceof ReadTimeoutError, `reason: ${String(err.reason)}`);
    assert.equal(raw.requests.length, 2, 'one attempt and one retry');
  });
});

describe('informational responses', () => {
  test('100 Continue before the 200 gives a 200 and reports the 100 to onEarlyResponse', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      socket.write(httpResponse(200, 'final answer'));
    });
    const pool = poolFor(raw);
    const early: HTTPResponse[] = [];
    const resp = await pool.request('POST', '/continue', {
      body: 'payload',
      headers: { Expect: '100-continue' },
      onEarlyResponse: (r) => early.push(r),
    });
    assert.equal(resp.status, 200);
    assert.equal(resp.data.toString(), 'final answer');
    assert.equal(early.length, 1);
    assert.equal(early[0]!.status, 100);
  });

  test('103 Early Hints headers reach onEarlyResponse and the final response is separate', async () => {
    const raw = await scripted((socket) => {
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n');
      socket.write(httpResponse(200, 'page', { 'X-Final': 'yes' }));
    });
    const pool = poolFor(raw);
    const early: HTTPResponse[] = [];
    const resp = await pool.request('GET', '/hints', { onEarlyResponse: (r) => early.push(r) });
    assert.equal(resp.status, 200);
    assert.equal(resp.headers.get('x-final'), 'yes');
    assert.equal(resp.headers.get('link'), undefined, 'early headers do not leak into the final response');
    assert.equal(early.length, 1);
    assert.equal(early[0]!.status, 103);
    assert.equal(early[0]!.headers.get('link'), '</style.css>; rel=preload');
  });
});

describe('a storm of failures', () => {
  let refusedPort: number;
  let reset: RawServer;
  let garbage: RawServer;
  let silent: RawServer;
  let truncated: RawServer;
  let good: TestHttpServer;

  before(async () => {
    refusedPort = await getFreePort(HOST);
    reset = await scripted(() => {}, {
      onConnection: (socket) => {
        socket.resetAndDestroy();
        return true;
      },
    });
    garbage = await scripted((socket) => {
      socket.write('\x00\x01garbage that is not HTTP\r\n\r\n');
    });
    silent = await scripted(() => {});
    truncated = await scripted((socket) => truncatedBody(socket));
    good = await startHttpServer();
    servers.push(good);
  });

  test('200 failing requests all reject with HTTPError, leak nothing, and the manager still works', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    const pm = new PoolManager({ timeout: new Timeout({ connect: 1000, read: 100 }), retries: 1 });
    pools.push(pm);
    try {
      const baseline = countOpenSockets();
      const targets = [
        `http://${HOST}:${refusedPort}/refused`,
        `${reset.origin}/reset`,
        `${garbage.origin}/garbage`,
        `${silent.origin}/silent`,
        `${truncated.origin}/truncated`,
      ];
      const outcomes: Array<{ ok: boolean; error: unknown; target: string }> = [];
      const WAVE = 50;
      for (let start = 0; start < 200; start += WAVE) {
        const wave = Array.from({ length: WAVE }, (_, j) => {
          const target = targets[(start + j) % targets.length]!;
          return pm.request('GET', target).then(
            () => ({ ok: true, error: null, target }),
            (error: unknown) => ({ ok: false, error, target }),
          );
        });
        outcomes.push(...(await Promise.all(wave)));
      }
      assert.equal(outcomes.length, 200);
      for (const o of outcomes) {
        assert.equal(o.ok, false, `${o.target} should have failed`);
        assert.ok(
          o.error instanceof HTTPError,
          `${o.target} rejected with a non-HTTPError: ${String(o.error)}`,
        );
      }
      // Let any stray rejection surface.
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, [], 'no unhandled rejection');
      const after = await waitForSocketCount((n) => n <= baseline, 2000);
      assert.ok(after <= baseline, `open sockets: ${after}, baseline ${baseline}`);

      const r = await pm.request('GET', `${good.origin}/echo/after-storm`);
      assert.equal(r.status, 200);
      assert.match(r.data.toString(), /after-storm/);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await pm.close();
    }
  });
});
