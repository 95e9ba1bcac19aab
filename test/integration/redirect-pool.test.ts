// Redirects followed by one HTTPConnectionPool (docs/api.md section 6, urllib3
// v2's HTTPConnectionPool.urlopen): 301, 302, 307 and 308 keep method and
// body while 303 alone turns the request into a GET without body or
// Content-* headers; the body is rewound for every re-send, or refused with
// UnrewindableBodyError; relative Locations; same host only (HostChangedError,
// or MaxRetryError when the budget is already spent); http(s) only;
// redirects spend both `redirect` and `total`; history and url show the
// chain; each redirect body is drained so one connection carries the chain.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  HostChangedError,
  HTTPConnectionPool,
  type HTTPResponse,
  LocationParseError,
  MaxRetryError,
  ResponseError,
  Retry,
  UnrewindableBodyError,
  URLSchemeUnknown,
} from '../../src/index.js';
import { type EchoBody, startHttpServer, type TestHttpServer } from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

const HOST = '127.0.0.1';
let server: TestHttpServer;
let pool: HTTPConnectionPool;
let origin: string;
let baseline = 0;
let slept: number[] = [];
const savedSleeper = Retry.sleeper;

/** Extra routes: /rel/...?loc=L answers 302 to L (echo without loc); /chain?n=K&size=S hops K times with S-byte bodies. */
before(async () => {
  server = await startHttpServer((req, res, rec) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const echo = (): true => {
      const json = Buffer.from(
        JSON.stringify({ method: rec.method, url: rec.url, body: rec.body.toString() }),
      );
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': json.length });
      res.end(json);
      return true;
    };
    if (u.pathname.startsWith('/rel/')) {
      if (!u.searchParams.has('loc')) return echo();
      res.writeHead(302, { Location: u.searchParams.get('loc')!, 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (u.pathname === '/chain') {
      const n = Number(u.searchParams.get('n'));
      const size = Number(u.searchParams.get('size') ?? '0');
      if (n === 0) return echo();
      const body = Buffer.alloc(size, 'r');
      const status = u.searchParams.get('status') ?? '302';
      res.writeHead(Number(status), {
        Location: `/chain?n=${n - 1}&size=${size}${status === '302' ? '' : `&status=${status}`}`,
        'Content-Length': body.length,
      });
      res.end(body);
      return true;
    }
    if (u.pathname === '/redirect-after') {
      res.writeHead(302, { Location: '/echo/waited', 'Retry-After': '2', 'Content-Length': 0 });
      res.end();
      return true;
    }
    if (u.pathname === '/bad-location') {
      res.writeHead(302, { Location: 'http://[::1', 'Content-Length': 3 });
      res.end('bad');
      return true;
    }
    return false;
  });
  origin = `http://${HOST}:${server.port}`;
});

after(async () => {
  Retry.sleeper = savedSleeper;
  await server.close();
});

beforeEach(() => {
  slept = [];
  Retry.sleeper = async (ms) => {
    slept.push(ms);
  };
  baseline = countOpenSockets();
  pool = new HTTPConnectionPool(HOST, { port: server.port });
});

afterEach(async () => {
  Retry.sleeper = savedSleeper;
  await pool.close();
  // The server keeps idle keep-alive sockets; closing ours lets it drop them.
  const left = await waitForSocketCount((n) => n <= baseline);
  assert.ok(left <= baseline, `${left - baseline} socket(s) left open after the test`);
});

function echoOf(resp: HTTPResponse): EchoBody {
  return JSON.parse(resp.data.toString('utf8')) as EchoBody;
}

/** `/redirect` URL answering `status` with Location `to`. */
function via(to: string, status = 302): string {
  return `/redirect?status=${status}&to=${encodeURIComponent(to)}`;
}

describe('which redirects change the method', () => {
  for (const status of [301, 302, 307, 308]) {
    test(`a ${status} keeps the POST, its body and its Content-Type, as urllib3 does`, async () => {
      const before = server.requests.length;
      const r = await pool.request('POST', via('/echo/kept', status), {
        body: Buffer.from('form=1'),
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(r.status, 200);
      const echo = echoOf(r);
      assert.equal(echo.method, 'POST');
      assert.equal(echo.body, 'form=1');
      assert.equal(echo.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(server.requests.length - before, 2);
      assert.equal(r.retries!.history[0]!.status, status);
    });
  }

  test('a 303 turns a PUT into a GET without the body or any Content-* header, keeping the others', async () => {
    const r = await pool.request('PUT', via('/echo/seen-other', 303), {
      body: 'secret',
      headers: {
        'Content-Type': 'text/plain',
        'Content-Encoding': 'identity',
        'Content-Language': 'en',
        'Content-Location': '/x',
        Digest: 'sha-256=abc',
        'Last-Modified': 'Mon, 03 Jun 2019 11:00:00 GMT',
        'X-Keep': 'kept',
      },
    });
    const echo = echoOf(r);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.bodyLength, 0);
    for (const h of [
      'content-type',
      'content-encoding',
      'content-language',
      'content-location',
      'digest',
      'last-modified',
      'content-length',
      'transfer-encoding',
    ]) {
      assert.equal(echo.headers[h], undefined, `${h} should be gone`);
    }
    assert.equal(echo.headers['x-keep'], 'kept');
    assert.equal(r.retries!.history[0]!.method, 'GET', 'the history records the method of the next request');
  });

  test('a 303 turns a HEAD into a GET as well (urllib3 v2 sets GET whatever the method)', async () => {
    const r = await pool.request('HEAD', via('/echo/after-head', 303));
    assert.equal(r.status, 200);
    assert.equal(server.requests.at(-1)!.method, 'GET');
    assert.equal(echoOf(r).method, 'GET');
  });
});

describe('the body on every re-send', () => {
  test('a Buffer body and an array of chunks are rewound for each hop of a 307 -> 308 chain', async () => {
    for (const body of [Buffer.from('whole body'), ['whole', Buffer.from(' '), 'body']]) {
      const before = server.requests.length;
      const r = await pool.request('POST', via(via('/echo/end', 308), 307), { body });
      assert.equal(echoOf(r).body, 'whole body');
      const seen = server.requests.slice(before).map((q) => q.body.toString());
      assert.deepEqual(seen, ['whole body', 'whole body', 'whole body']);
    }
  });

  test('a Readable body goes out once; a 308 that needs it again is UnrewindableBodyError, never an empty re-send', async () => {
    const before = server.requests.length;
    const err = await rejectionOf(
      pool.request('POST', via('/echo/never', 308), { body: Readable.from([Buffer.from('only once')]) }),
    );
    assert.ok(
      err instanceof UnrewindableBodyError,
      `expected UnrewindableBodyError, got ${err.name}: ${err.message}`,
    );
    const sent = server.requests.slice(before);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]!.body.toString(), 'only once');
  });

  test('a Readable body is not needed again after a 303, which drops it', async () => {
    const r = await pool.request('POST', via('/echo/get-now', 303), { body: Readable.from(['streamed']) });
    assert.equal(echoOf(r).method, 'GET');
  });

  test('bodyPos sends the bytes from that position on, first and after a 307; a stream cannot seek', async () => {
    const before = server.requests.length;
    const r = await pool.request('POST', via('/echo/pos', 307), { body: 'HDRpayload', bodyPos: 3 });
    assert.equal(echoOf(r).body, 'payload');
    assert.deepEqual(
      server.requests.slice(before).map((q) => q.body.toString()),
      ['payload', 'payload'],
    );
    await assert.rejects(
      pool.request('POST', '/echo', { body: Readable.from(['x']), bodyPos: 1 }),
      TypeError,
    );
    await assert.rejects(pool.request('POST', '/echo', { body: 'abc', bodyPos: 4 }), RangeError);
  });
});

describe('where a redirect may lead', () => {
  const relative: Array<[string, string]> = [
    ['c', '/rel/a/c'],
    ['../up?x=1', '/rel/up?x=1'],
    ['?q=2', '/rel/a/b?q=2'],
    ['/echo/absolute-path', '/echo/absolute-path'],
  ];
  for (const [location, expected] of relative) {
    test(`Location ${JSON.stringify(location)} from /rel/a/b resolves to ${expected}`, async () => {
      const r = await pool.request('GET', `/rel/a/b?loc=${encodeURIComponent(location)}`);
      assert.equal(r.status, 200);
      assert.equal(echoOf(r).url, expected);
      assert.equal(r.url, `${origin}${expected}`);
      assert.equal(r.retries!.history[0]!.redirectLocation, location, 'history keeps the Location as sent');
    });
  }

  test('scheme-relative and absolute Locations to the same host are followed', async () => {
    for (const location of [`//${HOST}:${server.port}/echo/sr`, `${origin}/echo/abs`]) {
      const r = await pool.request('GET', via(location));
      assert.equal(r.status, 200);
      assert.equal(r.url, new URL(location, origin).toString());
    }
  });

  test('another host, another port or https is HostChangedError once the redirect is spent', async () => {
    for (const target of [
      `http://localhost:${server.port}/echo`,
      `http://${HOST}:1/echo`,
      `https://${HOST}:${server.port}/echo`,
    ]) {
      const err = await rejectionOf(pool.request('GET', via(target)));
      assert.ok(err instanceof HostChangedError, `${target}: expected HostChangedError, got ${err.name}`);
      assert.equal(err.url, target);
      assert.equal((err.retries as Retry).history.length, 1, 'the redirect was counted first');
    }
    assert.equal(pool.numConnections, 1, 'each 3xx was drained and the connection reused');
  });

  test('with no redirect left a foreign Location is MaxRetryError, as urllib3 counts before it checks the host', async () => {
    const err = await rejectionOf(pool.request('GET', via('http://localhost:1/x'), { retries: 0 }));
    assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
    assert.ok(err.reason instanceof ResponseError);
    assert.match(err.reason.message, /too many redirects/);
  });

  test('a non-http(s) Location is HostChangedError for a pool, and URLSchemeUnknown without the host check', async () => {
    const err = await rejectionOf(pool.request('GET', via('ftp://127.0.0.1/file')));
    assert.ok(err instanceof HostChangedError, `got ${err.name}`);
    for (const location of ['ftp://127.0.0.1/file', 'file:///etc/passwd', 'data:text/plain,hi']) {
      const e = await rejectionOf(pool.request('GET', via(location), { assertSameHost: false }));
      assert.ok(e instanceof URLSchemeUnknown, `${location}: expected URLSchemeUnknown, got ${e.name}`);
    }
  });

  test('an unparsable Location is LocationParseError, and the connection is still reused', async () => {
    const err = await rejectionOf(pool.request('GET', '/bad-location'));
    assert.ok(err instanceof LocationParseError, `expected LocationParseError, got ${err.name}`);
    const r = await pool.request('GET', '/echo/after');
    assert.equal(r.status, 200);
    assert.equal(pool.numConnections, 1);
  });
});

describe('counting, history and connection reuse', () => {
  test('a redirect spends total as well as redirect: total 2 stops a chain at the third hop', async () => {
    const before = server.requests.length;
    const err = await rejectionOf(
      pool.request('GET', '/chain?n=5', { retries: new Retry({ total: 2, redirect: 10 }) }),
    );
    assert.ok(err instanceof MaxRetryError, `got ${err.name}`);
    assert.match(err.reason!.message, /too many redirects/);
    assert.equal(server.requests.length - before, 3);
  });

  test('a redirect and status retries share total', async () => {
    const before = server.requests.length;
    const err = await rejectionOf(
      pool.request('GET', via('/status/503'), { retries: new Retry({ total: 2, statusForcelist: [503] }) }),
    );
    assert.ok(err instanceof MaxRetryError, `got ${err.name}`);
    assert.equal(err.reason!.message, 'too many 503 error responses');
    assert.equal(server.requests.length - before, 3, 'the redirect, then the 503 twice');
  });

  test('raiseOnRedirect: false returns the last 3xx, its history holding the hops that were followed', async () => {
    const r = await pool.request('GET', '/chain?n=5', {
      retries: new Retry({ total: 10, redirect: 2, raiseOnRedirect: false }),
    });
    assert.equal(r.status, 302);
    assert.equal(r.getRedirectLocation(), '/chain?n=2&size=0');
    assert.equal(r.url, `${origin}/chain?n=3&size=0`, 'url is the request that got the 3xx');
    assert.deepEqual(
      r.retries!.history.map((h) => h.redirectLocation),
      ['/chain?n=4&size=0', '/chain?n=3&size=0'],
    );
  });

  test('history and url show the whole chain', async () => {
    const r = await pool.request('GET', '/chain?n=3&status=301', { retries: 10 });
    assert.equal(r.status, 200);
    assert.equal(r.url, `${origin}/chain?n=0&size=0&status=301`);
    assert.deepEqual(
      r.retries!.history.map((h) => [h.method, h.url, h.status, h.redirectLocation, h.error]),
      [
        ['GET', `${origin}/chain?n=3&status=301`, 301, '/chain?n=2&size=0&status=301', null],
        ['GET', `${origin}/chain?n=2&size=0&status=301`, 301, '/chain?n=1&size=0&status=301', null],
        ['GET', `${origin}/chain?n=1&size=0&status=301`, 301, '/chain?n=0&size=0&status=301', null],
      ],
    );
  });

  for (const preloadContent of [true, false]) {
    test(`each redirect body is drained so one connection carries a chain of 4 (preloadContent: ${preloadContent})`, async () => {
      const before = server.requests.length;
      const r = await pool.urlopen('GET', '/chain?n=4&size=100000', { preloadContent, retries: 10 });
      assert.equal(r.status, 200);
      if (!preloadContent) await r.read();
      const hops = server.requests.slice(before);
      assert.equal(hops.length, 5);
      assert.equal(new Set(hops.map((q) => q.connectionId)).size, 1, 'the server saw one connection');
      assert.equal(pool.numConnections, 1);
    });
  }

  test('a Retry-After on a redirect is waited for before following it', async () => {
    const r = await pool.request('GET', '/redirect-after');
    assert.equal(r.status, 200);
    assert.deepEqual(slept, [2000]);
  });
});
