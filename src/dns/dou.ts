// `dou://server[:port]` (docs/api.md section 10): DNS over UDP (RFC 1035), with
// EDNS(0) advertising 1232 bytes, and over TCP (RFC 7766) when the answer
// comes back truncated. Each query gets a fresh UDP socket - a random source
// port from the kernel - and a random ID (RFC 5452); the socket is connected
// to the server, so the kernel drops datagrams from anyone else, and the
// source is checked again here. A datagram that does not decode or does not
// answer the query (ID, question) is dropped and the wait goes on: spoofed
// or late answers never win. A lost datagram is sent again after a second.
// A server given by name is resolved once through the system.

import dgram from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { debug } from '../debug.js';
import { acceptResponse } from './answer.js';
import type { Message } from './message.js';
import { type OutgoingQuery, QueryResolver, type QueryResolverOptions } from './query-resolver.js';
import { frameMessage, readFramedMessages } from './tcp-framing.js';

export interface PlainResolverOptions extends QueryResolverOptions {
  /** The server: an IP address, or a name resolved through the system. */
  server: string;
  /** Default 53. */
  port?: number;
  /** Local address (and port) to send from: urllib3-future's source_address. */
  sourceAddress?: string | [string, number] | null;
}

const RESEND_AFTER_MS = 1000;

export class PlainResolver extends QueryResolver {
  readonly server: string;
  readonly port: number;
  readonly sourceAddress: [string, number] | null;
  private address: Promise<string> | null = null;

  constructor(options: PlainResolverOptions) {
    super(options);
    this.server = options.server.replace(/^\[(.*)\]$/, '$1');
    this.port = options.port ?? 53;
    const src = options.sourceAddress ?? null;
    this.sourceAddress = src === null ? null : typeof src === 'string' ? [src, 0] : src;
  }

  describe(): string {
    return `dou://${net.isIPv6(this.server) ? `[${this.server}]` : this.server}:${this.port}`;
  }

  protected serverAddress(): Promise<string> {
    if (net.isIP(this.server) !== 0) return Promise.resolve(this.server);
    this.address ??= dnsPromises.lookup(this.server).then(
      (a) => a.address,
      (err) => {
        this.address = null;
        throw err;
      },
    );
    return this.address;
  }

  protected async exchange(query: OutgoingQuery, signal: AbortSignal): Promise<Message> {
    const address = await this.serverAddress();
    const answer = await this.udpExchange(query, address, signal);
    if (!answer.truncated) return answer;
    debug('dns answer for %s id %d truncated, asking again over TCP', query.name, query.id);
    return this.tcpExchange(query, address, signal);
  }

  private udpExchange(query: OutgoingQuery, address: string, signal: AbortSignal): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const socket = dgram.createSocket({ type: net.isIPv6(address) ? 'udp6' : 'udp4' });
      let resend: NodeJS.Timeout | null = null;
      const finish = (err: unknown, m?: Message) => {
        if (resend !== null) clearInterval(resend);
        signal.removeEventListener('abort', onAbort);
        socket.close();
        if (m) resolve(m);
        else reject(err);
      };
      const onAbort = () => finish(signal.reason);
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (err) => finish(err));
      socket.on('message', (msg, rinfo) => {
        const from = `${rinfo.address}:${rinfo.port}`;
        if (rinfo.address !== address || rinfo.port !== this.port) {
          debug('dns dropped a datagram from %s (queried %s)', from, this.describe());
          return;
        }
        const m = acceptResponse(query, msg, from);
        if (m !== null) finish(null, m);
      });
      const send = () => socket.send(query.bytes, (err) => err && finish(err));
      const start = () => {
        socket.connect(this.port, address, () => {
          send();
          resend = setInterval(send, RESEND_AFTER_MS);
        });
      };
      if (this.sourceAddress !== null) {
        socket.bind({ address: this.sourceAddress[0], port: this.sourceAddress[1] }, start);
      } else {
        start();
      }
    });
  }

  private tcpExchange(query: OutgoingQuery, address: string, signal: AbortSignal): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const opts: net.NetConnectOpts = { host: address, port: this.port };
      if (this.sourceAddress !== null) opts.localAddress = this.sourceAddress[0];
      const socket = net.connect(opts);
      const finish = (err: unknown, m?: Message) => {
        signal.removeEventListener('abort', onAbort);
        socket.destroy();
        if (m) resolve(m);
        else reject(err);
      };
      const onAbort = () => finish(signal.reason);
      if (signal.aborted) {
        socket.destroy();
        return reject(signal.reason);
      }
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', (err) => finish(err));
      socket.on('close', () => finish(new Error('the server closed the TCP connection without an answer')));
      socket.on('connect', () => socket.write(frameMessage(query.bytes)));
      readFramedMessages(socket, (frame) => {
        const m = acceptResponse(query, frame, `${address}:${this.port} (TCP)`);
        if (m !== null) finish(null, m);
      });
    });
  }
}
