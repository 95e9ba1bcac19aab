// urllib3's TLS options (API.md section 7) turned into what tls.connect needs,
// plus the checks Node does not make the way urllib3 does (hostname matching
// without the commonName fallback, assertHostname, assertFingerprint).
//
// The expensive part of a TLS set-up is parsing CA certificates into a
// SecureContext (tens of ms for a full trust store), so contexts are cached
// by the exact bytes that went into them: files are re-read at every connect,
// as urllib3 does, and a rotated certificate gives a new context, but an
// unchanged configuration costs one hash. Default trust is Node's bundled
// roots plus the operating system's bundle, read once per process.
//
// Nothing here opens sockets: connect.ts does the handshake and
// connection.ts turns the result into ConnectionInfo and isVerified.

import { createHash, createPrivateKey, timingSafeEqual, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import tls, {
  type ConnectionOptions,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
} from 'node:tls';
import { debug } from '../debug.js';
import { SSLError } from '../errors.js';
import { markConnectError } from './connect.js';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** urllib3's cert_reqs; the short forms ('REQUIRED', 'NONE') are accepted as urllib3 does. */
export type CertReqs = 'CERT_REQUIRED' | 'CERT_NONE' | 'CERT_OPTIONAL' | 'REQUIRED' | 'NONE' | 'OPTIONAL';

export interface TlsOptions {
  /** 'CERT_REQUIRED' (default, or the sslContext's) verifies the chain and the name; 'CERT_NONE' verifies nothing. */
  certReqs?: CertReqs | null;
  /** A PEM file of CA certificates; replaces the default trust store. */
  caCerts?: string | null;
  /** A directory of PEM CA certificates (OpenSSL's CApath); replaces the default trust store. */
  caCertDir?: string | null;
  /** CA certificates in memory: PEM text, or DER bytes (one or several concatenated). */
  caCertData?: string | Uint8Array | null;
  /** Client certificate chain (PEM file); may also hold the key. */
  certFile?: string | null;
  /** Client private key (PEM file); defaults to certFile. */
  keyFile?: string | null;
  /** Password of an encrypted keyFile / keyData. */
  keyPassword?: string | null;
  /** Client certificate in memory (PEM, or DER bytes). */
  certData?: string | Uint8Array | null;
  /** Client private key in memory (PEM, or DER bytes); defaults to certData. */
  keyData?: string | Uint8Array | null;
  /** The name sent in SNI and checked against the certificate (default: the host). */
  serverHostname?: string | null;
  /** Check the certificate against this name instead, or `false` to skip only the name check. */
  assertHostname?: string | false | null;
  /** SHA-1 or SHA-256 of the server certificate (hex, colons optional); replaces the name check. */
  assertFingerprint?: string | null;
  sslMinimumVersion?: TlsVersion | null;
  sslMaximumVersion?: TlsVersion | null;
  /** OpenSSL cipher list (TLS 1.2 and below; TLS 1.3 suites by their TLS_ names). */
  ciphers?: string | null;
  /** A context from createUrllib3Context(), or a Node SecureContext used as is. */
  sslContext?: SecureContext | Urllib3Context | null;
  /** ALPN protocols offered (default ['http/1.1']). */
  alpnProtocols?: string[] | null;
}

export const TLS_OPTION_NAMES = [
  'certReqs',
  'caCerts',
  'caCertDir',
  'caCertData',
  'certFile',
  'keyFile',
  'keyPassword',
  'certData',
  'keyData',
  'serverHostname',
  'assertHostname',
  'assertFingerprint',
  'sslMinimumVersion',
  'sslMaximumVersion',
  'ciphers',
  'sslContext',
  'alpnProtocols',
] as const;

const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const DEFAULT_MIN_VERSION: TlsVersion = 'TLSv1.2';
const DEFAULT_ALPN: readonly string[] = ['http/1.1'];

// ---- createUrllib3Context ---------------------------------------------------------

export interface Urllib3ContextOptions {
  sslMinimumVersion?: TlsVersion | null;
  sslMaximumVersion?: TlsVersion | null;
  ciphers?: string | null;
  certReqs?: CertReqs | null;
}

/**
 * urllib3's SSLContext stand-in: protocol settings (versions, ciphers,
 * certReqs, ALPN) plus, optionally, trust anchors and a client certificate
 * loaded into it. Options given beside it on a connection, pool or manager
 * win over its settings; CA options beside it add to the CAs loaded into it.
 * Files are read when loaded, as Python's SSLContext does.
 */
export class Urllib3Context {
  readonly kind = 'urllib3-context' as const;
  sslMinimumVersion: TlsVersion;
  sslMaximumVersion: TlsVersion | null;
  ciphers: string | null;
  certReqs: CertReqs;
  alpnProtocols: string[] | null = null;
  /** @internal PEM CA certificates loaded with loadVerifyLocations(). */
  readonly _caPems: string[] = [];
  /** @internal Client chain loaded with loadCertChain(). */
  _certChain: { cert: Buffer; key: Buffer; passphrase: string | null } | null = null;

  constructor(options?: Urllib3ContextOptions) {
    this.sslMinimumVersion = options?.sslMinimumVersion ?? DEFAULT_MIN_VERSION;
    this.sslMaximumVersion = options?.sslMaximumVersion ?? null;
    this.ciphers = options?.ciphers ?? null;
    this.certReqs = options?.certReqs ?? 'CERT_REQUIRED';
    checkVersion(this.sslMinimumVersion, 'sslMinimumVersion');
    if (this.sslMaximumVersion !== null) checkVersion(this.sslMaximumVersion, 'sslMaximumVersion');
    resolveCertReqs(this.certReqs);
  }

  /** Trust these CAs (instead of the default store), like SSLContext.load_verify_locations. */
  loadVerifyLocations(locations: {
    cafile?: string | null;
    capath?: string | null;
    cadata?: string | Uint8Array | null;
  }): void {
    this._caPems.push(
      ...loadCaPems(
        locations.cafile ?? null,
        locations.capath ?? null,
        locations.cadata ?? null,
        'loadVerifyLocations',
      ),
    );
  }

  /** Present this client certificate, like SSLContext.load_cert_chain. */
  loadCertChain(certfile: string, options?: { keyfile?: string | null; password?: string | null }): void {
    const cert = readOrFail(certfile, 'loadCertChain certfile');
    const key = options?.keyfile
      ? readOrFail(options.keyfile, 'loadCertChain keyfile')
      : needKeyIn(cert, `certfile ${certfile}`, 'keyfile');
    const chain = { cert, key, passphrase: options?.password ?? null };
    // Fail here, as Python does, rather than at the first connection.
    buildSecureContext({
      ...EMPTY_MATERIAL,
      caPems: [],
      cert: chain.cert,
      key: chain.key,
      passphrase: chain.passphrase,
    });
    this._certChain = chain;
  }

  /** The ALPN protocols to offer, like SSLContext.set_alpn_protocols. */
  setAlpnProtocols(protocols: string[]): void {
    this.alpnProtocols = [...protocols];
  }
}

/** urllib3's create_urllib3_context(): TLS 1.2 minimum, verification on. */
export function createUrllib3Context(options?: Urllib3ContextOptions): Urllib3Context {
  return new Urllib3Context(options);
}

function isUrllib3Context(v: unknown): v is Urllib3Context {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'urllib3-context';
}

function isNodeSecureContext(v: unknown): v is SecureContext {
  return typeof v === 'object' && v !== null && !isUrllib3Context(v) && 'context' in v;
}

// ---- validation (construction time: no I/O) -------------------------------------------

function checkVersion(v: unknown, name: string): asserts v is TlsVersion {
  if (!VERSIONS.includes(v as TlsVersion)) {
    throw new TypeError(`${name} must be one of ${VERSIONS.join(', ')}, got ${String(v)}`);
  }
}

function resolveCertReqs(v: unknown): 'CERT_REQUIRED' | 'CERT_NONE' {
  switch (v) {
    case 'CERT_REQUIRED':
    case 'REQUIRED':
    // A client always receives the server's certificate, so "optional" verifies it (as OpenSSL does).
    case 'CERT_OPTIONAL':
    case 'OPTIONAL':
      return 'CERT_REQUIRED';
    case 'CERT_NONE':
    case 'NONE':
      return 'CERT_NONE';
    default:
      throw new TypeError(`certReqs must be 'CERT_REQUIRED' or 'CERT_NONE', got ${String(v)}`);
  }
}

/** Material that goes into a Node SecureContext; given beside a Node SecureContext it cannot apply. */
const CONTEXT_MATERIAL_OPTIONS = [
  'caCerts',
  'caCertDir',
  'caCertData',
  'certFile',
  'keyFile',
  'keyPassword',
  'certData',
  'keyData',
  'sslMinimumVersion',
  'sslMaximumVersion',
  'ciphers',
] as const;

/**
 * Checks option types and combinations without touching the file system, so
 * a bad configuration fails where it is written. Files are read at connect.
 */
export function validateTlsOptions(o: TlsOptions, where: string): void {
  const ctx = o.sslContext;
  if (ctx !== undefined && ctx !== null && !isUrllib3Context(ctx) && !isNodeSecureContext(ctx)) {
    throw new TypeError(
      `${where}: sslContext must come from createUrllib3Context() or tls.createSecureContext()`,
    );
  }
  if (isNodeSecureContext(ctx)) {
    const clash = CONTEXT_MATERIAL_OPTIONS.filter((k) => o[k] !== undefined && o[k] !== null);
    if (clash.length > 0) {
      throw new TypeError(
        `${where}: ${clash.join(', ')} cannot be applied to a Node SecureContext given as sslContext; ` +
          'put them into tls.createSecureContext() or use createUrllib3Context()',
      );
    }
  }
  if (o.certReqs !== undefined && o.certReqs !== null) resolveCertReqs(o.certReqs);
  if (o.sslMinimumVersion) checkVersion(o.sslMinimumVersion, 'sslMinimumVersion');
  if (o.sslMaximumVersion) checkVersion(o.sslMaximumVersion, 'sslMaximumVersion');
  const min = o.sslMinimumVersion ?? (isUrllib3Context(ctx) ? ctx.sslMinimumVersion : DEFAULT_MIN_VERSION);
  const max = o.sslMaximumVersion ?? (isUrllib3Context(ctx) ? ctx.sslMaximumVersion : null);
  if (max !== null && VERSIONS.indexOf(max) < VERSIONS.indexOf(min)) {
    throw new TypeError(`${where}: sslMaximumVersion ${max} is below sslMinimumVersion ${min}`);
  }
  for (const k of [
    'caCerts',
    'caCertDir',
    'certFile',
    'keyFile',
    'keyPassword',
    'serverHostname',
    'ciphers',
  ] as const) {
    const v = o[k];
    if (v !== undefined && v !== null && typeof v !== 'string') {
      throw new TypeError(`${where}: ${k} must be a string, got ${typeof v}`);
    }
  }
  for (const k of ['caCertData', 'certData', 'keyData'] as const) {
    const v = o[k];
    if (v !== undefined && v !== null && typeof v !== 'string' && !(v instanceof Uint8Array)) {
      throw new TypeError(`${where}: ${k} must be a string or a Uint8Array`);
    }
  }
  if (o.keyFile && !o.certFile)
    throw new TypeError(`${where}: keyFile needs certFile (the client certificate)`);
  if (o.keyData && !o.certData)
    throw new TypeError(`${where}: keyData needs certData (the client certificate)`);
  if (o.certFile && o.certData) throw new TypeError(`${where}: give certFile or certData, not both`);
  const ah = o.assertHostname;
  if (ah !== undefined && ah !== null && ah !== false && (typeof ah !== 'string' || ah === '')) {
    throw new TypeError(`${where}: assertHostname must be a host name, or false`);
  }
  if (o.alpnProtocols !== undefined && o.alpnProtocols !== null) {
    if (!Array.isArray(o.alpnProtocols) || o.alpnProtocols.some((p) => typeof p !== 'string' || p === '')) {
      throw new TypeError(`${where}: alpnProtocols must be an array of protocol names`);
    }
  }
  if (o.assertFingerprint !== undefined && o.assertFingerprint !== null)
    normaliseFingerprint(o.assertFingerprint);
}

// ---- default trust --------------------------------------------------------------------

/** Where distributions keep their CA bundle (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/macOS/BSD). */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

const PEM_CERT_RE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g;

function pemBlocks(text: string): string[] {
  return text.match(PEM_CERT_RE) ?? [];
}

/** A PEM block without its line breaks, to spot one certificate in two files (replaceAll beats a regex here). */
function pemKey(pem: string): string {
  return pem.replaceAll('\n', '').replaceAll('\r', '').replaceAll(' ', '');
}

export interface SystemTrust {
  /** The files and directories the certificates came from. */
  sources: string[];
  /** Their certificates (PEM), deduplicated. */
  certificates: string[];
}

/**
 * The operating system's CA certificates, found the way OpenSSL finds its
 * defaults: SSL_CERT_FILE / SSL_CERT_DIR when set, else the first bundle in
 * SYSTEM_CA_BUNDLES that exists.
 */
export function loadSystemTrust(
  env: NodeJS.ProcessEnv = process.env,
  bundles = SYSTEM_CA_BUNDLES,
): SystemTrust {
  const sources: string[] = [];
  const found: string[] = [];
  const seenFiles = new Set<string>();
  const fromFile = (file: string) => {
    try {
      const st = statSync(file);
      const id = `${st.dev}:${st.ino}`;
      if (!seenFiles.has(id)) found.push(...pemBlocks(readFileSync(file, 'latin1')));
      seenFiles.add(id);
      sources.push(file);
    } catch (err) {
      debug('cannot read CA bundle %s: %s', file, (err as Error).message);
    }
  };
  if (env.SSL_CERT_FILE) fromFile(env.SSL_CERT_FILE);
  for (const dir of (env.SSL_CERT_DIR ?? '').split(':').filter(Boolean)) {
    try {
      found.push(...readCaDir(dir, seenFiles));
      sources.push(dir);
    } catch (err) {
      debug('cannot read CA directory %s: %s', dir, (err as Error).message);
    }
  }
  if (sources.length === 0) {
    const bundle = bundles.find((f) => existsSync(f));
    if (bundle !== undefined) fromFile(bundle);
  }
  const seen = new Set<string>();
  const certificates = found.filter((p) => {
    const k = pemKey(p);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  return { sources, certificates };
}

let systemTrust: SystemTrust | null = null;
let trustExtras: string[] | null = null;

function getSystemTrust(): SystemTrust {
  if (systemTrust === null) {
    systemTrust = loadSystemTrust();
    debug(
      'system trust: %d certificates from %s',
      systemTrust.certificates.length,
      systemTrust.sources.join(', ') || '(none)',
    );
  }
  return systemTrust;
}

/** NODE_EXTRA_CA_CERTS, which Node adds to its own store at start-up. */
function nodeExtraCertificates(): string[] {
  const file = process.env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  try {
    return pemBlocks(readFileSync(file, 'latin1'));
  } catch {
    // Node itself only warns about an unreadable NODE_EXTRA_CA_CERTS.
    return [];
  }
}

/** Certificates of the default trust beyond Node's bundled roots: NODE_EXTRA_CA_CERTS and the system's. */
function getExtras(): string[] {
  if (trustExtras === null) {
    const seen = new Set(tls.rootCertificates.map(pemKey));
    trustExtras = [...nodeExtraCertificates(), ...getSystemTrust().certificates].filter((p) => {
      const k = pemKey(p);
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  return trustExtras;
}

/** Every certificate of the default trust: Node's bundled roots, NODE_EXTRA_CA_CERTS and the system's. */
export function defaultCaCertificates(): string[] {
  return [...tls.rootCertificates, ...getExtras()];
}

type NativeContext = { addCACert?: (pem: string) => void };

/**
 * A context trusting the default store. Contexts built without `ca` share
 * Node's bundled roots, parsed once per process; adding the few extra
 * certificates to (a copy of) that store costs a few milliseconds, where
 * handing every root to `ca` would parse them all again (25-45 ms). The
 * copy Node makes holds the bundled roots only, so NODE_EXTRA_CA_CERTS is
 * among the extras. When that native method is missing (another runtime),
 * the documented `ca` list is used instead.
 */
function defaultTrustContext(options: tls.SecureContextOptions): SecureContext {
  const extras = getExtras();
  const ctx = tls.createSecureContext(options);
  if (extras.length === 0) return ctx;
  const native = (ctx as SecureContext & { context?: NativeContext }).context;
  if (typeof native?.addCACert === 'function') {
    for (const pem of extras) native.addCACert(pem);
    return ctx;
  }
  return tls.createSecureContext({ ...options, ca: defaultCaCertificates() });
}

// ---- reading certificates and keys ---------------------------------------------------------

function readOrFail(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw markConnectError(
      new SSLError(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err }),
    );
  }
}

/**
 * The PEM certificates of every file in `dir` (OpenSSL's CApath), each file
 * read once even when several links point at it - /etc/ssl/certs links every
 * certificate twice and holds the whole bundle as well. `seen` carries the
 * files (device:inode) already read across calls.
 */
function readCaDir(dir: string, seen: Set<string> = new Set()): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    try {
      const p = join(dir, name);
      const st = statSync(p);
      const id = `${st.dev}:${st.ino}`;
      if (!st.isFile() || seen.has(id)) continue;
      seen.add(id);
      out.push(...pemBlocks(readFileSync(p, 'latin1')));
    } catch {
      // Unreadable entries and dangling links are skipped, as OpenSSL's lookup skips them.
    }
  }
  return out;
}

// CA files and directories are read at every connect (urllib3 semantics), but
// parsed again only when they changed: a file when its size, mtime or inode
// does, a directory when an entry is added, removed or renamed (which is how
// c_rehash and update-ca-certificates change one).
const caReadCache = new Map<string, { stamp: string; pems: string[] }>();

function statStamp(p: string): string {
  const st = statSync(p);
  return `${st.ino}:${st.size}:${st.mtimeMs}`;
}

function cachedCaRead(key: string, stampOf: () => string, read: () => string[]): string[] {
  const stamp = stampOf();
  const hit = caReadCache.get(key);
  if (hit !== undefined && hit.stamp === stamp) return hit.pems;
  const pems = read();
  caReadCache.set(key, { stamp, pems });
  if (caReadCache.size > 64) caReadCache.delete(caReadCache.keys().next().value as string);
  return pems;
}

function derToPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function looksLikePem(data: Uint8Array): boolean {
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN');
}

/** Splits concatenated DER certificates (each an ASN.1 SEQUENCE) into PEM blocks. */
function derCertificatesToPem(der: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < der.length) {
    if (der[i] !== 0x30 || i + 2 > der.length) throw new Error(`not DER at byte ${i}`);
    let len = der[i + 1]!;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + 2 + n > der.length) throw new Error(`bad DER length at byte ${i}`);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + der[i + 2 + k]!;
      header = 2 + n;
    }
    const end = i + header + len;
    if (end > der.length) throw new Error('truncated DER certificate');
    const one = der.subarray(i, end);
    new X509Certificate(one); // throws on anything that is not a certificate
    out.push(derToPem(one, 'CERTIFICATE'));
    i = end;
  }
  return out;
}

function caDataToPems(data: string | Uint8Array, where: string): string[] {
  let pems: string[];
  try {
    if (typeof data === 'string') pems = pemBlocks(data);
    else if (looksLikePem(data)) pems = pemBlocks(Buffer.from(data).toString('latin1'));
    else pems = derCertificatesToPem(data);
  } catch (err) {
    throw markConnectError(
      new SSLError(`${where}: caCertData is neither PEM nor DER certificates: ${(err as Error).message}`, {
        cause: err,
      }),
    );
  }
  if (pems.length === 0) throw markConnectError(new SSLError(`${where}: caCertData contains no certificate`));
  return pems;
}

function loadCaPems(
  cafile: string | null,
  capath: string | null,
  cadata: string | Uint8Array | null,
  where: string,
): string[] {
  const pems: string[] = [];
  if (cafile) {
    let found: string[];
    try {
      found = cachedCaRead(
        `f:${cafile}`,
        () => statStamp(cafile),
        () => pemBlocks(readFileSync(cafile, 'latin1')),
      );
    } catch (err) {
      throw markConnectError(
        new SSLError(`cannot read CA file ${cafile}: ${(err as Error).message}`, { cause: err }),
      );
    }
    if (found.length === 0)
      throw markConnectError(new SSLError(`${where}: CA file ${cafile} contains no PEM certificate`));
    pems.push(...found);
  }
  if (capath) {
    let found: string[];
    try {
      found = cachedCaRead(
        `d:${capath}`,
        () => statStamp(capath),
        () => readCaDir(capath),
      );
    } catch (err) {
      throw markConnectError(
        new SSLError(`${where}: cannot read CA directory ${capath}: ${(err as Error).message}`, {
          cause: err,
        }),
      );
    }
    if (found.length === 0)
      throw markConnectError(new SSLError(`${where}: CA directory ${capath} holds no PEM certificate`));
    pems.push(...found);
  }
  if (cadata !== null && cadata !== undefined) pems.push(...caDataToPems(cadata, where));
  return pems;
}

/** A certificate file used without a key file must hold the key too. */
function needKeyIn(pem: Buffer, what: string, option: string): Buffer {
  if (!pem.includes('PRIVATE KEY-----')) {
    throw markConnectError(new SSLError(`${what} holds no private key; give ${option} as well`));
  }
  return pem;
}

function certToPem(data: string | Uint8Array): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  return looksLikePem(data) ? Buffer.from(data) : Buffer.from(derToPem(data, 'CERTIFICATE'));
}

function keyToPem(data: string | Uint8Array, passphrase: string | null): Buffer {
  if (typeof data === 'string' || looksLikePem(data)) return Buffer.from(data);
  // DER: let Node work out PKCS#8 / PKCS#1 / SEC1 and hand OpenSSL a PEM it reads for sure.
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      const key = createPrivateKey({
        key: Buffer.from(data),
        format: 'der',
        type,
        passphrase: passphrase ?? undefined,
      });
      return Buffer.from(key.export({ format: 'pem', type: 'pkcs8' }) as string);
    } catch {
      // try the next encoding
    }
  }
  throw markConnectError(
    new SSLError('keyData is neither a PEM key nor a DER key Node can read (or keyPassword is wrong)'),
  );
}

// ---- SecureContext cache -------------------------------------------------------------------

interface ContextMaterial {
  /** null = the default trust store */
  caPems: string[] | null;
  cert: Buffer | null;
  key: Buffer | null;
  passphrase: string | null;
  minVersion: TlsVersion;
  maxVersion: TlsVersion | null;
  ciphers: string | null;
}

const EMPTY_MATERIAL: ContextMaterial = {
  caPems: null,
  cert: null,
  key: null,
  passphrase: null,
  minVersion: DEFAULT_MIN_VERSION,
  maxVersion: null,
  ciphers: null,
};

const CONTEXT_CACHE_SIZE = 64;
const contextCache = new Map<string, SecureContext>();

function materialKey(m: ContextMaterial): string {
  const h = createHash('sha256');
  const field = (v: string | Buffer | null) => {
    if (v === null) h.update('\u0000n');
    else {
      h.update(`\u0000${v.length}:`);
      h.update(v);
    }
  };
  if (m.caPems === null) field(null);
  else {
    h.update(`ca${m.caPems.length}`);
    for (const p of m.caPems) field(p);
  }
  field(m.cert);
  field(m.key);
  field(m.passphrase);
  field(m.minVersion);
  field(m.maxVersion);
  field(m.ciphers);
  return h.digest('base64');
}

const KEY_ERRORS: Record<string, string> = {
  ERR_OSSL_BAD_DECRYPT: 'cannot decrypt the client key (wrong or missing keyPassword)',
  ERR_OSSL_EVP_BAD_DECRYPT: 'cannot decrypt the client key (wrong or missing keyPassword)',
  ERR_OSSL_X509_KEY_VALUES_MISMATCH: 'the client certificate and key do not match',
  ERR_OSSL_PEM_NO_START_LINE: 'the client certificate or key is not PEM',
  ERR_OSSL_PEM_BAD_BASE64_DECODE: 'the client certificate or key is not valid PEM',
  ERR_SSL_NO_CIPHER_MATCH: 'no cipher in the ciphers list is known to OpenSSL',
};

function buildSecureContext(m: ContextMaterial): SecureContext {
  const options: tls.SecureContextOptions = { minVersion: m.minVersion };
  if (m.maxVersion !== null) options.maxVersion = m.maxVersion;
  if (m.ciphers !== null) options.ciphers = m.ciphers;
  if (m.cert !== null) options.cert = m.cert;
  if (m.key !== null) options.key = m.key;
  if (m.passphrase !== null) options.passphrase = m.passphrase;
  try {
    if (m.caPems === null) return defaultTrustContext(options);
    return tls.createSecureContext({ ...options, ca: m.caPems });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const reason = KEY_ERRORS[code] ?? `cannot set up TLS: ${(err as Error).message}`;
    throw markConnectError(new SSLError(`${reason}${code ? ` (${code})` : ''}`, { cause: err }));
  }
}

function secureContextFor(m: ContextMaterial): SecureContext {
  const key = materialKey(m);
  let ctx = contextCache.get(key);
  if (ctx !== undefined) {
    contextCache.delete(key);
    contextCache.set(key, ctx);
    return ctx;
  }
  ctx = buildSecureContext(m);
  contextCache.set(key, ctx);
  if (contextCache.size > CONTEXT_CACHE_SIZE) contextCache.delete(contextCache.keys().next().value as string);
  return ctx;
}

// ---- the plan for one handshake ----------------------------------------------------------

/** Everything a handshake needs, and what to check after it. */
export interface TlsPlan {
  /** Options for tls.connect (minus the socket). */
  nodeOptions: ConnectionOptions;
  certReqs: 'CERT_REQUIRED' | 'CERT_NONE';
  /** Name sent in SNI (null for IP addresses). */
  sniName: string | null;
  /** Name the certificate is matched against (null when the check is off). */
  checkedName: string | null;
  /** Expected certificate digest (SHA-1 or SHA-256), or null. */
  fingerprint: Buffer | null;
  /** TLS version bounds, for error messages (null minimum: set inside a Node SecureContext, unknown). */
  minVersion: TlsVersion | null;
  maxVersion: TlsVersion | null;
  /** File named by SSLKEYLOGFILE when the connection was opened, or null. */
  keylogFile: string | null;
}

function bareHost(host: string): string {
  let h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  // A zone id (fe80::1%eth0) names the interface, not the peer.
  const pct = h.indexOf('%');
  if (pct !== -1 && isIP(h.slice(0, pct)) === 6) h = h.slice(0, pct);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * urllib3 v2 matches names against subjectAltName only (RFC 6125, no
 * commonName fallback); Node falls back to the CN when a certificate has no
 * SAN, so that case is refused here first.
 */
function hostnameChecker(name: string): (servername: string, cert: PeerCertificate) => Error | undefined {
  return (_servername, cert) => {
    if (!cert.subjectaltname) {
      const err = new Error(
        `Hostname/IP does not match certificate's altnames: Host: ${name}. The certificate has no subjectAltName ` +
          `(its commonName ${JSON.stringify(cert.subject?.CN ?? '')} is not matched, as in urllib3 v2)`,
      ) as Error & { code: string; host: string; cert: PeerCertificate; reason: string };
      err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
      err.host = name;
      err.cert = cert;
      err.reason = 'certificate has no subjectAltName';
      return err;
    }
    return tls.checkServerIdentity(name, cert);
  };
}

const skipHostnameCheck = (): undefined => undefined;

/**
 * Resolves options against the sslContext and defaults, reads the files they
 * name and returns the handshake plan. Throws SSLError (a connect error) when
 * a file cannot be read or a key cannot be used.
 */
export function planTls(host: string, o: TlsOptions, env: NodeJS.ProcessEnv = process.env): TlsPlan {
  const ctx = o.sslContext ?? null;
  const u3 = isUrllib3Context(ctx) ? ctx : null;
  const certReqs = resolveCertReqs(o.certReqs ?? u3?.certReqs ?? 'CERT_REQUIRED');
  const minVersion = o.sslMinimumVersion ?? u3?.sslMinimumVersion ?? DEFAULT_MIN_VERSION;
  const maxVersion = o.sslMaximumVersion ?? u3?.sslMaximumVersion ?? null;
  const target = bareHost(host);
  const sniName = o.serverHostname ? bareHost(o.serverHostname) : target;
  const fingerprint = o.assertFingerprint ? normaliseFingerprint(o.assertFingerprint) : null;

  // Which name to check, as urllib3: none without verification, none when a
  // fingerprint pins the certificate, none with assertHostname: false.
  let checkedName: string | null = null;
  if (certReqs === 'CERT_REQUIRED' && fingerprint === null && o.assertHostname !== false) {
    checkedName = typeof o.assertHostname === 'string' ? bareHost(o.assertHostname) : sniName;
  }

  const nodeOptions: ConnectionOptions = {
    rejectUnauthorized: certReqs === 'CERT_REQUIRED',
    ALPNProtocols: [...(o.alpnProtocols ?? u3?.alpnProtocols ?? DEFAULT_ALPN)],
    checkServerIdentity: checkedName === null ? skipHostnameCheck : hostnameChecker(checkedName),
  };
  // SNI never carries an IP address (RFC 6066 section 3).
  if (isIP(sniName) === 0) nodeOptions.servername = sniName;

  if (isNodeSecureContext(ctx)) {
    nodeOptions.secureContext = ctx;
  } else {
    let caPems: string[] | null = null;
    if (
      o.caCerts ||
      o.caCertDir ||
      (o.caCertData !== undefined && o.caCertData !== null) ||
      (u3 && u3._caPems.length > 0)
    ) {
      caPems = [
        ...(u3?._caPems ?? []),
        ...loadCaPems(o.caCerts ?? null, o.caCertDir ?? null, o.caCertData ?? null, 'TLS'),
      ];
    }
    let cert: Buffer | null = null;
    let key: Buffer | null = null;
    let passphrase = o.keyPassword ?? null;
    if (o.certFile) {
      cert = readOrFail(o.certFile, 'certFile');
      key = o.keyFile
        ? readOrFail(o.keyFile, 'keyFile')
        : needKeyIn(cert, `certFile ${o.certFile}`, 'keyFile');
    } else if (o.certData !== undefined && o.certData !== null) {
      cert = certToPem(o.certData);
      key =
        o.keyData !== undefined && o.keyData !== null
          ? keyToPem(o.keyData, passphrase)
          : needKeyIn(cert, 'certData', 'keyData');
    } else if (u3?._certChain) {
      ({ cert, key } = u3._certChain);
      passphrase = u3._certChain.passphrase;
    }
    nodeOptions.secureContext = secureContextFor({
      caPems,
      cert,
      key,
      passphrase: cert === null ? null : passphrase,
      minVersion,
      maxVersion,
      ciphers: o.ciphers ?? u3?.ciphers ?? null,
    });
  }
  const keylog = env.SSLKEYLOGFILE;
  return {
    nodeOptions,
    certReqs,
    sniName: nodeOptions.servername ?? null,
    checkedName,
    fingerprint,
    minVersion: isNodeSecureContext(ctx) ? null : minVersion,
    maxVersion: isNodeSecureContext(ctx) ? null : maxVersion,
    keylogFile: keylog ? keylog : null,
  };
}

// ---- fingerprints ----------------------------------------------------------------------

function normaliseFingerprint(fp: string): Buffer {
  if (typeof fp !== 'string') throw new TypeError('assertFingerprint must be a string of hex digits');
  const hex = fp.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]*$/.test(hex)) {
    throw new SSLError(`assertFingerprint must be hex digits (colons optional), got ${JSON.stringify(fp)}`);
  }
  if (hex.length !== 40 && hex.length !== 64) {
    throw new SSLError(
      `Fingerprint of invalid length: ${hex} (${hex.length} hex digits; SHA-1 has 40, SHA-256 has 64)`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Compares the peer certificate's digest with the expected one in constant time. */
export function checkFingerprint(certDer: Buffer | null | undefined, want: Buffer, where: string): void {
  if (!certDer || certDer.length === 0) {
    throw markConnectError(
      new SSLError(`${where}: the server sent no certificate to compare with assertFingerprint`),
    );
  }
  const got = createHash(want.length === 20 ? 'sha1' : 'sha256')
    .update(certDer)
    .digest();
  if (!timingSafeEqual(got, want)) {
    throw markConnectError(
      new SSLError(
        `${where}: Fingerprints did not match. Expected "${want.toString('hex')}", got "${got.toString('hex')}"`,
      ),
    );
  }
}

// ---- the former one-call helpers (kept for callers that set up TLS themselves) ----------

/** tls.connect options for a connection to `host` with urllib3 options `o`. */
export function buildTlsOptions(host: string, o: TlsOptions): ConnectionOptions {
  return planTls(host, o).nodeOptions;
}

/** The checks made after the handshake (assertFingerprint), for sockets set up with buildTlsOptions(). */
export function verifyPeer(sock: TLSSocket, host: string, port: number, o: TlsOptions, label: string): void {
  if (!o.assertFingerprint) return;
  checkFingerprint(
    sock.getPeerCertificate()?.raw,
    normaliseFingerprint(o.assertFingerprint),
    `${label} (${host}:${port})`,
  );
}
