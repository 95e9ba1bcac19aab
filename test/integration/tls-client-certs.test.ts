// Client certificates (docs/api.md section 7): certFile / keyFile / keyPassword
// from files, certData / keyData in memory (PEM or DER), against in-process
// servers that require a certificate from the test CA; and the SSLErrors when
// none, a foreign one, or an undecryptable key is offered.

import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { HTTPSConnection, type HTTPSConnectionOptions, ProtocolError, SSLError } from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import {
  LoopbackResolver,
  rejectionOf,
  startTlsServer,
  type TlsEcho,
  type TlsServer,
} from './tls-fixtures.js';

let pki: TlsTestPki;
let mtls: TlsServer;
let mtls12: TlsServer;

before(async () => {
  pki = await makeTlsTestPki();
  mtls = await startTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem, clientCa: pki.caCertPem });
  mtls12 = await startTlsServer({
    cert: pki.server.certPem,
    key: pki.server.keyPem,
    clientCa: pki.caCertPem,
    maxVersion: 'TLSv1.2',
  });
});

after(async () => {
  await mtls?.close();
  await mtls12?.close();
});

async function get(server: TlsServer, options: HTTPSConnectionOptions): Promise<TlsEcho> {
  const conn = new HTTPSConnection('localhost', {
    port: server.port,
    resolver: new LoopbackResolver(),
    caCerts: pki.caCert,
    ...options,
  });
  try {
    await conn.request('GET', '/whoami');
    const resp = await conn.getResponse();
    assert.equal(resp.status, 200);
    return resp.json() as TlsEcho;
  } finally {
    await conn.close();
  }
}

describe('client certificates from files', () => {
  test('certFile + keyFile present the certificate the server asked for', async () => {
    const echo = await get(mtls, { certFile: pki.client.cert, keyFile: pki.client.key });
    assert.equal(echo.clientCn, 'urllib3-ts client');
    assert.equal(echo.clientAuthorized, true);
  });

  test('an encrypted keyFile is opened with keyPassword', async () => {
    const echo = await get(mtls, {
      certFile: pki.client.cert,
      keyFile: pki.client.encryptedKey,
      keyPassword: pki.clientKeyPassword,
    });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('a wrong keyPassword is an SSLError that says so', async () => {
    const err = await rejectionOf(
      get(mtls, { certFile: pki.client.cert, keyFile: pki.client.encryptedKey, keyPassword: 'wrong' }),
    );
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /cannot decrypt the client key \(wrong or missing keyPassword\)/);
    assert.ok(err.cause instanceof Error);
  });

  test('an encrypted key without keyPassword is an SSLError, not a prompt', async () => {
    const err = await rejectionOf(get(mtls, { certFile: pki.client.cert, keyFile: pki.client.encryptedKey }));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /keyPassword/);
  });

  test('certFile holding both certificate and key needs no keyFile', async () => {
    const echo = await get(mtls, { certFile: pki.clientCombined });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('certFile without a key and without keyFile is an SSLError naming keyFile', async () => {
    const err = await rejectionOf(get(mtls, { certFile: pki.client.cert }));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /holds no private key; give keyFile/);
  });

  test('a certificate and key that do not belong together is an SSLError', async () => {
    const err = await rejectionOf(get(mtls, { certFile: pki.client.cert, keyFile: pki.server.key }));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /do not match/);
  });

  test('keyFile without certFile is a TypeError at construction', () => {
    assert.throws(
      () => new HTTPSConnection('localhost', { keyFile: pki.client.key }),
      /keyFile needs certFile/,
    );
  });
});

describe('client certificates in memory', () => {
  test('certData + keyData as PEM strings', async () => {
    const echo = await get(mtls, { certData: pki.client.certPem, keyData: pki.client.keyPem });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('certData + keyData as DER bytes', async () => {
    const keyDer = createPrivateKey(pki.client.keyPem).export({ format: 'der', type: 'pkcs8' });
    const echo = await get(mtls, { certData: new Uint8Array(pki.client.certDer), keyData: keyDer });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('an encrypted keyData with keyPassword', async () => {
    const echo = await get(mtls, {
      certData: pki.client.certPem,
      keyData: pki.client.encryptedKeyPem,
      keyPassword: pki.clientKeyPassword,
    });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('certData holding certificate and key needs no keyData', async () => {
    const echo = await get(mtls, { certData: Buffer.from(pki.client.certPem + pki.client.keyPem) });
    assert.equal(echo.clientCn, 'urllib3-ts client');
  });

  test('certFile and certData together are a TypeError', () => {
    assert.throws(
      () => new HTTPSConnection('localhost', { certFile: pki.client.cert, certData: pki.client.certPem }),
      /certFile or certData/,
    );
  });
});

describe('servers that refuse the client', () => {
  test('TLS 1.3: no certificate is an SSLError saying the server requires one', async () => {
    const err = await rejectionOf(get(mtls, {}));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /requires a client certificate/);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.equal((err as SSLError).phase, 'connect');
  });

  test('TLS 1.2: no certificate is an SSLError from the handshake', async () => {
    const err = await rejectionOf(get(mtls12, {}));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /handshake failure/);
  });

  test('a certificate from a CA the server does not trust is refused', async () => {
    const err = await rejectionOf(
      get(mtls12, { certFile: pki.otherClient.cert, keyFile: pki.otherClient.key }),
    );
    assert.ok(err instanceof SSLError || err instanceof ProtocolError, `${err.name}: ${err.message}`);
    // The same certificate from our CA goes through, so the refusal is about the issuer.
    const echo = await get(mtls12, { certFile: pki.client.cert, keyFile: pki.client.key });
    assert.equal(echo.clientAuthorized, true);
  });
});
