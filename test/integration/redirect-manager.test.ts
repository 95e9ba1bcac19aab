// Redirects followed by the PoolManager across hosts (docs/api.md section 6,
// urllib3 v2's PoolManager.urlopen). Two hosts: server A reached as
// 127.0.0.1 and server B reached as localhost, on different ports. A hop to
// another host drops the removeHeadersOnRedirect headers (Authorization,
// Cookie, Proxy-Authorization by default) for the rest of the chain; the
// body travels with the request and is rewound per hop, or refused with
// UnrewindableBodyError; one Retry spans the chain, so redirects, errors and
// statuses in any hop spend the same total; retries given as a number or on
// the manager apply; only http and https targets are followed; every 3xx
// body is drained so each host sees one connection.

import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import {
  LocationParseError,
  MaxRetryError,
  PoolManager,
  ProtocolError,
  type HTTPResponse,
  ResponseError,
  Retry,
  UnrewindableBodyError,
  URLSchemeUnknown,
} from '../../src/index.js';
import {
  httpResponse,
  type RawServer,
  rawServer,
  startHttpServer,
  type TestHttpServer,
} from '../support/servers.js';
import { countOpenSockets, waitForSocketCount } from '../support/socket-count.js';
import { rejectionOf } from '../support/rejection.js';

interface Echo {
  method: string;
  url: string;
  host: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let A: TestHttpServer;
let B: TestHttpServer;
let pm: PoolManager;
let baseline = 0;

/** `/hop?to=URL&status=S` answers S (302) to URL with a body; anything else echoes. */
function start(): Promise<TestHttpServer> {
  return startHttpServer((req, res, rec) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/hop') {
      const body = Buffer.alloc(50_000, 'h');
      res.writeHead(Number(u.searchParams.get('status') ?? '302'), {
        Location: u.searchParams.get('to') ?? '/',
        'Content-Length': body.length,
      });
      res.end(body);
      return true;
    }
    const echo: Echo = {
      method: rec.method,
      url: rec.url,
      host: String(rec.headers.host),
      headers: rec.headers,
      body: rec.body.toString(),
    };
    const json = Buffer.from(JSON.stringify(echo));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': json.length });
    res.end(json);
    return true;
  });
}

const a = (path: string): string => `http://127.0.0.1:${A.port}${path}`;
const b = (path: string): string => `http://localhost:${B.port}${path}`;
/** A URL on `from` that redirects to `to`. */
const hop = (from: (p: string) => string, to: string, status = 302): string =>
  from(`/hop?status=${status}&to=${encodeURIComponent(to)}`);

before(async () => {
  A = await start();
  B = await start();
});

after(async () => {
  await A.close();
  await B.close();
});

beforeEach(() => {
  baseline = countOpenSockets();
  pm = new PoolManager();
});

afterEach(async () => {
  await pm.close();
  const left = await waitForSocketCount((n) => n <= baseline);
  assert.ok(left <= baseline, `${left - baseline} socket(s) left open after the test`);
});

function echoOf(r: HTTPResponse): Echo {
  return r.json() as Echo;
}

describe('headers on a host change', () => {
  const secrets = {
    authorization: 'Bearer t0ken',
    COOKIE: 'session=1',
    'Proxy-Authorization': 'Basic cHJveHk6cGFzcw==',
    'X-Trace': 'abc',
  };

  test('a redirect from 127.0.0.1 to localhost drops Authorization, Cookie and Proxy-Authorization in any case', async () => {
    const r = await pm.request('GET', hop(a, b('/echo')), { headers: secrets });
    const echo = echoOf(r);
    assert.equal(echo.host, `localhost:${B.port}`);
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers.cookie, undefined);
    assert.equal(echo.headers['proxy-authorization'], undefined);
    assert.equal(echo.headers['x-trace'], 'abc');
    const first = A.requests.at(-1)!;
    assert.equal(first.headers.authorization, 'Bearer t0ken', 'the first host got them');
  });

  test('once dropped they stay dropped when the chain comes back to the first host', async () => {
    const r = await pm.request('GET', hop(a, hop(b, a('/echo/back'))), { headers: secrets });
    const echo = echoOf(r);
    assert.equal(echo.host, `127.0.0.1:${A.port}`);
    assert.equal(echo.url, '/echo/back');
    assert.equal(echo.headers.authorization, undefined);
    assert.equal(echo.headers.cookie, undefined);
  });

  test('a redirect to the same host keeps them, however the Location is written', async () => {
    for (const to of ['/echo/same', a('/echo/same'), `//127.0.0.1:${A.port}/echo/same`]) {
      const echo = echoOf(await pm.request('GET', hop(a, to), { headers: secrets }));
      assert.equal(echo.headers.authorization, 'Bearer t0ken', to);
      assert.equal(echo.headers.cookie, 'session=1', to);
    }
  });

  test('removeHeadersOnRedirect: [] keeps every header across hosts', async () => {
    const retries = new Retry({ total: 3, removeHeadersOnRedirect: [] });
    const echo = echoOf(await pm.request('GET', hop(a, b('/echo')), { headers: secrets, retries }));
    assert.equal(echo.headers.authorization, 'Bearer t0ken');
    assert.equal(echo.headers.cookie, 'session=1');
  });
});

describe('the body across hosts', () => {
  test('a 307 and a 308 to the other host re-send the Buffer body each time', async () => {
    const r = await pm.request('PUT', hop(a, hop(b, a('/echo/final'), 308), 307), {
      body: Buffer.from('replayed'),
      headers: { 'Content-Type': 'text/plain' },
    });
    const echo = echoOf(r);
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.body, 'replayed');
    assert.equal(echo.headers['content-type'], 'text/plain');
    assert.equal(B.requests.at(-1)!.body.toString(), 'replayed');
  });

  test('a Readable body sent to the first host is UnrewindableBodyError at a cross-host 307, and the other host gets nothing', async () => {
    const before = B.requests.length;
    const err = await rejectionOf(
      pm.request('POST', hop(a, b('/echo/never'), 307), { body: Readable.from([Buffer.from('one-shot')]) }),
    );
    assert.ok(
      err instanceof UnrewindableBodyError,
      `expected UnrewindableBodyError, got ${err.name}: ${err.message}`,
    );
    assert.match(err.message, /localhost/);
    assert.equal(A.requests.at(-1)!.body.toString(), 'one-shot');
    assert.equal(B.requests.length, before, 'no empty re-send');
  });

  test('bodyPos applies on every hop, and is dropped with the body by a 303', async () => {
    const r = await pm.request('POST', hop(a, b('/echo/pos'), 308), { body: 'skip:data', bodyPos: 5 });
    assert.equal(echoOf(r).body, 'data');
    assert.equal(A.requests.at(-1)!.body.toString(), 'data');
    const g = await pm.request('POST', hop(a, b('/echo/pos'), 303), { body: 'skip:data', bodyPos: 5 });
    assert.equal(echoOf(g).method, 'GET');
  });

  test('a cross-host 303 turns a POST with a Readable body into a plain GET', async () => {
    const r = await pm.request('POST', hop(a, b('/echo/see-other'), 303), {
      body: Readable.from(['form']),
      headers: { 'Content-Type': 'text/plain' },
    });
    const echo = echoOf(r);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.body, '');
    assert.equal(echo.headers['content-type'], undefined);
    assert.equal(echo.headers['transfer-encoding'], undefined);
  });
});

describe('one Retry for the whole chain', () => {
  test('retries as a number follow redirects across hosts; retries: 0 is MaxRetryError at the first redirect', async () => {
    const r = await pm.request('GET', hop(a, b('/echo/n')), { retries: 5 });
    assert.equal(r.status, 200);
    assert.equal(r.url, b('/echo/n'));
    const err = await rejectionOf(pm.request('GET', hop(a, b('/echo/n')), { retries: 0 }));
    assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
    assert.ok(err.reason instanceof ResponseError);
  });

  test("the manager's own retries option bounds redirects", async () => {
    await pm.close();
    pm = new PoolManager({ retries: new Retry({ total: 10, redirect: 1 }) });
    const err = await rejectionOf(pm.request('GET', hop(a, hop(b, a('/echo')))));
    assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
    assert.match(err.reason!.message, /too many redirects/);
  });

  test('a redirect loop between two hosts ends after the redirect budget', async () => {
    const before = A.requests.length + B.requests.length;
    // A -> B -> A -> B ... built deep enough to outlast the budget.
    let url = a('/echo/never-reached');
    for (let i = 0; i < 8; i++) url = hop(i % 2 === 0 ? b : a, url);
    const err = await rejectionOf(
      pm.request('GET', url, { retries: new Retry({ total: null, redirect: 4 }) }),
    );
    assert.ok(err instanceof MaxRetryError, `got ${err.name}`);
    assert.equal(A.requests.length + B.requests.length - before, 5, 'the first request and four redirects');
  });

  test('errors in one hop and redirects spend the same total', async () => {
    // C resets its first connection after reading the request, then answers; /always always resets.
    const C: RawServer = await rawServer((socket, req) => {
      if (req.connectionIndex === 0 || req.target === '/always') socket.resetAndDestroy();
      else socket.write(httpResponse(200, 'from C'));
    });
    try {
      const target = `http://localhost:${C.port}/c`;
      const r = await pm.request('GET', hop(a, target), { retries: new Retry({ total: 2 }) });
      assert.equal(r.data.toString(), 'from C');
      const history = r.retries!.history;
      assert.deepEqual(
        history.map((h) => [h.url, h.status, h.error?.name ?? null]),
        [
          [hop(a, target), 302, null],
          [target, null, 'ProtocolError'],
        ],
      );
      assert.equal(r.retries!.total, 0);

      await pm.clear(); // no kept connection to C: a reset on one would be re-sent silently as stale
      const before = C.requests.length;
      const err = await rejectionOf(
        pm.request('GET', hop(a, `http://localhost:${C.port}/always`), { retries: 1 }),
      );
      assert.ok(err instanceof MaxRetryError, `expected MaxRetryError, got ${err.name}`);
      assert.ok(err.reason instanceof ProtocolError, 'the redirect left no retry for the reset');
      assert.equal(C.requests.length - before, 1);
    } finally {
      await pm.close();
      await C.close();
    }
  });

  test('history and url show a chain across hosts, with the method a 303 switched to', async () => {
    const last = a('/echo/end');
    const second = hop(b, last, 307);
    const first = hop(a, second, 303);
    const r = await pm.request('POST', first, { body: 'x' });
    assert.equal(r.url, last);
    assert.equal(echoOf(r).method, 'GET');
    assert.deepEqual(
      r.retries!.history.map((h) => [h.method, h.url, h.status, h.redirectLocation]),
      [
        ['GET', first, 303, second],
        ['GET', second, 307, last],
      ],
    );
  });

  test('raiseOnRedirect: false returns the last 3xx across hosts', async () => {
    const r = await pm.request('GET', hop(a, hop(b, a('/echo'))), {
      retries: new Retry({ total: 5, redirect: 1, raiseOnRedirect: false }),
    });
    assert.equal(r.status, 302);
    assert.equal(r.url.startsWith(`http://localhost:${B.port}/hop`), true, r.url);
    assert.equal(r.retries!.history.length, 1);
  });
});

describe('targets and connections', () => {
  test('only http and https Locations are followed: others are URLSchemeUnknown', async () => {
    for (const location of [
      'ftp://127.0.0.1/pub',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'gopher://localhost/',
    ]) {
      const err = await rejectionOf(pm.request('GET', hop(a, location)));
      assert.ok(err instanceof URLSchemeUnknown, `${location}: expected URLSchemeUnknown, got ${err.name}`);
    }
    assert.equal(pm.pools.size, 1, 'no pool was made for a refused target');
  });

  test('an unparsable Location is LocationParseError, and the 3xx is still drained for reuse', async () => {
    const opened = A.stats.opened;
    const err = await rejectionOf(pm.request('GET', hop(a, 'http://[::1')));
    assert.ok(err instanceof LocationParseError, `expected LocationParseError, got ${err.name}`);
    const r = await pm.request('GET', a('/echo/next'));
    assert.equal(r.status, 200);
    assert.equal(A.stats.opened - opened, 1);
  });

  test('each 3xx body is drained: a chain A -> B -> A -> B -> A uses one connection per host', async () => {
    const openedA = A.stats.opened;
    const openedB = B.stats.opened;
    const url = hop(a, hop(b, hop(a, hop(b, a('/echo/done')))));
    for (const preloadContent of [true, false]) {
      const r = await pm.urlopen('GET', url, { preloadContent, retries: 10 });
      assert.equal(r.status, 200);
      if (!preloadContent) await r.read();
    }
    assert.equal(A.stats.opened - openedA, 1, 'server A saw one connection');
    assert.equal(B.stats.opened - openedB, 1, 'server B saw one connection');
  });
});
