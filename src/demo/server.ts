// The demo's embedded server: a small httpbin on a loopback port, so `npm run
// demo` and the documentation's examples (test/docs/) run with no network.
// It answers the httpbin paths the docs use, with httpbin's JSON shapes:
// /get, /post, /put, /patch, /delete, /anything, /headers, /robots.txt,
// /bytes/N, /delay/N, /redirect/N, /relative-redirect/N, /redirect-to,
// /status/N, /basic-auth/U/P, /cookies, /cookies/set, /response-headers,
// /gzip, /image/png, and an echo after `101 Switching Protocols` for any
// request with `Upgrade`.
// A plain port speaks HTTP/1.1 and HTTP/2 with prior knowledge (h2c): the
// first bytes of a connection tell which. With a key and certificate it
// serves HTTPS instead, HTTP/2 or HTTP/1.1 by ALPN.

import { once } from 'node:events';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import {
  createServer as createH2Server,
  createSecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import {
  type AddressInfo,
  createServer as createNetServer,
  type Server as NetServer,
  type Socket,
} from 'node:net';
import { Duplex } from 'node:stream';
import { gzipSync } from 'node:zlib';

type Req = IncomingMessage | Http2ServerRequest;
type Res = ServerResponse | Http2ServerResponse;

export interface DemoServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** A 1x1 transparent PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

function readBody(req: Req): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Header names as httpbin shows them: `Content-Type`, `X-Something`. */
function titleHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  // HTTP/2 carries the host in :authority; httpbin shows it as Host either way.
  const authority = headers[':authority'];
  if (typeof authority === 'string') out.Host = authority;
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(':') || value === undefined) continue;
    const title = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    out[title] = Array.isArray(value) ? value.join(',') : value;
  }
  return out;
}

interface Parsed {
  form: Record<string, string>;
  files: Record<string, string>;
  json: unknown;
  data: string;
}

/** The request body as httpbin reports it: form fields, files, JSON, or the raw text. */
function parseBody(contentType: string, body: Buffer): Parsed {
  const out: Parsed = { form: {}, files: {}, json: null, data: '' };
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('latin1'))) out.form[k] = v;
  } else if (type === 'multipart/form-data') {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType)?.[1];
    if (boundary !== undefined) {
      for (const part of body.toString('latin1').split(`--${boundary}`)) {
        const split = part.indexOf('\r\n\r\n');
        if (split === -1) continue;
        const head = part.slice(0, split);
        const value = Buffer.from(part.slice(split + 4).replace(/\r\n$/, ''), 'latin1').toString('utf8');
        const name = /name="([^"]*)"/i.exec(head)?.[1];
        if (name === undefined) continue;
        if (/filename="/i.test(head)) out.files[name] = value;
        else out.form[name] = value;
      }
    }
  } else {
    out.data = body.toString('utf8');
    if (type === 'application/json') {
      try {
        out.json = JSON.parse(out.data);
      } catch {
        out.json = null;
      }
    }
  }
  return out;
}

function sendJson(res: Res, status: number, value: unknown, extra: Record<string, string> = {}): void {
  const body = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': body.length, ...extra });
  res.end(body);
}

function redirect(res: Res, location: string, status = 302): void {
  res.writeHead(status, { Location: location, 'Content-Length': 0 });
  res.end();
}

/** Writes `total` bytes of a repeating pattern, waiting for 'drain' when the client is behind. */
function sendBytes(res: Res, total: number): void {
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': total });
  const piece = Buffer.alloc(64 * 1024, 0x61);
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(piece.length, total - sent);
      sent += n;
      if (!(res as ServerResponse).write(piece.subarray(0, n))) {
        (res as ServerResponse).once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

async function handle(req: Req, res: Res, base: string): Promise<void> {
  const url = new URL(req.url ?? '/', base);
  const parts = url.pathname.split('/').filter(Boolean);
  const method = req.method ?? 'GET';
  const body = await readBody(req);
  const args = Object.fromEntries(url.searchParams);
  const headers = titleHeaders(req.headers);
  const echo = () => ({ args, headers, origin: '127.0.0.1', url: url.href });
  const withBody = () => ({ ...echo(), ...parseBody(req.headers['content-type'] ?? '', body), method });
  const n = Number(parts[1]);

  switch (parts[0]) {
    case undefined:
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('urllib3-ts demo server: a small httpbin\n');
      return;
    case 'robots.txt':
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('User-agent: *\nDisallow: /deny\n');
      return;
    case 'get':
      return sendJson(res, 200, echo());
    case 'post':
    case 'put':
    case 'patch':
    case 'delete':
    case 'anything':
      return sendJson(res, 200, withBody());
    case 'headers':
      return sendJson(res, 200, { headers });
    case 'gzip': {
      const gz = gzipSync(JSON.stringify({ gzipped: true, headers, method }));
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Encoding': 'gzip',
        'Content-Length': gz.length,
      });
      res.end(gz);
      return;
    }
    case 'image':
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': PNG.length });
      res.end(PNG);
      return;
    case 'bytes':
    case 'stream-bytes':
      return sendBytes(res, Number.isFinite(n) && n >= 0 ? n : 0);
    case 'delay': {
      const seconds = Math.min(Number.isFinite(n) ? n : 0, 10);
      const timer = setTimeout(() => sendJson(res, 200, echo()), seconds * 1000);
      res.on('close', () => clearTimeout(timer));
      return;
    }
    case 'redirect':
    case 'relative-redirect':
      if (!Number.isInteger(n) || n < 1) return sendJson(res, 404, { error: 'not found' });
      return redirect(res, n === 1 ? '/get' : `/relative-redirect/${n - 1}`);
    case 'redirect-to':
      return redirect(res, args.url ?? '/get', Number(args.status_code ?? 302));
    case 'status': {
      const status = Number.isInteger(n) && n >= 200 && n < 600 ? n : 400;
      if (status >= 300 && status < 400) return redirect(res, '/redirect/1', status);
      res.writeHead(status, { 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'basic-auth': {
      const expected = `Basic ${Buffer.from(`${parts[1]}:${parts[2]}`).toString('base64')}`;
      if (req.headers.authorization === expected)
        return sendJson(res, 200, { authenticated: true, user: parts[1] });
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Fake Realm"', 'Content-Length': 0 });
      res.end();
      return;
    }
    case 'cookies': {
      if (parts[1] === 'set') {
        res.writeHead(302, {
          Location: '/cookies',
          'Set-Cookie': Object.entries(args).map(([k, v]) => `${k}=${v}; Path=/`),
          'Content-Length': 0,
        });
        res.end();
        return;
      }
      const cookies: Record<string, string> = {};
      for (const pair of (req.headers.cookie ?? '').split(';')) {
        const eq = pair.indexOf('=');
        if (eq > 0) cookies[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
      }
      return sendJson(res, 200, { cookies });
    }
    case 'response-headers':
      return sendJson(res, 200, args, args);
    default:
      return sendJson(res, 404, { error: `no route for ${url.pathname}` });
  }
}

/** `101 Switching Protocols`, then every byte the client sends comes back. */
function upgradeEcho(req: IncomingMessage, socket: Socket, head: Buffer): void {
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`,
  );
  if (head.length > 0) socket.write(head);
  socket.pipe(socket);
  socket.on('error', () => socket.destroy());
}

/** A duplex over `socket` whose reading starts with `first`, the bytes already taken from it. */
function replay(socket: Socket, first: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(err, callback) {
      socket.destroy(err ?? undefined);
      callback(err);
    },
  });
  duplex.push(first);
  socket.on('data', (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('close', () => duplex.destroy());
  return duplex;
}

export interface DemoServerOptions {
  /** 0 (the default): any free port. */
  port?: number;
  /** Serve HTTPS (HTTP/2 and HTTP/1.1 by ALPN) with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
}

/** Starts the server on 127.0.0.1. */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const scheme = options.tls ? 'https' : 'http';
  let base = `${scheme}://127.0.0.1`;
  const onRequest = (req: Req, res: Res): void => {
    handle(req, res, base).catch(() => res.destroy());
  };
  const sockets = new Set<Socket>();
  let connections = 0;
  const track = (socket: Socket): void => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let front: NetServer;
  if (options.tls) {
    front = createSecureServer({ ...options.tls, allowHTTP1: true }, onRequest);
    front.on('connection', track);
  } else {
    const h1 = createHttpServer(onRequest);
    h1.on('upgrade', upgradeEcho);
    const h2 = createH2Server(onRequest);
    // The first bytes tell HTTP/2 with prior knowledge (its preface) from HTTP/1.1.
    front = createNetServer((socket) => {
      track(socket);
      let seen = Buffer.alloc(0);
      const sniff = (chunk: Buffer): void => {
        seen = Buffer.concat([seen, chunk]);
        const n = Math.min(seen.length, H2_PREFACE.length);
        const isH2 = seen.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
        if (isH2 && seen.length < H2_PREFACE.length) return;
        socket.off('data', sniff);
        socket.pause();
        if (isH2) {
          // node:http2 reads the socket's handle directly and would miss bytes
          // already read; a stream in front of the socket hands them over.
          h2.emit('connection', replay(socket, seen));
        } else {
          socket.unshift(seen);
          h1.emit('connection', socket);
          socket.resume();
        }
      };
      socket.on('data', sniff);
    });
  }
  front.listen(options.port ?? 0, '127.0.0.1');
  await once(front, 'listening');
  const actual = (front.address() as AddressInfo).port;
  base = `${scheme}://127.0.0.1:${actual}`;
  return {
    url: base,
    port: actual,
    get connections() {
      return connections;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}
