// A UDP relay on loopback for the HTTP/3 tests: datagrams from each client
// address go to the upstream (caddy's QUIC port) from a socket of their own,
// and the answers come back. `drop()` makes it a firewall that discards
// everything both ways without a word (no ICMP), as a DROP rule would;
// `forward()` lets traffic through again.

import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface UdpRelay {
  port: number;
  /** Datagrams that went client -> upstream, and those dropped. */
  readonly forwarded: number;
  readonly dropped: number;
  drop(): void;
  forward(): void;
  close(): void;
}

export async function startUdpRelay(upstreamPort: number, upstreamHost = '127.0.0.1'): Promise<UdpRelay> {
  const front = dgram.createSocket('udp4');
  const backs = new Map<string, dgram.Socket>();
  let dropping = false;
  let forwarded = 0;
  let dropped = 0;
  front.on('message', (msg, from) => {
    if (dropping) {
      dropped++;
      return;
    }
    const key = `${from.address}:${from.port}`;
    let back = backs.get(key);
    if (back === undefined) {
      const b = dgram.createSocket('udp4');
      b.on('message', (answer) => {
        if (dropping) {
          dropped++;
          return;
        }
        front.send(answer, from.port, from.address);
      });
      b.on('error', () => {});
      b.connect(upstreamPort, upstreamHost);
      backs.set(key, b);
      back = b;
      // connect() is asynchronous: the first datagram waits for it.
      b.once('connect', () => b.send(msg));
      forwarded++;
      return;
    }
    forwarded++;
    try {
      back.send(msg);
    } catch {
      // not connected yet: a lost datagram, as on a real path
    }
  });
  front.on('error', () => {});
  await new Promise<void>((resolve) => front.bind(0, '127.0.0.1', resolve));
  return {
    port: (front.address() as AddressInfo).port,
    get forwarded() {
      return forwarded;
    },
    get dropped() {
      return dropped;
    },
    drop() {
      dropping = true;
    },
    forward() {
      dropping = false;
    },
    close() {
      for (const b of backs.values()) b.close();
      front.close();
    },
  };
}
