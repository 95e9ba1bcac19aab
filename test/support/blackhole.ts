// Addresses that never answer, made for real: a network namespace joined to
// this one by a veth pair, with forwarding on and `blackhole` routes inside
// it. A SYN sent to one of the black-holed subnets crosses the veth and is
// silently discarded in the namespace: no RST, no ICMP, exactly like a
// broken IPv6 path. Needs root and iproute2; the set-up is removed in
// teardown() and from an exit hook. Names and subnets include the PID, so
// test processes running at once do not collide.

import { execFileSync } from 'node:child_process';

export interface Blackhole {
  /** An IPv4 address whose SYNs vanish. */
  ipv4: string;
  /** An IPv6 address whose SYNs vanish. */
  ipv6: string;
  teardown(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

/** Sets up the black hole, or returns the reason it cannot (not root, no iproute2, no netns). */
export function createBlackhole(): Blackhole | string {
  if (process.getuid?.() !== 0) return 'creating a network namespace needs root';
  const n = process.pid % 250;
  const ns = `u3ts-bh-${process.pid}`;
  const host = `u3bh${process.pid}`.slice(0, 15);
  const peer = `u3bp${process.pid}`.slice(0, 15);
  const link4 = `10.213.${n}`;
  const hole4 = `10.214.${n}`;
  const link6 = `fd7a:5e11:${n.toString(16)}`;
  const hole6 = `fd7a:5e12:${n.toString(16)}`;
  const teardown = () => {
    for (const args of [
      ['route', 'del', `${hole4}.0/24`],
      ['-6', 'route', 'del', `${hole6}::/64`],
      ['link', 'del', host],
      ['netns', 'del', ns],
    ]) {
      try {
        ip(args);
      } catch {
        // already gone
      }
    }
  };
  try {
    teardown();
    ip(['netns', 'add', ns]);
    process.once('exit', teardown);
    ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    ip(['link', 'set', peer, 'netns', ns]);
    ip(['addr', 'add', `${link4}.1/30`, 'dev', host]);
    ip(['-6', 'addr', 'add', `${link6}::1/64`, 'dev', host, 'nodad']);
    ip(['link', 'set', host, 'up']);
    ip(['-n', ns, 'addr', 'add', `${link4}.2/30`, 'dev', peer]);
    ip(['-n', ns, '-6', 'addr', 'add', `${link6}::2/64`, 'dev', peer, 'nodad']);
    ip(['-n', ns, 'link', 'set', peer, 'up']);
    execFileSync(
      'ip',
      ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1'],
      {
        stdio: 'ignore',
      },
    );
    ip(['-n', ns, 'route', 'add', 'blackhole', `${hole4}.0/24`]);
    ip(['-n', ns, '-6', 'route', 'add', 'blackhole', `${hole6}::/64`]);
    ip(['route', 'add', `${hole4}.0/24`, 'via', `${link4}.2`]);
    ip(['-6', 'route', 'add', `${hole6}::/64`, 'via', `${link6}::2`]);
  } catch (err) {
    teardown();
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `could not build a black-holed network namespace (${stderr || (err as Error).message})`;
  }
  return { ipv4: `${hole4}.1`, ipv6: `${hole6}::1`, teardown };
}
