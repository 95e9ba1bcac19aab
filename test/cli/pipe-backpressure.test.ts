// A body written to a slow pipe: the command waits for 'drain' many times and
// must not leave listeners behind each time (which Node reports as a
// MaxListenersExceededWarning after ten waits).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { startHttpServer, type TestHttpServer } from '../support/servers.js';
import { CLI_COMMAND, cleanEnv } from './run-cli.js';

const SIZE = 4 * 1024 * 1024;
let server: TestHttpServer;

before(async () => {
  server = await startHttpServer((req, res) => {
    if (req.url !== '/big') return false;
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': SIZE });
    res.end(Buffer.alloc(SIZE, 0x61));
    return true;
  });
});

after(async () => {
  await server?.close();
});

test('a large body piped to a slow reader arrives whole, with no listener-leak warning', async () => {
  const child = spawn(CLI_COMMAND[0]!, [...CLI_COMMAND.slice(1), `${server.origin}/big`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv(),
  });
  let received = 0;
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Read a piece, then stop for a moment, so the pipe fills up again and again.
  child.stdout!.on('data', (c: Buffer) => {
    received += c.length;
    child.stdout!.pause();
    setTimeout(() => child.stdout!.resume(), 2);
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  assert.equal(stderr, '');
  assert.equal(code, 0);
  assert.equal(received, SIZE);
});
