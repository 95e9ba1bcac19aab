// Retries on responses (docs/api.md section 6, urllib3 v2's urlopen with
// Retry.isRetry / increment / sleep): statusForcelist with raiseOnStatus and
// the status counter, Retry-After (retrying 413, 429 and 503, honoured on any
// retried status) in delta-seconds and in all three HTTP-date forms (read
// against an injected clock, slept through an injected sleeper, capped by
// retryAfterMax, ignored when respectRetryAfterHeader is false), invalid
// values, draining each retried response so its connection is reused, and
// an abort during a Retry-After wait.

import assert from 'node:assert/strict';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import {
  HTTPConnectionPool,
  InvalidHeader,
  MaxRetryError,
  PoolManager,
  RequestAbortedError,
  ResponseError,
  Retry,
} from '../../src/index.js';
import { httpResponse, type RawHandler, type RawServer, rawServer } from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';
// 2019-06-03T11:00:00Z: the fixed "now" HTTP-dates are measured against.
const NOW = Date.UTC(2019, 5, 3, 11, 0, 0);

const servers: RawServer[] = [];
const closers: Array<{ close(): Promise<void> }> = [];
const saved = { sleeper: Retry.sleeper, now: Retry.now };
let slept: number[] = [];
let baseline = 0;

beforeEach(() => {
  slept = [];
  Retry.sleeper = async (ms) => {
    slept.push(ms);
  };
  Retry.now = () => NOW;
  baseline = countOpenSockets();
});

afterEach(async () => {
  Retry.sleeper = saved.sleeper;
  Retry.now = saved.now;
  await Promise.all(closers.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
  const left = await waitForSocketCount((n) => n <= baseline);
  assert.ok(left <= baseline, `${left - baseline} socket(s) left open after the test`);
});

after(() => {
  Retry.sleeper = saved.sleeper;
  Retry.now = saved.now;
});

async function scripted(handler: RawHandler): Promise<RawServer> {
  const s = await rawServer(handler);
  servers.push(s);
  return s;
}

function poolFor(server: RawServer): HTTPConnectionPool {
  const pool = new HTTPConnectionPool(HOST, { port: server.port });
  closers.push(pool);
  return pool;
}

/** Answers `first` (status, headers, body) `times` times on any connection, then 200 "ok". */
function failingThenOk(
  times: number,
  status: number,
  headers: Record<string, string> = {},
  body = `status ${status}`,
): Promise<RawServer> {
  let n = 0;
  return scripted((socket) => {
    n++;
    socket.write(n <= times ? httpResponse(status, body, headers, 'Failing') : httpResponse(200, 'ok'));
  });
}

describe('statusForcelist, the status counter and raiseOnStatus', () => {
  test('a forced status is retried until the status counter runs out, then MaxRetryError names the status', async () => {
    const raw = await failingThenOk(100, 500);
    const pool = poolFor(raw);
    const err = await rejectionOf(
      pool.request('GET', '/', { retries: new Retry({ total: 10, status: 2, statusForcelist: [500] }) }),
    );
    assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
    assert.ok(err.reason instanceof ResponseError);
    assert.equal(err.reason.message, 'too many 500 error responses');
    assert.equal(raw.requests.length, 3, 'one attempt and two status retries');
    assert.equal(raw.stats.opened, 1, 'every retried response was drained and its connection reused');
  });

  test('raiseOnStatus: false returns the last forced response once retries run out, with the history of each', async () => {
    const raw = await failingThenOk(100, 502);
    const pool = poolFor(raw);
    const r = await pool.request('GET', '/flaky', {
      retries: new Retry({ total: 2, statusForcelist: new Set([502]), raiseOnStatus: false }),
    });
    assert.equal(r.status, 502);
    assert.equal(r.data.toString(), 'status 502');
    assert.equal(raw.requests.length, 3);
    const history = r.retries!.history;
    assert.deepEqual(
      history.map((h) => [h.method, h.url, h.status, h.error, h.redirectLocation]),
      [
        ['GET', `http://${HOST}:${raw.port}/flaky`, 502, null, null],
        ['GET', `http://${HOST}:${raw.port}/flaky`, 502, null, null],
      ],
    );
  });

  test('a forced status on a streamed response (preloadContent: false) is drained and the connection reused', async () => {
    const big = 'x'.repeat(200_000);
    const raw = await failingThenOk(2, 503, {}, big);
    const pool = poolFor(raw);
    const r = await pool.urlopen('GET', '/', {
      preloadContent: false,
      retries: new Retry({ total: 3, statusForcelist: [503] }),
    });
    assert.equal(r.status, 200);
    assert.equal((await r.read()).toString(), 'ok');
    assert.equal(raw.requests.length, 3);
    assert.equal(raw.stats.opened, 1);
  });

  test('a forced status re-sends a Buffer body whole each time', async () => {
    const raw = await failingThenOk(2, 500);
    const pool = poolFor(raw);
    const r = await pool.request('PUT', '/doc', {
      body: Buffer.from('document v2'),
      retries: new Retry({ total: 3, statusForcelist: [500] }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(
      raw.requests.map((q) => q.body.toString()),
      ['document v2', 'document v2', 'document v2'],
    );
  });
});

describe('Retry-After', () => {
  test('a 503 with Retry-After in seconds is retried without a forcelist and waits that long', async () => {
    const raw = await failingThenOk(1, 503, { 'Retry-After': '3' });
    const pool = poolFor(raw);
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [3000]);
    assert.deepEqual(
      r.retries!.history.map((h) => h.status),
      [503],
    );
    assert.equal(raw.stats.opened, 1);
  });

  const dates: Array<[string, string]> = [
    ['IMF-fixdate', 'Mon, 03 Jun 2019 11:00:05 GMT'],
    ['rfc850-date', 'Monday, 03-Jun-19 11:00:05 GMT'],
    ['asctime-date', 'Mon Jun  3 11:00:05 2019'],
  ];
  for (const [form, value] of dates) {
    test(`a 429 with Retry-After as an ${form} waits until that date`, async () => {
      const raw = await failingThenOk(1, 429, { 'Retry-After': value });
      const pool = poolFor(raw);
      const r = await pool.request('GET', '/');
      assert.equal(r.status, 200);
      assert.deepEqual(slept, [5000]);
    });
  }

  test('a 413 with Retry-After re-sends the body of an allowed method after the wait', async () => {
    const raw = await failingThenOk(1, 413, { 'Retry-After': '1' });
    const pool = poolFor(raw);
    const r = await pool.request('PUT', '/upload', { body: 'big upload' });
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [1000]);
    assert.deepEqual(
      raw.requests.map((q) => q.body.toString()),
      ['big upload', 'big upload'],
    );
  });

  test('a date in the past retries at once, and retryAfterMax caps a long wait', async () => {
    const past = await failingThenOk(1, 503, { 'Retry-After': 'Sun, 02 Jun 2019 11:00:00 GMT' });
    const r1 = await poolFor(past).request('GET', '/');
    assert.equal(r1.status, 200);
    assert.deepEqual(slept, [], 'a zero wait does not sleep');

    const far = await failingThenOk(1, 503, { 'Retry-After': '86400' });
    const r2 = await poolFor(far).request('GET', '/', {
      retries: new Retry({ total: 3, retryAfterMax: 1500 }),
    });
    assert.equal(r2.status, 200);
    assert.deepEqual(slept, [1500]);
  });

  test('respectRetryAfterHeader: false returns the 503 unless forced, and a forced one waits the backoff instead', async () => {
    const raw = await failingThenOk(2, 503, { 'Retry-After': '7' });
    const pool = poolFor(raw);
    const r1 = await pool.request('GET', '/', {
      retries: new Retry({ total: 3, respectRetryAfterHeader: false }),
    });
    assert.equal(r1.status, 503);
    assert.equal(raw.requests.length, 1);
    const r2 = await pool.request('GET', '/', {
      retries: new Retry({
        total: 3,
        respectRetryAfterHeader: false,
        statusForcelist: [503],
        backoffFactor: 10,
      }),
    });
    assert.equal(r2.status, 200);
    assert.deepEqual(slept, [], 'first retry: no backoff, and Retry-After ignored');
  });

  test('issue 15 item 4: a forced 500 carrying Retry-After waits what the header says, not the backoff', async () => {
    const raw = await failingThenOk(3, 500, { 'Retry-After': '9' });
    const pool = poolFor(raw);
    const r = await pool.request('GET', '/', {
      retries: new Retry({ total: 5, statusForcelist: [500], backoffFactor: 50 }),
    });
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [9000, 9000, 9000]);
  });

  test('a 500 with Retry-After is still not retried unless forced', async () => {
    const raw = await failingThenOk(1, 500, { 'Retry-After': '1' });
    const r = await poolFor(raw).request('GET', '/');
    assert.equal(r.status, 500);
    assert.equal(raw.requests.length, 1);
    assert.deepEqual(slept, []);
  });

  test('Retry-After does not retry a method outside allowedMethods, nor a request with total: null', async () => {
    const raw = await failingThenOk(2, 503, { 'Retry-After': '1' });
    const pool = poolFor(raw);
    const post = await pool.request('POST', '/', { body: 'x' });
    assert.equal(post.status, 503);
    const unlimited = await pool.request('GET', '/', { retries: new Retry({ total: null, status: 3 }) });
    assert.equal(unlimited.status, 503, 'urllib3 asks for a truthy total before honouring Retry-After');
    assert.deepEqual(slept, []);
  });

  test('an empty Retry-After is no Retry-After', async () => {
    const raw = await failingThenOk(1, 503, { 'Retry-After': '' });
    const r = await poolFor(raw).request('GET', '/');
    assert.equal(r.status, 503);
    assert.equal(raw.requests.length, 1);
  });

  test('an invalid Retry-After on a retried response is InvalidHeader, after the response was drained', async () => {
    const raw = await failingThenOk(1, 503, { 'Retry-After': 'soon, maybe' });
    const pool = poolFor(raw);
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof InvalidHeader, `expected InvalidHeader, got ${err.name}: ${err.message}`);
    assert.match(err.message, /soon, maybe/);
    const r = await pool.request('GET', '/');
    assert.equal(r.status, 200);
    assert.equal(raw.stats.opened, 1, 'the 503 was drained and its connection reused');
  });

  test('the PoolManager honours Retry-After the same way', async () => {
    const raw = await failingThenOk(2, 429, { 'Retry-After': '2' });
    const pm = new PoolManager();
    closers.push(pm);
    const r = await pm.request('GET', `${raw.origin}/limited`);
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [2000, 2000]);
    assert.equal(r.url, `${raw.origin}/limited`);
    assert.equal(r.retries!.history.length, 2);
  });

  test('an abort during a Retry-After wait rejects promptly with RequestAbortedError', async () => {
    Retry.sleeper = saved.sleeper; // the real timer: the abort must cut it short
    const raw = await failingThenOk(1, 503, { 'Retry-After': '30' });
    const pool = poolFor(raw);
    const ac = new AbortController();
    const reason = new Error('no more waiting');
    const started = performance.now();
    setTimeout(() => ac.abort(reason), 50);
    const err = await rejectionOf(pool.request('GET', '/', { signal: ac.signal }));
    const elapsed = performance.now() - started;
    assert.ok(err instanceof RequestAbortedError, `expected RequestAbortedError, got ${err.name}`);
    assert.equal(err.cause, reason);
    assert.ok(elapsed < 1000, `took ${elapsed.toFixed(0)} ms to notice the abort`);
    assert.equal(raw.requests.length, 1);
  });
});
