// bracketHost, unbracketHost, defaultPort and authority: how a host is
// written in URLs and headers and how it is used bare.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authority, bracketHost, defaultPort, unbracketHost } from '../../src/authority.js';

describe('bracketHost', () => {
  test('an IPv6 literal gets brackets', () => {
    assert.equal(bracketHost('::1'), '[::1]');
    assert.equal(bracketHost('fe80::1%eth0'), '[fe80::1%eth0]');
  });

  test('a bracketed literal, a name or an IPv4 address is left as it is', () => {
    assert.equal(bracketHost('[::1]'), '[::1]');
    assert.equal(bracketHost('example.com'), 'example.com');
    assert.equal(bracketHost('127.0.0.1'), '127.0.0.1');
    assert.equal(bracketHost(''), '');
  });
});

describe('unbracketHost', () => {
  test('the brackets around an IPv6 literal are removed', () => {
    assert.equal(unbracketHost('[::1]'), '::1');
    assert.equal(unbracketHost('[fe80::1%25eth0]'), 'fe80::1%25eth0');
    assert.equal(unbracketHost('[]'), '');
  });

  test('anything not wrapped in both brackets is left as it is', () => {
    assert.equal(unbracketHost('::1'), '::1');
    assert.equal(unbracketHost('example.com'), 'example.com');
    assert.equal(unbracketHost('['), '[');
    assert.equal(unbracketHost(']'), ']');
    assert.equal(unbracketHost('[::1'), '[::1');
    assert.equal(unbracketHost('::1]'), '::1]');
  });

  test('it undoes bracketHost', () => {
    for (const h of ['::1', '2001:db8::5', 'example.com', '10.0.0.1'])
      assert.equal(unbracketHost(bracketHost(h)), h);
  });
});

describe('defaultPort', () => {
  test('http and https have their well-known ports, in any case', () => {
    assert.equal(defaultPort('http'), 80);
    assert.equal(defaultPort('https'), 443);
    assert.equal(defaultPort('HTTP'), 80);
    assert.equal(defaultPort('HTTPS'), 443);
  });

  test('other schemes have none', () => {
    assert.equal(defaultPort('ftp'), null);
    assert.equal(defaultPort('socks5'), null);
    assert.equal(defaultPort(''), null);
  });
});

describe('authority', () => {
  test('the default port is left out', () => {
    assert.equal(authority('example.com', 80, 'http'), 'example.com');
    assert.equal(authority('example.com', 443, 'https'), 'example.com');
    assert.equal(authority('example.com', null, 'https'), 'example.com');
  });

  test('another port is written out', () => {
    assert.equal(authority('example.com', 443, 'http'), 'example.com:443');
    assert.equal(authority('example.com', 8080, 'https'), 'example.com:8080');
    assert.equal(authority('example.com', 80, 'ftp'), 'example.com:80');
  });

  test('an IPv6 literal is bracketed, with or without a port', () => {
    assert.equal(authority('::1', 80, 'http'), '[::1]');
    assert.equal(authority('::1', 8443, 'https'), '[::1]:8443');
    assert.equal(authority('[::1]', 8443, 'https'), '[::1]:8443');
  });
});
