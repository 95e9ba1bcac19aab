// The header list a request goes out with (urllib3 v2's HTTPConnection.request
// rules), checked without sockets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { prepareBody } from '../../../src/body/request-body.js';
import { buildRequestHeaders } from '../../../src/connection/request-head.js';
import { HTTPHeaderDict } from '../../../src/headers.js';
import { DEFAULT_USER_AGENT, SKIP_HEADER } from '../../../src/request-headers.js';

function asRecord(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) out[pairs[i]!.toLowerCase()] = pairs[i + 1]!;
  return out;
}

describe('buildRequestHeaders', () => {
  test('a GET without body gets Host, Accept-Encoding identity and User-Agent but no framing', () => {
    const b = buildRequestHeaders('GET', null, null, undefined, 'example.com:8080');
    assert.deepEqual(b.pairs, [
      'Host',
      'example.com:8080',
      'Accept-Encoding',
      'identity',
      'User-Agent',
      DEFAULT_USER_AGENT,
    ]);
    assert.equal(b.chunked, false);
  });

  test('a POST without body says Content-Length: 0', () => {
    const b = buildRequestHeaders('POST', null, null, undefined, 'h');
    assert.equal(asRecord(b.pairs)['content-length'], '0');
  });

  test('a body of known length gets Content-Length, a stream gets chunked', () => {
    const known = buildRequestHeaders('PUT', null, prepareBody('hello'), undefined, 'h');
    assert.equal(asRecord(known.pairs)['content-length'], '5');
    assert.equal(known.chunked, false);
    async function* gen() {
      yield Buffer.from('x');
    }
    const unknown = buildRequestHeaders('PUT', null, prepareBody(gen()), undefined, 'h');
    assert.equal(asRecord(unknown.pairs)['transfer-encoding'], 'chunked');
    assert.equal(asRecord(unknown.pairs)['content-length'], undefined);
    assert.equal(unknown.chunked, true);
  });

  test('chunked: true forces chunked framing even for a Buffer', () => {
    const b = buildRequestHeaders('POST', null, prepareBody(Buffer.from('abc')), true, 'h');
    assert.equal(asRecord(b.pairs)['transfer-encoding'], 'chunked');
    assert.equal(asRecord(b.pairs)['content-length'], undefined);
    assert.equal(b.chunked, true);
  });

  test("the caller's Content-Length or Transfer-Encoding decides the framing", () => {
    const cl = buildRequestHeaders('POST', { 'Content-Length': '3' }, prepareBody('abc'), undefined, 'h');
    assert.equal(cl.chunked, false);
    assert.equal(cl.pairs.filter((p) => p.toLowerCase() === 'content-length').length, 1);
    const te = buildRequestHeaders(
      'POST',
      { 'Transfer-Encoding': 'chunked' },
      prepareBody('abc'),
      undefined,
      'h',
    );
    assert.equal(te.chunked, true);
    assert.equal(te.pairs.filter((p) => p.toLowerCase() === 'transfer-encoding').length, 1);
  });

  test('caller headers keep their case and come from every HeadersInit shape', () => {
    const shapes = [
      { 'X-Thing': 'a' },
      [['X-Thing', 'a']] as [string, string][],
      new Map([['X-Thing', 'a']]),
      new HTTPHeaderDict({ 'X-Thing': 'a' }),
    ];
    for (const h of shapes) {
      const b = buildRequestHeaders('GET', h, null, undefined, 'h');
      assert.ok(b.pairs.includes('X-Thing'), `shape ${h.constructor.name}`);
      assert.equal(b.pairs[b.pairs.indexOf('X-Thing') + 1], 'a');
    }
  });

  test('SKIP_HEADER leaves out User-Agent, Host and Accept-Encoding', () => {
    const b = buildRequestHeaders(
      'GET',
      { 'User-Agent': SKIP_HEADER, Host: SKIP_HEADER, 'Accept-Encoding': SKIP_HEADER },
      null,
      undefined,
      'h',
    );
    assert.deepEqual(b.pairs, []);
  });

  test('SKIP_HEADER on another header is a TypeError', () => {
    assert.throws(
      () => buildRequestHeaders('GET', { 'X-Other': SKIP_HEADER }, null, undefined, 'h'),
      TypeError,
    );
  });

  test('a user Host header replaces the default one', () => {
    const b = buildRequestHeaders('GET', { host: 'other.example' }, null, undefined, 'h');
    const hosts = b.pairs.filter((_, i) => i % 2 === 0 && b.pairs[i]!.toLowerCase() === 'host');
    assert.equal(hosts.length, 1);
    assert.equal(asRecord(b.pairs)['host'], 'other.example');
  });
});
