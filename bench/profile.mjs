#!/usr/bin/env node
// CPU profile of one client on one workload, against the same server the
// bench uses: `node bench/profile.mjs [workload] [client] [seconds]`, e.g.
//   node bench/profile.mjs get-c10 urllib3-ts 5
// workload: get-c1 | get-c10 | get-c50 | post-c10 | download | h2-get-c100 | h2-download-c10 (HTTP/2 clients:
// 'raw node:http2', 'urllib3-ts', 'urllib3-ts pool', 'urllib3-ts multiplexed', 'undici.request').
// The client runs in a child under `node --cpu-prof` (pinned like the bench);
// the .cpuprofile lands in bench/results/ (open it in Chrome DevTools) and the
// heaviest functions by self time are printed, then the time per source file.

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBenchCerts } from './lib/certs.mjs';
import { H2_DOWNLOAD_SIZE, MiB, PATHS } from './lib/payloads.mjs';
import { pinnedCommand, pinning, pinPid, startServer } from './lib/servers.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const [workloadArg = 'get-c10', client = 'urllib3-ts', secondsArg = '5'] = process.argv.slice(2);
const seconds = Number(secondsArg);
const outDir = path.join(HERE, 'results');
mkdirSync(outDir, { recursive: true });

/** Self time per function and per file, from a .cpuprofile. */
export function summarise(file, top = 30) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const perFn = new Map();
  const perFile = new Map();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]);
    const dt = p.timeDeltas[i] ?? 0;
    total += dt;
    const cf = node.callFrame;
    const where = cf.url
      ? cf.url
          .replace(/^file:\/\//, '')
          .split('/')
          .slice(-3)
          .join('/')
      : '';
    const key = `${cf.functionName || '(anonymous)'}  ${where}${where ? `:${cf.lineNumber + 1}` : ''}`;
    perFn.set(key, (perFn.get(key) ?? 0) + dt);
    const fileKey = where || cf.functionName;
    perFile.set(fileKey, (perFile.get(fileKey) ?? 0) + dt);
  }
  const pct = (v) => `${((100 * v) / total).toFixed(1).padStart(5)}%`;
  const lines = ['self time by function:'];
  for (const [k, v] of [...perFn].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(v)}  ${k}`);
  lines.push('', 'self time by file:');
  for (const [k, v] of [...perFile].sort((a, b) => b[1] - a[1]).slice(0, top))
    lines.push(`  ${pct(v)}  ${k}`);
  return lines.join('\n');
}

async function main() {
  const pin = pinning();
  if (pin.enabled) pinPid(pin, process.pid, pin.clientCore);
  const h2 = workloadArg.startsWith('h2-');
  const certs = h2 ? await makeBenchCerts() : null;
  const server = await startServer(
    pin,
    256,
    certs && { certFile: certs.certFile, keyFile: certs.keyFile, caPem: certs.caPem, maxStreams: 128 },
  );
  try {
    if (h2 && server.h2 === null) throw new Error(server.h2Error);
    const script = `
      import { CLIENTS, DOWNLOADS, H2_CLIENTS } from ${JSON.stringify(path.join(HERE, 'lib', 'clients.mjs'))};
      const [workload, c] = ${JSON.stringify(workloadArg)}.split('-c');
      const origin = ${JSON.stringify(h2 ? server.h2.origin : server.origin)};
      if (workload.startsWith('h2-')) {
        // h2-download-cN: the 1 MiB file, streamed; h2-get-cN: the small file.
        const file = workload === 'h2-download' ? { target: ${JSON.stringify(PATHS.mib)}, size: ${H2_DOWNLOAD_SIZE} } : {};
        const cl = await H2_CLIENTS[${JSON.stringify(client)}]({ origin, concurrency: Number(c), ca: ${JSON.stringify(certs?.caPem ?? null)}, ...file });
        const t0 = performance.now();
        const n = await cl.run(t0 + ${seconds * 1000}, 1e9);
        console.log(Math.round(n * 1000 / (performance.now() - t0)), 'req/s,', cl.stats().connections, 'connection(s)');
        await cl.close();
      } else if (workload === 'download') {
        const fn = DOWNLOADS[${JSON.stringify(client)}];
        const deadline = performance.now() + ${seconds * 1000};
        let n = 0;
        while (performance.now() < deadline) n += await fn(origin, ${JSON.stringify(PATHS.big)}, ${256 * MiB});
        console.log('downloaded', n / ${MiB}, 'MiB');
      } else {
        const cl = await CLIENTS[${JSON.stringify(client)}]({ origin, concurrency: Number(c), workload });
        const t0 = performance.now();
        const n = await cl.run(t0 + ${seconds * 1000}, 1e9);
        console.log(Math.round(n * 1000 / (performance.now() - t0)), 'req/s');
        await cl.close();
      }
    `;
    const started = Date.now();
    const [cmd, args] = pinnedCommand(pin, pin.clientCore, process.execPath, [
      '--cpu-prof',
      `--cpu-prof-dir=${outDir}`,
      '--input-type=module',
      '-e',
      script,
    ]);
    const r = spawnSync(cmd, args, { stdio: 'inherit', timeout: (seconds + 60) * 1000 });
    if (r.status !== 0) throw new Error(`profiled client failed (${r.status ?? r.signal})`);
    const newest = readdirSync(outDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => path.join(outDir, f))
      .filter((f) => statSync(f).mtimeMs >= started)
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    console.log(`\n${path.relative(process.cwd(), newest)}\n`);
    console.log(summarise(newest));
  } finally {
    await server.stop();
    certs?.remove();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
