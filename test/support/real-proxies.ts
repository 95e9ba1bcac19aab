// Real proxies from Debian packages for the third test tier: squid (HTTP
// forward proxy and CONNECT, optionally with basic auth), stunnel (TLS in
// front of any TCP server, which makes an HTTPS proxy out of squid) and dante
// (SOCKS4 and SOCKS5, optionally with username/password). Same habits as
// real-servers.ts: each runs in the foreground as a child of the test process,
// on a free loopback port, in its own temporary directory, and counts as
// started only once it really proxies (or, for stunnel and dante, completes
// its handshake).
//
// Privileges. Started as root, squid and dante switch to an unprivileged user
// themselves, and a credential change clears the parent-death signal that
// keeps a SIGKILLed test process from leaving servers behind. So when we are
// root they are started as `nobody` from the outset (their directory is
// chowned to it), and switch nothing. stunnel stays as the invoking user: it
// never switches, and it must read the caller's key.
//
// Dante's username/password method checks the system password database
// (getspnam). Rather than adding a user to /etc, the authenticated dante runs
// under nss_wrapper (Debian's libnss-wrapper, from the cwrap project that exists
// for exactly this kind of test): LD_PRELOAD plus passwd/group/shadow files in
// its directory, holding only the test user.
//
// Dante 1.4 speaks SOCKS4 and SOCKS5 but not SOCKS4a: a 4a request (address
// 0.0.0.x followed by a host name) is read as a plain SOCKS4 request for
// 0.0.0.x and refused by the loopback-only rules. SOCKS4 carries no password,
// so the authenticated dante refuses SOCKS4 altogether.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { promisify } from 'node:util';
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

const execFileAsync = promisify(execFile);

export interface RunningProxy {
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT` (squid), `https://127.0.0.1:PORT` (stunnel), `socks5://127.0.0.1:PORT` (dante) */
  url: string;
  /** stops the server and every process it forked (idempotent), then removes `dir` */
  stop(): Promise<void>;
  /** the server's private temporary directory: config, logs, password files */
  dir: string;
  /** the server's main log (squid's cache.log, stunnel's and dante's own log) */
  logFile: string;
  /** the server's PID, also the ID of the process group its helpers and children share */
  pid: number;
}

export interface ProxyCredentials {
  username: string;
  password: string;
}

export interface SquidProxy extends RunningProxy {
  /**
   * squid's access log, one line per finished transaction in the format that
   * readSquidAccessLog() parses (a CONNECT is logged when its tunnel closes).
   */
  accessLog: string;
}

export interface DanteProxy extends RunningProxy {
  /** `socks4://127.0.0.1:PORT`: the same listener, for SOCKS4 clients */
  socks4Url: string;
}

const LOOPBACK = '127.0.0.1';
const START_DEADLINE_MS = 20_000;

// ---------------------------------------------------------------------------
// Availability

const SQUID_BASIC_AUTH = ['/usr/lib/squid/basic_ncsa_auth', '/usr/lib/squid3/basic_ncsa_auth'];

function findFile(candidates: string[]): string | null {
  return candidates.find((f) => existsSync(f)) ?? null;
}

/** libnss_wrapper.so in a multiarch or plain library directory. */
function findNssWrapper(): string | null {
  const dirs = ['/usr/lib', '/usr/lib64', '/usr/local/lib'];
  try {
    for (const entry of readdirSync('/usr/lib'))
      if (entry.includes('-linux-')) dirs.push(`/usr/lib/${entry}`);
  } catch {
    // no /usr/lib
  }
  return findFile(dirs.map((d) => path.join(d, 'libnss_wrapper.so')));
}

const stunnelBinary = (): string | null => findBinary('stunnel4') ?? findBinary('stunnel');

export type ProxyKind = 'squid' | 'squid-auth' | 'stunnel' | 'dante' | 'dante-auth';

/** What each kind needs: a check and the Debian package that satisfies it. */
const NEEDS: Record<ProxyKind, { what: string; pkg: string; ok: () => boolean }[]> = {
  squid: [{ what: 'squid', pkg: 'squid', ok: () => findBinary('squid') !== null }],
  'squid-auth': [
    { what: 'squid', pkg: 'squid', ok: () => findBinary('squid') !== null },
    { what: 'basic_ncsa_auth', pkg: 'squid', ok: () => findFile(SQUID_BASIC_AUTH) !== null },
    { what: 'htpasswd', pkg: 'apache2-utils', ok: () => findBinary('htpasswd') !== null },
  ],
  stunnel: [{ what: 'stunnel', pkg: 'stunnel4', ok: () => stunnelBinary() !== null }],
  dante: [{ what: 'danted', pkg: 'dante-server', ok: () => findBinary('danted') !== null }],
  'dante-auth': [
    { what: 'danted', pkg: 'dante-server', ok: () => findBinary('danted') !== null },
    { what: 'libnss_wrapper.so', pkg: 'libnss-wrapper', ok: () => findNssWrapper() !== null },
    { what: 'openssl', pkg: 'openssl', ok: () => findBinary('openssl') !== null },
  ],
};

/**
 * null when everything `kind` needs is installed. Otherwise a skip message
 * outside CI, and an exception under CI=true, where .ci/run installs every
 * proxy: a missing one is a broken set-up, never a reason to pass silently.
 */
export function requireProxy(...kinds: ProxyKind[]): string | null {
  const missing = kinds.flatMap((k) => NEEDS[k]).filter((n) => !n.ok());
  if (missing.length === 0) return null;
  const what = [...new Set(missing.map((n) => n.what))].join(', ');
  const pkgs = [...new Set(missing.map((n) => n.pkg))].join(' ');
  if (isCI()) throw new Error(`${what} required under CI=true but not installed (apt-get install ${pkgs})`);
  return `${what} not installed (apt-get install ${pkgs}); skipped outside CI`;
}

// ---------------------------------------------------------------------------
// Process lifetime (the same scheme as real-servers.ts, which keeps its own
// helpers private)

/** Running servers: their directory and what else to clean up once they are gone. */
/** The unprivileged identity for squid and dante when we are root, else null (run as ourselves). */
function unprivilegedUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'nobody' && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
    }
  } catch {
    // fall through to Debian's numbers
  }
  return { uid: 65534, gid: 65534 };
}

function makeDir(name: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `urllib3-ts-${name}-`));
}

/** Hands `dir` and everything in it to `user`, so a server running as that user can write its logs there. */
function chownTree(dir: string, user: { uid: number; gid: number } | null): void {
  if (!user) return;
  chownSync(dir, user.uid, user.gid);
  for (const entry of readdirSync(dir)) chownSync(path.join(dir, entry), user.uid, user.gid);
}

interface Spawned {
  child: ChildProcess;
  /** stdout and stderr of the server */
  outFile: string;
  stop(): Promise<void>;
}

interface SpawnOptions {
  dir: string;
  name: string;
  /** the server's own orderly-shutdown signal; SIGKILL to the group follows after graceMs */
  signal: NodeJS.Signals;
  graceMs: number;
  user?: { uid: number; gid: number } | null;
  env?: NodeJS.ProcessEnv;
  /** runs after the server is gone, also from the exit hook */
  cleanup?: () => void;
}

function spawnServer(exe: string, args: string[], opts: SpawnOptions): Spawned {
  const outFile = path.join(opts.dir, `${opts.name}.out`);
  const fd = openSync(outFile, 'a');
  // setpriv execs the server, so the PID we hold is the server's; the
  // parent-death signal covers a SIGKILLed test process.
  const setpriv = findBinary('setpriv');
  const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'KILL', '--', exe, ...args]] : [exe, args];
  let child: ChildProcess;
  try {
    child = spawn(cmd, argv, {
      cwd: opts.dir,
      stdio: ['ignore', fd, fd],
      // its own process group, for killGroup()
      detached: true,
      env: opts.env ?? process.env,
      ...(opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
  } finally {
    closeSync(fd);
  }
  trackServer(child, opts.dir, opts.cleanup);
  // Kept until stop() even after the server exits: children it forked may
  // outlive it in its process group, and its directory is still ours.
  child.unref();

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = once(child, 'exit');
        child.kill(opts.signal);
        const timer = setTimeout(() => killGroup(child), opts.graceMs);
        try {
          await exited;
        } finally {
          clearTimeout(timer);
        }
      }
      // Helpers and children that outlived their parent would exit on their
      // own once they notice, but not necessarily before we return.
      killGroup(child);
      if (child.pid !== undefined) await waitForGroupGone(child.pid, 3000);
      untrackServer(child);
      opts.cleanup?.();
      if (!keepDirs) rmSync(opts.dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return { child, outFile, stop };
}

/**
 * PIDs of the running members of process group `pgid`, read from /proc (an
 * empty list where there is no /proc). Zombies do not count: they are dead,
 * merely not yet reaped by init after their parent went first.
 */
export function processGroupMembers(pgid: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp ...; comm may itself contain ") ".
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

async function waitForGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (processGroupMembers(pgid).length > 0 && Date.now() < deadline) await sleep(10);
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000).trim();
  } catch {
    return '';
  }
}

/**
 * Polls `probe` until it resolves true. Fails (stopping the server, with its
 * logs in the message) when the server exits or the deadline passes.
 */
async function waitUntilReady(
  spawned: Spawned,
  what: string,
  logs: string[],
  probe: () => Promise<boolean>,
  deadlineMs = START_DEADLINE_MS,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  const { child } = spawned;
  const describeLogs = () =>
    [spawned.outFile, ...logs]
      .map((f) => [f, readTail(f)] as const)
      .filter(([, text]) => text !== '')
      .map(([f, text]) => `--- ${path.basename(f)}\n${text}`)
      .join('\n');
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      const how = child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`;
      // Read the logs before stop() removes the directory.
      const message = `${what} exited with ${how} before it was ready:\n${describeLogs()}`;
      await spawned.stop();
      throw new ServerExitedError(message);
    }
    if (await probe()) return;
    if (Date.now() >= deadline) {
      const message = `${what} was not ready within ${deadlineMs} ms:\n${describeLogs()}`;
      await spawned.stop();
      throw new Error(message);
    }
    await sleep(50);
  }
}

/** Runs `attempt` again when the port was taken between getFreePort() and the server's bind(). */
/** Opens a TCP connection, writes `request`, and resolves with what came back before `until` held, or null. */
function exchange(
  port: number,
  request: Buffer | string,
  until: (received: Buffer) => boolean,
  timeoutMs = 2000,
): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let received = Buffer.alloc(0);
    const finish = (result: Buffer | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.on('error', () => finish(null));
    socket.on('close', () => finish(null));
    socket.on('connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (until(received)) finish(received);
    });
  });
}

const basic = (c: ProxyCredentials) =>
  `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

// ---------------------------------------------------------------------------
// squid

function squidConfig(dir: string, port: number, authHelper: string | null): string {
  const auth = authHelper
    ? [
        `auth_param basic program ${authHelper} ${dir}/htpasswd`,
        'auth_param basic children 2 startup=1 idle=1',
        'auth_param basic realm urllib3-ts squid',
        'auth_param basic credentialsttl 1 minute',
        'acl authenticated proxy_auth REQUIRED',
      ]
    : [];
  return [
    `http_port ${LOOPBACK}:${port}`,
    'visible_hostname urllib3-ts-squid',
    `pid_filename ${dir}/squid.pid`,
    `coredump_dir ${dir}`,
    `cache_log ${dir}/cache.log`,
    // What the proxy saw: method, URI, status, user and the request headers
    // (URL-encoded by %>h), for readSquidAccessLog().
    'logformat urllib3ts %ts.%03tu %>a %rm %ru %>Hs %un %>h',
    `access_log stdio:${dir}/access.log logformat=urllib3ts`,
    'buffered_logs off',
    'strip_query_terms off',
    'cache_store_log none',
    'logfile_rotate 0',
    'netdb_filename none',
    // Nothing is cached, nothing touches the disk.
    'cache deny all',
    'cache_mem 4 MB',
    'pinger_enable off',
    'digest_generation off',
    'client_db off',
    // There is no DNS here: names come from this hosts file, the name server
    // is one that answers nothing, and names outside the hosts file are
    // refused below before any lookup can be attempted.
    `hosts_file ${dir}/hosts`,
    'dns_nameservers 127.0.0.1',
    'dns_timeout 2 seconds',
    // SIGTERM means stop now: nothing to drain in a test.
    'shutdown_lifetime 0 seconds',
    ...auth,
    'acl loopback_src src 127.0.0.0/8 ::1',
    'acl loopback_dst dst 127.0.0.0/8 ::1',
    'acl known_name dstdomain -n localhost',
    'acl ip_literal dstdom_regex -n ^[0-9.]+$ ^\\[?[0-9a-fA-F]*:[0-9a-fA-F:.]*\\]?$',
    'http_access deny !loopback_src',
    'http_access deny !known_name !ip_literal',
    'http_access deny !loopback_dst',
    // No Safe_ports / SSL_ports: CONNECT to any loopback port is fine.
    authHelper ? 'http_access allow authenticated' : 'http_access allow all',
    'http_access deny all',
    '',
  ].join('\n');
}

/**
 * squid 5 as an HTTP forward proxy that also tunnels CONNECT, for loopback
 * clients and loopback destinations (IP literals and `localhost`) only.
 * With `auth`, every request needs `Proxy-Authorization: Basic` for that user
 * (407 otherwise). Ready once it has forwarded a GET to a probe server.
 */
export async function startSquid(opts: { auth?: ProxyCredentials } = {}): Promise<SquidProxy> {
  const exe = findBinary('squid');
  if (!exe) throw new Error('squid not found (apt-get install squid)');
  const authHelper = opts.auth ? findFile(SQUID_BASIC_AUTH) : null;
  if (opts.auth && !authHelper) throw new Error('basic_ncsa_auth not found (apt-get install squid)');
  const dir = makeDir('squid');
  const user = unprivilegedUser();
  try {
    writeFileSync(path.join(dir, 'hosts'), `${LOOPBACK} localhost\n`);
    if (opts.auth) {
      const htpasswd = findBinary('htpasswd');
      if (!htpasswd) throw new Error('htpasswd not found (apt-get install apache2-utils)');
      await execFileAsync(htpasswd, [
        '-b',
        '-c',
        path.join(dir, 'htpasswd'),
        opts.auth.username,
        opts.auth.password,
      ]);
    }
    const confFile = path.join(dir, 'squid.conf');
    const logFile = path.join(dir, 'cache.log');
    const accessLog = path.join(dir, 'access.log');

    // The readiness probe's target: squid has proxied once it answers 200.
    const target = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => target.listen(0, LOOPBACK, resolve));
    const targetPort = (target.address() as net.AddressInfo).port;
    try {
      return await withPortRetries(async () => {
        const port = await getFreePort(LOOPBACK);
        writeFileSync(confFile, squidConfig(dir, port, authHelper));
        chownTree(dir, user);
        // A service name of its own: squid names its shared-memory segments
        // after it (/dev/shm/<name>-cf__*.shm), so two squids must not share one.
        const service = `u3ts${randomBytes(6).toString('hex')}`;
        const spawned = spawnServer(exe, ['-N', '-n', service, '-f', confFile], {
          dir,
          name: 'squid',
          signal: 'SIGTERM',
          graceMs: 3000,
          user,
          // A squid that had to be SIGKILLed leaves its segments behind.
          cleanup: () => removeShm(service),
        });

        const authHeader = opts.auth ? `Proxy-Authorization: ${basic(opts.auth)}\r\n` : '';
        const probe = `GET http://${LOOPBACK}:${targetPort}/ HTTP/1.1\r\nHost: ${LOOPBACK}:${targetPort}\r\n${authHeader}Connection: close\r\n\r\n`;
        await waitUntilReady(spawned, 'squid', [logFile], async () => {
          const reply = await exchange(port, probe, (b) => b.includes('\r\n'));
          return reply !== null && /^HTTP\/1\.[01] 200 /.test(reply.toString('latin1'));
        });
        return {
          host: LOOPBACK,
          port,
          url: `http://${LOOPBACK}:${port}`,
          dir,
          logFile,
          accessLog,
          pid: spawned.child.pid!,
          stop: spawned.stop,
        };
      });
    } finally {
      target.closeAllConnections();
      await new Promise((resolve) => target.close(resolve));
    }
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function removeShm(service: string): void {
  try {
    for (const f of readdirSync('/dev/shm')) {
      if (f.startsWith(`${service}-`)) rmSync(path.join('/dev/shm', f), { force: true });
    }
  } catch {
    // no /dev/shm
  }
}

export interface SquidLogEntry {
  /** client address as squid saw it */
  client: string;
  method: string;
  /** the request target: an absolute URI, or `host:port` for CONNECT */
  url: string;
  /** status squid answered the client with */
  status: number;
  /** the authenticated user, or null */
  user: string | null;
  /** the request headers the client sent, names lower-cased */
  headers: Record<string, string>;
}

/**
 * The transactions squid has finished, oldest first; the readiness probe's
 * request is left out. A CONNECT shows up only after its tunnel closed, so
 * poll (or close the client first) when asserting on one.
 */
export function readSquidAccessLog(proxy: SquidProxy): SquidLogEntry[] {
  let text: string;
  try {
    text = readFileSync(proxy.accessLog, 'utf8');
  } catch {
    return [];
  }
  const entries: SquidLogEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^\S+ (\S+) (\S+) (\S+) (\d+) (\S+) (.*)$/.exec(line);
    if (!m) continue;
    const headers: Record<string, string> = {};
    // %>h: the header block URL-encoded, lines separated by an encoded CRLF.
    let raw = m[6]!.trim();
    if (raw === '-') raw = '';
    for (const headerLine of decodeURIComponent(raw).split(/\r?\n/)) {
      const colon = headerLine.indexOf(':');
      if (colon > 0)
        headers[headerLine.slice(0, colon).trim().toLowerCase()] = headerLine.slice(colon + 1).trim();
    }
    entries.push({
      client: m[1]!,
      method: m[2]!,
      url: m[3]!,
      status: Number(m[4]),
      user: m[5] === '-' ? null : m[5]!,
      headers,
    });
  }
  // The first entry is the readiness probe.
  return entries.slice(1);
}

// ---------------------------------------------------------------------------
// stunnel

/**
 * stunnel terminating TLS on a free loopback port and passing the plain bytes
 * to `backend`: in front of squid it is an HTTPS proxy. `tls` is the
 * certificate and key to present (makeTestPki()'s server certificate covers
 * localhost, 127.0.0.1 and ::1). Ready once a TLS handshake completes.
 */
export async function startStunnelFor(
  backend: { host: string; port: number },
  tlsFiles: { cert: string; key: string },
): Promise<RunningProxy> {
  const exe = stunnelBinary();
  if (!exe) throw new Error('stunnel not found (apt-get install stunnel4)');
  const dir = makeDir('stunnel');
  const confFile = path.join(dir, 'stunnel.conf');
  const logFile = path.join(dir, 'stunnel.log');
  const backendHost = backend.host.includes(':') ? `[${backend.host}]` : backend.host;
  try {
    return await withPortRetries(async () => {
      const port = await getFreePort(LOOPBACK);
      writeFileSync(
        confFile,
        [
          'foreground = yes',
          // An empty pid = writes no pid file.
          'pid =',
          `output = ${logFile}`,
          'syslog = no',
          'debug = notice',
          '[proxy]',
          `accept = ${LOOPBACK}:${port}`,
          `connect = ${backendHost}:${backend.port}`,
          `cert = ${tlsFiles.cert}`,
          `key = ${tlsFiles.key}`,
          'sslVersionMin = TLSv1.2',
          '',
        ].join('\n'),
      );
      const spawned = spawnServer(exe, [confFile], {
        dir,
        name: 'stunnel',
        signal: 'SIGTERM',
        graceMs: 3000,
      });
      await waitUntilReady(spawned, 'stunnel', [logFile], () => tlsHandshakeCompletes(port));
      return {
        host: LOOPBACK,
        port,
        url: `https://${LOOPBACK}:${port}`,
        dir,
        logFile,
        pid: spawned.child.pid!,
        stop: spawned.stop,
      };
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

function tlsHandshakeCompletes(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    // Only "is it listening and speaking TLS": the certificate is the caller's business.
    const socket = tls.connect({ host: LOOPBACK, port, servername: 'localhost', rejectUnauthorized: false });
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), 2000);
    socket.on('secureConnect', () => finish(true));
    socket.on('error', () => finish(false));
    socket.on('close', () => finish(false));
  });
}

// ---------------------------------------------------------------------------
// dante

function danteConfig(dir: string, port: number, auth: boolean): string {
  const method = auth ? 'username' : 'none';
  return [
    `logoutput: ${dir}/danted.log`,
    `errorlog: ${dir}/danted.log`,
    `internal: ${LOOPBACK} port = ${port}`,
    `external: ${LOOPBACK}`,
    'clientmethod: none',
    `socksmethod: ${method}`,
    // No user.privileged / user.unprivileged: it runs unprivileged already.
    'client pass {',
    '  from: 127.0.0.0/8 to: 0.0.0.0/0',
    '  log: error',
    '}',
    'socks pass {',
    '  from: 127.0.0.0/8 to: 127.0.0.0/8',
    '  command: connect',
    '  protocol: tcp',
    `  socksmethod: ${method}`,
    '  log: connect error',
    '}',
    'socks block {',
    '  from: 0.0.0.0/0 to: 0.0.0.0/0',
    '  log: connect error',
    '}',
    '',
  ].join('\n');
}

/**
 * dante as a SOCKS5 and SOCKS4 server (not 4a, see the top of this file) for
 * loopback clients and loopback destinations; CONNECT only. With `auth`,
 * SOCKS5 clients must use username/password (RFC 1929) with those
 * credentials, and SOCKS4 is refused. Ready once it answers a SOCKS5 greeting
 * with the expected method.
 */
export async function startDante(opts: { auth?: ProxyCredentials } = {}): Promise<DanteProxy> {
  const exe = findBinary('danted');
  if (!exe) throw new Error('danted not found (apt-get install dante-server)');
  const dir = makeDir('dante');
  const user = unprivilegedUser();
  const confFile = path.join(dir, 'danted.conf');
  const logFile = path.join(dir, 'danted.log');
  try {
    let env: NodeJS.ProcessEnv | undefined;
    if (opts.auth) {
      const wrapper = findNssWrapper();
      if (!wrapper) throw new Error('libnss_wrapper.so not found (apt-get install libnss-wrapper)');
      const { username, password } = opts.auth;
      if (/[:\n]/.test(username)) throw new Error('a dante test user name cannot contain ":" or a newline');
      const hash = await sha512Crypt(password);
      const uid = user?.uid ?? process.getuid?.() ?? 65534;
      const gid = user?.gid ?? process.getgid?.() ?? 65534;
      writeFileSync(
        path.join(dir, 'passwd'),
        `${username}:x:${uid}:${gid}:urllib3-ts test:/nonexistent:/bin/false\n`,
      );
      writeFileSync(path.join(dir, 'group'), `urllib3ts:x:${gid}:\n`);
      writeFileSync(path.join(dir, 'shadow'), `${username}:${hash}:19000:0:99999:7:::\n`);
      env = {
        ...process.env,
        LD_PRELOAD: [wrapper, process.env.LD_PRELOAD].filter(Boolean).join(' '),
        NSS_WRAPPER_PASSWD: path.join(dir, 'passwd'),
        NSS_WRAPPER_GROUP: path.join(dir, 'group'),
        NSS_WRAPPER_SHADOW: path.join(dir, 'shadow'),
      };
    }
    return await withPortRetries(async () => {
      const port = await getFreePort(LOOPBACK);
      writeFileSync(confFile, danteConfig(dir, port, opts.auth !== undefined));
      chownTree(dir, user);
      const spawned = spawnServer(exe, ['-f', confFile, '-p', path.join(dir, 'danted.pid'), '-N', '1'], {
        dir,
        name: 'danted',
        signal: 'SIGTERM',
        graceMs: 3000,
        user,
        ...(env ? { env } : {}),
      });
      const method = opts.auth ? 0x02 : 0x00;
      await waitUntilReady(spawned, 'danted', [logFile], async () => {
        const reply = await exchange(port, Buffer.from([0x05, 0x01, method]), (b) => b.length >= 2);
        return reply !== null && reply[0] === 0x05 && reply[1] === method;
      });
      return {
        host: LOOPBACK,
        port,
        url: `socks5://${LOOPBACK}:${port}`,
        socks4Url: `socks4://${LOOPBACK}:${port}`,
        dir,
        logFile,
        pid: spawned.child.pid!,
        stop: spawned.stop,
      };
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A crypt(3) SHA-512 hash (`$6$...`) of `password`, as the shadow file wants it. */
async function sha512Crypt(password: string): Promise<string> {
  // On stdin, not argv: the password does not show up in ps.
  const child = spawn('openssl', ['passwd', '-6', '-stdin'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  child.stdin.end(`${password}\n`);
  const [code] = (await once(child, 'close')) as [number | null];
  const hash = out.trim();
  if (code !== 0 || !hash.startsWith('$6$')) throw new Error(`openssl passwd -6 failed (exit ${code})`);
  return hash;
}
