// Retry: every rule of urllib3 v2's increment (counters, history, the
// idempotent-method rule, status forcelist, redirects, total: false),
// backoff, Retry-After in seconds and all three HTTP-date forms against a
// fixed clock, the caps, sleeping, validation and Retry.from.

import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  ConnectTimeoutError,
  HTTPError,
  IncompleteRead,
  InvalidChunkLength,
  InvalidHeader,
  MaxRetryError,
  NameResolutionError,
  NewConnectionError,
  ProtocolError,
  ProxyError,
  ReadTimeoutError,
  ResponseError,
  SSLError,
} from '../../../src/errors.js';
import { HTTPHeaderDict } from '../../../src/headers.js';
import { parseRetryAfterDate } from '../../../src/policies/retry-after-date.js';
import {
  classifyError,
  type RequestHistory,
  Retry,
  type RetryOptions,
  type RetryResponse,
} from '../../../src/policies/retry.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** A response as the pool would pass it: status, headers and the redirect rule of HTTPResponse. */
function response(status: number, headers: Record<string, string> = {}): RetryResponse {
  const h = new HTTPHeaderDict(headers);
  return {
    status,
    headers: h,
    getRedirectLocation: () => (REDIRECTS.has(status) ? (h.get('location') ?? null) : false),
  };
}

const readError = (url = '/'): ReadTimeoutError => new ReadTimeoutError(null, url, 'read timed out');
const pool = { host: 'example.com', port: 80 };

// 2019-06-03T11:00:00Z, the instant urllib3's Retry-After tests use.
const NOW = Date.UTC(2019, 5, 3, 11, 0, 0);

const saved = { now: Retry.now, sleeper: Retry.sleeper, random: Retry.random };
let slept: number[] = [];
beforeEach(() => {
  slept = [];
  Retry.now = () => NOW;
  Retry.sleeper = async (ms) => {
    slept.push(ms);
  };
});
afterEach(() => {
  Retry.now = saved.now;
  Retry.sleeper = saved.sleeper;
  Retry.random = saved.random;
});

function incrementTimes(retry: Retry, times: number, options: Parameters<Retry['increment']>[0]): Retry {
  let r = retry;
  for (let i = 0; i < times; i++) r = r.increment(options);
  return r;
}

describe('Retry defaults and representation', () => {
  test('defaults match urllib3', () => {
    const retry = new Retry();
    assert.equal(retry.total, 10);
    assert.equal(retry.connect, null);
    assert.equal(retry.read, null);
    assert.equal(retry.redirect, null);
    assert.equal(retry.status, null);
    assert.equal(retry.other, null);
    assert.equal(retry.backoffFactor, 0);
    assert.equal(retry.backoffMax, 120_000);
    assert.equal(retry.backoffJitter, 0);
    assert.equal(retry.retryAfterMax, 21_600_000);
    assert.equal(retry.raiseOnRedirect, true);
    assert.equal(retry.raiseOnStatus, true);
    assert.equal(retry.respectRetryAfterHeader, true);
    assert.deepEqual(retry.history, []);
    assert.deepEqual([...(retry.allowedMethods ?? [])], ['HEAD', 'GET', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
    assert.deepEqual([...retry.statusForcelist], []);
  });

  test('statics match urllib3', () => {
    assert.equal(Retry.DEFAULT.total, 3);
    assert.deepEqual([...Retry.RETRY_AFTER_STATUS_CODES], [413, 429, 503]);
    assert.deepEqual(
      [...Retry.DEFAULT_REMOVE_HEADERS_ON_REDIRECT],
      ['Cookie', 'Authorization', 'Proxy-Authorization'],
    );
    assert.equal(Retry.DEFAULT_BACKOFF_MAX, 120_000);
  });

  test('toString reads like urllib3 and follows increments', () => {
    let retry = new Retry();
    assert.equal(String(retry), 'Retry(total=10, connect=None, read=None, redirect=None, status=None)');
    retry = incrementTimes(retry, 3, { method: 'GET' });
    assert.equal(String(retry), 'Retry(total=7, connect=None, read=None, redirect=None, status=None)');
    assert.equal(
      String(new Retry({ total: false })),
      'Retry(total=False, connect=None, read=None, redirect=0, status=None)',
    );
  });

  test('headers removed on redirect are lower-cased', () => {
    assert.deepEqual([...new Retry().removeHeadersOnRedirect].sort(), [
      'authorization',
      'cookie',
      'proxy-authorization',
    ]);
    assert.deepEqual(
      [...new Retry({ removeHeadersOnRedirect: ['X-API-Secret'] }).removeHeadersOnRedirect],
      ['x-api-secret'],
    );
  });
});

describe('Retry counters', () => {
  test('total wins when it is lower than connect', () => {
    const error = new ConnectTimeoutError('conntimeout');
    const retry = incrementTimes(new Retry({ connect: 3, total: 2 }), 2, { error });
    assert.equal(retry.connect, 1);
    assert.throws(
      () => retry.increment({ error }),
      (e: unknown) => e instanceof MaxRetryError && e.reason === error,
    );
  });

  test('connect wins when it is lower than total', () => {
    const error = new ConnectTimeoutError();
    const retry = incrementTimes(new Retry({ connect: 2, total: 3 }), 2, { error });
    assert.equal(retry.connect, 0);
    assert.equal(retry.total, 1);
    assert.throws(() => retry.increment({ error }), MaxRetryError);
  });

  test('read wins when it is lower than total', () => {
    const error = readError();
    const retry = incrementTimes(new Retry({ read: 2, total: 3 }), 2, { method: 'GET', error });
    assert.throws(() => retry.increment({ method: 'GET', error }), MaxRetryError);
  });

  test('with total null the connect counter decides, and read errors are unlimited', () => {
    const error = new ConnectTimeoutError();
    const retry = incrementTimes(new Retry({ connect: 2, total: null }), 2, { error });
    assert.throws(
      () => retry.increment({ error }),
      (e: unknown) => e instanceof MaxRetryError && e.reason === error,
    );
    const reads = incrementTimes(new Retry({ connect: 2, total: null }), 3, {
      method: 'GET',
      error: readError(),
    });
    assert.equal(reads.isExhausted(), false);
    assert.equal(reads.total, null);
  });

  test('connect: 1 allows one retry', () => {
    const error = new ConnectTimeoutError();
    const retry = new Retry({ connect: 1 }).increment({ error });
    assert.equal(retry.isExhausted(), false);
    assert.throws(() => retry.increment({ error }), MaxRetryError);
  });

  test('other errors spend only the other counter', () => {
    const error = new SSLError('bad record mac');
    const retry = incrementTimes(new Retry({ connect: 1 }), 2, { error });
    assert.equal(retry.isExhausted(), false);
    assert.equal(retry.connect, 1);
    const limited = new Retry({ other: 1 }).increment({ error });
    assert.throws(
      () => limited.increment({ error }),
      (e: unknown) => e instanceof MaxRetryError && e.reason === error,
    );
  });

  test('read: 0 gives no second chance', () => {
    const error = readError();
    assert.throws(
      () => new Retry({ read: 0 }).increment({ method: 'GET', error }),
      (e: unknown) => e instanceof MaxRetryError && e.reason === error,
    );
  });

  test('status counts responses and names the status when it runs out', () => {
    const resp = response(400);
    const retry = incrementTimes(new Retry({ status: 2 }), 2, { response: resp });
    assert.equal(retry.status, 0);
    assert.throws(
      () => retry.increment({ response: resp }),
      (e: unknown) =>
        e instanceof MaxRetryError &&
        e.reason instanceof ResponseError &&
        e.reason.message === 'too many 400 error responses',
    );
  });

  test('redirects count down and run out with "too many redirects"', () => {
    const resp = response(302, { Location: '/next' });
    const retry = incrementTimes(new Retry({ redirect: 2 }), 2, { method: 'GET', url: '/a', response: resp });
    assert.equal(retry.redirect, 0);
    assert.equal(retry.total, 8);
    assert.throws(
      () => retry.increment({ method: 'GET', url: '/a', response: resp }),
      (e: unknown) =>
        e instanceof MaxRetryError && e.reason?.message === 'too many redirects' && e.url === '/a',
    );
  });

  test('a 3xx without Location is a status retry, not a redirect', () => {
    const retry = new Retry({ redirect: 0 }).increment({ response: response(302) });
    assert.equal(retry.redirect, 0);
    assert.equal(retry.history[0]!.redirectLocation, null);
    assert.equal(retry.history[0]!.status, 302);
  });

  test('exhaustion is a counter below zero; zero is not exhausted', () => {
    assert.equal(new Retry({ total: 0 }).isExhausted(), false);
    assert.equal(new Retry({ total: 1 }).increment({ method: 'GET' }).total, 0);
    assert.throws(() => new Retry({ total: 0 }).increment({ method: 'GET' }), MaxRetryError);
  });

  test('increment returns a new Retry and leaves the original alone', () => {
    const original = new Retry({ total: 3, connect: 2 });
    const next = original.increment({ method: 'GET', error: new ConnectTimeoutError() });
    assert.notEqual(next, original);
    assert.equal(original.total, 3);
    assert.equal(original.connect, 2);
    assert.equal(original.history.length, 0);
    assert.equal(next.total, 2);
    assert.equal(next.connect, 1);
    assert.equal(next.history.length, 1);
  });
});

describe('Retry error rules', () => {
  test('a read error on a method that is not allowed re-throws the error itself', () => {
    const error = readError();
    assert.throws(
      () => new Retry().increment({ method: 'POST', error }),
      (e: unknown) => e === error,
    );
  });

  test('a read error without a method re-throws', () => {
    const error = new ProtocolError('Connection aborted.');
    assert.throws(
      () => new Retry().increment({ error }),
      (e: unknown) => e === error,
    );
  });

  test('connect errors are retried for any method', () => {
    const retry = new Retry().increment({ method: 'POST', error: new NewConnectionError(null, 'refused') });
    assert.equal(retry.total, 9);
  });

  test('connect: false and read: false re-throw at once', () => {
    const c = new ConnectTimeoutError();
    assert.throws(
      () => new Retry({ connect: false }).increment({ error: c }),
      (e: unknown) => e === c,
    );
    const r = readError();
    assert.throws(
      () => new Retry({ read: false }).increment({ method: 'GET', error: r }),
      (e: unknown) => e === r,
    );
  });

  test('total: false re-throws any error and disables redirects', () => {
    const retry = new Retry({ total: false });
    assert.equal(retry.redirect, 0);
    assert.equal(retry.raiseOnRedirect, false);
    for (const error of [new ConnectTimeoutError(), readError(), new SSLError('x')]) {
      assert.throws(
        () => retry.increment({ method: 'GET', error }),
        (e: unknown) => e === error,
      );
    }
  });

  test('total: false turns a redirect into MaxRetryError (the pool returns the 3xx)', () => {
    const retry = new Retry({ total: false });
    assert.throws(
      () => retry.increment({ method: 'GET', response: response(301, { location: '/x' }) }),
      (e: unknown) => e instanceof MaxRetryError && e.reason?.message === 'too many redirects',
    );
  });

  test('redirect: false means no redirects and no raise', () => {
    const retry = new Retry({ redirect: false });
    assert.equal(retry.redirect, 0);
    assert.equal(retry.raiseOnRedirect, false);
    assert.equal(retry.total, 10);
  });

  test('allowedMethods null or empty allows every method', () => {
    for (const allowedMethods of [null, []]) {
      const retry = new Retry({ allowedMethods }).increment({ method: 'POST', error: readError() });
      assert.equal(retry.total, 9);
    }
  });

  test('allowedMethods are compared in upper case', () => {
    const retry = new Retry({ allowedMethods: ['post'] });
    assert.deepEqual([...(retry.allowedMethods ?? [])], ['POST']);
    assert.equal(retry.increment({ method: 'post', error: readError() }).total, 9);
  });

  test('messages name the cause', () => {
    assert.throws(
      () => new Retry({ total: 0 }).increment({ method: 'GET', error: readError() }),
      (e: unknown) =>
        e instanceof MaxRetryError && /read timed out/.test(e.message) && !/redirect/.test(e.message),
    );
    const once = new Retry({ total: 1 }).increment({ method: 'POST', url: '/' });
    assert.throws(
      () => once.increment({ method: 'POST', url: '/' }),
      (e: unknown) =>
        e instanceof MaxRetryError &&
        e.reason instanceof ResponseError &&
        e.reason.message === 'too many error responses' &&
        e.message === 'Max retries exceeded with url: / (Caused by ResponseError: too many error responses)',
    );
    const fiveHundred = new Retry({ total: 1 }).increment({
      method: 'POST',
      url: '/',
      response: response(500),
    });
    assert.throws(
      () => fiveHundred.increment({ method: 'POST', url: '/', response: response(500) }),
      /too many 500 error responses/,
    );
    const conn = new Retry({ connect: 1 }).increment({ error: new ConnectTimeoutError('conntimeout') });
    assert.throws(() => conn.increment({ error: new ConnectTimeoutError('conntimeout') }), /conntimeout/);
  });

  test('MaxRetryError carries the pool, the url and the error as cause', () => {
    const error = new ConnectTimeoutError('slow');
    try {
      new Retry({ total: 0 }).increment({ method: 'GET', url: '/path', error, pool });
      assert.fail('expected MaxRetryError');
    } catch (e) {
      assert.ok(e instanceof MaxRetryError);
      assert.equal(e.pool, pool);
      assert.equal(e.url, '/path');
      assert.equal(e.reason, error);
      assert.equal(e.cause, error);
      assert.match(e.message, /^Pool\(host='example.com', port=80\): Max retries exceeded with url: \/path/);
    }
  });

  test('a thrown non-Error is recorded as an Error with the value as cause', () => {
    const retry = new Retry().increment({ method: 'GET', error: 'boom' });
    const recorded = retry.history[0]!.error;
    assert.ok(recorded instanceof Error);
    assert.equal(recorded.message, 'boom');
    assert.equal(recorded.cause, 'boom');
  });

  test('an unknown increment option is a TypeError', () => {
    assert.throws(() => new Retry().increment({ methd: 'GET' } as Parameters<Retry['increment']>[0]), {
      name: 'TypeError',
      message: "Retry.increment: unknown option 'methd'",
    });
  });
});

describe('classifyError', () => {
  test('connection set-up failures are connect errors', () => {
    assert.equal(classifyError(new ConnectTimeoutError('t')), 'connect');
    assert.equal(classifyError(new NewConnectionError(null, 'refused')), 'connect');
    assert.equal(classifyError(new NameResolutionError('nx.invalid', null, null)), 'connect');
    assert.equal(
      classifyError(new ProxyError('proxy down', { cause: new NewConnectionError(null, 'x') })),
      'connect',
    );
  });

  test('errors whose declared phase is connect are connect errors', () => {
    const tls = new SSLError('handshake failed', { phase: 'connect' });
    assert.equal(classifyError(tls), 'connect');
    assert.equal(classifyError(new ProxyError('407', { phase: 'connect' })), 'connect');
    assert.throws(() => new Retry({ connect: 0, other: 5 }).increment({ error: tls }), MaxRetryError);
  });

  test('read timeouts and protocol errors are read errors', () => {
    assert.equal(classifyError(readError()), 'read');
    assert.equal(classifyError(new ProtocolError('reset')), 'read');
  });

  test('issue 15 item 3: IncompleteRead and InvalidChunkLength given directly are "other" errors, as in urllib3', () => {
    assert.equal(new IncompleteRead(5, 10) instanceof ProtocolError, false);
    assert.equal(new InvalidChunkLength('zz') instanceof ProtocolError, false);
    assert.ok(new InvalidChunkLength('zz') instanceof HTTPError);
    assert.equal(classifyError(new IncompleteRead(5, 10)), 'other');
    assert.equal(classifyError(new InvalidChunkLength('zz')), 'other');
    const next = new Retry({ total: 5, read: 0, other: 2 }).increment({
      method: 'GET',
      error: new IncompleteRead(5, 10),
    });
    assert.equal(next.other, 1);
    assert.equal(next.read, 0);
    // Wrapped as a response read wraps it, it is a read error again.
    const wrapped = new ProtocolError('Connection broken', { cause: new IncompleteRead(5, 10) });
    assert.throws(
      () => new Retry({ total: 5, read: 0 }).increment({ method: 'GET', error: wrapped }),
      MaxRetryError,
    );
  });

  test('everything else is other', () => {
    assert.equal(classifyError(new SSLError('x')), 'other');
    assert.equal(classifyError(new ProxyError('bad gateway')), 'other');
    assert.equal(classifyError(new Error('x')), 'other');
    assert.equal(classifyError(Object.assign(new Error('x'), { phase: 'connect' })), 'other');
    assert.equal(classifyError('boom'), 'other');
    assert.equal(classifyError(undefined), 'other');
  });
});

describe('Retry history', () => {
  test('each increment appends what happened', () => {
    let retry = new Retry({ total: 10, allowedMethods: ['GET', 'POST'] });
    assert.deepEqual(retry.history, []);
    const connectionError = new ConnectTimeoutError('conntimeout');
    retry = retry.increment({ method: 'GET', url: '/test1', error: connectionError });
    const h1: RequestHistory = {
      method: 'GET',
      url: '/test1',
      error: connectionError,
      status: null,
      redirectLocation: null,
    };
    assert.deepEqual(retry.history, [h1]);

    const error2 = readError('/test2');
    retry = retry.increment({ method: 'POST', url: '/test2', error: error2 });
    const h2: RequestHistory = {
      method: 'POST',
      url: '/test2',
      error: error2,
      status: null,
      redirectLocation: null,
    };
    assert.deepEqual(retry.history, [h1, h2]);

    retry = retry.increment({ method: 'GET', url: '/test3', response: response(500) });
    const h3: RequestHistory = {
      method: 'GET',
      url: '/test3',
      error: null,
      status: 500,
      redirectLocation: null,
    };
    assert.deepEqual(retry.history, [h1, h2, h3]);

    retry = retry.increment({ method: 'GET', url: '/test4', response: response(303, { Location: '/next' }) });
    const h4: RequestHistory = {
      method: 'GET',
      url: '/test4',
      error: null,
      status: 303,
      redirectLocation: '/next',
    };
    assert.deepEqual(retry.history, [h1, h2, h3, h4]);
  });

  test('history and its entries are frozen', () => {
    const retry = new Retry().increment({ method: 'GET' });
    assert.ok(Object.isFrozen(retry.history));
    assert.ok(Object.isFrozen(retry.history[0]));
  });
});

describe('Retry backoff', () => {
  test('starts at the second consecutive error and doubles up to the cap', () => {
    let retry = new Retry({ total: 100, backoffFactor: 200 });
    assert.equal(retry.getBackoffTime(), 0);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 0);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.backoffFactor, 200);
    assert.equal(retry.total, 98);
    assert.equal(retry.getBackoffTime(), 400);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 800);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 1600);
    retry = incrementTimes(retry, 10, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), Retry.DEFAULT_BACKOFF_MAX);
  });

  test('backoffMax caps it', () => {
    let retry = new Retry({ total: 100, backoffFactor: 200, backoffMax: 1000 });
    retry = incrementTimes(retry, 2, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), 400);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 800);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 1000);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 1000);
  });

  test('jitter adds random * backoffJitter, still under the cap', () => {
    Retry.random = () => 0.5;
    let retry = new Retry({ total: 100, backoffFactor: 200, backoffMax: 1000, backoffJitter: 400 });
    retry = incrementTimes(retry, 2, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), 600);
    retry = retry.increment({ method: 'GET' });
    assert.equal(retry.getBackoffTime(), 1000);
    Retry.random = saved.random;
    retry = new Retry({ total: 100, backoffFactor: 200, backoffJitter: 400 });
    retry = incrementTimes(retry, 2, { method: 'GET' });
    for (let i = 0; i < 50; i++) {
      const t = retry.getBackoffTime();
      assert.ok(t >= 400 && t <= 800, `backoff ${t} outside [400, 800]`);
    }
  });

  test('no factor, no backoff', () => {
    const retry = incrementTimes(new Retry(), 2, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), 0);
  });

  test('a redirect ends the error streak', () => {
    let retry = new Retry({ total: 100, redirect: 5, backoffFactor: 200 });
    retry = incrementTimes(retry, 2, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), 400);
    retry = retry.increment({ method: 'GET', response: response(302, { location: 'test' }) });
    assert.equal(retry.getBackoffTime(), 0);
    retry = incrementTimes(retry, 2, { method: 'GET' });
    assert.equal(retry.getBackoffTime(), 400);
  });
});

describe('Retry.isRetry', () => {
  test('statusForcelist forces a retry', () => {
    const retry = new Retry({ statusForcelist: Array.from({ length: 100 }, (_, i) => 500 + i) });
    assert.equal(retry.isRetry('GET', 200), false);
    assert.equal(retry.isRetry('GET', 400), false);
    assert.equal(retry.isRetry('GET', 500), true);
    const teapot = new Retry({ total: 1, statusForcelist: new Set([418]) });
    assert.equal(teapot.isRetry('GET', 400), false);
    assert.equal(teapot.isRetry('GET', 418), true);
  });

  test('the method must be allowed as well', () => {
    const any = new Retry({ statusForcelist: [500], allowedMethods: null });
    assert.equal(any.isRetry('GET', 500), true);
    assert.equal(any.isRetry('POST', 500), true);
    const postOnly = new Retry({ statusForcelist: [500], allowedMethods: ['POST'] });
    assert.equal(postOnly.isRetry('GET', 500), false);
    assert.equal(postOnly.isRetry('POST', 500), true);
  });

  test('Retry-After on 413, 429 and 503 asks for a retry while total is a non-zero number', () => {
    const retry = new Retry();
    for (const status of [413, 429, 503]) assert.equal(retry.isRetry('GET', status, true), true);
    assert.equal(retry.isRetry('GET', 503), false);
    assert.equal(retry.isRetry('GET', 500, true), false);
    assert.equal(retry.isRetry('POST', 503, true), false);
    assert.equal(new Retry({ total: 0 }).isRetry('GET', 503, true), false);
    assert.equal(new Retry({ total: null }).isRetry('GET', 503, true), false);
    assert.equal(new Retry({ total: false }).isRetry('GET', 503, true), false);
    assert.equal(new Retry({ respectRetryAfterHeader: false }).isRetry('GET', 503, true), false);
  });
});

describe('Retry-After parsing', () => {
  for (const value of ['-1', '+1', '1.0', '\xb2', '', ' ', 'soon', '1e3', '0x10']) {
    test(`${JSON.stringify(value)} is an InvalidHeader`, () => {
      assert.throws(() => new Retry().parseRetryAfter(value), {
        name: 'InvalidHeader',
        message: `Invalid Retry-After header: ${value}`,
      });
    });
  }

  for (const [value, ms] of [
    ['0', 0],
    ['1000', 1_000_000],
    ['\t42 ', 42_000],
  ] as const) {
    test(`delta-seconds ${JSON.stringify(value)} is ${ms} ms`, () => {
      assert.equal(new Retry().parseRetryAfter(value), ms);
    });
  }

  const dates: Array<[string, number]> = [
    ['Mon, 03 Jun 2019 11:30:12 GMT', 1_812_000],
    ['Monday, 03-Jun-19 11:30:12 GMT', 1_812_000],
    ['Mon Jun  3 11:30:12 2019', 1_812_000],
    ['Mon, 3 Jun 2019 12:00:00 UTC', 3_600_000],
    ['Mon, 03 Jun 2019 13:00:00 +0100', 3_600_000],
    ['Mon, 03 Jun 2019 11:00:00 -0100', 3_600_000],
    ['  Mon, 03 Jun 2019 11:00:01 GMT  ', 1000],
  ];
  for (const [value, ms] of dates) {
    test(`HTTP-date ${JSON.stringify(value)} is ${ms} ms ahead of the clock`, () => {
      assert.equal(new Retry().parseRetryAfter(value), ms);
    });
  }

  test('a date in the past waits 0', () => {
    assert.equal(new Retry().parseRetryAfter('Mon, 3 Jun 2019 11:00:00 UTC'), 0);
    assert.equal(new Retry().parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT'), 0);
  });

  // What urllib3's parse_retry_after (email.utils.parsedate_tz) refuses.
  const badDates = [
    'Mon, 03 Foo 2019 11:30:12 GMT',
    'Mon Jun 3 11:30:12',
    '2019-06-03T11:30:12Z',
    'x',
    // Python's calendar refuses the year (a ValueError there).
    'Mon, 03 Jun 10000 11:30:12 GMT',
  ];
  for (const value of badDates) {
    test(`${JSON.stringify(value)} is not a Retry-After date`, () => {
      assert.throws(() => new Retry().parseRetryAfter(value), InvalidHeader);
    });
  }

  test('issue 15 item 5: Retry-After dates parse as urllib3 parses them (parsedate_tz)', () => {
    // Each wait in seconds is what urllib3 2.7 computed for the same value at the same instant.
    const cases: Array<[string, number]> = [
      ['Mon, 32 Jun 2019 11:30:12 GMT', 2_507_412],
      ['Mon, 31 Jun 2019 11:30:12 GMT', 2_421_012],
      ['Mon, 03 Jun 2019 24:00:00 GMT', 46_800],
      ['Mon, 03 Jun 2019 11:60:00 GMT', 3600],
      ['Mon, 03 Jun 2019 11:30:12 PST', 30_612],
      ['03 Jun 2019 11:30:12 EDT', 16_212],
      ['Mon, 03 Jun 2019 11:30:12', 1812],
      ['Xyz, 03 Jun 2019 11:30:12 GMT', 1812],
      ['Funday, 03-Jun-19 11:30:12 GMT', 1812],
      ['Mon, 03 Jun 19 11:30 GMT', 1800],
      ['Mon, 03 Jun 2019 11:30:12 XYZ', 1812],
      ['Mon, 03 Jun 2019 11:30:12 -0000', 1812],
      ['Mon, 03 Jun 2019 11.30.12 GMT', 1812],
      ['Jun 03 2019 11:30:12 GMT', 1812],
      ['Mon,03 Jun 2019 11:30:12 GMT', 1812],
      ['Mon, 03 Jun 2019, 11:30:12 GMT', 1812],
      [' , 3 Jun 2019 12:00:00', 3600],
      ['Monday, 03-Jun-68 11:30:12 GMT', 1_546_389_012],
      ['Monday, 03-Jun-69 11:30:12 GMT', 0],
      ['3 June 2019 11:30:12 +0100', 0],
      ['03 Jun 2019 11:30:12+0100', 0],
      ['Mon, 3 Jun 2019 12:00:00 +0099', 0],
      ['Mon, 03 Jun 2019 +1:30:12 GMT', 0],
    ];
    const retry = new Retry({ retryAfterMax: 1e15 });
    for (const [value, seconds] of cases) {
      assert.equal(retry.parseRetryAfter(value), seconds * 1000, JSON.stringify(value));
    }
  });

  test('a leap day parses', () => {
    assert.equal(parseRetryAfterDate('Sat, 29 Feb 2020 00:00:00 GMT'), Date.UTC(2020, 1, 29));
  });

  test('the three RFC 9110 forms give the same instant', () => {
    const instant = Date.UTC(1994, 10, 6, 8, 49, 37);
    assert.equal(parseRetryAfterDate('Sun, 06 Nov 1994 08:49:37 GMT'), instant);
    assert.equal(parseRetryAfterDate('Sunday, 06-Nov-94 08:49:37 GMT'), instant);
    assert.equal(parseRetryAfterDate('Sun Nov  6 08:49:37 1994'), instant);
  });

  test('two-digit years are 1969-1999 or 2000-2068, as POSIX reads them', () => {
    assert.equal(parseRetryAfterDate('Thursday, 01-Jan-69 00:00:00 GMT'), Date.UTC(1969, 0, 1));
    assert.equal(parseRetryAfterDate('Thursday, 01-Jan-68 00:00:00 GMT'), Date.UTC(2068, 0, 1));
    assert.equal(parseRetryAfterDate('Thursday, 01-Jan-00 00:00:00 GMT'), Date.UTC(2000, 0, 1));
  });

  test('a four-digit year in the rfc850 form and years from 100 on are taken literally', () => {
    assert.equal(parseRetryAfterDate('Sunday, 06-Nov-1994 08:49:37 GMT'), Date.UTC(1994, 10, 6, 8, 49, 37));
    const d = new Date(Date.UTC(2000, 0, 1));
    d.setUTCFullYear(150);
    assert.equal(parseRetryAfterDate('Sat, 01 Jan 0150 00:00:00 GMT'), d.getTime());
  });

  test('retryAfterMax caps the wait, by default at 6 hours', () => {
    assert.equal(new Retry({ retryAfterMax: 60_000 }).parseRetryAfter('3600'), 60_000);
    assert.equal(new Retry({ retryAfterMax: 60_000 }).parseRetryAfter('60'), 60_000);
    assert.equal(new Retry({ retryAfterMax: 60_000 }).parseRetryAfter('59'), 59_000);
    assert.equal(new Retry().parseRetryAfter('999999'), 21_600_000);
    assert.equal(new Retry().parseRetryAfter('99999999999999999999999999'), 21_600_000);
    assert.equal(
      new Retry({ retryAfterMax: 60_000 }).parseRetryAfter('Mon, 3 Jun 2019 12:00:00 UTC'),
      60_000,
    );
  });

  test('getRetryAfter reads the header from the response', () => {
    const retry = new Retry();
    assert.equal(retry.getRetryAfter(response(503, { 'Retry-After': '5' })), 5000);
    assert.equal(retry.getRetryAfter(response(503)), null);
    assert.throws(() => retry.getRetryAfter(response(503, { 'retry-after': 'later' })), InvalidHeader);
  });
});

describe('Retry sleeping', () => {
  const sleepCases: Array<[string, boolean, number | null]> = [
    ['3600', true, 3_600_000],
    ['3600', false, null],
    ['Mon, 3 Jun 2019 12:00:00 UTC', true, 3_600_000],
    ['Mon, 3 Jun 2019 12:00:00 UTC', false, null],
    ['Mon, 3 Jun 2019 11:00:00 UTC', true, null],
    ['Mon, 03 Jun 2019 11:30:12 GMT', true, 1_812_000],
    ['Monday, 03-Jun-19 11:30:12 GMT', true, 1_812_000],
    ['Mon Jun  3 11:30:12 2019', true, 1_812_000],
  ];
  for (const [header, respect, expected] of sleepCases) {
    test(`a 503 with Retry-After ${JSON.stringify(header)} and respect=${respect} sleeps ${expected ?? 'not at all'}`, async () => {
      const retry = new Retry({ respectRetryAfterHeader: respect });
      await retry.sleep(response(503, { 'Retry-After': header }));
      assert.deepEqual(slept, expected === null ? [] : [expected]);
    });
  }

  test('issue 15 item 4: Retry-After is honoured on every retried response, not only 413, 429 and 503', async () => {
    const forced = new Retry({ statusForcelist: [500] });
    assert.equal(forced.isRetry('GET', 500, true), true);
    for (const status of [413, 429, 500, 502]) {
      await forced.sleep(response(status, { 'Retry-After': '2' }));
    }
    assert.deepEqual(slept, [2000, 2000, 2000, 2000]);
    // Without respectRetryAfterHeader the header is ignored whatever the status.
    await new Retry({ respectRetryAfterHeader: false, statusForcelist: [500] }).sleep(
      response(500, { 'Retry-After': '2' }),
    );
    assert.deepEqual(slept, [2000, 2000, 2000, 2000]);
  });

  test('without a usable Retry-After the backoff is slept', async () => {
    const retry = incrementTimes(new Retry({ backoffFactor: 100 }), 3, { method: 'GET' });
    await retry.sleep();
    await retry.sleep(response(503));
    await retry.sleep(response(503, { 'Retry-After': '0' }));
    assert.deepEqual(slept, [400, 400, 400]);
  });

  test('a zero backoff does not sleep', async () => {
    await incrementTimes(new Retry(), 3, { method: 'GET' }).sleep();
    assert.deepEqual(slept, []);
  });

  test('sleepForRetry says whether it slept', async () => {
    assert.equal(await new Retry().sleepForRetry(response(503, { 'Retry-After': '1' })), true);
    assert.equal(await new Retry().sleepForRetry(response(503, { 'Retry-After': '0' })), false);
    assert.equal(await new Retry().sleepForRetry(response(503)), false);
    assert.deepEqual(slept, [1000]);
  });

  test('the real sleeper waits about the backoff', async () => {
    Retry.sleeper = saved.sleeper;
    const retry = incrementTimes(new Retry({ backoffFactor: 15 }), 2, { method: 'GET' });
    const start = performance.now();
    await retry.sleep();
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 25 && elapsed < 1000, `slept ${elapsed} ms for a 30 ms backoff`);
  });

  test('an abort signal cuts a sleep short with its reason', async () => {
    Retry.sleeper = saved.sleeper;
    const retry = incrementTimes(new Retry({ backoffFactor: 60_000 }), 2, { method: 'GET' });
    const controller = new AbortController();
    const reason = new Error('cancelled');
    const start = performance.now();
    setTimeout(() => controller.abort(reason), 10);
    await assert.rejects(retry.sleep(undefined, { signal: controller.signal }), (e: unknown) => e === reason);
    assert.ok(performance.now() - start < 5000);
    const aborted = AbortSignal.abort(reason);
    await assert.rejects(retry.sleep(null, { signal: aborted }), (e: unknown) => e === reason);
  });
});

describe('Retry validation', () => {
  const bad: Array<[RetryOptions, typeof RangeError | typeof TypeError]> = [
    [{ total: -1 }, RangeError],
    [{ connect: -1 }, RangeError],
    [{ read: Number.NaN }, RangeError],
    [{ redirect: 1.5 }, RangeError],
    [{ status: Number.POSITIVE_INFINITY }, RangeError],
    [{ other: -2 }, RangeError],
    [{ backoffFactor: -1 }, RangeError],
    [{ backoffMax: Number.NaN }, RangeError],
    [{ backoffJitter: -0.5 }, RangeError],
    [{ retryAfterMax: -1 }, RangeError],
    [{ total: '3' as unknown as number }, TypeError],
    [{ total: true as unknown as number }, TypeError],
    [{ status: false as unknown as number }, TypeError],
    [{ raiseOnStatus: 'yes' as unknown as boolean }, TypeError],
    [{ allowedMethods: 'GET' as unknown as string[] }, TypeError],
    [{ statusForcelist: ['418'] as unknown as number[] }, TypeError],
    [{ backoffFactor: '1' as unknown as number }, TypeError],
  ];
  for (const [options, kind] of bad) {
    test(`${JSON.stringify(options, (_k, v) => (Number.isNaN(v) ? 'NaN' : v))} is a ${kind.name}`, () => {
      assert.throws(
        () => new Retry(options),
        (e: unknown) => e instanceof kind && !(e instanceof (kind === RangeError ? TypeError : RangeError)),
      );
    });
  }

  test('an unknown option is a TypeError naming it', () => {
    assert.throws(() => new Retry({ totl: 3 } as RetryOptions), {
      name: 'TypeError',
      message: "Retry: unknown option 'totl'",
    });
  });

  test('undefined options take the defaults', () => {
    assert.equal(new Retry({ total: undefined, backoffMax: undefined }).total, 10);
  });
});

describe('Retry.new', () => {
  test('copies everything and applies overrides', () => {
    const retry = new Retry({
      total: 4,
      backoffFactor: 10,
      statusForcelist: [503],
      respectRetryAfterHeader: false,
    });
    const copy = retry.new({ total: 7 });
    assert.equal(copy.total, 7);
    assert.equal(copy.backoffFactor, 10);
    assert.deepEqual([...copy.statusForcelist], [503]);
    assert.equal(copy.respectRetryAfterHeader, false);
    assert.equal(retry.total, 4);
  });

  test('respectRetryAfterHeader and retryAfterMax propagate', () => {
    for (const respect of [true, false]) {
      assert.equal(new Retry({ respectRetryAfterHeader: respect }).new().respectRetryAfterHeader, respect);
    }
    assert.equal(new Retry({ retryAfterMax: 60_000 }).new().parseRetryAfter('61'), 60_000);
  });

  test('overrides are validated; the counters already spent are kept', () => {
    const spent = incrementTimes(new Retry({ total: 3, connect: 2 }), 2, {
      error: new ConnectTimeoutError(),
    });
    const copy = spent.new({ backoffFactor: 5 });
    assert.equal(copy.total, 1);
    assert.equal(copy.connect, 0);
    assert.equal(copy.history.length, 2);
    assert.throws(() => spent.new({ total: -5 }), RangeError);
    assert.throws(() => spent.new({ nope: 1 } as RetryOptions), TypeError);
  });

  test('total: false in an override disables redirects as in the constructor', () => {
    const copy = new Retry({ redirect: 5 }).new({ total: false });
    assert.equal(copy.redirect, 0);
    assert.equal(copy.raiseOnRedirect, false);
  });

  test('subclasses survive new and increment', () => {
    class MyRetry extends Retry {}
    const retry = new MyRetry({ total: 3 });
    assert.ok(retry.new() instanceof MyRetry);
    assert.ok(retry.increment({ method: 'GET' }) instanceof MyRetry);
    assert.equal(String(retry), 'MyRetry(total=3, connect=None, read=None, redirect=None, status=None)');
  });
});

describe('Retry.from', () => {
  test('a Retry is returned as is', () => {
    const retry = new Retry({ total: 2 });
    assert.equal(Retry.from(retry), retry);
  });

  test('undefined and null take the default, else Retry.DEFAULT', () => {
    assert.equal(Retry.from(undefined), Retry.DEFAULT);
    assert.equal(Retry.from(null), Retry.DEFAULT);
    const fallback = new Retry({ total: 1 });
    assert.equal(Retry.from(undefined, { default: fallback }), fallback);
    assert.equal(Retry.from(null, { default: 4 }).total, 4);
  });

  test('true means the default', () => {
    assert.equal(Retry.from(true), Retry.DEFAULT);
    const fallback = new Retry({ total: 1 });
    assert.equal(Retry.from(true, { default: fallback }), fallback);
  });

  test('a number is the total, with redirects under it', () => {
    const retry = Retry.from(5);
    assert.equal(retry.total, 5);
    assert.equal(retry.redirect, null);
    assert.equal(retry.raiseOnRedirect, true);
    assert.equal(Retry.from(0).total, 0);
  });

  test('redirect: false turns redirects off and returns them', () => {
    for (const redirect of [false, 0]) {
      const retry = Retry.from(5, { redirect });
      assert.equal(retry.redirect, 0);
      assert.equal(retry.raiseOnRedirect, false);
    }
    assert.equal(Retry.from(5, { redirect: 3 }).redirect, null);
  });

  test('false disables retries: errors re-thrown, redirects returned', () => {
    const retry = Retry.from(false);
    assert.equal(retry.total, false);
    assert.equal(retry.raiseOnRedirect, false);
    const error = new ConnectTimeoutError();
    assert.throws(
      () => retry.increment({ error }),
      (e: unknown) => e === error,
    );
  });

  test('bad input is refused', () => {
    assert.throws(() => Retry.from(-1), RangeError);
    assert.throws(() => Retry.from(3, { redirects: false } as never), TypeError);
  });
});
