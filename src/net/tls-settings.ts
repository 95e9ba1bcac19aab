// The protocol settings an options bag and a Urllib3Context share (docs/api.md
// section 7): TLS version names and bounds, and urllib3's cert_reqs with its
// short forms. Pure checks, no I/O.

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** urllib3's cert_reqs; the short forms ('REQUIRED', 'NONE') are accepted as urllib3 does. */
export type CertReqs = 'CERT_REQUIRED' | 'CERT_NONE' | 'CERT_OPTIONAL' | 'REQUIRED' | 'NONE' | 'OPTIONAL';

/** The versions in order, oldest first (bounds are compared by index). */
export const VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
export const DEFAULT_MIN_VERSION: TlsVersion = 'TLSv1.2';

export function checkVersion(v: unknown, name: string): asserts v is TlsVersion {
  if (!VERSIONS.includes(v as TlsVersion)) {
    throw new TypeError(`${name} must be one of ${VERSIONS.join(', ')}, got ${String(v)}`);
  }
}

export function resolveCertReqs(v: unknown): 'CERT_REQUIRED' | 'CERT_NONE' {
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
