// urllib3's TLS options (API.md section 7) turned into Node's tls.connect
// options, plus the checks Node does not do itself (assertFingerprint,
// assertHostname). Certificate verification and SNI are on by default; files
// are read once per connection set-up, which happens rarely thanks to pooling.

import { createHash, timingSafeEqual } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import tls, { type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket } from 'node:tls';
import { SSLError } from '../errors.js';
import { markConnectError } from './connect.js';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsOptions {
  certReqs?: 'CERT_REQUIRED' | 'CERT_NONE' | 'CERT_OPTIONAL';
  caCerts?: string | null;
  caCertDir?: string | null;
  caCertData?: string | Uint8Array | null;
  certFile?: string | null;
  keyFile?: string | null;
  keyPassword?: string | null;
  certData?: string | Uint8Array | null;
  keyData?: string | Uint8Array | null;
  serverHostname?: string | null;
  assertHostname?: string | false | null;
  assertFingerprint?: string | null;
  sslMinimumVersion?: TlsVersion | null;
  sslMaximumVersion?: TlsVersion | null;
  ciphers?: string | null;
  sslContext?: SecureContext | Urllib3Context | null;
  alpnProtocols?: string[] | null;
}

/** What createUrllib3Context() returns: protocol settings carried into every handshake. */
export interface Urllib3Context {
  readonly kind: 'urllib3-context';
  sslMinimumVersion: TlsVersion;
  sslMaximumVersion: TlsVersion | null;
  ciphers: string | null;
  certReqs: 'CERT_REQUIRED' | 'CERT_NONE' | 'CERT_OPTIONAL';
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

const VERSIONS = new Set(['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3']);

export function createUrllib3Context(options?: {
  sslMinimumVersion?: TlsVersion;
  sslMaximumVersion?: TlsVersion | null;
  ciphers?: string | null;
  certReqs?: 'CERT_REQUIRED' | 'CERT_NONE' | 'CERT_OPTIONAL';
}): Urllib3Context {
  const ctx: Urllib3Context = {
    kind: 'urllib3-context',
    sslMinimumVersion: options?.sslMinimumVersion ?? 'TLSv1.2',
    sslMaximumVersion: options?.sslMaximumVersion ?? null,
    ciphers: options?.ciphers ?? null,
    certReqs: options?.certReqs ?? 'CERT_REQUIRED',
  };
  checkVersion(ctx.sslMinimumVersion, 'sslMinimumVersion');
  if (ctx.sslMaximumVersion) checkVersion(ctx.sslMaximumVersion, 'sslMaximumVersion');
  return ctx;
}

function checkVersion(v: string, name: string): void {
  if (!VERSIONS.has(v)) throw new TypeError(`${name} must be one of ${[...VERSIONS].join(', ')}, got ${v}`);
}

function isUrllib3Context(v: unknown): v is Urllib3Context {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'urllib3-context';
}

function readCaDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (statSync(p).isFile()) out.push(readFileSync(p, 'latin1'));
    } catch {
      // Unreadable entries are skipped, as OpenSSL's hashed-dir lookup would.
    }
  }
  return out;
}

function derToPem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Node tls.connect options for a connection to `host` with urllib3 options `o`. */
export function buildTlsOptions(host: string, o: TlsOptions): ConnectionOptions {
  const ctx = o.sslContext;
  const u3 = isUrllib3Context(ctx) ? ctx : null;
  const certReqs = o.certReqs ?? u3?.certReqs ?? 'CERT_REQUIRED';
  if (certReqs !== 'CERT_REQUIRED' && certReqs !== 'CERT_NONE' && certReqs !== 'CERT_OPTIONAL') {
    throw new TypeError(`certReqs must be 'CERT_REQUIRED' or 'CERT_NONE', got ${String(certReqs)}`);
  }
  const minVersion = o.sslMinimumVersion ?? u3?.sslMinimumVersion ?? 'TLSv1.2';
  checkVersion(minVersion, 'sslMinimumVersion');
  const maxVersion = o.sslMaximumVersion ?? u3?.sslMaximumVersion ?? null;
  if (maxVersion) checkVersion(maxVersion, 'sslMaximumVersion');
  const bareHost = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const sniName = o.serverHostname ?? bareHost;
  const opts: ConnectionOptions = {
    rejectUnauthorized: certReqs === 'CERT_REQUIRED',
    minVersion,
    ALPNProtocols: o.alpnProtocols ?? ['http/1.1'],
  };
  // SNI must not carry an IP address (RFC 6066 section 3).
  if (isIP(sniName) === 0) opts.servername = sniName;
  if (maxVersion) opts.maxVersion = maxVersion;
  const ciphers = o.ciphers ?? u3?.ciphers ?? null;
  if (ciphers) opts.ciphers = ciphers;
  if (ctx && !u3) opts.secureContext = ctx as SecureContext;
  const cas: (string | Buffer)[] = [];
  if (o.caCerts) cas.push(readFileSync(o.caCerts, 'latin1'));
  if (o.caCertDir) cas.push(...readCaDir(o.caCertDir));
  if (o.caCertData) {
    if (typeof o.caCertData === 'string') cas.push(o.caCertData);
    else cas.push(derToPem(o.caCertData));
  }
  if (cas.length > 0) opts.ca = cas;
  if (o.certFile) opts.cert = readFileSync(o.certFile);
  if (o.keyFile) opts.key = readFileSync(o.keyFile);
  if (o.certData) opts.cert = Buffer.from(o.certData);
  if (o.keyData) opts.key = Buffer.from(o.keyData);
  if (o.keyPassword) opts.passphrase = o.keyPassword;
  const expected = o.assertHostname;
  if (expected === false) {
    opts.checkServerIdentity = () => undefined;
  } else if (typeof expected === 'string') {
    opts.checkServerIdentity = (_name: string, cert: PeerCertificate) => tls.checkServerIdentity(expected, cert);
  } else if (o.serverHostname) {
    const name = o.serverHostname;
    opts.checkServerIdentity = (_n: string, cert: PeerCertificate) => tls.checkServerIdentity(name, cert);
  } else if (isIP(bareHost) !== 0) {
    opts.checkServerIdentity = (_n: string, cert: PeerCertificate) => tls.checkServerIdentity(bareHost, cert);
  }
  if (o.assertFingerprint) normaliseFingerprint(o.assertFingerprint); // validate early
  return opts;
}

function normaliseFingerprint(fp: string): Buffer {
  const hex = fp.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]*$/.test(hex) || (hex.length !== 40 && hex.length !== 64)) {
    throw new SSLError(
      `assertFingerprint must be a SHA-1 (40 hex digits) or SHA-256 (64 hex digits) fingerprint, got ${fp.length} characters`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Checks Node leaves to us, run right after the handshake. */
export function verifyPeer(sock: TLSSocket, host: string, port: number, o: TlsOptions, label: string): void {
  if (!o.assertFingerprint) return;
  const want = normaliseFingerprint(o.assertFingerprint);
  const cert = sock.getPeerCertificate();
  if (!cert?.raw) {
    throw markConnectError(new SSLError(`${label}: no peer certificate from ${host}:${port} to check the fingerprint of`));
  }
  const got = createHash(want.length === 20 ? 'sha1' : 'sha256')
    .update(cert.raw)
    .digest();
  if (!timingSafeEqual(got, want)) {
    throw markConnectError(
      new SSLError(
        `${label}: Fingerprints did not match. Expected "${want.toString('hex')}", got "${got.toString('hex')}"`,
      ),
    );
  }
}
