// The default resolver: the operating system's getaddrinfo through
// dns.promises.lookup, so /etc/hosts and nsswitch apply exactly as for any
// other program on the machine (`system://default`). Its answers come from
// libuv's thread pool and carry no TTL, so nothing is cached here.

import { promises as dnsPromises } from 'node:dns';
import { debug } from '../debug.js';
import { resolutionError } from './failure.js';
import {
  BaseResolver,
  type BaseResolverOptions,
  literalAddress,
  type ResolveOptions,
  type ResolvedAddress,
} from './resolver.js';

export class SystemResolver extends BaseResolver {
  constructor(options: BaseResolverOptions = {}) {
    super(options);
  }

  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const family = options?.family ?? 0;
    const literal = literalAddress(host, port, family);
    if (literal !== null) return literal;
    let answers: Array<{ address: string; family: number }>;
    try {
      answers = await dnsPromises.lookup(host, { all: true, family, verbatim: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      debug('dns system %s family=%d failed: %s', host, family, code);
      throw resolutionError(host, `system resolver: ${(err as Error).message}`, {
        cause: err,
        final: code === 'ENOTFOUND',
      });
    }
    debug('dns system %s family=%d -> %s', host, family, answers.map((a) => a.address).join(' '));
    return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4, port }));
  }
}

let shared: SystemResolver | null = null;
/** One stateless system resolver is enough for the whole process. */
export function systemResolver(): SystemResolver {
  if (shared === null) shared = new SystemResolver();
  return shared;
}
