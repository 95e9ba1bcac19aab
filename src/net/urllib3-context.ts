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
import { loadCaPems } from './trust-store.js';

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

export function isUrllib3Context(v: unknown): v is Urllib3Context {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'urllib3-context';
}

export function isNodeSecureContext(v: unknown): v is SecureContext {
  return typeof v === 'object' && v !== null && !isUrllib3Context(v) && 'context' in v;
}
