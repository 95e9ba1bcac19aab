// `npm test` in a pipe: scripts/run-tests.mjs picks the summary reporter,
// which stays quiet about passing tests, shows failures, skips and stderr,
// and ends with the plain `tests: N passed, N failed, N skipped` line;
// TEST_REPORTER=tap still gives the TAP stream.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const RUN_TESTS = fileURLToPath(new URL('../../scripts/run-tests.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-run-tests-'));
  writeFileSync(
    join(dir, 'passing.test.ts'),
    `import { describe, test } from 'node:test';
describe('a suite', () => {
  test('a passing test', () => {});
  test('a test that needs nginx', { skip: 'nginx is not installed' }, () => {});
});
test('a test that warns', () => { console.error('a warning line'); });
`,
  );
  writeFileSync(
    join(dir, 'failing.test.ts'),
    `import assert from 'node:assert/strict';
import { test } from 'node:test';
test('a failing test', () => { assert.equal(1 + 1, 3); });
`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string> = {}) {
  // NODE_TEST_CONTEXT would make the inner runner report to this one instead.
  const { TEST_REPORTER: _r, NODE_TEST_CONTEXT: _c, ...rest } = process.env;
  return spawnSync(process.execPath, [RUN_TESTS, dir], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...rest, ...env },
  });
}

test('in a pipe the summary names each failure, each skip and the stderr, and ends with the counts', () => {
  const r = run();
  assert.equal(r.status, 1);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines.at(-1), 'tests: 2 passed, 1 failed, 1 skipped');
  assert.match(r.stdout, /^FAIL .*failing\.test\.ts > a failing test/m);
  assert.match(r.stdout, /Expected values to be strictly equal/);
  assert.match(r.stdout, /1 x .*passing\.test\.ts: nginx is not installed/);
  assert.match(r.stdout, /^ {4}a warning line$/m);
  assert.doesNotMatch(r.stdout, /a passing test/);
  assert.ok(lines.length < 30, `${lines.length} lines:\n${r.stdout}`);
});

test('TEST_REPORTER=tap gives the TAP stream', () => {
  const r = run({ TEST_REPORTER: 'tap' });
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^TAP version 13$/m);
  assert.match(r.stdout, /^\s*ok \d+ - a passing test/m);
});

test('an unknown reporter is a usage error', () => {
  const r = run({ TEST_REPORTER: 'fancy' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown reporter 'fancy'/);
});
