// Test certificates made at test time with the `openssl` CLI: a CA and leaf
// certificates it signs. Nothing is checked in, so nothing expires in the
// repository and no private key is ever committed.
//
// Leaves are signed with `openssl ca` rather than `openssl x509 -req` because
// only `ca` can set an arbitrary validity window (OpenSSL 3.0 cannot backdate
// with `x509`), which is what expired and not-yet-valid certificates need.
// Adding a new kind of certificate (expired, wrong host, client) is one more
// issueCertificate() call in makeTestPki() with different IssueOptions.
//
// Keys are EC P-256: generating them is instant, unlike RSA.
//
// makeTlsTestPki() adds, on top of makeTestPki(), everything the TLS tests
// need: expired, not-yet-valid, wrong-host, IP-only and SAN-less server
// certificates, a second CA nobody trusts and a certificate it signed, and
// client certificates (one with a password-protected key).
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export interface CertificateAuthority {
  dir: string;
  /** path of the CA certificate (PEM) */
  cert: string;
  /** path of the CA private key (PEM) */
  key: string;
  certPem: string;
  /** path of the openssl config that holds the CA's database settings */
  config: string;
}

export interface IssuedCertificate {
  /** path of the certificate (PEM) */
  cert: string;
  /** path of the private key (PEM) */
  key: string;
  certPem: string;
  keyPem: string;
  /** the certificate in DER form */
  certDer: Buffer;
  /** `<name>.enc.key` when IssueOptions.keyPassword was given */
  encryptedKey?: string;
  encryptedKeyPem?: string;
}

export interface IssueOptions {
  /** file stem inside the CA's directory: `<name>.pem`, `<name>.key` */
  name: string;
  commonName: string;
  /** subjectAltName entries in openssl syntax, e.g. `DNS:localhost`, `IP:::1` */
  altNames?: string[];
  /** extendedKeyUsage; defaults to 'server' */
  usage?: 'server' | 'client';
  /** start of validity; defaults to one hour ago so clock skew does not matter */
  notBefore?: Date;
  /** end of validity; defaults to 825 days after notBefore */
  notAfter?: Date;
  /** also write `<name>.enc.key`: the key as encrypted PKCS#8 under this password */
  keyPassword?: string;
}

export interface TestPki {
  dir: string;
  ca: CertificateAuthority;
  caCert: string;
  caKey: string;
  caCertPem: string;
  /** certificate for `localhost`, 127.0.0.1 and ::1, signed by the CA */
  serverCert: string;
  serverKey: string;
  serverCertPem: string;
  serverKeyPem: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

/** OpenSSL's GeneralizedTime form: YYYYMMDDHHMMSSZ. */
function asn1Time(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:T]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export async function createCertificateAuthority(
  dir: string,
  commonName = 'urllib3-ts Test CA',
): Promise<CertificateAuthority> {
  mkdirSync(path.join(dir, 'issued'), { recursive: true });
  writeFileSync(path.join(dir, 'index.txt'), '');
  writeFileSync(path.join(dir, 'serial'), '1000\n');
  const config = path.join(dir, 'ca.cnf');
  // An own config, so results do not depend on the system's openssl.cnf.
  writeFileSync(
    config,
    [
      '[ req ]',
      'distinguished_name = dn',
      'prompt = no',
      '[ dn ]',
      'CN = unused',
      '[ v3_ca ]',
      'basicConstraints = critical, CA:TRUE',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      'authorityKeyIdentifier = keyid:always',
      '[ ca ]',
      'default_ca = test_ca',
      '[ test_ca ]',
      `database = ${path.join(dir, 'index.txt')}`,
      `new_certs_dir = ${path.join(dir, 'issued')}`,
      `serial = ${path.join(dir, 'serial')}`,
      'default_md = sha256',
      'policy = policy_any',
      // Several leaves share a subject (e.g. a valid and an expired `localhost`).
      'unique_subject = no',
      'copy_extensions = none',
      '[ policy_any ]',
      'commonName = supplied',
      '',
    ].join('\n'),
  );
  const cert = path.join(dir, 'ca.pem');
  const key = path.join(dir, 'ca.key');
  await openssl(
    [
      'req',
      '-x509',
      '-config',
      config,
      '-extensions',
      'v3_ca',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '3650',
      '-subj',
      `/CN=${commonName}`,
    ],
    dir,
  );
  return { dir, cert, key, certPem: readFileSync(cert, 'utf8'), config };
}

// `openssl ca` rewrites the CA's index and serial files, so signing with one
// CA must not overlap; making keys and requests may.
const signQueues = new WeakMap<CertificateAuthority, Promise<unknown>>();

function serialised<T>(ca: CertificateAuthority, step: () => Promise<T>): Promise<T> {
  const previous = signQueues.get(ca) ?? Promise.resolve();
  const next = previous.catch(() => {}).then(step);
  signQueues.set(ca, next);
  return next;
}

export async function issueCertificate(
  ca: CertificateAuthority,
  opts: IssueOptions,
): Promise<IssuedCertificate> {
  const { dir } = ca;
  const key = path.join(dir, `${opts.name}.key`);
  const csr = path.join(dir, `${opts.name}.csr`);
  const cert = path.join(dir, `${opts.name}.pem`);
  const ext = path.join(dir, `${opts.name}.ext`);
  const notBefore = opts.notBefore ?? new Date(Date.now() - 3600_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 825 * 86400_000);
  const lines = [
    '[ leaf ]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    `extendedKeyUsage = ${opts.usage === 'client' ? 'clientAuth' : 'serverAuth'}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
  ];
  if (opts.altNames?.length) lines.push(`subjectAltName = ${opts.altNames.join(', ')}`);
  writeFileSync(ext, `${lines.join('\n')}\n`);

  await openssl(
    [
      'req',
      '-new',
      '-config',
      ca.config,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${opts.commonName}`,
    ],
    dir,
  );
  await serialised(ca, () =>
    openssl(
      [
        'ca',
        '-batch',
        '-notext',
        '-config',
        ca.config,
        '-cert',
        ca.cert,
        '-keyfile',
        ca.key,
        '-in',
        csr,
        '-out',
        cert,
        '-extfile',
        ext,
        '-extensions',
        'leaf',
        '-startdate',
        asn1Time(notBefore),
        '-enddate',
        asn1Time(notAfter),
      ],
      dir,
    ),
  );
  const certPem = readFileSync(cert, 'utf8');
  const issued: IssuedCertificate = {
    cert,
    key,
    certPem,
    keyPem: readFileSync(key, 'utf8'),
    certDer: Buffer.from(new X509Certificate(certPem).raw),
  };
  if (opts.keyPassword !== undefined) {
    const encrypted = path.join(dir, `${opts.name}.enc.key`);
    await openssl(
      [
        'pkcs8',
        '-topk8',
        '-in',
        key,
        '-out',
        encrypted,
        '-v2',
        'aes-256-cbc',
        '-passout',
        `pass:${opts.keyPassword}`,
      ],
      dir,
    );
    issued.encryptedKey = encrypted;
    issued.encryptedKeyPem = readFileSync(encrypted, 'utf8');
  }
  return issued;
}

async function buildPki(dir: string): Promise<TestPki> {
  const ca = await createCertificateAuthority(dir);
  const server = await issueCertificate(ca, {
    name: 'server',
    commonName: 'localhost',
    altNames: ['DNS:localhost', 'IP:127.0.0.1', 'IP:::1'],
  });
  return {
    dir,
    ca,
    caCert: ca.cert,
    caKey: ca.key,
    caCertPem: ca.certPem,
    serverCert: server.cert,
    serverKey: server.key,
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
  };
}

const cache = new Map<string, Promise<TestPki>>();
const ownedDirs: string[] = [];
let exitHookInstalled = false;

/**
 * The test PKI, generated once per process (per `dir`). Without `dir` it lives
 * in a fresh temporary directory that is removed when the process exits.
 */
export function makeTestPki(dir?: string): Promise<TestPki> {
  const cacheKey = dir ?? '';
  const cached = cache.get(cacheKey);
  if (cached) return cached;
  let target = dir;
  if (target === undefined) {
    target = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-pki-'));
    ownedDirs.push(target);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      const removeDirs = () => {
        for (const d of ownedDirs.splice(0)) rmSync(d, { recursive: true, force: true });
      };
      process.on('exit', removeDirs);
      // A signal's default action skips 'exit' handlers (a test runner's
      // timeout sends SIGTERM): clean up, then re-raise unless another
      // listener will deal with the signal.
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
        process.once(signal, () => {
          removeDirs();
          if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
        });
      }
    }
  } else {
    mkdirSync(target, { recursive: true });
  }
  const pending = buildPki(target);
  cache.set(cacheKey, pending);
  // A failed run (e.g. openssl missing) must not poison later calls.
  pending.catch(() => cache.delete(cacheKey));
  return pending;
}

/** A self-signed server certificate (not a CA): `<name>.pem` / `<name>.key` in `dir`. */
export async function selfSignedCertificate(
  dir: string,
  name: string,
  commonName: string,
  altNames: string[],
): Promise<IssuedCertificate> {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}.key`);
  const config = path.join(dir, `${name}.cnf`);
  writeFileSync(config, '[ req ]\ndistinguished_name = dn\nprompt = no\n[ dn ]\nCN = unused\n');
  await openssl(
    [
      'req',
      '-x509',
      '-config',
      config,
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '825',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-addext',
      `subjectAltName=${altNames.join(',')}`,
    ],
    dir,
  );
  const certPem = readFileSync(cert, 'utf8');
  return {
    cert,
    key,
    certPem,
    keyPem: readFileSync(key, 'utf8'),
    certDer: Buffer.from(new X509Certificate(certPem).raw),
  };
}

// ---------------------------------------------------------------------------
// the TLS test set

export interface TlsTestPki extends TestPki {
  /** the test CA certificate in DER form */
  caCertDer: Buffer;
  /** a directory whose only file is the test CA certificate (for caCertDir) */
  caDir: string;
  /** the `localhost` / 127.0.0.1 / ::1 server certificate of makeTestPki() */
  server: IssuedCertificate;
  /** `localhost`, valid until a year ago */
  expired: IssuedCertificate;
  /** `localhost`, valid from a year from now */
  notYetValid: IssuedCertificate;
  /** only `wrong.example` and `*.wrong.example` */
  wrongHost: IssuedCertificate;
  /** only the address 127.0.0.1, no DNS name */
  ipOnly: IssuedCertificate;
  /** CN=localhost without any subjectAltName (urllib3 v2 does not match the CN) */
  noSan: IssuedCertificate;
  /** a self-signed `localhost` / 127.0.0.1 server certificate (its own issuer, no CA) */
  selfSigned: IssuedCertificate;
  /** a second CA that nothing trusts */
  otherCa: CertificateAuthority;
  /** `localhost` signed by otherCa */
  unknownCa: IssuedCertificate;
  /** a client certificate (CN=urllib3-ts client) from the test CA; its key also exists encrypted */
  client: IssuedCertificate & { encryptedKey: string; encryptedKeyPem: string };
  /** the password of client.encryptedKey */
  clientKeyPassword: string;
  /** client certificate and key concatenated in one PEM file */
  clientCombined: string;
  /** a client certificate from otherCa, which servers trusting the test CA reject */
  otherClient: IssuedCertificate;
}

const DAY = 86400_000;

async function buildTlsPki(base: TestPki): Promise<TlsTestPki> {
  const { ca } = base;
  const now = Date.now();
  const otherCa = createCertificateAuthority(path.join(base.dir, 'other-ca'), 'urllib3-ts Unknown CA');
  const clientKeyPassword = 'correct horse battery staple';
  const [expired, notYetValid, wrongHost, ipOnly, noSan, client] = await Promise.all([
    issueCertificate(ca, {
      name: 'expired',
      commonName: 'localhost',
      altNames: ['DNS:localhost', 'IP:127.0.0.1'],
      notBefore: new Date(now - 730 * DAY),
      notAfter: new Date(now - 365 * DAY),
    }),
    issueCertificate(ca, {
      name: 'not-yet-valid',
      commonName: 'localhost',
      altNames: ['DNS:localhost', 'IP:127.0.0.1'],
      notBefore: new Date(now + 365 * DAY),
      notAfter: new Date(now + 730 * DAY),
    }),
    issueCertificate(ca, {
      name: 'wrong-host',
      commonName: 'wrong.example',
      altNames: ['DNS:wrong.example', 'DNS:*.wrong.example'],
    }),
    issueCertificate(ca, { name: 'ip-only', commonName: '127.0.0.1', altNames: ['IP:127.0.0.1'] }),
    issueCertificate(ca, { name: 'no-san', commonName: 'localhost' }),
    issueCertificate(ca, {
      name: 'client',
      commonName: 'urllib3-ts client',
      usage: 'client',
      keyPassword: clientKeyPassword,
    }),
  ]);
  const other = await otherCa;
  const [unknownCa, otherClient] = await Promise.all([
    issueCertificate(other, {
      name: 'unknown-ca',
      commonName: 'localhost',
      altNames: ['DNS:localhost', 'IP:127.0.0.1'],
    }),
    issueCertificate(other, { name: 'other-client', commonName: 'stranger', usage: 'client' }),
  ]);
  const selfSigned = await selfSignedCertificate(base.dir, 'self-signed', 'localhost', [
    'DNS:localhost',
    'IP:127.0.0.1',
  ]);
  const caDir = path.join(base.dir, 'ca-dir');
  mkdirSync(caDir, { recursive: true });
  writeFileSync(path.join(caDir, 'test-ca.pem'), base.caCertPem);
  const clientCombined = path.join(base.dir, 'client-combined.pem');
  writeFileSync(clientCombined, client.certPem + client.keyPem);
  return {
    ...base,
    caCertDer: Buffer.from(new X509Certificate(base.caCertPem).raw),
    caDir,
    server: {
      cert: base.serverCert,
      key: base.serverKey,
      certPem: base.serverCertPem,
      keyPem: base.serverKeyPem,
      certDer: Buffer.from(new X509Certificate(base.serverCertPem).raw),
    },
    expired,
    notYetValid,
    wrongHost,
    ipOnly,
    noSan,
    selfSigned,
    otherCa: other,
    unknownCa,
    client: client as TlsTestPki['client'],
    clientKeyPassword,
    clientCombined,
    otherClient,
  };
}

const tlsCache = new Map<string, Promise<TlsTestPki>>();

/** makeTestPki() plus the certificates the TLS tests need, generated once per process (per `dir`). */
export function makeTlsTestPki(dir?: string): Promise<TlsTestPki> {
  const cacheKey = dir ?? '';
  const cached = tlsCache.get(cacheKey);
  if (cached) return cached;
  const pending = makeTestPki(dir).then(buildTlsPki);
  tlsCache.set(cacheKey, pending);
  pending.catch(() => tlsCache.delete(cacheKey));
  return pending;
}
