// Node SecureContexts, cached by the exact bytes that went into them. Parsing
// CA certificates into a context is the expensive part of a TLS set-up (tens
// of ms for a full trust store); keyed by a hash of the material, an unchanged
// configuration costs one hash while a rotated certificate gives a new context.

import { createHash } from 'node:crypto';
import tls, { type SecureContext } from 'node:tls';
import { SSLError } from '../errors.js';
import { markConnectError } from '../errors.js';
import { DEFAULT_MIN_VERSION, type TlsVersion } from './tls-settings.js';
import { defaultTrustContext } from './trust-store.js';

export interface ContextMaterial {
  /** null = the default trust store */
  caPems: string[] | null;
  cert: Buffer | null;
  key: Buffer | null;
  passphrase: string | null;
  minVersion: TlsVersion;
  maxVersion: TlsVersion | null;
  ciphers: string | null;
}

export const EMPTY_MATERIAL: ContextMaterial = {
  caPems: null,
  cert: null,
  key: null,
  passphrase: null,
  minVersion: DEFAULT_MIN_VERSION,
  maxVersion: null,
  ciphers: null,
};

const CONTEXT_CACHE_SIZE = 64;
const contextCache = new Map<string, SecureContext>();

function materialKey(m: ContextMaterial): string {
  const h = createHash('sha256');
  const field = (v: string | Buffer | null) => {
    if (v === null) h.update('\u0000n');
    else {
      h.update(`\u0000${v.length}:`);
      h.update(v);
    }
  };
  if (m.caPems === null) field(null);
  else {
    h.update(`ca${m.caPems.length}`);
    for (const p of m.caPems) field(p);
  }
  field(m.cert);
  field(m.key);
  field(m.passphrase);
  field(m.minVersion);
  field(m.maxVersion);
  field(m.ciphers);
  return h.digest('base64');
}

const KEY_ERRORS: Record<string, string> = {
  ERR_OSSL_BAD_DECRYPT: 'cannot decrypt the client key (wrong or missing keyPassword)',
  ERR_OSSL_EVP_BAD_DECRYPT: 'cannot decrypt the client key (wrong or missing keyPassword)',
  ERR_OSSL_X509_KEY_VALUES_MISMATCH: 'the client certificate and key do not match',
  ERR_OSSL_PEM_NO_START_LINE: 'the client certificate or key is not PEM',
  ERR_OSSL_PEM_BAD_BASE64_DECODE: 'the client certificate or key is not valid PEM',
  ERR_SSL_NO_CIPHER_MATCH: 'no cipher in the ciphers list is known to OpenSSL',
};

export function buildSecureContext(m: ContextMaterial): SecureContext {
  const options: tls.SecureContextOptions = { minVersion: m.minVersion };
  if (m.maxVersion !== null) options.maxVersion = m.maxVersion;
  if (m.ciphers !== null) options.ciphers = m.ciphers;
  if (m.cert !== null) options.cert = m.cert;
  if (m.key !== null) options.key = m.key;
  if (m.passphrase !== null) options.passphrase = m.passphrase;
  try {
    if (m.caPems === null) return defaultTrustContext(options);
    return tls.createSecureContext({ ...options, ca: m.caPems });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    const reason = KEY_ERRORS[code] ?? `cannot set up TLS: ${(err as Error).message}`;
    throw markConnectError(new SSLError(`${reason}${code ? ` (${code})` : ''}`, { cause: err }));
  }
}

export function secureContextFor(m: ContextMaterial): SecureContext {
  const key = materialKey(m);
  let ctx = contextCache.get(key);
  if (ctx !== undefined) {
    contextCache.delete(key);
    contextCache.set(key, ctx);
    return ctx;
  }
  ctx = buildSecureContext(m);
  contextCache.set(key, ctx);
  if (contextCache.size > CONTEXT_CACHE_SIZE) contextCache.delete(contextCache.keys().next().value as string);
  return ctx;
}
