// The resolver seam (docs/api.md section 10). A connection asks its resolver for
// addresses and connects to them in order; later issues add DNS over
// UDP/TLS/HTTPS, in-memory tables and lists of resolvers behind this same
// interface. This module defines the interface and nothing network-bound.

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

export abstract class BaseResolver {
  /** Resolve `host` to connectable addresses, in preference order. */
  abstract getaddrinfo(host: string, port: number, options?: ResolveOptions): Promise<ResolvedAddress[]>;
  /** Release sockets or sessions the resolver holds. */
  async close(): Promise<void> {}
  /** Whether the resolver can still answer (false once closed). */
  isAvailable(): boolean {
    return true;
  }
}
