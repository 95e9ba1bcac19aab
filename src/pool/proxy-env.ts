// Which proxy the environment names for a URL (docs/api.md section 8):
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, with the lower-case
// variable winning over the upper-case one as in curl. Pure functions over
// an env record: no I/O, no DNS (NO_PROXY CIDR entries match IP literals
// only, never a resolved name).

import { BlockList, isIP } from 'node:net';
import { unbracketHost } from '../authority.js';

export interface ProxyEnv {
  http: string | null;
  https: string | null;
  all: string | null;
  noProxy: string | null;
}

type Env = Record<string, string | undefined>;

function pick(env: Env, name: string): string | null {
  const lower = env[name.toLowerCase()];
  if (lower !== undefined && lower.trim() !== '') return lower.trim();
  const upper = env[name.toUpperCase()];
  if (upper !== undefined && upper.trim() !== '') return upper.trim();
  return null;
}

export function readProxyEnv(env: Env = process.env): ProxyEnv {
  return {
    http: pick(env, 'http_proxy'),
    https: pick(env, 'https_proxy'),
    all: pick(env, 'all_proxy'),
    noProxy: pick(env, 'no_proxy'),
  };
}

interface NoProxyRule {
  /** Lower-case host or domain suffix without a leading dot; '*' for everything. */
  host: string | null;
  port: number | null;
  cidr: BlockList | null;
}

/** Parse a NO_PROXY value: comma or whitespace separated entries. */
function parseNoProxy(value: string | null): NoProxyRule[] {
  if (value === null) return [];
  const rules: NoProxyRule[] = [];
  for (const raw of value.split(/[\s,]+/)) {
    let entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') {
      rules.push({ host: '*', port: null, cidr: null });
      continue;
    }
    const slash = entry.indexOf('/');
    if (slash !== -1) {
      const addr = unbracketHost(entry.slice(0, slash));
      const bits = Number(entry.slice(slash + 1));
      const fam = isIP(addr);
      if (fam !== 0 && Number.isInteger(bits) && bits >= 0 && bits <= (fam === 4 ? 32 : 128)) {
        const list = new BlockList();
        list.addSubnet(addr, bits, fam === 4 ? 'ipv4' : 'ipv6');
        rules.push({ host: null, port: null, cidr: list });
      }
      continue;
    }
    let port: number | null = null;
    if (entry.startsWith('[')) {
      const close = entry.indexOf(']');
      if (close !== -1 && entry[close + 1] === ':') port = Number(entry.slice(close + 2)) || null;
      entry = entry.slice(1, close === -1 ? undefined : close);
    } else if ((entry.match(/:/g) ?? []).length === 1) {
      const colon = entry.indexOf(':');
      port = Number(entry.slice(colon + 1)) || null;
      entry = entry.slice(0, colon);
    }
    if (entry.startsWith('*.')) entry = entry.slice(2);
    else if (entry.startsWith('.')) entry = entry.slice(1);
    if (entry !== '') rules.push({ host: entry, port, cidr: null });
  }
  return rules;
}

/** Whether NO_PROXY says `host:port` is reached directly. */
export function bypassesProxy(host: string, port: number, noProxy: string | null): boolean {
  const h = unbracketHost(host.toLowerCase()).replace(/\.$/, '');
  const fam = isIP(h);
  for (const rule of parseNoProxy(noProxy)) {
    if (rule.host === '*') return true;
    if (rule.cidr !== null) {
      if (fam !== 0 && rule.cidr.check(h, fam === 4 ? 'ipv4' : 'ipv6')) return true;
      continue;
    }
    if (rule.port !== null && rule.port !== port) continue;
    const r = rule.host!;
    if (h === r) return true;
    // A domain entry covers its subdomains (with or without a leading dot), never a partial label.
    if (fam === 0 && h.endsWith(`.${r}`)) return true;
  }
  return false;
}

/** The proxy URL to use for `scheme://host:port`, or null to go direct. */
export function proxyForUrl(scheme: string, host: string, port: number, env: ProxyEnv): string | null {
  if (bypassesProxy(host, port, env.noProxy)) return null;
  if (scheme === 'https') return env.https ?? env.all;
  if (scheme === 'http') return env.http ?? env.all;
  return env.all;
}
