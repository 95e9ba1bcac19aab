// The HTTP/3 workloads of `npm run bench` (issue 13): urllib3-ts over HTTP/3
// beside urllib3-ts and undici over HTTP/2, all against ONE caddy (Debian's,
// /usr/bin/caddy) that serves HTTP/2 on TCP and HTTP/3 on UDP on the same
// loopback port, with the bench's certificates (bench/lib/certs.mjs):
//
// * h3-get-c100: 10,000 small GETs (100 B) per run, 100 in flight, over one
//   connection per client;
// * h3-download: a 100 MiB file, streamed (urllib3-ts: preloadContent
//   false and `for await`), in MiB/s, with a row for the QUIC transport
//   alone (the library's own QUIC connection and a hand-made HEADERS frame,
//   no pool, no session: the most the library's HTTP/3 could reach).
//
// caddy runs on the server core, every client in a process of its own on the
// client core (bench/lib/servers.mjs's pinning), runs under the quiet-machine
// guard, clients interleaved round by round. Every GET response is checked
// (status, length, and that it came over the protocol the row names), and a
// run that opens a connection is an error (each run starts with one untimed
// request, which opens again a connection that QUIC's 30 s idle timeout
// closed while the other clients ran). Each download round runs in a fresh
// process that first downloads the file once with its SHA-256 checked
// against the file's (unmeasured: the check costs CPU the clients compete
// for), then the measured download, whose length is checked. Skipped, with a
// note, when caddy, openssl or the QUIC binding is missing.
//
// This file is also its own client process (run with an IPC channel by the
// functions below) and a stand-alone bench:
//   node bench/lib/h3-workload.mjs [h3-get-c100,h3-download]
// Settings: BENCH_H3_REQUESTS (10000), BENCH_H3_CONCURRENCY (100),
// BENCH_H3_ROUNDS (BENCH_ROUNDS or 3), BENCH_H3_WARMUP_RUNS (1),
// BENCH_H3_DOWNLOAD_MIB (100), BENCH_H3_DOWNLOAD_ROUNDS (5),
// BENCH_H3_CLIENTS (comma list of row names), BENCH_H3_RUN_TIMEOUT_MS (60000),
// BENCH_COMPARE_DIST (rows 'urllib3-ts h3 B' and 'QUIC transport only B'
// from another compiled tree), BENCH_DIST (the tree measured, default dist/).

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeBenchCerts } from './certs.mjs';
import { serveIpcCalls } from './ipc.mjs';
import { MiB, PATHS, SMALL_BODY } from './payloads.mjs';
import { quietRun } from './quiet.mjs';
import { measureRounds, setUpRows } from './rounds.mjs';
import { summarise } from './stats.mjs';
import { fmtFixed, leadCells, section } from './table.mjs';
import { withTimeout } from './with-timeout.mjs';
import { startIpcNode } from './worker-process.mjs';
import { envInt } from './env.mjs';
import { undiciH2Pool } from './h2-clients.mjs';
import { findBinary, getFreePort, LOOPBACK, pinnedCommand, pinning, spawnOwned } from './servers.mjs';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '..', '..');
const DIST = path.resolve(process.env.BENCH_DIST ?? path.join(ROOT, 'dist'));
// BENCH_COMPARE_DIST adds rows '... B' loaded from another compiled tree,
// interleaved with the main ones (how a change's gain is measured in one run).
const COMPARE = process.env.BENCH_COMPARE_DIST ? path.resolve(process.env.BENCH_COMPARE_DIST) : null;

export const H3_GET_ID = 'h3-get-c100';
export const H3_DOWNLOAD_ID = 'h3-download';

const H3 = 'urllib3-ts h3';
const H2 = 'urllib3-ts h2';
const UNDICI = 'undici.request h2';
const TRANSPORT = 'QUIC transport only';
const B = ' B';
const GET_CLIENTS = COMPARE ? [H3, H3 + B, H2, UNDICI] : [H3, H2, UNDICI];
const DOWNLOAD_CLIENTS = COMPARE
  ? [TRANSPORT, TRANSPORT + B, H3, H3 + B, H2, UNDICI]
  : [TRANSPORT, H3, H2, UNDICI];

/** A row name without its ' B', and the compiled tree it loads. */
function variant(client) {
  return client.endsWith(B) ? [client.slice(0, -B.length), COMPARE] : [client, DIST];
}

function h3Config() {
  const filter = (process.env.BENCH_H3_CLIENTS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const pick = (list) => (filter.length === 0 ? list : list.filter((c) => filter.includes(c)));
  return {
    requests: envInt('BENCH_H3_REQUESTS', 10_000),
    concurrency: envInt('BENCH_H3_CONCURRENCY', 100),
    rounds: envInt('BENCH_H3_ROUNDS', envInt('BENCH_ROUNDS', 3)),
    warmupRuns: envInt('BENCH_H3_WARMUP_RUNS', 1),
    downloadMiB: envInt('BENCH_H3_DOWNLOAD_MIB', 100),
    downloadRounds: envInt('BENCH_H3_DOWNLOAD_ROUNDS', 5),
    runTimeoutMs: envInt('BENCH_H3_RUN_TIMEOUT_MS', 60_000),
    getClients: pick(GET_CLIENTS),
    downloadClients: pick(DOWNLOAD_CLIENTS),
  };
}

// ---- the server: caddy ------------------------------------------------------------

/** Why the workloads cannot run here (caddy, the binding, a built dist/), or null. */
async function whyNot() {
  if (findBinary('caddy') === null) return 'caddy is not installed (Debian: apt-get install caddy)';
  const loader = path.join(DIST, 'net', 'quic', 'quic-loader.js');
  if (!existsSync(loader)) return `${loader} is missing (npm run build)`;
  const { loadQuicTransport } = await import(pathToFileURL(loader).href);
  const { reason } = await loadQuicTransport();
  return reason === null ? null : `HTTP/3 is unavailable: ${reason}`;
}

function caddyfile(port, certs, root) {
  return `{
\tadmin off
\tauto_https off
\tskip_install_trust
\tservers {
\t\tprotocols h1 h2 h3
\t}
}
https://${LOOPBACK}:${port}, https://localhost:${port} {
\tbind ${LOOPBACK}
\ttls ${certs.certFile} ${certs.keyFile}
\troot * ${root}
\tfile_server
}
`;
}

function tcpAnswers(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: LOOPBACK, port });
    s.setTimeout(1000);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.once('timeout', () => {
      s.destroy();
      resolve(false);
    });
  });
}

/**
 * caddy in the foreground in a temporary directory (HOME and the XDG
 * directories there), files written first: /small.txt (the bench's 100 B),
 * /big.bin (random, `downloadMiB`) and its SHA-256. Pinned to the server core.
 */
export async function startCaddy(pin, downloadMiB) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-h3-'));
  let certs = null;
  let child = null;
  try {
    certs = await makeBenchCerts();
    const root = path.join(dir, 'root');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(root);
    writeFileSync(path.join(root, PATHS.small.slice(1)), SMALL_BODY);
    const hash = createHash('sha256');
    const fd = openSync(path.join(root, PATHS.big.slice(1)), 'w');
    try {
      for (let i = 0; i < downloadMiB; i++) {
        const block = randomBytes(MiB);
        hash.update(block);
        writeFileSync(fd, block);
      }
    } finally {
      closeSync(fd);
    }
    const bigSha256 = hash.digest('hex');
    const port = await getFreePort();
    const conf = path.join(dir, 'Caddyfile');
    writeFileSync(conf, caddyfile(port, certs, root));
    const logFile = path.join(dir, 'caddy.log');
    const out = openSync(logFile, 'a');
    const [cmd, args] = pinnedCommand(pin, pin.serverCore, findBinary('caddy'), [
      'run',
      '--config',
      conf,
      '--adapter',
      'caddyfile',
    ]);
    child = spawnOwned(
      cmd,
      args,
      {
        stdio: ['ignore', out, out],
        env: {
          ...process.env,
          HOME: dir,
          XDG_DATA_HOME: path.join(dir, 'data'),
          XDG_CONFIG_HOME: path.join(dir, 'config'),
        },
      },
      'SIGQUIT',
    );
    closeSync(out);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`caddy exited: ${readFileSync(logFile, 'utf8').slice(-2000)}`);
      if (await tcpAnswers(port)) break;
      if (Date.now() > deadline) throw new Error('caddy did not answer within 15 s');
      await sleep(50);
    }
    const version = /v?(\d+\.\d+\.\d+)/.exec(
      (await import('node:child_process')).spawnSync(findBinary('caddy'), ['version'], { encoding: 'utf8' })
        .stdout ?? '',
    )?.[1];
    const owned = child;
    const ownedCerts = certs;
    return {
      pid: child.pid,
      origin: `https://localhost:${port}`,
      ca: certs.caPem,
      bigSha256,
      bigSize: downloadMiB * MiB,
      version: `caddy ${version ?? '?'}`,
      async stop() {
        await owned.stopOwned();
        ownedCerts.remove();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await child?.stopOwned();
    certs?.remove();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---- client processes -------------------------------------------------------------

/** This file as a client process, pinned to the client core, driven over IPC. */
function startClient(pin) {
  return startIpcNode(pin, [SELF], 'client process');
}

// ---- the workloads (parent side) ----------------------------------------------------

async function runGet(pin, log, cfg, server, result) {
  const rows = cfg.getClients.map((client) => ({ client, rounds: [] }));
  result.rows = rows;
  const clients = new Map();
  const params = { requests: cfg.requests, timeoutMs: cfg.runTimeoutMs };
  const timeout = cfg.runTimeoutMs + 30_000;
  try {
    await setUpRows(rows, log, async (row) => {
      const c = await startClient(pin);
      clients.set(row.client, c);
      await c.call(
        'setup',
        { client: row.client, origin: server.origin, ca: server.ca, concurrency: cfg.concurrency },
        30_000,
      );
      for (let i = 0; i < cfg.warmupRuns; i++) await c.call('run', params, timeout);
    });
    await measureRounds({
      rows,
      rounds: cfg.rounds,
      alternate: true,
      log,
      measure: async (row) => {
        const c = clients.get(row.client);
        const r = await quietRun(
          () => [process.pid, server.pid, c.pid],
          () => c.call('run', params, timeout),
        );
        if (r.requests !== cfg.requests) r.error = `only ${r.requests} of ${cfg.requests} requests`;
        if (r.connectionsOpened !== 0)
          r.error = `${r.connectionsOpened} connections opened during the run (all requests must share one)`;
        return r;
      },
      describe: (row, r) =>
        `${row.client} ${Math.round(r.reqPerSec)}${r.error ? ` (${r.error})` : ''}${r.disturbed ? ' (disturbed)' : ''}`,
    });
  } finally {
    for (const c of clients.values()) await c.stop();
  }
  summarise(rows, 'reqPerSec', { vsBaseline: H2 });
}

async function runDownload(pin, log, cfg, server, result) {
  const rows = cfg.downloadClients.map((client) => ({ client, rounds: [] }));
  result.rows = rows;
  const timeout = 2 * cfg.runTimeoutMs + 10_000;
  await measureRounds({
    rows,
    rounds: cfg.downloadRounds,
    alternate: true,
    log,
    measure: async (row) => {
      let c = null;
      try {
        return await quietRun(
          () => [process.pid, server.pid, ...(c ? [c.pid] : [])],
          () =>
            c.call(
              'download',
              {
                client: row.client,
                origin: server.origin,
                ca: server.ca,
                size: server.bigSize,
                sha256: server.bigSha256,
                timeoutMs: cfg.runTimeoutMs,
              },
              timeout,
            ),
          async () => {
            await c?.stop();
            c = await startClient(pin);
          },
          true,
        );
      } finally {
        await c?.stop();
      }
    },
    describe: (row, r) =>
      `${row.client} ${Math.round(r.mibPerSec)} MiB/s${r.disturbed ? ' (disturbed)' : ''}`,
  });
  summarise(rows, 'mibPerSec', { vsBaseline: H2 });
}

/**
 * Runs one of the workloads (id: h3-get-c100 or h3-download) with its own
 * caddy; `log` as run.mjs's. Resolves with { id, kind: 'h3', title, unit,
 * rows, ... } or, when it cannot run here, with `skipped` saying why.
 */
export async function runH3(id, pin, log) {
  const cfg = h3Config();
  const get = id === H3_GET_ID;
  const title = get
    ? `HTTP/3 vs HTTP/2, same caddy: ${cfg.requests.toLocaleString('en-US')} small GETs (100 B) per run over one connection, ${cfg.concurrency} in flight`
    : `HTTP/3 vs HTTP/2, same caddy: ${cfg.downloadMiB} MiB streamed download (preloadContent: false)`;
  const result = {
    id,
    kind: 'h3',
    title,
    unit: get ? 'req/s' : 'MiB/s',
    roundCount: get ? cfg.rounds : cfg.downloadRounds,
    baseline: H2,
    rows: [],
  };
  log(`\n${title}`);
  const why = await whyNot().catch((e) => `cannot load the QUIC transport: ${e.message}`);
  if (why !== null) {
    result.skipped = why;
    log(`  skipped: ${why}`);
    return result;
  }
  let server;
  try {
    server = await startCaddy(pin, get ? 1 : cfg.downloadMiB);
  } catch (err) {
    result.skipped = `caddy could not start: ${err.message.split('\n')[0]}`;
    log(`  skipped: ${result.skipped}`);
    return result;
  }
  result.server = server.version;
  try {
    if (get) await runGet(pin, log, cfg, server, result);
    else await runDownload(pin, log, cfg, server, result);
  } finally {
    await server.stop();
  }
  return result;
}

/** Entries for run.mjs's WORKLOADS: kind 'h3', each with its own `run(pin, log)`. */
export const H3_WORKLOADS = {
  [H3_GET_ID]: {
    kind: 'h3',
    title: 'HTTP/3 vs HTTP/2 (same caddy): 10,000 GETs, 100 in flight, one connection',
    run: (pin, log) => runH3(H3_GET_ID, pin, log),
  },
  [H3_DOWNLOAD_ID]: {
    kind: 'h3',
    title: 'HTTP/3 vs HTTP/2 (same caddy): 100 MiB streamed download',
    run: (pin, log) => runH3(H3_DOWNLOAD_ID, pin, log),
  },
};

/**
 * The module as bench/run.mjs registers it (WORKLOAD_MODULES): each workload
 * starts its own caddy, so it ignores the bench's server.
 */
/** One of the two workloads: each reads its chart points from the urllib3-ts h3 row. */
const h3Workload = (id, order, chartOf) => ({
  id,
  title: H3_WORKLOADS[id].title,
  order,
  run: (ctx) => runH3(id, ctx.pin, ctx.log),
  render: renderH3,
  targets: h3Targets,
  chart: (w) => chartOf(w.rows?.find((r) => r.client === H3)),
});

export default {
  workloads: [
    h3Workload(H3_GET_ID, 90, (h3) => [{ label: `x ${H2}`, value: h3?.vsBaseline ?? null, target: 0.5 }]),
    h3Workload(H3_DOWNLOAD_ID, 91, (h3) => {
      const v = h3?.median;
      return [{ label: 'x 100 MiB/s', value: typeof v === 'number' ? v / 100 : null, target: 1 }];
    }),
  ],
};

/** The issue-13 targets of one workload's result. */
export function h3Targets(w) {
  if (!w || w.skipped) return [];
  const h3 = w.rows.find((r) => r.client === H3);
  if (!h3 || h3.median === null) return [];
  if (w.id === H3_DOWNLOAD_ID)
    return [
      { target: `${w.id}: urllib3-ts over HTTP/3 >= 100 MiB/s`, value: h3.median, ok: h3.median >= 100 },
    ];
  if (h3.vsBaseline === null) return [];
  return [
    {
      target: `${w.id}: urllib3-ts over HTTP/3 >= 0.5x urllib3-ts over HTTP/2`,
      value: h3.vsBaseline,
      ok: h3.vsBaseline >= 0.5,
    },
  ];
}

/** The workload's table (and its target line), in the style of run.mjs's renderMarkdown. */
export function renderH3(w, table) {
  const head = `**${w.title}** (${w.unit}, median of ${w.roundCount} rounds${w.server ? `; ${w.server}` : ''})\n`;
  if (w.skipped) return `${head}\nnot run: ${w.skipped}`;
  const dl = w.id === H3_DOWNLOAD_ID;
  const body = table(
    ['client', w.unit, 'spread', `x ${w.baseline}`, dl ? 'client CPU s/100 MiB' : 'client CPU µs/req'],
    w.rows.map((r) => [
      ...leadCells(r),
      fmtFixed(r.vsBaseline, 2),
      dl ? fmtFixed(r.cpuUsPerReq === null ? null : r.cpuUsPerReq / 1e6, 2) : fmtFixed(r.cpuUsPerReq, 1),
    ]),
  );
  const targets = h3Targets(w).map(
    (t) => `target ${t.ok ? 'met' : 'NOT MET'}: ${t.target}: ${t.value.toFixed(2)}`,
  );
  const errors = w.rows.flatMap((r) =>
    [r.setupError, ...r.rounds.map((x) => x?.error)].filter(Boolean).map((e) => `${r.client}: ${e}`),
  );
  const notes = [...targets, ...errors];
  return section(head, body, notes);
}

// ---- the client process ---------------------------------------------------------------

const loadDist = (file, dist = DIST) => import(pathToFileURL(path.join(dist, file)).href);

class CheckError extends Error {}

function checkSmall(status, length, version, want) {
  if (status !== 200 || length !== SMALL_BODY.length)
    throw new CheckError(`unexpected response: status ${status}, ${length} body bytes`);
  if (version !== want) throw new CheckError(`answered over HTTP version ${version}, expected ${want}`);
}

async function urllib3Manager(client, ca, dist) {
  const { PoolManager, HttpVersion } = await loadDist('index.js', dist);
  const h3 = client === H3;
  const disabled = new Set([HttpVersion.h11, h3 ? HttpVersion.h2 : HttpVersion.h3]);
  return { pm: new PoolManager({ caCertData: ca, disabledSvn: disabled }), version: h3 ? 30 : 20 };
}

function connectionsOf(pm) {
  let n = 0;
  for (const pool of pm.pools.values()) n += pool.numConnections;
  return n;
}

/** A GET client: { once(), connections(), close() }. */
async function getClient(row, origin, ca, concurrency) {
  const url = origin + PATHS.small;
  const [client, dist] = variant(row);
  if (client === H3 || client === H2) {
    const { pm, version } = await urllib3Manager(client, ca, dist);
    const once = async () => {
      const r = await pm.request('GET', url);
      checkSmall(r.status, r.data.length, r.version, version);
    };
    await once();
    return { once, connections: () => connectionsOf(pm), close: () => pm.close() };
  }
  if (client === UNDICI) {
    const { pool, request, sockets, unwatch } = await undiciH2Pool(origin, concurrency, ca);
    const once = async () => {
      const { statusCode, body } = await request(url, { dispatcher: pool });
      checkSmall(statusCode, (await body.arrayBuffer()).byteLength, 20, 20);
    };
    const close = () => {
      unwatch();
      return pool.close();
    };
    await once();
    if (sockets.length !== 1 || sockets[0].alpnProtocol !== 'h2') {
      await close();
      throw new CheckError(
        `undici: expected one h2 connection, ALPN gave ${sockets.map((s) => s.alpnProtocol)}`,
      );
    }
    return { once, connections: () => sockets.length, close };
  }
  throw new Error(`unknown GET client ${client}`);
}

/** The QUIC transport alone: one connection, one request stream, the bytes counted. */
async function transportDownload(origin, ca, onChunk, dist) {
  const { loadQuicTransport } = await loadDist('net/quic/quic-loader.js', dist);
  const { clientControlStreamPreface, encodeFrame, FRAME_HEADERS, encodeFieldSection } = await loadDist(
    'protocol/h3/index.js',
    dist,
  );
  const u = new URL(origin);
  const { transport, reason } = await loadQuicTransport();
  if (transport === null) throw new Error(reason);
  const quic = await transport.connect({
    address: LOOPBACK,
    family: 4,
    port: Number(u.port),
    serverName: u.hostname,
    alpn: ['h3'],
    verifyPeer: true,
    caPem: ca,
    certChainPem: null,
    keyPem: null,
    keylogFile: null,
    timeout: 10_000,
    signal: null,
    label: u.host,
  });
  const ignore = { onData() {}, onEnd() {}, onReset() {}, onStopSending() {}, onDrain() {} };
  quic.onStream = (s) => s.setHandlers(ignore);
  quic.openUniStream().write(clientControlStreamPreface(16384));
  const stream = quic.openBidiStream();
  const fields = [':method', 'GET', ':scheme', 'https', ':authority', u.host, ':path', PATHS.big];
  await new Promise((resolve, reject) => {
    stream.setHandlers({
      onData: onChunk,
      onEnd: resolve,
      onReset: (code) => reject(new Error(`stream reset (${code})`)),
      onStopSending() {},
      onDrain() {},
    });
    stream.end(encodeFrame(FRAME_HEADERS, encodeFieldSection(fields)));
  });
  quic.close(0, '');
}

/**
 * Downloads the big file with `client`; `onChunk(buf)` sees every body
 * chunk (the transport row: every stream chunk, HTTP/3 frame headers
 * included). Resolves once the body is complete.
 */
export async function download(row, origin, ca, onChunk) {
  const url = origin + PATHS.big;
  const [client, dist] = variant(row);
  if (client === TRANSPORT) return transportDownload(origin, ca, onChunk, dist);
  if (client === H3 || client === H2) {
    const { pm, version } = await urllib3Manager(client, ca, dist);
    const r = await pm.request('GET', url, { preloadContent: false });
    if (r.status !== 200 || r.version !== version)
      throw new CheckError(`status ${r.status} over HTTP version ${r.version}, expected 200 over ${version}`);
    for await (const chunk of r) onChunk(chunk);
    await pm.close();
    return;
  }
  if (client === UNDICI) {
    const { Pool, request } = await import('undici');
    const pool = new Pool(origin, { connections: 1, allowH2: true, connect: { ca } });
    const { statusCode, body } = await request(url, { dispatcher: pool });
    if (statusCode !== 200) throw new CheckError(`status ${statusCode}`);
    for await (const chunk of body) onChunk(chunk);
    await pool.close();
    return;
  }
  throw new Error(`unknown download client ${client}`);
}

async function clientProcess() {
  process.on('disconnect', () => process.exit(0));
  let current = null;
  let concurrency = 1;
  const handlers = {
    async setup({ client, origin, ca, concurrency: c }) {
      concurrency = c;
      current = await getClient(client, origin, ca, c);
      return null;
    },
    async run({ requests, timeoutMs }) {
      // One request first, untimed: a connection the server (or QUIC's idle
      // timeout, 30 s) closed while other clients ran is opened again here,
      // so that every request of the run shares one connection.
      await current.once();
      const before = current.connections();
      const cpu = process.cpuUsage();
      const started = performance.now();
      const deadline = started + timeoutMs;
      let next = 0;
      let done = 0;
      const loop = async () => {
        while (next < requests && performance.now() < deadline) {
          next++;
          await current.once();
          done++;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      return {
        requests: done,
        elapsedMs,
        reqPerSec: (done * 1000) / elapsedMs,
        cpuUsPerReq: done > 0 ? (used.user + used.system) / done : null,
        connectionsOpened: current.connections() - before,
      };
    },
    async download({ client, origin, ca, size, sha256, timeoutMs }) {
      // Unmeasured: the whole file with its checksum checked (also the JIT's warm-up).
      const hash = createHash('sha256');
      let n = 0;
      await withTimeout(
        download(client, origin, ca, (c) => {
          n += c.length;
          hash.update(c);
        }),
        timeoutMs,
        'checked download',
      );
      if (variant(client)[0] !== TRANSPORT) {
        const got = hash.digest('hex');
        if (n !== size || got !== sha256)
          throw new CheckError(`download: ${n} bytes with SHA-256 ${got}, expected ${size} bytes, ${sha256}`);
      } else if (n < size) throw new CheckError(`transport download: ${n} stream bytes, under ${size}`);
      // No forced GC between the two: after one (gc() with --expose-gc), V8
      // (Node 20) left the old generation's limit so close to the grown young
      // generation that the next download ran back-to-back full GCs (measured:
      // +30-50% client CPU), an artefact of the forced GC.
      await sleep(20);
      // Measured: the same download, bytes counted.
      n = 0;
      const cpu = process.cpuUsage();
      const started = performance.now();
      await withTimeout(
        download(client, origin, ca, (c) => {
          n += c.length;
        }),
        timeoutMs,
        'download',
      );
      const elapsedMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      if (variant(client)[0] === TRANSPORT ? n < size : n !== size)
        throw new CheckError(`download: ${n} bytes, expected ${size}`);
      return {
        bytes: n,
        elapsedMs,
        mibPerSec: size / MiB / (elapsedMs / 1000),
        // CPU µs per (100 MiB) download, for the table's CPU column.
        cpuUsPerReq: ((used.user + used.system) * (100 * MiB)) / size,
      };
    },
  };
  serveIpcCalls(handlers, () => current?.close());
}

// ---- stand-alone ------------------------------------------------------------------------

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  const sep = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(headers), sep, ...rows.map(line)].join('\n');
}

async function standAlone() {
  const ids = (process.argv[2] ?? `${H3_GET_ID},${H3_DOWNLOAD_ID}`).split(',');
  for (const id of ids) if (!(id in H3_WORKLOADS)) throw new Error(`unknown workload ${id}`);
  const index = path.join(DIST, 'index.js');
  if (existsSync(index) && statSync(index).mtimeMs < statSync(path.join(ROOT, 'src', 'index.ts')).mtimeMs)
    process.stderr.write('note: dist/ may be older than src/ (npm run build)\n');
  const pin = pinning();
  const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
  const results = [];
  for (const id of ids) results.push(await H3_WORKLOADS[id].run(pin, log));
  console.log('');
  for (const w of results) console.log(`${renderH3(w, table)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === SELF) {
  if (typeof process.send === 'function') clientProcess();
  else
    standAlone().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
}
