// DNS over a stream (TCP, TLS): each message is preceded by its length in two
// bytes (RFC 1035 section 4.2.2, RFC 7858 section 3.3). Splits the stream into
// messages, whatever the chunking.

import type { Duplex } from 'node:stream';

export function frameMessage(bytes: Buffer): Buffer {
  const out = Buffer.allocUnsafe(bytes.length + 2);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

/** Calls `onFrame` with each complete message read from `stream`. */
export function readFramedMessages(stream: Duplex, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  stream.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const len = pending.readUInt16BE(0);
      if (pending.length < 2 + len) break;
      const frame = pending.subarray(2, 2 + len);
      pending = pending.subarray(2 + len);
      onFrame(frame);
    }
  });
}
