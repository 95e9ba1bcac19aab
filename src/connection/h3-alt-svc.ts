// Where an origin speaks HTTP/3 (docs/api.md section 9): the `Alt-Svc`
// header of its TCP responses (RFC 7838) read for an `h3` alternative,
// remembered per origin in a `preemptiveQuicCache` - a Map-like object the
// user may persist and seed, from an origin "host:port" to its QUIC endpoint
// "host:port", or null for an origin known not to speak HTTP/3 - plus what
// the cache itself cannot hold: when a learned entry expires (ma, default 24
// hours) and a cool-down after a failed QUIC attempt, during which the
// origin is reached over TCP only. Pure bookkeeping; no I/O.

import { bracketHost, unbracketHost } from '../authority.js';

/** The Map-like object behind preemptiveQuicCache. */
export interface QuicCache {
  get(origin: string): string | null | undefined;
  set(origin: string, endpoint: string | null): unknown;
  delete(origin: string): unknown;
  has(origin: string): boolean;
}

/** RFC 7838 section 3.1: ma defaults to 24 hours. */
const DEFAULT_MAX_AGE_S = 86400;
/** How long an origin whose QUIC attempt failed is reached over TCP only (ms). */
export const QUIC_COOL_DOWN_MS = 5 * 60_000;

/** What an Alt-Svc value says about HTTP/3. */
export interface AltSvcH3 {
  /** `clear`: forget every alternative. */
  clear: boolean;
  /** The first h3 alternative: its host (empty: the origin's) and port, and how long it holds (s). */
  h3: { host: string; port: number; maxAge: number } | null;
}

/** Parses an Alt-Svc field value for its first `h3` alternative (RFC 7838 section 3). */
export function parseAltSvc(value: string): AltSvcH3 {
  if (value.trim().toLowerCase() === 'clear') return { clear: true, h3: null };
  for (const entry of splitOutsideQuotes(value, ',')) {
    const params = splitOutsideQuotes(entry, ';').map((p) => p.trim());
    const first = params[0] ?? '';
    const eq = first.indexOf('=');
    if (eq === -1 || first.slice(0, eq).trim() !== 'h3') continue;
    const authority = unquote(first.slice(eq + 1).trim());
    const colon = authority.lastIndexOf(':');
    if (colon === -1) continue;
    const port = Number(authority.slice(colon + 1));
    if (!Number.isInteger(port) || port < 1 || port > 65535) continue;
    let maxAge = DEFAULT_MAX_AGE_S;
    for (const p of params.slice(1)) {
      const [k, v] = p.split('=', 2).map((x) => x.trim());
      if (k === 'ma' && v !== undefined && /^\d+$/.test(unquote(v))) maxAge = Number(unquote(v));
    }
    return { clear: false, h3: { host: unbracketHost(authority.slice(0, colon)), port, maxAge } };
  }
  return { clear: false, h3: null };
}

function unquote(s: string): string {
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? s.slice(1, -1) : s;
}

function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === sep && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

interface SideTable {
  /** When learned entries expire (ms since the epoch), by origin. */
  expires: Map<string, number>;
  /** Until when an origin is TCP only after a failed QUIC attempt. */
  coolDown: Map<string, number>;
}

const sides = new WeakMap<QuicCache, SideTable>();

function side(cache: QuicCache): SideTable {
  let t = sides.get(cache);
  if (t === undefined) {
    t = { expires: new Map(), coolDown: new Map() };
    sides.set(cache, t);
  }
  return t;
}

/** `host:port` of an origin, as the cache keys it. */
export function originKey(host: string, port: number): string {
  return `${bracketHost(unbracketHost(host))}:${port}`;
}

/** The QUIC endpoint to try for `origin` now, or null (unknown, known not to, expired or cooling down). */
export function quicEndpoint(
  cache: QuicCache,
  origin: string,
  now = Date.now(),
): { host: string; port: number } | null {
  const t = side(cache);
  const until = t.coolDown.get(origin);
  if (until !== undefined) {
    if (until > now) return null;
    t.coolDown.delete(origin);
  }
  const value = cache.get(origin);
  if (value === null || value === undefined) return null;
  const exp = t.expires.get(origin);
  if (exp !== undefined && exp <= now) {
    cache.delete(origin);
    t.expires.delete(origin);
    return null;
  }
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon === -1 || !Number.isInteger(port)) return null;
  return { host: unbracketHost(value.slice(0, colon)), port };
}

/**
 * Records what a TCP response's Alt-Svc value says about `origin`; true
 * when an h3 endpoint became known that was not before.
 */
export function learnAltSvc(
  cache: QuicCache,
  origin: string,
  originHost: string,
  value: string,
  now = Date.now(),
): boolean {
  const parsed = parseAltSvc(value);
  const t = side(cache);
  if (parsed.clear) {
    if (cache.has(origin)) cache.delete(origin);
    t.expires.delete(origin);
    return false;
  }
  const h3 = parsed.h3;
  if (h3 === null || h3.maxAge === 0) return false;
  const endpoint = originKey(h3.host === '' ? originHost : h3.host, h3.port);
  const known = cache.get(origin);
  cache.set(origin, endpoint);
  t.expires.set(origin, now + h3.maxAge * 1000);
  return known !== endpoint;
}

/** Whether `origin` is reached over TCP only for now, after a failed QUIC attempt. */
export function quicCoolingDown(cache: QuicCache, origin: string, now = Date.now()): boolean {
  const until = side(cache).coolDown.get(origin);
  return until !== undefined && until > now;
}

/** A QUIC attempt to `origin` failed: TCP only for the cool-down. */
export function quicFailed(cache: QuicCache, origin: string, now = Date.now()): void {
  side(cache).coolDown.set(origin, now + QUIC_COOL_DOWN_MS);
}
