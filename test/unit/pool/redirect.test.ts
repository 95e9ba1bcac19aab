// The pieces of the redirect step shared by pools and the PoolManager: what
// a 303 strips, where a Location points (RFC 9110 section 10.2.2), which
// schemes may be followed, and urllib3's raise-or-return rule when a
// response spends the last retry.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocationParseError, MaxRetryError } from '../../../src/errors.js';
import { HTTPHeaderDict } from '../../../src/headers.js';
import { Retry } from '../../../src/policies/retry.js';
import {
  isFollowable,
  resolveLocation,
  sameOrigin,
  schemeOf,
  spendOnResponse,
  withoutBodyHeaders,
} from '../../../src/pool/redirect.js';
import type { HTTPResponse } from '../../../src/response.js';

describe('withoutBodyHeaders', () => {
  test('drops every header that describes a body, in any case, and keeps the rest', () => {
    const h = withoutBodyHeaders({
      'content-type': 'text/plain',
      'CONTENT-LENGTH': '4',
      'Content-Encoding': 'gzip',
      'Content-Language': 'en',
      'Content-Location': '/x',
      Digest: 'sha-256=x',
      'Last-Modified': 'Mon, 03 Jun 2019 11:00:00 GMT',
      'Transfer-Encoding': 'chunked',
      Authorization: 'Bearer t',
      Accept: '*/*',
    });
    assert.deepEqual([...h.keys()].sort(), ['Accept', 'Authorization']);
  });

  test('returns a copy: the caller’s headers are left alone', () => {
    const original = new HTTPHeaderDict({ 'Content-Type': 'a/b' });
    withoutBodyHeaders(original);
    assert.equal(original.get('content-type'), 'a/b');
    assert.equal(withoutBodyHeaders(null).size, 0);
  });
});

describe('resolveLocation', () => {
  const base = 'http://example.com:8080/a/b/c?x=1';
  const cases: Array<[string, string]> = [
    ['/root', 'http://example.com:8080/root'],
    ['d', 'http://example.com:8080/a/b/d'],
    ['../up', 'http://example.com:8080/a/up'],
    ['?y=2', 'http://example.com:8080/a/b/c?y=2'],
    ['//other.test/p', 'http://other.test/p'],
    ['https://secure.test/', 'https://secure.test/'],
    ['ftp://files.test/pub', 'ftp://files.test/pub'],
  ];
  for (const [location, expected] of cases) {
    test(`${JSON.stringify(location)} -> ${expected}`, () => {
      assert.equal(resolveLocation(location, base), expected);
    });
  }

  test('issue 15 item 7: a Location resolves as urllib3 resolves it (urljoin then parseUrl), not as WHATWG does', () => {
    // Each expected URL is urllib3's parse_url(urljoin(base, location)).url.
    const from = 'http://example.com:8080/loc/a?x=1';
    const cases: Array<[string, string]> = [
      ['\\x', 'http://example.com:8080/loc/%5Cx'],
      ['/\\evil.com', 'http://example.com:8080/%5Cevil.com'],
      ['\\\\evil.com/x', 'http://example.com:8080/loc/%5C%5Cevil.com/x'],
      ['  /sp ace', 'http://example.com:8080/sp%20ace'],
      ['a\tb', 'http://example.com:8080/loc/ab'],
      ['..', 'http://example.com:8080/'],
      ['/a/../../b', 'http://example.com:8080/b'],
      ['x;p?q#f', 'http://example.com:8080/loc/x;p?q#f'],
      [';p', 'http://example.com:8080/loc/;p'],
      ['#frag', 'http://example.com:8080/loc/a?x=1#frag'],
      ['HTTP://Other.Test', 'http://other.test'],
      ['http:rel', 'http://example.com:8080/loc/rel'],
      ['a//b//c', 'http://example.com:8080/loc/a/b/c'],
      ['.', 'http://example.com:8080/loc/'],
      ['g;x=1/../y', 'http://example.com:8080/loc/y'],
      [' ', 'http://example.com:8080/loc/a?x=1'],
      ['%zz/ü', 'http://example.com:8080/loc/%25zz/%C3%BC'],
      ['http://a.com\\@b.com/', 'http://a.com/%5C@b.com/'],
    ];
    for (const [location, expected] of cases) {
      assert.equal(resolveLocation(location, from), expected, JSON.stringify(location));
    }
  });

  test('an unparsable Location is a LocationParseError naming it', () => {
    assert.throws(
      () => resolveLocation('http://[::1', base),
      (e: unknown) => e instanceof LocationParseError && e.location === 'http://[::1',
    );
  });
});

describe('which targets are followed', () => {
  test('http and https only, whatever the case', () => {
    assert.equal(isFollowable('http://a/'), true);
    assert.equal(isFollowable('HTTPS://a/'), true);
    for (const url of [
      'ftp://a/',
      'file:///etc/passwd',
      'data:text/plain,x',
      'javascript:alert(1)',
      'no-scheme',
    ]) {
      assert.equal(isFollowable(url), false, url);
    }
    assert.equal(schemeOf('FTP://a/'), 'ftp');
    assert.equal(schemeOf('nothing'), '');
  });
});

describe('sameOrigin (the host change that drops removeHeadersOnRedirect)', () => {
  test('the same scheme, host and port, whatever the case, a written default port or the path', () => {
    assert.equal(sameOrigin('http://Example.com/a', 'http://example.com:80/b?c'), true);
    assert.equal(sameOrigin('https://example.com/', 'https://EXAMPLE.com:443/x'), true);
    assert.equal(sameOrigin('http://[::1]:8080/', 'http://[::1]:8080/y'), true);
  });

  test('another host name, port or scheme is another origin', () => {
    assert.equal(sameOrigin('http://127.0.0.1:8080/', 'http://localhost:8080/'), false);
    assert.equal(sameOrigin('http://example.com/', 'http://example.com:8080/'), false);
    assert.equal(sameOrigin('http://example.com/', 'https://example.com/'), false);
    assert.equal(sameOrigin('http://a.example.com/', 'http://b.example.com/'), false);
  });
});

describe('spendOnResponse', () => {
  function response(status: number, location: string | null) {
    let drained = 0;
    const r = {
      status,
      headers: new HTTPHeaderDict(location === null ? {} : { location }),
      getRedirectLocation: () => (location === null ? false : location),
      drainConn: async () => {
        drained++;
      },
    };
    return { r: r as unknown as HTTPResponse, drained: () => drained };
  }
  const pool = { host: 'example.com', port: 80 };

  test('returns the next Retry while the budget lasts', async () => {
    const { r, drained } = response(302, '/next');
    const next = await spendOnResponse(
      new Retry({ redirect: 1 }),
      { method: 'GET', url: 'http://e/', response: r, pool },
      'redirect',
    );
    assert.ok(next instanceof Retry);
    assert.equal(next.redirect, 0);
    assert.equal(drained(), 0, 'the caller drains before following');
  });

  test('raises MaxRetryError after draining when raiseOnRedirect / raiseOnStatus is true', async () => {
    const { r, drained } = response(302, '/next');
    await assert.rejects(
      spendOnResponse(
        new Retry({ redirect: 0 }),
        { method: 'GET', url: 'http://e/', response: r, pool },
        'redirect',
      ),
      MaxRetryError,
    );
    assert.equal(drained(), 1);
    const s = response(503, null);
    await assert.rejects(
      spendOnResponse(
        new Retry({ status: 0, statusForcelist: [503] }),
        { method: 'GET', url: 'http://e/', response: s.r, pool },
        'status',
      ),
      MaxRetryError,
    );
    assert.equal(s.drained(), 1);
  });

  test('returns null (give the response back) when raising is off', async () => {
    const { r, drained } = response(302, '/next');
    const out = await spendOnResponse(
      new Retry({ redirect: 0, raiseOnRedirect: false }),
      { method: 'GET', url: 'http://e/', response: r, pool },
      'redirect',
    );
    assert.equal(out, null);
    assert.equal(drained(), 0, 'the response is returned unread');
    const s = response(500, null);
    const out2 = await spendOnResponse(
      new Retry({ total: 0, statusForcelist: [500], raiseOnStatus: false }),
      { method: 'GET', url: 'http://e/', response: s.r, pool },
      'status',
    );
    assert.equal(out2, null);
  });
});
