// makeHeaders, SKIP_HEADER and the default User-Agent (urllib3's
// make_headers cases, byte for byte).

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import {
  ACCEPT_ENCODING,
  DEFAULT_USER_AGENT,
  type MakeHeadersOptions,
  makeHeaders,
  SKIP_HEADER,
  SKIPPABLE_HEADERS,
  VERSION,
} from '../../src/request-headers.js';

describe('makeHeaders', () => {
  const cases: Array<[MakeHeadersOptions, Record<string, string>]> = [
    [{ acceptEncoding: true }, { 'accept-encoding': 'gzip,deflate,br,zstd' }],
    [{ acceptEncoding: 'foo,bar' }, { 'accept-encoding': 'foo,bar' }],
    [{ acceptEncoding: ['foo', 'bar'] }, { 'accept-encoding': 'foo,bar' }],
    [
      { acceptEncoding: true, userAgent: 'banana' },
      { 'accept-encoding': 'gzip,deflate,br,zstd', 'user-agent': 'banana' },
    ],
    [{ userAgent: 'banana' }, { 'user-agent': 'banana' }],
    [{ keepAlive: true }, { connection: 'keep-alive' }],
    [{ basicAuth: 'foo:bar' }, { authorization: 'Basic Zm9vOmJhcg==' }],
    [{ proxyBasicAuth: 'foo:bar' }, { 'proxy-authorization': 'Basic Zm9vOmJhcg==' }],
    [{ disableCache: true }, { 'cache-control': 'no-cache' }],
    [{}, {}],
    [{ acceptEncoding: false, keepAlive: false, disableCache: false }, {}],
    [{ acceptEncoding: '', userAgent: '', basicAuth: '', proxyBasicAuth: '' }, {}],
    [{ acceptEncoding: [] }, {}],
  ];
  for (const [options, expected] of cases) {
    test(`${JSON.stringify(options)} gives ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(makeHeaders(options), expected);
    });
  }

  test('every option at once, in urllib3 order', () => {
    const headers = makeHeaders({
      disableCache: true,
      proxyBasicAuth: 'p:q',
      basicAuth: 'u:v',
      keepAlive: true,
      userAgent: 'ua',
      acceptEncoding: 'gzip',
    });
    assert.deepEqual(Object.keys(headers), [
      'accept-encoding',
      'user-agent',
      'connection',
      'authorization',
      'proxy-authorization',
      'cache-control',
    ]);
  });

  test('issue 15 item 6: basic-auth credentials are Latin-1 by default, a clear error outside it, basicAuthEncoding picks UTF-8', () => {
    assert.equal(
      makeHeaders({ basicAuth: 'é:ü' }).authorization,
      `Basic ${Buffer.from([0xe9, 0x3a, 0xfc]).toString('base64')}`,
    );
    assert.throws(() => makeHeaders({ basicAuth: 'ユ:p' }), {
      name: 'TypeError',
      message:
        'makeHeaders: basicAuth has U+30E6 at position 0, which Latin-1 cannot encode; ' +
        'set basicAuthEncoding: "utf-8" if the server expects UTF-8 credentials',
    });
    assert.throws(() => makeHeaders({ proxyBasicAuth: 'u:€' }), /proxyBasicAuth has U\+20AC at position 2/);
    assert.equal(
      makeHeaders({ basicAuth: 'ユ:p', basicAuthEncoding: 'utf-8' }).authorization,
      `Basic ${Buffer.from('ユ:p', 'utf8').toString('base64')}`,
    );
    assert.equal(
      makeHeaders({ proxyBasicAuth: 'é:p', proxyBasicAuthEncoding: 'UTF8' })['proxy-authorization'],
      `Basic ${Buffer.from('é:p', 'utf8').toString('base64')}`,
    );
    // Each credential has its own encoding, as urllib3's two options.
    assert.throws(() => makeHeaders({ proxyBasicAuth: 'ユ:p', basicAuthEncoding: 'utf-8' }), TypeError);
    assert.throws(() => makeHeaders({ basicAuth: 'é:p', basicAuthEncoding: 'ascii' }), /ASCII cannot encode/);
    assert.throws(() => makeHeaders({ basicAuth: '\ud800:p', basicAuthEncoding: 'utf-8' }), /U\+D800/);
    assert.throws(() => makeHeaders({ basicAuth: 'u:p', basicAuthEncoding: 'cp1252' }), {
      name: 'TypeError',
      message: 'makeHeaders: basicAuthEncoding must be "latin-1", "utf-8" or "ascii", got "cp1252"',
    });
  });

  test('unknown options and wrong types are TypeErrors', () => {
    assert.throws(() => makeHeaders({ accept_encoding: true } as MakeHeadersOptions), {
      name: 'TypeError',
      message: "makeHeaders: unknown option 'accept_encoding'",
    });
    assert.throws(() => makeHeaders({ acceptEncoding: 1 as unknown as string }), TypeError);
    assert.throws(() => makeHeaders({ userAgent: 5 as unknown as string }), TypeError);
    assert.throws(() => makeHeaders({ basicAuth: {} as unknown as string }), TypeError);
  });

  test('the default Accept-Encoding lists every decoder', () => {
    assert.equal(ACCEPT_ENCODING, 'gzip,deflate,br,zstd');
  });
});

describe('SKIP_HEADER and the default User-Agent', () => {
  test('SKIP_HEADER is urllib3 marker and applies to three headers', () => {
    assert.equal(SKIP_HEADER, '@@@SKIP_HEADER@@@');
    assert.deepEqual([...SKIPPABLE_HEADERS].sort(), ['accept-encoding', 'host', 'user-agent']);
  });

  test('the User-Agent carries the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    assert.equal(VERSION, pkg.version);
    assert.equal(DEFAULT_USER_AGENT, `urllib3-ts/${pkg.version}`);
    assert.match(DEFAULT_USER_AGENT, /^urllib3-ts\/\d+\.\d+\.\d+/);
  });
});
