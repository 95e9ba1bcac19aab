// A pooled connection left idle with a chosen liveness threshold, for the
// HTTP/3 liveness tests (docs/api.md section 9, "Liveness").

import type { HTTPConnection, HTTPSConnectionPool } from '../../src/index.js';

/** One GET of `target`, leaving its connection idle in the pool with `pingAfterIdle` set to `ms`. */
export async function idleIn(pool: HTTPSConnectionPool, ms: number, target: string): Promise<HTTPConnection> {
  const r = await pool.request('GET', target, { preloadContent: false });
  const conn = r.connection as HTTPConnection;
  conn._pingAfterIdle = ms;
  await r.read();
  return conn;
}
