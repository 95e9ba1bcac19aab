// Tests of the real-proxy harness itself (squid, stunnel in front of squid,
// dante), with node:net, node:http and node:tls as the only clients, so a
// failure here points at the harness or the installed proxy, never at the
// library's own proxy support.
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import tls from 'node:tls';
import { makeTestPki } from '../support/certs.js';
import {
  type DanteProxy,
  type ProxyCredentials,
  processGroupMembers,
  type RunningProxy,
  readSquidAccessLog,
  requireProxy,
  type SquidLogEntry,
  type SquidProxy,
  startDante,
  startSquid,
  startStunnelFor,
} from '../support/real-proxies.js';
import { waitForSocketCount } from '../support/socket-count.js';

const CREDS: ProxyCredentials = { username: 'alice', password: 's3cret pass' };

// ---------------------------------------------------------------------------
// Shared servers, started on first use and stopped once at the end

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

/** The origin every proxy forwards to: records what it was asked, answers `hello <url>`. */
const target = (() => {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'text/plain');
    // No idle connections from squid to here: the socket count at the end
    // would include them.
    res.setHeader('connection', 'close');
    res.end(`hello ${req.url}`);
  });
  let listening: Promise<number> | undefined;
  return {
    seen,
    port: () =>
      (listening ??= new Promise<number>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
      )),
    close: async () => {
      if (!listening) return;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
})();

const started: RunningProxy[] = [];
function shared<T extends RunningProxy>(start: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () =>
    (p ??= start().then((proxy) => {
      started.push(proxy);
      return proxy;
    }));
}
const squid = shared(() => startSquid());
const squidAuth = shared(() => startSquid({ auth: CREDS }));
const dante = shared(() => startDante());
const danteAuth = shared(() => startDante({ auth: CREDS }));

after(async () => {
  await Promise.all(started.map((p) => p.stop()));
  await target.close();
});

// ---------------------------------------------------------------------------
// Clients

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** An absolute-URI request to an HTTP(S) proxy, as a forwarding client sends it. */
function viaProxy(
  proxy: { host: string; port: number },
  url: string,
  opts: { headers?: http.OutgoingHttpHeaders; tls?: https.RequestOptions } = {},
): Promise<Reply> {
  const u = new URL(url);
  const options: https.RequestOptions = {
    host: proxy.host,
    port: proxy.port,
    path: url,
    headers: { host: u.host, ...opts.headers },
    agent: false,
    ...opts.tls,
  };
  return new Promise((resolve, reject) => {
    const req = (opts.tls ? https : http).request(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`timed out: ${url} via ${proxy.port}`)));
    req.end();
  });
}

/**
 * Sends CONNECT `authority` over `socket` (plain or TLS to the proxy) and
 * resolves with the status, the head and the socket positioned after it.
 */
async function connectTunnel(
  socket: net.Socket,
  authority: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; head: string; socket: net.Socket }> {
  const conversation = new Conversation(socket);
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);
  const head = (await conversation.readUntil('\r\n\r\n')).toString('latin1');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  // A refusal comes with a body; a tunnel must start clean.
  conversation.release(status === 200);
  return { status, head, socket };
}

/** One HTTP/1.1 request over an already open (tunnelled) socket; Connection: close. */
async function requestOver(socket: net.Socket, pathAndQuery: string, host: string): Promise<string> {
  const conversation = new Conversation(socket);
  socket.write(`GET ${pathAndQuery} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  return (await conversation.readToEnd()).toString('latin1');
}

/** Buffered reads on a socket, for byte-level protocols (SOCKS) and raw HTTP. */
class Conversation {
  private buffered = Buffer.alloc(0);
  private ended = false;
  private error: Error | null = null;
  private wake: (() => void) | null = null;
  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.notify();
  };
  private readonly onEnd = () => {
    this.ended = true;
    this.notify();
  };
  private readonly onError = (err: Error) => {
    this.error = err;
    this.notify();
  };

  constructor(readonly socket: net.Socket) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', this.onError);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private async waitFor(done: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!done()) {
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`connection closed while waiting for ${what}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 100).unref();
      });
    }
  }

  async read(n: number): Promise<Buffer> {
    await this.waitFor(() => this.buffered.length >= n, `${n} bytes`);
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async readUntil(marker: string): Promise<Buffer> {
    await this.waitFor(() => this.buffered.includes(marker), JSON.stringify(marker));
    const end = this.buffered.indexOf(marker) + marker.length;
    const out = this.buffered.subarray(0, end);
    this.buffered = this.buffered.subarray(end);
    return out;
  }

  async readToEnd(): Promise<Buffer> {
    await this.waitFor(() => this.ended, 'the end of the stream').catch((err: Error) => {
      if (!/closed while/.test(err.message)) throw err;
    });
    return this.buffered;
  }

  /** Stops listening, so another reader can take over the socket. */
  release(expectEmpty = true): void {
    if (expectEmpty) assert.equal(this.buffered.length, 0, 'no bytes may be left behind by the handshake');
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
    this.socket.off('error', this.onError);
  }
}

function connectTcp(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function connectTls(port: number, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...options });
    socket.once('secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

type SocksAddress = { ip: string } | { name: string };

/** A SOCKS5 CONNECT; resolves with the reply code (0 = succeeded) and the conversation. */
async function socks5Connect(
  port: number,
  dest: SocksAddress & { port: number },
  auth?: ProxyCredentials,
): Promise<{ method: number; authStatus?: number; reply?: number; conversation: Conversation }> {
  const conversation = new Conversation(await connectTcp(port));
  const { socket } = conversation;
  socket.write(Buffer.from([0x05, 0x01, auth ? 0x02 : 0x00]));
  // read(2) resolves with exactly two bytes.
  const greeting = await conversation.read(2);
  const method = greeting[1]!;
  assert.equal(greeting[0], 0x05);
  if (method === 0xff) return { method, conversation };
  let authStatus: number | undefined;
  if (method === 0x02) {
    assert.ok(auth, 'dante asked for a password the test did not offer');
    const u = Buffer.from(auth.username);
    const p = Buffer.from(auth.password);
    socket.write(Buffer.concat([Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p]));
    const [, status] = await conversation.read(2);
    authStatus = status!;
    if (authStatus !== 0) return { method, authStatus, conversation };
  }
  const addr =
    'ip' in dest
      ? Buffer.from([0x01, ...dest.ip.split('.').map(Number)])
      : Buffer.concat([Buffer.from([0x03, Buffer.byteLength(dest.name)]), Buffer.from(dest.name)]);
  const portBytes = Buffer.from([dest.port >> 8, dest.port & 0xff]);
  socket.write(Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), addr, portBytes]));
  const [, reply, , atyp] = await conversation.read(4);
  // The bound address: IPv4 + port, a name + port, or IPv6 + port.
  const rest = atyp === 0x01 ? 6 : atyp === 0x04 ? 18 : (await conversation.read(1))[0]! + 2;
  await conversation.read(rest);
  return { method, authStatus, reply: reply!, conversation };
}

/** A SOCKS4 CONNECT (or 4a when `name` is given); resolves with the reply code (0x5a = granted). */
async function socks4Connect(
  port: number,
  destPort: number,
  dest: SocksAddress,
): Promise<{ reply: number; conversation: Conversation }> {
  const conversation = new Conversation(await connectTcp(port));
  const ip = 'ip' in dest ? dest.ip : '0.0.0.1';
  const head = Buffer.from([0x04, 0x01, destPort >> 8, destPort & 0xff, ...ip.split('.').map(Number)]);
  const parts = [head, Buffer.from('urllib3ts\0')];
  if ('name' in dest) parts.push(Buffer.from(`${dest.name}\0`));
  conversation.socket.write(Buffer.concat(parts));
  const reply = await conversation.read(8).catch(() => null);
  return { reply: reply ? reply[1]! : -1, conversation };
}

async function waitForLogEntry(
  proxy: SquidProxy,
  pred: (e: SquidLogEntry) => boolean,
): Promise<SquidLogEntry | undefined> {
  for (let i = 0; i < 100; i++) {
    const hit = readSquidAccessLog(proxy).find(pred);
    if (hit) return hit;
    await sleep(20);
  }
  return undefined;
}

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.on('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

// ---------------------------------------------------------------------------
// squid

test('squid forwards an absolute-URI GET to a local server and says so in Via', async (t) => {
  const skip = requireProxy('squid');
  if (skip) return t.skip(skip);
  const proxy = await squid();
  const port = await target.port();
  const url = `http://127.0.0.1:${port}/forwarded?x=1`;
  const r = await viaProxy(proxy, url, { headers: { 'x-harness': 'squid' } });
  assert.equal(r.status, 200);
  assert.equal(r.body, 'hello /forwarded?x=1');
  const seen = target.seen.find((s) => s.url === '/forwarded?x=1');
  assert.ok(seen, 'the target saw the request');
  assert.equal(seen.method, 'GET');
  assert.equal(seen.headers.host, `127.0.0.1:${port}`);
  assert.equal(seen.headers['x-harness'], 'squid');
  assert.match(String(seen.headers.via), /squid/);

  // `localhost` comes from squid's own hosts file, without DNS.
  const byName = await viaProxy(proxy, `http://localhost:${port}/by-name`);
  assert.equal(byName.status, 200);
  assert.equal(byName.body, 'hello /by-name');

  const logged = await waitForLogEntry(proxy, (e) => e.url === url);
  assert.ok(logged, 'the access log has the request');
  assert.equal(logged.method, 'GET');
  assert.equal(logged.status, 200);
  assert.equal(logged.user, null);
  assert.equal(logged.headers['x-harness'], 'squid');
});

test('squid answers CONNECT with 200 and tunnels bytes untouched', async (t) => {
  const skip = requireProxy('squid');
  if (skip) return t.skip(skip);
  const proxy = await squid();
  const port = await target.port();
  const { status, head, socket } = await connectTunnel(await connectTcp(proxy.port), `127.0.0.1:${port}`);
  try {
    assert.equal(status, 200, head);
    const response = await requestOver(socket, '/through-tunnel', `127.0.0.1:${port}`);
    assert.match(response, /^HTTP\/1\.1 200 /);
    assert.match(response, /hello \/through-tunnel$/);
  } finally {
    socket.destroy();
  }
  const seen = target.seen.find((s) => s.url === '/through-tunnel');
  assert.ok(seen);
  assert.equal(seen.headers.via, undefined, 'nothing proxy-made reaches the target through a tunnel');
  const logged = await waitForLogEntry(proxy, (e) => e.method === 'CONNECT' && e.url === `127.0.0.1:${port}`);
  assert.equal(logged?.status, 200);
});

test('squid refuses destinations outside loopback at once, without DNS', async (t) => {
  const skip = requireProxy('squid');
  if (skip) return t.skip(skip);
  const proxy = await squid();
  const started = Date.now();
  assert.equal((await viaProxy(proxy, 'http://example.com/')).status, 403);
  assert.equal((await viaProxy(proxy, 'http://192.0.2.1/')).status, 403);
  const { status, socket } = await connectTunnel(await connectTcp(proxy.port), 'example.com:443');
  socket.destroy();
  assert.equal(status, 403);
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});

test('squid with basic auth: 407 without or with wrong credentials, 200 with the right ones', async (t) => {
  const skip = requireProxy('squid-auth');
  if (skip) return t.skip(skip);
  const proxy = await squidAuth();
  const port = await target.port();
  const url = `http://127.0.0.1:${port}/authed`;
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

  const none = await viaProxy(proxy, url);
  assert.equal(none.status, 407);
  assert.match(String(none.headers['proxy-authenticate']), /^Basic realm="urllib3-ts squid"/);
  const wrong = await viaProxy(proxy, url, {
    headers: { 'proxy-authorization': basic(CREDS.username, 'wrong') },
  });
  assert.equal(wrong.status, 407);
  const right = await viaProxy(proxy, url, {
    headers: { 'proxy-authorization': basic(CREDS.username, CREDS.password) },
  });
  assert.equal(right.status, 200);
  assert.equal(right.body, 'hello /authed');
  assert.equal(
    target.seen.filter((s) => s.url === '/authed').length,
    1,
    'only the authorised request got through',
  );
  assert.equal(
    target.seen.find((s) => s.url === '/authed')?.headers['proxy-authorization'],
    undefined,
    'squid consumes Proxy-Authorization',
  );

  const denied = await connectTunnel(await connectTcp(proxy.port), `127.0.0.1:${port}`);
  denied.socket.destroy();
  assert.equal(denied.status, 407);
  const allowed = await connectTunnel(await connectTcp(proxy.port), `127.0.0.1:${port}`, {
    'Proxy-Authorization': basic(CREDS.username, CREDS.password),
  });
  try {
    assert.equal(allowed.status, 200);
    assert.match(
      await requestOver(allowed.socket, '/authed-tunnel', `127.0.0.1:${port}`),
      /hello \/authed-tunnel$/,
    );
  } finally {
    allowed.socket.destroy();
  }

  const logged = await waitForLogEntry(proxy, (e) => e.url === url && e.status === 200);
  assert.equal(logged?.user, CREDS.username);
});

// ---------------------------------------------------------------------------
// stunnel: HTTPS proxy

test('stunnel in front of squid is an HTTPS proxy with the test CA', async (t) => {
  const skip = requireProxy('squid', 'stunnel');
  if (skip) return t.skip(skip);
  const pki = await makeTestPki();
  const backend = await squid();
  const proxy = await startStunnelFor(backend, { cert: pki.serverCert, key: pki.serverKey });
  try {
    assert.match(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const port = await target.port();

    // Forwarding over TLS to the proxy, verified against the test CA by name and by IP.
    for (const servername of ['localhost', undefined]) {
      const r = await viaProxy(proxy, `http://127.0.0.1:${port}/over-tls`, {
        tls: { ca: pki.caCertPem, ...(servername ? { servername } : {}) },
      });
      assert.equal(r.status, 200);
      assert.equal(r.body, 'hello /over-tls');
    }

    // CONNECT inside the TLS connection to the proxy.
    const socket = await connectTls(proxy.port, { ca: pki.caCertPem });
    assert.equal(socket.authorized, true);
    assert.equal(socket.getPeerCertificate().subject.CN, 'localhost');
    const tunnel = await connectTunnel(socket, `127.0.0.1:${port}`);
    try {
      assert.equal(tunnel.status, 200, tunnel.head);
      assert.match(
        await requestOver(tunnel.socket, '/tls-tunnel', `127.0.0.1:${port}`),
        /hello \/tls-tunnel$/,
      );
    } finally {
      socket.destroy();
    }

    // Without the test CA the proxy's certificate does not verify.
    await assert.rejects(connectTls(proxy.port, { ca: [] }), (err: NodeJS.ErrnoException) => {
      assert.match(err.code ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
      return true;
    });
  } finally {
    await proxy.stop();
  }
});

// ---------------------------------------------------------------------------
// dante

test('dante tunnels SOCKS5 CONNECT by IP and by name (socks5h) without auth', async (t) => {
  const skip = requireProxy('dante');
  if (skip) return t.skip(skip);
  const proxy = await dante();
  assert.match(proxy.url, /^socks5:\/\/127\.0\.0\.1:\d+$/);
  const port = await target.port();
  for (const [dest, path] of [
    [{ ip: '127.0.0.1' }, '/socks5-ip'],
    [{ name: 'localhost' }, '/socks5-name'],
  ] as const) {
    const { method, reply, conversation } = await socks5Connect(proxy.port, { ...dest, port });
    try {
      assert.equal(method, 0x00);
      assert.equal(reply, 0x00, `SOCKS5 reply for ${JSON.stringify(dest)}`);
      conversation.release();
      assert.match(
        await requestOver(conversation.socket, path, `127.0.0.1:${port}`),
        new RegExp(`hello ${path}$`),
      );
    } finally {
      conversation.socket.destroy();
    }
  }
});

test('dante reports refused and forbidden SOCKS5 destinations with reply codes', async (t) => {
  const skip = requireProxy('dante');
  if (skip) return t.skip(skip);
  const proxy = await dante();
  const closed = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const refused = await socks5Connect(proxy.port, { ip: '127.0.0.1', port: closed });
  refused.conversation.socket.destroy();
  assert.equal(refused.reply, 0x05, 'connection refused');
  const forbidden = await socks5Connect(proxy.port, { ip: '192.0.2.1', port: 80 });
  forbidden.conversation.socket.destroy();
  assert.equal(forbidden.reply, 0x02, 'connection not allowed by ruleset');
});

test('dante with username/password: a wrong password or no auth is refused, the right one tunnels', async (t) => {
  const skip = requireProxy('dante-auth');
  if (skip) return t.skip(skip);
  const proxy = await danteAuth();
  const port = await target.port();

  const noAuth = await socks5Connect(proxy.port, { ip: '127.0.0.1', port });
  noAuth.conversation.socket.destroy();
  assert.equal(noAuth.method, 0xff, 'no acceptable method without credentials');

  for (const bad of [
    { username: CREDS.username, password: 'wrong' },
    { username: 'mallory', password: CREDS.password },
  ]) {
    const r = await socks5Connect(proxy.port, { ip: '127.0.0.1', port }, bad);
    r.conversation.socket.destroy();
    assert.equal(r.method, 0x02);
    assert.notEqual(r.authStatus, 0x00, `${bad.username}/${bad.password} must be refused`);
  }

  const ok = await socks5Connect(proxy.port, { ip: '127.0.0.1', port }, CREDS);
  try {
    assert.equal(ok.authStatus, 0x00);
    assert.equal(ok.reply, 0x00);
    ok.conversation.release();
    assert.match(
      await requestOver(ok.conversation.socket, '/socks5-auth', `127.0.0.1:${port}`),
      /hello \/socks5-auth$/,
    );
  } finally {
    ok.conversation.socket.destroy();
  }

  // SOCKS4 has no password: the authenticated dante refuses it.
  const v4 = await socks4Connect(proxy.port, port, { ip: '127.0.0.1' });
  v4.conversation.socket.destroy();
  assert.notEqual(v4.reply, 0x5a);
});

test('dante speaks SOCKS4 but not SOCKS4a', async (t) => {
  const skip = requireProxy('dante');
  if (skip) return t.skip(skip);
  const proxy: DanteProxy = await dante();
  assert.equal(proxy.socks4Url, `socks4://127.0.0.1:${proxy.port}`);
  const port = await target.port();
  const v4 = await socks4Connect(proxy.port, port, { ip: '127.0.0.1' });
  try {
    assert.equal(v4.reply, 0x5a, 'request granted');
    v4.conversation.release();
    assert.match(
      await requestOver(v4.conversation.socket, '/socks4', `127.0.0.1:${port}`),
      /hello \/socks4$/,
    );
  } finally {
    v4.conversation.socket.destroy();
  }
  // Dante 1.4 reads a 4a request as SOCKS4 to 0.0.0.1, which its rules refuse:
  // SOCKS4a tests need the in-process SOCKS server.
  const v4a = await socks4Connect(proxy.port, port, { name: 'localhost' });
  v4a.conversation.socket.destroy();
  assert.equal(v4a.reply, 0x5b, 'request rejected');
});

// ---------------------------------------------------------------------------
// Lifetime

test('stop() ends every process of each proxy, closes its port, and can be called twice', async (t) => {
  const skip = requireProxy('squid-auth', 'stunnel', 'dante-auth');
  if (skip) return t.skip(skip);
  const pki = await makeTestPki();
  const sq = await startSquid({ auth: CREDS });
  const proxies: RunningProxy[] = [
    sq,
    await startStunnelFor(sq, { cert: pki.serverCert, key: pki.serverKey }),
    await startDante(),
    await startDante({ auth: CREDS }),
  ];
  // Listed in reverse so stunnel goes before the squid behind it.
  for (const proxy of proxies.reverse()) {
    assert.equal(await connectionRefused(proxy.port), false);
    assert.ok(processGroupMembers(proxy.pid).length >= 1, `${proxy.url} has processes`);
    await proxy.stop();
    await proxy.stop();
    assert.equal(await connectionRefused(proxy.port), true, `${proxy.url} is closed`);
    assert.deepEqual(processGroupMembers(proxy.pid), [], `nothing is left of ${proxy.url}`);
  }
});

test('the tests above leave no socket open', async () => {
  // Runs last: shared proxies are still up, but every client socket is closed.
  assert.equal(await waitForSocketCount((n) => n === 0), 0);
});
