// Pool keys (docs/api.md section 4): scheme + host + port + every option that
// changes what a connection is. Two requests share a pool exactly when their
// keys are equal. Keys are strings so a Map can hold the pools; option values
// that are objects without a value form (resolvers, contexts, Retry
// instances) are keyed by identity, as urllib3 keys them by hash.

import { createHash } from 'node:crypto';
import { unbracketHost } from '../authority.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';

export type PoolKey = string;

const identities = new WeakMap<object, number>();
let nextIdentity = 0;

function identity(o: object): string {
  let id = identities.get(o);
  if (id === undefined) {
    id = ++nextIdentity;
    identities.set(o, id);
  }
  return `#${id}`;
}

/**
 * Secrets are keyed by a digest so a key printed in debug output never shows
 * them: key material, and the proxy URL, which may carry credentials
 * (`socks5h://user:pass@host`; docs/security.md).
 */
const SECRET_OPTIONS = new Set(['keyPassword', 'keyData', 'proxy']);
/** Header fields whose values are secrets: keyed by digest too. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

function digest(v: unknown): string {
  const bytes = typeof v === 'string' ? Buffer.from(v) : v instanceof Uint8Array ? v : Buffer.from(String(v));
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function keyValue(name: string, v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (SECRET_OPTIONS.has(name)) return digest(v);
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
    case 'boolean':
      return String(v);
    case 'function':
      return identity(v);
    case 'object':
      break;
    default:
      return String(v);
  }
  if (name === 'headers' || name === 'proxyHeaders') {
    const h = new HTTPHeaderDict(v as HeadersInit);
    const parts: string[] = [];
    for (const [k, val] of h.entries()) {
      const lower = k.toLowerCase();
      parts.push(`${lower}=${SECRET_HEADERS.has(lower) ? digest(val) : JSON.stringify(val)}`);
    }
    return `{${parts.sort().join(',')}}`;
  }
  if (v instanceof Set)
    return `set(${[...v]
      .map((x) => keyValue('', x))
      .sort()
      .join(',')})`;
  if (Array.isArray(v)) return `[${v.map((x) => keyValue('', x)).join(',')}]`;
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `bytes:${Buffer.from(v).toString('base64')}`;
  const proto = Object.getPrototypeOf(v);
  if (proto === Object.prototype || proto === null) {
    const rec = v as Record<string, unknown>;
    return `{${Object.keys(rec)
      .sort()
      .map((k) => `${k}:${keyValue(k, rec[k])}`)
      .join(',')}}`;
  }
  // Timeout has a faithful string form; everything else is keyed by identity.
  if (name === 'timeout' && typeof (v as { toString?: unknown }).toString === 'function') return String(v);
  return identity(v);
}

/** The key for a request context: `{ scheme, host, port, ...poolOptions }`. */
export function makePoolKey(context: Record<string, unknown>): PoolKey {
  const scheme = String(context['scheme']).toLowerCase();
  const host = unbracketHost(String(context['host']).toLowerCase());
  const port = context['port'];
  const rest = Object.keys(context)
    .filter((k) => k !== 'scheme' && k !== 'host' && k !== 'port' && context[k] !== undefined)
    .sort()
    .map((k) => `${k}=${keyValue(k, context[k])}`);
  return `${scheme}://${host}:${String(port)}${rest.length ? `|${rest.join('|')}` : ''}`;
}
