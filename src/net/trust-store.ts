// Where certificates are trusted from (docs/api.md section 7). Default trust is
// Node's bundled roots plus NODE_EXTRA_CA_CERTS plus the operating system's
// bundle, read once per process. caCerts / caCertDir / caCertData replace it:
// those files are re-read at every connect, as urllib3 does, but parsed again
// only when they changed.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls, { type SecureContext } from 'node:tls';
import { debug } from '../debug.js';
import { SSLError } from '../errors.js';
import { markConnectError } from '../errors.js';
import { caDataToPems, pemBlocks, pemKey } from './pem.js';

/** Where distributions keep their CA bundle (Debian/Ubuntu, Fedora/RHEL, openSUSE, Alpine/macOS/BSD). */
const SYSTEM_CA_BUNDLES: readonly string[] = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

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
export function defaultTrustContext(options: tls.SecureContextOptions): SecureContext {
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

/**
 * The CA certificates (PEM) that caCerts, caCertDir and caCertData name, in
 * that order. Throws SSLError (a connect error) when one cannot be read or
 * holds no certificate.
 */
export function loadCaPems(
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
