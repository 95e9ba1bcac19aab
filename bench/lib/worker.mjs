#!/usr/bin/env node
// A client process of the benchmark, driven by bench/run.mjs over IPC. Each
// keep-alive client lives in its own long-lived worker (so one client's heap
// and JIT state never disturb another's); each download runs in a fresh
// worker so its RSS growth is measured from a clean baseline. The worker
// exits when its parent goes away.

import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLIENTS, DOWNLOADS, distinctPaths, H2_CLIENTS } from './clients.mjs';
import { dnsNames } from './dns-clients.mjs';

if (typeof process.send !== 'function') {
  console.error('bench/lib/worker.mjs is started by bench/run.mjs (it needs an IPC channel)');
  process.exit(2);
}

process.on('disconnect', () => process.exit(0));

let current = null;

/** Peak RSS since the last reset, from the kernel's VmHWM; null where unavailable. */
function readPeakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); false where unsupported. */
function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function settle() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    await sleep(20);
    globalThis.gc();
  }
  await sleep(20);
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const handlers = {
  async setup({ client, origin, concurrency, workload, protocol, ca }) {
    if (current !== null) await current.close();
    current = null;
    const factory = protocol === 'h2' ? H2_CLIENTS[client] : CLIENTS[client];
    if (!factory) throw new Error(`unknown ${protocol === 'h2' ? 'HTTP/2 ' : ''}client ${client}`);
    current = await factory({ origin, concurrency, workload, ca });
    return null;
  },

  /** What the client says about itself (HTTP/2 clients: connections opened). */
  async stats() {
    return current?.stats?.() ?? null;
  },

  async run({ durationMs, maxRequests }) {
    const cpu = process.cpuUsage();
    const started = performance.now();
    const requests = await current.run(started + durationMs, maxRequests);
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    // Client CPU time per request (user + system, all threads): far less sensitive than
    // throughput to whatever else the machine is doing.
    const cpuUsPerReq = requests > 0 ? (used.user + used.system) / requests : null;
    return { requests, elapsedMs, reqPerSec: (requests * 1000) / elapsedMs, cpuUsPerReq };
  },

  async teardown() {
    if (current !== null) await current.close();
    current = null;
    return null;
  },

  async download({ client, origin, target, size, warmTarget, warmSize, timeoutMs }) {
    const fn = DOWNLOADS[client];
    if (!fn) throw new Error(`unknown download client ${client}`);
    // Warm-up: the same code path on a smaller file, so the measured run is JIT-compiled.
    await withTimeout(fn(origin, warmTarget, warmSize), timeoutMs, 'warm-up download');
    await settle();
    const baseline = process.memoryUsage.rss();
    const hwm = resetPeakRss();
    let sampled = baseline;
    const sampler = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > sampled) sampled = rss;
    }, 5);
    const started = performance.now();
    let bytes;
    try {
      bytes = await withTimeout(fn(origin, target, size), timeoutMs, 'download');
    } finally {
      clearInterval(sampler);
    }
    const elapsedMs = performance.now() - started;
    const peak = Math.max(sampled, hwm ? (readPeakRss() ?? 0) : 0);
    return {
      bytes,
      elapsedMs,
      mibPerSec: bytes / 1048576 / (elapsedMs / 1000),
      baselineRss: baseline,
      peakRss: peak,
      rssGrowth: peak - baseline,
      peakSource: hwm ? 'VmHWM' : 'sampled',
    };
  },

  async distinct({ origin, total, concurrency, maxSize }) {
    return distinctPaths(origin, total, concurrency, maxSize);
  },

  /** The dns-200-names workload (bench/lib/dns-clients.mjs). */
  async dnsNames(params) {
    return dnsNames(params);
  },
};

process.on('message', async (msg) => {
  if (msg.cmd === 'exit') {
    if (current !== null) await current.close().catch(() => {});
    process.exit(0);
  }
  const handler = handlers[msg.cmd];
  try {
    if (!handler) throw new Error(`unknown command ${msg.cmd}`);
    const result = await handler(msg);
    process.send({ id: msg.id, ok: true, result });
  } catch (err) {
    process.send({
      id: msg.id,
      ok: false,
      error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    });
  }
});

process.send({ ready: true });
