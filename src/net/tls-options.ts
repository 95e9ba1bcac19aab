// urllib3's TLS options (docs/api.md section 7): their names, their types, and the
// checks of types and combinations made where a connection, pool or manager
// is configured - no I/O; files are read at connect (tls-plan.ts).

import type { SecureContext } from 'node:tls';
import { type SslVersion, sslVersionBounds } from './ssl-version.js';
import { normaliseFingerprint } from './tls-fingerprint.js';
import { checkVersion, DEFAULT_MIN_VERSION, resolveCertReqs, VERSIONS } from './tls-settings.js';
import type { CertReqs, TlsVersion } from './tls-settings.js';
import { isNodeSecureContext, isUrllib3Context, type Urllib3Context } from './urllib3-context.js';

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
  /**
   * Deprecated, as urllib3's `ssl_version`: a Python protocol name
   * ('PROTOCOL_TLSv1_2', 'TLSv1_2', 'PROTOCOL_TLS_CLIENT' ...) mapped to the
   * version bounds; emits a DeprecationWarning.
   */
  sslVersion?: SslVersion | null;
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
  'sslVersion',
  'ciphers',
  'sslContext',
  'alpnProtocols',
] as const;

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
  'sslVersion',
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
  const pinned =
    o.sslVersion !== undefined && o.sslVersion !== null
      ? sslVersionBounds(o.sslVersion, Boolean(o.sslMinimumVersion || o.sslMaximumVersion), where)
      : null;
  const min =
    o.sslMinimumVersion ??
    pinned?.min ??
    (isUrllib3Context(ctx) ? ctx.sslMinimumVersion : DEFAULT_MIN_VERSION);
  const max = o.sslMaximumVersion ?? pinned?.max ?? (isUrllib3Context(ctx) ? ctx.sslMaximumVersion : null);
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
