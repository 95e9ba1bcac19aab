// In-process servers for the integration tests: a node:http server with a
// routing handler, a raw TCP server for hand-written responses (HTTP/1.0,
// truncated bodies), and an echo handler that reports what a request looked
// like on the wire (method, target, raw header pairs, body bytes).
//
// Every server listens on 127.0.0.1 (or the host given), tracks the sockets
// it accepted, and close() destroys them before closing the listener, so an
// after() hook leaves no open handle behind.
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { type ServerConnectionStats, trackServerConnections } from './socket-count.js';

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface TestHttpServer {
  server: http.Server;
  host: string;
  port: number;
  /** `http://<host>:<port>` */
  origin: string;
  /** `origin + path` */
  url(path?: string): string;
  /** accepted connections: opened in total and currently open */
  stats: ServerConnectionStats;
  /** the accepted sockets not yet closed */
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

async function listen(server: net.Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A node:http server running `handler` for every request; a throwing handler answers 500. */
export async function startHttpServer(handler: Handler, host = '127.0.0.1'): Promise<TestHttpServer> {
  const server = http.createServer((req, res) => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end(String(err));
        } else {
          res.destroy();
        }
      });
  });
  // Keep-alive connections must stay open between the requests of a test.
  server.keepAliveTimeout = 30_000;
  const stats = trackServerConnections(server);
  const sockets = trackSockets(server);
  const port = await listen(server, host);
  const origin = `http://${hostForUrl(host)}:${port}`;
  return {
    server,
    host,
    port,
    origin,
    url: (path = '/') => origin + path,
    stats,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TestRawServer {
  server: net.Server;
  host: string;
  port: number;
  origin: string;
  url(path?: string): string;
  stats: ServerConnectionStats;
  sockets: Set<net.Socket>;
  close(): Promise<void>;
}

/**
 * A bare TCP server: `onRequest` is called with the socket and the bytes of
 * the request head once a full head (up to CRLFCRLF) arrived, and writes
 * whatever response it wants. Request bodies are not read.
 */
export async function startRawServer(
  onRequest: (socket: net.Socket, head: string) => void,
  host = '127.0.0.1',
): Promise<TestRawServer> {
  const server = net.createServer((socket) => {
    let buf = Buffer.alloc(0);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        onRequest(socket, head);
      }
    });
  });
  const stats = trackServerConnections(server);
  const sockets = trackSockets(server);
  const port = await listen(server, host);
  const origin = `http://${hostForUrl(host)}:${port}`;
  return {
    server,
    host,
    port,
    origin,
    url: (path = '/') => origin + path,
    stats,
    sockets,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The whole request body. */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What the echo handler saw, as the client receives it (JSON). */
export interface EchoRecord {
  method: string;
  url: string;
  httpVersion: string;
  /** raw header pairs in the order and case they were received */
  rawHeaders: Array<[string, string]>;
  /** lower-cased header names to values (repeated ones joined with ", ") */
  headers: Record<string, string>;
  /** the request body, base64 */
  body: string;
}

/** Answers every request with a JSON EchoRecord of itself. */
export const echoHandler: Handler = async (req, res) => {
  const body = await readBody(req);
  const rawHeaders: Array<[string, string]> = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2)
    rawHeaders.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  const headers: Record<string, string> = {};
  for (const [k, v] of rawHeaders) {
    const key = k.toLowerCase();
    headers[key] = key in headers ? `${headers[key]}, ${v}` : v;
  }
  const record: EchoRecord = {
    method: req.method ?? '',
    url: req.url ?? '',
    httpVersion: req.httpVersion,
    rawHeaders,
    headers,
    body: body.toString('base64'),
  };
  const out = Buffer.from(JSON.stringify(record));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': out.length });
  res.end(out);
};

/** Decodes an EchoRecord's body. */
export function echoBody(record: EchoRecord): Buffer {
  return Buffer.from(record.body, 'base64');
}

/** Resolves when `pred()` holds, or rejects after `timeoutMs` (polling every 5 ms). */
export async function waitUntil(pred: () => boolean, timeoutMs = 2000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
