// urllib3's SSLContext stand-in (docs/api.md section 7): createUrllib3Context()
// and the Urllib3Context it returns, plus how to tell it from a Node
// SecureContext handed over as sslContext.

import type { SecureContext } from 'node:tls';
import { readOrFail, needKeyIn } from './pem.js';
import { buildSecureContext, EMPTY_MATERIAL } from './secure-context-cache.js';
import {
  type CertReqs,
  checkVersion,
  DEFAULT_MIN_VERSION,
  resolveCertReqs,
  type TlsVersion,
} from './tls-settings.js';
import { type SslVersion, sslVersionBounds } from './ssl-version.js';
import { defaultCaCertificates, loadCaPems } from './trust-store.js';

export interface Urllib3ContextOptions {
  sslMinimumVersion?: TlsVersion | null;
  sslMaximumVersion?: TlsVersion | null;
  /** Deprecated, as urllib3's `ssl_version` (docs/api.md section 7): pins both bounds. */
  sslVersion?: SslVersion | null;
  ciphers?: string | null;
  certReqs?: CertReqs | null;
}

/** Python's `ssl.CERT_*` names, as `verifyMode` reads them. */
export type VerifyMode = 'CERT_NONE' | 'CERT_OPTIONAL' | 'CERT_REQUIRED';

const LONG_FORM: Record<string, VerifyMode> = {
  CERT_NONE: 'CERT_NONE',
  NONE: 'CERT_NONE',
  CERT_OPTIONAL: 'CERT_OPTIONAL',
  OPTIONAL: 'CERT_OPTIONAL',
  CERT_REQUIRED: 'CERT_REQUIRED',
  REQUIRED: 'CERT_REQUIRED',
};

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
  alpnProtocols: string[] | null = null;
  private _certReqs: CertReqs = 'CERT_REQUIRED';
  private _checkHostname = true;
  /** @internal PEM CA certificates loaded with loadVerifyLocations(). */
  readonly _caPems: string[] = [];
  private _defaultCertsLoaded = false;
  /** @internal Client chain loaded with loadCertChain(). */
  _certChain: { cert: Buffer; key: Buffer; passphrase: string | null } | null = null;

  constructor(options?: Urllib3ContextOptions) {
    const pinned =
      options?.sslVersion !== undefined && options.sslVersion !== null
        ? sslVersionBounds(
            options.sslVersion,
            Boolean(options.sslMinimumVersion || options.sslMaximumVersion),
            'createUrllib3Context',
          )
        : null;
    this.sslMinimumVersion = options?.sslMinimumVersion ?? pinned?.min ?? DEFAULT_MIN_VERSION;
    this.sslMaximumVersion = options?.sslMaximumVersion ?? pinned?.max ?? null;
    this.ciphers = options?.ciphers ?? null;
    checkVersion(this.sslMinimumVersion, 'sslMinimumVersion');
    if (this.sslMaximumVersion !== null) checkVersion(this.sslMaximumVersion, 'sslMaximumVersion');
    // As create_urllib3_context: CERT_REQUIRED checks the host name, anything else does not.
    this.certReqs = options?.certReqs ?? 'CERT_REQUIRED';
  }

  /**
   * The verification mode as given ('CERT_REQUIRED' by default). Setting
   * 'CERT_NONE' also turns checkHostname off, as create_urllib3_context
   * orders the two.
   */
  get certReqs(): CertReqs {
    return this._certReqs;
  }

  set certReqs(value: CertReqs) {
    const strict = resolveCertReqs(value);
    this._certReqs = value;
    this._checkHostname = strict === 'CERT_REQUIRED' && value !== 'CERT_OPTIONAL' && value !== 'OPTIONAL';
  }

  /**
   * Python's `SSLContext.verify_mode`, read and set by its `ssl.CERT_*` name.
   * As in Python, 'CERT_NONE' while checkHostname is on is a TypeError.
   */
  get verifyMode(): VerifyMode {
    return LONG_FORM[this._certReqs] ?? 'CERT_REQUIRED';
  }

  set verifyMode(value: VerifyMode) {
    resolveCertReqs(value);
    if (LONG_FORM[value] === 'CERT_NONE' && this._checkHostname) {
      throw new TypeError(
        'Urllib3Context: cannot set verifyMode to CERT_NONE while checkHostname is on; turn checkHostname off first',
      );
    }
    this._certReqs = value;
  }

  /**
   * Python's `SSLContext.check_hostname`. Turning it on makes a CERT_NONE
   * context CERT_REQUIRED, as in Python. As in urllib3, turning it off does
   * not skip the name check: the library then matches the name itself;
   * `assertHostname: false` is what skips it (docs/api.md section 7).
   */
  get checkHostname(): boolean {
    return this._checkHostname;
  }

  set checkHostname(value: boolean) {
    if (typeof value !== 'boolean') throw new TypeError('Urllib3Context: checkHostname must be a boolean');
    if (value && LONG_FORM[this._certReqs] === 'CERT_NONE') this._certReqs = 'CERT_REQUIRED';
    this._checkHostname = value;
  }

  /** Python's `SSLContext.minimum_version` (the same setting as sslMinimumVersion). */
  get minimumVersion(): TlsVersion {
    return this.sslMinimumVersion;
  }

  set minimumVersion(value: TlsVersion) {
    checkVersion(value, 'minimumVersion');
    this.sslMinimumVersion = value;
  }

  /** Python's `SSLContext.maximum_version`; null: the newest Node.js supports. */
  get maximumVersion(): TlsVersion | null {
    return this.sslMaximumVersion;
  }

  set maximumVersion(value: TlsVersion | null) {
    if (value !== null) checkVersion(value, 'maximumVersion');
    this.sslMaximumVersion = value;
  }

  /**
   * Trust the default store as well: Node's bundled roots, NODE_EXTRA_CA_CERTS
   * and the operating system's certificates are added to the CAs this
   * context already holds, like SSLContext.load_default_certs.
   */
  loadDefaultCerts(): void {
    if (this._defaultCertsLoaded) return;
    this._defaultCertsLoaded = true;
    this._caPems.push(...defaultCaCertificates());
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

export function isUrllib3Context(v: unknown): v is Urllib3Context {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'urllib3-context';
}

export function isNodeSecureContext(v: unknown): v is SecureContext {
  return typeof v === 'object' && v !== null && !isUrllib3Context(v) && 'context' in v;
}
