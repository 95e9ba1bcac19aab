import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Timeout } from '../../../src/policies/timeout.js';
import { makePoolKey } from '../../../src/pool/pool-key.js';

describe('makePoolKey', () => {
  test('scheme and host are case-insensitive and IPv6 brackets do not matter', () => {
    assert.equal(
      makePoolKey({ scheme: 'HTTP', host: 'Example.COM', port: 80 }),
      makePoolKey({ scheme: 'http', host: 'example.com', port: 80 }),
    );
    assert.equal(
      makePoolKey({ scheme: 'http', host: '[::1]', port: 80 }),
      makePoolKey({ scheme: 'http', host: '::1', port: 80 }),
    );
  });

  test('the port, and every connection option, separate keys', () => {
    const base = { scheme: 'https', host: 'a', port: 443 };
    const k = makePoolKey(base);
    assert.notEqual(k, makePoolKey({ ...base, port: 8443 }));
    assert.notEqual(k, makePoolKey({ ...base, maxSize: 5 }));
    assert.notEqual(k, makePoolKey({ ...base, caCerts: '/x.pem' }));
    assert.notEqual(makePoolKey({ ...base, block: true }), makePoolKey({ ...base, block: false }));
  });

  test('option order does not matter and header names are case-insensitive', () => {
    const a = makePoolKey({ scheme: 'http', host: 'a', port: 80, maxSize: 2, headers: { 'X-A': '1' } });
    const b = makePoolKey({ scheme: 'http', host: 'a', port: 80, headers: { 'x-a': '1' }, maxSize: 2 });
    assert.equal(a, b);
    assert.notEqual(
      a,
      makePoolKey({ scheme: 'http', host: 'a', port: 80, maxSize: 2, headers: { 'X-A': '2' } }),
    );
  });

  test('timeouts with equal limits share a key; different limits do not', () => {
    const t = (ms: number) =>
      makePoolKey({ scheme: 'http', host: 'a', port: 80, timeout: new Timeout({ connect: ms, read: ms }) });
    assert.equal(t(100), t(100));
    assert.notEqual(t(100), t(200));
  });

  test('objects without a value form are keyed by identity', () => {
    const r1 = { getaddrinfo() {} };
    const r2 = { getaddrinfo() {} };
    const k = (resolver: object) => makePoolKey({ scheme: 'http', host: 'a', port: 80, resolver });
    class R {}
    const x = new R();
    assert.equal(k(x), k(x));
    assert.notEqual(k(new R()), k(new R()));
    void r1;
    void r2;
  });

  test('key passwords and in-memory keys never appear in the key in clear', () => {
    const k = makePoolKey({
      scheme: 'https',
      host: 'a',
      port: 443,
      keyPassword: 'hunter2',
      keyData: 'PRIVATE-KEY-BYTES',
    });
    assert.ok(!k.includes('hunter2'));
    assert.ok(!k.includes('PRIVATE-KEY-BYTES'));
    assert.notEqual(
      k,
      makePoolKey({
        scheme: 'https',
        host: 'a',
        port: 443,
        keyPassword: 'other',
        keyData: 'PRIVATE-KEY-BYTES',
      }),
    );
  });
});
