// Counting sockets for leak tests: "after close() no socket is left open".
//
// process.getActiveResourcesInfo() lists libuv handles that keep the event
// loop alive. A TCP socket shows up as 'TCPSocketWrap' (a TLS socket too: its
// TLS layer rides on the same TCP handle, so it counts once). 'TLSWrap' is
// counted as well for TLS over non-socket streams. Listening servers
// ('TCPServerWrap') are not counted, but the sockets an in-process server
// accepted are: a test with a server in the same process counts both ends.
// Unref'd handles are still listed.
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const SOCKET_RESOURCES = new Set(['TCPSocketWrap', 'TLSWrap']);

export function countOpenSockets(): number {
  let n = 0;
  for (const name of process.getActiveResourcesInfo()) if (SOCKET_RESOURCES.has(name)) n++;
  return n;
}

/**
 * Polls until `pred(count)` holds and resolves with that count. On timeout it
 * resolves with the last count instead of throwing, so the caller's own
 * assertion reports the number it actually saw.
 */
export async function waitForSocketCount(pred: (n: number) => boolean, timeoutMs = 2000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = countOpenSockets();
    if (pred(n) || Date.now() >= deadline) return n;
    // Closing a socket completes on a later loop turn, so give it a few.
    await sleep(10);
  }
}

export interface ServerConnectionStats {
  /** connections accepted since tracking began */
  opened: number;
  /** accepted connections not yet closed */
  open: number;
}

/**
 * Live counters over a server's accepted connections; the returned object is
 * updated in place. Works for net, tls, http, https and http2 servers, which
 * all emit 'connection' with the raw TCP socket (a TLS handshake failure still
 * counts as a connection, as it should for leak tests).
 */
export function trackServerConnections(server: net.Server): ServerConnectionStats {
  const stats: ServerConnectionStats = { opened: 0, open: 0 };
  server.on('connection', (socket: net.Socket) => {
    stats.opened++;
    stats.open++;
    socket.once('close', () => {
      stats.open--;
    });
  });
  return stats;
}
