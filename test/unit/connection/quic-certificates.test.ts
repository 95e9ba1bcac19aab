// The certificate fields an HTTP/3 connection reports (docs/api.md section
// 11), from the DER chain the QUIC handshake gave: a server that verifies
// nothing may be sent any bytes as an intermediate; they must not fail the
// dial.

import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { test } from 'node:test';
import { ConnectionInfo } from '../../../src/connection/connection-info.js';
import { fillCertificates } from '../../../src/connection/quic-dialer.js';
import { makeTlsTestPki } from '../../support/certs.js';

test('a chain whose issuer is not a certificate keeps its DER and a null dictionary; the leaf is described', async () => {
  const pki = await makeTlsTestPki();
  const leaf = Buffer.from(new X509Certificate(pki.server.certPem).raw);
  const info = new ConnectionInfo();
  fillCertificates(info, [leaf, Buffer.from('not a certificate')]);
  assert.equal(info.certificateDer, leaf);
  assert.match(String(info.certificateDict?.subjectaltname), /localhost/);
  assert.deepEqual(info.issuerCertificateDer, Buffer.from('not a certificate'));
  assert.equal(info.issuerCertificateDict, null);
});
