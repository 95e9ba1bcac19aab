// `dou://server[:port]` (docs/api.md section 10): DNS over UDP (RFC 1035), with
// EDNS(0) advertising 1232 bytes, and over TCP (RFC 7766) when the answer
// comes back truncated. The UDP side is a few long-lived sockets with
// random source ports, replaced as they are used, carrying queries with
// random IDs (udp-sockets.ts: RFC 5452's rules, what is dropped, when a
// socket is replaced). A server given by name is resolved once through the
// system.

import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { acceptResponse } from './answer.js';
import type { QueryCancel } from './cancel.js';
import type { Message } from './message.js';
import type { QueryJob } from './query-job.js';
import type { OutgoingQuery, QueryResolverOptions } from './query-resolver.js';
import { ServerQueryResolver } from './server-endpoint.js';
import { frameMessage, readFramedMessages } from './tcp-framing.js';
import { UdpQuerySockets } from './udp-sockets.js';

export interface PlainResolverOptions extends QueryResolverOptions {
  /** The server: an IP address, or a name resolved through the system. */
  server: string;
  /** Default 53. */
  port?: number;
  /** Local address (and port) to send from: urllib3-future's source_address. */
  sourceAddress?: string | [string, number] | null;
  /** UDP sockets kept at once (default 4; one when sourceAddress fixes the port). */
  udpSockets?: number;
  /** Queries one UDP socket carries before a new one (a new source port) takes its place (default 100). */
  udpSocketMaxQueries?: number;
  /** Milliseconds one UDP socket takes new queries for before it is replaced (default 10,000). */
  udpSocketMaxAgeMs?: number;
  /** Queries on the wire at once; more wait their turn (default 64: a burst must not overflow the server). */
  udpMaxInFlight?: number;
}

export class PlainResolver extends ServerQueryResolver {
  private address: Promise<string> | null = null;
  private readonly socketOptions: Pick<
    PlainResolverOptions,
    'udpSockets' | 'udpSocketMaxQueries' | 'udpSocketMaxAgeMs' | 'udpMaxInFlight'
  >;
  /** The UDP sockets, made for the server's address on the first query. */
  private udp: UdpQuerySockets | null = null;

  constructor(options: PlainResolverOptions) {
    super(options, 'dou', 53);
    this.socketOptions = {
      udpSockets: options.udpSockets,
      udpSocketMaxQueries: options.udpSocketMaxQueries,
      udpSocketMaxAgeMs: options.udpSocketMaxAgeMs,
      udpMaxInFlight: options.udpMaxInFlight,
    };
  }

  /** @internal The UDP sockets, or null before the first query (for tests and measurements). */
  get udpSockets(): UdpQuerySockets | null {
    return this.udp;
  }

  override async close(): Promise<void> {
    await super.close();
    this.udp?.close();
    this.udp = null;
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

  /** A job's query goes straight onto the UDP sockets, no promise of its own (query-job.ts). */
  protected override sendJob(job: QueryJob): void {
    if (this.closed) {
      job.failed(new Error('the resolver was closed while the query was in flight'));
      return;
    }
    const udp = this.udp ?? (net.isIP(this.server) !== 0 ? this.sockets(this.server) : null);
    if (udp !== null) udp.submit(job, job, job);
    else super.sendJob(job);
  }

  protected exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    if (this.closed)
      return Promise.reject(new Error('the resolver was closed while the query was in flight'));
    // A server given as an address needs no lookup: its sockets are made at
    // the first query, and no query awaits anything before it is sent.
    const udp = this.udp ?? (net.isIP(this.server) !== 0 ? this.sockets(this.server) : null);
    if (udp !== null) return udp.exchange(query, cancel);
    return this.firstExchange(query, cancel);
  }

  /** The first query to a server given by name: its address is looked up once. */
  private async firstExchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    const address = await this.serverAddress();
    if (this.closed) throw new Error('the resolver was closed while the query was in flight');
    return (this.udp ?? this.sockets(address)).exchange(query, cancel);
  }

  /** The UDP sockets, made once, for the server's address; a truncated answer is asked again over TCP. */
  private sockets(address: string): UdpQuerySockets {
    this.udp = new UdpQuerySockets({
      address,
      port: this.port,
      sourceAddress: this.sourceAddress,
      name: this.describe(),
      size: this.socketOptions.udpSockets,
      maxQueries: this.socketOptions.udpSocketMaxQueries,
      maxAgeMs: this.socketOptions.udpSocketMaxAgeMs,
      maxInFlight: this.socketOptions.udpMaxInFlight,
      onTruncated: (q, c) => this.tcpExchange(q, address, c),
    });
    return this.udp;
  }

  private tcpExchange(query: OutgoingQuery, address: string, cancel: QueryCancel): Promise<Message> {
    return new Promise<Message>((resolve, reject) => {
      const opts: net.NetConnectOpts = { host: address, port: this.port };
      if (this.sourceAddress !== null) opts.localAddress = this.sourceAddress[0];
      const socket = net.connect(opts);
      const finish = (err: unknown, m?: Message) => {
        cancel.off(onAbort);
        socket.destroy();
        if (m) resolve(m);
        else reject(err);
      };
      const onAbort = (reason: unknown) => finish(reason);
      if (cancel.aborted) {
        socket.destroy();
        return reject(cancel.reason);
      }
      cancel.on(onAbort);
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
