// `npm run docs` builds the API reference from the doc comments with TypeDoc
// (typedoc.json). Here it runs without writing anything, and a warning (a
// broken {@link}, an entry point that moved) fails the test.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const TYPEDOC = fileURLToPath(new URL('../../node_modules/typedoc/bin/typedoc', import.meta.url));

test('the API reference builds from the doc comments without a warning', { timeout: 120_000 }, async () => {
  const { stdout, stderr } = await run(
    process.execPath,
    [TYPEDOC, '--emit', 'none', '--treatWarningsAsErrors'],
    {
      cwd: ROOT,
      timeout: 110_000,
    },
  );
  assert.doesNotMatch(stdout + stderr, /\[warning\]|\[error\]/);
});
