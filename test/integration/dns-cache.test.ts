// The resolver cache with an injected clock, against a scripted DNS server
// that counts queries: answers kept for their TTL and never served a moment
// past it, the ceiling, TTL 0 not cached, negative answers for the SOA
// minimum, failures not cached, concurrent lookups coalesced into one query
// per family.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { DnsCache } from '../../src/dns/cache.js';
import { PlainResolver } from '../../src/dns/dou.js';
import { buildResponse, T } from '../support/dns-wire.js';
import { type DnsHandler, startDnsServer, type TestDnsServer } from '../support/dns-servers.js';

const servers: TestDnsServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

class FakeClock {
  ms = 1_000_000;
  now = () => this.ms;
  advance(seconds: number) {
    this.ms += seconds * 1000;
  }
}

/** A zone whose answers carry the TTLs the test names: `ttl<N>.test`. */
const zone: DnsHandler = (q) => {
  const ttl = Number(/ttl(\d+)/.exec(q.name)?.[1] ?? 300);
  if (q.name.startsWith('nx')) {
    return buildResponse({
      id: q.id,
      question: q,
      rcode: 3,
      authorities: [{ name: 'test', type: T.SOA, ttl: 3600, soa: { minimum: 20 } }],
    });
  }
  if (q.name.startsWith('fail')) return buildResponse({ id: q.id, question: q, rcode: 2 });
  if (q.type === T.AAAA) {
    return {
      delayMs: 30,
      messages: [
        buildResponse({
          id: q.id,
          question: q,
          answers: [{ name: q.name, type: T.AAAA, ttl, aaaa: '2001:db8::5' }],
        }),
      ],
    };
  }
  return {
    delayMs: 30,
    messages: [
      buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, ttl, a: '192.0.2.5' }] }),
    ],
  };
};

async function setup(cache: ConstructorParameters<typeof DnsCache>[0] = {}) {
  const s = await startDnsServer(zone);
  servers.push(s);
  const clock = new FakeClock();
  const r = new PlainResolver({
    server: s.host,
    port: s.port,
    timeout: 2000,
    cache: { ...cache, clock: clock.now },
  });
  const count = (name: string) => s.queries.filter((q) => q.name === name).length;
  return { s, r, clock, count };
}

describe('the resolver cache', () => {
  test('an answer is served from the cache for its TTL and asked again the moment it expires', async () => {
    const { r, clock, count } = await setup();
    await r.getaddrinfo('ttl60.test', 80);
    assert.equal(count('ttl60.test'), 2, 'A and AAAA');
    clock.advance(59.999);
    await r.getaddrinfo('ttl60.test', 80);
    assert.equal(count('ttl60.test'), 2, 'still fresh just before the TTL');
    clock.advance(0.001);
    await r.getaddrinfo('ttl60.test', 80);
    assert.equal(count('ttl60.test'), 4, 'never served at or past the TTL');
  });

  test('a TTL of 0 is not cached', async () => {
    const { r, count } = await setup();
    await r.getaddrinfo('ttl0.test', 80, { family: 4 });
    await r.getaddrinfo('ttl0.test', 80, { family: 4 });
    assert.equal(count('ttl0.test'), 2);
  });

  test('the ceiling bounds a huge TTL', async () => {
    const { r, clock, count } = await setup({ maxTtl: 100 });
    await r.getaddrinfo('ttl999999.test', 80, { family: 4 });
    clock.advance(99);
    await r.getaddrinfo('ttl999999.test', 80, { family: 4 });
    assert.equal(count('ttl999999.test'), 1);
    clock.advance(1);
    await r.getaddrinfo('ttl999999.test', 80, { family: 4 });
    assert.equal(count('ttl999999.test'), 2);
  });

  test('a floor set by the user keeps short answers longer', async () => {
    const { r, clock, count } = await setup({ minTtl: 30 });
    await r.getaddrinfo('ttl5.test', 80, { family: 4 });
    clock.advance(29);
    await r.getaddrinfo('ttl5.test', 80, { family: 4 });
    assert.equal(count('ttl5.test'), 1);
  });

  test('an NXDOMAIN is cached for the SOA minimum', async () => {
    const { r, clock, count } = await setup();
    await assert.rejects(r.getaddrinfo('nx.test', 80, { family: 4 }), /NXDOMAIN/);
    clock.advance(19);
    await assert.rejects(r.getaddrinfo('nx.test', 80, { family: 4 }), /NXDOMAIN/);
    assert.equal(count('nx.test'), 1);
    clock.advance(1);
    await assert.rejects(r.getaddrinfo('nx.test', 80, { family: 4 }), /NXDOMAIN/);
    assert.equal(count('nx.test'), 2);
  });

  test('a SERVFAIL is not cached', async () => {
    const { r, count } = await setup();
    await assert.rejects(r.getaddrinfo('fail.test', 80, { family: 4 }), /SERVFAIL/);
    await assert.rejects(r.getaddrinfo('fail.test', 80, { family: 4 }), /SERVFAIL/);
    assert.equal(count('fail.test'), 2);
  });

  test('concurrent lookups of one name share one query per family', async () => {
    const { r, count, s } = await setup();
    const all = await Promise.all(Array.from({ length: 50 }, () => r.getaddrinfo('ttl300.test', 80)));
    assert.equal(all.length, 50);
    assert.equal(count('ttl300.test'), 2);
    assert.deepEqual(
      s.queries
        .filter((q) => q.name === 'ttl300.test')
        .map((q) => q.type)
        .sort(),
      [T.A, T.AAAA],
    );
  });

  test('an aborted lookup does not cancel the shared query for the others', async () => {
    const { r, count } = await setup();
    const ac = new AbortController();
    const first = r.getaddrinfo('ttl300b.test', 80, { family: 4, signal: ac.signal });
    const second = r.getaddrinfo('ttl300b.test', 80, { family: 4 });
    ac.abort();
    await assert.rejects(first, /aborted/);
    assert.equal((await second)[0]!.address, '192.0.2.5');
    assert.equal(count('ttl300b.test'), 1);
  });

  test('the cache holds at most maxEntries names, dropping the oldest', () => {
    const clock = new FakeClock();
    const c = new DnsCache<string>({ maxEntries: 2, clock: clock.now });
    c.set('a', 'A', 60);
    c.set('b', 'B', 60);
    c.set('c', 'C', 60);
    assert.equal(c.get('a'), undefined);
    assert.equal(c.get('c'), 'C');
    assert.equal(c.size, 2);
  });
});
