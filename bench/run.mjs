#!/usr/bin/env node
// `npm run bench`: urllib3-ts against its peers, side by side in one run.
//
// One process tree: this process starts the server (nginx when installed,
// else bench/lib/node-server.mjs, plus bench/lib/node-h2-server.mjs for
// HTTP/2) pinned to core 0, and one worker process per client pinned to
// core 1. Clients are interleaved (A B C A B C ...): every round runs each
// client once, after one warm-up run per client and workload; the table
// shows medians over the rounds with each client's ratio to undici.request
// and to the raw-socket loop (the best any client could do; for HTTP/2 a
// bare node:http2 session).
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
import { makeBenchCerts } from './lib/certs.mjs';
import { DNS_WORKLOAD_ID, dnsConfig, dnsTargets, renderDns, runDnsNames } from './lib/dns-workload.mjs';
import { H3_WORKLOADS, renderH3 } from './lib/h3-workload.mjs';
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
// HTTP/2 clients (bench/lib/clients.mjs H2_CLIENTS), in table order. 'urllib3-ts
// multiplexed' (the ResponsePromise + getResponse() API; no faster than plain
// requests) runs only when BENCH_CLIENTS names it.
const H2_CLIENT_NAMES = [
  'raw node:http2',
  'urllib3-ts',
  'urllib3-ts pool',
  'urllib3-ts multiplexed',
  'undici.request',
];
const H2_OPTIONAL_CLIENTS = ['urllib3-ts multiplexed'];
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
  'h2-get-c100': {
    kind: 'h2',
    title: 'HTTP/2: small GETs (100 B) over one TLS connection, 100 streams in flight',
  },
  // Issue 12: dou:// against unbound vs the system resolver (bench/lib/dns-workload.mjs).
  [DNS_WORKLOAD_ID]: { kind: 'dns', title: 'GETs to distinct names: dou:// vs the system resolver' },
  // Issue 13: HTTP/3 vs HTTP/2 against one caddy (bench/lib/h3-workload.mjs).
  ...H3_WORKLOADS,
};

if (process.env.BENCH_COMPARE_DIST) {
  KEEPALIVE_CLIENTS.splice(3, 0, 'urllib3-ts B', 'urllib3-ts pool B');
  DOWNLOAD_CLIENTS.splice(3, 0, 'urllib3-ts B');
  H2_CLIENT_NAMES.splice(4, 0, 'urllib3-ts B', 'urllib3-ts pool B');
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
  downloadRounds: envInt('BENCH_DOWNLOAD_ROUNDS', 7),
  downloadTimeoutMs: envInt('BENCH_DOWNLOAD_TIMEOUT_MS', 60_000),
  distinctTotal: envInt('BENCH_DISTINCT_REQUESTS', 1000),
  distinctRounds: envInt('BENCH_DISTINCT_ROUNDS', 3),
  h2Clients: H2_CLIENT_NAMES.filter((c) =>
    clientFilter === null ? !H2_OPTIONAL_CLIENTS.includes(c) : clientFilter.includes(c),
  ),
  h2Requests: envInt('BENCH_H2_REQUESTS', 10_000),
  h2Concurrency: envInt('BENCH_H2_CONCURRENCY', 100),
  h2Rounds: envInt('BENCH_H2_ROUNDS', envInt('BENCH_ROUNDS', 3)),
  h2WarmupRuns: envInt('BENCH_H2_WARMUP_RUNS', 1),
  h2RunTimeoutMs: envInt('BENCH_H2_RUN_TIMEOUT_MS', 30_000),
  ...dnsConfig(envInt, envInt('BENCH_ROUNDS', 3)),
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
    h2Server: server.h2?.kind ?? null,
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

/**
 * `env`: variables added to the worker's environment; `prefix`: a command
 * the worker runs under ([cmd, ...args], e.g. unshare). Both for the DNS workload.
 */
async function startWorker(pin, env = null, prefix = []) {
  const [pinned, pinnedArgs] = pinnedCommand(pin, pin.clientCore, process.execPath, ['--expose-gc', WORKER]);
  const [cmd, args] =
    prefix.length === 0 ? [pinned, pinnedArgs] : [prefix[0], [...prefix.slice(1), pinned, ...pinnedArgs]];
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  if (env !== null) options.env = { ...process.env, ...env };
  const child = spawnOwned(cmd, args, options, 'SIGKILL');
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

const RUN_ORDER = [
  'get-c10',
  'get-c50',
  'get-c1',
  'post-c10',
  'h2-get-c100',
  'download',
  'poolmanager',
  DNS_WORKLOAD_ID,
  ...Object.keys(H3_WORKLOADS),
];
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

/**
 * HTTP/2: each client in its own fresh worker opens ONE connection to the
 * TLS + h2 origin at setup (and checks that h2 was negotiated), then every
 * run sends `h2Requests` GETs with `h2Concurrency` streams in flight on it.
 * After the warm-up runs, clients are interleaved as in runKeepAlive. The
 * server's accepted-connection counter is read around the setup and around
 * every run (outside the timed window): a client must have opened exactly one
 * connection in all, and none during a run.
 */
async function runH2(id, spec, server, pin) {
  const title = `HTTP/2: ${config.h2Requests.toLocaleString('en-US')} small GETs (100 B) per run over one TLS connection, ${config.h2Concurrency} streams in flight`;
  log(`\n${title}`);
  const result = {
    id,
    title,
    unit: 'req/s',
    protocol: 'h2',
    concurrency: config.h2Concurrency,
    requestsPerRun: config.h2Requests,
    roundCount: config.h2Rounds,
    server: server.h2?.kind ?? null,
    baselines: { vsUndici: 'undici.request', vsRaw: 'raw node:http2' },
    rows: [],
  };
  if (server.h2 === null) {
    result.error = server.h2Error ?? 'no HTTP/2 server';
    log(`  skipped: ${result.error}`);
    return result;
  }
  const h2 = server.h2;
  const pids = (w) => [...new Set([process.pid, server.pid, ...h2.pids, ...(w ? [w.pid] : [])])];
  // Each probe of the counter is a connection of its own: the second one counts itself.
  const opened = async (fn) => {
    const before = await h2.connectionsAccepted();
    const value = await fn();
    return { value, connections: (await h2.connectionsAccepted()) - before - 1 };
  };
  const rows = config.h2Clients.map((client) => ({ client, rounds: [], serverConnections: 0 }));
  result.rows = rows;
  const workers = new Map();
  const runParams = { durationMs: config.h2RunTimeoutMs, maxRequests: config.h2Requests };
  const runTimeout = config.h2RunTimeoutMs + 30_000;
  try {
    for (const row of rows) {
      try {
        const w = await startWorker(pin);
        workers.set(row.client, w);
        const setup = await opened(async () => {
          await w.call(
            'setup',
            {
              client: row.client,
              origin: h2.origin,
              concurrency: config.h2Concurrency,
              protocol: 'h2',
              ca: h2.ca,
            },
            30_000,
          );
          for (let i = 0; i < config.h2WarmupRuns; i++) await w.call('run', runParams, runTimeout);
        });
        row.setupConnections = setup.connections;
        row.serverConnections += setup.connections;
      } catch (err) {
        row.setupError = err.message;
        log(`  ${row.client}: ${err.message}`);
      }
    }
    for (let round = 0; round < config.h2Rounds; round++) {
      const line = [];
      for (const row of rows) {
        if (row.setupError) continue;
        const w = workers.get(row.client);
        try {
          const { value: r, connections } = await opened(() =>
            quietRun(
              () => pids(w),
              () => w.call('run', runParams, runTimeout),
            ),
          );
          r.serverConnections = connections;
          row.serverConnections += connections;
          if (r.requests !== config.h2Requests) {
            r.error = `only ${r.requests} of ${config.h2Requests} requests within ${config.h2RunTimeoutMs} ms`;
            log(`  ${row.client}: ${r.error}`);
          }
          row.rounds.push(r);
          line.push(
            `${row.client} ${Math.round(r.reqPerSec)}${connections !== 0 ? ` (+${connections} connections)` : ''}${r.disturbed ? ' (disturbed)' : ''}`,
          );
        } catch (err) {
          row.rounds.push({ error: err.message });
          line.push(`${row.client} ERROR`);
          log(`  ${row.client}: ${err.message}`);
        }
      }
      log(`  round ${round + 1}/${config.h2Rounds}: ${line.join(', ')}`);
    }
    for (const row of rows) {
      if (row.setupError) continue;
      const w = workers.get(row.client);
      try {
        const stats = await w.call('stats', {}, 10_000);
        row.clientConnections = stats?.connections ?? null;
        if (stats?.tls) row.tls = stats.tls;
        await w.call('teardown', {}, 10_000);
      } catch (err) {
        log(`  ${row.client}: ${err.message}`);
      }
    }
  } finally {
    for (const w of workers.values()) await w.stop();
  }
  summarise(rows, 'reqPerSec', result.baselines);
  const tls = rows.find((r) => r.tls)?.tls;
  if (tls) result.tls = tls;
  return result;
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
    if (w.kind === 'dns') {
      out.push(renderDns(w, table), '');
      continue;
    }
    if (w.kind === 'h3') {
      out.push(renderH3(w, table), '');
      continue;
    }
    if (w.protocol === 'h2') {
      out.push(
        `**${w.title}** (req/s, median of ${w.roundCount} rounds; server ${w.server ?? '-'}${w.tls ? `, ${w.tls.protocol} ${w.tls.cipher}` : ''})\n`,
      );
      if (w.error) out.push(`not run: ${w.error.split('\n')[0]}`);
      else
        out.push(
          table(
            [
              'client',
              'req/s',
              'spread',
              `x ${w.baselines.vsUndici}`,
              `x ${w.baselines.vsRaw}`,
              'client CPU µs/req',
              'TCP connections (server)',
            ],
            w.rows.map((r) => [
              r.client,
              r.setupError ? 'error' : fmtInt(r.median),
              fmtSpread(r),
              fmtRatio(r.vsUndici),
              fmtRatio(r.vsRaw),
              r.cpuUsPerReq === null || r.cpuUsPerReq === undefined ? '-' : r.cpuUsPerReq.toFixed(1),
              r.setupError ? '-' : String(r.serverConnections),
            ]),
          ),
        );
    } else if (w.unit === 'req/s') {
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

/** Correctness checks (not speed): the HTTP/2 workload must multiplex on one connection. */
function checks(results) {
  const out = [];
  for (const w of results.workloads) {
    if (w.protocol !== 'h2') continue;
    if (w.error) {
      out.push({ check: `${w.id}: ran`, value: w.error.split('\n')[0], ok: false });
      continue;
    }
    for (const r of w.rows) {
      if (r.setupError) {
        out.push({ check: `${w.id}: ${r.client} set up`, value: r.setupError, ok: false });
        continue;
      }
      const seen =
        r.clientConnections === null || r.clientConnections === undefined
          ? ''
          : `, ${r.clientConnections} by the client's own count`;
      const ok = r.serverConnections === 1 && (r.clientConnections ?? 1) === 1;
      out.push({
        check: `${w.id}: ${r.client} used exactly one connection (set-up, warm-up and every round)`,
        value: `${r.serverConnections} accepted by the server${seen}`,
        ok,
      });
    }
  }
  return out;
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
  // The HTTP/2 workload needs a TLS origin: certificates made now, removed at the end.
  let certs = null;
  let certError = null;
  if (config.workloads.some((w) => WORKLOADS[w].kind === 'h2')) {
    try {
      certs = await makeBenchCerts();
    } catch (err) {
      certError = err.message;
      log(`HTTP/2 workload: ${certError}`);
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
            maxStreams: Math.max(128, config.h2Concurrency),
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
      else if (spec.kind === 'h2') byId.set(id, await runH2(id, spec, server, pin));
      else if (spec.kind === 'h3') byId.set(id, await spec.run(pin, log));
      else if (spec.kind === 'dns')
        byId.set(id, await runDnsNames(spec, server, pin, { startWorker, config, log }));
      else byId.set(id, await runDistinct(id, spec, server, pin));
    }
    for (const id of config.workloads) results.workloads.push(byId.get(id));
  } finally {
    for (const w of workers.values()) await w.stop();
    await server.stop();
    certs?.remove();
  }
  results.targets = targets(results);
  results.dnsTargets = dnsTargets(results.workloads.find((w) => w.kind === 'dns'));
  results.checks = checks(results);
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
    `rounds ${config.rounds} x ${config.durationMs} ms after ${config.warmupMs} ms warm-up; download ${config.downloadRounds} rounds` +
      (config.workloads.includes('h2-get-c100')
        ? `; HTTP/2 ${config.h2Rounds} rounds x ${config.h2Requests} requests after ${config.h2WarmupRuns} warm-up runs`
        : '') +
      '\n',
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
  if (results.dnsTargets.length > 0) {
    console.log('Targets (issue 12):');
    for (const t of results.dnsTargets)
      console.log(`  ${t.ok ? 'met    ' : 'NOT MET'}  ${t.target}: ${t.value.toFixed(2)}x`);
  }
  if (results.checks.length > 0) {
    console.log('Checks:');
    for (const c of results.checks) console.log(`  ${c.ok ? 'ok     ' : 'FAILED '}  ${c.check}: ${c.value}`);
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
