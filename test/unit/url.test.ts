// parseUrl, Url and getHost: urllib3 v2's parse_url cases
// (scheme/host/port extraction, normalisation, IPv6 zone ids, IDNA,
// percent-encoding, dot segments, request-smuggling attempts, invalid input).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LocationParseError } from '../../src/errors.js';
import { getHost, parseUrl, Url, type UrlFields } from '../../src/url.js';

function fields(u: Url): Required<UrlFields> {
  return {
    scheme: u.scheme,
    auth: u.auth,
    host: u.host,
    port: u.port,
    path: u.path,
    query: u.query,
    fragment: u.fragment,
  };
}

function expectUrl(input: string, expected: UrlFields): void {
  assert.deepEqual(fields(parseUrl(input)), fields(new Url(expected)), `parseUrl(${JSON.stringify(input)})`);
}

describe('parseUrl: scheme, host and port', () => {
  const cases: Array<[string, [string, string, number | null]]> = [
    ['http://google.com/mail', ['http', 'google.com', null]],
    ['http://google.com/mail/', ['http', 'google.com', null]],
    ['google.com/mail', ['http', 'google.com', null]],
    ['http://google.com/', ['http', 'google.com', null]],
    ['http://google.com', ['http', 'google.com', null]],
    ['http://www.google.com', ['http', 'www.google.com', null]],
    ['http://google.com:8000/mail/', ['http', 'google.com', 8000]],
    ['http://google.com:8000', ['http', 'google.com', 8000]],
    ['https://google.com', ['https', 'google.com', null]],
    ['https://google.com:8000', ['https', 'google.com', 8000]],
    ['http://user:password@127.0.0.1:1234', ['http', '127.0.0.1', 1234]],
    ['http://google.com/foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['http://google.com?foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['http://google.com#foo=http://bar:42/baz', ['http', 'google.com', null]],
    ['173.194.35.7', ['http', '173.194.35.7', null]],
    ['http://173.194.35.7:80/test', ['http', '173.194.35.7', 80]],
    ['[2a00:1450:4001:c01::67]', ['http', '[2a00:1450:4001:c01::67]', null]],
    ['http://[2a00:1450:4001:c01::67]:80/test', ['http', '[2a00:1450:4001:c01::67]', 80]],
    [
      'http://[fedc:ba98:7654:3210:fedc:ba98:7654:3210]:8000/index.html',
      ['http', '[fedc:ba98:7654:3210:fedc:ba98:7654:3210]', 8000],
    ],
    ['http://[1080:0:0:0:8:800:200c:417a]/index.html', ['http', '[1080:0:0:0:8:800:200c:417a]', null]],
    ['http://[3ffe:2a00:100:7031::1]', ['http', '[3ffe:2a00:100:7031::1]', null]],
    ['http://[::192.9.5.5]/ipng', ['http', '[::192.9.5.5]', null]],
    ['http://[::ffff:129.144.52.38]:42/index.html', ['http', '[::ffff:129.144.52.38]', 42]],
    ['http://[a::b%25zone]', ['http', '[a::b%zone]', null]],
    ['http://[a::b%zone]', ['http', '[a::b%zone]', null]],
    ['HTTP://GOOGLE.COM/mail/', ['http', 'google.com', null]],
    ['GOogle.COM/mail', ['http', 'google.com', null]],
    ['HTTP://GoOgLe.CoM:8000/mail/', ['http', 'google.com', 8000]],
    ['HTTP://user:password@EXAMPLE.COM:1234', ['http', 'example.com', 1234]],
    [
      'HTTP://[FEDC:BA98:7654:3210:FEDC:BA98:7654:3210]:8000/index.html',
      ['http', '[fedc:ba98:7654:3210:fedc:ba98:7654:3210]', 8000],
    ],
    ['HTTPS://[1080:0:0:0:8:800:200c:417A]/index.html', ['https', '[1080:0:0:0:8:800:200c:417a]', null]],
    // Only http(s) hosts are normalised; other schemes keep the host as written.
    ['abOut://eXamPlE.com?info=1', ['about', 'eXamPlE.com', null]],
    ['http+UNIX://%2fvar%2frun%2fSOCKET/path', ['http+unix', '%2fvar%2frun%2fSOCKET', null]],
  ];
  for (const [input, [scheme, host, port]] of cases) {
    test(`${input} has scheme ${scheme}, host ${host}, port ${port}`, () => {
      const u = parseUrl(input);
      assert.equal(u.scheme ?? 'http', scheme);
      assert.equal(u.host, host);
      assert.equal(u.hostname, host);
      assert.equal(u.port, port);
      assert.deepEqual(getHost(input), [scheme, host, port]);
    });
  }
});

describe('parseUrl: components', () => {
  const roundTrip: Array<[string, UrlFields]> = [
    ['http://google.com/mail', { scheme: 'http', host: 'google.com', path: '/mail' }],
    ['http://google.com/mail/', { scheme: 'http', host: 'google.com', path: '/mail/' }],
    ['google.com/mail', { host: 'google.com', path: '/mail' }],
    ['http://google.com/', { scheme: 'http', host: 'google.com', path: '/' }],
    ['http://google.com', { scheme: 'http', host: 'google.com' }],
    ['http://google.com?foo', { scheme: 'http', host: 'google.com', path: '', query: 'foo' }],
    ['', {}],
    ['/', { path: '/' }],
    ['#?/!google.com/?foo', { path: '', fragment: '?/!google.com/?foo' }],
    ['/foo', { path: '/foo' }],
    ['/foo?bar=baz', { path: '/foo', query: 'bar=baz' }],
    ['/foo?bar=baz#banana?apple/orange', { path: '/foo', query: 'bar=baz', fragment: 'banana?apple/orange' }],
    [
      '/redirect?target=http://localhost:61020/',
      { path: 'redirect', query: 'target=http://localhost:61020/' },
    ],
    ['http://google.com:80/', { scheme: 'http', host: 'google.com', port: 80, path: '/' }],
    ['http://google.com:80', { scheme: 'http', host: 'google.com', port: 80 }],
    ['http://foo:bar@localhost/', { scheme: 'http', auth: 'foo:bar', host: 'localhost', path: '/' }],
    ['http://foo@localhost/', { scheme: 'http', auth: 'foo', host: 'localhost', path: '/' }],
  ];
  for (const [input, expected] of roundTrip) {
    test(`${JSON.stringify(input)} parses and prints back unchanged`, () => {
      expectUrl(input, expected);
      assert.equal(new Url(expected).url, input);
    });
  }

  const oneWay: Array<[string, UrlFields]> = [
    ['?', { path: '', query: '' }],
    ['#', { path: '', fragment: '' }],
    ['/abc/../def', { path: '/def' }],
    ['http://google.com:', { scheme: 'http', host: 'google.com' }],
    ['http://google.com:/', { scheme: 'http', host: 'google.com', path: '/' }],
    [
      'http://Königsgäßchen.de/straße',
      { scheme: 'http', host: 'xn--knigsgchen-b4a3dun.de', path: '/stra%C3%9Fe' },
    ],
    [
      'http://user@email.com:password@example.com/',
      { scheme: 'http', auth: 'user%40email.com:password', host: 'example.com', path: '/' },
    ],
    [
      'http://user":quoted@example.com/',
      { scheme: 'http', auth: 'user%22:quoted', host: 'example.com', path: '/' },
    ],
    // Lone surrogates are encoded from their code unit, never replaced by U+FFFD.
    ['http://google.com/\uD800', { scheme: 'http', host: 'google.com', path: '%ED%A0%80' }],
    ['http://google.com?q=\uDC00', { scheme: 'http', host: 'google.com', path: '', query: 'q=%ED%B0%80' }],
    ['http://google.com#\uDC00', { scheme: 'http', host: 'google.com', path: '', fragment: '%ED%B0%80' }],
    ['http://@', { scheme: 'http', host: '' }],
    ['https://example.com:0000000000080', { scheme: 'https', host: 'example.com', port: 80 }],
    ['https://example.com:0', { scheme: 'https', host: 'example.com', port: 0 }],
    ['https://example.com:000000000000', { scheme: 'https', host: 'example.com', port: 0 }],
    // An escaped unreserved character in a host is decoded; others are upper-cased.
    ['http://ex%41mple.com', { scheme: 'http', host: 'example.com' }],
    ['http://a%3ab.com', { scheme: 'http', host: 'a%3Ab.com' }],
  ];
  for (const [input, expected] of oneWay) {
    test(`${JSON.stringify(input)} parses to ${new Url(expected).url}`, () => {
      expectUrl(input, expected);
    });
  }

  test('a host with a dotless scheme-like prefix is read as a scheme, as in urllib3', () => {
    expectUrl('localhost:80', { scheme: 'localhost', path: '/80' });
    expectUrl('google.com:80', { host: 'google.com', port: 80 });
  });
});

describe('parseUrl: normalisation', () => {
  const cases: Array<[string, string]> = [
    ['HTTP://GOOGLE.COM/MAIL/', 'http://google.com/MAIL/'],
    [
      'http://user@domain.com:password@example.com/~tilde@?@',
      'http://user%40domain.com:password@example.com/~tilde@?@',
    ],
    ['HTTP://JeremyCline:Hunter2@Example.com:8080/', 'http://JeremyCline:Hunter2@example.com:8080/'],
    ['HTTPS://Example.Com/?Key=Value', 'https://example.com/?Key=Value'],
    ['Https://Example.Com/#Fragment', 'https://example.com/#Fragment'],
    ['[::1%zone]', '[::1%zone]'],
    ['[::1%25zone]', '[::1%zone]'],
    ['[::1%25]', '[::1%25]'],
    ['[::Ff%etH0%Ff]/%ab%Af', '[::ff%etH0%FF]/%AB%AF'],
    ['http://user:pass@[AaAa::Ff%25etH0%Ff]/%ab%Af', 'http://user:pass@[aaaa::ff%etH0%FF]/%AB%AF'],
    [
      'http://google.com/p[]?parameter[]="hello"#fragment#',
      'http://google.com/p%5B%5D?parameter%5B%5D=%22hello%22#fragment%23',
    ],
    [
      'http://google.com/p%5B%5d?parameter%5b%5D=%22hello%22#fragment%23',
      'http://google.com/p%5B%5D?parameter%5B%5D=%22hello%22#fragment%23',
    ],
    // A stray "%" means the component is not pre-encoded: every "%" becomes %25.
    ['http://a.com/100%?x=%41%', 'http://a.com/100%25?x=%2541%25'],
  ];
  for (const [input, output] of cases) {
    test(`${input} normalises to ${output}`, () => {
      assert.equal(parseUrl(input).url, output);
    });
  }

  for (let code = 0; code <= 0x20; code++) {
    const ch = String.fromCharCode(code);
    const pct = `%${code.toString(16).toUpperCase().padStart(2, '0')}`;
    test(`control character ${pct} is percent-encoded in auth, path, query and fragment`, () => {
      expectUrl(`http://user${ch}@example.com/path${ch}?query${ch}#fragment${ch}`, {
        scheme: 'http',
        auth: `user${pct}`,
        host: 'example.com',
        path: `/path${pct}`,
        query: `query${pct}`,
        fragment: `fragment${pct}`,
      });
    });
  }
  test('DEL is percent-encoded as %7F', () => {
    assert.equal(parseUrl('http://e.com/a\x7f').path, '/a%7F');
  });

  const dotSegments: Array<[string, string]> = [
    ['/abc/../def', '/def'],
    ['/..', '/'],
    ['/./abc/./def/', '/abc/def/'],
    ['/.', '/'],
    ['/./', '/'],
    ['/abc/./.././d/././e/.././f/./../../ghi', '/ghi'],
    ['/a/b/..', '/a/'],
    ['/a/../../b', '/b'],
  ];
  for (const [input, path] of dotSegments) {
    test(`dot segments of ${input} resolve to ${path} (RFC 3986 section 5.2.4)`, () => {
      const u = parseUrl(input);
      assert.equal(u.path, path);
      assert.equal(u.url, path);
    });
  }

  // Dots that are not whole "." or ".." segments are data (the fast path of
  // removeDotSegments must give these back as they are, and so must the slow one).
  const notDotSegments = [
    '/small.txt',
    '/a.b/c.d/',
    '/a./b..',
    '/.well-known/x',
    '/a/..b/.c',
    '/...',
    '/a/...',
    '/.',
    '/a//b//',
    '/',
  ];
  for (const input of notDotSegments) {
    const expected = input === '/.' ? '/' : input;
    test(`the path ${input} keeps every segment that is not "." or ".."`, () => {
      assert.equal(parseUrl(`http://e.com${input}`).path, expected);
      assert.equal(parseUrl(input).path, expected);
    });
  }

  test('other schemes keep their path, query and fragment untouched', () => {
    expectUrl("javascript:a='@google.com:12345/';alert(0)", {
      scheme: 'javascript',
      path: "a='@google.com:12345/';alert(0)",
    });
    assert.equal(parseUrl('foo://h/a/../b c?d e').path, '/a/../b c');
  });
});

describe('parseUrl: hostile input', () => {
  test('a fragment cannot smuggle userinfo', () => {
    expectUrl('http://google.com#@evil.com/', {
      scheme: 'http',
      host: 'google.com',
      path: '',
      fragment: '@evil.com/',
    });
  });

  test('fullwidth letters in a path are encoded, not folded into dots', () => {
    expectUrl('http://google.com/\uff2e\uff2e/abc', {
      scheme: 'http',
      host: 'google.com',
      path: '/%EF%BC%AE%EF%BC%AE/abc',
    });
  });

  test('a protocol-relative URL has a host and no scheme', () => {
    expectUrl('//google.com/a/b/c', { host: 'google.com', path: '/a/b/c' });
  });

  test('international URLs are IDNA-encoded and percent-encoded', () => {
    expectUrl('http://ヒ:キ@ヒ.abc.ニ/ヒ?キ#ワ', {
      scheme: 'http',
      host: 'xn--pdk.abc.xn--idk',
      auth: '%E3%83%92:%E3%82%AD',
      path: '/%E3%83%92',
      query: '%E3%82%AD',
      fragment: '%E3%83%AF',
    });
  });

  test('issue 15 item 2: host names follow IDNA 2008 strictly, contextual rules included, as urllib3', () => {
    // Each A-label is what urllib3 (Python idna, strict=True, std3_rules=True) gives.
    const valid: Array<[string, string]> = [
      ['l·l.com', 'xn--ll-0ea.com'],
      ['͵α.com', 'xn--wva4j.com'],
      ['א׳.com', 'xn--4db4e.com'],
      ['ア・ア.com', 'xn--ccka0y.com'],
      ['क्\u200cष.com', 'xn--11b2ezcs70k.com'],
      ['ب\u200cب.com', 'xn--ngba799q.com'],
      ['Bücher.de', 'xn--bcher-kva.de'],
      ['ß.de', 'xn--zca.de'],
      ['ς.gr', 'xn--3xa.gr'],
    ];
    for (const [host, ascii] of valid) assert.equal(parseUrl(`http://${host}/`).host, ascii, host);

    const refused: Array<[string, RegExp]> = [
      ['ｅｘａｍｐｌｅ.com', /U\+FF45 at position 1 is disallowed in IDNA 2008/],
      ['ü.ＣＯＭ', /U\+FF43 at position 1 is disallowed/],
      ['ﬀ.com', /U\+FB00 at position 1 is disallowed/],
      ['e\u0301.com', /not in Unicode Normalization Form C/],
      ['-ü.com', /starts or ends with a hyphen/],
      ['ü-.com', /starts or ends with a hyphen/],
      ['üü--a.com', /"--" in its 3rd and 4th positions/],
      ['\u0301a.com', /starts with a combining mark/],
      ['aא.com', /Bidi rule 5/],
      ['א1a.com', /Bidi rule 2/],
      ['ا٠۰.com', /U\+0660 at position 2 is not allowed in its context/],
      ['a·b.com', /U\+00B7 at position 2 is not allowed in its context/],
      ['a\u200db.com', /joiner U\+200D at position 2/],
      ['ü\u200cü.com', /joiner U\+200C at position 2/],
      [`${'ü'.repeat(60)}.com`, /is 66 octets long, over the 63 allowed/],
    ];
    for (const [host, why] of refused) {
      assert.throws(
        () => parseUrl(`http://${host}/`),
        (e: unknown) =>
          e instanceof LocationParseError &&
          /is not a valid IDNA label: /.test(e.message) &&
          why.test(e.message),
        host,
      );
    }
  });

  test('CR LF in a query cannot inject a header', () => {
    expectUrl('10.251.0.83:7777?a=1 HTTP/1.1\r\nX-injected: header', {
      host: '10.251.0.83',
      port: 7777,
      path: '',
      query: 'a=1%20HTTP/1.1%0D%0AX-injected:%20header',
    });
    expectUrl('http://127.0.0.1:6379?\r\nSET test failure12\r\n:8080/test/?test=a', {
      scheme: 'http',
      host: '127.0.0.1',
      port: 6379,
      path: '',
      query: '%0D%0ASET%20test%20failure12%0D%0A:8080/test/?test=a',
    });
  });

  test('a backslash ends the authority, as it does in browsers', () => {
    expectUrl('https://user:pass@xdavidhu.me\\test.corp.google.com:8080/path/to/something?param=value#hash', {
      scheme: 'https',
      auth: 'user:pass',
      host: 'xdavidhu.me',
      path: '/%5Ctest.corp.google.com:8080/path/to/something',
      query: 'param=value',
      fragment: 'hash',
    });
  });

  test('thousands of "@" are handled in linear time', () => {
    assert.throws(() => parseUrl(`https://${'@'.repeat(10000)}[`), LocationParseError);
    expectUrl(`https://user:${'@'.repeat(10000)}example.com`, {
      scheme: 'https',
      auth: `user:${'%40'.repeat(9999)}`,
      host: 'example.com',
    });
  });

  test('control characters in a host, raw or percent-encoded, are refused', () => {
    assert.throws(() => parseUrl('http://127.0.0.1%0d%0aConnection%3a%20keep-alive'), LocationParseError);
    assert.throws(() => parseUrl('http://exa mple.com/'), LocationParseError);
    assert.throws(() => parseUrl('http://a\tb.com/'), LocationParseError);
    assert.throws(() => parseUrl('http://[::1%25%0a]/'), LocationParseError);
  });
});

describe('parseUrl: invalid input', () => {
  const invalid = [
    'http://google.com:foo',
    'http://::1/',
    'http://::1:80/',
    'http://google.com:-80',
    'https://www.google.com:-80/',
    'http://google.com:65536',
    'http://google.com:123456',
    'http://google.com:\xb2\xb2',
    'http://\uD7FF.com',
    'http://❤️',
    'http://\uD800.com',
    'http://\uDC00.com',
    '[::1',
    'http://[::1]x',
    'http://[1:2:3:4:5:6:7:8:9]/',
    'http://[::1::2]/',
    'http://[::1%]/',
    'http://a]b/',
    'http://a%zzb/',
  ];
  for (const input of invalid) {
    test(`${JSON.stringify(input)} is a LocationParseError`, () => {
      assert.throws(() => parseUrl(input), LocationParseError);
    });
  }

  test('issue 15 item 1: an IPv6 literal with a dotted quad anywhere but its last 32 bits is refused', () => {
    for (const input of ['http://[1.2.3.4::]/', 'http://[1.2.3.4::1]/', 'http://[1:2:3:4:5:6:7:1.2.3.4]/']) {
      assert.throws(() => parseUrl(input), LocationParseError, input);
    }
    for (const host of ['[::1.2.3.4]', '[::ffff:1.2.3.4]', '[1:2:3:4:5:6:1.2.3.4]', '[1::2:1.2.3.4]']) {
      assert.equal(parseUrl(`http://${host}/`).host, host);
    }
  });

  test('a non-string is a TypeError', () => {
    assert.throws(() => parseUrl(Buffer.from('http://a/') as unknown as string), TypeError);
  });
});

describe('Url', () => {
  test('the constructor lower-cases the scheme and roots the path', () => {
    const u = new Url({ scheme: 'HTTP', host: 'Host.com', path: 'a' });
    assert.equal(u.scheme, 'http');
    assert.equal(u.host, 'Host.com');
    assert.equal(u.path, '/a');
  });

  test('url joins every component', () => {
    const u = new Url({
      scheme: 'http',
      auth: 'username:password',
      host: 'host.com',
      port: 80,
      path: '/path',
      query: 'query',
      fragment: 'fragment',
    });
    assert.equal(u.url, 'http://username:password@host.com:80/path?query#fragment');
    assert.equal(String(u), u.url);
    assert.equal(JSON.stringify({ u }), '{"u":"http://username:password@host.com:80/path?query#fragment"}');
  });

  test('an unknown field is a TypeError', () => {
    assert.throws(() => new Url({ hots: 'x' } as UrlFields), /unknown option 'hots'/);
  });

  const requestUris: Array<[string, string]> = [
    ['http://google.com/mail', '/mail'],
    ['http://google.com/mail/', '/mail/'],
    ['http://google.com/', '/'],
    ['http://google.com', '/'],
    ['', '/'],
    ['/', '/'],
    ['?', '/?'],
    ['#', '/'],
    ['/foo?bar=baz', '/foo?bar=baz'],
  ];
  for (const [input, uri] of requestUris) {
    test(`requestUri of ${JSON.stringify(input)} is ${uri}`, () => {
      assert.equal(parseUrl(input).requestUri, uri);
    });
  }

  const netlocs: Array<[string, string | null]> = [
    ['http://google.com/mail', 'google.com'],
    ['http://google.com:80/mail', 'google.com:80'],
    ['http://192.168.0.1:80/path', '192.168.0.1:80'],
    ['http://[::1]/path', '[::1]'],
    ['http://[::1]:80/path', '[::1]:80'],
    ['google.com/foobar', 'google.com'],
    ['google.com:12345', 'google.com:12345'],
    ['https://example.com:0', 'example.com:0'],
    ['/', null],
  ];
  for (const [input, netloc] of netlocs) {
    test(`netloc of ${input} is ${netloc}`, () => {
      assert.equal(parseUrl(input).netloc, netloc);
    });
  }

  const authorities: Array<[string, string | null]> = [
    ['http://user:pass@google.com:80/mail', 'user:pass@google.com:80'],
    ['http://user@[::1]:80/path', 'user@[::1]:80'],
    ['http://localhost/path', 'localhost'],
    ['/', null],
  ];
  for (const [input, authority] of authorities) {
    test(`authority of ${input} is ${authority}`, () => {
      assert.equal(parseUrl(input).authority, authority);
    });
  }
});
