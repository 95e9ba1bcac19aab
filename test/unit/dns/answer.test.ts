// Reading an answer for a question: which responses are discarded (ID,
// question, QR), CNAME chains and their limit, TTLs, negative answers with
// the SOA minimum, SERVFAIL with and without RFC 8914 extended errors.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { interpret, MAX_CNAME_CHAIN, mismatch } from '../../../src/dns/answer.js';
import { decodeMessage } from '../../../src/dns/message.js';
import { buildResponse, T, type TestResponse } from '../../support/dns-wire.js';

const q = { id: 4242, name: 'www.test', type: T.A };
const decode = (r: Partial<TestResponse>) =>
  decodeMessage(buildResponse({ id: 4242, question: { name: 'www.test', type: T.A }, ...r }));

describe('mismatch', () => {
  test('accepts the answer to the query, whatever the case of the name', () => {
    assert.equal(mismatch(q, decode({ question: { name: 'WWW.Test', type: T.A } })), null);
  });
  test('discards an answer with another ID', () => {
    assert.match(mismatch(q, decode({ id: 4243 })) ?? '', /ID 4243/);
  });
  test('discards an answer to another question', () => {
    assert.match(mismatch(q, decode({ question: { name: 'evil.test', type: T.A } })) ?? '', /question/);
    assert.match(mismatch(q, decode({ question: { name: 'www.test', type: T.AAAA } })) ?? '', /question/);
    assert.match(mismatch(q, decode({ question: null })) ?? '', /no question/);
  });
  test('discards a query sent back at us', () => {
    assert.match(mismatch(q, decode({ qr: false })) ?? '', /QR/);
  });
});

describe('interpret', () => {
  test('follows a CNAME chain and keeps the smallest TTL', () => {
    const out = interpret(
      q,
      decode({
        answers: [
          { name: 'www.test', type: T.CNAME, ttl: 100, cname: 'b.test' },
          { name: 'b.test', type: T.CNAME, ttl: 40, cname: 'c.test' },
          { name: 'c.test', type: T.A, ttl: 300, a: '192.0.2.5' },
          { name: 'unrelated.test', type: T.A, ttl: 1, a: '203.0.113.66' },
        ],
      }),
    );
    assert.equal(out.kind, 'records');
    if (out.kind !== 'records') return;
    assert.deepEqual(
      out.records.map((r) => r.data),
      [{ kind: 'a', address: '192.0.2.5' }],
    );
    assert.equal(out.ttl, 40);
    assert.deepEqual(out.chain, ['b.test', 'c.test']);
  });

  test('stops a CNAME chain longer than the limit', () => {
    const answers = Array.from({ length: MAX_CNAME_CHAIN + 2 }, (_, i) => ({
      name: i === 0 ? 'www.test' : `c${i}.test`,
      type: T.CNAME,
      cname: `c${i + 1}.test`,
    }));
    const out = interpret(q, decode({ answers }));
    assert.equal(out.kind, 'error');
    assert.match(out.kind === 'error' ? out.reason : '', /longer than 8/);
  });

  test('a CNAME loop ends at the chain limit', () => {
    const out = interpret(
      q,
      decode({
        answers: [
          { name: 'www.test', type: T.CNAME, cname: 'x.test' },
          { name: 'x.test', type: T.CNAME, cname: 'www.test' },
        ],
      }),
    );
    assert.equal(out.kind, 'error');
  });

  test('asks to follow a CNAME the server did not chase', () => {
    const out = interpret(
      q,
      decode({ answers: [{ name: 'www.test', type: T.CNAME, ttl: 50, cname: 'far.test' }] }),
    );
    assert.deepEqual(out, { kind: 'follow', target: 'far.test', ttl: 50, chain: ['far.test'] });
  });

  test('NXDOMAIN is cached for the SOA minimum, bounded by the SOA TTL', () => {
    const soa = (ttl: number, minimum: number) => [{ name: 'test', type: T.SOA, ttl, soa: { minimum } }];
    assert.deepEqual(interpret(q, decode({ rcode: 3, authorities: soa(900, 60) })), {
      kind: 'nxdomain',
      negativeTtl: 60,
      chain: [],
    });
    assert.deepEqual(interpret(q, decode({ rcode: 3, authorities: soa(30, 60) })), {
      kind: 'nxdomain',
      negativeTtl: 30,
      chain: [],
    });
    assert.deepEqual(interpret(q, decode({ rcode: 3 })), { kind: 'nxdomain', negativeTtl: 0, chain: [] });
  });

  test('NOERROR without records is NODATA', () => {
    const out = interpret(
      q,
      decode({ authorities: [{ name: 'test', type: T.SOA, ttl: 900, soa: { minimum: 120 } }] }),
    );
    assert.deepEqual(out, { kind: 'nodata', negativeTtl: 120, chain: [] });
  });

  test('SERVFAIL with a DNSSEC extended error says it is a DNSSEC validation failure', () => {
    const out = interpret(
      q,
      decode({ rcode: 2, ede: [{ code: 6, text: 'validation failure <www.test. A IN>' }] }),
    );
    assert.equal(out.kind, 'error');
    const reason = out.kind === 'error' ? out.reason : '';
    assert.match(reason, /^DNSSEC validation failure/);
    assert.match(reason, /extended DNS error 6 \(DNSSEC Bogus\): validation failure <www\.test\. A IN>/);
  });

  test('SERVFAIL without an extended error still mentions DNSSEC as a possible cause', () => {
    const out = interpret(q, decode({ rcode: 2 }));
    assert.match(out.kind === 'error' ? out.reason : '', /SERVFAIL.*DNSSEC/);
  });

  test('REFUSED says so, with the extended error', () => {
    const out = interpret(q, decode({ rcode: 5, ede: [{ code: 18 }] }));
    assert.match(out.kind === 'error' ? out.reason : '', /REFUSED \(extended DNS error 18 \(Prohibited\)\)/);
  });

  test('control characters in extended error text do not reach the message', () => {
    const out = interpret(q, decode({ rcode: 2, ede: [{ code: 0, text: 'a\r\nb\u001b[31m' }] }));
    assert.doesNotMatch(out.kind === 'error' ? out.reason : '', /[\r\n\u001b]/);
  });
});
