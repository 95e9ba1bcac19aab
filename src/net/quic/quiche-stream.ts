// One stream of a quiche-driven QUIC connection: its write queue, its read
// state and the events it owes its handlers. The connection
// (quiche-connection.ts) moves bytes between quiche and these objects; a
// stream never calls quiche itself except through the connection's methods.

import type { QuicStream, QuicStreamHandlers } from './quic-transport.js';

/** What the stream's owner provides. */
export interface StreamHost {
  wantWrite(stream: QuicheStream): void;
  wantRead(stream: QuicheStream): void;
  resetStream(stream: QuicheStream, code: number): void;
}

/** Queue bytes above which `write` answers false. */
const HIGH_WATER_MARK = 256 * 1024;

/** The read side: open, ended by FIN, or reset by the peer. */
export type ReadState = 'open' | 'ended' | 'reset';
/** The write side: open, FIN queued, FIN sent, or stopped/reset. */
export type WriteState = 'open' | 'ending' | 'ended' | 'aborted';

export class QuicheStream implements QuicStream {
  handlers: QuicStreamHandlers | null = null;
  readState: ReadState = 'open';
  writeState: WriteState;
  paused = false;
  /** Bytes to send, in order; the first may be partly sent already (sliced). */
  queue: Buffer[] = [];
  queued = 0;
  /** Over the high-water mark since the last drain. */
  needDrain = false;
  /** Events that arrived before handlers were set. */
  private held: (() => void)[] | null = [];

  constructor(
    readonly id: number,
    private readonly host: StreamHost,
    /** A unidirectional stream we receive on has no write side. */
    writable: boolean,
  ) {
    this.writeState = writable ? 'open' : 'ended';
  }

  setHandlers(handlers: QuicStreamHandlers): void {
    this.handlers = handlers;
    const held = this.held;
    this.held = null;
    if (held) for (const f of held) f();
  }

  get writableLength(): number {
    return this.queued;
  }

  write(data: Buffer): boolean {
    if (this.writeState !== 'open') return false;
    if (data.length > 0) {
      this.queue.push(data);
      this.queued += data.length;
    }
    const full = this.queued >= HIGH_WATER_MARK;
    if (full) this.needDrain = true;
    if (data.length > 0) this.host.wantWrite(this);
    return !full;
  }

  end(data?: Buffer): void {
    if (this.writeState !== 'open') return;
    if (data !== undefined && data.length > 0) {
      this.queue.push(data);
      this.queued += data.length;
    }
    this.writeState = 'ending';
    this.host.wantWrite(this);
  }

  reset(code: number): void {
    this.host.resetStream(this, code);
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.host.wantRead(this);
  }

  /** Whether the stream's queue just went back under the mark. */
  drained(): boolean {
    if (this.needDrain && this.queued < HIGH_WATER_MARK) {
      this.needDrain = false;
      return true;
    }
    return false;
  }

  // ---- events from the connection --------------------------------------

  emitData(chunk: Buffer): void {
    if (this.handlers) this.handlers.onData(chunk);
    else this.held!.push(() => this.handlers!.onData(chunk));
  }

  emitEnd(): void {
    this.readState = 'ended';
    if (this.handlers) this.handlers.onEnd();
    else this.held!.push(() => this.handlers!.onEnd());
  }

  emitReset(code: number): void {
    this.readState = 'reset';
    if (this.handlers) this.handlers.onReset(code);
    else this.held!.push(() => this.handlers!.onReset(code));
  }

  emitStopSending(code: number): void {
    this.writeState = 'aborted';
    this.queue = [];
    this.queued = 0;
    if (this.handlers) this.handlers.onStopSending(code);
    else this.held!.push(() => this.handlers!.onStopSending(code));
  }

  emitDrain(): void {
    this.handlers?.onDrain();
  }

  /** Both sides are finished: the connection can forget the stream. */
  get done(): boolean {
    return this.readState !== 'open' && (this.writeState === 'ended' || this.writeState === 'aborted');
  }
}
