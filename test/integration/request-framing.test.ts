// Request framing edge cases on a real socket: empty chunked bodies and
// streams that yield empty chunks must still end with the last-chunk marker,
// or the server would wait forever.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { HTTPConnectionPool } from '../../src/index.js';

let server: http.Server;
let pool: HTTPConnectionPool;

before(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          te: req.headers['transfer-encoding'] ?? null,
          cl: req.headers['content-length'] ?? null,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  pool = new HTTPConnectionPool('127.0.0.1', {
    port: (server.address() as AddressInfo).port,
    timeout: 2000,
    retries: false,
  });
});

after(async () => {
  await pool.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

test('chunked: true with an empty body sends just the last chunk', async () => {
  const r = await pool.request('POST', '/', { body: '', chunked: true });
  assert.deepEqual(r.json(), { te: 'chunked', cl: null, body: '' });
});

test('a stream of only empty chunks is a valid empty chunked body', async () => {
  async function* empties() {
    yield Buffer.alloc(0);
    yield new Uint8Array(0);
  }
  const r = await pool.request('POST', '/', { body: empties() });
  assert.deepEqual(r.json(), { te: 'chunked', cl: null, body: '' });
});

test('an empty string body on POST is sent with Content-Length: 0', async () => {
  const r = await pool.request('POST', '/', { body: '' });
  assert.deepEqual(r.json(), { te: null, cl: '0', body: '' });
});

test('the connection stays usable after each of these', async () => {
  for (let i = 0; i < 5; i++) await pool.request('POST', '/', { body: '', chunked: true });
  assert.equal(pool.numConnections, 1);
});
