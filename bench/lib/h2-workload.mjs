// The HTTP/2 workloads of `npm run bench`, each over ONE TLS connection to
// the bench's HTTP/2 origin (nginx's `ssl http2` listener, or
// bench/lib/node-h2-server.mjs without nginx):
//
// * h2-get-c100: 10,000 small GETs (100 B) per run, 100 streams in flight;
// * h2-download-c10: 1 MiB downloads, 10 streams in flight (100 per run),
//   every body streamed and counted: here the flow-control windows of the
//   client (stream and connection) decide the pace, not the request path.
//
// Each client (bench/lib/h2-clients.mjs) lives in a fresh worker of its own,
// opens its connection at setup and checks that h2 was negotiated; after the
// warm-up runs the clients are interleaved (A B C A B C ...), every run under
// the quiet-machine guard. The server's accepted-connection counter is read
// around the setup and around every run (outside the timed window): a client
// must have opened exactly one connection in all, and none during a run.

import { H2_DOWNLOAD_SIZE, MiB, PATHS, SMALL_BODY } from './payloads.mjs';
import { quietRun } from './quiet.mjs';
import { measureRounds, setUpRows } from './rounds.mjs';
import { summarise } from './stats.mjs';
import { fmtRatio, leadCells } from './table.mjs';

// Clients in table order. 'urllib3-ts multiplexed' (the ResponsePromise +
// getResponse() API; no faster than plain requests) runs only when
// BENCH_CLIENTS names it.
const CLIENT_NAMES = [
  'raw node:http2',
  'urllib3-ts',
  'urllib3-ts pool',
  'urllib3-ts multiplexed',
  'undici.request',
];
const OPTIONAL_CLIENTS = ['urllib3-ts multiplexed'];
const BASELINES = { vsUndici: 'undici.request', vsRaw: 'raw node:http2' };

function config(envInt, envList, base) {
  const names = [...CLIENT_NAMES];
  if (process.env.BENCH_COMPARE_DIST) names.splice(4, 0, 'urllib3-ts B', 'urllib3-ts pool B');
  const filter = base.clientFilter;
  return {
    h2Clients: names.filter((c) => (filter === null ? !OPTIONAL_CLIENTS.includes(c) : filter.includes(c))),
    h2Requests: envInt('BENCH_H2_REQUESTS', 10_000),
    h2Concurrency: envInt('BENCH_H2_CONCURRENCY', 100),
    h2Rounds: envInt('BENCH_H2_ROUNDS', base.rounds),
    h2WarmupRuns: envInt('BENCH_H2_WARMUP_RUNS', 1),
    h2RunTimeoutMs: envInt('BENCH_H2_RUN_TIMEOUT_MS', 30_000),
    h2DownloadRequests: envInt('BENCH_H2DL_REQUESTS', 100),
    h2DownloadConcurrency: envInt('BENCH_H2DL_CONCURRENCY', 10),
  };
}

/**
 * Runs one HTTP/2 workload. `p`: { id, title, target, size, requests,
 * concurrency, unit ('req/s' | 'MiB/s') }; the rest comes from the config.
 */
async function runH2(ctx, p) {
  const { config, server, pin, log, startWorker } = ctx;
  log(`\n${p.title}`);
  const key = p.unit === 'MiB/s' ? 'mibPerSec' : 'reqPerSec';
  const result = {
    id: p.id,
    title: p.title,
    unit: p.unit,
    protocol: 'h2',
    concurrency: p.concurrency,
    requestsPerRun: p.requests,
    bytesPerRequest: p.size,
    roundCount: config.h2Rounds,
    server: server.h2?.kind ?? null,
    baselines: BASELINES,
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
  const runParams = { durationMs: config.h2RunTimeoutMs, maxRequests: p.requests };
  const runTimeout = config.h2RunTimeoutMs + 30_000;
  const setupParams = (client) => ({
    client,
    origin: h2.origin,
    concurrency: p.concurrency,
    protocol: 'h2',
    ca: h2.ca,
    target: p.target,
    size: p.size,
  });
  try {
    await setUpRows(rows, log, async (row) => {
      const w = await startWorker(pin);
      workers.set(row.client, w);
      const setup = await opened(async () => {
        await w.call('setup', setupParams(row.client), 30_000);
        for (let i = 0; i < config.h2WarmupRuns; i++) await w.call('run', runParams, runTimeout);
      });
      row.setupConnections = setup.connections;
      row.serverConnections += setup.connections;
    });
    await measureRounds({
      rows,
      rounds: config.h2Rounds,
      log,
      measure: async (row) => {
        const w = workers.get(row.client);
        const { value: r, connections } = await opened(() =>
          quietRun(
            () => pids(w),
            () => w.call('run', runParams, runTimeout),
            null,
            p.unit === 'MiB/s',
          ),
        );
        r.serverConnections = connections;
        r.mibPerSec = (r.reqPerSec * p.size) / MiB;
        row.serverConnections += connections;
        if (r.requests !== p.requests) {
          r.error = `only ${r.requests} of ${p.requests} requests within ${config.h2RunTimeoutMs} ms`;
          log(`  ${row.client}: ${r.error}`);
        }
        return r;
      },
      describe: (row, r) =>
        `${row.client} ${Math.round(r[key])}${r.serverConnections !== 0 ? ` (+${r.serverConnections} connections)` : ''}${r.disturbed ? ' (disturbed)' : ''}`,
    });
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
  summarise(rows, key, BASELINES);
  const tls = rows.find((r) => r.tls)?.tls;
  if (tls) result.tls = tls;
  return result;
}

function render(w, table) {
  const head = `**${w.title}** (${w.unit}, median of ${w.roundCount} rounds; server ${w.server ?? '-'}${w.tls ? `, ${w.tls.protocol} ${w.tls.cipher}` : ''})\n`;
  if (w.error) return `${head}\nnot run: ${w.error.split('\n')[0]}`;
  const perMiB = w.unit === 'MiB/s';
  return `${head}\n${table(
    [
      'client',
      w.unit,
      'spread',
      `x ${w.baselines.vsUndici}`,
      `x ${w.baselines.vsRaw}`,
      perMiB ? 'client CPU µs/MiB' : 'client CPU µs/req',
      'TCP connections (server)',
    ],
    w.rows.map((r) => [
      ...leadCells(r),
      fmtRatio(r.vsUndici),
      fmtRatio(r.vsRaw),
      r.cpuUsPerReq === null || r.cpuUsPerReq === undefined
        ? '-'
        : (r.cpuUsPerReq / (perMiB ? w.bytesPerRequest / MiB : 1)).toFixed(1),
      r.setupError ? '-' : String(r.serverConnections),
    ]),
  )}`;
}

/** Correctness (not speed): every client multiplexed on exactly one connection. */
function checks(w) {
  if (w.error) return [{ check: `${w.id}: ran`, value: w.error.split('\n')[0], ok: false }];
  return w.rows.map((r) => {
    if (r.setupError) return { check: `${w.id}: ${r.client} set up`, value: r.setupError, ok: false };
    const seen =
      r.clientConnections === null || r.clientConnections === undefined
        ? ''
        : `, ${r.clientConnections} by the client's own count`;
    return {
      check: `${w.id}: ${r.client} used exactly one connection (set-up, warm-up and every round)`,
      value: `${r.serverConnections} accepted by the server${seen}`,
      ok: r.serverConnections === 1 && (r.clientConnections ?? 1) === 1,
    };
  });
}

const urllib3Row = (w) => w.rows?.find((r) => r.client === 'urllib3-ts');

export default {
  config,
  workloads: [
    {
      id: 'h2-get-c100',
      title: 'HTTP/2: small GETs (100 B) over one TLS connection, 100 streams in flight',
      order: 50,
      tls: true,
      run: (ctx) =>
        runH2(ctx, {
          id: 'h2-get-c100',
          title: `HTTP/2: ${ctx.config.h2Requests.toLocaleString('en-US')} small GETs (100 B) per run over one TLS connection, ${ctx.config.h2Concurrency} streams in flight`,
          target: PATHS.small,
          size: SMALL_BODY.length,
          requests: ctx.config.h2Requests,
          concurrency: ctx.config.h2Concurrency,
          unit: 'req/s',
        }),
      render,
      checks,
      // Issue 17: at least 0.8x a raw node:http2 session and 1.5x undici (allowH2).
      targets: (w) => {
        const r = urllib3Row(w);
        const out = [];
        if (r?.vsRaw != null)
          out.push({
            target: 'h2-get-c100: urllib3-ts >= 0.8x raw node:http2',
            value: r.vsRaw,
            ok: r.vsRaw >= 0.8,
          });
        if (r?.vsUndici != null)
          out.push({
            target: 'h2-get-c100: urllib3-ts >= 1.5x undici.request (allowH2)',
            value: r.vsUndici,
            ok: r.vsUndici >= 1.5,
          });
        return out;
      },
      chart: (w) => [
        { label: 'x undici', value: urllib3Row(w)?.vsUndici ?? null, target: 1.5 },
        { label: 'x raw node:http2', value: urllib3Row(w)?.vsRaw ?? null, target: 0.8 },
      ],
    },
    {
      id: 'h2-download-c10',
      title: 'HTTP/2: 1 MiB downloads over one TLS connection, 10 streams in flight',
      order: 55,
      tls: true,
      run: (ctx) =>
        runH2(ctx, {
          id: 'h2-download-c10',
          title: `HTTP/2: ${ctx.config.h2DownloadRequests} downloads of 1 MiB per run over one TLS connection, ${ctx.config.h2DownloadConcurrency} streams in flight`,
          target: PATHS.mib,
          size: H2_DOWNLOAD_SIZE,
          requests: ctx.config.h2DownloadRequests,
          concurrency: ctx.config.h2DownloadConcurrency,
          unit: 'MiB/s',
        }),
      render,
      checks,
      // Issue 17 sets no figure for this workload: the chart shows the ratios without a target line.
      chart: (w) => [
        { label: 'x undici', value: urllib3Row(w)?.vsUndici ?? null },
        { label: 'x raw node:http2', value: urllib3Row(w)?.vsRaw ?? null },
      ],
    },
  ],
};
