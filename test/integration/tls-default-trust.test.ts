// Default trust (docs/api.md section 7): Node's bundled roots plus the operating
// system's CA bundle, found as OpenSSL finds it (SSL_CERT_FILE / SSL_CERT_DIR,
// else the distribution's bundle), read once per process; caCerts and
// friends replace it. The trust store is per process, so each case runs a
// small client in a child process with its own environment.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { startTlsServer, type TlsServer } from './tls-fixtures.js';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let pki: TlsTestPki;
let ourCa: TlsServer;
let otherCa: TlsServer;
let tmp: string;
let child: string;

// The child gets a list of [name, url, options] and prints { name: status or error }.
const CHILD = `
import { PoolManager } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/index.ts')).href)};
const cases = JSON.parse(process.argv[2]);
const out = {};
for (const [name, url, options, env] of cases) {
  if (env) Object.assign(process.env, env);
  const pm = new PoolManager({ retries: false, ...options });
  try {
    out[name] = (await pm.request('GET', url)).status;
  } catch (err) {
    out[name] = err.name + ': ' + err.message;
  } finally {
    await pm.close();
  }
}
process.stdout.write(JSON.stringify(out));
`;

before(async () => {
  pki = await makeTlsTestPki();
  ourCa = await startTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem });
  otherCa = await startTlsServer({ cert: pki.unknownCa.certPem, key: pki.unknownCa.keyPem });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-trust-'));
  child = path.join(tmp, 'client.mts');
  writeFileSync(child, CHILD);
});

after(async () => {
  await ourCa?.close();
  await otherCa?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

type Case = [name: string, url: string, options: Record<string, unknown>, env?: Record<string, string>];

async function runClient(
  env: Record<string, string>,
  cases: Case[],
): Promise<Record<string, number | string>> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const k of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_OPTIONS']) {
    if (!(k in env)) delete childEnv[k];
  }
  const { stdout } = await execFileAsync(
    process.execPath,
    ['--no-warnings', '--import', 'tsx', child, JSON.stringify(cases)],
    { cwd: ROOT, env: childEnv, timeout: 30_000 },
  );
  return JSON.parse(stdout) as Record<string, number | string>;
}

const ours = () => `https://localhost:${ourCa.port}/`;
const theirs = () => `https://localhost:${otherCa.port}/`;

// Each case is a child process of its own: run them side by side.
describe('default trust', { concurrency: true }, () => {
  test('the system bundle (SSL_CERT_FILE) is trusted by default, read once, and caCerts replaces it', async () => {
    const r = await runClient({ SSL_CERT_FILE: pki.caCert }, [
      ['default', ours(), {}],
      ['replaced by caCerts', ours(), { caCerts: pki.otherCa.cert }],
      ['replaced by caCertData', ours(), { caCertData: pki.otherCa.certPem }],
      // Changing the variable later changes nothing: the bundle was read once.
      ['cached', ours(), {}, { SSL_CERT_FILE: '/nonexistent.pem' }],
    ]);
    assert.equal(r.default, 200);
    assert.match(String(r['replaced by caCerts']), /^SSLError: .*unknown CA/);
    assert.match(String(r['replaced by caCertData']), /^SSLError: .*unknown CA/);
    assert.equal(r.cached, 200);
  });

  test("Node's own roots (with NODE_EXTRA_CA_CERTS) stay trusted beside the system bundle", async () => {
    const r = await runClient({ NODE_EXTRA_CA_CERTS: pki.caCert, SSL_CERT_FILE: pki.otherCa.cert }, [
      ['node store', ours(), {}],
      ['system bundle', theirs(), {}],
    ]);
    assert.deepEqual(r, { 'node store': 200, 'system bundle': 200 });
  });

  test('SSL_CERT_DIR names a directory of system CA certificates', async () => {
    const r = await runClient({ SSL_CERT_DIR: pki.caDir }, [
      ['dir', ours(), {}],
      ['not in dir', theirs(), {}],
    ]);
    assert.equal(r.dir, 200);
    assert.match(String(r['not in dir']), /^SSLError/);
  });
});
