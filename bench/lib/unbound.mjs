// unbound (Debian) for the dns-200-names workload: started in the foreground
// as our child on a free loopback port (UDP and TCP), pinned to the server
// core like nginx, with a generated configuration whose only data is a
// static local zone: `dnsbench.test.` with an SOA (so negative answers, such
// as the AAAA NODATA of every name, carry a TTL a resolver may cache, as a
// real zone's do) and one A record per name, all 127.0.0.1. Nothing is asked
// of the internet (`local-zone: "." static`). Same lifetime habits as
// servers.mjs: tracked, killed with us, stopped by PID; counted as started
// only once it answers a query. Written again from test/support/unbound.ts's
// approach because the bench runs as plain JavaScript.

import { spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findBinary, getFreePort, LOOPBACK, pinnedCommand, spawnOwned } from './servers.mjs';

export const DNS_ZONE = 'dnsbench.test';

function config(dir, port, records, extraInterfaces) {
  return `server:
  verbosity: 0
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
  interface: ${LOOPBACK}@${port}
${extraInterfaces.map((i) => `  interface: ${i}\n`).join('')}  port: ${port}
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  local-zone: "." static
  local-zone: "${DNS_ZONE}." static
${records.map((r) => `  local-data: '${r}'`).join('\n')}
remote-control:
  control-enable: no
`;
}

/** Resolves true once a UDP query for `name` gets a NOERROR answer. */
async function answers(port, name, timeoutMs) {
  const sock = dgram.createSocket('udp4');
  const labels = name
    .split('.')
    .map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const q = Buffer.concat([
    Buffer.from([0x42, 0x42, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]),
    ...labels,
    Buffer.from([0, 0, 1, 0, 1]),
  ]);
  try {
    const got = once(sock, 'message').then(([m]) => m.readUInt16BE(0) === 0x4242 && (m[3] & 0x0f) === 0);
    sock.send(q, port, LOOPBACK);
    return await Promise.race([got, sleep(timeoutMs).then(() => false)]);
  } finally {
    sock.close();
  }
}

/** The unbound binary, or null when it is not installed. */
export const findUnbound = () => findBinary('unbound');

/**
 * Starts unbound answering `names` (fully qualified, under DNS_ZONE) with
 * `address`, on 127.0.0.1 and a free port, and on `extraInterfaces` too
 * (unbound's `address@port` form). Resolves with { host, port, pid, version,
 * stop() }.
 */
export async function startUnbound(
  pin,
  names,
  { address = LOOPBACK, ttl = 3600, extraInterfaces = [] } = {},
) {
  const exe = findUnbound();
  if (exe === null) throw new Error('unbound not found on PATH or in the sbin directories');
  const records = [
    `${DNS_ZONE}. ${ttl} IN SOA ns.${DNS_ZONE}. hostmaster.${DNS_ZONE}. 1 3600 600 86400 ${ttl}`,
    ...names.map((n) => `${n}. ${ttl} IN A ${address}`),
  ];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-unbound-'));
  const logFile = path.join(dir, 'unbound.log');
  for (let attempt = 1; ; attempt++) {
    const port = await getFreePort();
    const conf = path.join(dir, 'unbound.conf');
    writeFileSync(conf, config(dir, port, records, extraInterfaces));
    const [cmd, args] = pinnedCommand(pin, pin.serverCore, exe, ['-d', '-c', conf]);
    const fd = openSync(logFile, 'a');
    const child = spawnOwned(cmd, args, { cwd: dir, stdio: ['ignore', fd, fd] }, 'SIGTERM');
    closeSync(fd);
    const deadline = Date.now() + 10_000;
    let ok = false;
    while (!ok) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      ok = await answers(port, names[0], 200);
      if (!ok && Date.now() > deadline) break;
    }
    if (!ok) {
      await child.stopOwned();
      const log = readFileSync(logFile, 'utf8').slice(-2000);
      if (attempt < 3 && /in use/i.test(log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`unbound did not answer on ${LOOPBACK}:${port} within 10 s:\n${log}`);
    }
    const v = /Version\s+(\S+)/.exec(
      spawnSync(exe, ['-V'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '',
    );
    return {
      host: LOOPBACK,
      port,
      pid: child.pid,
      version: v ? v[1] : 'unknown',
      async stop() {
        await child.stopOwned();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
}
