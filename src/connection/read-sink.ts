// Plain-TCP HTTP/1.1 sockets read through Node's `onread` into one shared
// buffer (no fresh Buffer per read), or during a long body into buffers of
// their own that the body keeps; a ReadSink routes those bytes to
// whoever reads the socket now: the session, or after a 101 the upgraded
// stream's Duplex adapter. Not here: parsing (the session's parser does it).

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { ProtocolError } from '../errors.js';

/**
 * The one read buffer of every plain-TCP HTTP/1.1 socket (Node's `onread`):
 * the kernel fills it and the bytes are handled synchronously inside the
 * read callback, before any other socket's read can overwrite them, so all
 * sockets can share it. Whatever outlives the callback (body bytes, the
 * bytes after a 101) is copied out; the parser copies partial lines itself.
 * 256 KiB: a read of a fast download takes what the kernel has, up to this.
 */
const SHARED_READ_BUFFER = Buffer.allocUnsafe(256 * 1024);

/**
 * The size of a read buffer of a socket's own (ReadSink.ownReads). Large, so
 * a fast download makes few reads and hands its reader few, large chunks
 * (per-chunk work is what a download does in interpreted code before the JIT
 * catches up): on a 100 MiB download, 1 MiB buffers gave 1,315 MiB/s in a
 * fresh process against 1,008 for 256 KiB, and the same when warm
 * (BENCHMARKS.md, issue 17). A read fills it only as far as the kernel has
 * bytes; h1-session.ts keeps it only for a body piece that fills half of it.
 */
const OWN_READ_BUFFER = 1024 * 1024;

/** Whether `buf` is the shared read buffer (its bytes must be copied to outlive the read). */
export function isSharedReadBuffer(buf: Buffer): boolean {
  return buf === SHARED_READ_BUFFER;
}

/**
 * Where an `onread` socket's bytes go. The socket is created before its
 * session exists; bytes that arrive before a session attaches (a server
 * talking first) are copied, reading stops, and the session gets them when
 * it attaches. After a 101 the upgraded stream's adapter takes over.
 */
export class ReadSink {
  /** Handles `n` bytes at the start of `buf`; false stops reading (resume() restarts). */
  target: ((buf: Buffer, n: number) => boolean) | null = null;
  /** Copies of bytes that came before a target was attached. */
  early: Buffer[] | null = null;
  /**
   * While true (a long body is being read), the socket reads into buffers of
   * its own, which the body keeps (views, no copy), instead of the shared
   * buffer whose bytes would have to be copied out: a download then costs
   * one allocation per read instead of an allocation and a copy.
   */
  ownReads = false;
  /** The buffer of its own that the next read goes into; null once a reader kept it. */
  private own: Buffer | null = null;
  /**
   * The `onread` option for net.connect(). Node asks `buffer()` for a socket's
   * first buffer when it connects and for the next read's after each read.
   * It always gets one: the sink's callback may serve more than one socket
   * (the attempts of a Happy Eyeballs race), so there is no "keep the current
   * one" answer that would be right for all of them.
   */
  readonly onread = {
    buffer: (): Buffer => this.nextBuffer(),
    callback: (n: number, buf: Buffer): boolean => {
      const t = this.target;
      if (t !== null) return t(buf, n);
      (this.early ??= []).push(copyOf(buf, 0, n));
      return false;
    },
  };

  private nextBuffer(): Buffer {
    if (!this.ownReads) {
      this.own = null; // an idle connection holds no buffer of its own
      return SHARED_READ_BUFFER;
    }
    this.own ??= Buffer.allocUnsafe(OWN_READ_BUFFER);
    return this.own;
  }

  /** The reader keeps (views of) `buf`, a buffer of the socket's own: the next read needs a new one. */
  keep(buf: Buffer): void {
    if (buf === this.own) this.own = null;
  }

  /** Bytes kept before attachment, once. */
  takeEarly(): Buffer[] | null {
    const e = this.early;
    this.early = null;
    return e;
  }
}

export function copyOf(buf: Buffer, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  buf.copy(out, 0, start, end);
  return out;
}

/**
 * The upgraded stream of an `onread` socket, as a Duplex: what the socket
 * reads is copied out of the shared buffer and pushed here; when the reader
 * falls behind (push() says so) the socket stops reading until it asks for
 * more, so unread bytes wait in the kernel as they would on the socket
 * itself. Writes, end and destroy go to the socket; the socket's end, error
 * and close come through.
 */
export class SinkDuplex extends Duplex {
  private readonly sock: Socket;
  private readonly sink: ReadSink;
  /** Reading stopped because the reader is behind. */
  private held = false;
  /** The socket saw the peer's end. */
  private eof = false;

  constructor(sock: Socket, sink: ReadSink) {
    // Half-open handling is the socket's (allowHalfOpen false: it ends its side on the peer's end).
    super({ allowHalfOpen: false });
    this.sock = sock;
    this.sink = sink;
    sink.target = (buf, n) => this.onRead(buf, n);
    sock.on('end', () => {
      this.eof = true;
      this.push(null);
    });
    sock.on('error', (err: Error) => this.destroy(err));
    sock.on('close', () => {
      // After a clean end the reader may still have bytes to take; the end comes after them.
      if (!this.eof) this.destroy();
    });
  }

  private onRead(buf: Buffer, n: number): boolean {
    if (this.destroyed) return false;
    if (this.push(copyOf(buf, 0, n))) return true;
    this.held = true;
    return false;
  }

  override _read(): void {
    if (this.held) {
      this.held = false;
      if (!this.sock.destroyed) this.sock.resume();
    }
  }

  override _write(chunk: Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.sock.destroyed) {
      cb(new ProtocolError('the upgraded socket is closed'));
      return;
    }
    this.sock.write(chunk, encoding, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const sock = this.sock;
    if (sock.destroyed || sock.writableFinished) cb();
    else sock.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.sink.target = null;
    if (!this.sock.destroyed) this.sock.destroy();
    cb(err);
  }
}
