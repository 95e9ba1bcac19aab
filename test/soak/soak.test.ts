// The short soak (seconds): a few thousand requests over HTTP/1.1 and HTTP/2
// with 5 % injected faults and two server restarts each; nothing may be lost,
// wrong or left open. `npm run soak` runs the same code for a million.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runSoak } from './soak-run.js';

describe('a short soak with injected faults', () => {
  for (const protocol of ['h1', 'h2'] as const) {
    test(`over ${protocol === 'h1' ? 'HTTP/1.1' : 'HTTP/2'}: every request settles, every body is right, nothing leaks`, async () => {
      const r = await runSoak({
        protocol,
        requests: 3000,
        faultRate: 0.05,
        concurrency: 32,
        restartEvery: 1000,
        readTimeout: 200,
      });
      const detail = JSON.stringify(r);
      assert.equal(r.requests, 3000, detail);
      assert.equal(r.lost, 0, detail);
      assert.equal(r.wrongBodies, 0, detail);
      assert.equal(r.foreignErrors, 0, detail);
      assert.equal(r.failedUnexpectedly, 0, detail);
      assert.equal(r.leakedSockets, 0, detail);
      assert.deepEqual(r.leakedHandles, {}, detail);
      assert.ok(r.faultsInjected.restart === 2, detail);
      assert.ok(r.ok > 2700, detail);
    });
  }
});
