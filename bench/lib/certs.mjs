// Certificates for the HTTP/2 workload, made at bench start with the
// `openssl` CLI in a temporary directory: a CA and a server certificate for
// 127.0.0.1 and localhost that it signs. EC P-256 keys (instant to
// generate). Every client is given the CA explicitly and verifies the
// server as it would in production; nothing relies on the process trust
// store (the environment may set NODE_EXTRA_CA_CERTS) and nothing is
// checked in.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { findBinary } from './servers.mjs';

const run = promisify(execFile);

/**
 * { dir, caFile, caPem, certFile, keyFile, remove() }; throws when openssl
 * is missing or fails.
 */
export async function makeBenchCerts() {
  const openssl = findBinary('openssl');
  if (openssl === null)
    throw new Error('the HTTP/2 workload needs the openssl CLI (apt-get install openssl)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-bench-certs-'));
  const f = (name) => path.join(dir, name);
  const ossl = (args) => run(openssl, args, { cwd: dir, timeout: 20_000 });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await ossl([
      'req',
      '-x509',
      ...ec,
      '-keyout',
      f('ca.key'),
      '-out',
      f('ca.pem'),
      '-days',
      '7',
      '-subj',
      '/CN=urllib3-ts bench CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await ossl([
      'req',
      '-new',
      ...ec,
      '-keyout',
      f('server.key'),
      '-out',
      f('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    ]);
    writeFileSync(
      f('server.ext'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '',
      ].join('\n'),
    );
    await ossl([
      'x509',
      '-req',
      '-in',
      f('server.csr'),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '7',
      '-sha256',
      '-extfile',
      f('server.ext'),
      '-out',
      f('server.pem'),
    ]);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`openssl failed making the bench certificates: ${err.stderr || err.message}`);
  }
  return {
    dir,
    caFile: f('ca.pem'),
    caPem: readFileSync(f('ca.pem'), 'utf8'),
    certFile: f('server.pem'),
    keyFile: f('server.key'),
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
