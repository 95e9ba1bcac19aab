// The many-origins workload of `npm run bench` (issue 17): BENCH_ORIGINS_REQUESTS
// (3,000) GETs of the small file to BENCH_ORIGINS_HOSTS (1,000) distinct host
// names, BENCH_ORIGINS_CONCURRENCY (50) in flight, names taken round-robin,
// through one urllib3-ts PoolManager({ numPools: 100 }) against one undici
// Agent({ connections: 1 }). Every name resolves to 127.0.0.1 from a table in
// memory (urllib3-ts: an in-memory:// resolver; undici: a lookup function),
// so the server is the bench's one nginx (or node server) and no DNS is asked.
//
// Round-robin over 1,000 names with 100 pools is the worst case for a capped
// manager: the pool for the next name was always evicted, so every request
// opens a new connection; undici's Agent has no cap that evicts (maxOrigins
// rejects new origins once reached, see undiciMaxOrigins) and keeps one
// connection per origin. Both figures matter: req/s, and RSS per pooled
// connection (bench/lib/many-origins-clients.mjs says how it is measured).
//
// Each client lives in a worker of its own: one unmeasured run, then the
// clients take turns for BENCH_ORIGINS_ROUNDS rounds (default BENCH_ROUNDS),
// every run under the quiet-machine guard, a fresh manager or Agent per run.
// The server's accepted-connection counter is read around every run.

import { quietRun } from './quiet.mjs';
import { measureRounds, setUpRows } from './rounds.mjs';
import { median, summarise } from './stats.mjs';
import { fmtFixed, fmtInt, fmtRatio, leadCells, section } from './table.mjs';

const ID = 'many-origins';
const CLIENTS = ['urllib3-ts', 'undici Agent'];
const KiB = 1024;

function config(envInt, envList, base) {
  return {
    originsHosts: envInt('BENCH_ORIGINS_HOSTS', 1000),
    originsRequests: envInt('BENCH_ORIGINS_REQUESTS', 3000),
    originsConcurrency: envInt('BENCH_ORIGINS_CONCURRENCY', 50),
    originsNumPools: envInt('BENCH_ORIGINS_NUM_POOLS', 100),
    originsRounds: envInt('BENCH_ORIGINS_ROUNDS', base.rounds),
    originsClients: CLIENTS.filter((c) => base.clientFilter === null || base.clientFilter.includes(c)),
  };
}

async function run(ctx) {
  const { config, server, pin, log, startWorker } = ctx;
  const title =
    `${config.originsRequests.toLocaleString('en-US')} GETs to ${config.originsHosts.toLocaleString('en-US')} distinct hosts (round-robin), ` +
    `${config.originsConcurrency} in flight: PoolManager({ numPools: ${config.originsNumPools} }) vs undici Agent({ connections: 1 })`;
  log(`\n${title}`);
  const result = {
    id: ID,
    title,
    unit: 'req/s',
    numPools: config.originsNumPools,
    roundCount: config.originsRounds,
    rows: [],
    notes: [],
  };
  const rows = config.originsClients.map((client) => ({ client, rounds: [] }));
  result.rows = rows;
  const params = (client) => ({
    module: 'many-origins-clients.mjs',
    fn: 'manyOrigins',
    params: {
      client,
      port: server.port,
      hosts: config.originsHosts,
      total: config.originsRequests,
      concurrency: config.originsConcurrency,
      numPools: config.originsNumPools,
    },
  });
  const runTimeout = 120_000;
  const workers = new Map();
  try {
    await setUpRows(rows, log, async (row) => {
      const w = await startWorker(pin);
      workers.set(row.client, w);
      await w.call('invoke', params(row.client), runTimeout);
      if (row.client === 'undici Agent') {
        result.undiciMaxOrigins = await w.call(
          'invoke',
          { module: 'many-origins-clients.mjs', fn: 'undiciMaxOrigins', params: { port: server.port } },
          30_000,
        );
        result.notes.push(`undici Agent maxOrigins: ${result.undiciMaxOrigins.behaviour}`);
      }
    });
    await measureRounds({
      rows,
      rounds: config.originsRounds,
      alternate: true,
      separator: '; ',
      log,
      measure: (row) => {
        const w = workers.get(row.client);
        return quietRun(
          () => [process.pid, server.pid, w.pid],
          async () => {
            const before = await server.connectionsAccepted();
            const out = await w.call('invoke', params(row.client), runTimeout);
            // The second probe is a connection of its own.
            out.serverConnections = (await server.connectionsAccepted()) - before - 1;
            return out;
          },
        );
      },
      describe: (row, r) =>
        `${row.client} ${Math.round(r.reqPerSec)} req/s, ${r.serverConnections} new connections, ${r.pooledConnections} pooled, ` +
        `${fmtFixed(r.rssPerConnection === null ? null : r.rssPerConnection / KiB, 1)} KiB RSS each${r.disturbed ? ' (disturbed)' : ''}`,
    });
  } finally {
    for (const w of workers.values()) await w.stop();
  }
  for (const row of rows) {
    for (let i = 0; i < config.originsRounds; i++) row.rounds[i] ??= { error: 'not run' };
  }
  summarise(rows, 'reqPerSec', { vsUndici: 'undici Agent' });
  const ok = (r) => r.error === undefined;
  for (const row of rows) {
    const good = row.rounds.filter(ok);
    const pick = (k) => {
      const xs = good.map((r) => r[k]).filter((x) => x !== null && x !== undefined);
      return xs.length > 0 ? median(xs) : null;
    };
    row.serverConnections = pick('serverConnections');
    row.pooledConnections = pick('pooledConnections');
    row.pools = pick('pools');
    row.rssGrowthMiB = pick('rssGrowth') === null ? null : pick('rssGrowth') / 2 ** 20;
    row.peakRssGrowthMiB = pick('peakRssGrowth') === null ? null : pick('peakRssGrowth') / 2 ** 20;
    row.rssPerConnectionKiB = pick('rssPerConnection') === null ? null : pick('rssPerConnection') / KiB;
  }
  return result;
}

function render(w, table) {
  const head = `**${w.title}** (req/s, median of ${w.roundCount} rounds)\n`;
  const body = table(
    [
      'client',
      'req/s',
      'spread',
      'x undici Agent',
      'client CPU µs/req',
      'new connections (server)',
      'pools / origins kept',
      'pooled connections',
      'RSS growth MiB (peak)',
      'RSS KiB per pooled connection',
    ],
    w.rows.map((r) => [
      ...leadCells(r),
      fmtRatio(r.vsUndici),
      fmtFixed(r.cpuUsPerReq),
      fmtInt(r.serverConnections),
      fmtInt(r.pools),
      fmtInt(r.pooledConnections),
      r.rssGrowthMiB === null ? '-' : `${r.rssGrowthMiB.toFixed(1)} (${fmtFixed(r.peakRssGrowthMiB)})`,
      fmtFixed(r.rssPerConnectionKiB),
    ]),
  );
  return section(head, body, w.notes);
}

/** Correctness: the manager kept no more pools than numPools, and each pool at most one connection. */
function checks(w) {
  const r = w.rows.find((x) => x.client === 'urllib3-ts');
  if (!r || r.setupError) return [];
  const worst = Math.max(...r.rounds.filter((x) => x.error === undefined).map((x) => x.pools));
  return [
    {
      check: `${ID}: urllib3-ts kept at most numPools pools`,
      value: `${worst} pools, ${r.pooledConnections} pooled connections`,
      ok: Number.isFinite(worst) && worst <= w.numPools && r.pooledConnections <= worst,
    },
  ];
}

export default {
  config,
  workloads: [
    {
      id: ID,
      title: 'GETs to 1,000 distinct hosts through PoolManager({ numPools: 100 }) vs undici Agent',
      order: 75,
      run,
      render,
      checks,
      chart: (w) => [
        { label: 'x undici Agent', value: w.rows.find((r) => r.client === 'urllib3-ts')?.vsUndici ?? null },
      ],
    },
  ],
};
