// Upgrades on HTTP/2 (docs/api.md section 9, RFC 8441): the same user code as on
// HTTP/1.1 - a request with `Upgrade: <protocol>` - goes out as an extended
// CONNECT (`:protocol`, no Connection/Upgrade fields) when the server sent
// SETTINGS_ENABLE_CONNECT_PROTOCOL; a 2xx answer gives a response whose
// extension is the stream, which holds one stream slot while the connection
// goes on serving other streams. A server without the setting gets a clear
// error that points at disabledSvn, and with HTTP/2 disabled the same request
// upgrades over HTTP/1.1 on the same TLS port.

import assert from 'node:assert/strict';
import http2, { type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  HTTPSConnectionPool,
  HttpVersion,
  MaxRetryError,
  PoolManager,
  ProtocolError,
  RawExtension,
  ReadTimeoutError,
  Timeout,
} from '../../src/index.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { waitUntil } from '../support/servers.js';
import {
  type H2TestServer,
  pattern,
  rejectionOf,
  startH2Server,
  tlsOptions,
  writeWithBackpressure,
} from './h2-fixtures.js';
import { assertEchoRoundTrip, readBytes, readUntilFailure } from './extension-io.js';

const UPGRADE = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Version': '13',
  'X-Custom': 'kept',
};

/** Server side of each extended CONNECT stream. */
interface Tunnel {
  headers: IncomingHttpHeaders;
  sawEnd: boolean;
  closed: boolean;
  rstCode: number | undefined;
  /** /flood: bytes handed to the stream */
  written: number;
}

const tunnels: Tunnel[] = [];
const timers = new Set<NodeJS.Timeout>();

function tunnelHandler(stream: ServerHttp2Stream, headers: IncomingHttpHeaders): boolean {
  if (headers[':method'] !== 'CONNECT') return false;
  const t: Tunnel = { headers, sawEnd: false, closed: false, rstCode: undefined, written: 0 };
  tunnels.push(t);
  stream.on('end', () => {
    t.sawEnd = true;
  });
  stream.on('close', () => {
    t.closed = true;
    t.rstCode = stream.rstCode;
  });
  switch (headers[':path']) {
    case '/refuse':
      stream.respond({ ':status': 403, 'content-type': 'text/plain' });
      stream.end('forbidden');
      return true;
    case '/flood':
      stream.respond({ ':status': 200 });
      void writeWithBackpressure(stream, 32 * 1024 * 1024, t, 65536);
      return true;
    case '/deaf':
      // Reads what comes but never ends its side.
      stream.respond({ ':status': 200 });
      stream.resume();
      return true;
    case '/reset': {
      stream.respond({ ':status': 200 });
      stream.write('partial');
      const timer = setTimeout(() => {
        timers.delete(timer);
        // close(code) would send END_STREAM first; destroy() resets at once (INTERNAL_ERROR).
        stream.destroy(new Error('reset on purpose'));
      }, 30);
      timers.add(timer);
      return true;
    }
    case '/kill': {
      // The whole connection goes away under the tunnel.
      stream.respond({ ':status': 200 });
      stream.write('partial');
      const timer = setTimeout(() => {
        timers.delete(timer);
        stream.session?.destroy();
      }, 30);
      timers.add(timer);
      return true;
    }
    case '/end':
      stream.respond({ ':status': 200 }, { endStream: true });
      return true;
    default:
      // Echo with backpressure; our END_STREAM follows the client's.
      stream.respond({ ':status': 200, 'sec-websocket-protocol': 'chat' });
      stream.pipe(stream);
      return true;
  }
}

/** HTTP/1.1 upgrades on the TLS port (allowHTTP1): an echo too. */
function h1Upgrade(_req: import('node:http').IncomingMessage, socket: net.Socket, head: Buffer): void {
  socket.on('error', () => {});
  socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
}

let tls: H2TestServer;
let h2c: H2TestServer;
let plain: H2TestServer;
let oneStream: H2TestServer;
/** HTTP/2 and HTTP/1.1 on one TLS port (its HTTP/1.1 side handles upgrades). */
let both: H2TestServer;

before(async () => {
  const settings = { enableConnectProtocol: true };
  [tls, h2c, plain, oneStream, both] = await Promise.all([
    startH2Server({ settings, handler: tunnelHandler }),
    startH2Server({ tls: false, settings, handler: tunnelHandler }),
    startH2Server({ handler: tunnelHandler }),
    startH2Server({ settings: { ...settings, maxConcurrentStreams: 1 }, handler: tunnelHandler }),
    startH2Server({ settings, allowHTTP1: true, upgrade: h1Upgrade }),
  ]);
});

after(async () => {
  for (const t of timers) clearTimeout(t);
  await Promise.all([tls.close(), h2c.close(), plain.close(), oneStream.close(), both.close()]);
});

function lastTunnel(): Tunnel {
  const t = tunnels[tunnels.length - 1];
  assert.ok(t, 'the server saw an extended CONNECT');
  return t;
}

function tlsPool(s: H2TestServer, extra: Record<string, unknown> = {}): HTTPSConnectionPool {
  return new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), ...extra });
}

describe('extended CONNECT (RFC 8441) on HTTP/2', { timeout: 30_000 }, () => {
  test('an Upgrade request goes out as an extended CONNECT and its extension echoes payloads', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/chat?room=1', { headers: UPGRADE });
    assert.equal(r.status, 200);
    assert.equal(r.version, 20);
    assert.equal(r.headers.get('sec-websocket-protocol'), 'chat');
    assert.equal(r.data.length, 0);
    const ext = r.extension;
    assert.ok(ext instanceof RawExtension);
    const h = lastTunnel().headers;
    assert.equal(h[':method'], 'CONNECT');
    assert.equal(h[':protocol'], 'websocket');
    assert.equal(h[':scheme'], 'https');
    assert.equal(h[':path'], '/chat?room=1');
    assert.equal(h[':authority'], `localhost:${tls.port}`);
    assert.equal(h.connection, undefined);
    assert.equal(h.upgrade, undefined);
    assert.equal(h['sec-websocket-version'], '13');
    assert.equal(h['x-custom'], 'kept');
    for (const msg of ['one', 'two', 'three'.repeat(1000)]) {
      await ext.sendPayload(msg);
      assert.equal((await readBytes(ext, msg.length)).toString(), msg);
    }
    await ext.close();
  });

  test('h2c with prior knowledge upgrades the same way, through a PoolManager', async () => {
    await using pm = new PoolManager({ disabledSvn: new Set([HttpVersion.h11]) });
    const r = await pm.request('GET', `${h2c.origin}/chat`, {
      headers: { ...UPGRADE, Upgrade: 'WebSocket' },
    });
    assert.equal(r.status, 200);
    assert.equal(r.version, 20);
    const h = lastTunnel().headers;
    assert.equal(h[':protocol'], 'websocket', 'lower-cased');
    assert.equal(h[':scheme'], 'http');
    const ext = r.extension!;
    await ext.sendPayload(Buffer.from('h2c'));
    assert.equal((await readBytes(ext, 3)).toString(), 'h2c');
    await ext.close();
  });

  test('an 8 MiB payload makes the round trip intact under flow control', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/chat', { headers: UPGRADE });
    const ext = r.extension!;
    await assertEchoRoundTrip(ext, 8 * 1024 * 1024);
    await ext.close();
  });

  test('a consumer that does not read holds the server back; other streams go on meanwhile', async (t) => {
    await using pool = tlsPool(tls);
    const connections = tls.connections;
    const r = await pool.request('GET', '/flood', { headers: UPGRADE });
    const tunnel = lastTunnel();
    const ext = r.extension!;
    const first = await ext.nextPayload();
    assert.ok(first !== null && first.length > 0);
    await sleep(300);
    t.diagnostic(
      `the server wrote ${(tunnel.written / 2 ** 20).toFixed(2)} MiB of 32 MiB while the reader waited`,
    );
    assert.ok(tunnel.written < 3 * 1024 * 1024, `the server got ${tunnel.written} bytes ahead of the reader`);
    const others = await Promise.all([pool.request('GET', '/hello'), pool.request('GET', '/bytes/200000')]);
    assert.ok(others.every((o) => o.status === 200));
    assert.equal(others[1]!.data.length, 200000);
    assert.equal(tls.connections, connections + 1, 'all on one connection');
    let offset = first.length;
    let ok = first.equals(pattern(first.length));
    for (let p = await ext.nextPayload(); p !== null; p = await ext.nextPayload()) {
      if (ok && !p.equals(pattern(p.length, offset))) ok = false;
      offset += p.length;
    }
    assert.equal(offset, 32 * 1024 * 1024);
    assert.ok(ok, 'bytes match');
    await ext.close();
  });

  test('other streams on the same connection keep working while an extension is open', async () => {
    await using pool = tlsPool(tls);
    const connections = tls.connections;
    const r = await pool.request('GET', '/chat', { headers: UPGRADE });
    const ext = r.extension!;
    const others = await Promise.all([1, 2, 3].map(() => pool.request('GET', '/hello')));
    assert.deepEqual(
      others.map((o) => o.data.toString()),
      ['hello', 'hello', 'hello'],
    );
    await ext.sendPayload('between');
    assert.equal((await readBytes(ext, 7)).toString(), 'between');
    await ext.close();
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(tls.connections, connections + 1, 'one connection throughout, kept in the pool');
    assert.equal(pool.numOpen, 1);
  });

  test('an open extension holds one stream slot until it is closed', async () => {
    // MAX_CONCURRENT_STREAMS 1: while the extension holds the only slot, a request needs a second connection.
    await using pool = tlsPool(oneStream, { maxSize: 2 });
    const before = oneStream.connections;
    const r = await pool.request('GET', '/chat', { headers: UPGRADE });
    const ext = r.extension!;
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(oneStream.connections - before, 2);
    await ext.close();
    assert.ok(await waitUntil(() => oneStream.activeStreams === 0));
    // Both connections are free again: two requests in parallel need no third.
    const both = await Promise.all([pool.request('GET', '/hello'), pool.request('GET', '/hello')]);
    assert.ok(both.every((o) => o.status === 200));
    assert.equal(oneStream.connections - before, 2);
  });

  test('close() sends END_STREAM: the server sees the end and the stream closes without a reset', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/chat', { headers: UPGRADE });
    const tunnel = lastTunnel();
    const ext = r.extension!;
    await ext.sendPayload('bye');
    assert.equal((await readBytes(ext, 3)).toString(), 'bye');
    await ext.close();
    assert.equal(ext.closed, true);
    assert.ok(await waitUntil(() => tunnel.sawEnd && tunnel.closed), 'the server saw END_STREAM');
    assert.equal(tunnel.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    assert.equal(await ext.nextPayload(), null);
    await assert.rejects(ext.sendPayload('late'), ProtocolError);
  });

  test('close() resets the stream (CANCEL) when the server does not end its side', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/deaf', { headers: UPGRADE });
    const tunnel = lastTunnel();
    const t0 = Date.now();
    await r.extension!.close();
    assert.ok(Date.now() - t0 < 3000);
    assert.ok(await waitUntil(() => tunnel.closed), 'the server saw the stream close');
    assert.equal(tunnel.sawEnd, true, 'END_STREAM came first');
    assert.equal(tunnel.rstCode, http2.constants.NGHTTP2_CANCEL);
    // The connection carries on.
    assert.equal((await pool.request('GET', '/hello')).status, 200);
  });

  test('a server that ends the tunnel at once gives null from nextPayload()', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/end', { headers: UPGRADE });
    assert.equal(r.status, 200);
    const ext = r.extension!;
    assert.equal(await ext.nextPayload(), null);
    await ext.close();
    assert.equal((await pool.request('GET', '/hello')).status, 200);
  });

  test('a reset of the tunnel makes nextPayload() reject with ProtocolError; the connection carries on', async () => {
    await using pool = tlsPool(tls);
    const connections = tls.connections;
    const r = await pool.request('GET', '/reset', { headers: UPGRADE });
    const ext = r.extension!;
    const { got, err } = await readUntilFailure(ext);
    // As with a TCP reset, data not read yet may be lost with it.
    assert.ok('partial'.startsWith(got), `got ${JSON.stringify(got)}`);
    assert.ok(err instanceof ProtocolError, `got ${err}`);
    assert.match(err.message, /upgraded stream/);
    assert.match(err.message, /INTERNAL_ERROR|code 2/);
    await assert.rejects(ext.sendPayload('x'), ProtocolError);
    await ext.close();
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(tls.connections, connections + 1);
  });

  test('losing the connection under the tunnel makes nextPayload() reject with ProtocolError', async () => {
    await using pool = tlsPool(tls);
    const connections = tls.connections;
    const r = await pool.request('GET', '/kill', { headers: UPGRADE });
    const ext = r.extension!;
    const { got, err } = await readUntilFailure(ext);
    assert.ok('partial'.startsWith(got), `got ${JSON.stringify(got)}`);
    assert.ok(err instanceof ProtocolError, `got ${err}`);
    assert.match(
      err.message,
      /upgraded stream \d+ to https:\/\/localhost:\d+\/kill broke: the connection closed/,
    );
    await ext.close();
    // The pool replaces the lost connection.
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(tls.connections, connections + 2);
  });

  test('a non-2xx answer to the extended CONNECT is an ordinary response without extension', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/refuse', { headers: UPGRADE });
    assert.equal(r.status, 403);
    assert.equal(r.extension, null);
    assert.equal(r.data.toString(), 'forbidden');
    const tunnel = lastTunnel();
    assert.ok(await waitUntil(() => tunnel.closed), 'the stream closed');
    assert.equal(tunnel.rstCode, http2.constants.NGHTTP2_NO_ERROR);
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(pool.numOpen, 1);
  });

  test('nextPayload() honours the read timeout; the stream stays usable after it', async () => {
    await using pool = tlsPool(tls, { timeout: new Timeout({ connect: 2000, read: 150 }) });
    const r = await pool.request('GET', '/chat', { headers: UPGRADE });
    const ext = r.extension!;
    const t0 = Date.now();
    const err = await rejectionOf(ext.nextPayload());
    assert.ok(err instanceof ReadTimeoutError, `got ${err}`);
    assert.match(err.message, /read timeout=150 ms/);
    const took = Date.now() - t0;
    assert.ok(took >= 140 && took < 1500, `timed out after ${took} ms`);
    await ext.sendPayload('later');
    assert.equal((await readBytes(ext, 5)).toString(), 'later');
    await ext.close();
  });

  test('releasing or closing the 2xx response leaves the stream open', async () => {
    await using pool = tlsPool(tls);
    const r = await pool.request('GET', '/chat', { headers: UPGRADE, preloadContent: false });
    r.releaseConn();
    r.close();
    const ext = r.extension!;
    await ext.sendPayload('still open');
    assert.equal((await readBytes(ext, 10)).toString(), 'still open');
    await ext.close();
  });

  test('a server without SETTINGS_ENABLE_CONNECT_PROTOCOL gets a clear ProtocolError, not retried', async () => {
    await using pool = tlsPool(plain);
    const streams = plain.streams;
    const err = await rejectionOf(pool.request('GET', '/chat', { headers: UPGRADE }));
    assert.ok(err instanceof ProtocolError, `got ${err}`);
    assert.ok(!(err instanceof MaxRetryError));
    assert.match(
      err.message,
      new RegExp(`the server at https://localhost:${plain.port} does not allow extended CONNECT \\(RFC 8441`),
    );
    assert.match(err.message, /disabledSvn: new Set\(\[HttpVersion\.h2\]\)/);
    assert.equal(plain.streams, streams, 'nothing was sent');
    // The connection is fine for everything else.
    assert.equal((await pool.request('GET', '/hello')).status, 200);
    assert.equal(plain.connections, 1);
  });

  test('an Upgrade field without the Connection: upgrade option is dropped: an ordinary request', async () => {
    await using pool = tlsPool(plain);
    const r = await pool.request('GET', '/hello', { headers: { Upgrade: 'websocket' } });
    assert.equal(r.status, 200);
    assert.equal(r.data.toString(), 'hello');
    assert.equal(r.extension, null);
    const h = plain.seen[plain.seen.length - 1]!;
    assert.equal(h[':method'], 'GET');
    assert.equal(h[':protocol'], undefined);
    assert.equal(h.upgrade, undefined);
  });

  test('an Upgrade request with a body is refused on HTTP/2 before anything is sent', async () => {
    await using pool = tlsPool(tls);
    const streams = tls.streams;
    const err = await rejectionOf(pool.request('POST', '/chat', { headers: UPGRADE, body: 'data' }));
    assert.ok(err instanceof ProtocolError, `got ${err}`);
    assert.match(err.message, /cannot carry a body over HTTP\/2/);
    assert.equal(tls.streams, streams);
  });

  test('with HTTP/2 disabled the same request upgrades over HTTP/1.1 on the TLS port', async () => {
    await using pm = new PoolManager({ ...tlsOptions(both), disabledSvn: new Set([HttpVersion.h2]) });
    const r = await pm.request('GET', `${both.origin}/chat`, { headers: UPGRADE });
    assert.equal(r.status, 101);
    assert.equal(r.version, 11);
    const ext = r.extension!;
    await ext.sendPayload('over tls');
    assert.equal((await readBytes(ext, 8)).toString(), 'over tls');
    await ext.close();
  });

  test('no socket is left open once extensions are closed', async () => {
    const baseline = countOpenSockets();
    {
      await using pm = new PoolManager(tlsOptions(tls));
      const r = await pm.request('GET', `${tls.origin}/chat`, { headers: UPGRADE });
      const ext = r.extension!;
      await ext.sendPayload('x');
      await readBytes(ext, 1);
      await ext.close();
    }
    const n = await waitForSocketCount((c) => c <= baseline);
    assert.ok(n <= baseline, `${n} sockets open, ${baseline} before`);
  });
});
