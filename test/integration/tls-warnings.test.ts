// disableWarnings() (docs/api.md sections 0 and 12): it silences
// InsecureRequestWarning for the whole process, so these tests live in a file
// of their own and run in order: first a warning type that does not match,
// then InsecureRequestWarning by name, then everything.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { disableWarnings, PoolManager } from '../../src/index.js';
import { warnOnce } from '../../src/warnings.js';
import { makeTlsTestPki } from '../support/certs.js';
import { LoopbackResolver, startTlsServer, type TlsServer, warningsDuring } from './tls-fixtures.js';

let server: TlsServer;

before(async () => {
  const pki = await makeTlsTestPki();
  server = await startTlsServer({ cert: pki.unknownCa.certPem, key: pki.unknownCa.keyPem });
});

after(async () => {
  await server?.close();
});

async function insecureGet(host: string): Promise<string[]> {
  const warnings = await warningsDuring('InsecureRequestWarning', async () => {
    await using pm = new PoolManager({ resolver: new LoopbackResolver(), certReqs: 'CERT_NONE' });
    assert.equal((await pm.request('GET', `https://${host}:${server.port}/`)).status, 200);
  });
  return warnings.map((w) => w.message);
}

test('CERT_NONE warns while warnings are on, and disabling another type changes nothing', async () => {
  disableWarnings('SomeOtherWarning');
  const messages = await insecureGet('on.test');
  assert.equal(messages.length, 1);
  assert.match(messages[0]!, /Unverified HTTPS request is being made to host 'on\.test'/);
});

test("disableWarnings('InsecureRequestWarning') silences it and only it", async () => {
  disableWarnings('InsecureRequestWarning');
  assert.deepEqual(await insecureGet('by-type.test'), []);
  const other = await warningsDuring('ThirdWarning', async () =>
    warnOnce('ThirdWarning', 'k1', 'still here'),
  );
  assert.deepEqual(
    other.map((w) => w.message),
    ['still here'],
  );
});

test('disableWarnings() silences every warning', async () => {
  disableWarnings();
  assert.deepEqual(await insecureGet('all.test'), []);
  const other = await warningsDuring('ThirdWarning', async () => warnOnce('ThirdWarning', 'k2', 'gone'));
  assert.deepEqual(other, []);
});
