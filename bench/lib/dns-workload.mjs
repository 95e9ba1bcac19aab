// The dns-200-names workload of `npm run bench` (issue 12): 2,000 GETs to
// 200 distinct host names, 100 in flight, through the system resolver
// (dns.lookup, urllib3-ts's default) and through `dou://` against unbound,
// side by side in one run, all names answered with 127.0.0.1 where the
// bench's nginx listens.
//
// Every path resolves the same names to the same server:
// * unbound (bench/lib/unbound.mjs) serves a generated static zone,
//   dnsbench.test., one A record per name plus the zone's SOA; `dou://`
//   asks it on 127.0.0.1 and a free port;
// * `system, glibc DNS`: the system resolver asking unbound itself, as it
//   does on a machine whose /etc/resolv.conf names a DNS server: the client
//   runs in a mount namespace of its own (`unshare --mount`, root only) where
//   /etc/resolv.conf is bind-mounted to a generated file naming 127.0.0.153,
//   on which unbound also listens, port 53 (glibc's resolver knows no other
//   port). glibc caches nothing, so every lookup is an A and an AAAA query.
//   Run when `unshare` works and 127.0.0.153:53 is free, else noted as
//   skipped. This is the row the issue-12 target is judged against: the
//   same names, from the same DNS server, through dns.lookup.
// * `system, hosts table` (a control): the system resolver gets the names
//   from a generated hosts file through nss_wrapper
//   (`LD_PRELOAD=libnss_wrapper.so`, `NSS_WRAPPER_HOSTS=file`), which
//   replaces the C library's getaddrinfo() in the client process: the same
//   call dns.lookup makes on libuv's thread pool, answered from a table in
//   memory instead of /etc/hosts (which the bench must not edit) - no DNS
//   traffic at all, so the cheapest a system lookup can be, and not a DNS
//   resolver: dou's ratio to it is shown, not held to the target;
// Every client runs in a worker process with nss_wrapper preloaded (so the
// preloaded library costs all alike; the glibc row without its hosts table,
// which would otherwise answer before glibc's DNS resolver), on the client
// core; unbound
// and nginx on the server core. Each run builds a fresh PoolManager (the dou
// cache starts cold every run) and closes it after; see
// bench/lib/dns-clients.mjs for what a run does. After one unmeasured run
// each, the clients take turns, the order reversed every other round, every
// run under the quiet-machine guard; a ratio is the median of the
// per-round ratios. nginx's accepted-connection counter is read around every
// run (outside the client's timed window). Skipped, with a note, when
// unbound is missing; the hosts-table row is left out, with a note, when
// nss_wrapper is missing or the system resolver does not see the names
// through it; the glibc row when it cannot run (see above).

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PATHS } from './payloads.mjs';
import { fmtFixed, fmtInt, leadCells, section } from './table.mjs';
import { quietRun } from './quiet.mjs';
import { medianOrNull as median } from './stats.mjs';
import { measureRounds, setUpRows } from './rounds.mjs';
import { LOOPBACK } from './servers.mjs';
import { DNS_ZONE, findUnbound, startUnbound } from './unbound.mjs';

export const DNS_WORKLOAD_ID = 'dns-200-names';
const SYSTEM_NSS = 'system, hosts table via nss_wrapper (control, no DNS)';
const SYSTEM_GLIBC = 'system, glibc DNS -> unbound';
const DOU = 'dou:// -> unbound';
const DOU_WARM = 'dou:// -> unbound, warm cache';
const IN_MEMORY = 'in-memory:// (control, no DNS)';
const IN_MEMORY_HOP = 'in-memory + thread-pool hop (control)';
const DOU_ROWS = [DOU, DOU_WARM, IN_MEMORY, IN_MEMORY_HOP];
/** Where glibc's resolver finds unbound in the `system, glibc DNS` variant. */
const GLIBC_DNS_ADDRESS = '127.0.0.153';

const NSS_WRAPPER_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/libnss_wrapper.so',
  '/usr/lib/aarch64-linux-gnu/libnss_wrapper.so',
  '/usr/lib64/libnss_wrapper.so',
  '/usr/lib/libnss_wrapper.so',
  '/usr/local/lib/libnss_wrapper.so',
];

/** libnss_wrapper.so (BENCH_NSS_WRAPPER overrides), or null. */
export function findNssWrapper() {
  const list = process.env.BENCH_NSS_WRAPPER ? [process.env.BENCH_NSS_WRAPPER] : NSS_WRAPPER_CANDIDATES;
  for (const p of list) {
    try {
      accessSync(p, constants.R_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** Settings from the environment; `envInt` is run.mjs's. */
export function dnsConfig(envInt, rounds) {
  return {
    dnsRequests: envInt('BENCH_DNS_REQUESTS', 2000),
    dnsNames: envInt('BENCH_DNS_NAMES', 200),
    dnsConcurrency: envInt('BENCH_DNS_CONCURRENCY', 100),
    dnsRounds: envInt('BENCH_DNS_ROUNDS', rounds),
    dnsWarmupRuns: envInt('BENCH_DNS_WARMUP_RUNS', 1),
    // 1: every request on a new connection (Connection: close); 0: keep-alive.
    dnsFresh: process.env.BENCH_DNS_FRESH !== '0',
  };
}

/** [cmd, ...args] that run a command in a mount namespace where /etc/resolv.conf is `file`. */
function resolvConfPrefix(file) {
  return ['unshare', '--mount', 'sh', '-c', `mount --bind ${file} /etc/resolv.conf && exec "$@"`, 'sh'];
}

/**
 * Whether dns.lookup in a process with `env` (and the command prefix, if any)
 * answers `name` with 127.0.0.1 only: null, or why not.
 */
function probeSystem(env, name, prefix = []) {
  const code = `require('node:dns').promises.lookup(${JSON.stringify(name)}, { all: true }).then((a) => console.log(JSON.stringify(a)), (e) => { console.log(e.code); process.exit(1); })`;
  const argv = [...prefix, process.execPath, '-e', code];
  const r = spawnSync(argv[0], argv.slice(1), {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 10_000,
  });
  const out = (r.stdout ?? '').trim();
  if (r.status === 0 && out === JSON.stringify([{ address: LOOPBACK, family: 4 }])) return null;
  const err = (r.stderr ?? '').trim().split('\n')[0];
  return `dns.lookup(${name}) gave ${out || r.error?.message || `exit ${r.status}`}${err ? ` (${err})` : ''}`;
}

/** Whether UDP and TCP port 53 of `address` can be bound (null) or why not. */
async function port53Free(address) {
  const udp = await new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', (e) => resolve(e.code));
    s.bind(53, address, () => s.close(() => resolve(null)));
  });
  if (udp !== null) return `${address}:53/udp: ${udp}`;
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', (e) => resolve(`${address}:53/tcp: ${e.code}`));
    srv.listen(53, address, () => srv.close(() => resolve(null)));
  });
}

/**
 * Runs the workload. deps: { startWorker(pin, env, prefix), config, log }.
 * Resolves with the workload's result (rows as the other workloads have
 * them, plus ratios), or { skipped } when it could not run.
 */
export async function runDnsNames(spec, server, pin, { startWorker, config, log }) {
  const fresh = config.dnsFresh;
  const title =
    `${config.dnsRequests.toLocaleString('en-US')} GETs to ${config.dnsNames} distinct names, ${config.dnsConcurrency} in flight, ` +
    `${fresh ? 'a new connection per request (Connection: close)' : 'keep-alive'}: dou:// (unbound) vs the system resolver (dns.lookup)`;
  const result = { id: DNS_WORKLOAD_ID, kind: 'dns', title, fresh, rows: [], notes: [] };
  log(`\n${title}`);
  const unboundExe = findUnbound();
  if (unboundExe === null) {
    result.skipped = 'unbound is not installed (Debian: apt-get install unbound)';
    log(`  skipped: ${result.skipped}`);
    return result;
  }
  const names = Array.from({ length: config.dnsNames }, (_, i) => `n${i}.${DNS_ZONE}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-dns-'));
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, `${names.map((n) => `${LOOPBACK} ${n}`).join('\n')}\n`);
  const resolvConf = path.join(dir, 'resolv.conf');
  writeFileSync(resolvConf, `nameserver ${GLIBC_DNS_ADDRESS}\noptions timeout:2 attempts:2\n`);
  const wanted = new Set(
    (process.env.BENCH_DNS_SYSTEM ?? 'nss_wrapper,glibc').split(',').map((x) => x.trim()),
  );
  // nss_wrapper is needed for the hosts-table control only; where it is
  // missing, or does not work, that row is left out (with a note) and the
  // others run without it.
  const nss = findNssWrapper();
  // The glibc row preloads nss_wrapper too (so the library costs all alike)
  // but without NSS_WRAPPER_HOSTS, which leaves it inactive: with the hosts
  // table set, nss_wrapper answers getaddrinfo() from it and glibc's DNS
  // resolver is never asked (an earlier version of this workload measured
  // the table twice that way).
  let preloadOnly =
    nss === null ? {} : { LD_PRELOAD: [nss, process.env.LD_PRELOAD].filter(Boolean).join(':') };
  let env = {
    ...preloadOnly,
    NSS_WRAPPER_HOSTS: hostsFile,
    // Its hash table holds 100 entries by default; with more names than that
    // every lookup fails with EAI_MEMORY ("Hash table is full").
    NSS_WRAPPER_MAX_HOSTENTS: String(Math.max(1000, 4 * names.length)),
  };
  let nssMissing = null;
  if (nss === null) {
    nssMissing = 'libnss_wrapper.so not found (Debian: apt-get install libnss-wrapper; or BENCH_NSS_WRAPPER)';
  } else {
    const why = probeSystem(env, names[names.length - 1]);
    if (why !== null) nssMissing = `the system resolver does not see the names through nss_wrapper: ${why}`;
  }
  if (nssMissing !== null) {
    preloadOnly = {};
    env = {};
    if (wanted.has('nss_wrapper')) result.notes.push(`${SYSTEM_NSS} not run: ${nssMissing}`);
    wanted.delete('nss_wrapper');
  }
  let glibc =
    wanted.has('glibc') && process.getuid?.() === 0 ? await port53Free(GLIBC_DNS_ADDRESS) : 'not asked for';
  if (wanted.has('glibc') && process.getuid?.() !== 0) glibc = 'needs root (unshare --mount)';
  const clients = [
    ...(wanted.has('nss_wrapper') ? [{ client: SYSTEM_NSS, resolver: 'system', prefix: [], env }] : []),
    ...(glibc === null
      ? [{ client: SYSTEM_GLIBC, resolver: 'system', prefix: resolvConfPrefix(resolvConf), env: preloadOnly }]
      : []),
    { client: DOU, resolver: 'dou', prefix: [], env },
    ...(process.env.BENCH_DNS_CONTROLS === '0'
      ? []
      : [
          { client: DOU_WARM, resolver: 'dou-warm', prefix: [], env },
          { client: IN_MEMORY, resolver: 'in-memory', prefix: [], env },
          { client: IN_MEMORY_HOP, resolver: 'in-memory-hop', prefix: [], env },
        ]),
  ];
  if (glibc !== null && wanted.has('glibc')) result.notes.push(`${SYSTEM_GLIBC} not run: ${glibc}`);
  let unbound = null;
  const workers = new Map();
  const rows = clients.map((c) => ({ ...c, rounds: [] }));
  result.rows = rows;
  try {
    unbound = await startUnbound(pin, names, {
      extraInterfaces: glibc === null ? [`${GLIBC_DNS_ADDRESS}@53`] : [],
    });
    result.server = `unbound ${unbound.version}`;
    const glibcRow = rows.find((r) => r.client === SYSTEM_GLIBC);
    if (glibcRow) {
      const whyNot = probeSystem(glibcRow.env, names[0], glibcRow.prefix);
      if (whyNot !== null) {
        glibcRow.setupError = `the system resolver does not reach unbound: ${whyNot}`;
        result.notes.push(`${SYSTEM_GLIBC} not run: ${glibcRow.setupError}`);
        log(`  ${SYSTEM_GLIBC}: ${glibcRow.setupError}`);
      }
    }
    const params = (row) => ({
      resolver: row.resolver,
      dnsPort: unbound.port,
      port: server.port,
      names,
      target: PATHS.small,
      total: config.dnsRequests,
      concurrency: config.dnsConcurrency,
      fresh,
    });
    const runTimeout = 120_000;
    await setUpRows(rows, log, async (row) => {
      const w = await startWorker(pin, row.env, row.prefix);
      workers.set(row.client, w);
      for (let i = 0; i < config.dnsWarmupRuns; i++) await w.call('dnsNames', params(row), runTimeout);
    });
    await measureRounds({
      rows,
      rounds: config.dnsRounds,
      alternate: true,
      log,
      measure: (row) => {
        const w = workers.get(row.client);
        return quietRun(
          () => [process.pid, server.pid, unbound.pid, w.pid],
          async () => {
            const before = await server.connectionsAccepted();
            const run = await w.call('dnsNames', params(row), runTimeout);
            // The second probe is a connection of its own.
            run.serverConnections = (await server.connectionsAccepted()) - before - 1;
            return run;
          },
        );
      },
      describe: (row, r) =>
        `${row.client} ${Math.round(r.reqPerSec)} req/s (${Math.round(r.elapsedMs)} ms, ${r.serverConnections} connections)${r.disturbed ? ' (disturbed)' : ''}`,
    });
  } finally {
    for (const w of workers.values()) await w.stop();
    await unbound?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const ok = (r) => r !== undefined && r.error === undefined;
  for (const row of rows) {
    delete row.prefix;
    delete row.env;
    const good = row.rounds.filter(ok);
    const rps = good.map((r) => r.reqPerSec);
    row.median = median(rps);
    row.min = rps.length > 0 ? Math.min(...rps) : null;
    row.max = rps.length > 0 ? Math.max(...rps) : null;
    row.medianElapsedMs = median(good.map((r) => r.elapsedMs));
    row.cpuUsPerReq = median(good.map((r) => r.cpuUsPerReq));
    row.newConnections = median(good.map((r) => r.newConnections));
    row.serverConnections = median(good.map((r) => r.serverConnections));
    row.meanResolutionUs = median(good.map((r) => r.meanResolutionUs).filter((x) => x !== null));
  }
  // dou's speed over each system row: the median of the per-round ratios.
  const perRound = (x, y) => {
    const ratios = [];
    for (let i = 0; i < config.dnsRounds; i++) {
      const a = x?.rounds[i];
      const b = y.rounds[i];
      if (ok(a) && ok(b) && b.reqPerSec > 0) ratios.push(a.reqPerSec / b.reqPerSec);
    }
    return ratios;
  };
  const dou = rows.find((r) => r.client === DOU);
  const douWarm = rows.find((r) => r.client === DOU_WARM);
  result.ratios = {};
  for (const row of rows) {
    if (DOU_ROWS.includes(row.client)) continue;
    const ratios = perRound(dou, row);
    row.douSpeedup = median(ratios);
    result.ratios[`${DOU} / ${row.client}`] = ratios;
    if (douWarm !== undefined) {
      const warm = perRound(douWarm, row);
      row.douWarmSpeedup = median(warm);
      result.ratios[`${DOU_WARM} / ${row.client}`] = warm;
    }
  }
  result.roundCount = config.dnsRounds;
  return result;
}

/** The workload's table, in the style of run.mjs's renderMarkdown. */
export function renderDns(w, table) {
  const head = `**${w.title}** (req/s, median of ${w.roundCount ?? 0} rounds${w.server ? `; DNS server ${w.server}` : ''})\n`;
  if (w.skipped) return `${head}\nnot run: ${w.skipped}`;
  const body = table(
    [
      'resolver',
      'req/s',
      'spread',
      'ms per run',
      'dou x this (warm cache)',
      'new connections (client)',
      'TCP connections (server)',
      'ms to resolve, per new connection',
      'client CPU µs/req',
    ],
    w.rows.map((r) => [
      ...leadCells(r),
      fmtInt(r.medianElapsedMs),
      DOU_ROWS.includes(r.client)
        ? '-'
        : `${fmtFixed(r.douSpeedup, 2)}${r.douWarmSpeedup == null ? '' : ` (${fmtFixed(r.douWarmSpeedup, 2)})`}`,
      fmtInt(r.newConnections),
      fmtInt(r.serverConnections),
      fmtFixed(
        r.meanResolutionUs === null || r.meanResolutionUs === undefined ? null : r.meanResolutionUs / 1000,
        2,
      ),
      fmtFixed(r.cpuUsPerReq, 1),
    ]),
  );
  const per = Object.entries(w.ratios ?? {})
    .filter(([, xs]) => xs.length > 0)
    .map(([name, xs]) => `per-round ${name}: ${xs.map((x) => x.toFixed(2)).join(', ')}`);
  const notes = [...per, ...(w.notes ?? [])];
  return section(head, body, notes);
}

/**
 * The issue-12 target: dou faster end to end than the system resolver asking
 * the same DNS server (the glibc row); the hosts-table row is a control.
 */
export function dnsTargets(w) {
  if (!w || w.skipped) return [];
  const target = `${DNS_WORKLOAD_ID}: dou:// faster end to end than ${SYSTEM_GLIBC}`;
  const row = w.rows.find((r) => r.client === SYSTEM_GLIBC);
  if (row === undefined || row.douSpeedup === null || row.douSpeedup === undefined) {
    const why = (w.notes ?? []).find((n) => n.startsWith(SYSTEM_GLIBC)) ?? `${SYSTEM_GLIBC} did not run`;
    return [{ target, value: `not measured (${why})`, ok: false }];
  }
  return [{ target, value: row.douSpeedup, ok: row.douSpeedup > 1 }];
}
