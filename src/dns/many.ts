// ManyResolver (docs/api.md section 10): a list of resolvers tried in order, each
// answering only for its `hosts` patterns. For a name, the resolvers whose
// patterns match it come first (so `null://default?hosts=blocked.test` blocks
// that name even after an unrestricted resolver), then the unrestricted
// ones. A final failure (the name does not exist, a null resolver refuses
// it) ends the search; any other failure (timeout, SERVFAIL, a server gone)
// passes the name to the next resolver. `localhost` always resolves through
// the system, as urllib3-future adds `system://default?hosts=localhost`.

import { debug } from '../debug.js';
import { isFinalFailure, resolutionError } from './failure.js';
import {
  BaseResolver,
  literalAddress,
  matchesHostPattern,
  normaliseHost,
  type ResolveOptions,
  type ResolvedAddress,
} from './resolver.js';
import { systemResolver } from './system.js';

export class ManyResolver extends BaseResolver {
  readonly resolvers: readonly BaseResolver[];

  constructor(...resolvers: BaseResolver[]) {
    super();
    this.resolvers = resolvers;
  }

  /** The resolvers to ask about `host`, in order. */
  candidates(host: string): BaseResolver[] {
    const name = normaliseHost(host);
    if (name === 'localhost') return [systemResolver()];
    const restricted: BaseResolver[] = [];
    const open: BaseResolver[] = [];
    for (const r of this.resolvers) {
      if (!r.isAvailable()) continue;
      if (r.hasConstraints()) {
        if (matchesHostPattern(name, r.hostPatterns)) restricted.push(r);
      } else {
        open.push(r);
      }
    }
    return restricted.concat(open);
  }

  override supports(host: string): boolean {
    return this.candidates(host).length > 0;
  }

  async getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]> {
    const literal = literalAddress(host, port, options?.family ?? 0);
    if (literal !== null) return literal;
    const candidates = this.candidates(host);
    if (candidates.length === 0) {
      throw resolutionError(
        host,
        'no resolver of the list answers for this name (see their hosts patterns)',
        {
          final: true,
        },
      );
    }
    let last: unknown = null;
    for (const r of candidates) {
      try {
        return await r.getaddrinfo(host, port, options);
      } catch (err) {
        last = err;
        if (isFinalFailure(err) || options?.signal?.aborted) throw err;
        debug(
          'dns %s: %s failed (%s), trying the next resolver',
          host,
          r.constructor.name,
          (err as Error).message,
        );
      }
    }
    throw last;
  }

  override async getHttpsAlpn(host: string, options?: { signal?: AbortSignal }): Promise<string[] | null> {
    for (const r of this.candidates(host)) {
      try {
        const alpn = await r.getHttpsAlpn(host, options);
        if (alpn !== null) return alpn;
      } catch (err) {
        if (isFinalFailure(err)) return [];
      }
    }
    return null;
  }

  override isAvailable(): boolean {
    return this.resolvers.some((r) => r.isAvailable());
  }

  /** Closes every resolver of the list. */
  override async close(): Promise<void> {
    await Promise.all(this.resolvers.map((r) => r.close()));
  }
}
