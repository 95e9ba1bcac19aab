// The certificate checks BoringSSL was not asked to make over QUIC
// (quic-tls.ts's `postChecks`): an IP host against the certificate's IP
// SANs, a name other than the SNI name, a pinned fingerprint. Made on the
// leaf the peer sent, after the handshake and before anything is sent, by
// every user of the QUIC transport (HTTP/3's dialer, DNS over QUIC), so an
// option means the same over QUIC as over TCP (docs/api.md sections 7 and 9).

import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { markConnectError, SSLError } from '../../errors.js';
import type { QuicTlsPlan } from './quic-tls.js';

/** Throws an SSLError (connect phase) when the leaf fails a check of `tls.postChecks`. */
export function postHandshakeChecks(leaf: Buffer | null, tls: QuicTlsPlan, label: string): void {
  const { hostName, ip, fingerprint } = tls.postChecks;
  if (hostName === null && ip === null && fingerprint === null) return;
  if (leaf === null) {
    throw markConnectError(new SSLError(`${label}: the server sent no certificate over QUIC`));
  }
  if (fingerprint !== null) {
    const got = createHash(fingerprint.length === 20 ? 'sha1' : 'sha256')
      .update(leaf)
      .digest();
    if (!timingSafeEqual(got, fingerprint)) {
      throw markConnectError(
        new SSLError(
          `${label}: Fingerprints did not match. Expected "${fingerprint.toString('hex')}", got "${got.toString('hex')}"`,
        ),
      );
    }
  }
  const cert = new X509Certificate(leaf);
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
