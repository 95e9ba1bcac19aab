// The `resolver` and `happyEyeballs` options on PoolManager, pools and
// HTTPConnection (docs/api.md section 10): a resolver given as a URL, a list
// or an object reaches the dialer, is part of the pool key, is set up once per
// manager or pool and closed with it; Happy Eyeballs races addresses in the
// dialer; ConnectionInfo reports the resolution and the address connected to.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HTTPConnection } from '../../src/connection/connection.js';
import { ResolverDescription } from '../../src/dns/description.js';
import { InMemoryResolver } from '../../src/dns/in-memory.js';
import { BaseResolver } from '../../src/dns/resolver.js';
import { NameResolutionError, NewConnectionError } from '../../src/errors.js';
import { HTTPConnectionPool } from '../../src/pool/connection-pool.js';
import { PoolManager } from '../../src/pool/pool-manager.js';
import { type Blackhole, createBlackhole } from '../support/blackhole.js';
import { startHttpServer, type TestHttpServer } from '../support/servers.js';

describe('resolvers and Happy Eyeballs on managers, pools and connections', () => {
  let server: TestHttpServer;
  let hole: Blackhole | string;

  before(async () => {
    server = await startHttpServer();
    hole = createBlackhole();
  });

  after(async () => {
    await server.close();
    if (typeof hole !== 'string') hole.teardown();
  });

  test('a PoolManager resolver URL sends the name to the address it gives, and ConnectionInfo says so', async () => {
    const pm = new PoolManager({ resolver: 'in-memory://default?hosts=api.test:127.0.0.1', retries: false });
    const r = await pm.request('GET', `http://api.test:${server.port}/echo`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.connectionInfo?.destinationAddress, ['127.0.0.1', server.port]);
    assert.ok((r.connectionInfo?.resolutionLatency ?? -1) >= 0);
    const seen = server.requests.at(-1)!;
    assert.equal(seen.headers.host, `api.test:${server.port}`, 'the Host header keeps the name');
    await pm.close();
  });

  test('a list of resolvers is tried in order, each for its own hosts; a refusal is a NameResolutionError', async () => {
    const pm = new PoolManager({
      resolver: ['in-memory://default?hosts=one.test:127.0.0.1', 'null://default'],
      retries: false,
    });
    assert.equal((await pm.request('GET', `http://one.test:${server.port}/echo`)).status, 200);
    await assert.rejects(pm.request('GET', `http://two.test:${server.port}/echo`), NameResolutionError);
    await pm.close();
  });

  test('one manager sets its resolver up once and shares it with every pool', async () => {
    const pm = new PoolManager({
      resolver: 'in-memory://default?hosts=a.test:127.0.0.1&hosts=b.test:127.0.0.1',
    });
    const a = pm.connectionFromUrl(`http://a.test:${server.port}/`);
    const b = pm.connectionFromUrl(`http://b.test:${server.port}/`);
    const ra = (a as unknown as { connOptions: Record<string, unknown> }).connOptions['resolver'];
    const rb = (b as unknown as { connOptions: Record<string, unknown> }).connOptions['resolver'];
    assert.ok(ra instanceof BaseResolver && ra === rb);
    await pm.close();
  });

  test('resolvers are part of the pool key: another resolver is another pool', async () => {
    const pm = new PoolManager();
    const p1 = pm.connectionFromUrl(`http://k.test:${server.port}/`, {
      resolver: 'in-memory://default?hosts=k.test:127.0.0.1',
    });
    const p2 = pm.connectionFromUrl(`http://k.test:${server.port}/`, {
      resolver: 'in-memory://default?hosts=k.test:127.0.0.2',
    });
    const p3 = pm.connectionFromUrl(`http://k.test:${server.port}/`, {
      resolver: 'in-memory://default?hosts=k.test:127.0.0.1',
    });
    assert.notEqual(p1, p2);
    assert.equal(p1, p3, 'equal URLs make equal keys');
    await pm.close();
  });

  test('a pool and a connection take a resolver URL, a ResolverDescription or an object', async () => {
    const pool = new HTTPConnectionPool('pool.test', {
      port: server.port,
      resolver: ResolverDescription.fromUrl('in-memory://default?hosts=pool.test:127.0.0.1'),
    });
    assert.equal((await pool.request('GET', '/echo')).status, 200);
    await pool.close();
    const conn = new HTTPConnection('conn.test', {
      port: server.port,
      resolver: new InMemoryResolver({ hosts: [['conn.test', '127.0.0.1']] }),
    });
    await conn.request('GET', '/echo');
    assert.equal((await conn.getResponse()).status, 200);
    await conn.close();
  });

  test('a pool closes the resolver it set up from a URL, and never one it was given', async () => {
    const given = new InMemoryResolver({ hosts: [['g.test', '127.0.0.1']] });
    const p1 = new HTTPConnectionPool('g.test', { port: server.port, resolver: given });
    await p1.close();
    assert.ok(given.isAvailable(), 'the caller owns a resolver object');
    const p2 = new HTTPConnectionPool('d.test', { port: server.port, resolver: 'dou://127.0.0.1:1' });
    const owned = (p2 as unknown as { connOptions: Record<string, unknown> }).connOptions['resolver'] as {
      isAvailable(): boolean;
    };
    assert.ok(owned.isAvailable());
    await p2.close();
    assert.equal(owned.isAvailable(), false, 'the pool closed the dou:// resolver it built');
  });

  test('happyEyeballs: an address that never answers does not hold up the next one', async (t) => {
    if (typeof hole === 'string') {
      t.skip(hole);
      return;
    }
    const resolver = `in-memory://default?hosts=he.test:${hole.ipv4}&hosts=he.test:127.0.0.1`;
    const pool = new HTTPConnectionPool('he.test', {
      port: server.port,
      resolver,
      happyEyeballs: true,
      timeout: 5000,
      retries: false,
    });
    const started = performance.now();
    const r = await pool.request('GET', '/echo');
    const took = performance.now() - started;
    assert.equal(r.status, 200);
    assert.deepEqual(r.connectionInfo?.destinationAddress, ['127.0.0.1', server.port]);
    assert.ok(took < 1500, `took ${took.toFixed(0)} ms: the silent address held the race up`);
    await pool.close();
  });

  test('without happyEyeballs the same silent address costs the whole connect timeout', async (t) => {
    if (typeof hole === 'string') {
      t.skip(hole);
      return;
    }
    const pool = new HTTPConnectionPool('he.test', {
      port: server.port,
      resolver: `in-memory://default?hosts=he.test:${hole.ipv4}&hosts=he.test:127.0.0.1`,
      timeout: 400,
      retries: false,
    });
    await assert.rejects(pool.request('GET', '/echo'), (err: unknown) => {
      assert.ok(err instanceof Error && /timed out/i.test(err.message), String(err));
      return true;
    });
    await pool.close();
  });

  test('happyEyeballs with every address refused is a NewConnectionError naming them', async () => {
    const pool = new HTTPConnectionPool('refused.test', {
      port: 1,
      resolver: 'in-memory://default?hosts=refused.test:127.0.0.1&hosts=refused.test:::1',
      happyEyeballs: 2,
      retries: false,
    });
    await assert.rejects(pool.request('GET', '/'), NewConnectionError);
    await pool.close();
  });

  test('a happyEyeballs value that is neither a boolean nor a count is a TypeError', () => {
    assert.throws(
      () => new HTTPConnection('x.test', { happyEyeballs: 'yes' as unknown as boolean }),
      /happyEyeballs must be a boolean or a non-negative integer/,
    );
    assert.throws(() => new PoolManager({ happyEyeballs: -1 }), TypeError);
  });
});
