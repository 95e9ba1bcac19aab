import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionInfo, HttpVersion } from '../../../src/connection/connection-info.js';

test('forReuse copies every field but the set-up latencies, which it zeroes', () => {
  const info = new ConnectionInfo();
  info.establishedLatency = 1.5;
  info.resolutionLatency = 0.5;
  info.tlsHandshakeLatency = 2;
  info.requestSentLatency = 0.25;
  info.httpVersion = HttpVersion.h2;
  info.destinationAddress = ['127.0.0.1', 443];
  info.cipher = 'TLS_AES_128_GCM_SHA256';
  info.tlsVersion = 'TLSv1.3';
  info.certificateDer = Buffer.from([1, 2]);
  info.certificateDict = { subject: { CN: 'a' } } as never;
  info.issuerCertificateDer = Buffer.from([3]);
  info.issuerCertificateDict = { subject: { CN: 'ca' } } as never;
  const reused = info.forReuse();
  assert.ok(reused instanceof ConnectionInfo);
  assert.notEqual(reused, info);
  const latencies = new Set([
    'establishedLatency',
    'resolutionLatency',
    'tlsHandshakeLatency',
    'requestSentLatency',
  ]);
  for (const key of Object.keys(info) as Array<keyof ConnectionInfo>) {
    if (latencies.has(key)) assert.equal(reused[key], 0, key);
    else assert.equal(reused[key], info[key], key);
  }
  assert.deepEqual(Object.keys(reused), Object.keys(info));
  assert.equal(reused.isEncrypted(), true);
});
