#!/usr/bin/env node
// What a cold `dou://` lookup costs the client:
//   node bench/dns-cold.mjs [rounds=40] [passes=3]
// A round is what the cold start of the dns-200-names workload asks: 200
// names under dnsbench.test, all at once, family 0 (an AAAA and an A query
// each: 400 queries), through a new `dou://` resolver (cold cache, new UDP
// sockets) against unbound (bench/lib/unbound.mjs, pinned to the server
// core), then the resolver closed. The client is pinned to the client core
// and its CPU (user + system, process.cpuUsage) is divided by the queries.
// Beside it, the floor: a raw loop on one connected dgram socket that sends
// the same 400 queries, at most 64 on the wire (dou's limit), and counts
// the answers without decoding them - the send and receive system calls and
// Node's dgram path, nothing else. Rounds alternate between the two, `passes`
// times; each pass starts with 3 unmeasured rounds of each. The last pass is
// the figure (the first carries the JIT's warm-up).
// The library is measured from dist/ (BENCH_DIST names another build);
// BENCH_COMPARE_DIST=<dir> adds a third client, the `dou://` of that build
// (e.g. an older commit: `npx tsc -p tsconfig.build.json --outDir <dir>` in a
// worktree), taking turns with the others in the same process, so an A/B is
// not at the mercy of the machine's drift from one process to the next.

import dgram from 'node:dgram';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pinning, pinPid } from './lib/servers.mjs';
import { DNS_ZONE, findUnbound, startUnbound } from './lib/unbound.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const distUrl = (dir) => pathToFileURL(path.join(path.resolve(dir), 'index.js')).href;
const DIST = distUrl(process.env.BENCH_DIST ?? path.join(HERE, '..', 'dist'));
const COMPARE = process.env.BENCH_COMPARE_DIST ? distUrl(process.env.BENCH_COMPARE_DIST) : null;
const rounds = Number(process.argv[2] ?? 40);
const passes = Number(process.argv[3] ?? 3);
const IN_FLIGHT = 64;

if (findUnbound() === null) {
  console.log('skipped: unbound is not installed (Debian: apt-get install unbound)');
  process.exit(0);
}
const A = await import(DIST);
const B = COMPARE === null ? null : await import(COMPARE);
const pin = pinning();
const names = Array.from({ length: 200 }, (_, i) => `n${i}.${DNS_ZONE}`);
const unbound = await startUnbound(pin, names);
if (pin.enabled) pinPid(pin, process.pid, pin.clientCore);

/** A query with one question and no EDNS: the floor needs bytes, not a codec. */
function query(id, name, type) {
  const parts = [Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0])];
  for (const label of name.split('.')) parts.push(Buffer.from([label.length]), Buffer.from(label));
  parts.push(Buffer.from([0, 0, type, 0, 1]));
  return Buffer.concat(parts);
}
const queries = names.flatMap((n, i) => [query(2 * i, n, 28), query(2 * i + 1, n, 1)]);

async function rawRound() {
  const s = dgram.createSocket('udp4');
  await new Promise((resolve) => s.connect(unbound.port, '127.0.0.1', resolve));
  let sent = 0;
  let answered = 0;
  await new Promise((resolve) => {
    s.on('message', () => {
      answered++;
      if (sent < queries.length) s.send(queries[sent++]);
      if (answered === queries.length) resolve();
    });
    while (sent < IN_FLIGHT) s.send(queries[sent++]);
  });
  s.close();
}

async function douRound(lib) {
  const r = lib.ResolverDescription.fromUrl(`dou://127.0.0.1:${unbound.port}`).new();
  const got = await Promise.all(names.map((n) => r.getaddrinfo(n, 80)));
  if (got.some((a) => a.length !== 1 || a[0].address !== '127.0.0.1')) throw new Error('a wrong answer');
  await r.close();
}

const cases = [
  { name: 'raw dgram loop (the floor)', run: rawRound },
  { name: 'dou:// resolver, cold', run: () => douRound(A) },
  ...(B === null ? [] : [{ name: 'dou:// resolver, cold (BENCH_COMPARE_DIST)', run: () => douRound(B) }]),
];
const results = [];
try {
  for (let pass = 0; pass < passes; pass++) {
    for (const c of cases) for (let i = 0; i < 3; i++) await c.run();
    for (const c of cases) {
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      for (let i = 0; i < rounds; i++) await c.run();
      const used = process.cpuUsage(cpu);
      results.push({
        pass,
        name: c.name,
        cpuUsPerQuery: (used.user + used.system) / rounds / queries.length,
        msPerRound: (performance.now() - t0) / rounds,
      });
    }
  }
} finally {
  await unbound.stop();
}
console.log(
  `400 queries per round (200 names, AAAA + A) to unbound ${unbound.version}, ${rounds} rounds per pass\n`,
);
console.log('| pass | client | CPU µs per query | ms per round |');
console.log('|--:|:--|--:|--:|');
for (const r of results) {
  console.log(`| ${r.pass + 1} | ${r.name} | ${r.cpuUsPerQuery.toFixed(1)} | ${r.msPerRound.toFixed(2)} |`);
}
