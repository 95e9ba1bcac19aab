// urllib3's TLS options (docs/api.md section 7) planned for a QUIC handshake,
// so that every option means over HTTP/3 what it means over TCP (docs/api.md
// section 9). QUIC's TLS is BoringSSL inside the binding, which differs from
// Node's in ways this plan makes up for:
//
// * trust is passed explicitly: the default is Node's roots plus the system
//   bundle the TCP side reads, else caCerts / caCertDir / caCertData;
// * BoringSSL checks a host name when, and only when, it is given the server
//   name, and then also sends it as SNI. So the native check is used when the
//   name to check is the SNI name; otherwise (an IP host, assertHostname set
//   to another name or false, a pinned fingerprint) no server name is given
//   and the dialer checks the leaf certificate itself after the handshake
//   (`postChecks`), before anything is sent; an IP is never sent as SNI;
// * an encrypted client key is decrypted here (keyPassword);
// * QUIC is TLS 1.3 only: sslMaximumVersion below it, or a Node SecureContext
//   (opaque, nothing to hand over), makes HTTP/3 unavailable (`unavailable`);
// * BoringSSL's TLS 1.3 suites cannot be chosen through the binding: a
//   `ciphers` list that limits them (names some TLS_ suites, not all it
//   offers, or excludes one with !TLS_) makes HTTP/3 unavailable too, rather
//   than offer suites the list left out. A list naming no TLS_ suite keeps
//   TLS 1.3's defaults, as Node does over TCP.

import { createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { unbracketHost } from '../../authority.js';
import { markConnectError, SSLError } from '../../errors.js';
import { normaliseFingerprint } from '../tls-fingerprint.js';
import type { TlsOptions } from '../tls-options.js';
import { sslVersionBounds } from '../ssl-version.js';
import { resolveCertReqs } from '../tls-settings.js';
import { clientCertificate, explicitTrust } from '../tls-material.js';
import { defaultCaCertificates } from '../trust-store.js';
import { isNodeSecureContext, isUrllib3Context } from '../urllib3-context.js';

export interface QuicTlsPlan {
  /** Verify the chain (CERT_REQUIRED). */
  verifyPeer: boolean;
  caPem: string;
  certChainPem: string | null;
  keyPem: string | null;
  /** Given to BoringSSL: SNI and, when verifying, the natively checked name. */
  serverName: string | null;
  /** Checks of the leaf certificate the dialer makes after the handshake. */
  postChecks: { hostName: string | null; ip: string | null; fingerprint: Buffer | null };
  /** urllib3's is_verified once the handshake and the post checks passed. */
  isVerified: boolean;
  keylogFile: string | null;
}

/** Why HTTP/3 cannot honour these options, or null when it can. */
export function quicTlsUnavailable(o: TlsOptions): string | null {
  const ctx = o.sslContext ?? null;
  if (isNodeSecureContext(ctx)) {
    return 'a Node SecureContext (sslContext) cannot be handed to the QUIC TLS stack';
  }
  const u3 = isUrllib3Context(ctx) ? ctx : null;
  // The bounds as the TCP plan reads them (tls-plan.ts): an exact sslVersion pins the maximum too.
  const pinned =
    o.sslVersion !== undefined && o.sslVersion !== null
      ? sslVersionBounds(o.sslVersion, Boolean(o.sslMinimumVersion || o.sslMaximumVersion), 'TLS')
      : null;
  const max = o.sslMaximumVersion ?? pinned?.max ?? u3?.sslMaximumVersion ?? null;
  if (max !== null && max !== 'TLSv1.3') {
    const which = o.sslMaximumVersion
      ? 'sslMaximumVersion'
      : pinned
        ? 'sslVersion'
        : 'the sslContext maximum';
    return `QUIC needs TLS 1.3 but ${which} is ${max}`;
  }
  return cipherConflict(o.ciphers ?? u3?.ciphers ?? null);
}

/** The TLS 1.3 suites QUIC's TLS (BoringSSL) offers, all of them, always. */
const QUIC_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];

/** Why a `ciphers` list cannot be honoured over QUIC, or null. */
function cipherConflict(ciphers: string | null): string | null {
  if (ciphers === null) return null;
  // OpenSSL's list separators: colons, and also commas and spaces.
  const entries = ciphers.split(/[:, ]+/).filter((e) => e !== '');
  const named = entries.filter((e) => e.startsWith('TLS_'));
  const excluded = entries.filter((e) => e.startsWith('!TLS_')).map((e) => e.slice(1));
  const outOfList = named.length === 0 ? [] : QUIC_SUITES.filter((x) => !named.includes(x));
  const left = [...new Set([...outOfList, ...QUIC_SUITES.filter((x) => excluded.includes(x))])];
  if (left.length === 0) return null;
  return `QUIC's TLS offers ${QUIC_SUITES.join(', ')} and cannot leave out ${left.join(', ')}, which ciphers does not allow`;
}

function bareHost(host: string): string {
  const h = unbracketHost(host);
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

let defaultTrustPem: string | null = null;

/** Resolves the options for a QUIC handshake to `host`; reads the files they name. */
export function planQuicTls(host: string, o: TlsOptions, env: NodeJS.ProcessEnv = process.env): QuicTlsPlan {
  const ctx = o.sslContext ?? null;
  const u3 = isUrllib3Context(ctx) ? ctx : null;
  const certReqs = resolveCertReqs(o.certReqs ?? u3?.certReqs ?? 'CERT_REQUIRED');
  const verifyPeer = certReqs === 'CERT_REQUIRED';
  const target = bareHost(host);
  const sniName = o.serverHostname ? bareHost(o.serverHostname) : target;
  const fingerprint = o.assertFingerprint ? normaliseFingerprint(o.assertFingerprint) : null;
  let checkedName: string | null = null;
  if (verifyPeer && fingerprint === null && o.assertHostname !== false) {
    checkedName = typeof o.assertHostname === 'string' ? bareHost(o.assertHostname) : sniName;
  }
  const sniIsName = isIP(sniName) === 0;
  let serverName: string | null;
  const postChecks: QuicTlsPlan['postChecks'] = { hostName: null, ip: null, fingerprint };
  if (!verifyPeer) {
    serverName = sniIsName ? sniName : null;
  } else if (checkedName !== null && checkedName === sniName && sniIsName) {
    serverName = sniName;
  } else {
    serverName = null;
    if (checkedName !== null) {
      if (isIP(checkedName) !== 0) postChecks.ip = checkedName;
      else postChecks.hostName = checkedName;
    }
  }

  const caPems = explicitTrust(o, u3) ?? [];
  if (caPems.length === 0) defaultTrustPem ??= defaultCaCertificates().join('\n');
  const caPem = caPems.length > 0 ? caPems.join('\n') : (defaultTrustPem ?? '');

  const { cert, key, passphrase } = clientCertificate(o, u3);
  let keyPem: string | null = null;
  if (key !== null) keyPem = plainKeyPem(key, passphrase);
  const keylog = env.SSLKEYLOGFILE;
  return {
    verifyPeer,
    caPem,
    certChainPem: cert === null ? null : cert.toString('latin1'),
    keyPem,
    serverName,
    postChecks,
    isVerified: verifyPeer || fingerprint !== null,
    keylogFile: keylog ? keylog : null,
  };
}

/** The private key as unencrypted PEM (BoringSSL here takes no passphrase). */
function plainKeyPem(key: Buffer, passphrase: string | null): string {
  const text = key.toString('latin1');
  const block = /-----BEGIN ([A-Z ]*PRIVATE KEY)-----[\s\S]*?-----END \1-----/.exec(text);
  if (block === null) return text;
  if (!/ENCRYPTED/.test(block[0])) return block[0];
  return decrypt(block[0], passphrase);
}

function decrypt(pem: string, passphrase: string | null): string {
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase: passphrase ?? undefined })
      .export({ format: 'pem', type: 'pkcs8' })
      .toString();
  } catch (e) {
    throw markConnectError(
      new SSLError(
        passphrase === null
          ? 'the client key is encrypted and no keyPassword was given'
          : `cannot decrypt the client key with keyPassword: ${(e as Error).message}`,
        { cause: e },
      ),
    );
  }
}
