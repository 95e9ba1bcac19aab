// Drives the sans-IO SOCKS handshake over a connected socket to the proxy,
// under the connect deadline. On success the same socket carries the tunnel
// to the destination; failures are ProxyErrors marked as connect errors.

import type { Socket } from 'node:net';
import { ProxyError } from '../errors.js';
import { runHandshake } from './handshake.js';
import {
  type SocksCredentials,
  SocksHandshake,
  type SocksTarget,
  type SocksVersion,
} from './socks-handshake.js';

export function openSocksTunnel(
  socket: Socket,
  version: SocksVersion,
  target: SocksTarget,
  creds: SocksCredentials,
  x: { timeout: number | null; signal: AbortSignal | null; label: string; proxy: string },
): Promise<void> {
  const hs = new SocksHandshake(version, target, creds, `${x.label}: SOCKS proxy ${x.proxy}`);
  return runHandshake(socket, {
    timeout: x.timeout,
    signal: x.signal,
    start: () => socket.write(hs.start()),
    onData: (chunk, done) => {
      const r = hs.feed(chunk);
      if (r.send !== null) socket.write(r.send);
      if (r.done) done(r.leftover);
    },
    closed: () =>
      new ProxyError(`${x.label}: the SOCKS proxy ${x.proxy} closed the connection during the handshake`),
    socketError: (err) =>
      new ProxyError(`${x.label}: SOCKS proxy ${x.proxy}: ${err.message}`, { cause: err }),
    aborted: (reason) => new ProxyError(`${x.label}: aborted during the SOCKS handshake`, { cause: reason }),
    timedOut: () =>
      new ProxyError(`${x.label}: the SOCKS proxy ${x.proxy} did not answer within ${x.timeout} ms`),
  });
}
