// `doq://server[:853]` (docs/api.md section 10): DNS over QUIC, RFC 9250, on
// the library's QUIC transport (net/quic/quic-transport.ts). The certificate
// is verified as for HTTP/3 and any HTTPS connection (quic-tls.ts plans the
// same TLS options, quic-peer-checks.ts makes the checks BoringSSL does not).
// One QUIC connection (ALPN `doq`) is kept alive and carries every query,
// each on its own client-initiated bidirectional stream: the 2-byte length,
// the message with ID 0 (section 4.2.1: the stream matches query and
// answer), FIN. The answer is the one framed message the server sends before
// its FIN. A stream whose frame lies about its length, an answer with a
// non-zero ID, or more than one message on a stream is a protocol error
// (section 4.3.3): the connection is closed with DOQ_PROTOCOL_ERROR. A query
// that times out or is abandoned resets its stream (DOQ_REQUEST_CANCELLED).
// When the connection ends (the server closed it, the idle timeout), the
// next query opens a new one; a query caught by the close of a reused
// connection is sent again once. Queries beyond the server's stream limit
// wait for room. The idle connection does not hold the process open. Where
// the QUIC binding cannot load, every query fails with a
// NameResolutionError that names the reason, and the resolver reports
// itself unavailable so a list moves on.

import { promises as dnsPromises } from 'node:dns';
import net from 'node:net';
import { debug } from '../debug.js';
import { LocationValueError } from '../errors.js';
import { loadQuicTransport, type TransportLoad } from '../net/quic/quic-loader.js';
import { postHandshakeChecks } from '../net/quic/quic-peer-checks.js';
import { planQuicTls, quicTlsUnavailable } from '../net/quic/quic-tls.js';
import type { QuicCloseInfo, QuicConnection, QuicStream } from '../net/quic/quic-transport.js';
import type { TlsOptions } from '../net/tls-options.js';
import type { QueryCancel } from './cancel.js';
import { mismatch } from './answer.js';
import { decodeMessage, type Message } from './message.js';
import type { OutgoingQuery, QueryResolverOptions } from './query-resolver.js';
import { ServerQueryResolver } from './server-endpoint.js';
import { frameMessage } from './tcp-framing.js';

/** RFC 9250 section 4.3: the DoQ error codes. */
export const DoqError = {
  NO_ERROR: 0x0,
  INTERNAL_ERROR: 0x1,
  PROTOCOL_ERROR: 0x2,
  REQUEST_CANCELLED: 0x3,
  EXCESSIVE_LOAD: 0x4,
  UNSPECIFIED_ERROR: 0x5,
} as const;

const ERROR_NAMES: Record<number, string> = {
  0x0: 'DOQ_NO_ERROR',
  0x1: 'DOQ_INTERNAL_ERROR',
  0x2: 'DOQ_PROTOCOL_ERROR',
  0x3: 'DOQ_REQUEST_CANCELLED',
  0x4: 'DOQ_EXCESSIVE_LOAD',
  0x5: 'DOQ_UNSPECIFIED_ERROR',
};

function errorName(code: number): string {
  return ERROR_NAMES[code] ?? `error 0x${code.toString(16)}`;
}

/** The largest stream content: a 2-byte length and a message of at most 65,535 bytes. */
const MAX_STREAM_BYTES = 2 + 0xffff;

export interface QuicResolverOptions extends QueryResolverOptions {
  /** The server: an IP address, or a name (resolved through the system, and the name checked in its certificate). */
  server: string;
  /** Default 853 (RFC 9250 section 4.1.1). */
  port?: number;
  sourceAddress?: string | [string, number] | null;
  /** Certificate options, as on an HTTPS connection; `serverHostname` sets SNI and the name checked. */
  tls?: TlsOptions;
  /** @internal The QUIC transport (tests); default: the one this process can load. */
  loadTransport?: () => Promise<TransportLoad>;
}

/** What the queries of one QUIC connection share. */
interface DoqConnection {
  quic: QuicConnection;
  /** Queries with an open stream, by stream. */
  inFlight: Map<QuicStream, (err: Error) => void>;
  /** Queries waiting for the server to allow another stream. */
  waiting: Array<() => void>;
}

/** An error that ended a connection the query was on: worth one more try on a fresh one. */
function connectionClosed(message: string): Error {
  return Object.assign(new Error(message), { connectionClosed: true });
}

function describeClose(info: QuicCloseInfo): string {
  if (info.error) return `the QUIC connection failed: ${info.error.message}`;
  if (info.by === 'idle') return 'the QUIC connection was closed after its idle timeout';
  const code = info.isApp ? errorName(info.code) : `transport error 0x${info.code.toString(16)}`;
  const who = info.by === 'peer' ? 'the server closed the QUIC connection' : 'the QUIC connection was closed';
  return `${who} (${code}${info.reason ? `: ${info.reason}` : ''})`;
}

export class QuicResolver extends ServerQueryResolver {
  readonly tlsOptions: TlsOptions;
  private readonly loadTransport: () => Promise<TransportLoad>;
  private connecting: Promise<DoqConnection> | null = null;
  private current: DoqConnection | null = null;
  /** Why the QUIC transport cannot be used, once known. */
  private unavailable: string | null = null;
  /** QUIC connections opened so far (one is reused while it lives). */
  connectionsOpened = 0;

  constructor(options: QuicResolverOptions) {
    super(options, 'doq', 853);
    this.tlsOptions = { ...(options.tls ?? {}) };
    this.loadTransport = options.loadTransport ?? loadQuicTransport;
    // Options QUIC cannot honour are known now: say so at construction.
    const why = quicTlsUnavailable(this.tlsOptions);
    if (why !== null)
      throw new LocationValueError(`${this.describe()}: DNS over QUIC is unavailable: ${why}`);
  }

  /** RFC 9250 section 5.4: queries padded as over TLS (RFC 8467). */
  protected override paddingBlock(): number {
    return 128;
  }

  /** RFC 9250 section 4.2.1: the message ID is always 0. */
  protected override newQueryId(): number {
    return 0;
  }

  /** False once closed, or once the QUIC transport is known not to load here. */
  override isAvailable(): boolean {
    return super.isAvailable() && this.unavailable === null;
  }

  override async close(): Promise<void> {
    await super.close();
    const c = this.current;
    this.current = null;
    if (c !== null && !c.quic.isClosed) c.quic.close(DoqError.NO_ERROR, '');
  }

  protected exchange(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    const reused = this.current !== null && !this.current.quic.isClosed;
    return this.sendOnceMore(reused, query, cancel, (q, c) => this.send(q, c));
  }

  private async send(query: OutgoingQuery, cancel: QueryCancel): Promise<Message> {
    const conn = await this.connection(cancel);
    const stream = await this.openStream(conn, cancel);
    return new Promise<Message>((resolve, reject) => {
      if (cancel.aborted) {
        stream.reset(DoqError.REQUEST_CANCELLED);
        this.release(conn);
        return reject(cancel.reason);
      }
      const chunks: Buffer[] = [];
      let received = 0;
      let settled = false;
      const finish = (err: Error | null, m?: Message) => {
        if (settled) return;
        settled = true;
        conn.inFlight.delete(stream);
        cancel.off(onAbort);
        this.release(conn);
        if (err === null) resolve(m!);
        else reject(err);
      };
      const onAbort = (reason: unknown) => {
        stream.reset(DoqError.REQUEST_CANCELLED);
        finish(reason as Error);
      };
      const protocolError = (why: string) => {
        debug('dns %s: protocol error: %s', this.describe(), why);
        if (!conn.quic.isClosed) conn.quic.close(DoqError.PROTOCOL_ERROR, why);
        finish(new Error(`protocol error (DOQ_PROTOCOL_ERROR): ${why}`));
      };
      stream.setHandlers({
        onData: (chunk) => {
          if (settled) return;
          received += chunk.length;
          if (received > MAX_STREAM_BYTES)
            return protocolError('the answer stream is longer than one message');
          chunks.push(chunk);
        },
        onEnd: () => {
          if (settled) return;
          const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          if (bytes.length < 2) return protocolError('the server ended the stream without an answer');
          const length = bytes.readUInt16BE(0);
          if (bytes.length - 2 < length) {
            return protocolError(
              `the stream ended after ${bytes.length - 2} of the ${length} bytes its length prefix announced`,
            );
          }
          if (bytes.length - 2 > length) {
            return protocolError(`the stream carries ${bytes.length - 2 - length} bytes after the answer`);
          }
          const message = bytes.subarray(2);
          const id = message.length >= 2 ? message.readUInt16BE(0) : 0;
          if (id !== 0) return protocolError(`the answer has message ID ${id}, not 0`);
          // The stream carries its one answer: one that does not fit fails the query (nothing else will come).
          let m: Message;
          try {
            m = decodeMessage(message);
          } catch (err) {
            return finish(new Error(`the answer cannot be decoded: ${(err as Error).message}`));
          }
          const why = mismatch(query, m);
          if (why !== null) return finish(new Error(`the answer does not match the query: ${why}`));
          finish(null, m);
        },
        onReset: (code) => {
          if (code === -1) {
            finish(connectionClosed('the QUIC connection closed before the answer'));
          } else {
            finish(new Error(`the server reset the query's stream (${errorName(code)})`));
          }
        },
        onStopSending: (code) => {
          finish(new Error(`the server stopped the query's stream (${errorName(code)})`));
        },
        onDrain: () => {},
      });
      cancel.on(onAbort);
      conn.inFlight.set(stream, (err) => finish(err));
      conn.quic.ref();
      stream.end(frameMessage(query.bytes));
    });
  }

  /** A new stream, once the server allows one more (its MAX_STREAMS limit). */
  private openStream(conn: DoqConnection, cancel: QueryCancel): Promise<QuicStream> {
    const open = (): QuicStream => {
      if (conn.quic.isClosed) throw connectionClosed('the QUIC connection closed');
      try {
        return conn.quic.openBidiStream();
      } catch (err) {
        throw connectionClosed((err as Error).message);
      }
    };
    if (cancel.aborted) return Promise.reject(cancel.reason);
    // Checked and opened in one go: concurrent queries must not all see the same last stream.
    if (conn.quic.isClosed || (conn.waiting.length === 0 && conn.quic.bidiStreamsLeft > 0)) {
      try {
        return Promise.resolve(open());
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<QuicStream>((resolve, reject) => {
      const go = () => {
        cancel.off(onAbort);
        try {
          resolve(open());
        } catch (err) {
          reject(err);
        }
      };
      const onAbort = (reason: unknown) => {
        const i = conn.waiting.indexOf(go);
        if (i !== -1) conn.waiting.splice(i, 1);
        this.release(conn);
        reject(reason);
      };
      cancel.on(onAbort);
      conn.waiting.push(go);
      conn.quic.ref();
    });
  }

  /** Lets the connection stop holding the process once nothing waits on it. */
  private release(conn: DoqConnection): void {
    if (conn.inFlight.size === 0 && conn.waiting.length === 0 && !conn.quic.isClosed) conn.quic.unref();
  }

  private connection(cancel: QueryCancel): Promise<DoqConnection> {
    const c = this.current;
    if (c !== null && !c.quic.isClosed) return Promise.resolve(c);
    this.connecting ??= this.startAttempt((attempt) => this.open(attempt)).finally(() => {
      this.connecting = null;
    });
    return this.joinAttempt(this.connecting, cancel);
  }

  private async open(cancel: QueryCancel): Promise<DoqConnection> {
    const load = await this.loadTransport();
    if (load.transport === null) {
      this.unavailable = load.reason;
      throw new Error(`DNS over QUIC is unavailable: ${load.reason}`);
    }
    const tls = planQuicTls(this.server, this.tlsOptions);
    let address = this.server;
    let family: 4 | 6 = net.isIP(this.server) === 6 ? 6 : 4;
    if (net.isIP(this.server) === 0) {
      const found = await dnsPromises.lookup(this.server);
      address = found.address;
      family = found.family === 6 ? 6 : 4;
    }
    const label = this.describe();
    const quic = await load.transport.connect({
      address,
      family,
      port: this.port,
      localAddress: this.sourceAddress?.[0] ?? null,
      localPort: this.sourceAddress?.[1] ?? 0,
      serverName: tls.serverName,
      alpn: ['doq'],
      verifyPeer: tls.verifyPeer,
      caPem: tls.caPem,
      certChainPem: tls.certChainPem,
      keyPem: tls.keyPem,
      keylogFile: tls.keylogFile,
      timeout: this.timeout,
      signal: cancel.signal,
      label,
    });
    try {
      postHandshakeChecks(quic.peerCertificates()[0] ?? null, tls, label);
      if (quic.alpn !== 'doq') throw new Error(`the server negotiated ALPN '${quic.alpn}', not 'doq'`);
    } catch (err) {
      quic.close(DoqError.PROTOCOL_ERROR, 'refused by the client');
      throw err;
    }
    this.connectionsOpened++;
    debug('dns %s: QUIC connection open from %s:%d', label, quic.localAddress, quic.localPort);
    const conn: DoqConnection = { quic, inFlight: new Map(), waiting: [] };
    quic.onCapacity = () => {
      while (conn.waiting.length > 0 && quic.bidiStreamsLeft > 0) conn.waiting.shift()!();
    };
    // DoQ servers open no streams (RFC 9250 section 4.2): anything they open is ignored.
    quic.onStream = (stream) => stream.reset(DoqError.PROTOCOL_ERROR);
    quic.onClose = (info) => {
      if (this.current === conn) this.current = null;
      const why = describeClose(info);
      debug('dns %s: %s', label, why);
      for (const fail of [...conn.inFlight.values()]) fail(connectionClosed(why));
      for (const go of conn.waiting.splice(0)) go();
    };
    this.current = conn;
    if (this.closed) {
      // close() came while connecting.
      quic.close(DoqError.NO_ERROR, '');
      throw new Error(`${label} was closed`);
    }
    quic.unref();
    return conn;
  }
}
