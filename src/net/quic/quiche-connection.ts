// A QUIC connection driven by quiche's sans-IO `Connection` with our own UDP
// socket and one timer (QUIC-level behaviour is quiche's; the I/O loop is
// ours). Measured on loopback, what keeps it fast: datagrams that arrive in
// one event-loop turn are fed to quiche together and answered with one
// `send` drain (which also coalesces ACKs), stream bytes are moved to quiche
// as soon as they are written but packets go out once per batch, the costly
// binding calls (`readable()`, `stats()`) run once per batch at most (and
// `readable()` only when the few known streams do not account for all there
// is to read), and stream bytes are read without a copy.
//
// Not here: TLS policy (which CAs, which name, pinning: the dialer decides and
// passes the facts in), the quiche Config (quiche-config.ts), HTTP/3 (the
// session), DNS (done before).

import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import {
  ConnectTimeoutError,
  NewConnectionError,
  ProtocolError,
  RequestAbortedError,
  SSLError,
} from '../../errors.js';
import type {
  QuicCloseInfo,
  QuicConnection,
  QuicConnectOptions,
  QuicStats,
  QuicStream,
} from './quic-transport.js';
import type { HostPort, QuicheBinding, QuicheConnection as Native } from './quiche-binding.js';
import { IDLE_TIMEOUT_MS, quicheConfig } from './quiche-config.js';
import { QuicheStream, type StreamHost } from './quiche-stream.js';
import { handshakeError } from './quic-handshake-error.js';
import { tlsSessionFacts } from './tls-session.js';

/** Bytes one quiche `send` may fill: a UDP payload. */
const MAX_DATAGRAM = 1500;
const SLAB_SIZE = 64 * 1024;
/**
 * Stream bytes are read straight into slices of a read slab, handed on
 * without a copy; a new slab is taken when less than READ_MIN is left (a
 * smaller room would make reads smaller). A chunk someone keeps holds its
 * slab, as Node's socket reads hold theirs.
 */
const READ_SLAB_SIZE = 256 * 1024;
const READ_MIN = 32 * 1024;
/**
 * With this many streams or fewer, a batch reads each known stream directly
 * and asks quiche for its readable-stream iterator only when something else
 * is left (a new peer stream, a paused or forgotten one). The iterator is an
 * object with a native finalizer: one per batch outlived young-generation
 * GCs and kept V8 in back-to-back full GCs during a download (measured: a
 * third of the client's CPU).
 */
const DIRECT_READ_MAX = 8;
/** Acknowledge at least every this many datagrams... */
const ACK_EVERY = 32;
/** ...or after this many ms. */
const ACK_DELAY = 1;
/**
 * SO_RCVBUF asked for: at 100 MiB/s a millisecond is 100 KiB of datagrams,
 * and Linux's default (208 KiB) overflowed (RcvbufErrors) whenever the event
 * loop was busy for two, each loss halving the server's congestion window.
 * The kernel caps it at net.core.rmem_max.
 */
const RECV_BUFFER = 4 * 1024 * 1024;

function codeOf(e: unknown, kind: string): number | null {
  const m = new RegExp(`${kind}\\((\\d+)\\)`).exec((e as Error).message ?? '');
  return m ? Number(m[1]) : null;
}

/** What the handshake is doing. */
type HandshakeState = 'connecting' | 'established' | 'failed';

export class QuicheConnection implements QuicConnection, StreamHost {
  private streamHandler: ((stream: QuicStream) => void) | null = null;
  /** Peer streams that arrived before anyone listened (with the handshake's last packets). */
  private unannounced: QuicheStream[] = [];
  onClose: ((info: QuicCloseInfo) => void) | null = null;
  onCapacity: (() => void) | null = null;
  alpn = '';
  peerMaxBidiStreams = 0;
  readonly localAddress: string;
  readonly localPort: number;

  private handshake: HandshakeState = 'connecting';
  private settleHandshake: ((error: Error | null) => void) | null = null;
  private readonly streams = new Map<number, QuicheStream>();
  private readonly toWrite = new Set<QuicheStream>();
  private readonly toRead = new Set<QuicheStream>();
  /** Bidirectional streams opened here that quiche has not seen yet (no byte sent). */
  private readonly unsentBidi = new Set<QuicheStream>();
  /** Streams whose writer waits for the queue to go down (onDrain). */
  private readonly draining = new Set<QuicheStream>();
  private inbox: Buffer[] = [];
  private scheduled = false;
  private processing = false;
  /**
   * One more batch follows: a handler asked for a write or a read while one
   * ran, or a stream's write went part way (quiche may take more once the
   * packets are out). A stream quiche takes nothing from waits for the
   * datagram that brings credit: re-running for it spun the event loop at
   * full CPU through a stalled upload.
   */
  private rerun = false;
  private timer: NodeJS.Timeout | null = null;
  /** When `timer` fires (performance.now() ms). */
  private timerAt = 0;
  /** Datagrams received since packets last went out, and the timer that bounds their wait. */
  private pendingAcks = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  /** Something besides acknowledgements waits to be sent (stream data, resets, a close). */
  private mustSend = true;
  private refd = true;
  /** Packets sent since close(); past 8 without draining, abandoned (quiche 0.18 loops: see flush). */
  private closePackets = -1;
  private closedInfo: QuicCloseInfo | null = null;
  private socketError: Error | null = null;
  private nextBidi = 0;
  private nextUni = 2;
  private slab = Buffer.allocUnsafe(SLAB_SIZE);
  private slabPos = 0;
  private readonly scratch = Buffer.allocUnsafe(65536);
  private readSlab = Buffer.allocUnsafe(READ_SLAB_SIZE);
  private readPos = 0;
  private readonly recvInfo: { from: HostPort; to: HostPort };
  /** The idle timeout in force, once read from the peer's transport parameters. */
  private idleMs: number | null = null;
  /** PINGs in flight (ping()): settled unanswered when the connection ends. */
  private readonly pings = new Set<(ok: boolean) => void>();
  /** The cipher suite, once the server's session ticket told it. */
  private cipherName: string | null = null;

  private constructor(
    private readonly conn: Native,
    private readonly socket: dgram.Socket,
    private readonly options: QuicConnectOptions,
    local: HostPort,
    remote: HostPort,
  ) {
    this.localAddress = local.host;
    this.localPort = local.port;
    this.recvInfo = { from: remote, to: local };
    socket.on('message', (msg) => {
      this.inbox.push(msg);
      this.schedule();
    });
    socket.on('error', (err) => {
      this.socketError ??= err;
      this.schedule();
    });
  }

  /** Opens a connection and completes the handshake (TLS verification as configured). */
  static async connect(binding: QuicheBinding, o: QuicConnectOptions): Promise<QuicheConnection> {
    const config = quicheConfig(binding, o);

    const socket = dgram.createSocket({
      type: o.family === 6 ? 'udp6' : 'udp4',
      recvBufferSize: RECV_BUFFER,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        if (o.localAddress) socket.bind({ address: o.localAddress, port: o.localPort ?? 0 }); // connect() waits for it
        socket.connect(o.port, o.address, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (e) {
      socket.close();
      throw new NewConnectionError(
        o.label,
        `Failed to establish a new QUIC connection to ${o.label}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    const addr = socket.address();
    const local = { host: addr.address, port: addr.port };
    const remote = { host: o.address, port: o.port };
    let native: Native;
    try {
      native = binding.Connection.connect(o.serverName, randomBytes(16), local, remote, config);
    } catch (e) {
      socket.close();
      throw new SSLError(`Cannot start a QUIC connection to ${o.label}: ${(e as Error).message}`, {
        cause: e,
        phase: 'connect',
      });
    }
    if (o.keylogFile) native.setKeylog(o.keylogFile);
    const c = new QuicheConnection(native, socket, o, local, remote);
    await c.completeHandshake();
    return c;
  }

  private completeHandshake(): Promise<void> {
    const o = this.options;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const onAbort = () =>
        finish(new RequestAbortedError(`QUIC connection to ${o.label} aborted`, { phase: 'connect' }));
      const finish = (error: Error | null) => {
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        this.settleHandshake = null;
        if (error === null) {
          resolve();
          return;
        }
        this.handshake = 'failed';
        if (!this.conn.isClosed()) this.conn.close(false, 0, Buffer.alloc(0));
        this.flush();
        this.teardown();
        reject(error);
      };
      this.settleHandshake = finish;
      if (o.timeout !== null) {
        timer = setTimeout(
          () =>
            finish(
              new ConnectTimeoutError(
                `Connection to ${o.label} timed out. (connect timeout=${o.timeout! / 1000}): no QUIC handshake`,
              ),
            ),
          o.timeout,
        );
      }
      if (o.signal) {
        if (o.signal.aborted) return onAbort();
        o.signal.addEventListener('abort', onAbort, { once: true });
      }
      this.flush();
      this.armTimer();
    });
  }

  // ---- QuicConnection --------------------------------------------------------

  get onStream(): ((stream: QuicStream) => void) | null {
    return this.streamHandler;
  }

  set onStream(handler: ((stream: QuicStream) => void) | null) {
    this.streamHandler = handler;
    if (handler === null) return;
    const early = this.unannounced;
    this.unannounced = [];
    for (const s of early) handler(s);
  }

  get remoteAddress(): string {
    return this.options.address;
  }

  get remotePort(): number {
    return this.options.port;
  }

  get isClosed(): boolean {
    return this.closedInfo !== null;
  }

  get bidiStreamsLeft(): number {
    // Streams opened here but not yet handed to quiche count against the limit too.
    return this.closedInfo ? 0 : this.conn.peerStreamsLeftBidi() - this.unsentBidi.size;
  }

  peerCertificates(): Buffer[] {
    return (this.conn.peerCertChain() ?? []).map((der) => Buffer.from(der));
  }

  openBidiStream(): QuicStream {
    return this.open(true);
  }

  openUniStream(): QuicStream {
    return this.open(false);
  }

  close(code: number, reason: string): void {
    if (this.closedInfo) return;
    try {
      this.conn.close(true, code, Buffer.from(reason));
      this.mustSend = true;
      this.closePackets = 0;
    } catch {
      // already closing
    }
    this.schedule();
  }

  stats(): QuicStats {
    const s = this.conn.stats();
    return {
      packetsSent: s.sent,
      packetsReceived: s.recv,
      packetsLost: s.lost,
      bytesSent: s.sentBytes,
      bytesReceived: s.recvBytes,
    };
  }

  // ---- liveness and TLS facts (read on demand, outside the I/O loop) ---------
  // (docs/api.md section 9, "Liveness"; the cipher: section 11)

  get isClosing(): boolean {
    return this.closedInfo !== null || this.conn.isDraining();
  }

  get idleTimeout(): number {
    if (this.idleMs === null) {
      if (this.handshake !== 'established') return IDLE_TIMEOUT_MS;
      const peer = this.conn.stats().peerMaxIdleTimeout;
      this.idleMs = peer > 0 ? Math.min(peer, IDLE_TIMEOUT_MS) : IDLE_TIMEOUT_MS;
    }
    return this.idleMs;
  }

  ping(timeout: number): Promise<boolean> {
    if (this.closedInfo || this.handshake !== 'established') return Promise.resolve(false);
    // Any packet quiche accepts after the PING proves the peer still holds the connection.
    const before = this.conn.stats().recv;
    return new Promise<boolean>((resolve) => {
      const settle = (ok: boolean) => {
        clearTimeout(timer);
        this.socket.off('message', onMessage);
        this.pings.delete(settle);
        resolve(ok);
      };
      // Runs after process(), which the socket's first listener scheduled, fed
      // quiche the datagram. A CONNECTION_CLOSE is a packet too: draining is no answer.
      const check = () => {
        if (this.isClosing) settle(false);
        else if (this.conn.stats().recv > before) settle(true);
      };
      const onMessage = () => setImmediate(check);
      const timer = setTimeout(() => settle(false), Math.max(1, timeout));
      this.socket.on('message', onMessage);
      this.pings.add(settle);
      try {
        this.conn.sendAckEliciting();
      } catch {
        settle(false);
        return;
      }
      this.mustSend = true;
      // Called from a handler inside a batch: the PING leaves with the next one.
      this.schedule();
    });
  }

  tlsCipher(): string | null {
    if (this.cipherName === null) {
      const blob = this.conn.session();
      if (blob) this.cipherName = tlsSessionFacts(blob)?.cipher ?? null;
    }
    return this.cipherName;
  }

  ref(): void {
    this.refd = true;
    this.socket.ref();
    this.timer?.ref();
    this.ackTimer?.ref();
  }

  unref(): void {
    this.refd = false;
    this.socket.unref();
    this.timer?.unref();
    this.ackTimer?.unref();
  }

  // ---- StreamHost ------------------------------------------------------------

  wantWrite(stream: QuicheStream): void {
    this.toWrite.add(stream);
    if (stream.needDrain) this.draining.add(stream);
    // Hand the bytes to quiche now (cheap); packets leave with the next batch.
    if (!this.processing) this.writeStream(stream);
    this.schedule();
  }

  wantRead(stream: QuicheStream): void {
    this.toRead.add(stream);
    this.schedule();
  }

  resetStream(stream: QuicheStream, code: number): void {
    if (stream.readState === 'open') {
      try {
        this.conn.streamShutdown(stream.id, 0, code);
      } catch {
        // the stream is already finished on that side
      }
      stream.readState = 'reset';
    }
    if (stream.writeState !== 'ended' && stream.writeState !== 'aborted') {
      try {
        this.conn.streamShutdown(stream.id, 1, code);
      } catch {
        // idem
      }
    }
    stream.writeState = 'aborted';
    this.mustSend = true;
    stream.queue = [];
    stream.queued = 0;
    this.toWrite.delete(stream);
    this.unsentBidi.delete(stream);
    this.streams.delete(stream.id);
    this.schedule();
  }

  // ---- the I/O loop ----------------------------------------------------------

  private open(bidi: boolean): QuicheStream {
    if (this.closedInfo || this.handshake !== 'established') {
      throw new ProtocolError(`QUIC connection to ${this.options.label} is closed`);
    }
    if (bidi && this.bidiStreamsLeft <= 0) {
      throw new ProtocolError(`QUIC connection to ${this.options.label} has no stream left (peer limit)`);
    }
    const id = bidi ? this.nextBidi : this.nextUni;
    if (bidi) this.nextBidi += 4;
    else this.nextUni += 4;
    const stream = new QuicheStream(id, this, true);
    this.streams.set(id, stream);
    if (bidi) this.unsentBidi.add(stream);
    return stream;
  }

  private schedule(): void {
    if (this.processing) {
      this.rerun = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.process);
  }

  private readonly process = (): void => {
    this.scheduled = false;
    if (this.closedInfo) return;
    this.processing = true;
    try {
      const inbox = this.inbox;
      if (inbox.length > 0) {
        this.inbox = [];
        for (const datagram of inbox) {
          try {
            this.conn.recv(datagram, this.recvInfo);
          } catch {
            // quiche records the failure as its local error and closes; seen below.
          }
        }
      }
      this.afterIo(inbox.length);
    } finally {
      this.endBatch();
    }
  };

  private endBatch(): void {
    this.processing = false;
    if (this.rerun) {
      this.rerun = false;
      this.schedule();
    }
  }

  private afterIo(received: number): void {
    if (this.handshake === 'connecting' && this.conn.isEstablished()) {
      this.handshake = 'established';
      this.alpn = Buffer.from(this.conn.applicationProto()).toString('latin1');
      this.peerMaxBidiStreams = this.conn.stats().peerInitialMaxStreamsBidi;
      this.settleHandshake?.(null);
    }
    if (this.handshake === 'established') {
      if (received > 0) this.readReadable();
      for (const s of this.toRead) this.readStream(s.id, s);
      this.toRead.clear();
      for (const s of this.toWrite) this.writeStream(s);
      for (const s of this.draining) {
        if (s.drained()) {
          this.draining.delete(s);
          s.emitDrain();
        }
      }
      if (received > 0) this.onCapacity?.();
    }
    // Packets that only acknowledge wait for ACK_EVERY datagrams or ACK_DELAY
    // ms (measured: answering every batch at once cost ~40 % of the download
    // rate); anything else goes out now.
    this.pendingAcks += received;
    if (this.mustSend || this.handshake !== 'established' || this.pendingAcks >= ACK_EVERY) {
      this.sendNow();
    } else if (this.ackTimer === null && (this.pendingAcks > 0 || received === 0)) {
      this.ackTimer = setTimeout(this.onAckTimer, ACK_DELAY);
      if (!this.refd) this.ackTimer.unref();
    }
    this.armTimer();
    this.checkClosed();
  }

  private sendNow(): void {
    if (this.ackTimer !== null) {
      clearTimeout(this.ackTimer);
      this.ackTimer = null;
    }
    this.pendingAcks = 0;
    this.mustSend = false;
    this.flush();
  }

  private readonly onAckTimer = (): void => {
    this.ackTimer = null;
    if (this.closedInfo) return;
    this.sendNow();
    this.armTimer();
  };

  private readReadable(): void {
    if (this.streams.size <= DIRECT_READ_MAX) {
      for (const s of this.streams.values()) {
        // Our own unidirectional streams (ids 2, 6, 10...) have nothing to read.
        if ((s.id & 3) !== 2 && s.readState === 'open' && !s.paused) this.readStream(s.id, s);
      }
      if (!this.conn.isReadable()) return;
    }
    for (const id of this.conn.readable()) {
      let s = this.streams.get(id);
      if (s === undefined) {
        // Client-initiated streams have even ids (RFC 9000 section 2.1): one
        // we forgot (reset) is drained and dropped.
        if ((id & 1) === 0) {
          this.discard(id);
          continue;
        }
        s = new QuicheStream(id, this, (id & 2) === 0);
        this.streams.set(id, s);
        if (this.streamHandler) this.streamHandler(s);
        else this.unannounced.push(s);
      }
      this.readStream(id, s);
    }
  }

  private discard(id: number): void {
    try {
      while (this.conn.streamRecv(id, this.scratch) !== null);
    } catch {
      // reset or finished: nothing to drain
    }
  }

  private readStream(id: number, s: QuicheStream): void {
    while (!s.paused && s.readState === 'open') {
      if (this.readPos + READ_MIN > READ_SLAB_SIZE) {
        this.readSlab = Buffer.allocUnsafe(READ_SLAB_SIZE);
        this.readPos = 0;
      }
      const slab = this.readSlab;
      const at = this.readPos;
      let r: [number, boolean] | null;
      try {
        r = this.conn.streamRecv(id, slab.subarray(at));
      } catch (e) {
        const code = codeOf(e, 'StreamReset');
        if (code !== null) s.emitReset(code);
        break;
      }
      if (r === null) break;
      const [n, fin] = r;
      if (n > 0) {
        this.readPos = at + n;
        s.emitData(slab.subarray(at, at + n));
      }
      if (fin) s.emitEnd();
      // quiche fills the buffer while contiguous bytes remain: a short read took them all.
      else if (n < slab.length - at) break;
    }
    if (s.done) this.streams.delete(id);
  }

  private writeStream(s: QuicheStream): void {
    const conn = this.conn;
    const before = s.queued;
    while (s.queue.length > 0) {
      const chunk = s.queue[0]!;
      const last = s.queue.length === 1 && s.writeState === 'ending';
      let n: number | null;
      try {
        n = conn.streamSend(s.id, chunk, last);
      } catch (e) {
        const code = codeOf(e, 'StreamStopped');
        if (code !== null) {
          this.toWrite.delete(s);
          s.emitStopSending(code);
          if (s.done) this.streams.delete(s.id);
          return;
        }
        n = 0;
      }
      if (n === null || n === 0) break;
      this.mustSend = true;
      this.unsentBidi.delete(s);
      s.queued -= n;
      if (n === chunk.length) {
        s.queue.shift();
        if (last) s.writeState = 'ended';
      } else {
        s.queue[0] = chunk.subarray(n);
        break;
      }
    }
    if (s.queue.length === 0 && s.writeState === 'ending') {
      try {
        conn.streamSend(s.id, Buffer.alloc(0), true);
        s.writeState = 'ended';
        this.mustSend = true;
        this.unsentBidi.delete(s);
      } catch {
        // not yet: no room for the FIN
      }
    }
    if (s.queue.length === 0 && s.writeState !== 'ending') this.toWrite.delete(s);
    else if (s.queued < before) this.rerun = true;
    if (s.done) this.streams.delete(s.id);
  }

  /** Drains quiche's outgoing packets to the socket. */
  private flush(): void {
    const conn = this.conn;
    for (;;) {
      if (this.slabPos + MAX_DATAGRAM > SLAB_SIZE) {
        this.slab = Buffer.allocUnsafe(SLAB_SIZE);
        this.slabPos = 0;
      }
      let r: [number, unknown] | null;
      try {
        r = conn.send(this.slab.subarray(this.slabPos, this.slabPos + MAX_DATAGRAM));
      } catch {
        break;
      }
      if (r === null) break;
      // quiche 0.18 cannot send an application close before the handshake is confirmed, and sends packets forever.
      if (this.closePackets >= 0 && ++this.closePackets > 8 && !conn.isDraining()) {
        this.finishClose();
        return;
      }
      const n = r[0];
      // The slab region is never reused: the socket may send it later.
      this.socket.send(this.slab.subarray(this.slabPos, this.slabPos + n), this.onSent);
      this.slabPos += n;
    }
  }

  private readonly onSent = (err: Error | null): void => {
    if (err) {
      this.socketError ??= err;
      this.schedule();
    }
  };

  private armTimer(): void {
    // Closed inside this batch (flush's close guard): no timer outlives the socket.
    if (this.closedInfo) return;
    const t = this.conn.timeout();
    if (t === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      return;
    }
    const at = performance.now() + t + 1;
    // A timer that fires no later than needed stays (quiche's onTimeout does
    // nothing before a deadline, and the timer is armed again then): most
    // batches only move the idle deadline later, and a new timer per batch
    // was about 2 % of the client's CPU in a download's profile.
    if (this.timer !== null && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.onTimer, t + 1);
    if (!this.refd) this.timer.unref();
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    if (this.closedInfo) return;
    this.conn.onTimeout();
    // quiche's own timers (loss detection, its ACK delay) want their packets out now.
    this.mustSend = true;
    this.processing = true;
    try {
      this.afterIo(0);
    } finally {
      this.endBatch();
    }
  };

  private checkClosed(): void {
    if (this.socketError && !this.conn.isClosed()) {
      try {
        this.conn.close(false, 0, Buffer.alloc(0));
      } catch {
        // already closing
      }
      this.finishClose();
      return;
    }
    if (this.conn.isClosed()) this.finishClose();
  }

  private finishClose(): void {
    if (this.closedInfo) return;
    const info = this.describeClose();
    this.closedInfo = info;
    if (this.handshake === 'connecting') {
      this.settleHandshake?.(handshakeError(this.options.label, info));
      return;
    }
    this.teardown();
    // The connection's end first (its owner knows why), then each open stream's.
    this.onClose?.(info);
    for (const s of this.streams.values()) {
      if (s.readState === 'open') s.emitReset(-1);
    }
    this.streams.clear();
  }

  private teardown(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.ackTimer) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    this.closedInfo ??= this.describeClose();
    for (const settle of this.pings) settle(false);
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }

  private describeClose(): QuicCloseInfo {
    const error = this.socketError;
    if (this.conn.isTimedOut() && !error)
      return { by: 'idle', isApp: false, code: 0, reason: '', error: null };
    const peer = this.conn.peerError();
    const local = this.conn.localError();
    const e = peer ?? local;
    return {
      by: peer ? 'peer' : 'local',
      isApp: e?.isApp ?? false,
      code: e?.errorCode ?? 0,
      reason: e ? Buffer.from(e.reason).toString('utf8') : '',
      error,
    };
  }
}
