#!/usr/bin/env node
// `npm run bench`: urllib3-ts against its peers, side by side in one run.
//
// One process tree: this process starts the server (nginx when installed,
// else bench/lib/node-server.mjs) pinned to core 0, and one worker process per
// client pinned to core 1. Clients are interleaved (A B C A B C ...): every
// round runs each client once, after one warm-up run per client and workload;
// the table shows medians over the rounds with each client's ratio to
// undici.request and to the raw-socket loop (the best any client could do).
// Every run is bounded in time and in request count, and the whole bench by
// a watchdog. Results also go to bench/results/latest.json.
//
// The library is measured from the compiled dist/ (what users import); dist
// is rebuilt first when any file under src/ is newer. See BENCHMARKS.md for
// the knobs (BENCH_* environment variables).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MiB, PATHS, WARM_DOWNLOAD_MIB } from './lib/payloads.mjs';
import { quietGuard, quietRun } from './lib/quiet.mjs';
import { pinnedCommand, pinning, pinPid, spawnOwned, startServer } from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const WORKER = path.join(HERE, 'lib', 'worker.mjs');

// ---- configuration ----------------------------------------------------------------

function envInt(name, def) {
  const v = process.env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got ${v}`);
  return n;
}

function envList(name, def) {
  const v = process.env[name];
  if (v === undefined || v.trim() === '') return def;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

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
const DOWNLOAD_CLIENTS = [
  'raw socket',
  'raw socket onread',
  'urllib3-ts',
  'undici.request',
  'undici.fetch',
  'node:http',
  'axios',
  'got',
  'node-fetch',
];
const WORKLOADS = {
  'get-c1': {
    kind: 'keepalive',
    workload: 'get',
    concurrency: 1,
    title: 'small GET (100 B), keep-alive, concurrency 1',
  },
  'get-c10': {
    kind: 'keepalive',
    workload: 'get',
    concurrency: 10,
    title: 'small GET (100 B), keep-alive, concurrency 10',
  },
  'get-c50': {
    kind: 'keepalive',
    workload: 'get',
    concurrency: 50,
    title: 'small GET (100 B), keep-alive, concurrency 50',
  },
  'post-c10': {
    kind: 'keepalive',
    workload: 'post',
    concurrency: 10,
    title: 'POST 1 KiB JSON, JSON response, concurrency 10',
  },
  download: { kind: 'download', title: 'streamed download (preloadContent: false)' },
  poolmanager: {
    kind: 'distinct',
    title: '1000 distinct-path GETs through PoolManager({ maxSize: 10 }), concurrency 10',
  },
};

if (process.env.BENCH_COMPARE_DIST) {
  KEEPALIVE_CLIENTS.splice(3, 0, 'urllib3-ts B', 'urllib3-ts pool B');
  DOWNLOAD_CLIENTS.splice(3, 0, 'urllib3-ts B');
}
const clientFilter = envList('BENCH_CLIENTS', null);
const config = {
  rounds: envInt('BENCH_ROUNDS', 3),
  durationMs: envInt('BENCH_DURATION_MS', 600),
  warmupMs: envInt('BENCH_WARMUP_MS', 400),
  // A worker's first workload also warms up the JIT, which takes longer than a warm-up per workload.
  firstWarmupMs: envInt('BENCH_FIRST_WARMUP_MS', 1200),
  maxRequests: envInt('BENCH_MAX_REQUESTS', 1_000_000),
  workloads: envList('BENCH_WORKLOADS', Object.keys(WORKLOADS)),
  clients: KEEPALIVE_CLIENTS.filter((c) => clientFilter === null || clientFilter.includes(c)),
  downloadClients: DOWNLOAD_CLIENTS.filter((c) => clientFilter === null || clientFilter.includes(c)),
  downloadMiB: envInt('BENCH_DOWNLOAD_MIB', 256),
  downloadRounds: envInt('BENCH_DOWNLOAD_ROUNDS', 3),
  downloadTimeoutMs: envInt('BENCH_DOWNLOAD_TIMEOUT_MS', 60_000),
  distinctTotal: envInt('BENCH_DISTINCT_REQUESTS', 1000),
  distinctRounds: envInt('BENCH_DISTINCT_ROUNDS', 3),
  timeoutS: envInt('BENCH_TIMEOUT_S', 900),
  out: process.env.BENCH_OUT ?? path.join(HERE, 'results', 'latest.json'),
};
for (const w of config.workloads)
  if (!(w in WORKLOADS)) throw new Error(`unknown workload ${w} (BENCH_WORKLOADS)`);

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---- dist freshness ---------------------------------------------------------------

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function ensureBuilt() {
  const index = path.join(ROOT, 'dist', 'index.js');
  const stale =
    !existsSync(index) ||
    newestMtime(path.join(ROOT, 'src')) > statSync(index).mtimeMs ||
    statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs > statSync(index).mtimeMs;
  if (process.env.BENCH_DIST || process.env.BENCH_SKIP_BUILD === '1' || !stale) return false;
  log('dist/ is older than src/: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
  return true;
}

// ---- machine ----------------------------------------------------------------------

// Counted before this process pins itself to one core (which availableParallelism() would then report).
const CORES = os.availableParallelism();

function machine(server, pin) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let distro = `${os.type()} ${os.release()}`;
  try {
    const m = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) distro = `${m[1]} (kernel ${os.release()})`;
  } catch {
    // no os-release
  }
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    cpu,
    cores: CORES,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: distro,
    node: process.version,
    server: `${server.kind} ${server.version}`,
    pinning: pin.enabled
      ? `server on core ${pin.serverCore}, clients on core ${pin.clientCore} (taskset)`
      : 'none',
    peers: {
      undici: pkg('undici'),
      axios: pkg('axios'),
      got: pkg('got'),
      'node-fetch': pkg('node-fetch'),
    },
    urllib3ts: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  };
}

// ---- workers ----------------------------------------------------------------------

let nextId = 1;

async function startWorker(pin) {
  const [cmd, args] = pinnedCommand(pin, pin.clientCore, process.execPath, ['--expose-gc', WORKER]);
  const child = spawnOwned(cmd, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }, 'SIGKILL');
  const pending = new Map();
  let exited = null;
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error));
  });
  child.on('exit', (code, signal) => {
    exited = `worker exited (${signal ?? code})`;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(exited));
    }
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m?.ready) {
        child.removeListener('message', onMsg);
        resolve();
      }
    };
    child.on('message', onMsg);
    child.once('exit', () => reject(new Error('worker exited before it was ready')));
  });
  return {
    pid: child.pid,
    call(cmd, params, timeoutMs) {
      if (exited !== null) return Promise.reject(new Error(exited));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          child.stopOwned();
          reject(new Error(`worker: ${cmd} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, cmd, ...params });
      });
    },
    async stop() {
      if (exited === null) {
        try {
          child.send({ cmd: 'exit' });
        } catch {
          // channel closed
        }
        const t = setTimeout(() => child.stopOwned(), 2000);
        await new Promise((r) => (exited !== null ? r() : child.once('exit', r)));
        clearTimeout(t);
      }
    },
  };
}

// ---- statistics -------------------------------------------------------------------

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Medians per client, and ratios to the baselines. A ratio is the median of
 * the per-round ratios (client and baseline ran back to back in the same
 * round), which drifts less than the ratio of two medians when the machine's
 * speed changes during the run.
 */
function summarise(rows, key, baselineNames) {
  const ok = (r) => r !== undefined && r.error === undefined;
  for (const row of rows) {
    const values = row.rounds.filter(ok).map((r) => r[key]);
    row.median = values.length > 0 ? median(values) : null;
    row.min = values.length > 0 ? Math.min(...values) : null;
    row.max = values.length > 0 ? Math.max(...values) : null;
    const cpu = row.rounds
      .filter((r) => ok(r) && typeof r.cpuUsPerReq === 'number')
      .map((r) => r.cpuUsPerReq);
    row.cpuUsPerReq = cpu.length > 0 ? median(cpu) : null;
  }
  for (const row of rows) {
    for (const [field, name] of Object.entries(baselineNames)) {
      const base = rows.find((r) => r.client === name);
      const ratios = [];
      if (base !== undefined) {
        for (let i = 0; i < row.rounds.length; i++) {
          const a = row.rounds[i];
          const b = base.rounds[i];
          if (ok(a) && ok(b) && b[key] > 0) ratios.push(a[key] / b[key]);
        }
      }
      row[field] = ratios.length > 0 ? median(ratios) : null;
    }
  }
}

// ---- workloads --------------------------------------------------------------------

const RUN_ORDER = ['get-c10', 'get-c50', 'get-c1', 'post-c10', 'download', 'poolmanager'];
const runOrder = (id) => RUN_ORDER.indexOf(id);

const warmedUp = new Set();

async function runKeepAlive(id, spec, server, workers) {
  const rows = config.clients.map((client) => ({ client, rounds: [] }));
  const setupTimeout = 30_000;
  const runTimeout = config.durationMs + 30_000;
  log(`\n${spec.title}`);
  for (const row of rows) {
    const w = workers.get(row.client);
    try {
      await w.call(
        'setup',
        { client: row.client, origin: server.origin, concurrency: spec.concurrency, workload: spec.workload },
        setupTimeout,
      );
      await w.call(
        'run',
        { durationMs: config.warmupMs, maxRequests: config.maxRequests },
        config.warmupMs + 30_000,
      );
    } catch (err) {
      row.setupError = err.message;
      log(`  ${row.client}: ${err.message}`);
    }
  }
  for (let round = 0; round < config.rounds; round++) {
    const line = [];
    for (const row of rows) {
      if (row.setupError) continue;
      try {
        const w = workers.get(row.client);
        const r = await quietRun(
          () => [process.pid, server.pid, w.pid],
          () => w.call('run', { durationMs: config.durationMs, maxRequests: config.maxRequests }, runTimeout),
        );
        row.rounds.push(r);
        line.push(`${row.client} ${Math.round(r.reqPerSec)}${r.disturbed ? ' (disturbed)' : ''}`);
      } catch (err) {
        row.rounds.push({ error: err.message });
        line.push(`${row.client} ERROR`);
        log(`  ${row.client}: ${err.message}`);
      }
    }
    log(`  round ${round + 1}/${config.rounds}: ${line.join(', ')}`);
  }
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

async function runDownload(id, spec, server, pin) {
  const rows = config.downloadClients.map((client) => ({ client, rounds: [] }));
  const size = config.downloadMiB * MiB;
  const title = `${config.downloadMiB} MiB ${spec.title}`;
  log(`\n${title}`);
  for (let round = 0; round < config.downloadRounds; round++) {
    const line = [];
    for (const row of rows) {
      let w = null;
      try {
        const r = await quietRun(
          () => [process.pid, server.pid, ...(w ? [w.pid] : [])],
          () =>
            w.call(
              'download',
              {
                client: row.client,
                origin: server.origin,
                target: PATHS.big,
                size,
                warmTarget: PATHS.warm,
                warmSize: WARM_DOWNLOAD_MIB * MiB,
                timeoutMs: config.downloadTimeoutMs,
              },
              2 * config.downloadTimeoutMs + 10_000,
            ),
          async () => {
            await w?.stop();
            w = await startWorker(pin);
          },
          true,
        );
        r.rssGrowthMiB = r.rssGrowth / MiB;
        row.rounds.push(r);
        line.push(
          `${row.client} ${Math.round(r.mibPerSec)} MiB/s +${r.rssGrowthMiB.toFixed(0)} MiB${r.disturbed ? ' (disturbed)' : ''}`,
        );
      } catch (err) {
        row.rounds.push({ error: err.message });
        line.push(`${row.client} ERROR`);
        log(`  ${row.client}: ${err.message}`);
      } finally {
        await w?.stop();
      }
    }
    log(`  round ${round + 1}/${config.downloadRounds}: ${line.join(', ')}`);
  }
  summarise(rows, 'mibPerSec', {
    vsUndici: 'undici.request',
    vsRaw: 'raw socket',
    vsRawOnread: 'raw socket onread',
  });
  for (const row of rows) {
    const g = row.rounds.filter((r) => r.error === undefined).map((r) => r.rssGrowthMiB);
    row.rssGrowthMiB = g.length > 0 ? median(g) : null;
    row.rssGrowthMaxMiB = g.length > 0 ? Math.max(...g) : null;
  }
  return { id, title, unit: 'MiB/s', sizeMiB: config.downloadMiB, rows };
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

const fmtInt = (n) => (n === null || n === undefined ? '-' : Math.round(n).toLocaleString('en-US'));
const fmtRatio = (n) => (n === null || n === undefined ? '-' : n.toFixed(2));
const fmtSpread = (row) =>
  row.median ? `±${((100 * (row.max - row.min)) / 2 / row.median).toFixed(0)}%` : '-';

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), sep, ...rows.map(line)].join('\n');
}

export function renderMarkdown(results) {
  const out = [];
  for (const w of results.workloads) {
    if (w.unit === 'req/s') {
      out.push(`**${w.title}** (req/s, median of ${results.config.rounds} rounds)\n`);
      out.push(
        table(
          ['client', 'req/s', 'spread', 'x undici.request', 'x raw socket', 'client CPU µs/req'],
          w.rows.map((r) => [
            r.client,
            r.setupError ? 'error' : fmtInt(r.median),
            fmtSpread(r),
            fmtRatio(r.vsUndici),
            fmtRatio(r.vsRaw),
            r.cpuUsPerReq === null ? '-' : r.cpuUsPerReq.toFixed(1),
          ]),
        ),
      );
    } else if (w.unit === 'MiB/s') {
      out.push(
        `**${w.title}** (MiB/s and peak RSS growth over the process baseline, median of ${results.config.downloadRounds} rounds)\n`,
      );
      out.push(
        table(
          ['client', 'MiB/s', 'spread', 'x undici.request', 'x raw socket', 'x raw onread', 'RSS growth MiB'],
          w.rows.map((r) => [
            r.client,
            fmtInt(r.median),
            fmtSpread(r),
            fmtRatio(r.vsUndici),
            fmtRatio(r.vsRaw),
            fmtRatio(r.vsRawOnread),
            r.rssGrowthMiB === null ? '-' : r.rssGrowthMiB.toFixed(1),
          ]),
        ),
      );
    } else {
      out.push(`**${w.title}**\n`);
      out.push(
        table(
          ['round', 'req/s', 'TCP connections (server)', 'pool.numConnections', 'allowed'],
          w.rounds.map((r, i) => [
            String(i + 1),
            fmtInt(r.reqPerSec),
            String(r.serverConnections),
            String(r.poolConnections),
            String(w.allowed),
          ]),
        ),
      );
    }
    out.push('');
  }
  return out.join('\n');
}

function targets(results) {
  const get = (id) => results.workloads.find((w) => w.id === id);
  const row = (id, client) => get(id)?.rows.find((r) => r.client === client);
  const checks = [];
  for (const id of ['get-c1', 'get-c10', 'get-c50', 'post-c10']) {
    const r = row(id, 'urllib3-ts');
    if (r && r.vsUndici !== null)
      checks.push({
        target: `${id}: urllib3-ts >= 1.2x undici.request`,
        value: r.vsUndici,
        ok: r.vsUndici >= 1.2,
      });
  }
  const c1 = row('get-c1', 'urllib3-ts');
  if (c1 && c1.vsRaw !== null)
    checks.push({ target: 'get-c1: urllib3-ts >= 0.9x raw socket', value: c1.vsRaw, ok: c1.vsRaw >= 0.9 });
  const dl = row('download', 'urllib3-ts');
  if (dl && dl.vsRaw !== null) {
    checks.push({
      target: 'download: urllib3-ts >= 1.2x naive raw socket',
      value: dl.vsRaw,
      ok: dl.vsRaw >= 1.2,
    });
  }
  if (dl && dl.rssGrowthMaxMiB !== null) {
    checks.push({
      target: 'download: peak RSS growth < 50 MiB',
      value: dl.rssGrowthMaxMiB,
      ok: dl.rssGrowthMaxMiB < 50,
    });
  }
  const pm = get('poolmanager');
  if (pm) {
    const worst = Math.max(pm.maxServerConnections, pm.maxPoolConnections);
    checks.push({
      target: 'poolmanager: TCP connections opened <= maxSize (10), no churn',
      value: worst,
      ok: worst <= pm.allowed,
    });
  }
  return checks;
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
  const server = await startServer(pin, config.downloadMiB);
  log(
    `server: ${server.kind} ${server.version} on ${server.origin}; pinning: ${pin.enabled ? 'server core 0, clients core 1' : 'off'}`,
  );
  const results = {
    date: new Date().toISOString(),
    machine: machine(server, pin),
    config: { ...config, out: undefined, quietGuard },
    loadAverageAtStart: os.loadavg(),
    distRebuilt: rebuilt,
    workloads: [],
    targets: [],
  };
  const workers = new Map();
  try {
    const keepAlive = config.workloads.filter((w) => WORKLOADS[w].kind === 'keepalive');
    if (keepAlive.length > 0) {
      for (const client of config.clients) workers.set(client, await startWorker(pin));
    }
    // Run order differs from table order: concurrency 1 is measured after the other
    // keep-alive workloads, so slow clients have left the JIT's (CPU-hungry) warm-up behind.
    const order = [...config.workloads].sort((a, b) => runOrder(a) - runOrder(b));
    const byId = new Map();
    for (const id of order) {
      const spec = WORKLOADS[id];
      if (spec.kind === 'keepalive') byId.set(id, await runKeepAlive(id, spec, server, workers));
      else if (spec.kind === 'download') byId.set(id, await runDownload(id, spec, server, pin));
      else byId.set(id, await runDistinct(id, spec, server, pin));
    }
    for (const id of config.workloads) results.workloads.push(byId.get(id));
  } finally {
    for (const w of workers.values()) await w.stop();
    await server.stop();
  }
  results.targets = targets(results);
  let runs = 0;
  let disturbed = 0;
  for (const w of results.workloads) {
    for (const r of [...(w.rows ?? []).flatMap((row) => row.rounds), ...(w.rounds ?? [])]) {
      runs++;
      if (r.disturbed) disturbed++;
    }
  }
  results.runs = runs;
  results.disturbedRuns = disturbed;
  results.loadAverageAtEnd = os.loadavg();
  results.elapsedS = (Date.now() - t0) / 1000;
  mkdirSync(path.dirname(config.out), { recursive: true });
  writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`);

  const m = results.machine;
  console.log(`\nurllib3-ts ${m.urllib3ts} benchmarks, ${results.date}`);
  console.log(
    `${m.cpu}, ${m.cores} cores, ${m.os}; Node ${m.node}; server ${m.server}; pinning: ${m.pinning}`,
  );
  console.log(
    `rounds ${config.rounds} x ${config.durationMs} ms after ${config.warmupMs} ms warm-up; download ${config.downloadRounds} rounds\n`,
  );
  console.log(renderMarkdown(results));
  if (results.targets.length > 0) {
    console.log('Targets (issue 3):');
    for (const t of results.targets) {
      console.log(
        `  ${t.ok ? 'met    ' : 'NOT MET'}  ${t.target}: ${Number.isInteger(t.value) ? t.value : t.value.toFixed(2)}`,
      );
    }
  }
  if (disturbed > 0) {
    console.log(
      `\n${disturbed} of ${runs} measured runs had other processes using the CPU (see 'disturbed' in the JSON); ` +
        'rerun on a quiet machine for numbers to quote.',
    );
  }
  console.log(
    `\n${path.relative(process.cwd(), config.out)} written; ${results.elapsedS.toFixed(0)} s in all.`,
  );
  clearTimeout(watchdog);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
