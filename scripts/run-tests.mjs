#!/usr/bin/env node
// Finds every *.test.ts under the given folders (default: test/) and runs them
// with Node's own test runner through tsx. Node 20's --test takes no globs, so
// the file list is built here.
//
// What it prints: on a terminal, Node's spec reporter (a line per test); in a
// pipe (CI, `| less`), a short summary from test-summary-reporter.mjs that
// shows failures, skips and stderr in full and ends with
// `tests: N passed, N failed, N skipped`. TEST_REPORTER=tap (or spec, dot,
// summary), or --reporter=NAME, chooses one explicitly.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const reporterArg = args.find((a) => a.startsWith('--reporter='));
const roots = args.filter((a) => !a.startsWith('-'));
const extra = args.filter((a) => a.startsWith('-') && a !== reporterArg);
const files = [];
function walk(p) {
  const st = statSync(p);
  if (st.isDirectory()) for (const e of readdirSync(p).sort()) walk(join(p, e));
  else if (p.endsWith('.test.ts')) files.push(p);
}
for (const r of roots.length ? roots : ['test']) walk(r);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}

const chosen =
  reporterArg?.slice('--reporter='.length) ||
  process.env.TEST_REPORTER ||
  (process.stdout.isTTY ? 'spec' : 'summary');
const known = ['summary', 'tap', 'spec', 'dot'];
if (!known.includes(chosen)) {
  console.error(`unknown reporter '${chosen}': use one of ${known.join(', ')}`);
  process.exit(2);
}
const reporter =
  chosen === 'summary' ? join(dirname(fileURLToPath(import.meta.url)), 'test-summary-reporter.mjs') : chosen;
if (chosen === 'summary')
  console.log(`Running ${files.length} test files; failures, skips and stderr are shown below.`);

const res = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=60000',
    `--test-reporter=${reporter}`,
    ...extra,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(res.status ?? 1);
