// `Expect: 100-continue` on HTTP/1.1: the head goes out alone, the body waits
// for 100 Continue, is dropped when a final answer comes first, and goes
// anyway after a second of silence. Servers are raw node:net sockets that
// record when each byte arrived, and node:http's own checkContinue handling.

import assert from 'node:assert/strict';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  HTTPConnectionPool,
  type HTTPResponse,
  PoolManager,
  ReadTimeoutError,
  RequestAbortedError,
} from '../../src/index.js';

const HOST = '127.0.0.1';

interface Seen {
  /** Bytes received after the request head, with the time they arrived. */
  bodyBytes: number;
  headAt: number;
  firstBodyAt: number | null;
  head: string;
}

interface ScriptedServer {
  port: number;
  connections: number;
  seen: Seen[];
  /** Connections the server still has open. */
  open(): number;
  close(): Promise<void>;
}

/**
 * A raw server that reads one request head per connection, then calls
 * `onHead(socket, seen)`; every later byte is counted as body.
 */
async function scriptedServer(onHead: (socket: net.Socket, seen: Seen) => void): Promise<ScriptedServer> {
  const sockets = new Set<net.Socket>();
  const state: ScriptedServer = {
    port: 0,
    connections: 0,
    seen: [],
    open: () => sockets.size,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    let seen: Seen | null = null;
    socket.on('data', (chunk: Buffer) => {
      if (seen !== null) {
        seen.bodyBytes += chunk.length;
        if (seen.firstBodyAt === null) seen.firstBodyAt = Date.now();
        return;
      }
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const rest = buf.length - (end + 4);
      seen = {
        head: buf.subarray(0, end).toString('latin1'),
        headAt: Date.now(),
        bodyBytes: rest,
        firstBodyAt: rest > 0 ? Date.now() : null,
      };
      state.seen.push(seen);
      onHead(socket, seen);
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  state.port = (server.address() as AddressInfo).port;
  cleanups.push(() => state.close());
  return state;
}

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of cleanups) await c();
});

function pool(
  port: number,
  options: ConstructorParameters<typeof HTTPConnectionPool>[1] = {},
): HTTPConnectionPool {
  const p = new HTTPConnectionPool(HOST, { port, retries: false, timeout: 5000, ...options });
  cleanups.push(() => p.close());
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function okResponse(body: string, extra = ''): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`;
}

/** The client closed every connection it had to `srv` (bounded wait). */
async function waitClosed(srv: ScriptedServer): Promise<void> {
  const deadline = Date.now() + 2000;
  while (srv.open() > 0) {
    if (Date.now() > deadline) throw new Error(`${srv.open()} connection(s) still open`);
    await sleep(5);
  }
}

/** Waits until `seen` has `n` body bytes (bounded). */
async function bodyOf(seen: Seen, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (seen.bodyBytes < n) {
    if (Date.now() > deadline) throw new Error(`server got ${seen.bodyBytes} of ${n} body bytes`);
    await sleep(5);
  }
}

describe('Expect: 100-continue on HTTP/1.1', () => {
  test('a small body waits for 100 Continue, then goes out', async () => {
    let bytesBefore100 = -1;
    const srv = await scriptedServer((socket, seen) => {
      setTimeout(async () => {
        bytesBefore100 = seen.bodyBytes;
        socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        await bodyOf(seen, 7);
        socket.write(okResponse(`got ${seen.bodyBytes}`));
      }, 150);
    });
    const early: number[] = [];
    const r = await pool(srv.port).request('POST', '/small', {
      body: 'payload',
      headers: { Expect: '100-continue' },
      onEarlyResponse: (e) => early.push(e.status),
    });
    assert.equal(bytesBefore100, 0, 'no body byte before the 100');
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'got 7');
    assert.deepEqual(early, [100]);
    assert.match(srv.seen[0]!.head, /\r\nexpect: 100-continue/i);
    assert.match(srv.seen[0]!.head, /\r\ncontent-length: 7/i);
  });

  test('a large and a streamed (chunked) body wait for the 100 too', async () => {
    const sizes: number[] = [];
    let before100: number[] = [];
    const srv = await scriptedServer((socket, seen) => {
      setTimeout(async () => {
        before100.push(seen.bodyBytes);
        socket.write('HTTP/1.1 100 Continue\r\n\r\n');
        const chunked = /transfer-encoding: chunked/i.test(seen.head);
        const expected = chunked ? 0 : Number(/content-length: (\d+)/i.exec(seen.head)![1]);
        if (chunked) {
          // Wait for the last chunk marker.
          const deadline = Date.now() + 5000;
          while (Date.now() < deadline && seen.bodyBytes < 300_000) await sleep(5);
        } else {
          await bodyOf(seen, expected);
        }
        sizes.push(seen.bodyBytes);
        // Reset the counter for the next request on this connection.
        socket.removeAllListeners('data');
        socket.write(okResponse('done', 'Connection: close\r\n'));
        socket.end();
      }, 100);
    });
    const p = pool(srv.port);
    const big = Buffer.alloc(1024 * 1024, 7);
    const r1 = await p.request('POST', '/big', { body: big, headers: { Expect: '100-continue' } });
    assert.equal(r1.status, 200);
    async function* parts() {
      for (let i = 0; i < 3; i++) yield Buffer.alloc(100_000, i);
    }
    const r2 = await p.request('POST', '/stream', { body: parts(), headers: { expect: '100-Continue' } });
    assert.equal(r2.status, 200);
    assert.deepEqual(before100, [0, 0]);
    assert.equal(sizes[0], big.length);
    assert.ok(sizes[1]! >= 300_000, `chunked body arrived (${sizes[1]} bytes with framing)`);
    before100 = [];
  });

  test('a final answer instead of 100 is the response; the body is never sent and the connection is not reused', async () => {
    const srv = await scriptedServer((socket) => {
      socket.write('HTTP/1.1 417 Expectation Failed\r\nContent-Length: 9\r\n\r\nno thanks');
    });
    const p = pool(srv.port);
    const progress: Array<[number, boolean]> = [];
    const r = await p.request('POST', '/reject', {
      body: Buffer.alloc(100_000, 1),
      headers: { Expect: '100-continue' },
      onUploadBody: (sent, _len, done) => progress.push([sent, done]),
    });
    assert.equal(r.status, 417);
    assert.equal(r.data.toString(), 'no thanks');
    await sleep(100);
    assert.equal(srv.seen[0]!.bodyBytes, 0, 'the body never went out');
    assert.deepEqual(progress, [[0, true]]);
    const again = await p.request('POST', '/reject', { body: 'x', headers: { Expect: '100-continue' } });
    assert.equal(again.status, 417);
    assert.equal(srv.connections, 2, 'the first connection, out of sync, was not reused');
    assert.equal(p.numConnections, 2);
  });

  test('a silent server gets the body after about a second, as RFC 9110 asks', async () => {
    const srv = await scriptedServer(async (socket, seen) => {
      await bodyOf(seen, 5);
      socket.write(okResponse('late'));
    });
    const r = await pool(srv.port).request('POST', '/silent', {
      body: 'hello',
      headers: { Expect: '100-continue' },
    });
    assert.equal(r.data.toString(), 'late');
    const waited = srv.seen[0]!.firstBodyAt! - srv.seen[0]!.headAt;
    assert.ok(waited >= 800 && waited < 3000, `body sent ${waited} ms after the head`);
  });

  test('a read timeout shorter than the wait still fires while the body is held back', async () => {
    const srv = await scriptedServer(() => {});
    const p = pool(srv.port, { timeout: 200 });
    await assert.rejects(
      p.request('POST', '/stall', { body: 'hello', headers: { Expect: '100-continue' } }),
      ReadTimeoutError,
    );
    assert.equal(srv.seen[0]!.bodyBytes, 0);
    await waitClosed(srv);
  });

  test('aborting while the body waits rejects with RequestAbortedError and frees the connection', async () => {
    const srv = await scriptedServer(() => {});
    const p = pool(srv.port);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(
      p.request('POST', '/abort', { body: 'hello', headers: { Expect: '100-continue' }, signal: ac.signal }),
      RequestAbortedError,
    );
    assert.equal(srv.seen[0]!.bodyBytes, 0);
    await waitClosed(srv);
  });

  test("node:http's checkContinue: the server decides, the body follows the 100", async () => {
    const decisions: string[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => res.end(`got ${Buffer.concat(chunks).length}`));
    });
    server.on('checkContinue', (req, res) => {
      if (req.url === '/deny') {
        decisions.push('deny');
        res.writeHead(403, { 'content-length': '6' });
        res.end('denied');
        return;
      }
      decisions.push('allow');
      res.writeContinue();
      server.emit('request', req, res);
    });
    let connections = 0;
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, HOST, r));
    cleanups.push(async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as AddressInfo).port;
    const pm = new PoolManager({ retries: false, timeout: 5000 });
    cleanups.push(() => pm.close());
    const early: HTTPResponse[] = [];
    const ok = await pm.request('PUT', `http://${HOST}:${port}/allow`, {
      body: Buffer.alloc(200_000, 3),
      headers: { Expect: '100-continue' },
      onEarlyResponse: (e) => early.push(e),
    });
    assert.equal(ok.data.toString(), 'got 200000');
    assert.equal(early[0]?.status, 100);
    const denied = await pm.request('PUT', `http://${HOST}:${port}/deny`, {
      body: Buffer.alloc(200_000, 3),
      headers: { Expect: '100-continue' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.data.toString(), 'denied');
    // The manager still works afterwards.
    const again = await pm.request('POST', `http://${HOST}:${port}/allow`, {
      json: { a: 1 },
      headers: { Expect: '100-continue' },
    });
    assert.equal(again.data.toString(), 'got 7');
    assert.deepEqual(decisions, ['allow', 'deny', 'allow']);
    // After a 100 and a full body the connection is reused; after a refusal it is not.
    assert.equal(connections, 2);
  });

  test('without the header a small body still goes out with the head at once', async () => {
    const srv = await scriptedServer((socket, seen) => {
      socket.write(okResponse(`got ${seen.bodyBytes}`));
    });
    const r = await pool(srv.port).request('POST', '/plain', { body: 'payload' });
    assert.equal(r.data.toString(), 'got 7', 'body arrived in the same read as the head');
  });
});
