// The proof that a third protocol slots in behind the session seam with no
// change to the pool or connection code: a toy multiplexed protocol over an
// in-memory transport, plugged in only through the extension points (a
// connection subclass with its own dialer and session factory, a pool's
// ConnectionCls, a manager's poolClassesByScheme). The toy's exchange is
// built on the same exchange core as HTTP/1.1 and HTTP/2.
//
// Wire format of the toy protocol: requests are "<id> <METHOD> <target>\n";
// responses are "<id> <status> <length>\n" followed by <length> body bytes,
// answered in any order.

import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { ConnectionInfo, HttpVersion } from '../../../src/connection/connection-info.js';
import { HTTPConnection } from '../../../src/connection/connection.js';
import type { Dialed } from '../../../src/connection/dialer.js';
import { ExchangeCore } from '../../../src/connection/exchange-core.js';
import type {
  Exchange,
  ExchangeRequest,
  ProtocolSession,
  SessionOwner,
} from '../../../src/connection/session.js';
import { SENT } from '../../../src/connection/session.js';
import type { SessionFactory } from '../../../src/connection/session-factory.js';
import { ProtocolError } from '../../../src/errors.js';
import { HTTPHeaderDict } from '../../../src/headers.js';
import { HTTPConnectionPool } from '../../../src/pool/connection-pool.js';
import { PoolManager } from '../../../src/pool/pool-manager.js';

// ---- the peer: an in-memory toy server ------------------------------------------

interface ToyServer {
  /** Transports dialed so far, and how many are still open. */
  dialed: number;
  open: number;
  /** Requests seen, in arrival order, as "<transport #> <METHOD> <target>". */
  seen: string[];
  /** How the server answers: by default 200 with "<METHOD> <target>"; answers held until `batch` requests arrived. */
  batch: number;
  /** Target that makes the server drop the transport instead of answering. */
  dropOn: string | null;
  connect(): Duplex;
}

function toyServer(): ToyServer {
  const server: ToyServer = {
    dialed: 0,
    open: 0,
    seen: [],
    batch: 1,
    dropOn: null,
    connect() {
      const toServer = new PassThrough();
      const toClient = new PassThrough();
      const client = Duplex.from({ readable: toClient, writable: toServer });
      const n = ++server.dialed;
      server.open++;
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        server.open--;
        toClient.destroy();
      };
      client.on('close', close);
      let buffered = '';
      let held: Array<[string, string, string]> = [];
      toServer.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('latin1');
        for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n')) {
          const line = buffered.slice(0, i);
          buffered = buffered.slice(i + 1);
          const [id, method, target] = line.split(' ') as [string, string, string];
          server.seen.push(`${n} ${method} ${target}`);
          if (target === server.dropOn) {
            close();
            client.destroy();
            return;
          }
          held.push([id, method, target]);
          if (held.length >= server.batch) {
            // Answered newest first: responses overtake each other on one transport.
            for (const [hid, hm, ht] of held.reverse()) {
              const body = Buffer.from(`${hm} ${ht}`);
              toClient.write(`${hid} 200 ${body.length}\n`);
              toClient.write(body);
            }
            held = [];
          }
        }
      });
      return client;
    },
  };
  return server;
}

// ---- the client side: a session and exchange of the toy protocol ----------------

class ToyExchange extends ExchangeCore implements Exchange {
  readonly sent = SENT;
  constructor(
    private readonly session: ToySession,
    readonly streamId: number,
    opts: ExchangeRequest,
  ) {
    super(opts, session.owner.label);
    this.attachAbort();
  }
  get connectionObject(): unknown {
    return this.session.owner.connectionObject;
  }
  get pooled(): boolean {
    return this.session.owner.pooled;
  }
  protected get transportClosed(): boolean {
    return this.session.isClosed;
  }
  protected armTimer(): void {}
  protected disarmTimer(): void {}
  protected pauseTransport(): void {}
  protected resumeTransport(): void {}
  protected afterFail(): void {
    this.session.done(this);
  }
  releaseFromResponse(): void {
    this.session.done(this);
  }
  discardFromResponse(): void {
    this.session.done(this);
  }
  head(status: number, length: number): void {
    this.gotBytes = true;
    const headers = new HTTPHeaderDict({ 'content-length': String(length) });
    this.finalHead(status, 'OK', 30, headers, length === 0, true);
  }
  body(chunk: Buffer): void {
    this.response?._pushRaw(chunk);
  }
  end(): void {
    this.finish();
    this.session.done(this);
  }
}

class ToySession implements ProtocolSession {
  readonly httpVersion = HttpVersion.h3;
  readonly reservation = 'shared' as const;
  readonly concurrency = 2;
  requestsServed = 0;
  isClosed = false;
  private nextId = 1;
  private readonly live = new Map<number, ToyExchange>();
  private pending: Buffer = Buffer.alloc(0);
  /** The exchange whose body is being read, and how many bytes it still has. */
  private reading: { ex: ToyExchange; left: number } | null = null;

  constructor(
    private readonly transport: Duplex,
    readonly owner: SessionOwner,
  ) {
    transport.on('data', (chunk: Buffer) => this.onData(chunk));
    transport.on('close', () => this.onClose());
    transport.on('error', () => {});
  }

  get isAvailable(): boolean {
    return !this.isClosed;
  }

  checkAlive(): true {
    return true;
  }

  open(request: ExchangeRequest): Exchange {
    if (this.isClosed) throw new ProtocolError(`${this.owner.label}: the toy transport is closed`);
    const ex = new ToyExchange(this, this.nextId++, request);
    this.live.set(ex.streamId, ex);
    this.transport.write(`${ex.streamId} ${request.method} ${request.target}\n`);
    return ex;
  }

  /** The exchange no longer occupies the transport: its slot goes back to the pool. */
  done(ex: ToyExchange): void {
    if (!this.live.delete(ex.streamId)) return;
    if (ex.completed) this.requestsServed++;
    const onDone = ex.opts.onDone;
    ex.opts.onDone = null;
    onDone?.();
  }

  private onData(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    for (;;) {
      if (this.reading !== null) {
        const take = Math.min(this.reading.left, this.pending.length);
        if (take > 0) this.reading.ex.body(this.pending.subarray(0, take));
        this.pending = this.pending.subarray(take);
        this.reading.left -= take;
        if (this.reading.left > 0) return;
        const ex = this.reading.ex;
        this.reading = null;
        ex.end();
        continue;
      }
      const nl = this.pending.indexOf(10);
      if (nl === -1) return;
      const [id, status, length] = this.pending.subarray(0, nl).toString('latin1').split(' ').map(Number) as [
        number,
        number,
        number,
      ];
      this.pending = this.pending.subarray(nl + 1);
      const ex = this.live.get(id);
      if (ex === undefined) continue;
      ex.head(status, length);
      if (length === 0) ex.end();
      else this.reading = { ex, left: length };
    }
  }

  private onClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const ex of [...this.live.values()]) {
      ex.fail(
        new ProtocolError(`${this.owner.label}: the toy transport closed mid-exchange (${ex.opts.url})`),
      );
    }
    this.owner.sessionClosed(this);
  }

  destroy(): void {
    this.transport.destroy();
    this.onClose();
  }
}

const toyFactory: SessionFactory = (dialed, owner) => new ToySession(dialed.transport, owner);

/** A connection that dials the toy server and speaks the toy protocol: only overrides, no edits. */
function toyConnectionClass(server: ToyServer): typeof HTTPConnection {
  return class ToyConnection extends HTTPConnection {
    override get mayShare(): boolean {
      return true;
    }
    protected override async dial(): Promise<Dialed> {
      const info = new ConnectionInfo();
      info.httpVersion = HttpVersion.h3;
      return { transport: server.connect(), protocol: HttpVersion.h3, info, sink: null };
    }
    protected override sessionFactory(protocol: HttpVersion): SessionFactory | undefined {
      return protocol === HttpVersion.h3 ? toyFactory : super.sessionFactory(protocol);
    }
  };
}

/** Whether every toy transport is closed within a second (closing is asynchronous). */
async function closedSoon(server: ToyServer): Promise<boolean> {
  for (let i = 0; i < 100 && server.open > 0; i++) await new Promise((r) => setTimeout(r, 10));
  return server.open === 0;
}

function toyPoolClass(server: ToyServer): typeof HTTPConnectionPool {
  return class ToyPool extends HTTPConnectionPool {
    static override ConnectionCls = toyConnectionClass(server);
  };
}

describe('a third protocol behind the session seam', () => {
  test('the pool serves requests through a toy session: shared up to its concurrency, then a second connection', async () => {
    const server = toyServer();
    server.batch = 2;
    const Pool = toyPoolClass(server);
    const pool = new Pool('toy.test', { maxSize: 2, retries: false });
    const rs = await Promise.all(['/a', '/b', '/c', '/d'].map((p) => pool.request('GET', p)));
    assert.deepEqual(
      rs.map((r) => r.data.toString()),
      ['GET /a', 'GET /b', 'GET /c', 'GET /d'],
    );
    assert.ok(rs.every((r) => r.status === 200 && r.connectionInfo?.httpVersion === HttpVersion.h3));
    assert.equal(server.dialed, 2, 'two requests share each toy connection');
    assert.equal(pool.numConnections, 2);
    await pool.close();
    assert.ok(await closedSoon(server), 'closing the pool closes the toy transports');
  });

  test('responses that overtake each other on one toy transport reach the right requests', async () => {
    const server = toyServer();
    server.batch = 2;
    const pool = new (toyPoolClass(server))('toy.test', { maxSize: 1, block: true, retries: false });
    const [a, b] = await Promise.all([pool.request('GET', '/first'), pool.request('GET', '/second')]);
    assert.equal(a.data.toString(), 'GET /first');
    assert.equal(b.data.toString(), 'GET /second');
    assert.deepEqual(server.seen, ['1 GET /first', '1 GET /second'], 'both went over one transport');
    await pool.close();
  });

  test('PoolManager serves toy requests through its poolClassesByScheme, reusing the connection', async () => {
    const server = toyServer();
    const pm = new PoolManager({ retries: false });
    pm.poolClassesByScheme = { ...pm.poolClassesByScheme, http: toyPoolClass(server) };
    const r1 = await pm.request('GET', 'http://toy.test/one');
    const r2 = await pm.request('POST', 'http://toy.test/two');
    assert.equal(r1.data.toString(), 'GET /one');
    assert.equal(r2.data.toString(), 'POST /two');
    assert.equal(server.dialed, 1, 'the second request reused the toy connection');
    assert.equal(r2.connection, null, 'a released response lets go of its connection');
    await pm.clear();
    assert.ok(await closedSoon(server));
  });

  test('a toy transport dying mid-exchange is a ProtocolError and the pool opens a fresh connection next', async () => {
    const server = toyServer();
    server.dropOn = '/drop';
    const pool = new (toyPoolClass(server))('toy.test', { retries: false });
    await assert.rejects(pool.request('GET', '/drop'), (err: unknown) => {
      assert.ok(err instanceof ProtocolError, String(err));
      assert.match((err as Error).message, /toy transport closed mid-exchange/);
      return true;
    });
    const r = await pool.request('GET', '/after');
    assert.equal(r.data.toString(), 'GET /after');
    assert.equal(server.dialed, 2);
    await pool.close();
    assert.ok(await closedSoon(server));
  });

  test('streaming reads and preloadContent: false work on the toy protocol as on the others', async () => {
    const server = toyServer();
    const pool = new (toyPoolClass(server))('toy.test', { retries: false });
    const r = await pool.request('GET', '/stream', { preloadContent: false });
    assert.equal(r.connectionInfo?.httpVersion, HttpVersion.h3);
    assert.equal((await r.read(4)).toString(), 'GET ');
    assert.equal((await r.read()).toString(), '/stream');
    await pool.close();
  });
});
