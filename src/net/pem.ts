// Certificate and key material in the forms urllib3 accepts (docs/api.md section
// 7): PEM text, DER bytes (one certificate or several concatenated), PEM
// files. Everything leaves here as PEM, which is what OpenSSL reads for sure.
// Unreadable or unusable material is an SSLError marked as a connect error.

import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SSLError } from '../errors.js';
import { markConnectError } from '../errors.js';

const PEM_CERT_RE = /-----BEGIN (?:TRUSTED )?CERTIFICATE-----[\s\S]+?-----END (?:TRUSTED )?CERTIFICATE-----/g;

export function pemBlocks(text: string): string[] {
  return text.match(PEM_CERT_RE) ?? [];
}

/** A PEM block without its line breaks, to spot one certificate in two files (replaceAll beats a regex here). */
export function pemKey(pem: string): string {
  return pem.replaceAll('\n', '').replaceAll('\r', '').replaceAll(' ', '');
}

export function readOrFail(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw markConnectError(
      new SSLError(`cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err }),
    );
  }
}

function derToPem(der: Uint8Array, label: string): string {
  const lines =
    Buffer.from(der)
      .toString('base64')
      .match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function looksLikePem(data: Uint8Array): boolean {
  const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart();
  return head.startsWith('-----BEGIN');
}

/** Splits concatenated DER certificates (each an ASN.1 SEQUENCE) into PEM blocks. */
function derCertificatesToPem(der: Uint8Array): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < der.length) {
    if (der[i] !== 0x30 || i + 2 > der.length) throw new Error(`not DER at byte ${i}`);
    let len = der[i + 1]!;
    let header = 2;
    if (len & 0x80) {
      const n = len & 0x7f;
      if (n === 0 || n > 4 || i + 2 + n > der.length) throw new Error(`bad DER length at byte ${i}`);
      len = 0;
      for (let k = 0; k < n; k++) len = len * 256 + der[i + 2 + k]!;
      header = 2 + n;
    }
    const end = i + header + len;
    if (end > der.length) throw new Error('truncated DER certificate');
    const one = der.subarray(i, end);
    new X509Certificate(one); // throws on anything that is not a certificate
    out.push(derToPem(one, 'CERTIFICATE'));
    i = end;
  }
  return out;
}

export function caDataToPems(data: string | Uint8Array, where: string): string[] {
  let pems: string[];
  try {
    if (typeof data === 'string') pems = pemBlocks(data);
    else if (looksLikePem(data)) pems = pemBlocks(Buffer.from(data).toString('latin1'));
    else pems = derCertificatesToPem(data);
  } catch (err) {
    throw markConnectError(
      new SSLError(`${where}: caCertData is neither PEM nor DER certificates: ${(err as Error).message}`, {
        cause: err,
      }),
    );
  }
  if (pems.length === 0) throw markConnectError(new SSLError(`${where}: caCertData contains no certificate`));
  return pems;
}

/** A certificate file used without a key file must hold the key too. */
export function needKeyIn(pem: Buffer, what: string, option: string): Buffer {
  if (!pem.includes('PRIVATE KEY-----')) {
    throw markConnectError(new SSLError(`${what} holds no private key; give ${option} as well`));
  }
  return pem;
}

export function certToPem(data: string | Uint8Array): Buffer {
  if (typeof data === 'string') return Buffer.from(data);
  return looksLikePem(data) ? Buffer.from(data) : Buffer.from(derToPem(data, 'CERTIFICATE'));
}

export function keyToPem(data: string | Uint8Array, passphrase: string | null): Buffer {
  if (typeof data === 'string' || looksLikePem(data)) return Buffer.from(data);
  // DER: let Node work out PKCS#8 / PKCS#1 / SEC1 and hand OpenSSL a PEM it reads for sure.
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      const key = createPrivateKey({
        key: Buffer.from(data),
        format: 'der',
        type,
        passphrase: passphrase ?? undefined,
      });
      return Buffer.from(key.export({ format: 'pem', type: 'pkcs8' }) as string);
    } catch {
      // try the next encoding
    }
  }
  throw markConnectError(
    new SSLError('keyData is neither a PEM key nor a DER key Node can read (or keyPassword is wrong)'),
  );
}
