// urllib3's TLS options planned for a QUIC handshake: which name BoringSSL
// gets (SNI and its native check) and which checks are left for after the
// handshake, so each option means what it means over TCP.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSecureContext } from 'node:tls';
import { createHash } from 'node:crypto';
import { SSLError } from '../../../src/errors.js';
import { postHandshakeChecks } from '../../../src/net/quic/quic-peer-checks.js';
import { planQuicTls, quicTlsUnavailable } from '../../../src/net/quic/quic-tls.js';
import { createUrllib3Context } from '../../../src/net/urllib3-context.js';

const CA = `-----BEGIN CERTIFICATE-----
MIIBjzCCATWgAwIBAgIUSmuBH6qXt7Ny0pW2rXF4sRFNbNowCgYIKoZIzj0EAwIw
HTELMAkGA1UEAwwCY2EwHhcNMjQwMTAxMDAwMDAwWhcNMzQwMTAxMDAwMDAwWjAd
MQswCQYDVQQDDAJjYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABM4m0H9H0x1V
-----END CERTIFICATE-----
`;

describe('planQuicTls', () => {
  test('a host name is given to BoringSSL: SNI and the native name check', () => {
    const p = planQuicTls('example.com', { caCertData: CA }, {});
    assert.equal(p.serverName, 'example.com');
    assert.deepEqual(p.postChecks, { hostName: null, ip: null, fingerprint: null });
    assert.equal(p.verifyPeer, true);
    assert.equal(p.isVerified, true);
    assert.match(p.caPem, /BEGIN CERTIFICATE/);
  });

  test('an IP host is never sent as SNI and is checked against IP SANs after the handshake', () => {
    for (const host of ['127.0.0.1', '[::1]']) {
      const p = planQuicTls(host, { caCertData: CA }, {});
      assert.equal(p.serverName, null);
      assert.equal(p.postChecks.ip, host === '[::1]' ? '::1' : host);
    }
  });

  test('serverHostname is the SNI and the checked name', () => {
    const p = planQuicTls('10.0.0.1', { caCertData: CA, serverHostname: 'api.example' }, {});
    assert.equal(p.serverName, 'api.example');
    assert.equal(p.postChecks.ip, null);
  });

  test('assertHostname naming another host, or false, or a fingerprint: no native check, no SNI', () => {
    const other = planQuicTls('example.com', { caCertData: CA, assertHostname: 'other.example' }, {});
    assert.equal(other.serverName, null);
    assert.equal(other.postChecks.hostName, 'other.example');
    const off = planQuicTls('example.com', { caCertData: CA, assertHostname: false }, {});
    assert.equal(off.serverName, null);
    assert.deepEqual(off.postChecks, { hostName: null, ip: null, fingerprint: null });
    const pinned = planQuicTls('example.com', { caCertData: CA, assertFingerprint: 'ab'.repeat(32) }, {});
    assert.equal(pinned.serverName, null);
    assert.equal(pinned.postChecks.fingerprint?.length, 32);
    assert.equal(pinned.verifyPeer, true, 'the chain is still verified, as over TCP');
  });

  test('CERT_NONE verifies nothing but still sends SNI', () => {
    const p = planQuicTls('example.com', { certReqs: 'CERT_NONE' }, {});
    assert.equal(p.verifyPeer, false);
    assert.equal(p.isVerified, false);
    assert.equal(p.serverName, 'example.com');
  });

  test('the default trust is the TCP default: Node roots and more', () => {
    const p = planQuicTls('example.com', {}, {});
    assert.ok((p.caPem.match(/BEGIN CERTIFICATE/g) ?? []).length > 50);
  });

  test('SSLKEYLOGFILE names the key log', () => {
    assert.equal(planQuicTls('example.com', {}, { SSLKEYLOGFILE: '/tmp/keys' }).keylogFile, '/tmp/keys');
    assert.equal(planQuicTls('example.com', {}, {}).keylogFile, null);
  });
});

describe('quicTlsUnavailable', () => {
  test('a TLS maximum below 1.3 or a Node SecureContext makes HTTP/3 unavailable; otherwise null', () => {
    assert.match(quicTlsUnavailable({ sslMaximumVersion: 'TLSv1.2' }) ?? '', /TLS 1\.3/);
    assert.match(quicTlsUnavailable({ sslContext: createSecureContext() }) ?? '', /SecureContext/);
    assert.equal(quicTlsUnavailable({ sslMaximumVersion: 'TLSv1.3' }), null);
    assert.equal(quicTlsUnavailable({}), null);
  });

  test('a ciphers list limiting the TLS 1.3 suites makes HTTP/3 unavailable, naming them; one naming none does not', () => {
    const why = quicTlsUnavailable({ ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES256-GCM-SHA384' }) ?? '';
    assert.match(why, /cannot leave out TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256, which ciphers/);
    assert.match(quicTlsUnavailable({ ciphers: 'HIGH:!TLS_CHACHA20_POLY1305_SHA256' }) ?? '', /CHACHA20/);
    const fromContext = quicTlsUnavailable({
      sslContext: createUrllib3Context({ ciphers: 'TLS_AES_128_GCM_SHA256' }),
    });
    assert.match(fromContext ?? '', /TLS_AES_256_GCM_SHA384/);
    // Only TLS 1.2 suites named: TLS 1.3 keeps its defaults, over TCP as over QUIC.
    assert.equal(
      quicTlsUnavailable({ ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256' }),
      null,
    );
    // All three named, in any order and with OpenSSL's other separators.
    assert.equal(
      quicTlsUnavailable({
        ciphers: 'TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384:HIGH',
      }),
      null,
    );
  });

  test('an sslVersion pinning TLS 1.2 makes HTTP/3 unavailable, naming it; an "any version" one does not', () => {
    assert.match(quicTlsUnavailable({ sslVersion: 'PROTOCOL_TLSv1_2' }) ?? '', /sslVersion is TLSv1\.2/);
    assert.equal(quicTlsUnavailable({ sslVersion: 'PROTOCOL_TLS_CLIENT' }), null);
  });
});

describe('postHandshakeChecks', () => {
  // With certReqs CERT_NONE BoringSSL takes any bytes as the leaf; a pin is then the only check.
  const junk = Buffer.from('not a certificate at all');
  const pin = createHash('sha256').update(junk).digest('hex');

  test('a pinned fingerprint alone is compared without parsing the leaf: matching bytes that are no certificate pass', () => {
    const tls = planQuicTls('example.com', { certReqs: 'CERT_NONE', assertFingerprint: pin }, {});
    assert.doesNotThrow(() => postHandshakeChecks(junk, tls, 'conn'));
  });

  test('a fingerprint mismatch is an SSLError naming both digests, as over TCP', () => {
    const tls = planQuicTls('example.com', { certReqs: 'CERT_NONE', assertFingerprint: pin }, {});
    assert.throws(
      () => postHandshakeChecks(Buffer.from('other bytes'), tls, 'conn'),
      (e: unknown) =>
        e instanceof SSLError &&
        /^conn: Fingerprints did not match\. Expected "[0-9a-f]{64}", got/.test(e.message),
    );
  });
});
