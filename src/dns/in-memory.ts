// `in-memory://default?hosts=name:address&...` (docs/api.md section 10): a fixed
// table, like a hosts file. It answers only for the names in its table, so in
// a list of resolvers every other name goes on to the next one. In an entry
// the first `:` separates the name from the address, so IPv6 addresses may be
// written bare or in brackets (`v6.test:::1`, `v6.test:[::1]`).

import { isIP } from 'node:net';
import { debug } from '../debug.js';
import { resolutionError } from './failure.js';
import {
  BaseResolver,
  literalAddress,
  normaliseHost,
  type ResolveOptions,
  type ResolvedAddress,
} from './resolver.js';

export type InMemoryTable =
  | ReadonlyArray<string | readonly [string, string]>
  | Readonly<Record<string, string | readonly string[]>>;

export interface InMemoryResolverOptions {
  /** `name:address` strings, `[name, address]` pairs, or `{ name: address | address[] }`. */
  hosts: InMemoryTable;
}

/** Splits `name:address` at the first colon; the address may be bracketed. */
export function parseHostEntry(entry: string): [string, string] {
  const colon = entry.indexOf(':');
  if (colon <= 0 || colon === entry.length - 1) {
    throw new TypeError(`in-memory resolver: hosts entry '${entry}' is not name:address`);
  }
  return [entry.slice(0, colon), entry.slice(colon + 1)];
}

export class InMemoryResolver extends BaseResolver {
  private readonly table = new Map<string, ResolvedAddress[]>();

  constructor(options: InMemoryResolverOptions) {
    const pairs: Array<[string, string]> = [];
    const hosts = options.hosts;
    if (Array.isArray(hosts)) {
      for (const e of hosts as ReadonlyArray<string | readonly [string, string]>) {
        pairs.push(typeof e === 'string' ? parseHostEntry(e) : [e[0], e[1]]);
      }
    } else {
      for (const [name, value] of Object.entries(hosts as Record<string, string | readonly string[]>)) {
        for (const a of typeof value === 'string' ? [value] : value) pairs.push([name, a]);
      }
    }
    // The table's names are the resolver's constraints (a copy, so the
    // patterns cannot hold `*`: a table entry is one name).
    super({ hosts: pairs.map(([name]) => name.replace(/\*/g, '')) });
    for (const [name, raw] of pairs) {
      const address = normaliseHost(raw.trim());
      const family = isIP(address);
      if (family === 0) {
        throw new TypeError(`in-memory resolver: '${raw}' (for ${name}) is not an IPv4 or IPv6 address`);
      }
      const key = normaliseHost(name);
      const list = this.table.get(key) ?? [];
      list.push({ address, family: family === 6 ? 6 : 4, port: 0 });
      this.table.set(key, list);
    }
  }

  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const family = options?.family ?? 0;
    const literal = literalAddress(host, port, family);
    if (literal !== null) return literal;
    const entries = this.table.get(normaliseHost(host));
    if (entries === undefined) {
      throw resolutionError(host, 'the in-memory resolver has no entry for this name', { final: true });
    }
    const out = entries
      .filter((e) => family === 0 || e.family === family)
      .map((e) => ({ address: e.address, family: e.family, port }));
    debug('dns in-memory %s family=%d -> %s', host, family, out.map((a) => a.address).join(' '));
    return out;
  }
}
