// Certificate verification on HTTPSConnection (docs/api.md section 7): trust
// anchors (caCerts, caCertDir, caCertData as PEM or DER), every kind of bad
// certificate with the reason in the SSLError, the names checked
// (serverHostname, assertHostname, IP addresses, no commonName fallback),
// assertFingerprint, and CERT_NONE.

import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { HTTPSConnection, type HTTPSConnectionOptions, SSLError } from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import {
  LoopbackResolver,
  rejectionOf,
  startTlsServer,
  type TlsEcho,
  type TlsServer,
  type TlsServerOptions,
  warningsDuring,
} from './tls-fixtures.js';

let pki: TlsTestPki;
const servers: TlsServer[] = [];

async function serve(cert: { certPem: string; keyPem: string }, extra?: Partial<TlsServerOptions>) {
  const s = await startTlsServer({ cert: cert.certPem, key: cert.keyPem, ...extra });
  servers.push(s);
  return s;
}

/** One GET over a fresh HTTPSConnection; resolves with the echo and the connection's isVerified. */
async function get(
  host: string,
  server: TlsServer,
  options: HTTPSConnectionOptions = {},
): Promise<{ echo: TlsEcho; isVerified: boolean; conn: HTTPSConnection }> {
  const conn = new HTTPSConnection(host, { port: server.port, resolver: new LoopbackResolver(), ...options });
  try {
    await conn.request('GET', '/check');
    const resp = await conn.getResponse();
    assert.equal(resp.status, 200);
    return { echo: resp.json() as TlsEcho, isVerified: conn.isVerified, conn };
  } finally {
    await conn.close();
  }
}

/** The SSLError a GET ends with. */
async function sslFailure(
  host: string,
  server: TlsServer,
  options: HTTPSConnectionOptions = {},
): Promise<SSLError> {
  const err = await rejectionOf(get(host, server, options));
  assert.ok(err instanceof SSLError, `expected SSLError, got ${err.name}: ${err.message}`);
  assert.equal((err as SSLError).phase, 'connect', 'a TLS failure is a connect error');
  return err;
}

function causeCode(err: Error): string | undefined {
  return (err.cause as NodeJS.ErrnoException | undefined)?.code;
}

before(async () => {
  pki = await makeTlsTestPki();
});

after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

describe('trust anchors', () => {
  let server: TlsServer;
  before(async () => {
    server = await serve(pki.server);
  });

  test('without trust anchors the test CA is unknown and the SSLError says so', async () => {
    const err = await sslFailure('localhost', server);
    assert.match(err.message, /certificate verify failed: .*unknown CA/);
    assert.match(err.message, /host='localhost'/);
    assert.match(err.message, new RegExp(`port=${server.port}`));
    assert.equal(causeCode(err), 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  test('caCerts (a PEM file) verifies the server and isVerified is true', async () => {
    const r = await get('localhost', server, { caCerts: pki.caCert });
    assert.equal(r.isVerified, true);
    assert.equal(r.echo.sni, 'localhost');
  });

  test('caCertDir (a directory of PEM files) verifies the server', async () => {
    const r = await get('localhost', server, { caCertDir: pki.caDir });
    assert.equal(r.isVerified, true);
  });

  test('caCertData as a PEM string verifies the server', async () => {
    const r = await get('localhost', server, { caCertData: pki.caCertPem });
    assert.equal(r.isVerified, true);
  });

  test('caCertData as PEM bytes verifies the server', async () => {
    const r = await get('localhost', server, { caCertData: Buffer.from(pki.caCertPem) });
    assert.equal(r.isVerified, true);
  });

  test('caCertData as DER bytes verifies the server', async () => {
    const r = await get('localhost', server, { caCertData: pki.caCertDer });
    assert.equal(r.isVerified, true);
  });

  test('caCertData as several concatenated DER certificates trusts each of them', async () => {
    const otherDer = Buffer.from(new X509Certificate(pki.otherCa.certPem).raw);
    const both = new Uint8Array(Buffer.concat([otherDer, pki.caCertDer]));
    const r = await get('localhost', server, { caCertData: both });
    assert.equal(r.isVerified, true);
  });

  test('caCertData that is not a certificate is an SSLError naming the option', async () => {
    const err = await sslFailure('localhost', server, { caCertData: Buffer.from([1, 2, 3, 4]) });
    assert.match(err.message, /caCertData/);
    const noPem = await sslFailure('localhost', server, { caCertData: 'not a certificate' });
    assert.match(noPem.message, /caCertData contains no certificate/);
  });

  test('a caCerts file that does not exist is an SSLError with the file name and the Node error as cause', async () => {
    const err = await sslFailure('localhost', server, { caCerts: '/nonexistent/ca.pem' });
    assert.match(err.message, /\/nonexistent\/ca\.pem/);
    assert.equal(causeCode(err), 'ENOENT');
  });

  test('CA options replace each other only by union: caCerts of another CA plus caCertData of ours verifies', async () => {
    const r = await get('localhost', server, { caCerts: pki.otherCa.cert, caCertData: pki.caCertPem });
    assert.equal(r.isVerified, true);
    const err = await sslFailure('localhost', server, { caCerts: pki.otherCa.cert });
    assert.match(err.message, /unknown CA/);
  });
});

describe('bad certificates name their reason', () => {
  test('an expired certificate', async () => {
    const server = await serve(pki.expired);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /certificate verify failed: certificate has expired/);
    assert.equal(causeCode(err), 'CERT_HAS_EXPIRED');
  });

  test('a certificate that is not valid yet', async () => {
    const server = await serve(pki.notYetValid);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /certificate is not yet valid/);
    assert.equal(causeCode(err), 'CERT_NOT_YET_VALID');
  });

  test('a self-signed certificate', async () => {
    const server = await serve(pki.selfSigned);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /self-signed certificate/);
    assert.equal(causeCode(err), 'DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  test('a certificate from an unknown CA', async () => {
    const server = await serve(pki.unknownCa);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /unknown CA/);
  });

  test('a certificate for another host names the host and the names the certificate has', async () => {
    const server = await serve(pki.wrongHost);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /hostname mismatch, certificate is not valid for 'localhost'/);
    assert.match(err.message, /DNS:wrong\.example, DNS:\*\.wrong\.example/);
    assert.equal(causeCode(err), 'ERR_TLS_CERT_ALTNAME_INVALID');
  });

  test('a certificate without subjectAltName is refused even when its commonName matches (urllib3 v2)', async () => {
    const server = await serve(pki.noSan);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /hostname mismatch/);
    assert.match(err.message, /no subjectAltName/);
  });

  test('the SSLError cause is the Node error and the server got no request', async () => {
    const server = await serve(pki.expired);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.ok(err.cause instanceof Error);
    assert.equal(server.connections.length, 0);
  });
});

describe('names: IP addresses, serverHostname, assertHostname', () => {
  test('an IP-address SAN verifies a connection to that address, and no SNI is sent for it', async () => {
    const server = await serve(pki.ipOnly);
    const r = await get('127.0.0.1', server, { caCerts: pki.caCert });
    assert.equal(r.isVerified, true);
    assert.equal(r.echo.sni, null);
  });

  test('an IP-address-only certificate does not verify a host name', async () => {
    const server = await serve(pki.ipOnly);
    const err = await sslFailure('localhost', server, { caCerts: pki.caCert });
    assert.match(err.message, /hostname mismatch.*'localhost'.*IP Address:127\.0\.0\.1/);
  });

  test('serverHostname is sent in SNI instead of the host', async () => {
    const server = await serve(pki.server, { sniCerts: { 'api.wrong.example': pki.wrongHost } });
    const r = await get('127.0.0.1', server, { caCerts: pki.caCert, serverHostname: 'api.wrong.example' });
    assert.equal(r.echo.sni, 'api.wrong.example');
    assert.equal(r.isVerified, true);
  });

  test('serverHostname is the name the certificate is checked against', async () => {
    const server = await serve(pki.wrongHost);
    await sslFailure('127.0.0.1', server, { caCerts: pki.caCert });
    const r = await get('127.0.0.1', server, { caCerts: pki.caCert, serverHostname: 'api.wrong.example' });
    assert.equal(r.isVerified, true);
  });

  test('assertHostname checks another name while SNI still carries the host', async () => {
    const server = await serve(pki.wrongHost);
    const r = await get('localhost', server, { caCerts: pki.caCert, assertHostname: 'wrong.example' });
    assert.equal(r.echo.sni, 'localhost');
    assert.equal(r.isVerified, true);
    const err = await sslFailure('localhost', server, {
      caCerts: pki.caCert,
      assertHostname: 'other.example',
    });
    assert.match(err.message, /not valid for 'other\.example'/);
  });

  test('assertHostname: false skips the name check only', async () => {
    const wrong = await serve(pki.wrongHost);
    const r = await get('localhost', wrong, { caCerts: pki.caCert, assertHostname: false });
    assert.equal(r.isVerified, true);
    const expired = await serve(pki.expired);
    const err = await sslFailure('localhost', expired, { caCerts: pki.caCert, assertHostname: false });
    assert.match(err.message, /expired/);
    const unknown = await serve(pki.unknownCa);
    await sslFailure('localhost', unknown, { caCerts: pki.caCert, assertHostname: false });
  });

  test('an empty assertHostname is a TypeError at construction', () => {
    assert.throws(() => new HTTPSConnection('localhost', { assertHostname: '' }), TypeError);
  });
});

describe('assertFingerprint', () => {
  let selfSigned: TlsServer;
  const sha256 = () => createHash('sha256').update(pki.selfSigned.certDer).digest('hex');
  const sha1 = () => createHash('sha1').update(pki.selfSigned.certDer).digest('hex');
  const colons = (hex: string) => hex.toUpperCase().match(/../g)!.join(':');

  before(async () => {
    selfSigned = await serve(pki.selfSigned);
  });

  test('a SHA-256 fingerprint with colons pins a self-signed certificate under CERT_NONE, and counts as verified', async () => {
    const warnings = await warningsDuring('InsecureRequestWarning', async () => {
      const r = await get('pinned-256.test', selfSigned, {
        certReqs: 'CERT_NONE',
        assertFingerprint: colons(sha256()),
      });
      assert.equal(r.isVerified, true);
    });
    assert.deepEqual(
      warnings.filter((w) => w.message.includes('pinned-256.test')),
      [],
    );
  });

  test('a SHA-1 fingerprint without colons pins the certificate', async () => {
    const r = await get('localhost', selfSigned, { certReqs: 'CERT_NONE', assertFingerprint: sha1() });
    assert.equal(r.isVerified, true);
  });

  test('a fingerprint that does not match is an SSLError with both values', async () => {
    const wrong = 'ab'.repeat(32);
    const err = await sslFailure('localhost', selfSigned, {
      certReqs: 'CERT_NONE',
      assertFingerprint: wrong,
    });
    assert.match(err.message, /Fingerprints did not match/);
    assert.ok(err.message.includes(`Expected "${wrong}"`), err.message);
    assert.ok(err.message.includes(`got "${sha256()}"`), err.message);
  });

  test('a fingerprint replaces the name check but not chain verification', async () => {
    const wrongHost = await serve(pki.wrongHost);
    const fp = createHash('sha256').update(pki.wrongHost.certDer).digest('hex');
    const r = await get('localhost', wrongHost, { caCerts: pki.caCert, assertFingerprint: fp });
    assert.equal(r.isVerified, true);
    const unknown = await serve(pki.unknownCa);
    const fpUnknown = createHash('sha256').update(pki.unknownCa.certDer).digest('hex');
    const err = await sslFailure('localhost', unknown, { caCerts: pki.caCert, assertFingerprint: fpUnknown });
    assert.match(err.message, /unknown CA/);
  });

  test('a fingerprint of the wrong length is a clear SSLError at construction', () => {
    assert.throws(
      () => new HTTPSConnection('localhost', { assertFingerprint: 'abcd' }),
      (err: unknown) =>
        err instanceof SSLError && /invalid length/.test(err.message) && /40.*64/.test(err.message),
    );
    assert.throws(() => new HTTPSConnection('localhost', { assertFingerprint: 'zz'.repeat(32) }), SSLError);
  });
});

describe("certReqs: 'CERT_NONE'", () => {
  test('connects to any certificate, isVerified is false and InsecureRequestWarning is emitted once per host', async () => {
    const server = await serve(pki.unknownCa);
    const warnings = await warningsDuring('InsecureRequestWarning', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await get('none-a.test', server, { certReqs: 'CERT_NONE' });
        assert.equal(r.isVerified, false);
      }
      await get('none-b.test', server, { certReqs: 'CERT_NONE' });
    });
    const mine = warnings.filter((w) => /none-[ab]\.test/.test(w.message));
    assert.deepEqual(
      mine.map((w) => /'(none-[ab]\.test)'/.exec(w.message)?.[1]),
      ['none-a.test', 'none-b.test'],
    );
  });

  test("'NONE' and 'REQUIRED' are accepted as urllib3 accepts them", async () => {
    const server = await serve(pki.unknownCa);
    const r = await get('localhost', server, { certReqs: 'NONE' });
    assert.equal(r.isVerified, false);
    await sslFailure('localhost', server, { certReqs: 'REQUIRED' });
  });

  test('an expired certificate is accepted under CERT_NONE', async () => {
    const server = await serve(pki.expired);
    const r = await get('wrong-name.test', server, { certReqs: 'CERT_NONE' });
    assert.equal(r.isVerified, false);
  });

  test('an unknown certReqs value is a TypeError at construction', () => {
    assert.throws(
      () => new HTTPSConnection('localhost', { certReqs: 'CERT_MAYBE' as 'CERT_NONE' }),
      /certReqs must be/,
    );
  });
});
