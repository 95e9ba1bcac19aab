// The client side of the dns-200-names workload (bench/lib/dns-workload.mjs):
// `total` GETs to `names` distinct host names, `concurrency` in flight,
// through a fresh PoolManager per run, its resolver either the system's
// (dns.lookup, the default) or `dou://` against unbound. Every name is a host
// of its own (a pool of its own: numPools is at least the number of names,
// so no pool is evicted and reopened during a run) and names are taken in
// round-robin order, so the requests in flight are for distinct names.
//
// `fresh: true` (the default of the workload) sends `Connection: close`:
// nginx closes every connection after its response, so every request opens
// a new connection and resolves its name again - what the system resolver
// pays on each new connection (it caches nothing) against dou's cache (two
// queries per name, A and AAAA, then cache hits). `fresh: false` keeps
// connections alive: each name is resolved once per run, by either resolver.
//
// Every response is checked (status, body length); per response, the
// connection's ConnectionInfo says whether it was new and how long its
// resolution took.

import { access } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { loadUrllib3 } from './clients.mjs';
import { SMALL_BODY } from './payloads.mjs';

// 'dou-warm': one dou:// resolver per worker process, kept across runs (a
// resolver object stays its creator's: the PoolManager does not close it), so
// after the warm-up run every lookup is a cache hit (TTL 3600 s).
let warmResolver = null;

/**
 * resolver: 'system' | 'dou' | 'dou-warm' | 'in-memory' | 'in-memory-hop'; dnsPort: unbound's port (dou); port: the HTTP
 * server's; names: host names; target: the path.
 */
export async function dnsNames({ resolver, dnsPort, port, names, target, total, concurrency, fresh }) {
  const { PoolManager } = await loadUrllib3();
  const options = { numPools: Math.max(names.length, 10) };
  if (resolver === 'dou') options.resolver = `dou://127.0.0.1:${dnsPort}`;
  else if (resolver === 'dou-warm') {
    const { ResolverDescription } = await loadUrllib3();
    warmResolver ??= ResolverDescription.fromUrl(`dou://127.0.0.1:${dnsPort}`).new();
    options.resolver = warmResolver;
  } else if (resolver === 'in-memory') {
    // The control: the same names from a table, answered at once, no DNS at all.
    options.resolver = `in-memory://default?${names.map((n) => `hosts=${n}:127.0.0.1`).join('&')}`;
  } else if (resolver === 'in-memory-hop') {
    // The second control: the same table, but each answer handed back after
    // one round trip through libuv's thread pool (an fs.access), as
    // dns.lookup's answers come back.
    const { ResolverDescription, BaseResolver } = await loadUrllib3();
    const table = ResolverDescription.fromUrl(
      `in-memory://default?${names.map((n) => `hosts=${n}:127.0.0.1`).join('&')}`,
    ).new();
    class ThreadPoolHop extends BaseResolver {
      async getaddrinfo(host, p, o) {
        await access('/');
        return table.getaddrinfo(host, p, o);
      }
    }
    options.resolver = new ThreadPoolHop();
  } else if (resolver !== 'system') throw new Error(`unknown resolver ${resolver}`);
  const pm = new PoolManager(options);
  const urls = names.map((n) => `http://${n}:${port}${target}`);
  const requestOptions = fresh ? { headers: { Connection: 'close' } } : undefined;
  let next = 0;
  let newConnections = 0;
  let resolutionMs = 0;
  let failure = null;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const loop = async () => {
    while (next < total && failure === null) {
      const i = next++;
      const r = await pm.request('GET', urls[i % urls.length], requestOptions);
      if (r.status !== 200 || r.data.length !== SMALL_BODY.length) {
        failure = new Error(`unexpected response from ${urls[i % urls.length]}: status ${r.status}`);
        return;
      }
      const info = r.connectionInfo;
      if (info !== null && info !== undefined && info.establishedLatency > 0) {
        newConnections++;
        resolutionMs += info.resolutionLatency;
      }
    }
  };
  let elapsedMs;
  let used;
  try {
    await Promise.all(Array.from({ length: concurrency }, loop));
    elapsedMs = performance.now() - started;
    used = process.cpuUsage(cpu);
  } finally {
    await pm.close();
  }
  if (failure !== null) throw failure;
  return {
    requests: total,
    elapsedMs,
    reqPerSec: (total * 1000) / elapsedMs,
    cpuUsPerReq: (used.user + used.system) / total,
    newConnections,
    meanResolutionUs: newConnections > 0 ? (1000 * resolutionMs) / newConnections : null,
  };
}
