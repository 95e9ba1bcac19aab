// In-process servers for the integration tests, all on loopback:
//
//  * startHttpServer() / startHttpsServer(): node:http(s) servers with a few
//    fixed routes (echo, status, redirect, delay, held bodies) that record
//    every request and which TCP connection carried it;
//  * rawServer(): a node:net server that parses requests itself and hands each
//    one to a script, for peers that misbehave on purpose (garbage, resets,
//    stalls, truncated bodies);
//  * small helpers for writing slowly and for waiting on a condition.
//
// Every server keeps its accepted sockets and destroys them in close(), and
// every timer it starts is cleared there, so a test file ends with no open
// handles as long as it closes its servers in an after() hook.

import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { TLSSocket } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ServerConnectionStats, trackServerConnections } from './socket-count.js';

export const LOOPBACK = '127.0.0.1';

// ---------------------------------------------------------------------------
// shared bits

/** Connection numbering and bookkeeping shared by every server kind. */
interface SocketBook {
  sockets: Set<net.Socket>;
  ids: WeakMap<net.Socket, number>;
  /** highest number of simultaneously open accepted connections seen */
  maxOpen: number;
}

function bookSockets(server: net.Server): SocketBook {
  const book: SocketBook = { sockets: new Set(), ids: new WeakMap(), maxOpen: 0 };
  let next = 0;
  server.on('connection', (socket: net.Socket) => {
    book.ids.set(socket, next++);
    book.sockets.add(socket);
    book.maxOpen = Math.max(book.maxOpen, book.sockets.size);
    // A peer reset must not become an uncaught 'error' in the test process.
    socket.on('error', () => {});
    socket.once('close', () => book.sockets.delete(socket));
  });
  return book;
}

async function listen(server: net.Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no TCP address');
  return address.port;
}

async function closeServer(server: net.Server, book: SocketBook): Promise<void> {
  for (const s of book.sockets) s.destroy();
  if (!server.listening) return;
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Polls `pred` every few ms until it holds or `timeoutMs` passes; resolves
 * with the last result, so the caller's assertion reports what it saw.
 */
export async function waitUntil(pred: () => boolean, timeoutMs = 2000, stepMs = 5): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (pred()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(stepMs);
  }
}

/**
 * Writes `data` in pieces of `chunkSize` bytes with `delayMs` between them.
 * Stops quietly when the socket goes away.
 */
export async function writeSlowly(
  socket: net.Socket,
  data: Buffer | string,
  options: { chunkSize?: number; delayMs?: number } = {},
): Promise<void> {
  const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  const size = options.chunkSize ?? 1;
  const delay = options.delayMs ?? 1;
  for (let i = 0; i < buf.length; i += size) {
    if (socket.destroyed || !socket.writable) return;
    socket.write(buf.subarray(i, i + size));
    await sleep(delay);
  }
}

// ---------------------------------------------------------------------------
// node:http / node:https servers with fixed routes

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
  remoteAddress: string;
  remotePort: number;
  /** 0-based number of the TCP connection that carried it, in accept order */
  connectionId: number;
}

/** What /echo answers with (JSON). */
export interface EchoBody {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  bodyLength: number;
  remoteAddress: string;
  remotePort: number;
  connectionId: number;
}

/** Return true when the request was handled; false falls through to the built-in routes. */
export type ExtraRoute = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  rec: RecordedRequest,
) => boolean;

export interface TestHttpServer {
  server: http.Server;
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` (or https) */
  origin: string;
  stats: ServerConnectionStats;
  /** highest number of simultaneously open connections seen */
  readonly maxOpen: number;
  /** connections open right now */
  readonly openSockets: number;
  requests: RecordedRequest[];
  /** requests currently being answered (held or delayed responses included) */
  readonly inFlight: number;
  /** highest `inFlight` seen */
  readonly maxInFlight: number;
  /** completes every response held by /hold */
  finishHeld(): void;
  /** number of /hold responses waiting for finishHeld() */
  readonly heldCount: number;
  close(): Promise<void>;
}

export interface TestHttpsServer extends TestHttpServer {
  /** SNI names the server saw, one per TLS connection (null when none was sent) */
  sniNames: (string | null)[];
}

/**
 * Built-in routes:
 *  - `/echo...`           JSON EchoBody describing the request
 *  - `/status/<code>`     that status, body `status <code>`
 *  - `/redirect?to=&status=`  a redirect (default 302) to `to`
 *  - `/delay?ms=`         answers with EchoBody after `ms` milliseconds
 *  - `/hold`              Content-Length: 10, sends 5 bytes, then the other 5 on finishHeld()
 *  - `/bytes?n=`          n bytes of 'x'
 * Anything else: 404.
 */
function makeHandler(state: {
  book: SocketBook;
  requests: RecordedRequest[];
  timers: Set<NodeJS.Timeout>;
  held: Set<http.ServerResponse>;
  inFlight: number;
  maxInFlight: number;
  extra: ExtraRoute | undefined;
}): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const socket = req.socket;
      const rec: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks),
        remoteAddress: socket.remoteAddress ?? '',
        remotePort: socket.remotePort ?? 0,
        connectionId: state.book.ids.get(socket) ?? -1,
      };
      state.requests.push(rec);
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      res.once('close', () => {
        state.inFlight--;
      });
      if (state.extra?.(req, res, rec)) return;
      const u = new URL(rec.url, 'http://placeholder');
      const echo = (): void => {
        const body: EchoBody = {
          method: rec.method,
          url: rec.url,
          headers: rec.headers,
          rawHeaders: rec.rawHeaders,
          body: rec.body.toString('utf8'),
          bodyLength: rec.body.length,
          remoteAddress: rec.remoteAddress,
          remotePort: rec.remotePort,
          connectionId: rec.connectionId,
        };
        const json = Buffer.from(JSON.stringify(body));
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': json.length });
        res.end(json);
      };
      if (u.pathname.startsWith('/echo')) {
        echo();
        return;
      }
      const status = /^\/status\/(\d{3})$/.exec(u.pathname);
      if (status) {
        const code = Number(status[1]);
        const text = `status ${code}`;
        res.writeHead(code, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      if (u.pathname === '/redirect') {
        const code = Number(u.searchParams.get('status') ?? '302');
        const text = 'redirecting';
        res.writeHead(code, {
          Location: u.searchParams.get('to') ?? '/echo',
          'Content-Type': 'text/plain',
          'Content-Length': text.length,
        });
        res.end(text);
        return;
      }
      if (u.pathname === '/delay') {
        const ms = Math.min(Number(u.searchParams.get('ms') ?? '0'), 2000);
        const timer = setTimeout(() => {
          state.timers.delete(timer);
          echo();
        }, ms);
        state.timers.add(timer);
        return;
      }
      if (u.pathname === '/hold') {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 10 });
        res.write('01234');
        state.held.add(res);
        res.once('close', () => state.held.delete(res));
        return;
      }
      if (u.pathname === '/bytes') {
        const n = Math.min(Number(u.searchParams.get('n') ?? '0'), 16 * 1024 * 1024);
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': n });
        res.end(Buffer.alloc(n, 'x'));
        return;
      }
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Content-Length': 9 });
      res.end('not found');
    });
  };
}

function wrapServer<S extends http.Server>(
  server: S,
  scheme: 'http' | 'https',
  extra: ExtraRoute | undefined,
): { finish: (port: number) => TestHttpServer; stats: ServerConnectionStats } {
  const book = bookSockets(server);
  const stats = trackServerConnections(server);
  const state = {
    book,
    requests: [] as RecordedRequest[],
    timers: new Set<NodeJS.Timeout>(),
    held: new Set<http.ServerResponse>(),
    inFlight: 0,
    maxInFlight: 0,
    extra,
  };
  server.on('request', makeHandler(state));
  const finish = (port: number): TestHttpServer => ({
    server,
    host: LOOPBACK,
    port,
    origin: `${scheme}://${LOOPBACK}:${port}`,
    stats,
    get maxOpen() {
      return book.maxOpen;
    },
    get openSockets() {
      return book.sockets.size;
    },
    requests: state.requests,
    get inFlight() {
      return state.inFlight;
    },
    get maxInFlight() {
      return state.maxInFlight;
    },
    finishHeld() {
      for (const res of state.held) res.end('56789');
      state.held.clear();
    },
    get heldCount() {
      return state.held.size;
    },
    async close() {
      for (const t of state.timers) clearTimeout(t);
      state.timers.clear();
      state.held.clear();
      server.closeAllConnections();
      await closeServer(server, book);
    },
  });
  return { finish, stats };
}

export async function startHttpServer(extra?: ExtraRoute): Promise<TestHttpServer> {
  const server = http.createServer();
  const { finish } = wrapServer(server, 'http', extra);
  const port = await listen(server, LOOPBACK);
  return finish(port);
}

export async function startHttpsServer(
  tlsOptions: { cert: string | Buffer; key: string | Buffer },
  extra?: ExtraRoute,
): Promise<TestHttpsServer> {
  const server = https.createServer({ cert: tlsOptions.cert, key: tlsOptions.key });
  const sniNames: (string | null)[] = [];
  server.on('secureConnection', (tlsSocket: TLSSocket) => {
    const name = (tlsSocket as TLSSocket & { servername?: string | false }).servername;
    sniNames.push(typeof name === 'string' ? name : null);
  });
  // Handshake failures (the client rejecting our certificate) are expected.
  server.on('tlsClientError', () => {});
  const { finish } = wrapServer(server, 'https', extra);
  const port = await listen(server, LOOPBACK);
  return Object.assign(finish(port), { sniNames });
}

// ---------------------------------------------------------------------------
// raw node:net scripted servers

export interface RawRequest {
  method: string;
  target: string;
  /** header names lower-cased; repeated headers joined with ', ' */
  headers: Record<string, string>;
  body: Buffer;
  /** the request exactly as received (head and body) */
  raw: Buffer;
  /** 0-based connection number, in accept order */
  connectionIndex: number;
  /** 0-based number of this request on its connection */
  requestIndex: number;
}

export interface RawContext {
  connectionIndex: number;
  requestIndex: number;
  /** starts a timer that the server clears on close() */
  setTimer(fn: () => void, ms: number): void;
}

/**
 * Called once per complete request, in order, on each connection; the next
 * request on the same connection is parsed only after the returned promise
 * settles.
 */
export type RawHandler = (socket: net.Socket, request: RawRequest, ctx: RawContext) => void | Promise<void>;

export interface RawServerOptions {
  /**
   * Called for each accepted connection before anything is read. Return
   * true when it took the connection over (e.g. reset it): no request
   * parsing happens then.
   */
  onConnection?: (socket: net.Socket, connectionIndex: number, ctx: RawContext) => boolean | undefined;
}

export interface RawServer {
  server: net.Server;
  host: string;
  port: number;
  origin: string;
  stats: ServerConnectionStats;
  /** every complete request received, in order */
  requests: RawRequest[];
  /** raw bytes received per connection (including incomplete requests) */
  received: Buffer[];
  readonly maxOpen: number;
  readonly openSockets: number;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

interface Parsed {
  request: Omit<RawRequest, 'connectionIndex' | 'requestIndex'>;
  used: number;
}

/** One request from the front of `buf`, or null when it is not complete yet. */
function parseRequest(buf: Buffer): Parsed | null {
  const headEnd = buf.indexOf(HEAD_END);
  if (headEnd === -1) return null;
  const head = buf.subarray(0, headEnd).toString('latin1');
  const lines = head.split('\r\n');
  const [method = '', target = ''] = (lines[0] ?? '').split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon === -1) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  let pos = headEnd + 4;
  let body: Buffer;
  if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos, 'latin1');
      if (eol === -1) return null;
      const size = Number.parseInt(buf.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
      if (!Number.isFinite(size)) throw new Error('raw server: bad chunk size from client');
      pos = eol + 2;
      if (size === 0) {
        // trailer section: lines until an empty one
        for (;;) {
          const e = buf.indexOf('\r\n', pos, 'latin1');
          if (e === -1) return null;
          const empty = e === pos;
          pos = e + 2;
          if (empty) break;
        }
        break;
      }
      if (buf.length < pos + size + 2) return null;
      parts.push(buf.subarray(pos, pos + size));
      pos += size + 2;
    }
    body = Buffer.concat(parts);
  } else {
    const len = Number(headers['content-length'] ?? '0');
    if (buf.length < pos + len) return null;
    body = Buffer.from(buf.subarray(pos, pos + len));
    pos += len;
  }
  return { request: { method, target, headers, body, raw: Buffer.from(buf.subarray(0, pos)) }, used: pos };
}

export async function rawServer(handler: RawHandler, options: RawServerOptions = {}): Promise<RawServer> {
  const server = net.createServer();
  const book = bookSockets(server);
  const stats = trackServerConnections(server);
  const requests: RawRequest[] = [];
  const received: Buffer[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let connections = 0;
  const makeCtx = (connectionIndex: number, requestIndex: number): RawContext => ({
    connectionIndex,
    requestIndex,
    setTimer(fn, ms) {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    },
  });

  server.on('connection', (socket: net.Socket) => {
    const connectionIndex = connections++;
    received[connectionIndex] = Buffer.alloc(0);
    if (options.onConnection?.(socket, connectionIndex, makeCtx(connectionIndex, -1)) === true) return;
    let pending = Buffer.alloc(0);
    let requestIndex = 0;
    let busy = false;
    const pump = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        for (;;) {
          if (socket.destroyed) return;
          let parsed: Parsed | null;
          try {
            parsed = parseRequest(pending);
          } catch {
            socket.destroy();
            return;
          }
          if (parsed === null) return;
          pending = pending.subarray(parsed.used);
          const request: RawRequest = { ...parsed.request, connectionIndex, requestIndex };
          requests.push(request);
          const ctx = makeCtx(connectionIndex, requestIndex);
          requestIndex++;
          await handler(socket, request, ctx);
        }
      } finally {
        busy = false;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      received[connectionIndex] = Buffer.concat([received[connectionIndex]!, chunk]);
      pending = Buffer.concat([pending, chunk]);
      void pump().catch(() => socket.destroy());
    });
  });

  const port = await listen(server, LOOPBACK);
  return {
    server,
    host: LOOPBACK,
    port,
    origin: `http://${LOOPBACK}:${port}`,
    stats,
    requests,
    received,
    get maxOpen() {
      return book.maxOpen;
    },
    get openSockets() {
      return book.sockets.size;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await closeServer(server, book);
    },
  };
}

/** A complete HTTP/1.1 response with a Content-Length body. */
export function httpResponse(
  status: number,
  body: string | Buffer = '',
  headers: Record<string, string> = {},
  reason = 'OK',
): Buffer {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  const lower = Object.keys(headers).map((k) => k.toLowerCase());
  if (!lower.includes('content-length') && !lower.includes('transfer-encoding')) {
    head += `Content-Length: ${b.length}\r\n`;
  }
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), b]);
}

/** Whether this process may bind `address` (e.g. 127.0.0.2 on systems without the whole 127/8). */
export async function canBind(address: string): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, address, () => resolve());
    });
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
