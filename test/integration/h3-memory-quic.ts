// An in-memory QUIC connection for HTTP/3 session tests: the client side
// implements the library's QuicConnection interface, the server side is
// scripted by the test through the sans-IO HTTP/3 codec, so responses can be
// shaped (and broken) byte by byte: interim heads, trailers, resets,
// GOAWAY, malformed frames, stream limits. Like the toy protocol's in-memory
// transport, it stands where a real transport stands in the seam; everything
// above it (session, exchange, pool) is the real code.

import type {
  QuicCloseInfo,
  QuicConnection,
  QuicStats,
  QuicStream,
  QuicStreamHandlers,
} from '../../src/net/quic/quic-transport.js';
import { decodeFieldSection } from '../../src/protocol/h3/qpack-decoder.js';
import { FrameReader } from '../../src/protocol/h3/frame-reader.js';
import { encodeFrame, encodeGoaway, encodeSettings } from '../../src/protocol/h3/frames.js';
import { encodeFieldSection } from '../../src/protocol/h3/qpack-encoder.js';
import { encodeVarint } from '../../src/protocol/h3/varint.js';

class MemoryStream implements QuicStream {
  handlers: QuicStreamHandlers | null = null;
  private held: (() => void)[] = [];
  private paused = false;
  private pausedData: (() => void)[] = [];
  writableLength = 0;
  constructor(
    readonly id: number,
    private readonly conn: MemoryQuic,
  ) {}
  setHandlers(h: QuicStreamHandlers): void {
    this.handlers = h;
    for (const f of this.held.splice(0)) f();
  }
  write(data: Buffer): boolean {
    this.conn.clientWrote(this.id, data, false);
    return true;
  }
  end(data?: Buffer): void {
    this.conn.clientWrote(this.id, data ?? Buffer.alloc(0), true);
  }
  reset(code: number): void {
    this.conn.clientReset(this.id, code);
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    for (const f of this.pausedData.splice(0)) f();
  }
  /** Server to client events, held until handlers exist and while paused. */
  emit(f: (h: QuicStreamHandlers) => void): void {
    const run = () => {
      if (this.paused) this.pausedData.push(() => f(this.handlers!));
      else f(this.handlers!);
    };
    if (this.handlers) run();
    else this.held.push(run);
  }
}

/** A request as the scripted server saw it. */
export interface SeenRequest {
  streamId: number;
  fields: string[];
  body: Buffer;
  conn: MemoryQuic;
}

export type Script = (req: SeenRequest, reply: Reply) => void;

/** What a script can do on a request stream. */
export class Reply {
  constructor(
    private readonly conn: MemoryQuic,
    readonly streamId: number,
  ) {}
  head(status: number, fields: string[] = []): this {
    return this.raw(encodeFrame(0x01, encodeFieldSection([':status', String(status), ...fields])));
  }
  data(text: string | Buffer): this {
    return this.raw(encodeFrame(0x00, Buffer.from(text)));
  }
  trailers(fields: string[]): this {
    return this.raw(encodeFrame(0x01, encodeFieldSection(fields)));
  }
  raw(bytes: Buffer): this {
    this.conn.serverSend(this.streamId, bytes);
    return this;
  }
  end(): void {
    this.conn.serverEnd(this.streamId);
  }
  reset(code: number): void {
    this.conn.serverReset(this.streamId, code);
  }
}

export class MemoryQuic implements QuicConnection {
  alpn = 'h3';
  remoteAddress = '127.0.0.1';
  remotePort = 443;
  localAddress = '127.0.0.1';
  localPort = 50000;
  private streamHandler: ((stream: QuicStream) => void) | null = null;
  onClose: ((info: QuicCloseInfo) => void) | null = null;
  onCapacity: (() => void) | null = null;
  isClosed = false;
  /** Whether a finished stream gives its credit back at once (MAX_STREAMS). */
  autoCredit = true;
  /** How the client closed the connection, if it did. */
  closedWith: { code: number; reason: string } | null = null;
  /** Client streams reset, by id, with their codes. */
  readonly resets = new Map<number, number>();
  readonly requests: SeenRequest[] = [];
  private readonly streams = new Map<number, MemoryStream>();
  private readonly pending = new Map<
    number,
    { fields: string[] | null; body: Buffer[]; reader: FrameReader }
  >();
  private nextBidi = 0;
  private nextUni = 2;
  private opened = 0;
  private credit: number;
  private control: MemoryStream | null = null;

  constructor(
    private readonly script: Script,
    readonly peerMaxBidiStreams = 100,
  ) {
    this.credit = peerMaxBidiStreams;
  }

  get onStream(): ((stream: QuicStream) => void) | null {
    return this.streamHandler;
  }

  /** Once someone listens, the server opens its control stream with its SETTINGS, as a real server does. */
  set onStream(handler: ((stream: QuicStream) => void) | null) {
    this.streamHandler = handler;
    if (handler !== null && this.control === null) {
      this.control = this.serverOpenUni(
        Buffer.concat([encodeVarint(0), encodeSettings(new Map([[6, 65536]]))]),
      );
    }
  }

  get bidiStreamsLeft(): number {
    return this.isClosed ? 0 : this.credit - this.opened;
  }

  peerCertificates(): Buffer[] {
    return [];
  }

  openBidiStream(): QuicStream {
    if (this.bidiStreamsLeft <= 0) throw new Error('stream limit');
    this.opened++;
    const s = new MemoryStream(this.nextBidi, this);
    this.nextBidi += 4;
    this.streams.set(s.id, s);
    const reader = new FrameReader(
      {
        onDataFrame: () => {},
        onData: (c) => this.pending.get(s.id)!.body.push(Buffer.from(c)),
        onFrame: (type, payload) => {
          const p = this.pending.get(s.id)!;
          if (type === 0x01 && p.fields === null) p.fields = decodeFieldSection(payload, 1 << 20);
        },
        tooLarge: () => new Error('too large'),
      },
      () => 1 << 20,
    );
    this.pending.set(s.id, { fields: null, body: [], reader });
    return s;
  }

  openUniStream(): QuicStream {
    const s = new MemoryStream(this.nextUni, this);
    this.nextUni += 4;
    return s;
  }

  /** Grants `n` more request streams (MAX_STREAMS). */
  grant(n: number): void {
    this.credit += n;
    this.onCapacity?.();
  }

  // ---- client -> server -----------------------------------------------------

  clientWrote(id: number, data: Buffer, fin: boolean): void {
    const p = this.pending.get(id);
    if (p === undefined) return; // our control stream etc.
    p.reader.push(data);
    if (fin) {
      this.pending.delete(id);
      const req: SeenRequest = {
        streamId: id,
        fields: p.fields ?? [],
        body: Buffer.concat(p.body),
        conn: this,
      };
      this.requests.push(req);
      setImmediate(() => this.script(req, new Reply(this, id)));
    }
  }

  clientReset(id: number, code: number): void {
    this.resets.set(id, code);
    this.pending.delete(id);
  }

  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.closedWith = { code, reason };
    this.finishClose({ by: 'local', isApp: true, code, reason, error: null });
  }

  stats(): QuicStats {
    return { packetsSent: 0, packetsReceived: 0, packetsLost: 0, bytesSent: 0, bytesReceived: 0 };
  }

  /** Whether the peer answers a PING (false: it went away without a word). */
  answersPing = true;
  /** PINGs sent by the client. */
  pings = 0;
  /** The peer's CONNECTION_CLOSE arrived: the connection drains before it is closed. */
  draining = false;
  idleTimeout = 30_000;
  /** What the transport reports as the cipher (null: not known yet). */
  cipher: string | null = 'TLS_AES_128_GCM_SHA256';

  get isClosing(): boolean {
    return this.isClosed || this.draining;
  }

  ping(timeout: number): Promise<boolean> {
    this.pings++;
    if (this.isClosed) return Promise.resolve(false);
    if (this.answersPing) return new Promise((resolve) => setImmediate(() => resolve(!this.isClosed)));
    // Unanswered: false at the timeout, or at once when the connection closes first.
    return new Promise((resolve) => {
      const settle = () => {
        clearTimeout(timer);
        this.pingsInFlight.delete(settle);
        resolve(false);
      };
      const timer = setTimeout(settle, timeout);
      this.pingsInFlight.add(settle);
    });
  }
  private readonly pingsInFlight = new Set<() => void>();

  tlsCipher(): string | null {
    return this.cipher;
  }

  /** Whether the connection would hold the process open (ref/unref). */
  refd = true;
  ref(): void {
    this.refd = true;
  }
  unref(): void {
    this.refd = false;
  }

  // ---- server -> client -----------------------------------------------------

  serverSend(id: number, bytes: Buffer): void {
    this.streams.get(id)?.emit((h) => h.onData(bytes));
  }

  serverEnd(id: number): void {
    const s = this.streams.get(id);
    this.streams.delete(id);
    s?.emit((h) => h.onEnd());
    if (s && this.autoCredit && id % 4 === 0) this.grant(1);
  }

  serverReset(id: number, code: number): void {
    const s = this.streams.get(id);
    this.streams.delete(id);
    s?.emit((h) => h.onReset(code));
    if (s && this.autoCredit && id % 4 === 0) this.grant(1);
  }

  serverOpenUni(first: Buffer): MemoryStream {
    const s = new MemoryStream(3 + 4 * this.uniCount++, this);
    this.streams.set(s.id, s);
    this.onStream?.(s);
    s.emit((h) => h.onData(first));
    return s;
  }
  private uniCount = 0;

  /** GOAWAY on the server's control stream. */
  goaway(id: number): void {
    this.control!.emit((h) => h.onData(encodeGoaway(id)));
  }

  /** The connection dies without a word from the server (the transport's idle timeout). */
  idleOut(): void {
    this.finishClose({ by: 'idle', isApp: false, code: 0, reason: '', error: null });
  }

  /** The server closes the connection (CONNECTION_CLOSE). */
  serverClose(code: number, reason = ''): void {
    this.finishClose({ by: 'peer', isApp: true, code, reason, error: null });
  }

  private finishClose(info: QuicCloseInfo): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const settle of this.pingsInFlight) settle();
    // As the real transport: the connection's end first, then its streams'.
    this.onClose?.(info);
    for (const s of this.streams.values()) s.emit((h) => h.onReset(-1));
    this.streams.clear();
  }
}
