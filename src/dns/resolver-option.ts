// The `resolver` option of connections, pools and managers (docs/api.md section
// 10): a URL, a list of URLs, a resolver, a ResolverDescription, or a list of
// any of them, turned into one resolver plus a stable key for pool keys.
// Anything other than the plain system resolver is wrapped in a ManyResolver
// so that `localhost` still goes to the system. Resolvers built here from
// URLs belong to whoever called this (close() closes them); resolver objects
// the user passed are the user's and are left open.

import type { DnsCacheOptions } from './cache.js';
import { type ResolverContext, ResolverDescription } from './description.js';
import type { DohHttpClient } from './doh.js';
import { ManyResolver } from './many.js';
import { BaseResolver } from './resolver.js';
import { SystemResolver, systemResolver } from './system.js';

export type ResolverSpec = string | BaseResolver | ResolverDescription;
export type ResolverInput = ResolverSpec | readonly ResolverSpec[] | null | undefined;

export interface ResolverSetup {
  /** The resolver to call getaddrinfo() on. */
  resolver: BaseResolver;
  /** Equal for equal configurations (same URLs, same resolver objects): part of a pool key. */
  key: string;
  /** Closes the resolvers built from URLs here (not the ones the user passed in). */
  close(): Promise<void>;
}

export interface ResolverSetupOptions {
  /** The manager's CA options, passed on to dot:// and doh:// URLs that set none. */
  caCerts?: string | null;
  caCertDir?: string | null;
  caCertData?: string | Uint8Array | null;
  /** HTTP client for doh:// URLs (default: the one registered with setDohClientFactory). */
  dohClient?: DohHttpClient;
  cache?: DnsCacheOptions | false;
}

const instanceIds = new WeakMap<object, number>();
let nextInstanceId = 1;

/** A stable key for one resolver object: its description when it has one, else its identity. */
export function resolverKey(r: BaseResolver): string {
  if (r instanceof SystemResolver && !r.hasConstraints()) return 'system://default';
  let id = instanceIds.get(r);
  if (id === undefined) {
    id = nextInstanceId++;
    instanceIds.set(r, id);
  }
  return `${r.constructor.name}#${id}`;
}

function isSpec(v: unknown): v is ResolverSpec {
  return typeof v === 'string' || v instanceof BaseResolver || v instanceof ResolverDescription;
}

/**
 * The `resolver` option as an object to call: a BaseResolver is used as it
 * is (the caller owns it); anything else (a URL, a description, a list) is
 * set up here, with `caOptions` passed on to dot:// and doh:// URLs that
 * bring none, and the result's close() belongs to whoever asked.
 */
export function ownResolver(
  input: ResolverInput,
  caOptions: { caCerts?: string | null; caCertDir?: string | null; caCertData?: string | Uint8Array | null },
): ResolverSetup {
  if (input instanceof BaseResolver)
    return { resolver: input, key: resolverKey(input), close: async () => {} };
  return setUpResolver(input, {
    caCerts: caOptions.caCerts ?? null,
    caCertDir: caOptions.caCertDir ?? null,
    caCertData: caOptions.caCertData ?? null,
  });
}

export function setUpResolver(input: ResolverInput, options: ResolverSetupOptions = {}): ResolverSetup {
  if (input === null || input === undefined) {
    return { resolver: systemResolver(), key: 'system://default', close: async () => {} };
  }
  const specs: readonly unknown[] = Array.isArray(input) ? input : [input];
  if (specs.length === 0) throw new TypeError('resolver: an empty list names no resolver');
  const ctx: ResolverContext = {
    caCerts: options.caCerts ?? null,
    caCertDir: options.caCertDir ?? null,
    caCertData: options.caCertData ?? null,
  };
  if (options.dohClient) ctx.dohClient = options.dohClient;
  if (options.cache !== undefined) ctx.cache = options.cache;
  const owned: BaseResolver[] = [];
  const resolvers: BaseResolver[] = [];
  const keys: string[] = [];
  try {
    for (const spec of specs) {
      if (!isSpec(spec)) {
        throw new TypeError(
          `resolver: expected a URL string, a BaseResolver or a ResolverDescription, got ${spec === null ? 'null' : typeof spec}`,
        );
      }
      if (spec instanceof BaseResolver) {
        resolvers.push(spec);
        keys.push(resolverKey(spec));
        continue;
      }
      const d = typeof spec === 'string' ? ResolverDescription.fromUrl(spec) : spec;
      const r = d.new(ctx);
      owned.push(r);
      resolvers.push(r);
      keys.push(d.toString());
    }
  } catch (err) {
    for (const r of owned) void r.close();
    throw err;
  }
  const close = async () => {
    await Promise.all(owned.map((r) => r.close()));
  };
  const only = resolvers[0]!;
  if (resolvers.length === 1 && only instanceof SystemResolver && !only.hasConstraints()) {
    return { resolver: only, key: 'system://default', close };
  }
  return { resolver: new ManyResolver(...resolvers), key: keys.join(' '), close };
}
