// InflightQueries (src/dns/inflight.ts): the queries a resolver has in
// flight, with one timer for all their timeouts. Each query is called off
// with a ConnectTimeoutError when its own time is up (not the head's, not
// later than a few milliseconds past it); a query that ends leaves at once
// and is never called off; closeAll() calls off what is left; the timer is
// gone when nothing is in flight, so it holds no process open.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { InflightQueries } from '../../../src/dns/inflight.js';
import { ConnectTimeoutError } from '../../../src/errors.js';

describe('InflightQueries', () => {
  test('each query is called off when its own time is up, in the order they started', async () => {
    const list = new InflightQueries(60);
    const ended: Array<{ name: string; at: number; reason: unknown }> = [];
    const t0 = performance.now();
    const watch = (name: string) => {
      const c = list.start();
      c.on((reason) => ended.push({ name, at: performance.now() - t0, reason }));
      return c;
    };
    watch('a');
    await sleep(30);
    const b = watch('b');
    const c = watch('c');
    list.end(b); // answered: never called off
    assert.equal(list.size, 2);
    await sleep(120);
    assert.deepEqual(
      ended.map((e) => e.name),
      ['a', 'c'],
    );
    for (const e of ended) {
      assert.ok(e.reason instanceof ConnectTimeoutError);
      assert.match((e.reason as Error).message, /no answer within 60 ms/);
    }
    assert.ok(ended[0]!.at >= 59 && ended[0]!.at < 90, `a after ${ended[0]!.at} ms`);
    assert.ok(ended[1]!.at >= 89 && ended[1]!.at < 125, `c after ${ended[1]!.at} ms`);
    assert.equal(b.aborted, false);
    assert.equal(c.aborted, true);
    assert.equal(list.size, 0);
  });

  test('closeAll() calls off every query still in flight, with its reason, and ending one twice is harmless', () => {
    const list = new InflightQueries(null);
    const cs = [list.start(), list.start(), list.start()];
    list.end(cs[1]!);
    list.end(cs[1]!);
    const reason = new Error('closed');
    list.closeAll(reason);
    assert.deepEqual(
      cs.map((c) => c.aborted),
      [true, false, true],
    );
    assert.equal(cs[0]!.reason, reason);
    assert.equal(list.size, 0);
  });

  test('with nothing in flight no timer is left to hold the process', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const list = new InflightQueries(10_000);
    const c = list.start();
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before + 1);
    list.end(c);
    assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
    assert.equal(c.aborted, false);
  });
});
