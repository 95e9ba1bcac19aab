// A script that makes one HTTP/3 request to a real caddy and never closes its
// manager exits when its work is done (docs/api.md section 9): the idle QUIC
// connection, its UDP socket and its timers do not hold the process open. The
// script runs as a real child process; the test measures the time from its
// last line of output to its exit.

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runTsxScript } from '../support/child-script.js';
import { type H3Caddy, h3CaddySkip, startH3Caddy } from '../support/real-caddy.js';

const INDEX = pathToFileURL(path.resolve('src/index.ts')).href;

const skip = await h3CaddySkip();

describe('a process whose HTTP/3 request is done exits', { skip: skip ?? false }, () => {
  let server: H3Caddy;

  before(async () => {
    server = await startH3Caddy('h3-exit', { 'small.txt': 'hello over QUIC\n' });
  });

  after(async () => {
    await server?.stop();
  });

  test('a forced HTTP/3 request through a PoolManager never closed exits within a second', async () => {
    const script = path.join(server.root, 'h3-exit.mts');
    writeFileSync(
      script,
      `import { HttpVersion, PoolManager } from '${INDEX}';
const http = new PoolManager({ caCerts: process.env.CA, disabledSvn: new Set([HttpVersion.h11, HttpVersion.h2]) });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.versionString, r.data.toString().trim());
`,
    );
    const run = await runTsxScript([script], {
      CA: server.pki.caCert,
      URL: `https://localhost:${server.port}/small.txt`,
    });
    assert.equal(run.code, 0, `exit code ${run.code}; stderr: ${run.stderr}`);
    assert.match(run.stdout, /^200 HTTP\/3 hello over QUIC$/m);
    assert.ok(run.lingered < 1000, `the script lingered ${run.lingered.toFixed(0)} ms after its last line`);
  });
});
