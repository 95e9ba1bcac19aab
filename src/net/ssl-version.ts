// urllib3's deprecated `ssl_version` (docs/api.md section 7), here
// `sslVersion`: accepted as urllib3 2 accepts it, with a DeprecationWarning,
// and turned into the TLS version bounds it stands for. Pure, but for the
// warning.

import { warnOnce } from '../warnings.js';
import type { TlsVersion } from './tls-settings.js';

/** Python's `ssl.PROTOCOL_*` names (with or without the prefix) or their numbers. */
export type SslVersion = string | number;

/** What Python's ssl module numbers its protocols. */
const BY_NUMBER: Record<number, string> = {
  2: 'PROTOCOL_TLS',
  3: 'PROTOCOL_TLSv1',
  4: 'PROTOCOL_TLSv1_1',
  5: 'PROTOCOL_TLSv1_2',
  16: 'PROTOCOL_TLS_CLIENT',
};

/** Exact protocols: both bounds pinned to one version, as urllib3 maps them. */
const EXACT: Record<string, TlsVersion> = {
  PROTOCOL_TLSv1: 'TLSv1',
  PROTOCOL_TLSv1_1: 'TLSv1.1',
  PROTOCOL_TLSv1_2: 'TLSv1.2',
};

/** Negotiate the best version: no bounds of their own. */
const ANY = new Set(['PROTOCOL_TLS', 'PROTOCOL_TLS_CLIENT', 'PROTOCOL_SSLv23']);

function canonical(v: SslVersion, where: string): string {
  if (typeof v === 'number') {
    const name = BY_NUMBER[v];
    if (name !== undefined) return name;
  } else if (typeof v === 'string') {
    const name = v.startsWith('PROTOCOL_') ? v : `PROTOCOL_${v}`;
    if (name in EXACT || ANY.has(name)) return name;
  }
  throw new TypeError(
    `${where}: sslVersion must be one of ${[...ANY, ...Object.keys(EXACT)].join(', ')} ` +
      `(or Python's numbers for them), got ${String(v)}; prefer sslMinimumVersion`,
  );
}

/**
 * The bounds `sslVersion` stands for: null for the "any version" protocols,
 * else `{ min, max }` pinned to one version. Given beside sslMinimumVersion
 * or sslMaximumVersion it is a TypeError, as urllib3's ValueError. Any
 * sslVersion emits a DeprecationWarning (once per value).
 */
export function sslVersionBounds(
  v: SslVersion,
  hasExplicitBounds: boolean,
  where: string,
): { min: TlsVersion; max: TlsVersion } | null {
  const name = canonical(v, where);
  if (!ANY.has(name) && hasExplicitBounds) {
    throw new TypeError(`${where}: give sslVersion or sslMinimumVersion / sslMaximumVersion, not both`);
  }
  warnOnce(
    'DeprecationWarning',
    `sslVersion ${name}`,
    "The 'sslVersion' option is deprecated, as urllib3's 'ssl_version'; use 'sslMinimumVersion' instead",
  );
  const version = EXACT[name];
  return version === undefined ? null : { min: version, max: version };
}
