// `null://default[?hosts=...]` (docs/api.md section 10): refuses to resolve. With
// `hosts` it is restricted to those names, so in a list it blocks only them
// (`["doh+google://", "null://default?hosts=www.idontwantthis.tld"]`); IP
// literals still connect, as there is nothing to resolve.

import { resolutionError } from './failure.js';
import { BaseResolver, literalAddress, type ResolveOptions, type ResolvedAddress } from './resolver.js';

export class NullResolver extends BaseResolver {
  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const literal = literalAddress(host, port, options?.family ?? 0);
    if (literal !== null) return literal;
    throw resolutionError(host, 'name resolution is disabled for this name (null:// resolver)', {
      final: true,
    });
  }
}
