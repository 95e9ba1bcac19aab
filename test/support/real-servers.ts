// Real servers from Debian packages (nginx, httpbin under gunicorn) for the
// third test tier. Each is started in the foreground as a child of the test
// process, on a free loopback port, in its own temporary directory, so the
// PID we hold is the server and nothing under /etc or /var is touched. A
// server counts as started only once it answers an HTTP request.
//
// Nothing outlives the test process: servers are stopped by PID (their own
// fast-shutdown signal, then SIGKILL after a grace period), killed from an
// exit hook if a test forgot, and, where util-linux's setpriv exists, started
// with a parent-death signal so even a SIGKILLed test process takes them down.
//
// Not here: squid, dante, unbound and friends; they follow the same pattern
// (spawnServer + waitUntilAnswering) when a test needs them.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort } from './free-port.js';
import {
  findBinary,
  isCI,
  keepDirs,
  killGroup,
  ServerExitedError,
  trackServer,
  untrackServer,
  withPortRetries,
} from './server-processes.js';

export interface RunningServer {
  host: string;
  port: number;
  /** base URL without a trailing slash, e.g. `http://127.0.0.1:34567` */
  url: string;
  /** stops the server (idempotent) and removes `dir` */
  stop(): Promise<void>;
  /** the server's private temporary directory: config, logs, pid file */
  dir: string;
}

export interface NginxOptions {
  /** also serve the same locations over TLS on a second port */
  tls?: { cert: string; key: string };
  /** offer h2 through ALPN on the TLS port (off by default: HTTP/1.1 only) */
  http2?: boolean;
  /** nginx directives inserted into every `server { }` block (e.g. extra locations) */
  extraConfig?: string;
}

export interface NginxServer extends RunningServer {
  /** the document root, pre-filled with the files of nginxFixtureFiles() */
  root: string;
  tlsPort?: number;
  /** `https://127.0.0.1:<tlsPort>`; the test certificate also covers `localhost` */
  tlsUrl?: string;
}

export interface HttpbinOptions {
  /** gunicorn worker threads, i.e. how many requests httpbin serves at once */
  threads?: number;
}

const LOOPBACK = '127.0.0.1';
/** Whether `name` is an executable on PATH or in the sbin directories (where nginx lives). */
export function hasBinary(name: string): boolean {
  return findBinary(name) !== null;
}

// httpbin is a Python module, not a binary: it must be importable by the
// interpreter gunicorn runs under (which may differ from `python3` on PATH,
// e.g. under pyenv).
let httpbinImportable: boolean | undefined;
function canImportHttpbin(): boolean {
  if (httpbinImportable !== undefined) return httpbinImportable;
  const gunicorn = findBinary('gunicorn');
  let python = 'python3';
  if (gunicorn) {
    const shebang = /^#!\s*(\S+)/.exec(readFileSync(gunicorn, 'utf8').slice(0, 200));
    if (shebang && !shebang[1]!.endsWith('/env')) python = shebang[1]!;
  }
  const probe = spawnSync(
    python,
    ['-c', "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec('httpbin') else 1)"],
    { stdio: 'ignore', timeout: 10_000 },
  );
  httpbinImportable = probe.status === 0;
  return httpbinImportable;
}

const PACKAGES: Record<string, string> = {
  nginx: 'nginx',
  gunicorn: 'gunicorn',
  httpbin: 'python3-httpbin gunicorn',
  openssl: 'openssl',
  squid: 'squid',
  microsocks: 'microsocks',
  nghttpd: 'nghttp2-server',
  unbound: 'unbound',
};

/**
 * null when `binary` is available. Otherwise a skip message outside CI, and an
 * exception under CI=true: CI installs every server, so a missing one is a
 * broken CI set-up, never a reason to pass silently. `httpbin` is accepted as
 * a name and checks both gunicorn and the Python module.
 */
export function requireServer(binary: string): string | null {
  const available = binary === 'httpbin' ? hasBinary('gunicorn') && canImportHttpbin() : hasBinary(binary);
  if (available) return null;
  const pkg = PACKAGES[binary] ?? binary;
  if (isCI()) {
    throw new Error(`${binary} is required under CI=true but is not installed (apt-get install ${pkg})`);
  }
  return `${binary} is not installed (apt-get install ${pkg}); skipped outside CI`;
}

// ---------------------------------------------------------------------------
// Process lifetime

export interface Spawned {
  child: ChildProcess;
  logFile: string;
  stop(): Promise<void>;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000).trim();
  } catch {
    return '';
  }
}

export interface StopPolicy {
  /** the server's own fast-shutdown signal */
  signal: NodeJS.Signals;
  /** how long to wait for it before SIGKILL */
  graceMs: number;
}

/**
 * Starts `binary` in the foreground in `dir` (its own process group, killed
 * with the test process), logging to `<dir>/<name>.log`, and returns how to
 * stop it by its PID: the one way every real server of the tests is started.
 */
export function spawnServer(
  binary: string,
  args: string[],
  dir: string,
  name: string,
  policy: StopPolicy,
  env?: NodeJS.ProcessEnv,
): Spawned {
  const exe = findBinary(binary);
  if (!exe) throw new Error(`${binary} not found on PATH or in the sbin directories`);
  // A file, not a pipe: a pipe nobody drains would eventually block the server.
  const logFile = path.join(dir, `${name}.log`);
  const logFd = openSync(logFile, 'a');
  // setpriv execs the server, so the PID stays the server's; PDEATHSIG covers
  // the one case no hook can: the test process being SIGKILLed.
  const setpriv = findBinary('setpriv');
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', exe, ...args]] : [exe, args];
  let child: ChildProcess;
  try {
    // detached: its own process group, for killGroup().
    child = spawn(cmd, argv, {
      cwd: dir,
      stdio: ['ignore', logFd, logFd],
      detached: true,
      ...(env ? { env } : {}),
    });
  } finally {
    closeSync(logFd);
  }
  trackServer(child, dir);
  child.once('exit', () => untrackServer(child));
  // The exit hook reaps a forgotten server; it must not keep the test process alive.
  child.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(policy.signal);
        const timer = setTimeout(() => killGroup(child), policy.graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      untrackServer(child);
      if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return { child, logFile, stop };
}

/**
 * Sends a minimal HTTP/1.1 request and resolves with the response's status
 * code, or null if the connection fails or no status line arrives in time.
 */
function probeStatus(host: string, port: number, target: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let head = '';
    const finish = (status: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('connect', () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: string) => {
      head += chunk;
      const eol = head.indexOf('\r\n');
      if (eol === -1) return;
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head.slice(0, eol));
      finish(match ? Number(match[1]) : null);
    });
  });
}

async function waitUntilAnswering(
  spawned: Spawned,
  what: string,
  host: string,
  port: number,
  target: string,
  deadlineMs: number,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  const { child } = spawned;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
      throw new ServerExitedError(
        `${what} exited with ${how} before answering:\n${readLog(spawned.logFile)}`,
      );
    }
    const status = await probeStatus(host, port, target, 1000);
    if (status === 200) return;
    if (Date.now() >= deadline) {
      // Read the log first: stop() removes the directory it is in.
      const message =
        `${what} did not answer GET ${target} with 200 on ${host}:${port} within ${deadlineMs} ms` +
        ` (last status: ${status ?? 'none'}):\n${readLog(spawned.logFile)}`;
      await spawned.stop();
      throw new Error(message);
    }
    await sleep(20);
  }
}

/**
 * Runs `attempt` again when the server died because its port was taken in the
 * moment between getFreePort() and its bind(): test files run in parallel.
 */
// ---------------------------------------------------------------------------
// nginx

const SMALL_TXT = 'Hello, world\n';

let fixtureFiles: Record<string, Buffer> | undefined;

/**
 * The files nginx serves from its root, by name, so tests can compare bodies
 * without reading the disk.
 */
export function nginxFixtureFiles(): Readonly<Record<string, Buffer>> {
  if (fixtureFiles) return fixtureFiles;
  // xorshift32: deterministic and incompressible enough that gzip cannot
  // shrink it, so transfers really move 1 MiB.
  const big = Buffer.alloc(1024 * 1024);
  let x = 0x2545f491;
  for (let i = 0; i < big.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    big.writeUInt32LE(x >>> 0, i);
  }
  const lines: string[] = [];
  // 320 lines of 64 bytes: 20 KiB.
  for (let i = 0; i < 320; i++) {
    lines.push(
      `line ${String(i).padStart(4, '0')}: the quick brown fox jumps over the lazy dog`.padEnd(63, '.') +
        '\n',
    );
  }
  fixtureFiles = {
    'small.txt': Buffer.from(SMALL_TXT),
    'big.bin': big,
    'data.json': Buffer.from(
      `${JSON.stringify({ name: 'urllib3-ts', answer: 42, list: [1, 2, 3], text: 'héllo ✓' })}\n`,
    ),
    'text.txt': Buffer.from(lines.join('')),
  };
  return fixtureFiles;
}

function nginxLocations(root: string): string {
  // sub_filter on a string that never occurs is only there for its side
  // effect: it drops Content-Length, so nginx must send the file chunked.
  return `
    location = /status/404 { default_type text/plain; return 404 "nope\\n"; }
    location = /redirect { return 302 /small.txt; }
    location = /chunked {
      default_type text/plain;
      alias ${root}/text.txt;
      gzip off;
      sub_filter_types text/plain;
      sub_filter '@@never@@' '';
    }
    location = /trailers {
      default_type text/plain;
      alias ${root}/small.txt;
      gzip off;
      sub_filter_types text/plain;
      sub_filter '@@never@@' '';
      add_trailer X-Trailer-Test done;
    }`;
}

function nginxConfig(
  opts: NginxOptions,
  dir: string,
  root: string,
  port: number,
  tlsPort: number | null,
): string {
  const tmp = path.join(dir, 'tmp');
  const locations = nginxLocations(root) + (opts.extraConfig ? `\n    ${opts.extraConfig}` : '');
  const tlsServer =
    tlsPort === null || !opts.tls
      ? ''
      : `
  server {
    listen ${LOOPBACK}:${tlsPort} ssl${opts.http2 ? ' http2' : ''};
    server_name localhost;
    root ${root};
    ssl_certificate ${opts.tls.cert};
    ssl_certificate_key ${opts.tls.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ${locations}
  }`;
  // Single-process foreground mode: the PID we hold is the one that serves,
  // and, running as root, nginx does not switch to a user who could not read
  // the temporary directory.
  return `daemon off;
master_process off;
worker_processes 1;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  types {
    text/plain txt;
    application/json json;
    application/octet-stream bin;
  }
  default_type application/octet-stream;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 60s;
  keepalive_requests 100000;
  gzip on;
  gzip_types text/plain application/json;
  gzip_min_length 20;
  gzip_proxied any;
  # Location: /small.txt stays relative rather than being rebuilt from Host.
  absolute_redirect off;
  server {
    listen ${LOOPBACK}:${port};
    server_name localhost;
    root ${root};
    ${locations}
  }${tlsServer}
}
`;
}

export async function startNginx(
  opts: NginxOptions & { tls: { cert: string; key: string } },
): Promise<NginxServer & { tlsPort: number; tlsUrl: string }>;
export async function startNginx(opts?: NginxOptions): Promise<NginxServer>;
export async function startNginx(opts: NginxOptions = {}): Promise<NginxServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-nginx-'));
  const root = path.join(dir, 'www');
  mkdirSync(root);
  mkdirSync(path.join(dir, 'tmp'));
  for (const [name, content] of Object.entries(nginxFixtureFiles()))
    writeFileSync(path.join(root, name), content);
  const confFile = path.join(dir, 'nginx.conf');
  try {
    return await withPortRetries(async () => {
      const port = await getFreePort(LOOPBACK);
      const tlsPort = opts.tls ? await getFreePort(LOOPBACK) : null;
      writeFileSync(confFile, nginxConfig(opts, dir, root, port, tlsPort));
      // -e: nginx opens its error log before reading the config; keep even that inside dir.
      const spawned = spawnServer(
        'nginx',
        ['-p', `${dir}/`, '-c', confFile, '-e', path.join(dir, 'error.log')],
        dir,
        'nginx',
        // SIGTERM is nginx's fast shutdown: open connections are closed at once.
        { signal: 'SIGTERM', graceMs: 3000 },
      );
      const server: NginxServer = {
        host: LOOPBACK,
        port,
        url: `http://${LOOPBACK}:${port}`,
        dir,
        root,
        stop: spawned.stop,
      };
      try {
        // Listening sockets are all bound before nginx serves anything, so
        // the plain port answering means the TLS port is up too.
        await waitUntilAnswering(spawned, 'nginx', LOOPBACK, port, '/small.txt', 10_000);
      } catch (err) {
        if (err instanceof ServerExitedError) {
          // The log lives in dir, which stop() would delete.
          throw new ServerExitedError(`${err.message}\n${readLog(path.join(dir, 'error.log'))}`);
        }
        throw err;
      }
      if (tlsPort !== null) {
        server.tlsPort = tlsPort;
        server.tlsUrl = `https://${LOOPBACK}:${tlsPort}`;
      }
      return server;
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------
// httpbin

export async function startHttpbin(opts: HttpbinOptions = {}): Promise<RunningServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-httpbin-'));
  try {
    return await withPortRetries(async () => {
      const port = await getFreePort(LOOPBACK);
      const spawned = spawnServer(
        'gunicorn',
        [
          '-b',
          `${LOOPBACK}:${port}`,
          '-k',
          'gthread',
          '--threads',
          String(opts.threads ?? 8),
          '--workers',
          '1',
          // Bounds how long gunicorn itself waits for its worker to exit.
          '--graceful-timeout',
          '1',
          '--worker-tmp-dir',
          dir,
          '--log-level',
          'warning',
          'httpbin:app',
        ],
        dir,
        'gunicorn',
        // gunicorn's SIGTERM is a graceful stop that lets the gthread worker
        // finish its poll loop (about 1 s even when idle); SIGQUIT is its
        // immediate shutdown.
        { signal: 'SIGQUIT', graceMs: 5000 },
      );
      await waitUntilAnswering(spawned, 'httpbin (gunicorn)', LOOPBACK, port, '/get', 20_000);
      return { host: LOOPBACK, port, url: `http://${LOOPBACK}:${port}`, dir, stop: spawned.stop };
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
