// The streamed-download workload of `npm run bench`: one GET of
// BENCH_DOWNLOAD_MIB (100 MiB) per client and round, the body streamed and
// counted, in a fresh process each round. The process downloads the file
// twice: "cold" is the first download in the process, "warm" the second (the
// code is optimised by then). Before the first, the process loads its
// client's modules, runs the GC, records its RSS as the baseline and resets
// the kernel's peak-RSS mark (/proc/self/clear_refs); "peak RSS growth" is
// VmHWM after both downloads minus that baseline.
//
// Peers: every Node client of bench/lib/clients.mjs DOWNLOADS (each in a
// fresh worker, bench/lib/worker.mjs) and Python's urllib3
// (bench/lib/py-download.py, in a fresh python3, preload_content=False and
// stream(amt) with the same amt as `urllib3-ts stream(amt)`), skipped with a
// note when python3 or urllib3 is missing (BENCH_PYTHON names another
// interpreter; BENCH_PYTHON=0 leaves it out).

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MiB, PATHS } from './payloads.mjs';
import { quietRun } from './quiet.mjs';
import { measureRounds } from './rounds.mjs';
import { pinnedCommand, spawnOwned } from './servers.mjs';
import { median, summarise } from './stats.mjs';
import { fmtFixed, fmtInt, fmtRatio, fmtSpread, section } from './table.mjs';

const PY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'py-download.py');
export const PYTHON = 'Python urllib3';
const NODE_CLIENTS = [
  'raw socket',
  'raw socket onread',
  'urllib3-ts',
  'urllib3-ts stream(amt)',
  'undici.request',
  'undici.fetch',
  'node:http',
  'axios',
  'got',
  'node-fetch',
];

function config(envInt, envList, base) {
  const clients = [...NODE_CLIENTS, PYTHON];
  if (process.env.BENCH_COMPARE_DIST) clients.splice(4, 0, 'urllib3-ts B');
  return {
    downloadClients: clients.filter((c) => base.clientFilter === null || base.clientFilter.includes(c)),
    downloadMiB: envInt('BENCH_DOWNLOAD_MIB', 100),
    downloadRounds: envInt('BENCH_DOWNLOAD_ROUNDS', 7),
    downloadTimeoutMs: envInt('BENCH_DOWNLOAD_TIMEOUT_MS', 60_000),
    downloadChunk: envInt('BENCH_DOWNLOAD_CHUNK', 65_536),
    python: process.env.BENCH_PYTHON ?? 'python3',
  };
}

/** Python and its urllib3's versions, or { error } saying why the peer cannot run. */
function probePython(exe) {
  if (exe === '0') return { error: 'BENCH_PYTHON=0' };
  const r = spawnSync(
    exe,
    ['-c', 'import sys, urllib3; print(sys.version.split()[0], urllib3.__version__)'],
    { encoding: 'utf8', timeout: 20_000 },
  );
  if (r.error) return { error: `${exe} not found (${r.error.code ?? r.error.message})` };
  if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop();
    return { error: `${exe} cannot import urllib3 (${last || `exit ${r.status}`})` };
  }
  const [python, urllib3] = r.stdout.trim().split(' ');
  if (!urllib3?.startsWith('2.')) return { error: `urllib3 ${urllib3} is not a 2.x` };
  return { python, urllib3 };
}

/**
 * py-download.py in a fresh process on the client core, started and ready
 * (urllib3 imported); download() sends the go and resolves with its JSON.
 */
async function startPython(exe, pin, url, size, chunk, timeoutMs) {
  const [cmd, args] = pinnedCommand(pin, pin.clientCore, exe, [
    PY_SCRIPT,
    url,
    String(size),
    String(chunk),
    String(timeoutMs / 1000),
  ]);
  const child = spawnOwned(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] }, 'SIGKILL');
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = (ms, what) => {
    let timer;
    return Promise.race([
      lines.next().then((r) => {
        if (r.done)
          throw new Error(`${PYTHON}: exited (${child.exitCode ?? child.signalCode}) before ${what}`);
        return r.value;
      }),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${PYTHON}: no ${what} within ${ms} ms`)), ms);
      }),
    ]).finally(() => clearTimeout(timer));
  };
  try {
    const ready = await nextLine(20_000, 'ready');
    if (ready !== 'ready') throw new Error(`${PYTHON}: said ${ready}`);
  } catch (err) {
    await child.stopOwned();
    throw err;
  }
  return {
    pid: child.pid,
    async download() {
      child.stdin.write('go\n');
      return JSON.parse(await nextLine(2 * timeoutMs + 10_000, 'result'));
    },
    async stop() {
      child.stdin.end();
      const t = setTimeout(() => child.stopOwned(), 2000);
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((r) => child.once('exit', r));
      clearTimeout(t);
    },
  };
}

async function runDownload(ctx) {
  const { config, server, pin, log, startWorker } = ctx;
  const size = config.downloadMiB * MiB;
  const title = `${config.downloadMiB} MiB streamed download (preloadContent: false), cold (1st in a fresh process) and warm (2nd)`;
  log(`\n${title}`);
  const result = {
    id: 'download',
    title,
    unit: 'MiB/s',
    sizeMiB: config.downloadMiB,
    chunk: config.downloadChunk,
    notes: [],
  };
  let clients = config.downloadClients;
  if (clients.includes(PYTHON)) {
    const py = probePython(config.python);
    if (py.error) {
      clients = clients.filter((c) => c !== PYTHON);
      result.notes.push(`${PYTHON} not run: ${py.error}`);
      log(`  ${PYTHON} skipped: ${py.error}`);
    } else result.python = py;
  }
  const rows = clients.map((client) => ({ client, rounds: [] }));
  result.rows = rows;
  await measureRounds({
    rows,
    rounds: config.downloadRounds,
    log,
    label: ' (cold/warm)',
    measure: async (row) => {
      // A fresh process per round: a node worker, or python3 for the Python peer.
      let proc = null;
      const start =
        row.client === PYTHON
          ? () =>
              startPython(
                config.python,
                pin,
                server.origin + PATHS.big,
                size,
                config.downloadChunk,
                config.downloadTimeoutMs,
              )
          : () => startWorker(pin);
      const download =
        row.client === PYTHON
          ? () => proc.download()
          : () =>
              proc.call(
                'download',
                {
                  client: row.client,
                  origin: server.origin,
                  target: PATHS.big,
                  size,
                  chunk: config.downloadChunk,
                  timeoutMs: config.downloadTimeoutMs,
                },
                2 * config.downloadTimeoutMs + 10_000,
              );
      try {
        const r = await quietRun(
          () => [process.pid, server.pid, ...(proc ? [proc.pid] : [])],
          download,
          async () => {
            await proc?.stop();
            proc = await start();
          },
          true,
        );
        r.coldMiBPerSec = r.cold.mibPerSec;
        r.warmMiBPerSec = r.warm.mibPerSec;
        r.rssGrowthMiB = r.rssGrowth === null ? null : r.rssGrowth / MiB;
        r.coldRssGrowthMiB = r.coldRssGrowth === null ? null : r.coldRssGrowth / MiB;
        return r;
      } finally {
        await proc?.stop();
      }
    },
    describe: (row, r) =>
      `${row.client} ${Math.round(r.coldMiBPerSec)}/${Math.round(r.warmMiBPerSec)} MiB/s +${fmtFixed(r.rssGrowthMiB, 0)} MiB${r.disturbed ? ' (disturbed)' : ''}`,
  });
  // Cold first; its medians and ratios are kept under cold* names before the warm pass.
  summarise(rows, 'coldMiBPerSec', {
    coldVsUndici: 'undici.request',
    coldVsRaw: 'raw socket',
    coldVsPython: PYTHON,
  });
  for (const row of rows) {
    row.coldMedian = row.median;
    row.coldSpread = fmtSpread(row);
  }
  summarise(rows, 'warmMiBPerSec', {
    vsUndici: 'undici.request',
    vsRaw: 'raw socket',
    vsRawOnread: 'raw socket onread',
    vsPython: PYTHON,
  });
  for (const row of rows) {
    const g = row.rounds
      .filter((r) => r.error === undefined && r.rssGrowthMiB !== null)
      .map((r) => r.rssGrowthMiB);
    row.rssGrowthMiB = g.length > 0 ? median(g) : null;
    row.rssGrowthMaxMiB = g.length > 0 ? Math.max(...g) : null;
  }
  result.roundCount = config.downloadRounds;
  return result;
}

function render(w, table) {
  const head = `**${w.title}** (MiB/s and peak RSS growth over the process baseline, median of ${w.roundCount} rounds; stream(amt) with amt = ${w.chunk} bytes${w.python ? `; Python ${w.python.python}, urllib3 ${w.python.urllib3}` : ''})\n`;
  const body = table(
    [
      'client',
      'cold MiB/s',
      'spread',
      'warm MiB/s',
      'spread',
      'x undici.request (warm)',
      'x raw socket (warm)',
      'x Python (cold)',
      'x Python (warm)',
      'peak RSS growth MiB (max)',
    ],
    w.rows.map((r) => [
      r.client,
      fmtInt(r.coldMedian),
      r.coldSpread,
      fmtInt(r.median),
      fmtSpread(r),
      fmtRatio(r.vsUndici),
      fmtRatio(r.vsRaw),
      fmtRatio(r.coldVsPython),
      fmtRatio(r.vsPython),
      r.rssGrowthMiB === null ? '-' : `${r.rssGrowthMiB.toFixed(1)} (${r.rssGrowthMaxMiB.toFixed(1)})`,
    ]),
  );
  return section(head, body, w.notes);
}

const urllib3Row = (w) => w.rows.find((r) => r.client === 'urllib3-ts');

/** Issue 17: at least Python urllib3's MiB/s cold and warm, peak RSS growth under 32 MiB; issue 3: 1.2x the naive raw loop. */
function targets(w) {
  const r = urllib3Row(w);
  if (!r) return [];
  const out = [];
  if (r.coldVsPython != null)
    out.push({
      target: 'download: urllib3-ts >= Python urllib3, cold',
      value: r.coldVsPython,
      ok: r.coldVsPython >= 1,
    });
  if (r.vsPython != null)
    out.push({
      target: 'download: urllib3-ts >= Python urllib3, warm',
      value: r.vsPython,
      ok: r.vsPython >= 1,
    });
  if (r.rssGrowthMaxMiB != null)
    out.push({
      target: 'download: urllib3-ts peak RSS growth < 32 MiB (worst round)',
      value: r.rssGrowthMaxMiB,
      ok: r.rssGrowthMaxMiB < 32,
    });
  if (r.vsRaw != null)
    out.push({
      target: 'download: urllib3-ts >= 1.2x naive raw socket (warm; issue 3)',
      value: r.vsRaw,
      ok: r.vsRaw >= 1.2,
    });
  return out;
}

export default {
  config,
  workloads: [
    {
      id: 'download',
      title: 'streamed download, cold and warm',
      order: 60,
      run: runDownload,
      render,
      targets,
      chart: (w) => {
        const r = urllib3Row(w);
        return [
          { label: 'x undici (warm)', value: r?.vsUndici ?? null },
          { label: 'x raw socket (warm)', value: r?.vsRaw ?? null, target: 1.2 },
          { label: 'x Python (cold)', value: r?.coldVsPython ?? null, target: 1 },
          { label: 'x Python (warm)', value: r?.vsPython ?? null, target: 1 },
        ];
      },
    },
  ],
};
