// The plan for one TLS handshake: urllib3's options resolved against the
// sslContext and the defaults, the files they name read, and Node's
// tls.connect options built, plus the checks Node does not make the way
// urllib3 does (hostname matching without the commonName fallback,
// assertHostname, assertFingerprint). Nothing here opens sockets:
// connect.ts does the handshake and connection.ts turns the result into
// ConnectionInfo and isVerified.

import { isIP } from 'node:net';
import tls, { type ConnectionOptions, type PeerCertificate } from 'node:tls';
import { unbracketHost } from '../authority.js';
import { secureContextFor } from './secure-context-cache.js';
import { sslVersionBounds } from './ssl-version.js';
import { normaliseFingerprint } from './tls-fingerprint.js';
import type { TlsOptions } from './tls-options.js';
import { DEFAULT_MIN_VERSION, resolveCertReqs, type TlsVersion } from './tls-settings.js';
import { clientCertificate, explicitTrust } from './tls-material.js';
import { isNodeSecureContext, isUrllib3Context } from './urllib3-context.js';

const DEFAULT_ALPN: readonly string[] = ['http/1.1'];

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
  let h = unbracketHost(host);
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
  const pinned =
    o.sslVersion !== undefined && o.sslVersion !== null
      ? sslVersionBounds(o.sslVersion, Boolean(o.sslMinimumVersion || o.sslMaximumVersion), 'TLS')
      : null;
  const minVersion = o.sslMinimumVersion ?? pinned?.min ?? u3?.sslMinimumVersion ?? DEFAULT_MIN_VERSION;
  const maxVersion = o.sslMaximumVersion ?? pinned?.max ?? u3?.sslMaximumVersion ?? null;
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
    const caPems = explicitTrust(o, u3);
    const { cert, key, passphrase } = clientCertificate(o, u3);
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
