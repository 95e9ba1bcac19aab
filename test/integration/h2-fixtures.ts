// In-process HTTP/2 servers for the h2-*.test.ts files: node:http2 over TLS
// (ALPN h2, optionally http/1.1 too) or plain TCP (h2c, prior knowledge),
// with a set of routes the tests share and a hook for per-test handlers.
// The server counts TCP connections, TLS handshakes, streams and the most
// streams it saw open at once, so tests can assert how the client pooled.

import { once } from 'node:events';
import http2, {
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { BaseResolver, type ResolvedAddress } from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';

export const HOST = '127.0.0.1';

/** Sends every name to 127.0.0.1, so `localhost` (the certificate's name) reaches the server. */
export class LoopbackResolver extends BaseResolver {
  async getaddrinfo(_host: string, port: number): Promise<ResolvedAddress[]> {
    return [{ address: HOST, family: 4, port }];
  }
}

export type StreamHandler = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  server: H2TestServer,
) => void | Promise<void>;

export interface H2ServerOptions {
  /** TLS with ALPN (default) or h2c with prior knowledge. */
  tls?: boolean;
  /** Also accept HTTP/1.1 (ALPN http/1.1) on the TLS port. */
  allowHTTP1?: boolean;
  /** With allowHTTP1: HTTP/1.1 requests carrying `Upgrade` go here (node:http's 'upgrade'). */
  upgrade?: (req: import('node:http').IncomingMessage, socket: net.Socket, head: Buffer) => void;
  settings?: http2.Settings;
  /** Tried first; return false to fall through to the shared routes. */
  handler?: (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    server: H2TestServer,
  ) => boolean | undefined | Promise<boolean | undefined>;
}

export interface H2TestServer {
  port: number;
  /** `https://localhost:<port>` or `http://127.0.0.1:<port>` */
  origin: string;
  pki: TestPki | null;
  /** TCP connections accepted */
  connections: number;
  /** TCP connections still open */
  openConnections: number;
  /** TLS handshakes completed */
  handshakes: number;
  /** streams received */
  streams: number;
  /** streams open right now, and the most seen at once */
  activeStreams: number;
  maxActiveStreams: number;
  /** the most streams seen open at once on any one connection */
  maxStreamsPerSession: number;
  /** PING frames received (acks are automatic) */
  pings: number;
  sessions: Set<Http2Session>;
  /** ALPN protocol of each TLS connection */
  alpn: Array<string | false>;
  /** headers of each stream, in arrival order */
  seen: IncomingHttpHeaders[];
  /** per-path hit counters for the stateful routes */
  hits: Map<string, number>;
  close(): Promise<void>;
}

/** Bytes for /bytes/N: a repeating pattern, so any offset can be checked. */
export function pattern(n: number, offset = 0): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (offset + i) % 251;
  return b;
}

async function readAll(stream: ServerHttp2Stream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Writes `total` bytes respecting the stream's backpressure; returns a counter of bytes handed to Node. */
export async function writeWithBackpressure(
  stream: ServerHttp2Stream,
  total: number,
  progress?: { written: number },
  chunk = 16384,
): Promise<void> {
  let off = 0;
  while (off < total && !stream.destroyed) {
    const n = Math.min(chunk, total - off);
    const ok = stream.write(pattern(n, off));
    off += n;
    if (progress) progress.written = off;
    if (!ok) {
      // Aborting removes the listeners of the event that did not happen.
      const settled = new AbortController();
      await Promise.race([
        once(stream, 'drain', { signal: settled.signal }),
        once(stream, 'close', { signal: settled.signal }),
      ]).finally(() => settled.abort());
    }
  }
  if (!stream.destroyed) stream.end();
}

/** The routes every h2 test server answers. */
const routes: StreamHandler = async (stream, headers, server) => {
  const url = new URL(String(headers[':path']), 'http://x');
  const path = url.pathname;
  const parts = path.split('/').filter(Boolean);
  const count = (key: string) => {
    const n = (server.hits.get(key) ?? 0) + 1;
    server.hits.set(key, n);
    return n;
  };
  switch (parts[0]) {
    case 'hello':
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': 5 });
      stream.end('hello');
      return;
    case 'echo': {
      const body = await readAll(stream);
      const plain: Record<string, string | string[] | undefined> = {};
      for (const [k, v] of Object.entries(headers)) plain[k] = v as string | string[] | undefined;
      const out = Buffer.from(
        JSON.stringify({
          method: headers[':method'],
          path: headers[':path'],
          authority: headers[':authority'],
          scheme: headers[':scheme'],
          headers: plain,
          bodyLength: body.length,
          bodySha:
            body.length > 0
              ? (await import('node:crypto')).createHash('sha256').update(body).digest('hex')
              : null,
          body: body.length <= 1024 ? body.toString('latin1') : null,
        }),
      );
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': out.length });
      stream.end(out);
      return;
    }
    case 'delay': {
      await sleep(Number(parts[1] ?? 100));
      if (stream.destroyed) return;
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`delayed ${parts[1]} ${url.search}`);
      return;
    }
    case 'bytes': {
      const n = Number(parts[1]);
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream', 'content-length': n });
      await writeWithBackpressure(stream, n);
      return;
    }
    case 'trailers':
      stream.respond({ ':status': 200, 'content-type': 'text/plain' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc123', 'x-done': 'yes' }));
      stream.end('body before trailers');
      return;
    case 'early-hints':
      stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload; as=style' });
      await sleep(20);
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('final');
      return;
    case 'continue': {
      // Answers 100 only for a request that asked for it, then echoes the body size.
      if (headers.expect === '100-continue') stream.additionalHeaders({ ':status': 100 });
      const body = await readAll(stream);
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`got ${body.length}`);
      return;
    }
    case 'reject-expect':
      // A final answer instead of 100 Continue: the body must not be sent.
      stream.respond({ ':status': 417, 'content-type': 'text/plain' });
      stream.end('no thanks');
      return;
    case 'gzip': {
      const raw = Buffer.from('compressed over HTTP/2 '.repeat(200));
      const gz = zlib.gzipSync(raw);
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-encoding': 'gzip' });
      stream.end(gz);
      return;
    }
    case 'short':
      // Content-Length says 10, the body has 3 bytes.
      stream.respond({ ':status': 200, 'content-length': 10 });
      stream.end('abc');
      return;
    case 'multi':
      stream.respond({ ':status': 200, 'set-cookie': ['a=1', 'b=2'], 'x-multi': ['one', 'two'] });
      stream.end('multi');
      return;
    case 'rst':
      // /rst/<code>: reset the stream before answering.
      stream.close(Number(parts[1]));
      return;
    case 'rst-once': {
      // /rst-once/<key>/<code>: reset the first time, answer after.
      if (count(`rst-once/${parts[1]}`) === 1) {
        stream.close(Number(parts[2]));
        return;
      }
      stream.respond({ ':status': 200 });
      stream.end(`answered after reset ${parts[2]}`);
      return;
    }
    case 'rst-mid-body':
      // close(code) would end the stream cleanly first; destroy() resets it (INTERNAL_ERROR).
      stream.respond({ ':status': 200 });
      stream.write('x'.repeat(10));
      setTimeout(() => stream.destroy(new Error('reset mid-body')), 20);
      return;
    case 'stall-body':
      // Headers and a little body, then nothing.
      stream.respond({ ':status': 200, 'content-length': 100 });
      stream.write('x'.repeat(10));
      return;
    case 'hang':
      return;
    case 'status':
      stream.respond({ ':status': Number(parts[1]) });
      stream.end();
      return;
    case 'redirect':
      stream.respond({ ':status': 302, location: url.searchParams.get('to') ?? '/hello' });
      stream.end();
      return;
    default:
      stream.respond({ ':status': 404 });
      stream.end('not found');
  }
};

export async function startH2Server(options: H2ServerOptions = {}): Promise<H2TestServer> {
  const tls = options.tls ?? true;
  const pki = tls ? await makeTestPki() : null;
  let server: Http2Server;
  if (tls) {
    server = http2.createSecureServer({
      cert: pki!.serverCertPem,
      key: pki!.serverKeyPem,
      allowHTTP1: options.allowHTTP1 ?? false,
      settings: options.settings,
    });
  } else {
    server = http2.createServer({ settings: options.settings });
  }
  const sockets = new Set<net.Socket>();
  const state: H2TestServer = {
    port: 0,
    origin: '',
    pki,
    connections: 0,
    openConnections: 0,
    handshakes: 0,
    streams: 0,
    activeStreams: 0,
    maxActiveStreams: 0,
    maxStreamsPerSession: 0,
    pings: 0,
    sessions: new Set(),
    alpn: [],
    seen: [],
    hits: new Map(),
    close: async () => {
      for (const s of state.sessions) s.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: net.Socket) => {
    state.connections++;
    state.openConnections++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => {
      state.openConnections--;
      sockets.delete(socket);
    });
  });
  server.on('secureConnection', (s: import('node:tls').TLSSocket) => {
    state.handshakes++;
    state.alpn.push(s.alpnProtocol ?? false);
  });
  server.on('session', (session: Http2Session) => {
    state.sessions.add(session);
    session.on('error', () => {});
    session.on('ping', () => {
      state.pings++;
    });
    session.once('close', () => state.sessions.delete(session));
  });
  const perSession = new WeakMap<Http2Session, number>();
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    state.streams++;
    state.activeStreams++;
    state.maxActiveStreams = Math.max(state.maxActiveStreams, state.activeStreams);
    const session = stream.session!;
    const n = (perSession.get(session) ?? 0) + 1;
    perSession.set(session, n);
    state.maxStreamsPerSession = Math.max(state.maxStreamsPerSession, n);
    state.seen.push(headers);
    stream.on('error', () => {});
    stream.once('close', () => {
      state.activeStreams--;
      perSession.set(session, (perSession.get(session) ?? 1) - 1);
    });
    void (async () => {
      try {
        if (options.handler && (await options.handler(stream, headers, state)) !== false) return;
        await routes(stream, headers, state);
      } catch {
        if (!stream.destroyed) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    })();
  });
  if (options.upgrade) server.on('upgrade', options.upgrade);
  if (options.allowHTTP1) {
    server.on('request', (req, res) => {
      if (req.httpVersion === '2.0') return;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`http1 ${req.url}`);
    });
  }
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.origin = tls ? `https://localhost:${state.port}` : `http://${HOST}:${state.port}`;
  return state;
}

/** Pool options that reach a TLS test server through its name. */
export function tlsOptions(s: H2TestServer): { caCerts: string; resolver: LoopbackResolver } {
  return { caCerts: s.pki!.caCert, resolver: new LoopbackResolver() };
}

export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a value');
}
