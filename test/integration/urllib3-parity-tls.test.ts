// Issue 15 item 15 (urllib3 parity): TLS contexts as urllib3's seeds use
// them - loadDefaultCerts(), the verification mode, the host-name check and
// the version bounds read and set on the context - and the deprecated
// sslVersion option. Against an in-process HTTPS server. This file points
// SSL_CERT_FILE at the test CA before any TLS happens, so "the system's
// certificates" are the test CA here: run it in its own process (node:test
// runs each file in one).

import assert from 'node:assert/strict';
import tls from 'node:tls';
import { after, before, test } from 'node:test';
import {
  createUrllib3Context,
  HTTPSConnection,
  HTTPSConnectionPool,
  MaxRetryError,
  SSLError,
} from '../../src/index.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { startHttpsServer, type TestHttpsServer } from '../support/servers.js';
import { rejectionOf } from '../support/rejection.js';

let pki: TestPki;
let server: TestHttpsServer;
const savedCertFile = process.env.SSL_CERT_FILE;

before(async () => {
  pki = await makeTestPki();
  process.env.SSL_CERT_FILE = pki.caCert;
  server = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
});

after(async () => {
  if (savedCertFile === undefined) delete process.env.SSL_CERT_FILE;
  else process.env.SSL_CERT_FILE = savedCertFile;
  await server.close();
});

function poolWith(options: ConstructorParameters<typeof HTTPSConnectionPool>[1]): HTTPSConnectionPool {
  return new HTTPSConnectionPool('localhost', { port: server.port, retries: false, ...options });
}

test('issue 15 item 15: loadDefaultCerts() adds the system and Node roots to the CAs the context already holds', async () => {
  const ctx = createUrllib3Context();
  // A real root that did not sign the test server: with only it, verification fails.
  ctx.loadVerifyLocations({ cadata: tls.rootCertificates[0]! });
  {
    await using pool = poolWith({ sslContext: ctx });
    const err = await rejectionOf(pool.request('GET', '/echo'));
    assert.ok(
      err instanceof SSLError || (err instanceof MaxRetryError && err.reason instanceof SSLError),
      String(err),
    );
  }
  ctx.loadDefaultCerts();
  {
    await using pool = poolWith({ sslContext: ctx });
    const r = await pool.request('GET', '/echo');
    assert.equal(r.status, 200);
  }
});

test("issue 15 item 15: the context's verification mode, host-name check and version bounds can be read and set", async () => {
  const ctx = createUrllib3Context();
  assert.equal(ctx.verifyMode, 'CERT_REQUIRED');
  assert.equal(ctx.checkHostname, true);
  assert.equal(ctx.minimumVersion, 'TLSv1.2');
  assert.equal(ctx.maximumVersion, null);
  assert.throws(() => {
    ctx.verifyMode = 'CERT_NONE';
  }, /checkHostname/);
  ctx.checkHostname = false;
  ctx.verifyMode = 'CERT_NONE';
  assert.equal(ctx.verifyMode, 'CERT_NONE');
  assert.equal(createUrllib3Context({ certReqs: 'CERT_NONE' }).checkHostname, false);
  // The SSL_CERT_FILE trust is not consulted by a CERT_NONE context: any certificate goes.
  ctx.maximumVersion = 'TLSv1.2';
  {
    await using pool = poolWith({ sslContext: ctx });
    const r = await pool.request('GET', '/echo');
    assert.equal(r.connectionInfo?.tlsVersion, 'TLSv1.2');
  }
  ctx.checkHostname = true;
  assert.equal(
    ctx.verifyMode,
    'CERT_REQUIRED',
    'turning checkHostname on requires verification, as in Python',
  );
  ctx.maximumVersion = null;
  ctx.minimumVersion = 'TLSv1.3';
  {
    await using pool = poolWith({ sslContext: ctx });
    const r = await pool.request('GET', '/echo');
    assert.equal(r.connectionInfo?.tlsVersion, 'TLSv1.3');
  }
  assert.throws(() => {
    ctx.minimumVersion = 'SSLv3' as never;
  }, TypeError);
});

test('issue 15 item 15: sslVersion is accepted as urllib3 2 accepts it: deprecated, with a DeprecationWarning, mapped to the version bounds', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    await using pool = poolWith({ sslVersion: 'PROTOCOL_TLSv1_2' });
    const r = await pool.request('GET', '/echo');
    assert.equal(r.connectionInfo?.tlsVersion, 'TLSv1.2');
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(
      warnings.some((w) => w.name === 'DeprecationWarning' && /sslVersion/.test(w.message)),
      `warnings: ${warnings.map((w) => `${w.name}: ${w.message}`).join('; ')}`,
    );
  } finally {
    process.off('warning', onWarning);
  }
  assert.equal(createUrllib3Context({ sslVersion: 'TLSv1_2' }).maximumVersion, 'TLSv1.2');
  assert.equal(createUrllib3Context({ sslVersion: 'PROTOCOL_TLS_CLIENT' }).maximumVersion, null);
  assert.throws(
    () => new HTTPSConnection('localhost', { sslVersion: 'PROTOCOL_TLSv1_2', sslMinimumVersion: 'TLSv1.2' }),
    /not both/,
  );
  assert.throws(
    () => new HTTPSConnection('localhost', { sslVersion: 'PROTOCOL_SSLv3' }),
    /sslVersion must be one of/,
  );
});
