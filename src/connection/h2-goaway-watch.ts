// Watches the frames node:http2 sends on a connection for a GOAWAY with an
// error code (RFC 9113 section 6.8). When nghttp2 itself detects a
// connection error in what the server sent (a garbage frame, a frame over
// SETTINGS_MAX_FRAME_SIZE, a bad HPACK block...) it sends GOAWAY and stops
// reading, but no event reaches JavaScript: the streams on the connection
// would wait forever. Seeing that GOAWAY go out is how the session learns the
// connection is dead (docs/api.md section 9).
//
// The watch sits between node:http2 and the socket as a Duplex that passes
// bytes through; only the client's outgoing bytes are scanned, and only the
// 9-byte frame headers (a frame's payload is skipped, except a GOAWAY's).
// Not here: what to do about it (the session fails its streams).

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';

/** The client connection preface (RFC 9113 section 3.4), sent before the first frame. */
const PREFACE_LENGTH = 24;
const FRAME_HEADER = 9;
const GOAWAY = 7;

export type GoawaySent = (code: number, debugData: string) => void;

/**
 * A sans-IO scanner over the client's outgoing frame stream: feed it the
 * bytes as they are written; it calls `onGoaway` for every GOAWAY frame with
 * a non-zero error code.
 */
export class OutgoingFrameScanner {
  /** Bytes still to skip: the preface, then each frame's payload. */
  private skip = PREFACE_LENGTH;
  private readonly header = Buffer.alloc(FRAME_HEADER);
  private headerFill = 0;
  /** A GOAWAY payload being collected, and how many bytes it still needs. */
  private goaway: Buffer | null = null;
  private goawayFill = 0;

  constructor(private readonly onGoaway: GoawaySent) {}

  scan(chunk: Uint8Array): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n) {
      if (this.goaway !== null) {
        const take = Math.min(n - pos, this.goaway.length - this.goawayFill);
        this.goaway.set(chunk.subarray(pos, pos + take), this.goawayFill);
        this.goawayFill += take;
        pos += take;
        if (this.goawayFill === this.goaway.length) {
          const p = this.goaway;
          this.goaway = null;
          const code = p.readUInt32BE(4);
          if (code !== 0) this.onGoaway(code, p.toString('latin1', 8, Math.min(p.length, 8 + 256)));
        }
        continue;
      }
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - pos);
        this.skip -= take;
        pos += take;
        continue;
      }
      const take = Math.min(FRAME_HEADER - this.headerFill, n - pos);
      this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
      this.headerFill += take;
      pos += take;
      if (this.headerFill < FRAME_HEADER) break;
      this.headerFill = 0;
      const length = this.header.readUIntBE(0, 3);
      if (this.header[3] === GOAWAY && length >= 8) {
        this.goaway = Buffer.alloc(length);
        this.goawayFill = 0;
      } else {
        this.skip = length;
      }
    }
  }
}

/**
 * The socket as node:http2 sees it: bytes pass through both ways; the
 * outgoing ones are scanned for a GOAWAY with an error code.
 */
export class GoawayWatch extends Duplex {
  private readonly socket: Socket;
  private readonly scanner: OutgoingFrameScanner;

  constructor(socket: Socket, onGoaway: GoawaySent) {
    super({ allowHalfOpen: false });
    this.socket = socket;
    this.scanner = new OutgoingFrameScanner(onGoaway);
    socket.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) socket.pause();
    });
    socket.on('end', () => this.push(null));
    socket.on('error', (err) => this.destroy(err));
    socket.on('close', () => this.destroy());
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.scanner.scan(chunk);
    if (this.socket.write(chunk)) cb();
    else this.socket.once('drain', () => cb());
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    const socket = this.socket;
    socket.cork();
    let ok = true;
    for (const { chunk } of chunks) {
      this.scanner.scan(chunk);
      ok = socket.write(chunk);
    }
    socket.uncork();
    if (ok) cb();
    else socket.once('drain', () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
