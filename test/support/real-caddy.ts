// caddy from Debian (2.6) for the HTTP/3 tests: HTTPS with HTTP/1.1, HTTP/2
// and HTTP/3 (QUIC on the UDP side of each HTTPS port) on loopback, with the
// test PKI's certificates. Started in the foreground in its own temporary
// directory (HOME and the XDG directories point there, so nothing outside it
// is touched), stopped by PID, reaped by the exit hook of server-processes.ts
// like the servers of real-servers.ts. Each site gets its own port, so one
// caddy serves the whole certificate matrix; `/echo*` is reverse-proxied to
// an upstream the test runs in-process, everything else is files from `root`.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadQuicTransport } from '../../src/net/quic/quic-loader.js';
import { makeTlsTestPki, type TlsTestPki } from './certs.js';
import { getFreePort } from './free-port.js';
import { requireServer, type Spawned, spawnServer } from './real-servers.js';
import { findBinary, isCI, keepDirs, ServerExitedError, withPortRetries } from './server-processes.js';

export interface CaddySite {
  /** A name to find the site's port by. */
  name: string;
  cert: string;
  key: string;
  /** Host names (and IPs) the site answers for; default localhost and 127.0.0.1. */
  hosts?: string[];
  /** Require client certificates signed by this CA file. */
  clientCa?: string;
}

export interface CaddyOptions {
  sites: CaddySite[];
  /** Directory served as files. */
  root: string;
  /** host:port that /echo* is proxied to. */
  upstream?: string;
}

export interface CaddyServer {
  /** The HTTPS (TCP) and HTTP/3 (UDP) port of each site, by name. */
  ports: Record<string, number>;
  dir: string;
  stop(): Promise<void>;
}

function caddyfile(o: CaddyOptions, ports: Record<string, number>): string {
  const blocks = o.sites.map((s) => {
    const port = ports[s.name]!;
    const hosts = (s.hosts ?? ['localhost', '127.0.0.1']).map((h) => `https://${h}:${port}`).join(', ');
    const clientAuth = s.clientCa
      ? ` {\n\t\tclient_auth {\n\t\t\tmode require_and_verify\n\t\t\ttrusted_ca_cert_file ${s.clientCa}\n\t\t}\n\t}`
      : '';
    const echo = o.upstream ? `\thandle /echo* {\n\t\treverse_proxy ${o.upstream}\n\t}\n` : '';
    return `${hosts} {\n\tbind 127.0.0.1\n\ttls ${s.cert} ${s.key}${clientAuth}\n${echo}\thandle {\n\t\troot * ${o.root}\n\t\tfile_server\n\t}\n}\n`;
  });
  // caddy 2.6 sees no TLS server name on HTTP/3 requests (its issue 5078), so
  // the strict SNI/Host check client_auth turns on would answer 421: off there.
  const lax = o.sites
    .filter((s) => s.clientCa)
    .map(
      (s) =>
        `\tservers 127.0.0.1:${ports[s.name]} {\n\t\tprotocols h1 h2 h3\n\t\tstrict_sni_host insecure_off\n\t}\n`,
    )
    .join('');
  return `{\n\tadmin off\n\tauto_https off\n\tskip_install_trust\n${lax}\tservers {\n\t\tprotocols h1 h2 h3\n\t}\n}\n${blocks.join('')}`;
}

/**
 * Why the HTTP/3 tests against caddy skip here, or null: no caddy, or no QUIC
 * binding outside CI (under CI=true a binding that does not load is an error).
 */
export async function h3CaddySkip(): Promise<string | null> {
  const noCaddy = requireServer('caddy');
  if (noCaddy !== null) return noCaddy;
  const { reason } = await loadQuicTransport();
  if (reason === null) return null;
  if (isCI()) throw new Error(`the QUIC binding must load under CI=true: ${reason}`);
  return `HTTP/3 is unavailable here (${reason}); skipped outside CI`;
}

/** Whether something accepts TCP connections on the port (caddy opens its UDP listener first). */
export function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** caddy running the Caddyfile `conf`, in (and with its HOME and XDG directories in) `dir`. */
export function spawnCaddy(conf: string, dir: string): Spawned {
  // SIGQUIT: caddy's immediate exit, no graceful wait for open connections.
  return spawnServer(
    'caddy',
    ['run', '--config', conf, '--adapter', 'caddyfile'],
    dir,
    'caddy',
    { signal: 'SIGQUIT', graceMs: 3000 },
    {
      ...process.env,
      HOME: dir,
      XDG_DATA_HOME: path.join(dir, 'data'),
      XDG_CONFIG_HOME: path.join(dir, 'config'),
    },
  );
}

export async function startCaddy(o: CaddyOptions): Promise<CaddyServer> {
  const exe = findBinary('caddy');
  if (!exe) throw new Error('caddy not found on PATH');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-caddy-'));
  try {
    return await withPortRetries(async () => {
      const ports: Record<string, number> = {};
      for (const s of o.sites) ports[s.name] = await getFreePort('127.0.0.1');
      const conf = path.join(dir, 'Caddyfile');
      writeFileSync(conf, caddyfile(o, ports));
      const { child, logFile, stop } = spawnCaddy(conf, dir);
      const first = ports[o.sites.find((s) => !s.clientCa)!.name]!;
      const deadline = Date.now() + 15_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          const log = readFileSync(logFile, 'utf8').slice(-3000);
          throw new ServerExitedError(`caddy exited before answering:\n${log}`);
        }
        if (await probe(first)) break;
        if (Date.now() > deadline) {
          const log = readFileSync(logFile, 'utf8').slice(-3000);
          await stop();
          throw new Error(`caddy did not answer on 127.0.0.1:${first} within 15 s:\n${log}`);
        }
        await sleep(50);
      }
      return { ports, dir, stop };
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** One caddy with one site, `good` (the test PKI's server certificate), serving files from a root of its own. */
export interface H3Caddy {
  pki: TlsTestPki;
  /** The served directory (removed by stop()). */
  root: string;
  caddy: CaddyServer;
  /** The site's HTTPS and HTTP/3 port. */
  port: number;
  /** Stops caddy and removes the root. */
  stop(): Promise<void>;
}

/**
 * Starts the caddy most HTTP/3 test files share: a new test PKI, a root
 * (named after `prefix`) holding `files`, one site `good` answering for
 * `hosts` (default localhost and 127.0.0.1).
 */
export async function startH3Caddy(
  prefix: string,
  files: Record<string, string>,
  hosts?: string[],
): Promise<H3Caddy> {
  const pki = await makeTlsTestPki();
  const root = mkdtempSync(path.join(os.tmpdir(), `urllib3-ts-${prefix}-`));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(root, name), text);
  let caddy: CaddyServer;
  try {
    caddy = await startCaddy({
      root,
      sites: [{ name: 'good', cert: pki.server.cert, key: pki.server.key, hosts }],
    });
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    pki,
    root,
    caddy,
    port: caddy.ports.good!,
    async stop() {
      await caddy.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
