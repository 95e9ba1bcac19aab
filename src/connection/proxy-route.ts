// The proxy a connection goes through, parsed from its `proxy` option, and
// the small facts about proxied requests the connection needs (docs/api.md
// section 8): the Host of an absolute-form target, and whether a failed TLS
// handshake met a proxy that speaks only plain HTTP.

import { authority, unbracketHost } from '../authority.js';
import { parseUrl } from '../url.js';

/** A proxy URL taken apart. */
export interface ProxyRoute {
  scheme: string;
  host: string;
  port: number;
  auth: string | null;
}

const PROXY_SCHEMES = new Set(['http', 'https', 'socks4', 'socks4a', 'socks5', 'socks5h']);
const PROXY_DEFAULT_PORTS: Record<string, number> = { http: 80, https: 443 };

export function parseProxy(url: string, where: string): ProxyRoute {
  const u = parseUrl(url);
  if (u.scheme === null || !PROXY_SCHEMES.has(u.scheme) || u.host === null) {
    throw new TypeError(
      `${where}: proxy must be an http://, https:// or socks URL, got ${JSON.stringify(url)}`,
    );
  }
  const host = unbracketHost(u.host);
  return { scheme: u.scheme, host, port: u.port ?? PROXY_DEFAULT_PORTS[u.scheme] ?? 1080, auth: u.auth };
}

/** A TLS handshake that met a plain-HTTP server fails with one of these. */
export function looksLikePlainHttp(err: Error): boolean {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause)
    parts.push(`${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`);
  return /WRONG_VERSION_NUMBER|wrong version number|packet length too long|http request|not TLS|record layer failure/i.test(
    parts.join(' '),
  );
}

/** The Host header for an absolute-form target (forwarding proxies). */
export function hostOfAbsolute(target: string, fallback: string): string {
  try {
    const u = parseUrl(target);
    if (u.host === null) return fallback;
    // As before: without a scheme the port of plain http is the default one.
    return authority(u.host, u.port, u.scheme ?? 'http');
  } catch {
    return fallback;
  }
}
