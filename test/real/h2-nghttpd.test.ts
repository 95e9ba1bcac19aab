// h2c (HTTP/2 with prior knowledge, no TLS) against a real nghttpd from
// Debian's nghttp2-server: `disabledSvn: {h11}` on plain http. The server
// is started with a 5-stream limit, a 4 KiB receive window and a trailer
// on every response, and echoes uploads back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HTTPConnectionPool, HttpVersion, PoolManager, ResponsePromise } from '../../src/index.js';
import { getFreePort } from '../support/free-port.js';
import { hasBinary, nginxFixtureFiles } from '../support/real-servers.js';

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** As requireServer(): skip with a message outside CI, fail under CI=true. */
function requireNghttpd(): string | null {
  if (hasBinary('nghttpd')) return null;
  if (isCI())
    throw new Error(
      'nghttpd is required under CI=true but is not installed (apt-get install nghttp2-server)',
    );
  return 'nghttpd is not installed (apt-get install nghttp2-server); skipped outside CI';
}

const skip = requireNghttpd();
const H2C = new Set([HttpVersion.h11]);

describe('h2c against nghttpd', { skip: skip ?? false }, () => {
  const files = nginxFixtureFiles();
  let child: ChildProcess | null = null;
  let dir = '';
  let port = 0;
  let origin = '';
  const kill = () => child?.kill('SIGKILL');

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-nghttpd-'));
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    process.once('exit', kill);
    for (let attempt = 0; ; attempt++) {
      port = await getFreePort('127.0.0.1');
      child = spawn(
        'nghttpd',
        [
          '--no-tls',
          '-a',
          '127.0.0.1',
          '-d',
          dir,
          '-m',
          '5',
          '-w',
          '12',
          '--trailer',
          'x-trailer-test: nghttpd',
          '--echo-upload',
          String(port),
        ],
        { stdio: 'ignore' },
      );
      if (await answers(port, child)) break;
      kill();
      if (attempt === 3) throw new Error(`nghttpd did not start on port ${port}`);
    }
    origin = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    if (child !== null && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(3000)]);
      kill();
    }
    process.removeListener('exit', kill);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('files over h2c: version 20, byte for byte, with the trailer', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, disabledSvn: H2C });
    const r = await pool.request('GET', '/small.txt');
    assert.equal(r.status, 200);
    assert.equal(r.version, 20);
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h2);
    assert.deepEqual(r.data, files['small.txt']);
    assert.equal(r.trailers?.get('x-trailer-test'), 'nghttpd');
    const big = await pool.request('GET', '/big.bin', { preloadContent: false });
    let n = 0;
    const hash = createHash('sha256');
    for await (const c of big.stream()) {
      n += c.length;
      hash.update(c);
    }
    assert.equal(n, files['big.bin']!.length);
    assert.equal(hash.digest('hex'), createHash('sha256').update(files['big.bin']!).digest('hex'));
  });

  test('30 requests against a 5-stream limit on one connection (block, maxSize 1)', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', {
      port,
      disabledSvn: H2C,
      maxSize: 1,
      block: true,
    });
    const rs = await Promise.all(Array.from({ length: 30 }, () => pool.request('GET', '/data.json')));
    assert.ok(rs.every((r) => r.status === 200 && r.version === 20));
    assert.equal(pool.numConnections, 1);
  });

  test('without block, more connections open past the 5-stream limit and the extras close after', async () => {
    await using pool = new HTTPConnectionPool('127.0.0.1', { port, disabledSvn: H2C, maxSize: 1 });
    const rs = await Promise.all(Array.from({ length: 20 }, () => pool.request('GET', '/big.bin')));
    assert.ok(rs.every((r) => r.data.length === files['big.bin']!.length));
    assert.ok(pool.numConnections >= 2, `${pool.numConnections} connections`);
    for (let i = 0; i < 100 && pool.numOpen > 1; i++) await sleep(10);
    assert.equal(pool.numOpen, 1);
  });

  test('an upload larger than the 4 KiB window is echoed back intact', async () => {
    await using http = new PoolManager({ disabledSvn: H2C });
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 256;
    let sent = 0;
    const r = await http.request('POST', `${origin}/small.txt`, {
      body,
      onUploadBody: (n) => {
        sent = n;
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('nghttpd-response'), 'echo');
    assert.deepEqual(r.data, body);
    assert.equal(sent, body.length);
  });

  test('multiplexed requests', async () => {
    await using http = new PoolManager({ disabledSvn: H2C });
    const p = await http.request('GET', `${origin}/text.txt`, { multiplexed: true });
    assert.ok(p instanceof ResponsePromise);
    const r = await http.getResponse({ promise: p });
    assert.deepEqual(r?.data, files['text.txt']);
    assert.equal(r?.isFromPromise(p), true);
  });
});

/** Polls until `port` accepts a TCP connection, or the process exits. */
async function answers(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return true;
    await sleep(50);
  }
  return false;
}
