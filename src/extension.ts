// RawExtension (docs/api.md sections 2 and 9): the raw byte stream a request turned
// into after the server switched protocols - the socket after a
// `101 Switching Protocols` on HTTP/1.1 (RFC 9110 section 15.2.2), or the
// stream of an extended CONNECT on HTTP/2 (RFC 8441) - as `response.extension`.
//
// It reads and writes bytes and nothing more: no WebSocket framing, no
// protocol of its own. Reading is pull-based over the stream's paused mode,
// so bytes the consumer has not asked for stay in the kernel (TCP) or in the
// peer's flow-control window (HTTP/2): memory stays flat however far behind
// the consumer is. The transport it wraps never goes back to a pool.

import type { Duplex } from 'node:stream';
import { HTTPError, ProtocolError, ReadTimeoutError } from './errors.js';

/**
 * How long close() waits for the peer to end its side after ours ended
 * before it tears the transport down anyway (ms).
 */
const CLOSE_GRACE = 1000;

/** @internal What a session hands the extension besides the stream. */
export interface RawExtensionInit {
  /** Where, for messages: the connection label. */
  label: string;
  /** The URL of the request that was upgraded. */
  url: string;
  /** The request's read timeout, applied to each nextPayload() wait (ms); null = none. */
  readTimeout: number | null;
  /** Bytes that arrived with the 101 head, after it: they come first. */
  leftover?: Buffer | null;
  /** Tear the transport down (HTTP/1.1: destroy the socket; HTTP/2: reset the stream). */
  abort: () => void;
  /**
   * Called when the readable side ended: the error when that end was a
   * failure in disguise (an HTTP/2 stream reset ends it like END_STREAM does).
   */
  endError?: (() => Error | null) | null;
}

/**
 * The raw stream after an upgrade. Read with `nextPayload()`, write with
 * `sendPayload()`, finish with `close()`; or take `duplex` to pipe.
 *
 * `nextPayload()` and `duplex` read from the same stream: each chunk goes to
 * whichever reads it first. Use one or the other. The duplex is handed over
 * in paused mode: `pipe()` it, iterate it with `for await`, or call
 * `resume()` after adding a `'data'` listener.
 */
export class RawExtension {
  private readonly d: Duplex;
  private readonly label: string;
  private readonly url: string;
  private readonly readTimeout: number | null;
  private readonly abortTransport: () => void;
  private readonly endError: (() => Error | null) | null;
  private error: Error | null = null;
  private closing = false;
  private closePromise: Promise<void> | null = null;
  /** Wakes the pending nextPayload() wait. */
  private wake: (() => void) | null = null;
  /** nextPayload() calls run one after another, in call order. */
  private reads: Promise<unknown> = Promise.resolve();

  /** @internal Sessions create extensions; users get them from `response.extension`. */
  constructor(duplex: Duplex, init: RawExtensionInit) {
    this.d = duplex;
    this.label = init.label;
    this.url = init.url;
    this.readTimeout = init.readTimeout;
    this.abortTransport = init.abort;
    this.endError = init.endError ?? null;
    // Pull mode: nothing is read from the transport until someone asks for it.
    duplex.pause();
    const leftover = init.leftover;
    if (leftover && leftover.length > 0) duplex.unshift(leftover);
    duplex.on('error', (err: Error) => {
      this.error ??=
        err instanceof HTTPError
          ? err
          : new ProtocolError(`${this.label}: the upgraded stream to ${this.url} failed: ${err.message}`, {
              cause: err,
            });
      this.wakeUp();
    });
    duplex.on('end', () => this.wakeUp());
    duplex.on('close', () => this.wakeUp());
  }

  /**
   * The underlying Node Duplex: on HTTP/1.1 the socket (over TLS or a proxy)
   * or, on a plain-TCP connection that reads into a shared buffer, a Duplex
   * over that socket; on HTTP/2 the stream.
   */
  get duplex(): Duplex {
    return this.d;
  }

  /** True once close() was called or the transport is gone. */
  get closed(): boolean {
    return this.closing || this.d.destroyed;
  }

  /**
   * The next piece of data as it arrived, or null once the peer ended the
   * stream (or close() was called). Rejects with ProtocolError when the
   * transport failed (a reset), and with ReadTimeoutError when nothing
   * arrived within the request's read timeout; after a timeout the stream
   * stays open and nextPayload() may be called again.
   */
  nextPayload(): Promise<Buffer | null> {
    const p = this.reads.then(() => this.readOne());
    this.reads = p.catch(() => {});
    return p;
  }

  /**
   * Write `data` (strings as UTF-8). Resolves once the transport took it
   * (the socket or stream drained it), so awaiting each call bounds memory.
   * Rejects with ProtocolError when the stream is closed or fails.
   */
  sendPayload(data: Buffer | Uint8Array | string): Promise<void> {
    let buf: Buffer;
    if (typeof data === 'string') buf = Buffer.from(data, 'utf8');
    else if (Buffer.isBuffer(data)) buf = data;
    else if (data instanceof Uint8Array) buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    else {
      return Promise.reject(
        new TypeError('RawExtension.sendPayload(data): data must be a Buffer, a Uint8Array or a string'),
      );
    }
    if (this.error !== null) return Promise.reject(this.error);
    const d = this.d;
    if (this.closing || d.destroyed || d.writableEnded) {
      return Promise.reject(
        new ProtocolError(`${this.label}: cannot send on the upgraded stream to ${this.url}: it is closed`),
      );
    }
    if (buf.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      d.write(buf, (err?: Error | null) => {
        if (err === null || err === undefined) {
          resolve();
          return;
        }
        reject(
          this.error ??
            (err instanceof HTTPError
              ? err
              : new ProtocolError(
                  `${this.label}: sending on the upgraded stream to ${this.url} failed: ${err.message}`,
                  { cause: err },
                )),
        );
      });
    });
  }

  /**
   * End our side (a FIN on HTTP/1.1, END_STREAM on HTTP/2), give the peer a
   * moment to end its side too while discarding what it still sends, then
   * tear the transport down (the socket is destroyed; the HTTP/2 stream is
   * reset if it is still open). Idempotent; a pending nextPayload() resolves
   * with null.
   */
  close(): Promise<void> {
    if (this.closePromise !== null) return this.closePromise;
    this.closing = true;
    this.wakeUp();
    const d = this.d;
    this.closePromise = new Promise<void>((resolve) => {
      if (d.destroyed) {
        resolve();
        return;
      }
      let timer: NodeJS.Timeout | null = null;
      const finish = () => {
        if (timer !== null) clearTimeout(timer);
        timer = null;
        d.removeListener('finish', check);
        d.removeListener('end', check);
        d.removeListener('close', finish);
        d.removeListener('error', finish);
        if (!d.destroyed) this.abortTransport();
        resolve();
      };
      const check = () => {
        if (d.writableFinished && d.readableEnded) finish();
      };
      d.on('finish', check);
      d.on('end', check);
      d.once('close', finish);
      d.once('error', finish);
      timer = setTimeout(finish, CLOSE_GRACE);
      // Discard what the peer still sends, so that its end of the stream is seen.
      d.resume();
      if (!d.writableEnded) d.end();
      check();
    });
    return this.closePromise;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private wakeUp(): void {
    const w = this.wake;
    if (w !== null) w();
  }

  private async readOne(): Promise<Buffer | null> {
    const d = this.d;
    for (;;) {
      if (this.closing) return null;
      if (this.error !== null) throw this.error;
      if (d.destroyed || d.readableEnded) return this.atEnd();
      const chunk = d.read() as Buffer | null;
      if (chunk !== null) return chunk;
      await this.waitReadable();
    }
  }

  /** null at a clean end; the failure when the end was one. */
  private atEnd(): null {
    if (this.endError !== null) {
      const err = this.endError();
      if (err !== null) {
        this.error ??= err;
        throw this.error;
      }
    }
    return null;
  }

  /** Until more data, the end, a failure or close(); rejects on the read timeout. */
  private waitReadable(): Promise<void> {
    const d = this.d;
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | null = null;
      const cleanup = () => {
        d.removeListener('readable', done);
        this.wake = null;
        if (timer !== null) clearTimeout(timer);
      };
      function done() {
        cleanup();
        resolve();
      }
      d.on('readable', done);
      this.wake = done;
      const ms = this.readTimeout;
      if (ms !== null) {
        timer = setTimeout(
          () => {
            cleanup();
            reject(
              new ReadTimeoutError(
                null,
                this.url,
                `${this.label}: Read timed out waiting for the next payload on the upgraded stream ` +
                  `(read timeout=${ms} ms)`,
              ),
            );
          },
          Math.max(1, ms),
        );
      }
    });
  }
}
