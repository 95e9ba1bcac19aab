// In-process proxies for tests: an HTTP(S) forward proxy that also answers
// CONNECT, and a SOCKS4/4a/5 server with optional username/password. Each
// records what it saw so tests can assert what the proxy (and only the
// proxy) received. Loopback only; close() destroys every socket.

import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxySeen {
  /** Forwarded requests: the request line target (absolute URI) and headers. */
  forwarded: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  /** CONNECT requests: the authority and headers. */
  connects: { authority: string; headers: http.IncomingHttpHeaders }[];
  /** TCP connections accepted by the proxy. */
  connections: number;
}

export interface TestProxy {
  host: string;
  port: number;
  url: string;
  seen: ProxySeen;
  close(): Promise<void>;
}

export interface HttpProxyOptions {
  /** Require `Proxy-Authorization: Basic base64(user:pass)`, else 407. */
  auth?: { username: string; password: string };
  /** Serve the proxy itself over TLS with this key and certificate. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Answer CONNECT with this status instead of tunnelling. */
  connectStatus?: number;
}

function trackSockets(server: net.Server): Set<net.Socket> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return sockets;
}

function splitAuthority(authority: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(authority);
  if (!m) throw new Error(`bad authority ${authority}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export async function startHttpProxy(options: HttpProxyOptions = {}): Promise<TestProxy> {
  const seen: ProxySeen = { forwarded: [], connects: [], connections: 0 };
  const expectedAuth = options.auth
    ? `Basic ${Buffer.from(`${options.auth.username}:${options.auth.password}`).toString('base64')}`
    : null;
  const authorized = (headers: http.IncomingHttpHeaders) =>
    expectedAuth === null || headers['proxy-authorization'] === expectedAuth;

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.forwarded.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (!authorized(req.headers)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"', 'content-length': '0' });
      res.end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400, { 'content-length': '0' });
      res.end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const client = target.protocol === 'https:' ? https : http;
    const upstream = client.request(
      {
        host: target.hostname.replace(/^\[|\]$/g, ''),
        port: target.port || (target.protocol === 'https:' ? 443 : 80),
        method: req.method,
        path: `${target.pathname}${target.search}`,
        headers,
        rejectUnauthorized: false,
        agent: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'content-length': '0' });
      res.end();
    });
    req.pipe(upstream);
  };

  const server: http.Server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, onRequest)
    : http.createServer(onRequest);
  server.keepAliveTimeout = 5000;
  const sockets = trackSockets(server);
  server.on(options.tls ? 'secureConnection' : 'connection', () => {
    seen.connections++;
  });
  server.on('connect', (req: http.IncomingMessage, clientSocket: net.Socket, head: Buffer) => {
    seen.connects.push({ authority: req.url ?? '', headers: req.headers });
    sockets.add(clientSocket);
    if (!authorized(req.headers)) {
      clientSocket.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    if (options.connectStatus !== undefined) {
      clientSocket.end(`HTTP/1.1 ${options.connectStatus} Nope\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    let dest: { host: string; port: number };
    try {
      dest = splitAuthority(req.url ?? '');
    } catch {
      clientSocket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = net.connect(dest.port, dest.host, () => {
      clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(clientSocket);
      clientSocket.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => {
      if (!clientSocket.destroyed) clientSocket.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
    });
    clientSocket.on('error', () => upstream.destroy());
    clientSocket.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---- SOCKS -----------------------------------------------------------------

export interface SocksSeen {
  requests: {
    version: 4 | 5;
    host: string;
    port: number;
    username: string | null;
    addressType: 'ipv4' | 'ipv6' | 'domain';
  }[];
  connections: number;
}

export interface TestSocksProxy {
  host: string;
  port: number;
  seen: SocksSeen;
  close(): Promise<void>;
}

export interface SocksProxyOptions {
  /** Require SOCKS5 username/password (and this SOCKS4 user id). */
  auth?: { username: string; password: string };
  /** Answer every CONNECT with this SOCKS5 reply code (SOCKS4: 0x5b) instead of connecting. */
  failWith?: number;
}

class Reader {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | null = null;
  private ended = false;
  constructor(socket: net.Socket) {
    socket.on('data', (c: Buffer) => {
      this.buf = Buffer.concat([this.buf, c]);
      this.waiting?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
  }
  async take(n: number): Promise<Buffer> {
    while (this.buf.length < n) {
      if (this.ended) throw new Error('socket closed');
      await new Promise<void>((r) => {
        this.waiting = r;
      });
      this.waiting = null;
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
  async takeUntilNul(): Promise<string> {
    for (;;) {
      const i = this.buf.indexOf(0);
      if (i !== -1) {
        const s = this.buf.subarray(0, i).toString('utf8');
        this.buf = this.buf.subarray(i + 1);
        return s;
      }
      if (this.ended) throw new Error('socket closed');
      await new Promise<void>((r) => {
        this.waiting = r;
      });
      this.waiting = null;
    }
  }
  rest(): Buffer {
    const b = this.buf;
    this.buf = Buffer.alloc(0);
    return b;
  }
}

export async function startSocksProxy(options: SocksProxyOptions = {}): Promise<TestSocksProxy> {
  const seen: SocksSeen = { requests: [], connections: 0 };
  const server = net.createServer((socket) => {
    seen.connections++;
    socket.on('error', () => {});
    handle(socket).catch(() => socket.destroy());
  });
  const sockets = trackSockets(server);

  async function connectAndPipe(
    socket: net.Socket,
    reader: Reader,
    host: string,
    port: number,
    ok: Buffer,
    fail: Buffer,
  ) {
    const upstream = net.connect(port, host);
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    await new Promise<void>((resolve) => {
      upstream.once('connect', () => {
        socket.write(ok);
        const early = reader.rest();
        if (early.length) upstream.write(early);
        socket.removeAllListeners('data');
        upstream.pipe(socket);
        socket.pipe(upstream);
        socket.on('close', () => upstream.destroy());
        resolve();
      });
      upstream.once('error', () => {
        socket.end(fail);
        resolve();
      });
    });
  }

  async function handle(socket: net.Socket): Promise<void> {
    const reader = new Reader(socket);
    const [ver] = await reader.take(1);
    if (ver === 4) {
      const head = await reader.take(7);
      const port = head.readUInt16BE(1);
      let host = `${head[3]}.${head[4]}.${head[5]}.${head[6]}`;
      const user = await reader.takeUntilNul();
      let addressType: 'ipv4' | 'domain' = 'ipv4';
      if (head[3] === 0 && head[4] === 0 && head[5] === 0 && head[6] !== 0) {
        host = await reader.takeUntilNul();
        addressType = 'domain';
      }
      seen.requests.push({ version: 4, host, port, username: user || null, addressType });
      const reject = Buffer.from([0, 0x5b, 0, 0, 0, 0, 0, 0]);
      if (options.failWith !== undefined || (options.auth && user !== options.auth.username)) {
        socket.end(reject);
        return;
      }
      await connectAndPipe(socket, reader, host, port, Buffer.from([0, 0x5a, 0, 0, 0, 0, 0, 0]), reject);
      return;
    }
    if (ver !== 5) {
      socket.destroy();
      return;
    }
    const [n] = await reader.take(1);
    const methods = [...(await reader.take(n!))];
    let username: string | null = null;
    if (options.auth) {
      if (!methods.includes(2)) {
        socket.end(Buffer.from([5, 0xff]));
        return;
      }
      socket.write(Buffer.from([5, 2]));
      await reader.take(1);
      const [ulen] = await reader.take(1);
      username = (await reader.take(ulen!)).toString();
      const [plen] = await reader.take(1);
      const password = (await reader.take(plen!)).toString();
      if (username !== options.auth.username || password !== options.auth.password) {
        socket.end(Buffer.from([1, 1]));
        return;
      }
      socket.write(Buffer.from([1, 0]));
    } else {
      socket.write(Buffer.from([5, 0]));
    }
    const req = await reader.take(4);
    let host: string;
    let addressType: 'ipv4' | 'ipv6' | 'domain';
    if (req[3] === 1) {
      host = [...(await reader.take(4))].join('.');
      addressType = 'ipv4';
    } else if (req[3] === 4) {
      const b = await reader.take(16);
      const groups: string[] = [];
      for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
      host = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
      addressType = 'ipv6';
    } else {
      const [len] = await reader.take(1);
      host = (await reader.take(len!)).toString();
      addressType = 'domain';
    }
    const port = (await reader.take(2)).readUInt16BE(0);
    seen.requests.push({ version: 5, host, port, username, addressType });
    const reply = (code: number) => Buffer.from([5, code, 0, 1, 127, 0, 0, 1, 0, 0]);
    if (options.failWith !== undefined) {
      socket.end(reply(options.failWith));
      return;
    }
    if (addressType === 'domain' && host === 'localhost') host = '127.0.0.1';
    await connectAndPipe(socket, reader, host, port, reply(0), reply(5));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
