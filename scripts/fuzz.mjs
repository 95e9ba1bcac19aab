#!/usr/bin/env node
// Runs the fuzz targets of test/fuzz/targets.ts, each in its own process
// under a wall-clock limit (a target still running at its limit is a hang),
// and prints a summary. Bounded by default (a few minutes in all):
//   npm run fuzz                          # 50,000 inputs per target
//   npm run fuzz -- --scale 20            # 20 times the inputs
//   npm run fuzz -- --only h1-parser,url  # some targets
//   npm run fuzz -- --jobs 2 --seed 7     # two at once, a fixed seed
//   npm run fuzz -- --max-rss 2048        # a target ending above this RSS (MiB) is not ok
// The long run recorded in RELIABILITY.md used --scale 30 --jobs 2.
// Exit code 1 when any target failed, hung or crashed.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** Inputs per target at scale 1, weighted by how fast each runs. */
const BASE = {
  'h1-parser': 100_000,
  chunked: 50_000,
  connect: 50_000,
  socks: 50_000,
  decoders: 35_000,
  'decoders-streaming': 7_000,
  url: 50_000,
  dns: 50_000,
};
/** Seconds per 10,000 inputs allowed before a target counts as hung (generous: the machine may be busy). */
const SECONDS_PER_10K = { 'decoders-streaming': 120, default: 30 };

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1];
};
const scale = Number(opt('scale', '1'));
const jobs = Number(opt('jobs', '1'));
const seed = opt('seed', String(Date.now() % 2 ** 31));
const only = opt('only', null)?.split(',') ?? Object.keys(BASE);
/** Memory that keeps growing with the inputs is a leak: a target ending above this RSS (MiB) is not ok. */
const maxRss = Number(opt('max-rss', '1024'));

const root = join(import.meta.dirname, '..');
const queue = only.map((name) => ({ name, inputs: Math.round((BASE[name] ?? 10_000) * scale) }));
const results = [];

function run({ name, inputs }) {
  return new Promise((resolve) => {
    const limit = ((SECONDS_PER_10K[name] ?? SECONDS_PER_10K.default) * Math.max(inputs, 10_000)) / 10_000;
    const started = Date.now();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/fuzz/run.ts', name, String(inputs), seed],
      {
        cwd: root,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limit * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      const last = out.trim().split('\n').pop() ?? '';
      let summary = {};
      try {
        summary = JSON.parse(last);
      } catch {}
      const outcome = hung
        ? 'hang'
        : code !== 0
          ? summary.failed
            ? 'failed'
            : 'crash'
          : (summary.rssMiB ?? 0) > maxRss
            ? 'memory'
            : 'ok';
      const r = {
        name,
        outcome,
        inputs: summary.inputs ?? summary.after ?? 0,
        seconds: Math.round((Date.now() - started) / 1000),
        ...summary,
      };
      results.push(r);
      console.log(
        `${name}: ${outcome}, ${r.inputs.toLocaleString('en')} inputs in ${r.seconds} s, RSS ${summary.rssMiB ?? '?'} MiB${summary.counterexample ? `, counterexample ${summary.counterexample}` : ''}`,
      );
      if (outcome !== 'ok' && err) console.log(err.slice(0, 4000));
      resolve();
    });
  });
}

console.log(`fuzzing ${queue.length} targets, seed ${seed}, scale ${scale}, ${jobs} at a time`);
const workers = Array.from({ length: Math.max(1, jobs) }, async () => {
  for (let next = queue.shift(); next !== undefined; next = queue.shift()) await run(next);
});
await Promise.all(workers);
const total = results.reduce((n, r) => n + r.inputs, 0);
const bad = results.filter((r) => r.outcome !== 'ok');
console.log(
  `total: ${total.toLocaleString('en')} inputs, ${bad.length === 0 ? 'no failure, hang or crash' : `${bad.length} target(s) not ok: ${bad.map((r) => `${r.name} (${r.outcome})`).join(', ')}`}`,
);
console.log(JSON.stringify({ seed, scale, total, results }));
process.exit(bad.length === 0 ? 0 : 1);
