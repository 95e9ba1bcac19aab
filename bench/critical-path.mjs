#!/usr/bin/env node
// Where a sequential (concurrency 1) request's time goes, layer by layer:
//   node bench/critical-path.mjs [requests=15000] [rounds=2]
// Against the bench's nginx (server on core 0, clients on core 1), each of
// raw socket / HTTPConnection / HTTPConnectionPool / PoolManager sends
// `requests` GETs one after the other, in a child process of its own, and
// net.Socket's write() and 'data' emit are wrapped to time, per request:
//   round trip   the socket write() call until the response's 'data' event
//                (the kernel, nginx, and the two cross-core wake-ups);
//   handler      the 'data' listeners themselves (parsing, the response,
//                handing the connection back);
//   deliver      'data' until the awaiting caller has its response (handler,
//                then Node's stream ticks and the promise chain);
//   issue        the caller's next request() call until its write();
//   data->write  deliver + issue: the client's share of the critical path.
// The raw socket answers inside its 'data' listener, so its data->write is
// the whole of its per-request JavaScript. The wrappers cost about 0.2 µs
// per request each; all clients pay them. (urllib3-ts reads plain-HTTP
// sockets through net.connect's onread; that callback is timed instead of
// the 'data' event.)
// Two PoolManager variants reach the server by name instead of 127.0.0.1:
//   PoolManager system   http://localhost:PORT through the default system
//                        resolver (dns.lookup; /etc/hosts);
//   PoolManager dou      http://bench.dnsbench.test:PORT through
//                        `dou://127.0.0.1:DNSPORT`, a tiny UDP DNS server in
//                        the client process (bench/lib/dns-server.mjs; dou is
//                        the scheme with a cache, and a server in the same
//                        process keeps the layer self-contained).
// On keep-alive reuse neither resolves anything: these rows show that a
// resolver adds nothing per request once the connection exists (the dou row
// prints how many DNS queries the measured runs made: none). What a cached
// resolution costs when a connection is opened is bench/dns-cache.mjs.

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PATHS } from './lib/payloads.mjs';
import { pinnedCommand, pinning, pinPid, startServer } from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const DIST = pathToFileURL(
  path.join(path.resolve(process.env.BENCH_DIST ?? path.join(HERE, '..', 'dist')), 'index.js'),
).href;
const requests = Number(process.argv[2] ?? 15000);
const rounds = Number(process.argv[3] ?? 2);
const KINDS = [
  'raw socket',
  'HTTPConnection',
  'HTTPConnectionPool',
  'PoolManager',
  'PoolManager system',
  'PoolManager dou',
];
// BENCH_LAYERS (comma list of the names above) runs some of them; the x raw column needs 'raw socket'.
const LAYERS = process.env.BENCH_LAYERS ? process.env.BENCH_LAYERS.split(',').map((s) => s.trim()) : KINDS;
for (const l of LAYERS) if (!KINDS.includes(l)) throw new Error(`unknown layer ${l} (BENCH_LAYERS)`);
const DNS_SERVER = pathToFileURL(path.join(HERE, 'lib', 'dns-server.mjs')).href;

const CHILD = `
import net from 'node:net';
const [kind, origin, n, rounds, target] = JSON.parse(process.argv[1]);
const { PoolManager, HTTPConnectionPool, HTTPConnection } = await import(${JSON.stringify(DIST)});
const u = new URL(origin);
let tWrite = 0, tData = 0, tGot = 0;
let rtt = 0, handler = 0, deliver = 0, issue = 0, gap = 0, gaps = 0;
const write = net.Socket.prototype.write;
net.Socket.prototype.write = function (...a) {
  const now = performance.now();
  if (tData !== 0) {
    gap += now - tData; gaps++;
    if (tGot !== 0) { deliver += tGot - tData; issue += now - tGot; tGot = 0; }
    tData = 0;
  }
  tWrite = now;
  return write.apply(this, a);
};
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (ev, ...a) {
  if (ev !== 'data') return emit.call(this, ev, ...a);
  const now = performance.now();
  tData = now; rtt += now - tWrite;
  const r = emit.call(this, ev, ...a);
  handler += performance.now() - now;
  return r;
};
// Plain-HTTP sockets of urllib3-ts read through net.connect's onread (no
// 'data' events): time those callbacks the same way.
const connect = net.connect;
net.connect = function (opts, ...rest) {
  if (opts !== null && typeof opts === 'object' && opts.onread) {
    const cb = opts.onread.callback;
    opts = { ...opts, onread: { ...opts.onread, callback(nread, buf) {
      const now = performance.now();
      tData = now; rtt += now - tWrite;
      const r = cb(nread, buf);
      handler += performance.now() - now;
      return r;
    } } };
  }
  return connect.call(this, opts, ...rest);
};
function raw(count) {
  const req = Buffer.from('GET ' + target + ' HTTP/1.1\\r\\nHost: ' + u.host + '\\r\\n\\r\\n', 'latin1');
  const s = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true });
  return new Promise((resolve, reject) => {
    let i = 0, buf = Buffer.alloc(0);
    s.on('error', reject);
    s.on('connect', () => s.write(req));
    s.on('data', (d) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      const end = buf.indexOf('\\r\\n\\r\\n');
      if (end < 0) return;
      const len = Number(/content-length:\\s*(\\d+)/i.exec(buf.toString('latin1', 0, end))[1]);
      if (buf.length < end + 4 + len) return;
      buf = buf.subarray(end + 4 + len);
      if (++i === count) { s.destroy(); resolve(); return; }
      s.write(req);
    });
  });
}
const pm = new PoolManager();
const pool = new HTTPConnectionPool(u.hostname, { port: Number(u.port) });
const conn = new HTTPConnection(u.hostname, { port: Number(u.port) });
const url = origin + target;
// The by-name variants (see the header of bench/critical-path.mjs).
let dnsServer = null, pmDou = null, pmSystem = null;
if (kind === 'PoolManager dou') {
  const { startDnsServer } = await import(${JSON.stringify(DNS_SERVER)});
  dnsServer = await startDnsServer({ zone: 'dnsbench.test', ttl: 3600 });
  pmDou = new PoolManager({ resolver: 'dou://127.0.0.1:' + dnsServer.port });
}
if (kind === 'PoolManager system') pmSystem = new PoolManager();
const douUrl = 'http://bench.dnsbench.test:' + u.port + target;
const systemUrl = 'http://localhost:' + u.port + target;
const check = (r) => { if (r.status !== 200) throw new Error('status ' + r.status); };
const run = {
  'raw socket': () => raw(n),
  HTTPConnection: async () => { for (let i = 0; i < n; i++) { await conn.request('GET', target); const r = await conn.getResponse(); tGot = performance.now(); check(r); } },
  HTTPConnectionPool: async () => { for (let i = 0; i < n; i++) { const r = await pool.request('GET', target); tGot = performance.now(); check(r); } },
  PoolManager: async () => { for (let i = 0; i < n; i++) { const r = await pm.request('GET', url); tGot = performance.now(); check(r); } },
  'PoolManager system': async () => { for (let i = 0; i < n; i++) { const r = await pmSystem.request('GET', systemUrl); tGot = performance.now(); check(r); } },
  'PoolManager dou': async () => { for (let i = 0; i < n; i++) { const r = await pmDou.request('GET', douUrl); tGot = performance.now(); check(r); } },
}[kind];
await run(); // warm-up
const dnsQueriesBefore = dnsServer === null ? 0 : dnsServer.queries();
const out = [];
for (let k = 0; k < rounds; k++) {
  rtt = handler = deliver = issue = gap = 0; gaps = 0;
  const t0 = performance.now();
  await run();
  const dt = performance.now() - t0;
  const us = (x, d = n) => Math.round((1000 * x) / d * 10) / 10;
  out.push({ rps: Math.round((n * 1000) / dt), rtt: us(rtt), handler: us(handler), deliver: kind === 'raw socket' ? null : us(deliver, gaps), issue: kind === 'raw socket' ? null : us(issue, gaps), gap: us(gap, gaps), dnsQueries: dnsServer === null ? null : dnsServer.queries() - dnsQueriesBefore });
}
console.log(JSON.stringify(out));
await pm.close(); await pool.close(); await conn.close();
await pmDou?.close(); await pmSystem?.close(); await dnsServer?.close();
`;

const pin = pinning();
if (pin.enabled) pinPid(pin, process.pid, pin.clientCore);
const server = await startServer(pin, 1);
const results = Object.fromEntries(LAYERS.map((k) => [k, []]));
try {
  // Interleaved: raw, conn, pool, manager, raw, conn ... so drift hits all alike.
  for (let pass = 0; pass < 2; pass++) {
    for (const kind of LAYERS) {
      const [cmd, args] = pinnedCommand(pin, pin.clientCore, process.execPath, [
        '--input-type=module',
        '-e',
        CHILD,
        JSON.stringify([kind, server.origin, requests, rounds, PATHS.small]),
      ]);
      const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
      if (r.status !== 0) throw new Error(`${kind}: ${r.stderr || r.error}`);
      results[kind].push(...JSON.parse(r.stdout.trim().split('\n').pop()));
    }
  }
} finally {
  await server.stop();
}

const median = (xs) => {
  const s = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return s.length === 0 ? null : s[s.length >> 1];
};
const fmt = (x) => (x === null ? '-' : String(x));
const rawRps = results['raw socket'] ? median(results['raw socket'].map((r) => r.rps)) : null;
console.log(
  `concurrency 1, ${requests} GETs per run, ${results[LAYERS[0]].length} runs per client (medians, µs per request)\n`,
);
console.log('| client | req/s | x raw | round trip | handler | deliver | issue | data->write |');
console.log('|:--|--:|--:|--:|--:|--:|--:|--:|');
for (const kind of LAYERS) {
  const rs = results[kind];
  const rps = median(rs.map((r) => r.rps));
  const row = [kind, rps.toLocaleString('en-US'), rawRps === null ? '-' : (rps / rawRps).toFixed(2)];
  for (const f of ['rtt', 'handler', 'deliver', 'issue', 'gap']) row.push(fmt(median(rs.map((r) => r[f]))));
  console.log(`| ${row.join(' | ')} |`);
}
const douQueries = (results['PoolManager dou'] ?? []).map((r) => r.dnsQueries);
if (douQueries.length > 0)
  console.log(
    `\nPoolManager dou: ${douQueries.join(', ')} DNS queries in its measured runs (keep-alive reuse resolves nothing; the warm-up's first connection asked once per family). The cost of a cached resolution on a new connection: node bench/dns-cache.mjs`,
  );
