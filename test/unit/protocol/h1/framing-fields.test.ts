// The values of Content-Length, Transfer-Encoding and Connection, read the
// way the HTTP/1.1 parser frames a response with them.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProtocolError } from '../../../../src/errors.js';
import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  connectionOptions,
  lastCodingIsChunked,
  parseContentLength,
} from '../../../../src/protocol/h1/framing-fields.js';

describe('parseContentLength', () => {
  test('a plain number is the length', () => {
    assert.equal(parseContentLength('1234', null), 1234);
    assert.equal(parseContentLength('0', null), 0);
  });

  test('a list repeating one value counts as that value', () => {
    assert.equal(parseContentLength('42, 42,42', null), 42);
    assert.equal(parseContentLength(' 7 ', 7), 7);
  });

  test('a value differing from an earlier field line is an error', () => {
    assert.throws(() => parseContentLength('5', 6), /Conflicting Content-Length values: 6 and 5/);
    assert.throws(() => parseContentLength('5, 6', null), ProtocolError);
  });

  test('anything but digits is an error', () => {
    for (const bad of ['', ' ', '-1', '+1', '1e3', '0x10', '1,', ',1', '1 2']) {
      assert.throws(() => parseContentLength(bad, null), ProtocolError, bad);
    }
  });

  test('a length beyond the safe integers is an error', () => {
    assert.throws(() => parseContentLength('9007199254740993', null), /Content-Length too large/);
  });
});

describe('lastCodingIsChunked', () => {
  test('chunked in any case is chunked', () => {
    assert.equal(lastCodingIsChunked('chunked'), true);
    assert.equal(lastCodingIsChunked('Chunked'), true);
    assert.equal(lastCodingIsChunked('gzip, CHUNKED '), true);
  });

  test('only the last coding counts', () => {
    assert.equal(lastCodingIsChunked('chunked, gzip'), false);
    assert.equal(lastCodingIsChunked('gzip'), false);
    assert.equal(lastCodingIsChunked('gzip, chunked, ,'), true);
  });

  test('a value listing no coding decides nothing', () => {
    assert.equal(lastCodingIsChunked(''), null);
    assert.equal(lastCodingIsChunked(' , ,'), null);
  });
});

describe('connectionOptions', () => {
  test('close and keep-alive are found alone, in any case and in lists', () => {
    assert.equal(connectionOptions('keep-alive'), CONNECTION_KEEP_ALIVE);
    assert.equal(connectionOptions('Keep-Alive'), CONNECTION_KEEP_ALIVE);
    assert.equal(connectionOptions('CLOSE'), CONNECTION_CLOSE);
    assert.equal(connectionOptions('upgrade, close'), CONNECTION_CLOSE);
    assert.equal(connectionOptions('Keep-Alive , Close'), CONNECTION_CLOSE | CONNECTION_KEEP_ALIVE);
  });

  test('other options name nothing the parser acts on', () => {
    assert.equal(connectionOptions('upgrade'), 0);
    assert.equal(connectionOptions('te, upgrade'), 0);
    assert.equal(connectionOptions('closed'), 0);
  });
});
