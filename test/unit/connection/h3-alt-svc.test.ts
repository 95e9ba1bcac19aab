// Alt-Svc (RFC 7838) read for HTTP/3 and the per-origin memory behind
// preemptiveQuicCache: max-age, clear, cool-downs after failed attempts.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  learnAltSvc,
  originKey,
  parseAltSvc,
  QUIC_COOL_DOWN_MS,
  quicEndpoint,
  quicFailed,
} from '../../../src/connection/h3-alt-svc.js';

describe('parseAltSvc', () => {
  test("reads caddy's header: the h3 port and max-age", () => {
    assert.deepEqual(parseAltSvc('h3=":443"; ma=2592000'), {
      clear: false,
      h3: { host: '', port: 443, maxAge: 2592000 },
    });
  });

  test('takes the first h3 alternative among others, with a host and quoted values', () => {
    const v = 'h2="alt.example:443", h3-29=":8443", h3="quic.example:8443"; ma="60"; persist=1, h3=":9"';
    assert.deepEqual(parseAltSvc(v).h3, { host: 'quic.example', port: 8443, maxAge: 60 });
  });

  test('an IPv6 alternative host is unbracketed; ma defaults to 24 hours', () => {
    assert.deepEqual(parseAltSvc('h3="[::1]:4433"').h3, { host: '::1', port: 4433, maxAge: 86400 });
  });

  test('clear, no h3, and bad ports', () => {
    assert.deepEqual(parseAltSvc(' clear '), { clear: true, h3: null });
    assert.equal(parseAltSvc('h2=":443"').h3, null);
    assert.equal(parseAltSvc('h3=":0"').h3, null);
    assert.equal(parseAltSvc('h3=":99999"').h3, null);
    assert.equal(parseAltSvc('h3="nohost"').h3, null);
  });
});

describe('the HTTP/3 memory of an origin', () => {
  const origin = originKey('example.com', 443);

  test('learns an endpoint (same host when the alternative names none) until max-age passes', () => {
    const cache = new Map<string, string | null>();
    assert.equal(learnAltSvc(cache, origin, 'example.com', 'h3=":8443"; ma=10', 1000), true);
    assert.equal(cache.get(origin), 'example.com:8443');
    assert.equal(
      learnAltSvc(cache, origin, 'example.com', 'h3=":8443"; ma=10', 2000),
      false,
      'already known',
    );
    assert.deepEqual(quicEndpoint(cache, origin, 5000), { host: 'example.com', port: 8443 });
    assert.equal(quicEndpoint(cache, origin, 12_001), null, 'expired');
    assert.equal(cache.has(origin), false);
  });

  test('clear forgets; ma=0 teaches nothing', () => {
    const cache = new Map<string, string | null>([[origin, 'example.com:443']]);
    learnAltSvc(cache, origin, 'example.com', 'clear');
    assert.equal(cache.has(origin), false);
    assert.equal(learnAltSvc(cache, origin, 'example.com', 'h3=":443"; ma=0'), false);
    assert.equal(cache.has(origin), false);
  });

  test('a seeded entry never expires; null means known not to speak HTTP/3', () => {
    const cache = new Map<string, string | null>([
      [origin, 'example.com:443'],
      ['[::1]:443', null],
    ]);
    assert.deepEqual(quicEndpoint(cache, origin, Date.now() + 1e12), { host: 'example.com', port: 443 });
    assert.equal(quicEndpoint(cache, originKey('::1', 443)), null);
  });

  test('a failed attempt makes the origin TCP-only for the cool-down', () => {
    const cache = new Map<string, string | null>([[origin, 'example.com:443']]);
    quicFailed(cache, origin, 0);
    assert.equal(quicEndpoint(cache, origin, QUIC_COOL_DOWN_MS - 1), null);
    assert.deepEqual(quicEndpoint(cache, origin, QUIC_COOL_DOWN_MS + 1), { host: 'example.com', port: 443 });
  });
});
