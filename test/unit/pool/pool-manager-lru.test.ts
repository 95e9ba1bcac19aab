// PoolManager's least-recently-used order without I/O (pools are made, never
// connected): every way of getting a pool moves it to the most recent place,
// asking again for the most recent one keeps the order, and the least recent
// pool is the one evicted.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPConnectionPool } from '../../../src/pool/connection-pool.js';
import { PoolManager } from '../../../src/pool/pool-manager.js';

function hostsOf(pm: PoolManager): string[] {
  return [...pm.pools.values()].map((p: HTTPConnectionPool) => p.host);
}

describe('PoolManager LRU order', () => {
  test('the pool asked for last is the most recent, however it was asked for', async () => {
    const pm = new PoolManager({ numPools: 3 });
    try {
      const a = pm.connectionFromHost('a.test');
      pm.connectionFromHost('b.test');
      pm.connectionFromUrl('http://c.test/x');
      assert.deepEqual(hostsOf(pm), ['a.test', 'b.test', 'c.test']);
      // The most recent again (the order stays), then the oldest, twice.
      pm.connectionFromHost('c.test');
      assert.deepEqual(hostsOf(pm), ['a.test', 'b.test', 'c.test']);
      assert.equal(pm.connectionFromHost('a.test'), a);
      assert.equal(pm.connectionFromHost('a.test', { port: 80 }), a);
      assert.deepEqual(hostsOf(pm), ['b.test', 'c.test', 'a.test']);
      // Through a context (the slow path) as well.
      pm.connectionFromContext({ scheme: 'http', host: 'b.test', port: 80 });
      assert.deepEqual(hostsOf(pm), ['c.test', 'a.test', 'b.test']);
      // A fourth pool evicts (and closes) the least recent one.
      const c = pm.connectionFromHost('c.test');
      assert.deepEqual(hostsOf(pm), ['a.test', 'b.test', 'c.test']);
      pm.connectionFromHost('a.test');
      assert.deepEqual(hostsOf(pm), ['b.test', 'c.test', 'a.test']);
      const b = [...pm.pools.values()][0]!;
      pm.connectionFromHost('d.test');
      assert.deepEqual(hostsOf(pm), ['c.test', 'a.test', 'd.test']);
      assert.ok(b.isClosed && !c.isClosed);
      pm.connectionFromHost('e.test');
      assert.deepEqual(hostsOf(pm), ['a.test', 'd.test', 'e.test']);
      assert.ok(c.isClosed, 'the evicted pool is closed');
    } finally {
      await pm.close();
    }
  });

  test('after clear() the first pool asked for is placed and found again', async () => {
    const pm = new PoolManager({ numPools: 2 });
    try {
      const a = pm.connectionFromHost('a.test');
      await pm.clear();
      assert.ok(a.isClosed);
      const a2 = pm.connectionFromHost('a.test');
      assert.notEqual(a2, a);
      pm.connectionFromHost('b.test');
      assert.equal(pm.connectionFromHost('a.test'), a2);
      assert.deepEqual(hostsOf(pm), ['b.test', 'a.test']);
      pm.connectionFromHost('c.test');
      assert.deepEqual(hostsOf(pm), ['a.test', 'c.test']);
    } finally {
      await pm.close();
    }
  });

  test('a closed pool is replaced by a new one for the same origin', async () => {
    const pm = new PoolManager({ numPools: 2 });
    try {
      const a = pm.connectionFromHost('a.test');
      await a.close();
      const a2 = pm.connectionFromHost('a.test');
      assert.notEqual(a2, a);
      assert.ok(!a2.isClosed);
      assert.equal(pm.connectionFromHost('a.test'), a2);
      assert.equal(pm.pools.size, 1);
    } finally {
      await pm.close();
    }
  });
});
