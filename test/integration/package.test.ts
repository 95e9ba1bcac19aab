// What a user gets: `npm pack` ships compiled JavaScript, declarations, the
// README and the LICENSE, nothing else; the demo the README promises runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('npm pack contains only dist JavaScript, declarations, README, LICENSE and package.json', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const [info] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  const paths = info.files.map((f) => f.path).sort();
  for (const p of paths) {
    assert.match(p, /^(dist\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/, `unexpected file in package: ${p}`);
  }
  for (const needed of ['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) {
    assert.ok(paths.includes(needed), `missing ${needed}`);
  }
});

test('the demo runs against its embedded server and finishes', { timeout: 30_000 }, async () => {
  // Run from source so the test does not depend on a prior build.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts'], { timeout: 25_000 });
  assert.match(stdout, /embedded server at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(stdout, /100 requests opened 1 TCP connection/);
  assert.match(stdout, /caught ReadTimeoutError/);
  assert.match(stdout, /Done in \d+ ms/);
});

test('the built entry point exports the public API', { skip: existsSync('dist/index.js') ? false : 'not built' }, async () => {
  const api = (await import('../../dist/index.js' as string)) as Record<string, unknown>;
  for (const name of ['PoolManager', 'HTTPConnectionPool', 'HTTPResponse', 'Retry', 'Timeout', 'request', 'HTTPError']) {
    assert.ok(name in api, `${name} is exported`);
  }
});
