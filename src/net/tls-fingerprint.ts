// assertFingerprint (docs/api.md section 7): the expected digest of the server
// certificate, SHA-1 or SHA-256, checked after the handshake in place of the
// name check.

import { createHash, timingSafeEqual } from 'node:crypto';
import { SSLError } from '../errors.js';
import { markConnectError } from '../errors.js';

export function normaliseFingerprint(fp: string): Buffer {
  if (typeof fp !== 'string') throw new TypeError('assertFingerprint must be a string of hex digits');
  const hex = fp.replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]*$/.test(hex)) {
    throw new SSLError(`assertFingerprint must be hex digits (colons optional), got ${JSON.stringify(fp)}`);
  }
  if (hex.length !== 40 && hex.length !== 64) {
    throw new SSLError(
      `Fingerprint of invalid length: ${hex} (${hex.length} hex digits; SHA-1 has 40, SHA-256 has 64)`,
    );
  }
  return Buffer.from(hex, 'hex');
}

/** Compares the peer certificate's digest with the expected one in constant time. */
export function checkFingerprint(certDer: Buffer | null | undefined, want: Buffer, where: string): void {
  if (!certDer || certDer.length === 0) {
    throw markConnectError(
      new SSLError(`${where}: the server sent no certificate to compare with assertFingerprint`),
    );
  }
  const got = createHash(want.length === 20 ? 'sha1' : 'sha256')
    .update(certDer)
    .digest();
  if (!timingSafeEqual(got, want)) {
    throw markConnectError(
      new SSLError(
        `${where}: Fingerprints did not match. Expected "${want.toString('hex')}", got "${got.toString('hex')}"`,
      ),
    );
  }
}
