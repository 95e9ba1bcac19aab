// The benchmark server, started by the bench on a free loopback port and
// stopped afterwards: nginx when installed (one worker, static files,
// keep-alive requests unlimited), else bench/lib/node-server.mjs in its own
// process. With certificates (the HTTP/2 workload), nginx also listens with
// TLS and HTTP/2 on a second port; the node fallback adds
// bench/lib/node-h2-server.mjs, a node:http2 secure server, as a second
// process. Either way the server runs in the foreground as our child (the PID
// we hold is the server), pinned to its own core when taskset is available,
// and dies with us (setpriv's parent-death signal plus exit hooks).
//
// Same habits as test/support/real-servers.ts, written again here because
// the bench runs as plain JavaScript without the test loader.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  H2_DOWNLOAD_SIZE,
  JSON_RESPONSE,
  MiB,
  PATHS,
  patternBlock,
  SMALL_BODY,
  WARM_DOWNLOAD_MIB,
} from './payloads.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const LOOPBACK = '127.0.0.1';
const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

export function findBinary(name) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN_DIRS];
  for (const d of dirs) {
    const candidate = path.join(d, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Core pinning: the server on core 0, clients (and this process) on core 1,
 * when taskset exists and the machine has two cores or more.
 * BENCH_PIN=0 turns it off.
 */
export function pinning() {
  const taskset = findBinary('taskset');
  const cores = os.availableParallelism();
  if (process.env.BENCH_PIN === '0' || taskset === null || cores < 2) {
    return { enabled: false, taskset: null, serverCore: null, clientCore: null, cores };
  }
  const probe = spawnSync(taskset, ['-c', '0', 'true'], { stdio: 'ignore', timeout: 5000 });
  if (probe.status !== 0) return { enabled: false, taskset: null, serverCore: null, clientCore: null, cores };
  return { enabled: true, taskset, serverCore: 0, clientCore: 1, cores };
}

/** [command, args] that run `exe args` pinned to `core` (unpinned when core is null). */
export function pinnedCommand(pin, core, exe, args) {
  if (!pin.enabled || core === null) return [exe, args];
  return [pin.taskset, ['-c', String(core), exe, ...args]];
}

/** Pin an already running process (all its threads) to `core`. */
export function pinPid(pin, pid, core) {
  if (!pin.enabled) return false;
  const r = spawnSync(pin.taskset, ['-a', '-c', '-p', String(core), String(pid)], {
    stdio: 'ignore',
    timeout: 5000,
  });
  return r.status === 0;
}

export function getFreePort(host = LOOPBACK) {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

// ---- process lifetime ----------------------------------------------------------

const live = new Set();
let hooksInstalled = false;

function killNow(child) {
  try {
    if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

function installExitHooks() {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const child of live) killNow(child);
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(signal, () => {
      for (const child of live) killNow(child);
      process.exit(130);
    });
  }
}

/** Spawn a long-lived child we own: tracked, killed with us, stopped by PID. */
export function spawnOwned(cmd, args, options, stopSignal = 'SIGTERM') {
  installExitHooks();
  const setpriv = findBinary('setpriv');
  const [c, a] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', cmd, ...args]] : [cmd, args];
  const child = spawn(c, a, options);
  live.add(child);
  child.once('exit', () => live.delete(child));
  let stopping;
  child.stopOwned = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(stopSignal);
        const timer = setTimeout(() => killNow(child), 3000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
    })();
    return stopping;
  };
  return child;
}

// ---- probing -------------------------------------------------------------------

/** One raw request with Connection: close; resolves with the whole response text, or null. */
export function rawFetch(host, port, target, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const parts = [];
    const finish = (v) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', () => finish(null));
    socket.on('connect', () =>
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`),
    );
    socket.on('data', (c) => parts.push(c));
    socket.on('end', () => finish(Buffer.concat(parts).toString('latin1')));
  });
}

/**
 * One GET over a fresh HTTP/2 (TLS, ALPN h2) connection, closed afterwards;
 * resolves with { status, body } or null.
 */
export function h2Fetch(origin, target, ca, timeoutMs = 2000) {
  return new Promise((resolve) => {
    let session = null;
    const finish = (v) => {
      clearTimeout(timer);
      session?.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    try {
      session = http2.connect(origin, { ca });
    } catch {
      finish(null);
      return;
    }
    session.on('error', () => finish(null));
    const req = session.request({ ':path': target }, { endStream: true });
    const parts = [];
    let status = 0;
    req.on('response', (h) => {
      status = h[':status'];
    });
    req.on('data', (c) => parts.push(c));
    req.on('error', () => finish(null));
    req.on('end', () => finish({ status, body: Buffer.concat(parts) }));
  });
}

async function waitUntilAnswering(child, what, port, logFile, deadlineMs = 10_000, probe = null) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited before answering:\n${readLog(logFile)}`);
    }
    if (probe !== null) {
      if (await probe()) return;
    } else {
      const text = await rawFetch(LOOPBACK, port, PATHS.small, 1000);
      if (text?.startsWith('HTTP/1.1 200')) return;
    }
    if (Date.now() >= deadline) {
      await child.stopOwned();
      throw new Error(
        `${what} did not answer on ${LOOPBACK}:${port} within ${deadlineMs} ms:\n${readLog(logFile)}`,
      );
    }
    await sleep(20);
  }
}

function readLog(file) {
  try {
    return readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '';
  }
}

/** A file of `mib` MiB of incompressible-looking bytes, written 1 MiB at a time. */
function writeBigFile(file, mib) {
  const block = patternBlock(MiB);
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) writeSync(fd, block);
  } finally {
    closeSync(fd);
  }
}

// ---- nginx ---------------------------------------------------------------------

/** nginx 1.25.1 and later turn HTTP/2 on with `http2 on;`, older ones with a `listen` parameter. */
function http2Directive(version) {
  const [a, b, c] = version.split('.').map(Number);
  return a > 1 || (a === 1 && (b > 25 || (b === 25 && c >= 1)));
}

function nginxTlsListen(tls, version) {
  if (tls === null) return '';
  const modern = http2Directive(version);
  // keepalive_requests (http block) also bounds the requests on one HTTP/2 connection
  // (nginx 1.19.7+), so it must stay far above the bench's request counts.
  return `
    listen ${LOOPBACK}:${tls.port} ssl${modern ? '' : ' http2'} backlog=4096;
    ${modern ? 'http2 on;' : ''}
    ssl_certificate ${tls.certFile};
    ssl_certificate_key ${tls.keyFile};
    ssl_protocols TLSv1.2 TLSv1.3;
    http2_max_concurrent_streams ${tls.maxStreams};`;
}

function nginxConfig(dir, root, port, tls = null, version = '0') {
  const tmp = path.join(dir, 'tmp');
  // JSON_RESPONSE holds no quote or '$', so it is safe inside nginx's single quotes.
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  types { text/plain txt; application/octet-stream bin; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nodelay on;
  gzip off;
  keepalive_timeout 600s;
  keepalive_requests 1000000000;
  client_body_buffer_size 64k;
  server {
    listen ${LOOPBACK}:${port} backlog=4096;${nginxTlsListen(tls, version)}
    server_name localhost;
    root ${root};
    location = ${PATHS.json} {
      default_type application/json;
      return 200 '${JSON_RESPONSE.toString('latin1')}';
    }
    location ${PATHS.distinct} { try_files ${PATHS.small} =404; }
    location = /nginx_status { stub_status; }
  }
}
`;
}

function nginxVersion(exe) {
  const r = spawnSync(exe, ['-v'], { encoding: 'utf8', timeout: 5000 });
  const m = /nginx\/(\S+)/.exec(`${r.stderr}${r.stdout}`);
  return m ? m[1] : 'unknown';
}

/** Whether the HTTP/2 origin answers the small file. */
function h2Probe(origin, caPem, timeoutMs = 1000) {
  return async () => {
    const r = await h2Fetch(origin, PATHS.small, caPem, timeoutMs);
    return r !== null && r.status === 200 && r.body.length === SMALL_BODY.length;
  };
}

/** Waits (bounded) for the HTTP/2 origin; null when it answered, else why not. */
async function waitH2(origin, caPem, deadlineMs = 10_000) {
  const probe = h2Probe(origin, caPem);
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (await probe()) return null;
    if (Date.now() >= deadline) return `${origin} did not answer over HTTP/2 within ${deadlineMs} ms`;
    await sleep(20);
  }
}

/**
 * `tls`, when given ({ certFile, keyFile, caPem, maxStreams }), adds a TLS +
 * HTTP/2 listener on a second port: server.h2 = { origin, pids,
 * connectionsAccepted() } (stub_status counts the connections of both ports),
 * or server.h2Error when nginx did not answer over HTTP/2.
 */
async function startNginx(pin, downloadMiB, tls = null) {
  const exe = findBinary('nginx');
  const version = nginxVersion(exe);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-nginx-'));
  const root = path.join(dir, 'www');
  mkdirSync(root);
  mkdirSync(path.join(dir, 'tmp'));
  writeFileSync(path.join(root, PATHS.small.slice(1)), SMALL_BODY);
  writeBigFile(path.join(root, PATHS.big.slice(1)), downloadMiB);
  writeBigFile(path.join(root, PATHS.warm.slice(1)), WARM_DOWNLOAD_MIB);
  writeBigFile(path.join(root, PATHS.mib.slice(1)), H2_DOWNLOAD_SIZE / MiB);
  const conf = path.join(dir, 'nginx.conf');
  const logFile = path.join(dir, 'nginx.log');
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const tlsPort = tls === null ? null : await getFreePort();
    writeFileSync(
      conf,
      nginxConfig(dir, root, port, tls === null ? null : { ...tls, port: tlsPort }, version),
    );
    const [cmd, args] = pinnedCommand(pin, pin.serverCore, exe, [
      '-p',
      `${dir}/`,
      '-c',
      conf,
      '-e',
      path.join(dir, 'error.log'),
    ]);
    const fd = openSync(logFile, 'a');
    const child = spawnOwned(cmd, args, { cwd: dir, stdio: ['ignore', fd, fd] }, 'SIGTERM');
    closeSync(fd);
    try {
      await waitUntilAnswering(child, 'nginx', port, path.join(dir, 'error.log'));
    } catch (err) {
      if (attempt < 3 && /in use/i.test(String(err.message))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    /** Connections accepted so far (stub_status), counting the one asking. */
    const connectionsAccepted = async () => {
      const text = await rawFetch(LOOPBACK, port, '/nginx_status');
      const m = text && /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
      if (!m) throw new Error(`unexpected stub_status answer: ${text}`);
      return Number(m[1]);
    };
    const server = {
      kind: 'nginx',
      version,
      host: LOOPBACK,
      port,
      origin: `http://${LOOPBACK}:${port}`,
      pid: child.pid,
      connectionsAccepted,
      h2: null,
      h2Error: null,
      async stop() {
        await child.stopOwned();
        rmSync(dir, { recursive: true, force: true });
      },
    };
    if (tls !== null) {
      const origin = `https://${LOOPBACK}:${tlsPort}`;
      const why = await waitH2(origin, tls.caPem);
      if (why === null) {
        server.h2 = {
          kind: `nginx ${version}`,
          origin,
          ca: tls.caPem,
          pids: [child.pid],
          connectionsAccepted,
        };
      } else {
        server.h2Error = `${why}:\n${readLog(path.join(dir, 'error.log'))}`;
      }
    }
    return server;
  }
}

// ---- node fallback -------------------------------------------------------------

/** bench/lib/node-h2-server.mjs in a process of its own; server.h2 as for nginx. */
async function startNodeH2Server(pin, tls, dir) {
  const logFile = path.join(dir, 'h2-server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const origin = `https://${LOOPBACK}:${port}`;
    const [cmd, args] = pinnedCommand(pin, pin.serverCore, process.execPath, [
      path.join(HERE, 'node-h2-server.mjs'),
      String(port),
      tls.certFile,
      tls.keyFile,
      String(tls.maxStreams),
    ]);
    const fd = openSync(logFile, 'a');
    const child = spawnOwned(cmd, args, { stdio: ['ignore', fd, fd] }, 'SIGTERM');
    closeSync(fd);
    try {
      await waitUntilAnswering(
        child,
        'node HTTP/2 server',
        port,
        logFile,
        10_000,
        h2Probe(origin, tls.caPem),
      );
    } catch (err) {
      if (attempt < 3 && /EADDRINUSE/.test(String(err.message))) continue;
      throw err;
    }
    return {
      child,
      h2: {
        kind: `node:http2 ${process.version}`,
        origin,
        ca: tls.caPem,
        pids: [child.pid],
        /** Sessions accepted so far, counting the one asking (as stub_status does). */
        async connectionsAccepted() {
          const r = await h2Fetch(origin, '/__stats', tls.caPem);
          const m = r && /"accepted":(\d+)/.exec(r.body.toString());
          if (!m) throw new Error(`unexpected /__stats answer: ${r?.body}`);
          return Number(m[1]);
        },
      },
    };
  }
}

async function startNodeServer(pin, downloadMiB, tls = null) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-node-'));
  const logFile = path.join(dir, 'server.log');
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const [cmd, args] = pinnedCommand(pin, pin.serverCore, process.execPath, [
      path.join(HERE, 'node-server.mjs'),
      String(port),
      String(downloadMiB),
    ]);
    const fd = openSync(logFile, 'a');
    const child = spawnOwned(cmd, args, { stdio: ['ignore', fd, fd] }, 'SIGTERM');
    closeSync(fd);
    try {
      await waitUntilAnswering(child, 'node server', port, logFile);
    } catch (err) {
      if (attempt < 3 && /EADDRINUSE/.test(String(err.message))) continue;
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
    const server = {
      kind: 'node',
      version: process.version,
      host: LOOPBACK,
      port,
      origin: `http://${LOOPBACK}:${port}`,
      pid: child.pid,
      async connectionsAccepted() {
        const text = await rawFetch(LOOPBACK, port, '/__stats');
        const m = text && /"accepted":(\d+)/.exec(text);
        if (!m) throw new Error(`unexpected /__stats answer: ${text}`);
        return Number(m[1]);
      },
      h2: null,
      h2Error: null,
      async stop() {
        await Promise.all([child.stopOwned(), h2child?.stopOwned()]);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    let h2child = null;
    if (tls !== null) {
      try {
        const h2 = await startNodeH2Server(pin, tls, dir);
        h2child = h2.child;
        server.h2 = h2.h2;
      } catch (err) {
        server.h2Error = err.message;
      }
    }
    return server;
  }
}

/**
 * BENCH_SERVER=nginx|node forces one; the default is nginx when installed.
 * `tls` ({ certFile, keyFile, caPem, maxStreams }) adds the HTTP/2 origin
 * (server.h2), see startNginx.
 */
export async function startServer(pin, downloadMiB, tls = null) {
  const want = process.env.BENCH_SERVER ?? 'auto';
  if (want === 'nginx' || (want === 'auto' && findBinary('nginx') !== null))
    return startNginx(pin, downloadMiB, tls);
  return startNodeServer(pin, downloadMiB, tls);
}
