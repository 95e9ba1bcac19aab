// `dot://server[:853]` (docs/api.md section 10): DNS over TLS, RFC 7858. The
// certificate is verified as for any HTTPS connection (tls-options.ts: the
// same caCerts, certReqs, client certificates, fingerprints). One connection
// is kept alive and every query is pipelined on it (section 3.4), each with a
// random ID unique among those in flight, padded to 128 bytes (RFC 8467);
// answers are matched by ID, and one whose question does not match its
// query is dropped. When the connection ends (closed or reset), the next
// query opens a new one; a query caught by the end of a connection it reused
// is sent once more on a new one (the server may drop an idle connection just
// as it goes out), one on the connection opened for it fails. The idle
// connection does not hold the process open.

import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import type tls from 'node:tls';
import { debug } from '../debug.js';
import { upgradeToTls } from '../net/connect.js';
import { checkFingerprint } from '../net/tls-fingerprint.js';
import type { TlsOptions } from '../net/tls-options.js';
import { planTls } from '../net/tls-plan.js';
import type { QueryCancel } from './cancel.js';
import { acceptResponse } from './answer.js';
import type { Message } from './message.js';
import {
  type OutgoingQuery,
  type QueryResolverOptions,
  randomQueryId,
  withFreeId,
} from './query-resolver.js';
import { ServerQueryResolver } from './server-endpoint.js';
import { frameMessage, readFramedMessages } from './tcp-framing.js';

export interface TLSResolverOptions extends QueryResolverOptions {
  /** The server: an IP address, or a name (resolved through the system, and the name checked in its certificate). */
  server: string;
  /** Default 853. */
  port?: number;
  sourceAddress?: string | [string, number] | null;
  /** Certificate options, as on an HTTPS connection; `serverHostname` sets SNI and the name checked. */
  tls?: TlsOptions;
}

interface Pending {
  query: OutgoingQuery;
  resolve(m: Message): void;
  reject(err: unknown): void;
}

interface Connection {
  socket: tls.TLSSocket;
  pending: Map<number, Pending>;
}

export class TLSResolver extends ServerQueryResolver {
  readonly tlsOptions: TlsOptions;
  private connecting: Promise<Connection> | null = null;
  private current: Connection | null = null;
  /** TLS connections opened so far (one is reused while it lives). */
  connectionsOpened = 0;

  constructor(options: TLSResolverOptions) {
    super(options, 'dot', 853);
    this.tlsOptions = { ...(options.tls ?? {}) };
  }

  protected override paddingBlock(): number {
    return 128;
  }

  protected override newQueryId(): number {
    const inFlight = this.current?.pending;
    for (;;) {
      const id = randomQueryId();
      if (inFlight === undefined || !inFlight.has(id)) return id;
    }
  }

  override async close(): Promise<void> {
    await super.close();
    this.current?.socket.destroy();
    this.current = null;
  }

  protected exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    const reused = this.current !== null && !this.current.socket.destroyed;
    return this.sendOnceMore(reused, query, cancel, (q, c) => this.send(q, c));
  }

  private async send(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    const conn = await this.connection(cancel);
    // A query whose ID was drawn while the connection was opening (nothing to
    // check against then) may clash with one already on it: it goes under another.
    const q = conn.pending.has(query.id) ? withFreeId(query, conn.pending) : query;
    return new Promise<Message>((resolve, reject) => {
      const done = () => {
        conn.pending.delete(q.id);
        cancel.off(onAbort);
        if (conn.pending.size === 0) conn.socket.unref();
      };
      const onAbort = (reason: unknown) => {
        done();
        reject(reason);
      };
      if (cancel.aborted) return reject(cancel.reason);
      cancel.on(onAbort);
      conn.pending.set(q.id, {
        query: q,
        resolve: (m) => {
          done();
          resolve(m);
        },
        reject: (err) => {
          done();
          reject(err);
        },
      });
      conn.socket.ref();
      conn.socket.write(frameMessage(q.bytes));
    });
  }

  private connection(cancel: QueryCancel): Promise<Connection> {
    const c = this.current;
    if (c !== null && !c.socket.destroyed && c.socket.writable) return Promise.resolve(c);
    this.connecting ??= this.startAttempt((attempt) => this.open(attempt)).finally(() => {
      this.connecting = null;
    });
    return this.joinAttempt(this.connecting, cancel);
  }

  private async open(cancel: QueryCancel): Promise<Connection> {
    const address =
      net.isIP(this.server) !== 0 ? this.server : (await dnsPromises.lookup(this.server)).address;
    // Aborted (timeout, close()) while the server's name was looked up: an
    // 'abort' listener added now would never fire, and the connection would be
    // made, and kept, for nobody.
    if (cancel.aborted) throw cancel.reason;
    const tcp = await new Promise<net.Socket>((resolve, reject) => {
      const opts: net.NetConnectOpts = { host: address, port: this.port };
      if (this.sourceAddress !== null) opts.localAddress = this.sourceAddress[0];
      const s = net.connect(opts);
      const onAbort = (reason: unknown) => {
        s.destroy();
        reject(reason);
      };
      cancel.on(onAbort);
      s.once('connect', () => {
        cancel.off(onAbort);
        resolve(s);
      });
      s.once('error', (err) => {
        cancel.off(onAbort);
        reject(err);
      });
    });
    const tlsOptions = { alpnProtocols: ['dot'], ...this.tlsOptions };
    let socket: tls.TLSSocket;
    try {
      const plan = planTls(this.server, tlsOptions);
      socket = await upgradeToTls(tcp, {
        tlsOptions: plan.nodeOptions,
        hostname: this.server,
        port: this.port,
        timeout: this.timeout,
        signal: cancel.signal,
        label: this.describe(),
        minVersion: plan.minVersion,
        maxVersion: plan.maxVersion,
        checkedName: plan.checkedName,
        keylogFile: plan.keylogFile,
      });
      if (plan.fingerprint !== null) {
        checkFingerprint(
          socket.getPeerCertificate()?.raw,
          plan.fingerprint,
          `${this.describe()} (${this.server}:${this.port})`,
        );
      }
    } catch (err) {
      tcp.destroy();
      throw err;
    }
    if (this.closed) {
      socket.destroy();
      throw new Error('the resolver was closed while the query was in flight');
    }
    this.connectionsOpened++;
    debug('dns %s: TLS connection open (%s)', this.describe(), socket.getProtocol());
    const conn: Connection = { socket, pending: new Map() };
    this.current = conn;
    readFramedMessages(socket, (frame) => {
      const id = frame.length >= 2 ? frame.readUInt16BE(0) : -1;
      const p = conn.pending.get(id);
      if (p === undefined) {
        debug('dns %s: dropped an answer with ID %d that no query is waiting for', this.describe(), id);
        return;
      }
      const m = acceptResponse(p.query, frame, this.describe());
      if (m !== null) p.resolve(m);
    });
    const fail = (err: Error) => {
      if (this.current === conn) this.current = null;
      for (const p of [...conn.pending.values()]) p.reject(err);
    };
    // An error on an open connection ends it (a reset from a server dropping
    // it as a query went out): like a close, worth one more try on a new one.
    socket.on('error', (err) => fail(Object.assign(err, { connectionClosed: true })));
    socket.on('close', () =>
      fail(Object.assign(new Error('the server closed the connection'), { connectionClosed: true })),
    );
    socket.unref();
    return conn;
  }
}
