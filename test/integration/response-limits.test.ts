// The limits a long-running client puts on a hostile server's answers
// (docs/api.md section 4, "Response limits"), against raw node:net servers and
// node:http2: an unsolicited 101, a head with too many fields, a stream of
// interim responses (more than allowed, or paced to outlive the read timeout),
// and bodies past maxResponseSize, preloaded or streamed, plain or a
// decompression bomb.

import assert from 'node:assert/strict';
import http2 from 'node:http2';
import type net from 'node:net';
import { after, describe, test } from 'node:test';
import {
  HTTPConnectionPool,
  HttpVersion,
  PoolManager,
  ProtocolError,
  ReadTimeoutError,
  Timeout,
} from '../../src/index.js';
import { bombs } from '../support/bombs.js';
import { httpResponse, type RawHandler, type RawServer, rawServer } from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';
const servers: Array<{ close(): Promise<void> }> = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** A pool speaking HTTP/2 in cleartext (prior knowledge) to a node:http2 server running `handler`. */
async function h2cPool(
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
  options: { maxHeaderFields?: number } = {},
): Promise<HTTPConnectionPool> {
  const srv = http2.createServer(handler);
  await new Promise<void>((r) => srv.listen(0, HOST, r));
  servers.push({ close: () => new Promise<void>((r) => srv.close(() => r())) });
  const port = (srv.address() as net.AddressInfo).port;
  return new HTTPConnectionPool(HOST, {
    port,
    retries: false,
    ...options,
    disabledSvn: new Set([HttpVersion.h11]),
  });
}

async function scripted(handler: RawHandler): Promise<RawServer> {
  const s = await rawServer(handler);
  servers.push(s);
  return s;
}

const SWITCH =
  'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: evil\r\n\r\nwhatever follows';

describe('an unsolicited 101 Switching Protocols', () => {
  test('fails the request with a ProtocolError and closes the socket, every time', async () => {
    const s = await scripted((socket) => {
      socket.write(SWITCH);
    });
    const before = countOpenSockets();
    const http = new PoolManager({ retries: false });
    for (let i = 0; i < 20; i++) {
      const err = await rejectionOf(http.request('GET', `${s.origin}/${i}`));
      assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
      assert.match(err.message, /asked for no upgrade/);
    }
    await http.close();
    const left = await waitForSocketCount((n) => n <= before);
    assert.ok(left <= before, `${left - before} sockets left open after close()`);
  });

  test('a request that asked for the upgrade still gets the socket', async () => {
    const s = await scripted((socket) => {
      socket.write(SWITCH);
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false });
    const r = await pool.request('GET', '/', { headers: { Connection: 'upgrade', Upgrade: 'evil' } });
    assert.equal(r.status, 101);
    assert.ok(r.extension !== null);
    await r.extension!.close();
    await pool.close();
  });
});

describe('header field count', () => {
  const fields = (n: number) => {
    const h: Record<string, string> = {};
    for (let i = 0; i < n; i++) h[`X-F${i}`] = 'v';
    return h;
  };

  test('more than 100 header fields is a ProtocolError by default (HTTP/1.1)', async () => {
    const s = await scripted((socket) => {
      socket.end(httpResponse(200, 'ok', fields(101)));
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /more than 100 fields \(maxHeaderFields\)/);
    await pool.close();
  });

  test('100 fields pass, and maxHeaderFields raises the limit', async () => {
    const s = await scripted((socket, req) => {
      socket.write(httpResponse(200, 'ok', fields(req.target === '/many' ? 500 : 98)));
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false });
    assert.equal((await pool.request('GET', '/')).status, 200);
    await pool.close();
    const wide = new HTTPConnectionPool(HOST, { port: s.port, retries: false, maxHeaderFields: 1000 });
    assert.equal((await wide.request('GET', '/many')).status, 200);
    await wide.close();
  });

  test('more than maxHeaderFields fields is a ProtocolError on HTTP/2 too', async () => {
    await using pool = await h2cPool((_req, res) => {
      for (let i = 0; i < 150; i++) res.setHeader(`x-f${i}`, 'v');
      res.end('ok');
    });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /more than 100 fields/);
  });

  test('a trailer section over maxHeaderFields is a ProtocolError on HTTP/2', async () => {
    await using pool = await h2cPool(
      (_req, res) => {
        res.addTrailers(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-t${i}`, 'v'])));
        res.end('ok');
      },
      { maxHeaderFields: 5 },
    );
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /trailer section has more than 5 fields \(maxHeaderFields\)/);
  });

  test('a bad maxHeaderFields is a RangeError at the call', async () => {
    const pool = new HTTPConnectionPool(HOST, { port: 1, maxHeaderFields: 0, retries: false });
    await assert.rejects(pool.request('GET', '/'), RangeError);
    await pool.close();
  });
});

describe('interim responses', () => {
  test('more than maxInterimResponses 1xx responses is a ProtocolError', async () => {
    const s = await scripted((socket) => {
      socket.write('HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n'.repeat(10_000));
      socket.end(httpResponse(200, 'late'));
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false });
    let seen = 0;
    const err = await rejectionOf(pool.request('GET', '/', { onEarlyResponse: () => seen++ }));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /more than 50 interim \(1xx\) responses/);
    assert.equal(seen, 50);
    await pool.close();
  });

  test('a 1xx every 100 ms does not keep a 300 ms read timeout alive', { timeout: 5000 }, async () => {
    const s = await scripted((socket) => {
      const t = setInterval(() => {
        if (socket.destroyed) clearInterval(t);
        else socket.write('HTTP/1.1 102 Processing\r\n\r\n');
      }, 100);
      socket.on('close', () => clearInterval(t));
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false });
    const started = Date.now();
    const err = await rejectionOf(pool.request('GET', '/', { timeout: new Timeout({ read: 300 }) }));
    assert.ok(err instanceof ReadTimeoutError, `${err.name}: ${err.message}`);
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    await pool.close();
  });
});

describe('maxResponseSize', () => {
  test('a preloaded body over the limit is a ProtocolError, not a buffer without end', async () => {
    const s = await scripted((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n');
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const head = Buffer.from(`${chunk.length.toString(16)}\r\n`);
      const pump = () => {
        while (!socket.destroyed && socket.write(Buffer.concat([head, chunk, Buffer.from('\r\n')]))) {}
      };
      socket.on('drain', pump);
      socket.on('error', () => {});
      pump();
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false, maxResponseSize: 1024 * 1024 });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /larger than maxResponseSize \(1048576 bytes\)/);
    assert.equal((err as ProtocolError).permanent, true);
    await pool.close();
  });

  for (const coding of ['gzip', 'br', 'zstd', 'gzip, br']) {
    test(`a ${coding} bomb preloaded under maxResponseSize fails at the limit`, async () => {
      const bomb = (await bombs(64 * 1024 * 1024))[coding]!;
      const s = await scripted((socket) => {
        socket.write(httpResponse(200, bomb, { 'Content-Encoding': coding }));
      });
      const pool = new HTTPConnectionPool(HOST, {
        port: s.port,
        retries: false,
        maxResponseSize: 1024 * 1024,
      });
      const err = await rejectionOf(pool.request('GET', '/'));
      assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
      assert.match(err.message, /larger than maxResponseSize \(1048576 bytes decoded\)/);
      await pool.close();
    });
  }

  test('a streamed body fails the read that goes past the limit; a body within it is whole', async () => {
    const s = await scripted((socket, req) => {
      socket.write(httpResponse(200, Buffer.alloc(req.target === '/big' ? 300_000 : 100_000, 'y')));
    });
    const pool = new HTTPConnectionPool(HOST, { port: s.port, retries: false, maxResponseSize: 200_000 });
    assert.equal((await pool.request('GET', '/small')).data.length, 100_000);
    const r = await pool.request('GET', '/big', { preloadContent: false });
    const err = await rejectionOf(
      (async () => {
        for await (const _ of r.stream(65536)) {
          // reading
        }
      })(),
    );
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    await pool.close();
  });
});
