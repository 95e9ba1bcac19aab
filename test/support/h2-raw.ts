// A raw HTTP/2 server over node:net, scripted frame by frame, for hostile-peer
// tests: node:http2's own server refuses to send what these tests need
// (garbage frames, frames over the size limit, SETTINGS granting no streams,
// a GOAWAY(NO_ERROR) that never closes). It reads the client preface and
// frames (RFC 9113 section 4.1), answers SETTINGS with an ACK, and hands every
// HEADERS frame to the test's handler. Responses are HPACK-encoded with the
// static table only (`:status` and literal fields without indexing).

import net from 'node:net';

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const FrameType = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
} as const;

export const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;

/** One frame: 9-byte header (length, type, flags, stream id) and payload. */
export function frame(
  type: number,
  flags: number,
  streamId: number,
  payload: Buffer = Buffer.alloc(0),
): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** A SETTINGS frame from [id, value] pairs (RFC 9113 section 6.5.1). */
export function settings(pairs: Array<[number, number]> = []): Buffer {
  const p = Buffer.alloc(pairs.length * 6);
  pairs.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v, i * 6 + 2);
  });
  return frame(FrameType.SETTINGS, 0, 0, p);
}

export function goaway(lastStreamId: number, code: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastStreamId, 0);
  p.writeUInt32BE(code, 4);
  return frame(FrameType.GOAWAY, 0, 0, p);
}

export function rstStream(streamId: number, code: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(FrameType.RST_STREAM, 0, streamId, p);
}

/** HPACK string literal without Huffman coding (RFC 7541 section 5.2), short strings only. */
function hpackString(s: string): Buffer {
  const b = Buffer.from(s, 'latin1');
  if (b.length >= 127) throw new RangeError('test helper: HPACK strings under 127 bytes only');
  return Buffer.concat([Buffer.from([b.length]), b]);
}

/** A response header block: `:status` (literal, indexed name 8) then literal fields. */
export function responseHeaders(
  streamId: number,
  status: number,
  fields: Array<[string, string]> = [],
  endStream = false,
): Buffer {
  const parts: Buffer[] = [Buffer.from([0x08]), hpackString(String(status))];
  for (const [n, v] of fields) parts.push(Buffer.from([0x00]), hpackString(n), hpackString(v));
  return frame(
    FrameType.HEADERS,
    Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0),
    streamId,
    Buffer.concat(parts),
  );
}

export function data(streamId: number, body: Buffer | string, endStream = false): Buffer {
  return frame(FrameType.DATA, endStream ? Flag.END_STREAM : 0, streamId, Buffer.from(body));
}

export interface RawH2Connection {
  socket: net.Socket;
  /** Frame types received from the client, in order. */
  received: Array<{ type: number; flags: number; streamId: number; payload: Buffer }>;
}

export interface RawH2ServerOptions {
  /** The server's SETTINGS, sent first (default: none). */
  settings?: Array<[number, number]>;
  /** A client HEADERS frame arrived (a request on `streamId`). */
  onRequest?: (conn: RawH2Connection, streamId: number) => void;
  /** Any frame from the client (after the preface). */
  onFrame?: (conn: RawH2Connection, type: number, flags: number, streamId: number) => void;
  /** Leave PINGs unanswered (a peer that is gone without closing). */
  silentPings?: boolean;
}

export interface RawH2Server {
  port: number;
  origin: string;
  connections: RawH2Connection[];
  /** Connections accepted and not yet closed. */
  readonly open: number;
  close(): Promise<void>;
}

export async function rawH2Server(options: RawH2ServerOptions): Promise<RawH2Server> {
  const connections: RawH2Connection[] = [];
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: a client's half-close (FIN) is not answered with one: the socket stays until destroyed.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    const conn: RawH2Connection = { socket, received: [] };
    connections.push(conn);
    socket.write(settings(options.settings ?? []));
    let buf = Buffer.alloc(0);
    let prefaceSeen = false;
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (!prefaceSeen) {
        if (buf.length < PREFACE.length) return;
        buf = buf.subarray(PREFACE.length);
        prefaceSeen = true;
      }
      while (buf.length >= 9) {
        const len = buf.readUIntBE(0, 3);
        if (buf.length < 9 + len) break;
        const type = buf[3]!;
        const flags = buf[4]!;
        const streamId = buf.readUInt32BE(5) & 0x7fffffff;
        const payload = buf.subarray(9, 9 + len);
        buf = buf.subarray(9 + len);
        conn.received.push({ type, flags, streamId, payload });
        if (type === FrameType.SETTINGS && (flags & Flag.ACK) === 0 && !socket.destroyed) {
          socket.write(frame(FrameType.SETTINGS, Flag.ACK, 0));
        }
        // RFC 9113 section 6.7: a PING is answered with the same payload.
        if (
          type === FrameType.PING &&
          (flags & Flag.ACK) === 0 &&
          !socket.destroyed &&
          !options.silentPings
        ) {
          socket.write(frame(FrameType.PING, Flag.ACK, 0, payload));
        }
        options.onFrame?.(conn, type, flags, streamId);
        if (type === FrameType.HEADERS) options.onRequest?.(conn, streamId);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    connections,
    get open() {
      return sockets.size;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
