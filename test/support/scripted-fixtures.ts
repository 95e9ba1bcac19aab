// The scripted raw servers and the pools pointed at them that a test file
// opens, closed by the file's after() hook even when a test fails (pools
// first, then servers).

import { after } from 'node:test';
import { HTTPConnectionPool } from '../../src/index.js';
import { type RawHandler, type RawServer, type RawServerOptions, rawServer } from './servers.js';

interface Closable {
  close(): Promise<void>;
}

export interface ScriptedFixtures {
  /** A raw server running `handler`, closed after the file. */
  scripted(handler: RawHandler, options?: RawServerOptions): Promise<RawServer>;
  /** An HTTPConnectionPool to 127.0.0.1:`server.port` with retries off unless `options` say otherwise, closed after the file. */
  poolFor(
    server: { port: number },
    options?: ConstructorParameters<typeof HTTPConnectionPool>[1],
  ): HTTPConnectionPool;
  /** Other servers and pools (or managers) to close after the file. */
  servers: Closable[];
  pools: Closable[];
}

/** Call once at a test file's top level: it registers the after() hook. */
export function scriptedFixtures(): ScriptedFixtures {
  const servers: Closable[] = [];
  const pools: Closable[] = [];
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await Promise.all(servers.map((s) => s.close()));
  });
  return {
    servers,
    pools,
    async scripted(handler, options) {
      const s = await rawServer(handler, options);
      servers.push(s);
      return s;
    },
    poolFor(server, options = {}) {
      const pool = new HTTPConnectionPool('127.0.0.1', { port: server.port, retries: false, ...options });
      pools.push(pool);
      return pool;
    },
  };
}
