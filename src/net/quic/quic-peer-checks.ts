// The certificate checks BoringSSL was not asked to make over QUIC
// (quic-tls.ts's `postChecks`): an IP host against the certificate's IP
// SANs, a name other than the SNI name, a pinned fingerprint. Made on the
// leaf the peer sent, after the handshake and before anything is sent, by
// every user of the QUIC transport (HTTP/3's dialer, DNS over QUIC), so an
// option means the same over QUIC as over TCP (docs/api.md sections 7 and 9).

import { X509Certificate } from 'node:crypto';
import { markConnectError, SSLError } from '../../errors.js';
import { checkFingerprint } from '../tls-fingerprint.js';
import type { QuicTlsPlan } from './quic-tls.js';

/** Throws an SSLError (connect phase) when the leaf fails a check of `tls.postChecks`. */
export function postHandshakeChecks(leaf: Buffer | null, tls: QuicTlsPlan, label: string): void {
  const { hostName, ip, fingerprint } = tls.postChecks;
  if (hostName === null && ip === null && fingerprint === null) return;
  if (leaf === null) {
    throw markConnectError(new SSLError(`${label}: the server sent no certificate over QUIC`));
  }
  // The same comparison as over TCP (docs/api.md section 7).
  if (fingerprint !== null) checkFingerprint(leaf, fingerprint, label);
  // A pin alone needs no parse: with certReqs CERT_NONE BoringSSL accepts bytes that are no certificate.
  if (ip === null && hostName === null) return;
  const cert = parsedLeaf(leaf, label);
  if (ip !== null && cert.checkIP(ip) === undefined) {
    throw markConnectError(
      new SSLError(
        `${label}: certificate verify failed: IP address mismatch, certificate is not valid for '${ip}' (subjectAltName: ${cert.subjectAltName ?? 'none'})`,
      ),
    );
  }
  // urllib3 v2 matches subjectAltName only, never the commonName.
  if (hostName !== null && cert.checkHost(hostName, { subject: 'never' }) === undefined) {
    throw markConnectError(
      new SSLError(
        `${label}: certificate verify failed: Hostname mismatch, certificate is not valid for '${hostName}' (subjectAltName: ${cert.subjectAltName ?? 'none'})`,
      ),
    );
  }
}

function parsedLeaf(leaf: Buffer, label: string): X509Certificate {
  try {
    return new X509Certificate(leaf);
  } catch (e) {
    throw markConnectError(
      new SSLError(
        `${label}: the certificate the server sent over QUIC does not parse: ${(e as Error).message}`,
        {
          cause: e,
        },
      ),
    );
  }
}
