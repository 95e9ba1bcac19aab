// Resolver URLs and the resolver model without a DNS server: parsing and
// provider shortcuts (checked by what they expand to, never contacted),
// options and their units, in-memory tables, null refusals, lists with hosts
// patterns, localhost going to the system, and the pool key of a resolver
// option.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ResolverDescription } from '../../../src/dns/description.js';
import { HTTPSResolver } from '../../../src/dns/doh.js';
import { QuicResolver } from '../../../src/dns/doq.js';
import { TLSResolver } from '../../../src/dns/dot.js';
import { PlainResolver } from '../../../src/dns/dou.js';
import { InMemoryResolver } from '../../../src/dns/in-memory.js';
import { ManyResolver } from '../../../src/dns/many.js';
import { NullResolver } from '../../../src/dns/null.js';
import { setUpResolver } from '../../../src/dns/resolver-option.js';
import { BaseResolver } from '../../../src/dns/resolver.js';
import { SystemResolver } from '../../../src/dns/system.js';
import { LocationValueError, NameResolutionError } from '../../../src/errors.js';

const noClient = { request: async () => ({ status: 500, headers: {}, body: Buffer.alloc(0) }) };

describe('ResolverDescription.fromUrl', () => {
  test('expands provider shortcuts to their endpoints', () => {
    const cases: Array<[string, string]> = [
      ['doh+cloudflare://', 'doh://cloudflare-dns.com/dns-query'],
      ['doh+google://default:8443', 'doh://dns.google:8443/dns-query'],
      ['dot+quad9://', 'dot://dns.quad9.net'],
      ['dou+google://', 'dou://8.8.8.8'],
      ['dou+cloudflare://', 'dou://1.1.1.1'],
      ['doh+adguard://', 'doh://unfiltered.adguard-dns.com/dns-query'],
      ['dot+opendns://', 'dot://dns.opendns.com'],
      ['doh+nextdns://', 'doh://dns.nextdns.io/dns-query'],
    ];
    for (const [url, want] of cases) assert.equal(ResolverDescription.fromUrl(url).toString(), want, url);
    const d = ResolverDescription.fromUrl('doh+google://default:8443');
    assert.equal(d.specifier, 'google');
    assert.equal(d.host, 'dns.google');
    assert.equal(d.port, 8443);
  });

  test('builds the resolver class of each scheme', () => {
    assert.ok(ResolverDescription.fromUrl('system://default').new() instanceof SystemResolver);
    assert.ok(ResolverDescription.fromUrl('null://default').new() instanceof NullResolver);
    assert.ok(
      ResolverDescription.fromUrl('in-memory://default?hosts=a.test:1.2.3.4').new() instanceof
        InMemoryResolver,
    );
    const dou = ResolverDescription.fromUrl('dou://[::1]:5353?timeout=1.5').new();
    assert.ok(dou instanceof PlainResolver);
    assert.equal(dou.server, '::1');
    assert.equal(dou.port, 5353);
    assert.equal(dou.timeout, 1500, 'timeout is in seconds in the URL, milliseconds inside');
    const dot = ResolverDescription.fromUrl('dot://dns.test?cert_reqs=0&server_hostname=other.test').new();
    assert.ok(dot instanceof TLSResolver);
    assert.equal(dot.port, 853);
    assert.equal(dot.tlsOptions.certReqs, 'CERT_NONE');
    assert.equal(dot.tlsOptions.serverHostname, 'other.test');
    const doh = ResolverDescription.fromUrl('doh://user:pw@dns.test/q?headers=x-a:1&headers=x-b:2').new({
      dohClient: noClient,
    });
    assert.ok(doh instanceof HTTPSResolver);
    assert.equal(doh.path, '/q');
    assert.deepEqual(doh.headers, {
      'x-a': '1',
      'x-b': '2',
      authorization: `Basic ${Buffer.from('user:pw').toString('base64')}`,
    });
    const token = ResolverDescription.fromUrl('doh://tok123@dns.test').new({
      dohClient: noClient,
    }) as HTTPSResolver;
    assert.equal(token.headers.authorization, 'Bearer tok123');
  });

  test('rfc8484=false on Google uses its JSON endpoint', () => {
    const r = ResolverDescription.fromUrl('doh+google://?rfc8484=false').new({
      dohClient: noClient,
    }) as HTTPSResolver;
    assert.equal(r.rfc8484, false);
    assert.equal(r.path, '/resolve');
  });

  test('doq:// builds a DNS over QUIC resolver, and its provider shortcuts expand without contacting them', () => {
    assert.equal(
      ResolverDescription.fromUrl('doq+adguard://').toString(),
      'doq://unfiltered.adguard-dns.com',
    );
    assert.equal(
      ResolverDescription.fromUrl('doq+nextdns://default:8853').toString(),
      'doq://dns.nextdns.io:8853',
    );
    const adguard = ResolverDescription.fromUrl('doq+adguard://').new();
    assert.ok(adguard instanceof QuicResolver);
    assert.equal(adguard.server, 'unfiltered.adguard-dns.com');
    assert.equal(adguard.port, 853, 'RFC 9250 port by default');
    assert.equal(adguard.describe(), 'doq://unfiltered.adguard-dns.com:853');
    const doq = ResolverDescription.fromUrl(
      'doq://[::1]:8853?timeout=2&cert_reqs=0&server_hostname=dns.test&source_address=::1&hosts=*.corp',
    ).new();
    assert.ok(doq instanceof QuicResolver);
    assert.equal(doq.server, '::1');
    assert.equal(doq.port, 8853);
    assert.equal(doq.timeout, 2000, 'timeout is in seconds in the URL');
    assert.equal(doq.tlsOptions.certReqs, 'CERT_NONE');
    assert.equal(doq.tlsOptions.serverHostname, 'dns.test');
    assert.deepEqual(doq.sourceAddress, ['::1', 0]);
    assert.deepEqual(doq.hostPatterns, ['*.corp']);
    assert.equal(doq.isAvailable(), true, 'available until used where QUIC cannot load, or closed');
  });

  test("doq:// takes the manager's CA options unless the URL sets its own", () => {
    const inherited = ResolverDescription.fromUrl('doq://dns.test').new({ caCerts: '/etc/manager-ca.pem' });
    assert.ok(inherited instanceof QuicResolver);
    assert.equal(inherited.tlsOptions.caCerts, '/etc/manager-ca.pem');
    const own = ResolverDescription.fromUrl('doq://dns.test?ca_certs=/etc/own.pem').new({
      caCerts: '/etc/manager-ca.pem',
    });
    assert.ok(own instanceof QuicResolver);
    assert.equal(own.tlsOptions.caCerts, '/etc/own.pem');
  });

  test('doq:// with TLS options QUIC cannot honour is a clear error at once', () => {
    assert.throws(
      () => ResolverDescription.fromUrl('doq://dns.test?ssl_maximum_version=TLSv1.2').new(),
      (err: Error) => {
        assert.ok(err instanceof LocationValueError);
        assert.match(err.message, /doq:\/\/dns\.test:853: DNS over QUIC is unavailable: QUIC needs TLS 1\.3/);
        return true;
      },
    );
  });

  test('refuses unknown schemes, providers and options', () => {
    assert.throws(() => ResolverDescription.fromUrl('dnscrypt://x'), /unknown resolver scheme/);
    assert.throws(() => ResolverDescription.fromUrl('doh+nobody://'), /unknown DNS provider/);
    assert.throws(() => ResolverDescription.fromUrl('dou+nextdns://'), /offers no dou/);
    assert.throws(() => ResolverDescription.fromUrl('dou://1.1.1.1?headers=a:b'), TypeError);
    assert.throws(() => ResolverDescription.fromUrl('dou://1.1.1.1?timout=1'), /take no option 'timout'/);
    assert.throws(() => ResolverDescription.fromUrl('dou://default').new(), /needs a server/);
  });

  test('a malformed percent-escape or an out-of-range source port is refused, saying where', () => {
    assert.throws(
      () => ResolverDescription.fromUrl('dou://%zz'),
      (err: Error) =>
        err instanceof LocationValueError && /percent-escape in the host of 'dou:\/\/%zz'/.test(err.message),
    );
    assert.throws(
      () => ResolverDescription.fromUrl('dou://1.1.1.1?timeout=%zz'),
      (err: Error) =>
        err instanceof LocationValueError && /percent-escape in the option 'timeout=%zz'/.test(err.message),
    );
    assert.throws(
      () => ResolverDescription.fromUrl('doh://user:pa%zzss@dns.test'),
      (err: Error) =>
        err instanceof LocationValueError &&
        /in the password$/.test(err.message) &&
        !err.message.includes('pa%zz'),
    );
    assert.throws(
      () => ResolverDescription.fromUrl('dou://1.1.1.1?source_address=127.0.0.1:99999').new(),
      /source_address=127\.0\.0\.1:99999 is not address\[:port\]/,
    );
  });

  test('set() adds options a URL cannot carry, and they change the canonical form', () => {
    const d = ResolverDescription.fromUrl('dot://dns.test');
    const before = d.toString();
    d.set('ca_cert_data', Buffer.from('not really a certificate'));
    assert.notEqual(d.toString(), before);
    assert.match(d.toString(), /ca_cert_data=sha256%3A[0-9a-f]{16}/);
  });

  test("the manager's CA options go to DoT unless the URL sets its own", () => {
    const inherited = ResolverDescription.fromUrl('dot://dns.test').new({
      caCerts: '/ca.pem',
    }) as TLSResolver;
    assert.equal(inherited.tlsOptions.caCerts, '/ca.pem');
    const own = ResolverDescription.fromUrl('dot://dns.test?ca_certs=/mine.pem').new({
      caCerts: '/ca.pem',
    }) as TLSResolver;
    assert.equal(own.tlsOptions.caCerts, '/mine.pem');
  });
});

describe('in-memory and null resolvers', () => {
  test('the first colon separates the name; IPv6 bare or in brackets', async () => {
    const r = ResolverDescription.fromUrl(
      'in-memory://default?hosts=v6.test:::1&hosts=b6.test:[2001:db8::2]&hosts=v4.test:192.0.2.4&hosts=v4.test:192.0.2.5',
    ).new();
    assert.deepEqual(await r.getaddrinfo('v6.test', 80), [{ address: '::1', family: 6, port: 80 }]);
    assert.deepEqual(await r.getaddrinfo('B6.TEST.', 80), [{ address: '2001:db8::2', family: 6, port: 80 }]);
    assert.deepEqual(
      (await r.getaddrinfo('v4.test', 80, { family: 4 })).map((a) => a.address),
      ['192.0.2.4', '192.0.2.5'],
    );
    assert.deepEqual(await r.getaddrinfo('v4.test', 80, { family: 6 }), []);
    await assert.rejects(r.getaddrinfo('other.test', 80), NameResolutionError);
    assert.throws(
      () => new InMemoryResolver({ hosts: ['bad.test:not-an-ip'] }),
      /not an IPv4 or IPv6 address/,
    );
  });

  test('null refuses names but lets IP literals through', async () => {
    const r = new NullResolver();
    await assert.rejects(r.getaddrinfo('example.test', 80), /name resolution is disabled/);
    assert.deepEqual(await r.getaddrinfo('192.0.2.1', 80), [{ address: '192.0.2.1', family: 4, port: 80 }]);
    assert.deepEqual(await r.getaddrinfo('[::1]', 80), [{ address: '::1', family: 6, port: 80 }]);
  });
});

describe('ManyResolver', () => {
  const table = new InMemoryResolver({
    hosts: { 'a.company.internal': '10.0.0.1', 'open.test': '192.0.2.1' },
  });

  test('a restricted resolver answers only for its patterns, and comes before unrestricted ones', async () => {
    const internal = new InMemoryResolver({ hosts: { 'db.company.internal': '10.9.9.9' } });
    const blocked = new NullResolver({ hosts: ['*.blocked.test,exact.test'] });
    const m = new ManyResolver(table, internal, blocked);
    assert.equal((await m.getaddrinfo('db.company.internal', 1))[0]!.address, '10.9.9.9');
    assert.equal((await m.getaddrinfo('open.test', 1))[0]!.address, '192.0.2.1');
    await assert.rejects(m.getaddrinfo('x.blocked.test', 1), /disabled/);
    await assert.rejects(m.getaddrinfo('exact.test', 1), /disabled/);
    assert.equal(blocked.supports('blocked.test'), false, '*.suffix does not match the suffix itself');
  });

  test('the list blocks a name with null:// even after an unrestricted resolver', async () => {
    const m = new ManyResolver(
      new InMemoryResolver({ hosts: { 'www.idontwantthis.tld': '192.0.2.66' } }),
      new NullResolver({ hosts: ['www.idontwantthis.tld'] }),
    );
    // Both are restricted to the name; the first in order answers. A null
    // resolver first blocks it:
    const blocking = new ManyResolver(new NullResolver({ hosts: ['www.idontwantthis.tld'] }), m);
    await assert.rejects(blocking.getaddrinfo('www.idontwantthis.tld', 80), /disabled/);
  });

  test('localhost always goes to the system', async () => {
    const m = new ManyResolver(new NullResolver());
    const got = await m.getaddrinfo('localhost', 80, { family: 4 });
    assert.deepEqual(got, [{ address: '127.0.0.1', family: 4, port: 80 }]);
  });

  test('a failure that is not final passes the name to the next resolver; a final one does not', async () => {
    class Fixed extends BaseResolver {
      async getaddrinfo(_host: string, port: number) {
        return [{ address: '192.0.2.8', family: 4 as const, port }];
      }
    }
    const flaky = new PlainResolver({ server: '127.0.0.1', port: 9, timeout: 200 });
    assert.equal(
      (await new ManyResolver(flaky, new Fixed()).getaddrinfo('any.test', 80))[0]!.address,
      '192.0.2.8',
    );
    await assert.rejects(
      new ManyResolver(new NullResolver(), new Fixed()).getaddrinfo('any.test', 80),
      /disabled/,
    );
    await flaky.close();
  });
});

describe('setUpResolver', () => {
  test('no option is the shared system resolver', () => {
    const s = setUpResolver(undefined);
    assert.ok(s.resolver instanceof SystemResolver);
    assert.equal(s.key, 'system://default');
    assert.equal(setUpResolver('system://default').key, 'system://default');
  });

  test('URLs become a ManyResolver with a stable key', async () => {
    const a = setUpResolver(['in-memory://default?hosts=a.test:192.0.2.1', 'null://default']);
    const b = setUpResolver(['in-memory://default?hosts=a.test:192.0.2.1', 'null://default']);
    assert.ok(a.resolver instanceof ManyResolver);
    assert.equal(a.key, b.key);
    assert.notEqual(a.key, setUpResolver('null://default').key);
    assert.equal((await a.resolver.getaddrinfo('a.test', 80))[0]!.address, '192.0.2.1');
    await assert.rejects(a.resolver.getaddrinfo('b.test', 80), /disabled/);
  });

  test('resolver objects are keyed by identity and left open', async () => {
    const r = new PlainResolver({ server: '127.0.0.1' });
    const s1 = setUpResolver(r);
    assert.equal(s1.key, setUpResolver(r).key);
    assert.notEqual(s1.key, setUpResolver(new PlainResolver({ server: '127.0.0.1' })).key);
    await s1.close();
    assert.equal(r.isAvailable(), true);
    const owned = setUpResolver('dou://127.0.0.1');
    await owned.close();
    assert.equal((owned.resolver as ManyResolver).resolvers[0]!.isAvailable(), false);
  });

  test('refuses what is not a resolver', () => {
    assert.throws(() => setUpResolver([42 as unknown as string]), TypeError);
    assert.throws(() => setUpResolver([]), TypeError);
  });
});
