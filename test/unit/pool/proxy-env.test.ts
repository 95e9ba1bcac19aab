import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bypassesProxy, proxyForUrl, readProxyEnv } from '../../../src/pool/proxy-env.js';

describe('reading proxy variables', () => {
  test('the lower-case variable wins over the upper-case one', () => {
    const env = readProxyEnv({
      HTTP_PROXY: 'http://upper:1',
      http_proxy: 'http://lower:2',
      HTTPS_PROXY: 'http://s:3',
    });
    assert.equal(env.http, 'http://lower:2');
    assert.equal(env.https, 'http://s:3');
    assert.equal(env.all, null);
  });

  test('empty values count as unset', () => {
    const env = readProxyEnv({ http_proxy: '', HTTP_PROXY: 'http://upper:1', no_proxy: '  ' });
    assert.equal(env.http, 'http://upper:1');
    assert.equal(env.noProxy, null);
  });
});

describe('choosing a proxy', () => {
  const env = readProxyEnv({
    http_proxy: 'http://h:1',
    https_proxy: 'http://s:2',
    all_proxy: 'socks5h://a:3',
  });

  test('by scheme, with ALL_PROXY as the fallback', () => {
    assert.equal(proxyForUrl('http', 'example.com', 80, env), 'http://h:1');
    assert.equal(proxyForUrl('https', 'example.com', 443, env), 'http://s:2');
    const onlyAll = readProxyEnv({ ALL_PROXY: 'socks5://a:3' });
    assert.equal(proxyForUrl('https', 'example.com', 443, onlyAll), 'socks5://a:3');
    assert.equal(proxyForUrl('http', 'example.com', 80, readProxyEnv({})), null);
  });
});

describe('NO_PROXY', () => {
  test('* bypasses everything', () => {
    assert.equal(bypassesProxy('anything.test', 80, '*'), true);
  });

  test('a name matches itself and its subdomains, never a partial label', () => {
    assert.equal(bypassesProxy('example.com', 80, 'example.com'), true);
    assert.equal(bypassesProxy('www.example.com', 80, 'example.com'), true);
    assert.equal(bypassesProxy('badexample.com', 80, 'example.com'), false);
    assert.equal(bypassesProxy('EXAMPLE.COM', 80, 'example.com'), true);
  });

  test('a leading dot means the domain and its subdomains', () => {
    assert.equal(bypassesProxy('a.b.internal', 80, '.internal'), true);
    assert.equal(bypassesProxy('internal', 80, '.internal'), true);
    assert.equal(bypassesProxy('internalx', 80, '.internal'), false);
  });

  test('host:port entries match only that port', () => {
    assert.equal(bypassesProxy('example.com', 8080, 'example.com:8080'), true);
    assert.equal(bypassesProxy('example.com', 80, 'example.com:8080'), false);
    assert.equal(bypassesProxy('::1', 8080, '[::1]:8080'), true);
    assert.equal(bypassesProxy('::1', 80, '[::1]:8080'), false);
  });

  test('CIDR ranges match IP literals', () => {
    assert.equal(bypassesProxy('10.1.2.3', 80, '10.0.0.0/8'), true);
    assert.equal(bypassesProxy('11.1.2.3', 80, '10.0.0.0/8'), false);
    assert.equal(bypassesProxy('[::1]', 80, '::1/128'), true);
    assert.equal(bypassesProxy('example.com', 80, '10.0.0.0/8'), false);
  });

  test('entries are separated by commas and spaces', () => {
    const list = 'localhost, .corp ,10.0.0.0/8 example.org';
    assert.equal(bypassesProxy('localhost', 80, list), true);
    assert.equal(bypassesProxy('x.corp', 80, list), true);
    assert.equal(bypassesProxy('example.org', 80, list), true);
    assert.equal(bypassesProxy('example.net', 80, list), false);
  });

  test('proxyForUrl honours NO_PROXY', () => {
    const env = readProxyEnv({ http_proxy: 'http://h:1', no_proxy: 'localhost,127.0.0.0/8' });
    assert.equal(proxyForUrl('http', '127.0.0.1', 80, env), null);
    assert.equal(proxyForUrl('http', 'example.com', 80, env), 'http://h:1');
  });
});
