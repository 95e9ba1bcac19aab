// Tests of the real-server harness itself, with node:http as the client so a
// failure here points at the harness (or the installed server), never at the
// library's own client.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { makeTestPki } from '../support/certs.js';
import { getFreePort } from '../support/free-port.js';
import { nginxFixtureFiles, requireServer, startHttpbin, startNginx } from '../support/real-servers.js';
import { countOpenSockets, trackServerConnections, waitForSocketCount } from '../support/socket-count.js';

interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  trailers: NodeJS.Dict<string>;
  body: Buffer;
  reusedSocket: boolean;
  socket: net.Socket;
}

function fetch(url: string, options: https.RequestOptions = {}): Promise<Fetched> {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    // No keep-alive unless a test brings its own agent: Node 20's global agent
    // keeps sockets, which would outlive the test and skew socket counts.
    const req = client.get(url, { agent: false, ...options }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          trailers: res.trailers,
          body: Buffer.concat(chunks),
          reusedSocket: req.reusedSocket,
          socket: res.socket,
        }),
      );
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timed out fetching ${url}`)));
  });
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

test('nginx serves small.txt twice over one kept-alive connection', async (t) => {
  const skip = requireServer('nginx');
  if (skip) return t.skip(skip);
  const nginx = await startNginx();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await fetch(`${nginx.url}/small.txt`, { agent });
    const second = await fetch(`${nginx.url}/small.txt`, { agent });
    for (const r of [first, second]) {
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-length'], '13');
      assert.equal(r.body.toString(), 'Hello, world\n');
    }
    assert.equal(first.reusedSocket, false);
    assert.equal(second.reusedSocket, true);
    assert.equal(second.socket, first.socket);
  } finally {
    agent.destroy();
    await nginx.stop();
  }
});

test('nginx gzips text.txt only when the client accepts gzip', async (t) => {
  const skip = requireServer('nginx');
  if (skip) return t.skip(skip);
  const nginx = await startNginx();
  try {
    const expected = nginxFixtureFiles()['text.txt']!;
    assert.ok(expected.length > 19_000, 'text.txt is about 20 KiB');

    const gzipped = await fetch(`${nginx.url}/text.txt`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzipped.status, 200);
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.ok(gzipped.body.length < expected.length / 4, `compressed to ${gzipped.body.length} bytes`);
    assert.deepEqual(gunzipSync(gzipped.body), expected);

    const plain = await fetch(`${nginx.url}/text.txt`);
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers['content-length'], String(expected.length));
    assert.deepEqual(plain.body, expected);
  } finally {
    await nginx.stop();
  }
});

test('nginx serves the fixture files and the status, redirect, chunked and trailer locations', async (t) => {
  const skip = requireServer('nginx');
  if (skip) return t.skip(skip);
  const nginx = await startNginx();
  try {
    const files = nginxFixtureFiles();

    const big = await fetch(`${nginx.url}/big.bin`);
    assert.equal(big.headers['content-length'], String(1024 * 1024));
    assert.equal(big.headers['content-type'], 'application/octet-stream');
    assert.equal(sha256(big.body), sha256(files['big.bin']!));

    const json = await fetch(`${nginx.url}/data.json`);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(json.body.toString()).answer, 42);

    const missing = await fetch(`${nginx.url}/status/404`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.toString(), 'nope\n');

    const redirect = await fetch(`${nginx.url}/redirect`);
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.location, '/small.txt');

    const chunked = await fetch(`${nginx.url}/chunked`);
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    assert.equal(chunked.headers['content-length'], undefined);
    assert.deepEqual(chunked.body, files['text.txt']);

    const trailers = await fetch(`${nginx.url}/trailers`);
    assert.equal(trailers.headers['transfer-encoding'], 'chunked');
    assert.equal(trailers.body.toString(), 'Hello, world\n');
    assert.equal(trailers.trailers['x-trailer-test'], 'done');

    const extra = await startNginx({ extraConfig: 'location = /extra { return 200 "extra\\n"; }' });
    try {
      assert.equal((await fetch(`${extra.url}/extra`)).body.toString(), 'extra\n');
    } finally {
      await extra.stop();
    }
  } finally {
    await nginx.stop();
  }
});

test('nginx serves https with a certificate from the test CA', async (t) => {
  const skip = requireServer('nginx') ?? requireServer('openssl');
  if (skip) return t.skip(skip);
  const pki = await makeTestPki();
  const nginx = await startNginx({ tls: { cert: pki.serverCert, key: pki.serverKey } });
  try {
    const byIp = await fetch(`${nginx.tlsUrl}/small.txt`, { ca: pki.caCertPem });
    assert.equal(byIp.status, 200);
    assert.equal(byIp.body.toString(), 'Hello, world\n');

    const byName = await fetch(`https://localhost:${nginx.tlsPort}/small.txt`, {
      ca: pki.caCertPem,
      family: 4,
    });
    assert.equal(byName.status, 200);
    assert.equal(
      (byName.socket as import('node:tls').TLSSocket).getPeerCertificate().subject.CN,
      'localhost',
    );

    await assert.rejects(fetch(`${nginx.tlsUrl}/small.txt`, { ca: [] }), (err: NodeJS.ErrnoException) => {
      assert.match(err.code ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
      return true;
    });

    // The plain port keeps serving alongside the TLS one.
    assert.equal((await fetch(`${nginx.url}/small.txt`)).status, 200);
  } finally {
    await nginx.stop();
  }
});

test('httpbin answers /get with JSON describing the request', async (t) => {
  const skip = requireServer('httpbin');
  if (skip) return t.skip(skip);
  const httpbin = await startHttpbin();
  try {
    const r = await fetch(`${httpbin.url}/get?a=1`, { headers: { 'x-harness': 'yes' } });
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/);
    const body = JSON.parse(r.body.toString());
    assert.deepEqual(body.args, { a: '1' });
    assert.equal(body.headers['X-Harness'], 'yes');
    assert.equal(body.url, `${httpbin.url}/get?a=1`);
  } finally {
    await httpbin.stop();
  }
});

test('a stopped server no longer accepts connections and stop() can be called twice', async (t) => {
  const skip = requireServer('nginx') ?? requireServer('httpbin');
  if (skip) return t.skip(skip);
  const servers = [await startNginx(), await startHttpbin()];
  for (const server of servers) {
    assert.equal(await connectionRefused(server.port), false);
    await server.stop();
    await server.stop();
    assert.equal(await connectionRefused(server.port), true);
  }
});

test('socket helpers count a connection while it is open and after it closes', async () => {
  // Also proves the tests above closed every socket they opened.
  assert.equal(await waitForSocketCount((n) => n === 0), 0);
  const before = countOpenSockets();
  const server = net.createServer();
  const stats = trackServerConnections(server);
  const port = await getFreePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const client = net.connect(port, '127.0.0.1');
  try {
    await new Promise((resolve) => client.once('connect', resolve));
    // Both ends live in this process: the client socket and the accepted one.
    assert.equal(await waitForSocketCount((n) => n === before + 2), before + 2);
    assert.deepEqual(stats, { opened: 1, open: 1 });
    client.destroy();
    assert.equal(await waitForSocketCount((n) => n === before), before);
    assert.deepEqual(stats, { opened: 1, open: 0 });
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
});
