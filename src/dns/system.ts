// The default resolver: the operating system's getaddrinfo through
// dns.promises.lookup, so /etc/hosts and nsswitch apply exactly as for any
// other program on the machine.

import { promises as dnsPromises } from 'node:dns';
import { BaseResolver, type ResolveOptions, type ResolvedAddress } from './resolver.js';

export class SystemResolver extends BaseResolver {
  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const family = options?.family ?? 0;
    const answers = await dnsPromises.lookup(host, { all: true, family, verbatim: true });
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, port }));
  }
}

let shared: SystemResolver | null = null;
/** One stateless system resolver is enough for the whole process. */
export function systemResolver(): SystemResolver {
  if (shared === null) shared = new SystemResolver();
  return shared;
}
