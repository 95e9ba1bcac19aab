// Drives the sans-IO SOCKS handshake over a connected socket to the proxy,
// under the connect deadline. On success the same socket carries the tunnel
// to the destination; failures are ProxyErrors marked as connect errors.

import type { Socket } from 'node:net';
import { ProxyError } from '../errors.js';
import { markConnectError } from '../net/connect.js';
import {
  SocksHandshake,
  type SocksCredentials,
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
  return new Promise<void>((resolve, reject) => {
    const hs = new SocksHandshake(version, target, creds, `${x.label}: SOCKS proxy ${x.proxy}`);
    let timer: NodeJS.Timeout | null = null;
    const cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      x.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(markConnectError(err));
    };
    const onData = (chunk: Buffer) => {
      try {
        const r = hs.feed(chunk);
        if (r.send !== null) socket.write(r.send);
        if (r.done) {
          cleanup();
          socket.pause();
          if (r.leftover !== null) socket.unshift(r.leftover);
          resolve();
        }
      } catch (err) {
        fail(err as Error);
      }
    };
    const onClose = () =>
      fail(
        new ProxyError(`${x.label}: the SOCKS proxy ${x.proxy} closed the connection during the handshake`),
      );
    const onError = (err: Error) =>
      fail(new ProxyError(`${x.label}: SOCKS proxy ${x.proxy}: ${err.message}`, { cause: err }));
    const onAbort = () =>
      fail(new ProxyError(`${x.label}: aborted during the SOCKS handshake`, { cause: x.signal?.reason }));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    x.signal?.addEventListener('abort', onAbort, { once: true });
    if (x.timeout !== null) {
      timer = setTimeout(
        () =>
          fail(
            new ProxyError(`${x.label}: the SOCKS proxy ${x.proxy} did not answer within ${x.timeout} ms`),
          ),
        Math.max(1, x.timeout),
      );
    }
    try {
      socket.write(hs.start());
    } catch (err) {
      fail(err as Error);
    }
  });
}
