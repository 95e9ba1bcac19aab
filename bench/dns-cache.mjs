#!/usr/bin/env node
// What a cached resolution costs when a new connection is opened:
//   node bench/dns-cache.mjs [calls=200000] [batches=7]
// On keep-alive reuse no resolution happens at all; a new connection awaits
// resolver.getaddrinfo() once (src/connection/dialer.ts) before connecting.
// This times that call, sequentially awaited `calls` times per batch, in one
// process pinned to the bench's client core, for:
//   floor        `await` of an async function that returns a fixed list: the
//                least any asynchronous resolver call can cost;
//   dou, warm    a `dou://` resolver whose cache holds the name's A answer and
//                its AAAA NODATA (family 0: both looked up), and family 4;
//   in-memory    `in-memory://` (a table lookup, no cache involved);
//   system       the system resolver on `localhost` (dns.lookup through the
//                libuv thread pool, uncached: what every new connection pays
//                by default), fewer calls.
// The dou resolver asks a tiny UDP DNS server in this same process
// (bench/lib/dns-server.mjs, names under dnsbench.test, TTL 3600, SOA for
// negative answers) once per family during the warm-up; the script checks
// that the server got no query during the measured batches, i.e. that every
// measured call was a cache hit.
// The library is measured from dist/ (run `npm run build` first, or
// `npm run bench` once, when src/ changed).

import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startDnsServer } from './lib/dns-server.mjs';
import { pinning, pinPid } from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = pathToFileURL(
  path.join(path.resolve(process.env.BENCH_DIST ?? path.join(HERE, '..', 'dist')), 'index.js'),
).href;
const calls = Number(process.argv[2] ?? 200_000);
const batches = Number(process.argv[3] ?? 7);
const systemCalls = Math.max(1000, Math.round(calls / 40));

const pin = pinning();
if (pin.enabled) pinPid(pin, process.pid, pin.clientCore);

const { ResolverDescription, SystemResolver } = await import(DIST);
const dns = await startDnsServer({ zone: 'dnsbench.test', ttl: 3600 });
const NAME = 'bench.dnsbench.test';
const dou = ResolverDescription.fromUrl(`dou://127.0.0.1:${dns.port}`).new();
const mem = ResolverDescription.fromUrl(`in-memory://default?hosts=${NAME}:127.0.0.1`).new();
const sys = new SystemResolver();
const FIXED = [{ address: '127.0.0.1', family: 4, port: 80 }];
const floor = async () => FIXED;

const cases = [
  { name: 'floor (await of an async function)', n: calls, call: () => floor() },
  { name: 'dou, warm cache, family 0 (A + AAAA)', n: calls, call: () => dou.getaddrinfo(NAME, 80) },
  { name: 'dou, warm cache, family 4', n: calls, call: () => dou.getaddrinfo(NAME, 80, { family: 4 }) },
  { name: 'in-memory, family 0', n: calls, call: () => mem.getaddrinfo(NAME, 80) },
  {
    name: 'system (dns.lookup), localhost, uncached',
    n: systemCalls,
    call: () => sys.getaddrinfo('localhost', 80),
  },
];

// Warm-up: fills the dou cache (one A and one AAAA query), and the JIT.
const first = await dou.getaddrinfo(NAME, 80);
if (first.length !== 1 || first[0].address !== '127.0.0.1')
  throw new Error(`dou answered ${JSON.stringify(first)}`);
for (const c of cases) for (let i = 0; i < Math.min(c.n, 20_000); i++) await c.call();
const queriesBefore = dns.queries();

const perCall = new Map(cases.map((c) => [c.name, []]));
for (let b = 0; b < batches; b++) {
  for (const c of cases) {
    const t0 = performance.now();
    for (let i = 0; i < c.n; i++) await c.call();
    perCall.get(c.name).push(((performance.now() - t0) * 1e6) / c.n);
  }
}
const queriesDuring = dns.queries() - queriesBefore;
await dou.close();
await mem.close();
await dns.close();

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
const floorNs = median(perCall.get(cases[0].name));
console.log(
  `resolver.getaddrinfo() awaited one call at a time, ns per call (median of ${batches} batches of ${calls.toLocaleString('en-US')} calls; system: ${systemCalls.toLocaleString('en-US')})\n`,
);
console.log('| resolver | ns per call | above the floor | spread |');
console.log('|:--|--:|--:|--:|');
for (const c of cases) {
  const xs = perCall.get(c.name);
  const m = median(xs);
  const spread = ((Math.max(...xs) - Math.min(...xs)) / 2 / m) * 100;
  console.log(
    `| ${c.name} | ${Math.round(m).toLocaleString('en-US')} | ${c === cases[0] ? '-' : Math.round(m - floorNs).toLocaleString('en-US')} | ±${spread.toFixed(0)}% |`,
  );
}
console.log(
  `\nDNS server queries during the measured batches: ${queriesDuring} (${queriesBefore} during the warm-up); every dou call above was ${queriesDuring === 0 ? 'a cache hit' : 'NOT a cache hit'}.`,
);
const warm = median(perCall.get(cases[1].name));
console.log(
  `Target (issue 12): a cached resolution adds under 2 µs: ${warm < 2000 ? 'met' : 'NOT MET'} (${(warm / 1000).toFixed(2)} µs per dou getaddrinfo(), family 0).`,
);
if (queriesDuring !== 0) process.exitCode = 1;
