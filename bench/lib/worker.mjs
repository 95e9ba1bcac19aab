#!/usr/bin/env node
// A client process of the benchmark, driven by bench/run.mjs over IPC. Each
// keep-alive client lives in its own long-lived worker (so one client's heap
// and JIT state never disturb another's); each download runs in a fresh
// worker so its RSS growth is measured from a clean baseline. The worker
// exits when its parent goes away.

import { performance } from 'node:perf_hooks';
import { CLIENTS, DOWNLOAD_MODULES, DOWNLOADS, distinctPaths } from './clients.mjs';
import { H2_CLIENTS } from './h2-clients.mjs';
import { dnsNames } from './dns-clients.mjs';
import { serveIpcCalls } from './ipc.mjs';
import { withTimeout } from './with-timeout.mjs';
import { readPeakRss, resetPeakRss, settle } from './process-memory.mjs';

if (typeof process.send !== 'function') {
  console.error('bench/lib/worker.mjs is started by bench/run.mjs (it needs an IPC channel)');
  process.exit(2);
}

process.on('disconnect', () => process.exit(0));

let current = null;

const handlers = {
  /**
   * Makes the current client. `protocol: 'h2'` picks from H2_CLIENTS, else
   * CLIENTS; the other fields (origin, concurrency, workload, ca, target,
   * size) go to the client's factory.
   */
  async setup({ client, protocol, cmd: _cmd, id: _id, ...params }) {
    if (current !== null) await current.close();
    current = null;
    const factory = protocol === 'h2' ? H2_CLIENTS[client] : CLIENTS[client];
    if (!factory) throw new Error(`unknown ${protocol === 'h2' ? 'HTTP/2 ' : ''}client ${client}`);
    current = await factory(params);
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

  /**
   * The download workload: in this fresh process, load the client's modules,
   * settle, record the RSS baseline and reset the kernel's peak-RSS mark;
   * then download `target` twice, streamed: the first download is "cold"
   * (code not yet optimised), the second "warm". rssGrowth is the peak RSS
   * over both minus the baseline, coldRssGrowth the peak during the first.
   */
  async download({ client, origin, target, size, chunk, timeoutMs }) {
    const fn = DOWNLOADS[client];
    if (!fn) throw new Error(`unknown download client ${client}`);
    await DOWNLOAD_MODULES[client]?.();
    await settle();
    const baseline = process.memoryUsage.rss();
    const hwm = resetPeakRss();
    let sampled = baseline;
    const sampler = setInterval(() => {
      const rss = process.memoryUsage.rss();
      if (rss > sampled) sampled = rss;
    }, 5);
    const once = async (what) => {
      const started = performance.now();
      const bytes = await withTimeout(fn(origin, target, size, chunk), timeoutMs, what);
      const elapsedMs = performance.now() - started;
      return { bytes, elapsedMs, mibPerSec: bytes / 1048576 / (elapsedMs / 1000) };
    };
    const peakNow = () => Math.max(sampled, hwm ? (readPeakRss() ?? 0) : 0);
    let cold;
    let warm;
    let coldPeak;
    try {
      cold = await once('cold download');
      coldPeak = peakNow();
      warm = await once('warm download');
    } finally {
      clearInterval(sampler);
    }
    const peak = peakNow();
    return {
      cold,
      warm,
      baselineRss: baseline,
      peakRss: peak,
      rssGrowth: peak - baseline,
      coldRssGrowth: coldPeak - baseline,
      peakSource: hwm ? 'VmHWM' : 'sampled',
    };
  },

  async distinct({ origin, total, concurrency, maxSize }) {
    return distinctPaths(origin, total, concurrency, maxSize);
  },

  /**
   * Calls `fn` exported by the bench/lib module `module` (a file name) with
   * `params`, and returns what it resolves with: how workload modules run
   * their own client code without a handler of their own here.
   */
  async invoke({ module, fn, params }) {
    if (!/^[a-z0-9-]+\.mjs$/.test(module)) throw new Error(`invoke: not a bench/lib module name: ${module}`);
    const mod = await import(new URL(module, import.meta.url).href);
    if (typeof mod[fn] !== 'function') throw new Error(`invoke: ${module} exports no function ${fn}`);
    return mod[fn](params);
  },

  /** The dns-200-names workload (bench/lib/dns-clients.mjs). */
  async dnsNames(params) {
    return dnsNames(params);
  },
};

serveIpcCalls(handlers, () => current?.close());
