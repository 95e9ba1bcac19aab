// unbound (Debian) for the real-server DNS tests: started in the foreground
// as a child of the test process on free loopback ports (plain UDP/TCP, DNS
// over TLS, DNS over HTTPS) with a generated configuration, the test CA's
// `localhost` certificate, and a static local zone - nothing is asked of the
// internet. Same lifetime rules as real-servers.ts (tracked, killed from the
// exit hook, parent-death signal through setpriv), and counted as started
// only once it answers a query.
//
// Zone `test.`: a.test (A + AAAA), v4.test (A only), alias.test (CNAME to
// a.test; unbound does not chase CNAMEs of local data), svc.test (HTTPS with
// alpn h3,h2), many.test (20 A records), local.test (127.0.0.1 and ::1);
// any other name is NXDOMAIN.

import dgram from 'node:dgram';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getFreePort } from './free-port.js';
import { spawnServer } from './real-servers.js';
import { findBinary, keepDirs, ServerExitedError, withPortRetries } from './server-processes.js';

export interface UnboundServer {
  host: string;
  port: number;
  tlsPort: number;
  httpsPort: number;
  dir: string;
  stop(): Promise<void>;
}

export const UNBOUND_ZONE = [
  'a.test. 300 IN A 192.0.2.1',
  'a.test. 300 IN AAAA 2001:db8::1',
  'v4.test. 300 IN A 192.0.2.4',
  'alias.test. 300 IN CNAME a.test.',
  'svc.test. 300 IN HTTPS 1 . alpn="h3,h2"',
  'local.test. 300 IN A 127.0.0.1',
  'local.test. 300 IN AAAA ::1',
  ...Array.from({ length: 20 }, (_, i) => `many.test. 300 IN A 198.51.100.${i + 1}`),
];

function config(
  dir: string,
  port: number,
  tlsPort: number,
  httpsPort: number,
  cert: string,
  key: string,
): string {
  return `server:
  verbosity: 1
  do-daemonize: no
  use-syslog: no
  logfile: ""
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  num-threads: 1
  so-reuseport: no
  do-ip6: no
  interface: 127.0.0.1@${port}
  interface: 127.0.0.1@${tlsPort}
  interface: 127.0.0.1@${httpsPort}
  port: ${port}
  tls-port: ${tlsPort}
  https-port: ${httpsPort}
  tls-service-key: "${key}"
  tls-service-pem: "${cert}"
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "." static
${UNBOUND_ZONE.map((r) => `  local-data: '${r}'`).join('\n')}
remote-control:
  control-enable: no
`;
}

/** Resolves once a UDP query for a.test gets any answer. */
async function answersQueries(port: number, timeoutMs: number): Promise<boolean> {
  const sock = dgram.createSocket('udp4');
  const q = Buffer.from([
    0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1,
  ]);
  try {
    const got = once(sock, 'message').then(() => true);
    sock.send(q, port, '127.0.0.1');
    return await Promise.race([got, sleep(timeoutMs).then(() => false)]);
  } finally {
    sock.close();
  }
}

export async function startUnbound(tls: { cert: string; key: string }): Promise<UnboundServer> {
  const exe = findBinary('unbound');
  if (!exe) throw new Error('unbound not found on PATH or in the sbin directories');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-unbound-'));
  try {
    return await withPortRetries(async () => {
      const [port, tlsPort, httpsPort] = [await getFreePort(), await getFreePort(), await getFreePort()];
      const conf = path.join(dir, 'unbound.conf');
      writeFileSync(conf, config(dir, port, tlsPort, httpsPort, tls.cert, tls.key));
      const { child, logFile, stop } = spawnServer('unbound', ['-d', '-c', conf], dir, 'unbound', {
        signal: 'SIGTERM',
        graceMs: 3000,
      });
      const deadline = Date.now() + 10_000;
      for (;;) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new ServerExitedError(
            `unbound exited before answering:\n${readFileSync(logFile, 'utf8').slice(-3000)}`,
          );
        }
        if (await answersQueries(port, 200)) break;
        if (Date.now() > deadline) {
          const log = readFileSync(logFile, 'utf8').slice(-3000);
          await stop();
          throw new Error(`unbound did not answer on 127.0.0.1:${port} within 10 s:\n${log}`);
        }
      }
      return { host: '127.0.0.1', port, tlsPort, httpsPort, dir, stop };
    });
  } catch (err) {
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
