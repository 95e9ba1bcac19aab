#!/usr/bin/env node
// `npm run bench`: urllib3-ts against its peers, side by side in one run.
//
// One process tree: this process starts the server (nginx when installed,
// else bench/lib/node-server.mjs, plus bench/lib/node-h2-server.mjs for
// HTTP/2) pinned to core 0, and client processes pinned to core 1 (workers,
// bench/lib/worker.mjs; python3 for the Python peer). Clients are
// interleaved (A B C A B C ...): every round runs each client once, after
// one warm-up run per client and workload; the tables show medians over the
// rounds with each client's ratio to its peers, and the chart
// (bench/results/ratios.svg) urllib3-ts's ratios against the targets.
// Every run is bounded in time and in request count, and the whole bench by
// a watchdog. Results also go to bench/results/latest.json.
//
// Workloads: the HTTP/1.1 keep-alive ones and the PoolManager check are
// here; the others live in workload modules under bench/lib/
// (*-workload.mjs), registered in WORKLOAD_MODULES, one line each. A module
// exports default { config?(envInt, envList, base) -> settings merged into
// the config, workloads: [{ id, title, order, tls?, run(ctx), render(result,
// table), targets?(result), checks?(result), chart?(result) }] }, where ctx is
// { config, server, pin, log, startWorker } (BENCHMARKS.md, "Adding a
// workload").
//
// The library is measured from the compiled dist/ (what users import); dist
// is rebuilt first when any file under src/ is newer. See BENCHMARKS.md for
// the knobs (BENCH_* environment variables).

import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchCerts } from './lib/certs.mjs';
import { resultsChartSvg } from './lib/chart.mjs';
import { DNS_WORKLOAD_ID, dnsConfig, dnsTargets, renderDns, runDnsNames } from './lib/dns-workload.mjs';
import downloadWorkload from './lib/download-workload.mjs';
import { envInt, envList } from './lib/env.mjs';
import h2Workloads from './lib/h2-workload.mjs';
import h3Workloads from './lib/h3-workload.mjs';
import { ensureBuilt, machine } from './lib/machine.mjs';
import manyOriginsWorkload from './lib/many-origins-workload.mjs';
import { quietGuard, quietRun } from './lib/quiet.mjs';
import { measureRounds, setUpRows } from './lib/rounds.mjs';
import { pinning, pinPid, startServer } from './lib/servers.mjs';
import { median, summarise } from './lib/stats.mjs';
import { fmtInt, fmtRatio, leadCells, table } from './lib/table.mjs';
import { startWorker } from './lib/worker-process.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

// ---- configuration ----------------------------------------------------------------

const KEEPALIVE_CLIENTS = [
  'raw socket',
  'urllib3-ts',
  'urllib3-ts pool',
  'undici.request',
  'undici.fetch',
  'node:http',
  'axios',
  'got',
  'node-fetch',
];
if (process.env.BENCH_COMPARE_DIST) KEEPALIVE_CLIENTS.splice(3, 0, 'urllib3-ts B', 'urllib3-ts pool B');

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

/** The issue-17 targets of the small GETs (issue 3's for the POST): [x undici, x raw]. */
const KEEPALIVE_TARGETS = {
  'get-c1': [1.5, 0.9],
  'get-c10': [1.5, 0.9],
  'get-c50': [1.5, 0.9],
  'post-c10': [1.2, null],
};

/** A keep-alive workload: `concurrency` requests in flight, one per connection. */
const keepAlive = (id, workload, concurrency, title, order) => ({
  id,
  title,
  order,
  run: (ctx) => runKeepAlive(id, { workload, concurrency, title }, ctx.server, keepAliveWorkers(ctx.pin)),
  render: renderKeepAlive,
  targets: keepAliveTargets,
  chart: (w) => {
    const r = w.rows.find((x) => x.client === 'urllib3-ts');
    const [undici, raw] = KEEPALIVE_TARGETS[id];
    return [
      { label: 'x undici.request', value: r?.vsUndici ?? null, target: undici },
      { label: 'x raw socket', value: r?.vsRaw ?? null, target: raw ?? undefined },
    ];
  },
});

const KEEPALIVE_WORKLOADS = {
  workloads: [
    keepAlive('get-c1', 'get', 1, 'small GET (100 B), keep-alive, concurrency 1', 30),
    keepAlive('get-c10', 'get', 10, 'small GET (100 B), keep-alive, concurrency 10', 10),
    keepAlive('get-c50', 'get', 50, 'small GET (100 B), keep-alive, concurrency 50', 20),
    keepAlive('post-c10', 'post', 10, 'POST 1 KiB JSON, JSON response, concurrency 10', 40),
  ],
};

const POOLMANAGER_WORKLOAD = {
  workloads: [
    {
      id: 'poolmanager',
      title: '1000 distinct-path GETs through PoolManager({ maxSize: 10 }), concurrency 10',
      order: 70,
      run: (ctx) => runDistinct('poolmanager', { title: ctx.title }, ctx.server, ctx.pin),
      render: renderDistinct,
      targets: distinctTargets,
    },
  ],
};

// Issue 12: dou:// against unbound vs the system resolver (bench/lib/dns-workload.mjs).
const dnsModule = {
  config: (envInt, envList, base) => dnsConfig(envInt, base.rounds),
  workloads: [
    {
      id: DNS_WORKLOAD_ID,
      title: 'GETs to distinct names: dou:// vs the system resolver',
      order: 80,
      run: (ctx) => runDnsNames({ kind: 'dns' }, ctx.server, ctx.pin, ctx),
      render: renderDns,
      targets: dnsTargets,
    },
  ],
};

// Workload modules, one line each: the tables follow this list, the run follows each workload's `order`.
const WORKLOAD_MODULES = [
  KEEPALIVE_WORKLOADS,
  h2Workloads,
  downloadWorkload,
  POOLMANAGER_WORKLOAD,
  manyOriginsWorkload,
  dnsModule,
  h3Workloads,
];

const WORKLOADS = new Map(WORKLOAD_MODULES.flatMap((m) => m.workloads).map((w) => [w.id, w]));
const TABLE_ORDER = [...WORKLOADS.keys()];

const clientFilter = envList('BENCH_CLIENTS', null);
const rounds = envInt('BENCH_ROUNDS', 3);
const base = { rounds, clientFilter };
const config = {
  rounds,
  durationMs: envInt('BENCH_DURATION_MS', 600),
  warmupMs: envInt('BENCH_WARMUP_MS', 400),
  // A worker's first workload also warms up the JIT, which takes longer than a warm-up per workload.
  firstWarmupMs: envInt('BENCH_FIRST_WARMUP_MS', 1200),
  maxRequests: envInt('BENCH_MAX_REQUESTS', 1_000_000),
  workloads: envList('BENCH_WORKLOADS', TABLE_ORDER),
  clientFilter,
  clients: KEEPALIVE_CLIENTS.filter((c) => clientFilter === null || clientFilter.includes(c)),
  distinctTotal: envInt('BENCH_DISTINCT_REQUESTS', 1000),
  distinctRounds: envInt('BENCH_DISTINCT_ROUNDS', 3),
  ...Object.assign({}, ...WORKLOAD_MODULES.map((m) => m.config?.(envInt, envList, base) ?? {})),
  timeoutS: envInt('BENCH_TIMEOUT_S', 1200),
  out: process.env.BENCH_OUT ?? path.join(HERE, 'results', 'latest.json'),
  chartOut: process.env.BENCH_CHART ?? path.join(HERE, 'results', 'ratios.svg'),
};
for (const w of config.workloads)
  if (!WORKLOADS.has(w))
    throw new Error(`unknown workload ${w} (BENCH_WORKLOADS; known: ${TABLE_ORDER.join(', ')})`);

// ---- keep-alive workloads and the PoolManager check ------------------------------

// The keep-alive clients' long-lived workers, one per client, shared by the keep-alive workloads.
let keepAliveWorkerMap = null;
let keepAliveWorkersStarting = null;
function keepAliveWorkers(pin) {
  keepAliveWorkersStarting ??= (async () => {
    keepAliveWorkerMap = new Map();
    for (const client of config.clients) keepAliveWorkerMap.set(client, await startWorker(pin));
    return keepAliveWorkerMap;
  })();
  return keepAliveWorkersStarting;
}

/** Keep-alive clients whose worker has had its first (longer) warm-up. */
const warmedUp = new Set();

async function runKeepAlive(id, spec, server, workersReady) {
  const workers = await workersReady;
  const rows = config.clients.map((client) => ({ client, rounds: [] }));
  const setupTimeout = 30_000;
  const runTimeout = config.durationMs + 30_000;
  log(`\n${spec.title}`);
  await setUpRows(rows, log, async (row) => {
    const w = workers.get(row.client);
    await w.call(
      'setup',
      { client: row.client, origin: server.origin, concurrency: spec.concurrency, workload: spec.workload },
      setupTimeout,
    );
    // A worker's first workload also warms up the JIT: it gets the longer warm-up.
    const warmupMs = warmedUp.has(row.client) ? config.warmupMs : config.firstWarmupMs;
    warmedUp.add(row.client);
    await w.call('run', { durationMs: warmupMs, maxRequests: config.maxRequests }, warmupMs + 30_000);
  });
  await measureRounds({
    rows,
    rounds: config.rounds,
    log,
    measure: (row) => {
      const w = workers.get(row.client);
      return quietRun(
        () => [process.pid, server.pid, w.pid],
        () => w.call('run', { durationMs: config.durationMs, maxRequests: config.maxRequests }, runTimeout),
      );
    },
    describe: (row, r) => `${row.client} ${Math.round(r.reqPerSec)}${r.disturbed ? ' (disturbed)' : ''}`,
  });
  for (const row of rows) {
    if (!row.setupError)
      await workers
        .get(row.client)
        .call('teardown', {}, 10_000)
        .catch(() => {});
  }
  summarise(rows, 'reqPerSec', { vsUndici: 'undici.request', vsRaw: 'raw socket' });
  return { id, title: spec.title, unit: 'req/s', concurrency: spec.concurrency, rows };
}

async function runDistinct(id, spec, server, pin) {
  log(`\n${spec.title}`);
  const w = await startWorker(pin);
  const rounds = [];
  try {
    // One unmeasured pass first, so the req/s column is not the JIT's warm-up.
    await w.call(
      'distinct',
      { origin: server.origin, total: config.distinctTotal, concurrency: 10, maxSize: 10 },
      120_000,
    );
    for (let round = 0; round < config.distinctRounds; round++) {
      const before = await server.connectionsAccepted();
      const r = await w.call(
        'distinct',
        { origin: server.origin, total: config.distinctTotal, concurrency: 10, maxSize: 10 },
        120_000,
      );
      const after = await server.connectionsAccepted();
      // Each stub_status/stats probe is a connection of its own: the second one counts itself.
      r.serverConnections = after - before - 1;
      r.reqPerSec = (r.requests * 1000) / r.elapsedMs;
      rounds.push(r);
      log(
        `  round ${round + 1}/${config.distinctRounds}: ${Math.round(r.reqPerSec)} req/s, ` +
          `${r.serverConnections} TCP connections (server), ${r.poolConnections} (pool.numConnections)`,
      );
    }
  } finally {
    await w.stop();
  }
  return {
    id,
    title: `${config.distinctTotal} distinct-path GETs through PoolManager({ maxSize: 10 }), concurrency 10`,
    unit: 'connections',
    allowed: 10,
    rounds,
    medianReqPerSec: median(rounds.map((r) => r.reqPerSec)),
    maxServerConnections: Math.max(...rounds.map((r) => r.serverConnections)),
    maxPoolConnections: Math.max(...rounds.map((r) => r.poolConnections)),
  };
}

// ---- output -----------------------------------------------------------------------

function renderKeepAlive(w) {
  return `**${w.title}** (req/s, median of ${config.rounds} rounds)\n\n${table(
    ['client', 'req/s', 'spread', 'x undici.request', 'x raw socket', 'client CPU µs/req'],
    w.rows.map((r) => [
      ...leadCells(r),
      fmtRatio(r.vsUndici),
      fmtRatio(r.vsRaw),
      r.cpuUsPerReq === null ? '-' : r.cpuUsPerReq.toFixed(1),
    ]),
  )}`;
}

function renderDistinct(w) {
  return `**${w.title}**\n\n${table(
    ['round', 'req/s', 'TCP connections (server)', 'pool.numConnections', 'allowed'],
    w.rounds.map((r, i) => [
      String(i + 1),
      fmtInt(r.reqPerSec),
      String(r.serverConnections),
      String(r.poolConnections),
      String(w.allowed),
    ]),
  )}`;
}

export function renderMarkdown(results) {
  const out = [];
  for (const w of results.workloads) out.push(WORKLOADS.get(w.id).render(w, table), '');
  return out.join('\n');
}

function keepAliveTargets(w) {
  const r = w.rows.find((x) => x.client === 'urllib3-ts');
  const [undici, raw] = KEEPALIVE_TARGETS[w.id];
  const out = [];
  if (r?.vsUndici != null)
    out.push({
      target: `${w.id}: urllib3-ts >= ${undici}x undici.request`,
      value: r.vsUndici,
      ok: r.vsUndici >= undici,
    });
  if (raw !== null && r?.vsRaw != null)
    out.push({ target: `${w.id}: urllib3-ts >= ${raw}x raw socket`, value: r.vsRaw, ok: r.vsRaw >= raw });
  return out;
}

function distinctTargets(pm) {
  const worst = Math.max(pm.maxServerConnections, pm.maxPoolConnections);
  return [
    {
      target: 'poolmanager: TCP connections opened <= maxSize (10), no churn',
      value: worst,
      ok: worst <= pm.allowed,
    },
  ];
}

function report(label, list, key) {
  if (list.length === 0) return;
  console.log(label);
  for (const t of list) {
    const value = typeof t.value === 'number' && !Number.isInteger(t.value) ? t.value.toFixed(2) : t.value;
    console.log(
      `  ${t.ok ? (key === 'check' ? 'ok     ' : 'met    ') : key === 'check' ? 'FAILED ' : 'NOT MET'}  ${t[key]}: ${value}`,
    );
  }
}

// ---- main -------------------------------------------------------------------------

async function main() {
  const watchdog = setTimeout(() => {
    log(`bench: still running after ${config.timeoutS} s (BENCH_TIMEOUT_S); giving up`);
    process.exit(3);
  }, config.timeoutS * 1000);
  watchdog.unref();
  const t0 = Date.now();
  const rebuilt = ensureBuilt();
  const pin = pinning();
  if (pin.enabled) pinPid(pin, process.pid, pin.clientCore);
  // The HTTP/2 workloads need a TLS origin: certificates made now, removed at the end.
  let certs = null;
  let certError = null;
  if (config.workloads.some((id) => WORKLOADS.get(id).tls)) {
    try {
      certs = await makeBenchCerts();
    } catch (err) {
      certError = err.message;
      log(`HTTP/2 workloads: ${certError}`);
    }
  }
  let server;
  try {
    server = await startServer(
      pin,
      config.downloadMiB,
      certs === null
        ? null
        : {
            certFile: certs.certFile,
            keyFile: certs.keyFile,
            caPem: certs.caPem,
            maxStreams: Math.max(128, config.h2Concurrency, config.h2DownloadConcurrency),
          },
    );
  } catch (err) {
    certs?.remove();
    throw err;
  }
  if (certError !== null) server.h2Error = certError;
  log(
    `server: ${server.kind} ${server.version} on ${server.origin}${server.h2 ? ` and ${server.h2.origin} (HTTP/2)` : ''}; pinning: ${pin.enabled ? 'server core 0, clients core 1' : 'off'}`,
  );
  const results = {
    date: new Date().toISOString(),
    machine: machine(server, pin),
    config: { ...config, out: undefined, quietGuard },
    loadAverageAtStart: os.loadavg(),
    distRebuilt: rebuilt,
    workloads: [],
    targets: [],
    checks: [],
  };
  try {
    // Run order differs from table order: concurrency 1 is measured after the other
    // keep-alive workloads, so slow clients have left the JIT's (CPU-hungry) warm-up behind.
    const order = [...config.workloads].sort((a, b) => WORKLOADS.get(a).order - WORKLOADS.get(b).order);
    const byId = new Map();
    for (const id of order) {
      const spec = WORKLOADS.get(id);
      const result = await spec.run({ config, server, pin, log, startWorker, title: spec.title });
      result.id ??= id;
      byId.set(id, result);
    }
    for (const id of config.workloads) {
      const w = byId.get(id);
      const spec = WORKLOADS.get(id);
      results.workloads.push(w);
      results.targets.push(...(spec.targets?.(w) ?? []));
      results.checks.push(...(spec.checks?.(w) ?? []));
      if (spec.chart) {
        w.chart = spec.chart(w);
        w.chartTitle = spec.title;
      }
    }
  } finally {
    for (const w of keepAliveWorkerMap?.values() ?? []) await w.stop();
    await server.stop();
    certs?.remove();
  }
  let runs = 0;
  let disturbed = 0;
  for (const w of results.workloads) {
    for (const r of [...(w.rows ?? []).flatMap((row) => row.rounds), ...(w.rounds ?? [])]) {
      runs++;
      if (r?.disturbed) disturbed++;
    }
  }
  results.runs = runs;
  results.disturbedRuns = disturbed;
  results.loadAverageAtEnd = os.loadavg();
  results.elapsedS = (Date.now() - t0) / 1000;
  mkdirSync(path.dirname(config.out), { recursive: true });
  writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);
  mkdirSync(path.dirname(config.chartOut), { recursive: true });
  writeFileSync(config.chartOut, resultsChartSvg(results));

  const m = results.machine;
  console.log(`\nurllib3-ts ${m.urllib3ts} benchmarks, ${results.date}`);
  console.log(
    `${m.cpu}, ${m.cores} cores, ${m.os}; Node ${m.node}; server ${m.server}; pinning: ${m.pinning}`,
  );
  console.log(
    `rounds ${config.rounds} x ${config.durationMs} ms after ${config.warmupMs} ms warm-up (workloads say their own)\n`,
  );
  console.log(renderMarkdown(results));
  report('Targets:', results.targets, 'target');
  report('Checks:', results.checks, 'check');
  if (disturbed > 0) {
    console.log(
      `\n${disturbed} of ${runs} measured runs had other processes using the CPU (see 'disturbed' in the JSON); ` +
        'rerun on a quiet machine for numbers to quote.',
    );
  }
  console.log(
    `\n${path.relative(process.cwd(), config.out)} and ${path.relative(process.cwd(), config.chartOut)} written; ${results.elapsedS.toFixed(0)} s in all.`,
  );
  clearTimeout(watchdog);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
