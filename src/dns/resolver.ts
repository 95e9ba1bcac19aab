// The resolver seam (docs/api.md section 10). A connection asks its resolver for
// addresses; the schemes of section 10 (system, in-memory, null, DNS over
// UDP/TLS/HTTPS) and lists of them (ManyResolver) all stand behind this one
// class. A resolver may be restricted to some names (`hosts` patterns such as
// `*.company.internal`); a ManyResolver then asks it only about those.
// This module defines the interface and nothing network-bound.

import { isIP } from 'node:net';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
  port: number;
}

export interface ResolveOptions {
  /** 0 = any, 4 or 6 to restrict the answer. */
  family?: 0 | 4 | 6;
  signal?: AbortSignal;
}

export interface BaseResolverOptions {
  /**
   * Names this resolver answers for: exact names, or `*.suffix` for any name
   * below `suffix`; commas separate several patterns in one string. Empty or
   * absent: every name.
   */
  hosts?: readonly string[] | null;
}

/** Lower case, no final dot: the form names are compared in. */
export function normaliseHost(host: string): string {
  let h =
    host.length > 1 && host.charCodeAt(0) === 91 /* [ */ && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h.toLowerCase();
}

export function parseHostPatterns(hosts: readonly string[] | null | undefined): string[] {
  const out: string[] = [];
  for (const entry of hosts ?? []) {
    for (const p of entry.split(',')) {
      const pattern = normaliseHost(p.trim());
      if (pattern !== '') out.push(pattern);
    }
  }
  return out;
}

/** Whether `host` (normalised) matches one of `patterns`: exact, or below a `*.` suffix. */
export function matchesHostPattern(host: string, patterns: readonly string[]): boolean {
  for (const p of patterns) {
    if (p === host || p === '*') return true;
    if (p.startsWith('*.') && host.length > p.length - 1 && host.endsWith(p.slice(1))) return true;
  }
  return false;
}

/** An IP literal answers for itself, whatever the resolver: the one address, if its family is allowed. */
export function literalAddress(host: string, port: number, family: 0 | 4 | 6): ResolvedAddress[] | null {
  // Cheap test first (this runs on every request): a name's last label is
  // never all digits, so an IP literal ends in a digit, a hex digit after a
  // colon, ']' or '.'.
  const last = host.charCodeAt(host.length - 1);
  if (!(last >= 48 && last <= 57) && last !== 93 && last !== 46 && !host.includes(':')) return null;
  const h = normaliseHost(host);
  const kind = isIP(h);
  if (kind === 0) return null;
  if (family !== 0 && family !== kind) return [];
  return [{ address: h, family: kind === 6 ? 6 : 4, port }];
}

export abstract class BaseResolver {
  /** Normalised `hosts` patterns; empty when the resolver answers for every name. */
  readonly hostPatterns: readonly string[];

  constructor(options: BaseResolverOptions = {}) {
    this.hostPatterns = parseHostPatterns(options.hosts);
  }

  /** Resolve `host` to connectable addresses, in preference order. */
  abstract getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]>;
  /** Release sockets or sessions the resolver holds. */
  async close(): Promise<void> {}
  /** Whether the resolver can still answer (false once closed). */
  isAvailable(): boolean {
    return true;
  }
  /** Whether the resolver is restricted to some names (urllib3-future's have_constraints()). */
  hasConstraints(): boolean {
    return this.hostPatterns.length > 0;
  }
  /** Whether this resolver answers for `host`: always, unless `hosts` patterns restrict it. */
  supports(host: string): boolean {
    return this.hostPatterns.length === 0 || matchesHostPattern(normaliseHost(host), this.hostPatterns);
  }
  /**
   * The ALPN ids of `host`'s HTTPS record (RFC 9460), e.g. `['h3', 'h2']`:
   * urllib3-future's quic_upgrade_via_dns_rr, kept for the HTTP/3 work. An
   * empty array when the name has no HTTPS record or it names no ALPN; null
   * when this resolver cannot ask (the system resolver).
   */
  async getHttpsAlpn(_host: string, _options?: { signal?: AbortSignal }): Promise<string[] | null> {
    return null;
  }
}
