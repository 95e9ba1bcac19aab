// Scripted in-process DNS servers for the resolver tests: one UDP socket and
// one TCP listener on the same loopback port (plus a TLS listener for DNS
// over TLS when given a certificate). A handler sees each query and returns
// the datagrams to send back (none: silence), possibly after a delay, so a
// test can script what unbound will not do: truncation, wrong IDs, answers
// from elsewhere, pointer loops, slow answers.

import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseQuery } from './dns-wire.js';

export interface SeenQuery {
  transport: 'udp' | 'tcp' | 'tls';
  id: number;
  name: string;
  type: number;
  raw: Buffer;
  /** The client's address and port. */
  from: string;
}

export interface DnsReplyPlan {
  /** Messages to send back, in order; [] is silence. */
  messages: Buffer[];
  /** Wait this long first. */
  delayMs?: number;
  /** UDP only: send from another socket (another source port). */
  fromOtherPort?: boolean;
}

export type DnsHandler = (
  q: SeenQuery,
) => DnsReplyPlan | Buffer | null | Promise<DnsReplyPlan | Buffer | null>;

export interface TestDnsServer {
  host: string;
  port: number;
  tlsPort: number | null;
  queries: SeenQuery[];
  /** TCP/TLS connections accepted so far. */
  connections: number;
  /** Closes every TCP/TLS connection from the server side; the listeners stay. */
  dropConnections(): void;
  /** Stops the server (idempotent). */
  close(): Promise<void>;
}

function plan(reply: DnsReplyPlan | Buffer | null): DnsReplyPlan {
  if (reply === null) return { messages: [] };
  if (Buffer.isBuffer(reply)) return { messages: [reply] };
  return reply;
}

function frame(b: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length, 0);
  return Buffer.concat([len, b]);
}

export async function startDnsServer(
  handler: DnsHandler,
  options: { tls?: { cert: string; key: string }; host?: string } = {},
): Promise<TestDnsServer> {
  const host = options.host ?? '127.0.0.1';
  const type = net.isIPv6(host) ? 'udp6' : 'udp4';
  const queries: SeenQuery[] = [];
  let udp = dgram.createSocket(type);
  const other = dgram.createSocket(type);
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };

  const streamHandler = (transport: 'tcp' | 'tls') => (socket: net.Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        const raw = pending.subarray(2, 2 + pending.readUInt16BE(0));
        pending = pending.subarray(2 + raw.length);
        const q: SeenQuery = {
          transport,
          ...parseQuery(raw),
          raw,
          from: `${socket.remoteAddress}:${socket.remotePort}`,
        };
        queries.push(q);
        void (async () => {
          const p = plan(await handler(q));
          if (p.delayMs) await sleep(p.delayMs);
          for (const m of p.messages) if (!socket.destroyed) socket.write(frame(m));
        })();
      }
    });
  };

  const onMessage = (raw: Buffer, rinfo: dgram.RemoteInfo) => {
    const q: SeenQuery = {
      transport: 'udp',
      ...parseQuery(raw),
      raw,
      from: `${rinfo.address}:${rinfo.port}`,
    };
    queries.push(q);
    void (async () => {
      const p = plan(await handler(q));
      if (p.delayMs) await sleep(p.delayMs);
      for (const m of p.messages) (p.fromOtherPort ? other : udp).send(m, rinfo.port, rinfo.address);
    })();
  };
  udp.on('message', onMessage);
  const tcp = net.createServer(streamHandler('tcp'));
  // One port for UDP and TCP: retry when the TCP side of a free UDP port is taken.
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve) => udp.bind(0, host, resolve));
    port = udp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, host, () => resolve(true));
    });
    if (ok) break;
    // A closed dgram socket cannot bind again: the next attempt takes a new one.
    udp.close();
    udp = dgram.createSocket(type);
    udp.on('message', onMessage);
    if (attempt > 5) throw new Error('no port free for both UDP and TCP');
  }
  await new Promise<void>((resolve) => other.bind(0, host, resolve));
  let tlsServer: tls.Server | null = null;
  let tlsPort: number | null = null;
  if (options.tls) {
    tlsServer = tls.createServer({ cert: options.tls.cert, key: options.tls.key }, streamHandler('tls'));
    await new Promise<void>((resolve) => tlsServer!.listen(0, host, resolve));
    tlsPort = (tlsServer.address() as net.AddressInfo).port;
  }
  let closed = false;
  return {
    host,
    port,
    tlsPort,
    queries,
    get connections() {
      return state.connections;
    },
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => other.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
        tlsServer ? new Promise<void>((r) => tlsServer!.close(() => r())) : Promise.resolve(),
      ]);
    },
  };
}
