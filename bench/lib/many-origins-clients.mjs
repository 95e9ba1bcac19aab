// The client side of the many-origins workload (many-origins-workload.mjs):
// `total` GETs of the small file to `hosts` distinct host names
// (o0.origins.test ... o999.origins.test, all answered with 127.0.0.1, where
// the bench's server listens), `concurrency` in flight, the names taken
// round-robin. Run by worker.mjs's `invoke`, in a process of its own.
//
// * urllib3-ts: one PoolManager({ numPools, resolver: 'in-memory://...' })
//   with every name in its table: at most `numPools` pools (one connection
//   kept each, maxSize 1), the least recently used closed first;
// * undici Agent: new Agent({ connections: 1, connect: { lookup } }), a
//   lookup function answering every name with 127.0.0.1 from the same kind of
//   table; undici keeps one dispatcher per origin, without a cap.
//
// Neither client asks DNS. Around the run: the GC settles, the RSS baseline
// is taken and the kernel's peak-RSS mark reset; after it, before closing,
// the GC settles again and the RSS is read with the number of pooled (open)
// connections: "RSS per pooled connection" is the growth over the baseline
// divided by that number.

import { performance } from 'node:perf_hooks';
import { checkSmall, loadUrllib3 } from './client-common.mjs';
import { PATHS } from './payloads.mjs';
import { readPeakRss, resetPeakRss, settle } from './process-memory.mjs';

export const ORIGINS_ZONE = 'origins.test';
const ADDRESS = '127.0.0.1';

export const hostName = (i) => `o${i}.${ORIGINS_ZONE}`;

/** A node:net lookup function answering the names of `table` (a Set) from memory. */
function tableLookup(table) {
  return (hostname, options, callback) => {
    const cb = typeof options === 'function' ? options : callback;
    const all = typeof options === 'object' && options !== null && options.all;
    if (!table.has(hostname)) {
      const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      process.nextTick(cb, err);
    } else if (all) process.nextTick(cb, null, [{ address: ADDRESS, family: 4 }]);
    else process.nextTick(cb, null, ADDRESS, 4);
  };
}

async function urllib3Client({ names, numPools }) {
  const { PoolManager } = await loadUrllib3();
  const pm = new PoolManager({
    numPools,
    resolver: `in-memory://default?${names.map((n) => `hosts=${n}:${ADDRESS}`).join('&')}`,
  });
  return {
    request: async (url) => {
      const r = await pm.request('GET', url);
      checkSmall(r.status, r.data.length);
    },
    pooled: () => {
      let connections = 0;
      for (const pool of pm.pools.values()) connections += pool.numConnections;
      return { connections, pools: pm.pools.size };
    },
    close: () => pm.close(),
  };
}

async function undiciAgentClient({ names }) {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ connections: 1, connect: { lookup: tableLookup(new Set(names)) } });
  return {
    request: async (url) => {
      const { statusCode, body } = await request(url, { dispatcher: agent });
      checkSmall(statusCode, (await body.arrayBuffer()).byteLength);
    },
    pooled: () => {
      let connections = 0;
      const stats = Object.values(agent.stats);
      for (const s of stats) connections += s.connected;
      return { connections, pools: stats.length };
    },
    close: () => agent.close(),
  };
}

export const MANY_ORIGINS_CLIENTS = {
  'urllib3-ts': urllib3Client,
  'undici Agent': undiciAgentClient,
};

/**
 * One run: { client, port, hosts, total, concurrency, numPools } -> req/s,
 * CPU per request, RSS growth and pooled connections at the end.
 */
export async function manyOrigins({ client, port, hosts, total, concurrency, numPools }) {
  const factory = MANY_ORIGINS_CLIENTS[client];
  if (!factory) throw new Error(`unknown many-origins client ${client}`);
  const names = Array.from({ length: hosts }, (_, i) => hostName(i));
  const urls = names.map((n) => `http://${n}:${port}${PATHS.small}`);
  await settle();
  const baselineRss = process.memoryUsage.rss();
  const hwm = resetPeakRss();
  const c = await factory({ names, numPools });
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  try {
    const loop = async () => {
      while (next < total) {
        const i = next++;
        await c.request(urls[i % urls.length]);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    const elapsedMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const pooled = c.pooled();
    await settle();
    const rss = process.memoryUsage.rss();
    const peak = hwm ? readPeakRss() : null;
    return {
      requests: total,
      elapsedMs,
      reqPerSec: (total * 1000) / elapsedMs,
      cpuUsPerReq: (used.user + used.system) / total,
      pooledConnections: pooled.connections,
      pools: pooled.pools,
      baselineRss,
      rssGrowth: rss - baselineRss,
      peakRssGrowth: peak === null ? null : peak - baselineRss,
      rssPerConnection: pooled.connections > 0 ? (rss - baselineRss) / pooled.connections : null,
    };
  } finally {
    await c.close();
  }
}

/**
 * Whether undici's Agent can cap its origins: new Agent({ maxOrigins: 1 })
 * asked for two origins. Resolves with what happened to the second request.
 */
export async function undiciMaxOrigins({ port }) {
  const { Agent, request } = await import('undici');
  const names = [hostName(0), hostName(1)];
  let agent;
  try {
    agent = new Agent({ connections: 1, maxOrigins: 1, connect: { lookup: tableLookup(new Set(names)) } });
  } catch (err) {
    return { option: false, behaviour: `new Agent({ maxOrigins }) threw ${err.name}: ${err.message}` };
  }
  try {
    for (const n of names) {
      const { body } = await request(`http://${n}:${port}${PATHS.small}`, { dispatcher: agent });
      await body.arrayBuffer();
    }
    return { option: true, behaviour: 'a second origin was served: maxOrigins did not cap' };
  } catch (err) {
    return {
      option: true,
      behaviour: `the request to a second origin failed with ${err.name} (${err.code ?? '-'}): "${err.message}"; no origin is evicted`,
    };
  } finally {
    await agent.destroy();
  }
}
