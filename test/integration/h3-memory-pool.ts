// A pool whose connections dial the in-memory QUIC peer of h3-memory-quic.ts
// (HTTP/3 only), for the HTTP/3 session and liveness tests: everything above
// the transport is the library's real pool, connection and session.

import { ConnectionInfo, HttpVersion } from '../../src/connection/connection-info.js';
import type { Dialed } from '../../src/connection/dialer.js';
import { HTTPSConnection } from '../../src/connection/https-connection.js';
import { QuicShell } from '../../src/connection/quic-dialer.js';
import { HTTPSConnectionPool } from '../../src/index.js';
import { MemoryQuic, type Script } from './h3-memory-quic.js';

const ONLY_H3 = new Set([HttpVersion.h11, HttpVersion.h2]);

/**
 * A pool for host h3.test whose connections each dial a new MemoryQuic running
 * `script` (with `maxStreams` bidirectional streams); `conns` lists the peers
 * in dial order. `opts` are the pool's options.
 */
export function memoryH3Pool(
  script: Script,
  opts: Record<string, unknown> = {},
  maxStreams = 100,
): { pool: HTTPSConnectionPool; conns: MemoryQuic[] } {
  const conns: MemoryQuic[] = [];
  class MemoryH3Connection extends HTTPSConnection {
    protected override async dial(): Promise<Dialed> {
      const quic = new MemoryQuic(script, maxStreams);
      conns.push(quic);
      const info = new ConnectionInfo();
      info.httpVersion = HttpVersion.h3;
      info.tlsVersion = 'TLSv1.3';
      return { transport: new QuicShell(quic), protocol: HttpVersion.h3, info, sink: null };
    }
  }
  class Pool extends HTTPSConnectionPool {
    static override ConnectionCls = MemoryH3Connection;
  }
  const pool = new Pool('h3.test', { disabledSvn: ONLY_H3, ...opts });
  return { pool, conns };
}
