// An in-process DNS over QUIC server (RFC 9250) for the doq:// tests, built
// on the server side of the same quiche binding the library drives as a
// client: one UDP socket on loopback, one quiche connection per client
// address, ALPN `doq`, a certificate from the test CA. Each query arrives on
// its own client-initiated bidirectional stream (2-byte length, the message,
// FIN); a handler decides what happens to it, so a test can script what a
// well-behaved server never does: silence, a frame whose length lies, a
// non-zero message ID, a reset stream, a closed connection.

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { type HostPort, loadQuicheBinding, type QuicheConfig } from '../../src/net/quic/quiche-binding.js';
import { buildResponse, parseQuery, T } from './dns-wire.js';

/** The part of the binding's server side used here (the library declares only its client side). */
interface ServerBinding {
  MAX_CONN_ID_LEN: number;
  Config: {
    withBoringSslCtx(
      verifyPeer: boolean,
      verifyAllowFail: boolean,
      ca: Uint8Array | null,
      key: Uint8Array[] | null,
      cert: Uint8Array[] | null,
      sigalgs: string | null,
    ): QuicheConfig;
  };
  Connection: {
    accept(
      scid: Uint8Array,
      odcid: Uint8Array | null,
      local: HostPort,
      remote: HostPort,
      config: QuicheConfig,
    ): NativeConnection;
  };
  Header: { fromSlice(data: Uint8Array, dcidLen: number): { ty: number } };
  Type: { Initial: number };
}

interface NativeConnection {
  recv(data: Uint8Array, info: { from: HostPort; to: HostPort }): number;
  send(out: Uint8Array): [number, { to: HostPort }] | null;
  readable(): Iterable<number>;
  streamRecv(id: number, out: Uint8Array): [number, boolean] | null;
  streamSend(id: number, data: Uint8Array, fin: boolean): number | null;
  streamShutdown(id: number, direction: 0 | 1, code: number): void;
  close(app: boolean, code: number, reason: Uint8Array): void;
  timeout(): number | null;
  onTimeout(): void;
  isEstablished(): boolean;
  isClosed(): boolean;
  applicationProto(): Uint8Array;
  peerError(): { isApp: boolean; errorCode: number } | null;
}

/** A query as the server read it off its stream. */
export interface DoqQuery {
  /** The QUIC stream it came on. */
  streamId: number;
  /** The DNS message ID the client sent (RFC 9250: always 0). */
  id: number;
  name: string;
  type: number;
  /** The message without its length prefix. */
  raw: Buffer;
  /** The 2-byte length prefix matched the message and FIN followed it. */
  wellFramed: boolean;
  /** Which connection (0, 1, ... in accept order). */
  connection: number;
  /** The client's address:port. */
  from: string;
}

/** What the server does with a query. */
export type DoqReply =
  /** The answer from the table (A/AAAA), or the given message, framed and followed by FIN. */
  | { kind: 'answer'; message?: Buffer; delayMs?: number }
  /** Nothing at all: the stream stays open. */
  | { kind: 'silence' }
  /** A length prefix larger than what follows, then FIN. */
  | { kind: 'short-frame' }
  /** The answer with its message ID set to this non-zero value. */
  | { kind: 'nonzero-id'; id: number }
  /** These bytes as they are (no length prefix added), then FIN. */
  | { kind: 'raw'; bytes: Buffer }
  /** RESET_STREAM (and STOP_SENDING) with this DoQ error code. */
  | { kind: 'reset'; code: number }
  /** CONNECTION_CLOSE with this DoQ error code (DOQ_NO_ERROR: 0). */
  | { kind: 'close'; code: number };

export type DoqHandler = (q: DoqQuery) => DoqReply;

export interface TestDoqServer {
  host: string;
  port: number;
  /** Queries received, in order. */
  queries: DoqQuery[];
  /** QUIC connections accepted so far. */
  connections: number;
  /** The ALPN each accepted connection negotiated. */
  alpns: string[];
  /** Closes every open connection (CONNECTION_CLOSE, DOQ_NO_ERROR); the socket stays. */
  closeConnections(): void;
  /** How the clients closed their connections: DoQ error codes, in order. */
  clientCloseCodes: number[];
  /** Answers that could not be sent because the client had stopped their stream (STOP_SENDING). */
  stoppedAnswers: number;
  /** Stops the server (idempotent). */
  close(): Promise<void>;
}

export interface DoqServerOptions {
  certPem: string;
  keyPem: string;
  /** Name -> addresses (IPv4 and IPv6 mixed); names not here are NXDOMAIN. */
  table?: Record<string, string[]>;
  handler?: DoqHandler;
  /** Concurrent bidirectional streams a client may open (default 100). */
  maxStreams?: number;
  /** The server's idle timeout (default 30 s). */
  idleTimeoutMs?: number;
}

function frame(message: Buffer): Buffer {
  const out = Buffer.alloc(2 + message.length);
  out.writeUInt16BE(message.length, 0);
  message.copy(out, 2);
  return out;
}

/** The answer the table gives to `q` (with message ID `id`). */
export function tableAnswer(
  table: Record<string, string[]>,
  q: { name: string; type: number },
  id = 0,
): Buffer {
  const addresses = table[q.name.toLowerCase()];
  if (addresses === undefined) return buildResponse({ id, question: q, rcode: 3 });
  const v6 = q.type === T.AAAA;
  const answers = addresses
    .filter((a) => a.includes(':') === v6)
    .map((a) => (v6 ? { name: q.name, type: T.AAAA, aaaa: a } : { name: q.name, type: T.A, a }));
  return buildResponse({ id, question: q, answers });
}

interface ClientConnection {
  index: number;
  native: NativeConnection;
  remote: HostPort;
  /** Bytes read so far per stream. */
  streams: Map<number, Buffer>;
  timer: NodeJS.Timeout | null;
  announced: boolean;
}

export async function startDoqServer(options: DoqServerOptions): Promise<TestDoqServer> {
  const load = await loadQuicheBinding();
  if (load.binding === null) throw new Error(`no QUIC binding for the DoQ test server: ${load.reason}`);
  const binding = load.binding as unknown as ServerBinding;
  const table = options.table ?? {};
  const handler: DoqHandler = options.handler ?? (() => ({ kind: 'answer' }));

  const config = binding.Config.withBoringSslCtx(
    false,
    false,
    null,
    [Buffer.from(options.keyPem)],
    [Buffer.from(options.certPem)],
    null,
  );
  config.setApplicationProtos(['doq']);
  config.setMaxIdleTimeout(options.idleTimeoutMs ?? 30_000);
  config.setInitialMaxData(4 * 1024 * 1024);
  config.setInitialMaxStreamDataBidiLocal(256 * 1024);
  config.setInitialMaxStreamDataBidiRemote(256 * 1024);
  config.setInitialMaxStreamDataUni(0);
  config.setInitialMaxStreamsBidi(options.maxStreams ?? 100);
  config.setInitialMaxStreamsUni(0);
  config.setDisableActiveMigration(true);

  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const local: HostPort = { host: '127.0.0.1', port: socket.address().port };
  const clients = new Map<string, ClientConnection>();
  const scratch = Buffer.allocUnsafe(65536);
  let closed = false;

  const server: TestDoqServer = {
    host: local.host,
    port: local.port,
    queries: [],
    connections: 0,
    alpns: [],
    clientCloseCodes: [],
    stoppedAnswers: 0,
    closeConnections() {
      for (const c of clients.values()) {
        try {
          c.native.close(true, 0, Buffer.from('closed by the test'));
        } catch {
          // already closing
        }
        flush(c);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of clients.values()) {
        if (c.timer) clearTimeout(c.timer);
        try {
          c.native.close(true, 0, Buffer.alloc(0));
          flush(c);
        } catch {
          // already closing
        }
      }
      clients.clear();
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };

  function flush(c: ClientConnection): void {
    for (;;) {
      const out = Buffer.allocUnsafe(1500);
      let r: [number, { to: HostPort }] | null;
      try {
        r = c.native.send(out);
      } catch {
        break;
      }
      if (r === null) break;
      if (!closed) socket.send(out.subarray(0, r[0]), c.remote.port, c.remote.host);
    }
    if (c.timer) clearTimeout(c.timer);
    c.timer = null;
    const t = c.native.timeout();
    if (t !== null && !closed) {
      c.timer = setTimeout(() => {
        c.timer = null;
        c.native.onTimeout();
        flush(c);
      }, t + 1);
    }
    if (c.native.isClosed()) {
      if (c.timer) clearTimeout(c.timer);
      const peer = c.native.peerError();
      if (peer?.isApp) server.clientCloseCodes.push(peer.errorCode);
      clients.delete(`${c.remote.host}:${c.remote.port}`);
    }
  }

  function reply(c: ClientConnection, q: DoqQuery): void {
    const plan = handler(q);
    const id = q.streamId;
    const send = (bytes: Buffer, fin: boolean) => {
      if (c.native.isClosed()) return;
      let sent: number | null = null;
      try {
        sent = c.native.streamSend(id, bytes, fin);
      } catch {
        // stopped: counted below
      }
      // quiche forgets a stream the client stopped (STOP_SENDING): nothing goes out on it.
      if (!sent) server.stoppedAnswers++;
      flush(c);
    };
    switch (plan.kind) {
      case 'answer': {
        const message = plan.message ?? tableAnswer(table, q);
        if (plan.delayMs) setTimeout(() => send(frame(message), true), plan.delayMs);
        else send(frame(message), true);
        return;
      }
      case 'silence':
        return;
      case 'short-frame': {
        const f = frame(tableAnswer(table, q));
        f.writeUInt16BE(f.length + 20, 0);
        send(f, true);
        return;
      }
      case 'nonzero-id':
        send(frame(tableAnswer(table, q, plan.id)), true);
        return;
      case 'raw':
        send(plan.bytes, true);
        return;
      case 'reset':
        c.native.streamShutdown(id, 1, plan.code);
        try {
          c.native.streamShutdown(id, 0, plan.code);
        } catch {
          // the read side is finished already
        }
        flush(c);
        return;
      case 'close':
        c.native.close(true, plan.code, Buffer.from('scripted close'));
        flush(c);
        return;
    }
  }

  function readStreams(c: ClientConnection): void {
    for (const id of c.native.readable()) {
      for (;;) {
        let r: [number, boolean] | null;
        try {
          r = c.native.streamRecv(id, scratch);
        } catch {
          c.streams.delete(id);
          break;
        }
        if (r === null) break;
        const [n, fin] = r;
        const sofar = c.streams.get(id) ?? Buffer.alloc(0);
        const bytes = Buffer.concat([sofar, scratch.subarray(0, n)]);
        c.streams.set(id, bytes);
        if (!fin) {
          if (n === 0) break;
          continue;
        }
        c.streams.delete(id);
        const len = bytes.length >= 2 ? bytes.readUInt16BE(0) : -1;
        const raw = Buffer.from(bytes.subarray(2));
        let parsed = { id: -1, name: '', type: 0 };
        try {
          parsed = parseQuery(raw);
        } catch {
          // left as unparsed: the test sees id -1
        }
        const q: DoqQuery = {
          streamId: id,
          ...parsed,
          raw,
          wellFramed: len === raw.length,
          connection: c.index,
          from: `${c.remote.host}:${c.remote.port}`,
        };
        server.queries.push(q);
        reply(c, q);
        break;
      }
    }
  }

  socket.on('message', (msg, rinfo) => {
    if (closed) return;
    const key = `${rinfo.address}:${rinfo.port}`;
    let c = clients.get(key);
    if (c === undefined) {
      let header: { ty: number };
      try {
        header = binding.Header.fromSlice(msg, binding.MAX_CONN_ID_LEN);
      } catch {
        return;
      }
      if (header.ty !== binding.Type.Initial) return;
      const remote = { host: rinfo.address, port: rinfo.port };
      const native = binding.Connection.accept(
        randomBytes(binding.MAX_CONN_ID_LEN),
        null,
        local,
        remote,
        config,
      );
      c = { index: server.connections++, native, remote, streams: new Map(), timer: null, announced: false };
      clients.set(key, c);
    }
    try {
      c.native.recv(msg, { from: c.remote, to: local });
    } catch {
      // quiche closes the connection itself; flush sends the close
    }
    if (c.native.isEstablished()) {
      if (!c.announced) {
        c.announced = true;
        server.alpns.push(Buffer.from(c.native.applicationProto()).toString('latin1'));
      }
      readStreams(c);
    }
    flush(c);
  });
  socket.on('error', () => {});
  socket.unref();
  return server;
}
