// What a results file says about the machine and the build: the compiled
// tree is rebuilt when src/ is newer (the bench measures dist/, what users
// import), and machine() describes the CPU, OS, server and peers' versions.

import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);

// ---- dist freshness ---------------------------------------------------------------

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureBuilt() {
  const index = path.join(ROOT, 'dist', 'index.js');
  const stale =
    !existsSync(index) ||
    newestMtime(path.join(ROOT, 'src')) > statSync(index).mtimeMs ||
    statSync(path.join(ROOT, 'tsconfig.build.json')).mtimeMs > statSync(index).mtimeMs;
  if (process.env.BENCH_DIST || process.env.BENCH_SKIP_BUILD === '1' || !stale) return false;
  log('dist/ is older than src/: npm run build');
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error('npm run build failed');
  return true;
}

// ---- machine ----------------------------------------------------------------------

// Counted before this process pins itself to one core (which availableParallelism() would then report).
const CORES = os.availableParallelism();

export function machine(server, pin) {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    // not Linux
  }
  let distro = `${os.type()} ${os.release()}`;
  try {
    const m = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) distro = `${m[1]} (kernel ${os.release()})`;
  } catch {
    // no os-release
  }
  const pkg = (name) => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      return null;
    }
  };
  return {
    cpu,
    cores: CORES,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: distro,
    node: process.version,
    server: `${server.kind} ${server.version}`,
    h2Server: server.h2?.kind ?? null,
    pinning: pin.enabled
      ? `server on core ${pin.serverCore}, clients on core ${pin.clientCore} (taskset)`
      : 'none',
    peers: {
      undici: pkg('undici'),
      axios: pkg('axios'),
      got: pkg('got'),
      'node-fetch': pkg('node-fetch'),
    },
    urllib3ts: JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version,
  };
}
