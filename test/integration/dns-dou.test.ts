// DNS over UDP (dou://) against scripted in-process servers: answers, the
// TCP retry after truncation, and the answers that must be dropped (wrong ID,
// wrong question, wrong source port, pointer loops), slow servers, silent
// servers, NXDOMAIN, SERVFAIL with an extended error, CNAMEs the server did
// not chase (and one whose target never answers), HTTPS records, close()
// while a server given by name is looked up.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ResolverDescription } from '../../src/dns/description.js';
import { PlainResolver } from '../../src/dns/dou.js';
import { NameResolutionError, RequestAbortedError } from '../../src/errors.js';
import { alpnValue, buildResponse, svcbData, T } from '../support/dns-wire.js';
import { type DnsHandler, startDnsServer, type TestDnsServer } from '../support/dns-servers.js';
import { rejectionOf } from '../support/rejection.js';

const servers: TestDnsServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

async function serve(handler: DnsHandler): Promise<TestDnsServer> {
  const s = await startDnsServer(handler);
  servers.push(s);
  return s;
}

const zone: DnsHandler = (q) => {
  const question = { name: q.name, type: q.type };
  if (q.name === 'dual.test' && q.type === T.A) {
    return buildResponse({
      id: q.id,
      question,
      answers: [
        { name: q.name, type: T.A, a: '192.0.2.1' },
        { name: q.name, type: T.A, a: '192.0.2.2' },
      ],
    });
  }
  if (q.name === 'dual.test' && q.type === T.AAAA) {
    return buildResponse({
      id: q.id,
      question,
      answers: [{ name: q.name, type: T.AAAA, aaaa: '2001:db8::1' }],
    });
  }
  return buildResponse({
    id: q.id,
    question,
    rcode: 3,
    authorities: [{ name: 'test', type: T.SOA, soa: { minimum: 30 } }],
  });
};

function resolver(s: TestDnsServer, timeout = 2000): PlainResolver {
  return new PlainResolver({ server: s.host, port: s.port, timeout });
}

describe('dou://', () => {
  test('asks A and AAAA together and interleaves the families, IPv6 first', async () => {
    const s = await serve(zone);
    const r = resolver(s);
    const got = await r.getaddrinfo('dual.test', 443);
    assert.deepEqual(got, [
      { address: '2001:db8::1', family: 6, port: 443 },
      { address: '192.0.2.1', family: 4, port: 443 },
      { address: '192.0.2.2', family: 4, port: 443 },
    ]);
    assert.deepEqual(s.queries.map((q) => q.type).sort(), [T.A, T.AAAA]);
    assert.deepEqual(await r.getaddrinfo('dual.test', 80, { family: 4 }), [
      { address: '192.0.2.1', family: 4, port: 80 },
      { address: '192.0.2.2', family: 4, port: 80 },
    ]);
  });

  test('sends EDNS(0) and a different random ID per query', async () => {
    const s = await serve(zone);
    const r = new PlainResolver({ server: s.host, port: s.port, cache: false });
    for (let i = 0; i < 6; i++) await r.getaddrinfo('dual.test', 80, { family: 4 });
    assert.equal(new Set(s.queries.map((q) => q.id)).size, 6);
    for (const q of s.queries) assert.equal(q.raw.readUInt16BE(10), 1, 'an OPT record');
  });

  test('an NXDOMAIN is a NameResolutionError saying the name does not exist', async () => {
    const s = await serve(zone);
    await assert.rejects(resolver(s).getaddrinfo('missing.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /Failed to resolve 'missing\.test' \(the name does not exist \(NXDOMAIN/);
      return true;
    });
  });

  test('retries over TCP when the UDP answer is truncated', async () => {
    const s = await serve((q) => {
      const question = { name: q.name, type: q.type };
      if (q.transport === 'udp') return buildResponse({ id: q.id, question, truncated: true });
      const answers = Array.from({ length: 60 }, (_, i) => ({ name: q.name, type: T.A, a: `10.0.${i}.1` }));
      return q.type === T.A
        ? buildResponse({ id: q.id, question, answers })
        : buildResponse({ id: q.id, question });
    });
    const got = await resolver(s).getaddrinfo('big.test', 80, { family: 4 });
    assert.equal(got.length, 60);
    assert.deepEqual(
      s.queries.map((q) => q.transport),
      ['udp', 'tcp'],
    );
  });

  test('drops answers with the wrong ID or question and waits for the right one', async () => {
    const s = await serve((q) => ({
      messages: [
        buildResponse({
          id: (q.id + 1) & 0xffff,
          question: q,
          answers: [{ name: q.name, type: T.A, a: '203.0.113.66' }],
        }),
        buildResponse({
          id: q.id,
          question: { name: 'other.test', type: q.type },
          answers: [{ name: 'other.test', type: T.A, a: '203.0.113.67' }],
        }),
        buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '192.0.2.10' }] }),
      ],
    }));
    assert.deepEqual(await resolver(s).getaddrinfo('spoof.test', 80, { family: 4 }), [
      { address: '192.0.2.10', family: 4, port: 80 },
    ]);
  });

  test('drops an answer from another source port', async () => {
    const s = await serve((q) => ({
      fromOtherPort: true,
      messages: [
        buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '203.0.113.66' }] }),
      ],
    }));
    await assert.rejects(
      resolver(s, 300).getaddrinfo('spoof.test', 80, { family: 4 }),
      /did not answer within 300 ms/,
    );
  });

  test('drops an answer with a compression pointer loop', async () => {
    const s = await serve((q) => {
      const header = Buffer.from([q.id >> 8, q.id & 0xff, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0]);
      return Buffer.concat([header, Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 1, 2, 3, 4])]);
    });
    await assert.rejects(
      resolver(s, 300).getaddrinfo('loop.test', 80, { family: 4 }),
      /did not answer within/,
    );
  });

  test('a silent server is a timeout after the resolver timeout, not before', async () => {
    const s = await serve(() => null);
    const started = performance.now();
    await assert.rejects(resolver(s, 400).getaddrinfo('silent.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /dou:\/\/127\.0\.0\.1:\d+ did not answer within 400 ms/);
      return true;
    });
    const took = performance.now() - started;
    assert.ok(took >= 390 && took < 1500, `took ${took} ms`);
  });

  test('a signal aborted before the lookup is a RequestAbortedError at once: no query, no unhandled rejection', async () => {
    const s = await serve((q) => buildResponse({ id: q.id, question: q, rcode: 2 }));
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const r = resolver(s);
      await assert.rejects(
        r.getaddrinfo('aborted.test', 80, { signal: AbortSignal.abort() }),
        (err: Error) => {
          assert.ok(err instanceof RequestAbortedError);
          assert.match(err.message, /resolving aborted\.test was aborted/);
          return true;
        },
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(s.queries.length, 0, 'nothing was asked');
      assert.deepEqual(unhandled, []);
      await r.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  test('a signal aborted after one family is answered is a RequestAbortedError, not that family alone; a lookup sharing the query is answered', async () => {
    const s = await serve((q) => ({
      delayMs: q.type === T.A ? 300 : 0,
      messages: [
        q.type === T.A
          ? buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '192.0.2.1' }] })
          : buildResponse({
              id: q.id,
              question: q,
              answers: [{ name: q.name, type: T.AAAA, aaaa: '2001:db8::1' }],
            }),
      ],
    }));
    const r = resolver(s);
    const ac = new AbortController();
    const aborted = rejectionOf(r.getaddrinfo('both.test', 80, { signal: ac.signal }));
    const other = r.getaddrinfo('both.test', 80);
    await sleep(100);
    ac.abort();
    const err = await aborted;
    assert.ok(err instanceof RequestAbortedError, String(err));
    assert.match(err.message, /resolving both\.test was aborted/);
    assert.deepEqual(
      (await other).map((a) => a.address),
      ['2001:db8::1', '192.0.2.1'],
    );
    assert.equal(s.queries.length, 2, 'one query per family, shared');
    await r.close();
  });

  test('a slow answer inside the timeout is taken', async () => {
    const s = await serve((q) => ({
      delayMs: 150,
      messages: [
        buildResponse({ id: q.id, question: q, answers: [{ name: q.name, type: T.A, a: '192.0.2.77' }] }),
      ],
    }));
    assert.equal(
      (await resolver(s, 1000).getaddrinfo('slow.test', 80, { family: 4 }))[0]!.address,
      '192.0.2.77',
    );
  });

  test('SERVFAIL with a DNSSEC extended error is a NameResolutionError that says so', async () => {
    const s = await serve((q) =>
      buildResponse({
        id: q.id,
        question: q,
        rcode: 2,
        ede: [{ code: 6, text: 'signature from this key is bogus' }],
      }),
    );
    await assert.rejects(resolver(s).getaddrinfo('bogus.test', 80), (err: Error) => {
      assert.ok(err instanceof NameResolutionError);
      assert.match(err.message, /DNSSEC validation failure.*extended DNS error 6 \(DNSSEC Bogus\)/);
      return true;
    });
  });

  test('follows a CNAME the server did not chase, with a second query', async () => {
    const s = await serve((q) => {
      if (q.name === 'alias.test') {
        return buildResponse({
          id: q.id,
          question: q,
          answers: [{ name: q.name, type: T.CNAME, cname: 'real.test' }],
        });
      }
      if (q.name === 'real.test' && q.type === T.A) {
        return buildResponse({
          id: q.id,
          question: q,
          answers: [{ name: q.name, type: T.A, a: '192.0.2.99' }],
        });
      }
      return buildResponse({ id: q.id, question: q, rcode: 3 });
    });
    assert.deepEqual(await resolver(s).getaddrinfo('alias.test', 80, { family: 4 }), [
      { address: '192.0.2.99', family: 4, port: 80 },
    ]);
  });

  test('a CNAME target the server never answers is asked under the timeout again, and nothing is left in flight', async () => {
    const s = await serve((q) => {
      if (q.name !== 'alias.test') return null;
      return buildResponse({
        id: q.id,
        question: q,
        answers: [{ name: q.name, type: T.CNAME, cname: 'silent.test' }],
      });
    });
    const r = resolver(s, 300);
    const err = await rejectionOf(r.getaddrinfo('alias.test', 80, { family: 4 }));
    assert.ok(err instanceof NameResolutionError, String(err));
    assert.match(err.message, /did not answer within 300 ms/);
    assert.deepEqual(
      s.queries.map((q) => q.name),
      ['alias.test', 'silent.test'],
    );
    assert.equal(r.udpSockets!.inFlight, 0);
    await r.close();
  });

  test('close() while a server given by name is looked up fails the lookup and opens no socket; a second close() is harmless', async () => {
    const s = await serve(zone);
    const r = new PlainResolver({ server: 'localhost', port: s.port, timeout: 2000 });
    const pending = rejectionOf(r.getaddrinfo('dual.test', 80));
    await r.close();
    const err = await pending;
    assert.ok(err instanceof NameResolutionError, String(err));
    assert.match(err.message, /dou:\/\/localhost:\d+: the resolver was closed while the query was in flight/);
    await sleep(50);
    assert.equal(r.udpSockets, null, 'no UDP socket made');
    assert.equal(s.queries.length, 0);
    await r.close();
    await assert.rejects(r.getaddrinfo('dual.test', 80), /dou:\/\/localhost:\d+ is closed/);
  });

  test('reads the ALPN ids of an HTTPS record', async () => {
    const s = await serve((q) => {
      if (q.type !== T.HTTPS) return buildResponse({ id: q.id, question: q });
      return buildResponse({
        id: q.id,
        question: q,
        answers: [{ name: q.name, type: T.HTTPS, data: svcbData(1, '', [[1, alpnValue(['h3', 'h2'])]]) }],
      });
    });
    const r = resolver(s);
    assert.deepEqual(await r.getHttpsAlpn('svc.test'), ['h3', 'h2', 'http/1.1']);
  });

  test('source_address sends the queries from that address', async () => {
    const s = await serve(zone);
    const r = ResolverDescription.fromUrl(`dou://127.0.0.1:${s.port}?source_address=127.0.0.3`).new();
    await r.getaddrinfo('dual.test', 80, { family: 4 });
    assert.match(s.queries[0]!.from, /^127\.0\.0\.3:\d+$/);
    await r.close();
  });

  test('queries an IPv6 server', async () => {
    const s = await startDnsServer(zone, { host: '::1' });
    servers.push(s);
    const r = new PlainResolver({ server: '[::1]', port: s.port });
    assert.equal(r.describe(), `dou://[::1]:${s.port}`);
    assert.equal((await r.getaddrinfo('dual.test', 80, { family: 6 }))[0]!.address, '2001:db8::1');
  });

  test('an IPv6 server written in full, in upper case, is answered: its answers come from the address it names', async () => {
    const s = await startDnsServer(zone, { host: '::1' });
    servers.push(s);
    const r = new PlainResolver({ server: '[0:0:0:0:0:0:0:1]', port: s.port, timeout: 1000 });
    assert.equal((await r.getaddrinfo('dual.test', 80, { family: 6 }))[0]!.address, '2001:db8::1');
    await r.close();
    const s4 = await serve(zone);
    const upper = new PlainResolver({ server: '::FFFF:127.0.0.1', port: s4.port, timeout: 1000 });
    assert.equal((await upper.getaddrinfo('dual.test', 80, { family: 4 }))[0]!.address, '192.0.2.1');
    await upper.close();
  });

  test('a closed resolver is unavailable and refuses to resolve', async () => {
    const s = await serve(zone);
    const r = resolver(s);
    assert.equal(r.isAvailable(), true);
    await r.close();
    assert.equal(r.isAvailable(), false);
    await assert.rejects(r.getaddrinfo('dual.test', 80), /closed/);
  });
});
