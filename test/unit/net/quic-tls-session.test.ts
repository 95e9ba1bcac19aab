// The TLS facts read from quiche's saved session (src/net/quic/tls-session.ts):
// the version and cipher suite of BoringSSL's SSL_SESSION, after quiche's
// length prefix; anything malformed is unknown rather than a guess.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { tlsSessionFacts } from '../../../src/net/quic/tls-session.js';

/** DER: tag, length (short or long form), contents. */
function der(tag: number, body: Buffer): Buffer {
  const len =
    body.length < 0x80
      ? Buffer.from([body.length])
      : Buffer.from([0x82, body.length >> 8, body.length & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}

/** quiche's blob: u64 length, the SSL_SESSION, then transport parameters. */
function blob(version: number, suite: number, filler = 200): Buffer {
  const session = der(
    0x30,
    Buffer.concat([
      der(0x02, Buffer.from([1])),
      der(0x02, Buffer.from([version >> 8, version & 0xff])),
      der(0x04, Buffer.from([suite >> 8, suite & 0xff])),
      der(0x04, Buffer.alloc(32, 7)),
      der(0x04, Buffer.alloc(filler, 9)),
    ]),
  );
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64BE(BigInt(session.length));
  const params = Buffer.from('0100', 'hex');
  const tail = Buffer.alloc(8);
  tail.writeBigUInt64BE(BigInt(params.length));
  return Buffer.concat([prefix, session, tail, params]);
}

describe('the TLS facts of a quiche session', () => {
  test('each TLS 1.3 suite is named as Node names it', () => {
    assert.deepEqual(tlsSessionFacts(blob(0x0304, 0x1301)), {
      version: 'TLSv1.3',
      cipher: 'TLS_AES_128_GCM_SHA256',
    });
    assert.equal(tlsSessionFacts(blob(0x0304, 0x1302))?.cipher, 'TLS_AES_256_GCM_SHA384');
    assert.equal(tlsSessionFacts(blob(0x0304, 0x1303, 10))?.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  });

  test('an unknown suite is null, not a guess', () => {
    assert.deepEqual(tlsSessionFacts(blob(0x0304, 0xc02f)), { version: 'TLSv1.3', cipher: null });
  });

  test('malformed blobs are null', () => {
    const good = blob(0x0304, 0x1301);
    assert.equal(tlsSessionFacts(Buffer.alloc(0)), null);
    assert.equal(tlsSessionFacts(good.subarray(0, 12)), null, 'truncated');
    const wrongTag = Buffer.from(good);
    wrongTag[8] = 0x31;
    assert.equal(tlsSessionFacts(wrongTag), null);
    const wrongVersion = Buffer.from(good);
    wrongVersion[8 + 4 + 2] = 2; // the structure version INTEGER's value
    assert.equal(tlsSessionFacts(wrongVersion), null);
    const hugeLength = Buffer.from(good);
    hugeLength.writeBigUInt64BE(1n << 40n);
    assert.equal(tlsSessionFacts(hugeLength), null);
    const longForm = Buffer.from(good);
    longForm[9] = 0x84; // the SEQUENCE claims a four-byte length far past the blob
    longForm.writeUInt32BE(0xffffffff, 10);
    assert.equal(tlsSessionFacts(longForm), null);
  });

  test('no truncation or changed byte of a blob throws: each gives facts or null', () => {
    const good = blob(0x0304, 0x1302, 20);
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let n = 0; n <= good.length; n++) tlsSessionFacts(good.subarray(0, n));
    for (let i = 0; i < 5_000; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[next() % b.length] = next() & 0xff;
      const facts = tlsSessionFacts(b);
      assert.ok(facts === null || typeof facts === 'object');
    }
    // A view into a larger buffer reads only its own bytes.
    const padded = Buffer.concat([Buffer.alloc(5, 0xff), good, Buffer.alloc(5, 0xff)]);
    assert.equal(
      tlsSessionFacts(new Uint8Array(padded.buffer, padded.byteOffset + 5, good.length))?.cipher,
      'TLS_AES_256_GCM_SHA384',
    );
  });
});
