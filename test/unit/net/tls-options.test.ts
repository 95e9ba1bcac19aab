// The TLS option modules (tls-options, tls-plan, trust-store, secure-context-cache,
// tls-fingerprint, urllib3-context) and the TLS error wrapping of connect.ts without a network:
// finding the system CA bundle, the handshake plan (SNI, the name checked,
// fingerprints), option validation, the SecureContext cache, and the
// messages of SSLErrors.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import { SSLError } from '../../../src/errors.js';
import { wrapTlsError } from '../../../src/net/connect.js';
import { checkFingerprint } from '../../../src/net/tls-fingerprint.js';
import { validateTlsOptions } from '../../../src/net/tls-options.js';
import { planTls } from '../../../src/net/tls-plan.js';
import { defaultCaCertificates, loadSystemTrust } from '../../../src/net/trust-store.js';
import { createUrllib3Context } from '../../../src/net/urllib3-context.js';
import { makeTlsTestPki, type TlsTestPki } from '../../support/certs.js';

let pki: TlsTestPki;
let tmp: string;

before(async () => {
  pki = await makeTlsTestPki();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-tls-unit-'));
});

after(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('loadSystemTrust', () => {
  test('takes the first distribution bundle that exists', () => {
    const bundle = path.join(tmp, 'bundle.crt');
    writeFileSync(bundle, pki.caCertPem + pki.otherCa.certPem);
    const t = loadSystemTrust({}, [
      path.join(tmp, 'missing.crt'),
      bundle,
      '/etc/ssl/certs/ca-certificates.crt',
    ]);
    assert.deepEqual(t.sources, [bundle]);
    assert.equal(t.certificates.length, 2);
  });

  test('SSL_CERT_FILE and SSL_CERT_DIR win over the distribution bundle', () => {
    const bundle = path.join(tmp, 'ignored.crt');
    writeFileSync(bundle, pki.otherCa.certPem);
    const t = loadSystemTrust({ SSL_CERT_FILE: pki.caCert, SSL_CERT_DIR: `${pki.caDir}:${tmp}/none` }, [
      bundle,
    ]);
    assert.deepEqual(t.sources, [pki.caCert, pki.caDir]);
    // The same certificate from both places counts once.
    assert.equal(t.certificates.length, 1);
  });

  test('no bundle anywhere means no system certificates, not an error', () => {
    assert.deepEqual(loadSystemTrust({}, [path.join(tmp, 'nothing.crt')]), { sources: [], certificates: [] });
  });

  test("the default trust contains every one of Node's bundled roots", () => {
    const all = new Set(defaultCaCertificates().map((p) => p.replace(/\s+/g, '')));
    for (const root of tls.rootCertificates) assert.ok(all.has(root.replace(/\s+/g, '')));
  });
});

describe('planTls', () => {
  test('SNI carries the host name, never an IP address, without brackets or a trailing dot', () => {
    assert.equal(planTls('example.com', {}).sniName, 'example.com');
    assert.equal(planTls('example.com.', {}).sniName, 'example.com');
    assert.equal(planTls('127.0.0.1', {}).sniName, null);
    assert.equal(planTls('[::1]', {}).sniName, null);
    assert.equal(planTls('127.0.0.1', { serverHostname: 'api.example' }).sniName, 'api.example');
  });

  test('the name checked follows urllib3: assertHostname, else serverHostname, else the host', () => {
    assert.equal(planTls('a.example', {}).checkedName, 'a.example');
    assert.equal(planTls('a.example', { serverHostname: 'b.example' }).checkedName, 'b.example');
    assert.equal(
      planTls('a.example', { serverHostname: 'b.example', assertHostname: 'c.example' }).checkedName,
      'c.example',
    );
    assert.equal(planTls('[fe80::1%eth0]', {}).checkedName, 'fe80::1');
  });

  test('no name is checked with assertHostname: false, a fingerprint, or CERT_NONE', () => {
    assert.equal(planTls('a.example', { assertHostname: false }).checkedName, null);
    assert.equal(planTls('a.example', { assertFingerprint: 'ab'.repeat(20) }).checkedName, null);
    assert.equal(planTls('a.example', { certReqs: 'CERT_NONE' }).checkedName, null);
    assert.equal(planTls('a.example', { certReqs: 'CERT_NONE' }).nodeOptions.rejectUnauthorized, false);
  });

  test('the default minimum version is TLS 1.2 and ALPN offers http/1.1', () => {
    const p = planTls('a.example', {});
    assert.equal(p.minVersion, 'TLSv1.2');
    assert.equal(p.maxVersion, null);
    assert.deepEqual(p.nodeOptions.ALPNProtocols, ['http/1.1']);
  });

  test('fingerprints are normalised: colons and case do not matter', () => {
    const hex = 'AB:CD:'.repeat(16).slice(0, -1); // 32 bytes
    assert.equal(planTls('a', { assertFingerprint: hex }).fingerprint?.toString('hex'), 'abcd'.repeat(16));
  });

  test('SSLKEYLOGFILE is read when the plan is made', () => {
    assert.equal(planTls('a', {}, { SSLKEYLOGFILE: '/tmp/keys' }).keylogFile, '/tmp/keys');
    assert.equal(planTls('a', {}, {}).keylogFile, null);
  });

  test('the same configuration shares one SecureContext; changed bytes make a new one', () => {
    const ca = path.join(tmp, 'rotating-ca.pem');
    writeFileSync(ca, pki.caCertPem);
    const a = planTls('a', { caCerts: ca }).nodeOptions.secureContext;
    const b = planTls('b', { caCerts: ca }).nodeOptions.secureContext;
    assert.equal(a, b);
    assert.notEqual(
      planTls('a', { caCerts: ca, ciphers: 'TLS_AES_128_GCM_SHA256' }).nodeOptions.secureContext,
      a,
    );
    writeFileSync(ca, pki.otherCa.certPem);
    assert.notEqual(planTls('a', { caCerts: ca }).nodeOptions.secureContext, a);
  });

  test('a CA directory is read again when a file is added to it', () => {
    const dir = path.join(tmp, 'growing-dir');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'a.pem'), pki.otherCa.certPem);
    const before = planTls('a', { caCertDir: dir }).nodeOptions.secureContext;
    assert.equal(planTls('a', { caCertDir: dir }).nodeOptions.secureContext, before);
    writeFileSync(path.join(dir, 'b.pem'), pki.caCertPem);
    assert.notEqual(planTls('a', { caCertDir: dir }).nodeOptions.secureContext, before);
  });

  test('the default trust context is built once and shared', () => {
    assert.equal(planTls('a', {}).nodeOptions.secureContext, planTls('b', {}).nodeOptions.secureContext);
  });
});

describe('validateTlsOptions', () => {
  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['certReqs', { certReqs: 'SOMETIMES' }, /certReqs must be/],
    ['versions', { sslMaximumVersion: 'SSLv3' }, /sslMaximumVersion must be one of/],
    ['min > max', { sslMinimumVersion: 'TLSv1.3', sslMaximumVersion: 'TLSv1.2' }, /below/],
    ['keyFile alone', { keyFile: '/k.pem' }, /keyFile needs certFile/],
    ['keyData alone', { keyData: 'x' }, /keyData needs certData/],
    ['both certs', { certFile: '/c', certData: 'c' }, /not both/],
    ['caCerts type', { caCerts: 42 }, /caCerts must be a string/],
    ['alpn', { alpnProtocols: 'h2' }, /alpnProtocols must be an array/],
    ['sslContext', { sslContext: { kind: 'nope' } }, /sslContext must come from/],
    ['context clash', { sslContext: tls.createSecureContext(), ciphers: 'X' }, /ciphers cannot be applied/],
  ];
  for (const [name, options, message] of bad) {
    test(`rejects ${name}`, () => {
      assert.throws(() => validateTlsOptions(options, 'X'), message);
    });
  }

  test('a fingerprint of the wrong length or not hex is an SSLError', () => {
    assert.throws(() => validateTlsOptions({ assertFingerprint: 'abc' }, 'X'), SSLError);
    assert.throws(() => validateTlsOptions({ assertFingerprint: 'g'.repeat(40) }, 'X'), /hex digits/);
  });

  test('createUrllib3Context validates its settings', () => {
    assert.throws(() => createUrllib3Context({ sslMinimumVersion: 'TLSv2' as 'TLSv1.3' }), TypeError);
    assert.throws(() => createUrllib3Context({ certReqs: 'X' as 'CERT_NONE' }), TypeError);
    assert.equal(createUrllib3Context().certReqs, 'CERT_REQUIRED');
  });
});

describe('checkFingerprint', () => {
  test('passes on the right digest and names both values otherwise', () => {
    const der = pki.server.certDer;
    const sha1 = createHash('sha1').update(der).digest();
    checkFingerprint(der, sha1, 'conn');
    assert.throws(
      () => checkFingerprint(der, Buffer.alloc(20), 'conn'),
      (err: unknown) =>
        err instanceof SSLError &&
        err.message.includes(`Expected "${'00'.repeat(20)}"`) &&
        err.message.includes(`got "${sha1.toString('hex')}"`),
    );
    assert.throws(() => checkFingerprint(null, sha1, 'conn'), /sent no certificate/);
  });
});

describe('wrapTlsError', () => {
  const ctx = { label: "HTTPSConnection(host='h', port=443)", hostname: 'h', port: 443 };
  const nodeError = (code: string, message = code, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { code, ...extra }) as NodeJS.ErrnoException;

  test('keeps the Node error as cause and marks a connect error', () => {
    const cause = nodeError('CERT_HAS_EXPIRED', 'certificate has expired');
    const err = wrapTlsError(cause, ctx);
    assert.ok(err instanceof SSLError);
    assert.equal(err.cause, cause);
    assert.equal((err as SSLError).phase, 'connect');
    assert.equal(
      err.message,
      "HTTPSConnection(host='h', port=443): certificate verify failed: certificate has expired (CERT_HAS_EXPIRED)",
    );
  });

  test('a hostname mismatch names the checked name and the certificate names', () => {
    const err = wrapTlsError(
      nodeError('ERR_TLS_CERT_ALTNAME_INVALID', 'x', { host: 'h', cert: { subjectaltname: 'DNS:a, DNS:b' } }),
      ctx,
    );
    assert.match(
      err.message,
      /hostname mismatch, certificate is not valid for 'h'; it is valid for DNS:a, DNS:b/,
    );
  });

  test('a protocol version failure names the versions allowed', () => {
    const err = wrapTlsError(
      nodeError('ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol', { reason: 'unsupported protocol' }),
      {
        ...ctx,
        minVersion: 'TLSv1.3',
        maxVersion: null,
      },
    );
    assert.match(
      err.message,
      /protocol version: .* \(this client allows TLSv1\.3 to TLSv1\.3\) \(unsupported protocol\)/,
    );
  });

  test('an unknown failure keeps OpenSSL reason text', () => {
    const err = wrapTlsError(nodeError('ERR_SSL_SOMETHING', 'long\nstack', { reason: 'something odd' }), ctx);
    assert.match(err.message, /TLS handshake failed: something odd \(ERR_SSL_SOMETHING\)/);
  });
});
