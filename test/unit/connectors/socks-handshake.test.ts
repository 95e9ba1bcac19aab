// SOCKS client handshakes, byte by byte, without sockets.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SocksHandshake } from '../../../src/connectors/socks-handshake.js';
import { SocksError } from '../../../src/errors.js';

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'));

describe('SOCKS4 and SOCKS4a', () => {
  test('socks4 sends the IPv4 address, port and user id', () => {
    const h = new SocksHandshake(
      'socks4',
      { host: '10.1.2.3', port: 8080 },
      { username: 'bob', password: null },
    );
    assert.equal(hex(h.start()), `04011f900a010203${Buffer.from('bob').toString('hex')}00`);
    const r = h.feed(Buffer.from('005a000000000000', 'hex'));
    assert.equal(r.done, true);
    assert.equal(r.leftover, null);
  });

  test('socks4 refuses a host name', () => {
    assert.throws(
      () =>
        new SocksHandshake('socks4', { host: 'example.com', port: 80 }, { username: null, password: null }),
      TypeError,
    );
  });

  test('socks4a sends 0.0.0.1 and the host name for the proxy to resolve', () => {
    const h = new SocksHandshake(
      'socks4a',
      { host: 'example.com', port: 80 },
      { username: null, password: null },
    );
    assert.equal(hex(h.start()), `040100500000000100${Buffer.from('example.com').toString('hex')}00`);
  });

  test('a rejected socks4 request is a SocksError with the reply code', () => {
    const h = new SocksHandshake(
      'socks4',
      { host: '127.0.0.1', port: 1 },
      { username: null, password: null },
    );
    h.start();
    assert.throws(
      () => h.feed(Buffer.from('005b000000000000', 'hex')),
      (e: unknown) => e instanceof SocksError && e.replyCode === 0x5b && /rejected/.test(e.message),
    );
  });

  test('a reply split in pieces and followed by tunnel bytes', () => {
    const h = new SocksHandshake(
      'socks4',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    h.start();
    assert.equal(h.feed(Buffer.from('005a00', 'hex')).done, false);
    const r = h.feed(Buffer.concat([Buffer.from('0000000000', 'hex'), Buffer.from('HTTP')]));
    assert.equal(r.done, true);
    assert.equal(r.leftover?.toString(), 'HTTP');
  });
});

describe('SOCKS5', () => {
  test('no authentication, a domain name (socks5h) and an immediate success', () => {
    const h = new SocksHandshake(
      'socks5h',
      { host: 'example.com', port: 443 },
      { username: null, password: null },
    );
    assert.equal(hex(h.start()), '050100');
    const r1 = h.feed(Buffer.from('0500', 'hex'));
    assert.equal(r1.done, false);
    assert.equal(
      hex(r1.send),
      `05010003${(11).toString(16).padStart(2, '0')}${Buffer.from('example.com').toString('hex')}01bb`,
    );
    const r2 = h.feed(Buffer.from('05000001000000000000', 'hex'));
    assert.equal(r2.done, true);
  });

  test('IPv4 and IPv6 destinations use address types 1 and 4', () => {
    const v4 = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    v4.start();
    assert.equal(hex(v4.feed(Buffer.from('0500', 'hex')).send), '050100017f0000010050');
    const v6 = new SocksHandshake('socks5', { host: '::1', port: 80 }, { username: null, password: null });
    v6.start();
    assert.equal(hex(v6.feed(Buffer.from('0500', 'hex')).send), `05010004${'00'.repeat(15)}010050`);
  });

  test('username/password authentication (RFC 1929)', () => {
    const h = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: 'user', password: 'pass' },
    );
    assert.equal(hex(h.start()), '05020002');
    const r1 = h.feed(Buffer.from('0502', 'hex'));
    assert.equal(
      hex(r1.send),
      `0104${Buffer.from('user').toString('hex')}04${Buffer.from('pass').toString('hex')}`,
    );
    const r2 = h.feed(Buffer.from('0100', 'hex'));
    assert.equal(hex(r2.send), '050100017f0000010050');
  });

  test('rejected credentials are a SocksError naming the failure', () => {
    const h = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: 'user', password: 'bad' },
    );
    h.start();
    h.feed(Buffer.from('0502', 'hex'));
    assert.throws(
      () => h.feed(Buffer.from('0101', 'hex')),
      (e: unknown) => e instanceof SocksError && /rejected/.test(e.message),
    );
  });

  test('a proxy that wants a password we lack says so', () => {
    const h = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    h.start();
    assert.throws(
      () => h.feed(Buffer.from('05ff', 'hex')),
      (e: unknown) => e instanceof SocksError && /username and password/.test(e.message),
    );
  });

  test('every SOCKS5 failure reply code is reported by name with the code', () => {
    for (const [code, words] of [
      [1, /general/],
      [2, /not allowed/],
      [3, /network unreachable/],
      [4, /host unreachable/],
      [5, /refused/],
      [6, /TTL/],
      [7, /command/],
      [8, /address type/],
    ] as const) {
      const h = new SocksHandshake(
        'socks5',
        { host: '127.0.0.1', port: 80 },
        { username: null, password: null },
      );
      h.start();
      h.feed(Buffer.from('0500', 'hex'));
      assert.throws(
        () => h.feed(Buffer.from(`050${code}0001000000000000`, 'hex')),
        (e: unknown) =>
          e instanceof SocksError &&
          e.replyCode === code &&
          words.test(e.message) &&
          e.message.includes('127.0.0.1:80'),
      );
    }
  });

  test('the reply fed one byte at a time, with tunnel bytes after it', () => {
    const h = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    h.start();
    h.feed(Buffer.from('0500', 'hex'));
    const reply = Buffer.concat([
      Buffer.from('0500000300', 'hex').subarray(0, 4),
      Buffer.from([3]),
      Buffer.from('abc'),
      Buffer.from('1f90', 'hex'),
      Buffer.from('HTTP'),
    ]);
    let last = null as ReturnType<SocksHandshake['feed']> | null;
    for (let i = 0; i < reply.length - 4; i++) {
      last = h.feed(reply.subarray(i, i + 1));
      if (i < reply.length - 5) assert.equal(last.done, false, `done too early at byte ${i}`);
    }
    assert.equal(last?.done, true);
    const h2 = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    h2.start();
    h2.feed(Buffer.from('0500', 'hex'));
    const r = h2.feed(reply);
    assert.equal(r.done, true);
    assert.equal(r.leftover?.toString(), 'HTTP');
  });

  test('a non-SOCKS5 answer is a SocksError', () => {
    const h = new SocksHandshake(
      'socks5',
      { host: '127.0.0.1', port: 80 },
      { username: null, password: null },
    );
    h.start();
    assert.throws(() => h.feed(Buffer.from('HTTP/1.1 400')), SocksError);
  });
});
