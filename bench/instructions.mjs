#!/usr/bin/env node
// Instructions per request, counted by valgrind (callgrind): a CPU figure that
// does not depend on what else the machine is doing, so it can be recorded
// per commit and a regression seen without a quiet machine.
//
//   npm run bench:instructions            (or node bench/instructions.mjs)
//
// Each client runs in a child `node --single-threaded` under
// `valgrind --tool=callgrind` twice: once with N1 requests and once with N2.
// Startup, module loading, JIT warm-up and teardown are the same in both, so
// (instructions(N2) - instructions(N1)) / (N2 - N1) is what one more request
// costs in the client process, in steady state. The server (nginx when
// installed, else the bench's node server) runs outside valgrind.
// --single-threaded keeps V8's compiler and GC on the main thread, which is
// what makes the count repeatable (background compilation would race it).
//
// Knobs: BENCH_INSTR_CLIENTS (comma list of the client names below),
// BENCH_INSTR_N1 / BENCH_INSTR_N2 (request counts, default 3000 / 12000),
// BENCH_INSTR_CONCURRENCY (default 1), BENCH_INSTR_OUT (JSON result path,
// default bench/results/instructions.json), BENCH_INSTR_PROTOCOL=h2 (the
// HTTP/2 clients over one TLS connection, 100 in flight, instead of HTTP/1.1).

import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchCerts } from './lib/certs.mjs';
import { findBinary, pinning, startServer } from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const CHILD = path.join(HERE, 'lib', 'instructions-client.mjs');

const H2 = process.env.BENCH_INSTR_PROTOCOL === 'h2';
const ALL = H2
  ? ['raw node:http2', 'urllib3-ts', 'urllib3-ts pool', 'undici.request']
  : ['raw socket', 'urllib3-ts', 'urllib3-ts pool', 'undici.request', 'node:http'];
const list = (v, d) =>
  v
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : d;
const clients = list(process.env.BENCH_INSTR_CLIENTS, ALL);
const n1 = Number(process.env.BENCH_INSTR_N1 ?? 3000);
const n2 = Number(process.env.BENCH_INSTR_N2 ?? 12000);
const concurrency = Number(process.env.BENCH_INSTR_CONCURRENCY ?? (H2 ? 100 : 1));
const out = process.env.BENCH_INSTR_OUT ?? path.join(HERE, 'results', 'instructions.json');
if (!(n2 > n1 && n1 > 0)) throw new Error('BENCH_INSTR_N2 must be larger than BENCH_INSTR_N1 > 0');

if (findBinary('valgrind') === null) {
  console.log('valgrind is not installed: no instruction counts (apt-get install valgrind)');
  process.exit(0);
}

// The commit measured: HEAD when the build starts, marked when src/ has uncommitted changes.
const git = (...args) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
const dirty = git('status', '--porcelain', '--', 'src') !== '';
const commit = `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted src/ changes' : ''}`;
// A build of its own (not dist/), so that a build or a bench started meanwhile cannot change
// the code between the two runs of a client.
const OWN = path.join(ROOT, '.tmp', 'instructions-build');
const OWN_DIST = path.join(OWN, 'dist');
rmSync(OWN, { recursive: true, force: true });
const build = spawnSync(
  process.execPath,
  [
    path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'),
    '-p',
    'tsconfig.build.json',
    '--outDir',
    OWN_DIST,
  ],
  { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (build.status !== 0) throw new Error('the TypeScript build failed');
// The User-Agent's version comes from the package.json beside dist/.
copyFileSync(path.join(ROOT, 'package.json'), path.join(OWN, 'package.json'));

function count(client, origin, n, ca) {
  const r = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--single-threaded',
      '--max-semi-space-size=16',
      CHILD,
      JSON.stringify({ client, origin, n, concurrency, ca, h2: H2 }),
    ],
    {
      encoding: 'utf8',
      timeout: 900_000,
      env: { ...process.env, BENCH_DIST: OWN_DIST, BENCH_COMPARE_DIST: '' },
    },
  );
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null)
    throw new Error(`${client} (${n} requests): ${r.stderr?.slice(-2000) ?? r.error}`);
  const done = Number(/requests=(\d+)/.exec(r.stdout)?.[1]);
  if (done !== n) throw new Error(`${client}: ran ${done} requests, expected ${n}`);
  return Number(m[1]);
}

const certs = H2 ? await makeBenchCerts() : null;
const server = await startServer(
  pinning(),
  1,
  certs === null
    ? null
    : { certFile: certs.certFile, keyFile: certs.keyFile, caPem: certs.caPem, maxStreams: 128 },
);
if (H2 && server.h2 === null) throw new Error(`no HTTP/2 server: ${server.h2Error}`);
const origin = H2 ? server.h2.origin : server.origin;
const ca = certs?.caPem ?? null;
const rows = [];
try {
  for (const client of clients) {
    const a = count(client, origin, n1, ca);
    const b = count(client, origin, n2, ca);
    const perRequest = Math.round((b - a) / (n2 - n1));
    rows.push({ client, perRequest, startup: a - perRequest * n1 });
    process.stderr.write(`${client}: ${perRequest.toLocaleString('en-US')} instructions per request\n`);
  }
} finally {
  await server.stop();
  certs?.remove();
}

const raw = rows.find((r) => r.client.startsWith('raw '))?.perRequest ?? null;
const undici = rows.find((r) => r.client === 'undici.request')?.perRequest ?? null;
console.log(
  `${H2 ? 'HTTP/2, one TLS connection' : 'HTTP/1.1 keep-alive'}, small GET, concurrency ${concurrency}: client instructions per request (callgrind, ${n2 - n1} requests between the two runs), commit ${commit}\n`,
);
console.log(
  `| client | instructions / request | x ${H2 ? 'raw node:http2' : 'raw socket'} | x undici.request |`,
);
console.log('|:--|--:|--:|--:|');
for (const r of rows) {
  const ratio = (base) => (base === null ? '-' : (r.perRequest / base).toFixed(2));
  console.log(`| ${r.client} | ${r.perRequest.toLocaleString('en-US')} | ${ratio(raw)} | ${ratio(undici)} |`);
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ commit, protocol: H2 ? 'h2' : 'h1', n1, n2, concurrency, rows }, null, 2)}\n`,
);
