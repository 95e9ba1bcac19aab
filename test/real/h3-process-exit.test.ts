// A script that makes one HTTP/3 request to a real caddy and never closes its
// manager exits when its work is done (docs/api.md section 9): the idle QUIC
// connection, its UDP socket and its timers do not hold the process open. The
// script runs as a real child process; the test measures the time from its
// last line of output to its exit.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadQuicTransport } from '../../src/net/quic/quic-loader.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { type CaddyServer, startCaddy } from '../support/real-caddy.js';
import { requireServer } from '../support/real-servers.js';
import { isCI } from '../support/server-processes.js';

const INDEX = pathToFileURL(path.resolve('src/index.ts')).href;

async function quicSkip(): Promise<string | null> {
  const { reason } = await loadQuicTransport();
  if (reason === null) return null;
  if (isCI()) throw new Error(`the QUIC binding must load under CI=true: ${reason}`);
  return `HTTP/3 is unavailable here (${reason}); skipped outside CI`;
}

const skip = requireServer('caddy') ?? (await quicSkip());

describe('a process whose HTTP/3 request is done exits', { skip: skip ?? false }, () => {
  let pki: TlsTestPki;
  let caddy: CaddyServer;
  let root: string;

  before(async () => {
    pki = await makeTlsTestPki();
    root = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-h3-exit-'));
    writeFileSync(path.join(root, 'small.txt'), 'hello over QUIC\n');
    caddy = await startCaddy({ sites: [{ name: 'a', cert: pki.server.cert, key: pki.server.key }], root });
  });

  after(async () => {
    await caddy?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  test('a forced HTTP/3 request through a PoolManager never closed exits within a second', async () => {
    const script = path.join(root, 'h3-exit.mts');
    writeFileSync(
      script,
      `import { HttpVersion, PoolManager } from '${INDEX}';
const http = new PoolManager({ caCerts: process.env.CA, disabledSvn: new Set([HttpVersion.h11, HttpVersion.h2]) });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.versionString, r.data.toString().trim());
`,
    );
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string; lingered: number }>(
      (resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], {
          env: {
            ...process.env,
            CA: pki.caCert,
            URL: `https://localhost:${caddy.ports.a}/small.txt`,
            NODE_DEBUG: '',
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        let lastLine = 0;
        const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
        child.stdout.on('data', (b: Buffer) => {
          stdout += b.toString();
          lastLine = performance.now();
        });
        child.stderr.on('data', (b: Buffer) => {
          stderr += b.toString();
        });
        child.on('error', reject);
        child.on('exit', (code) => {
          clearTimeout(kill);
          resolve({
            code,
            stdout,
            stderr,
            lingered: lastLine === 0 ? Number.NaN : performance.now() - lastLine,
          });
        });
      },
    );
    assert.equal(run.code, 0, `exit code ${run.code}; stderr: ${run.stderr}`);
    assert.match(run.stdout, /^200 HTTP\/3 hello over QUIC$/m);
    assert.ok(run.lingered < 1000, `the script lingered ${run.lingered.toFixed(0)} ms after its last line`);
  });
});
