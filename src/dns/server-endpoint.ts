// Where a DNS-speaking resolver (dou, dot, doq, doh) sends its queries, as
// its options give it (docs/api.md section 10): the server without the
// brackets of an IPv6 literal, the port, and the local address to send
// from, a bare address meaning any port; and how the resolver names itself
// in messages. ServerQueryResolver holds these for the resolvers that talk
// to one server:port themselves (dou, dot, doq).

import net from 'node:net';
import { QueryResolver, type QueryResolverOptions } from './query-resolver.js';

export interface ServerOptions {
  server: string;
  port?: number;
  sourceAddress?: string | [string, number] | null;
}

export interface ServerEndpoint {
  server: string;
  port: number;
  sourceAddress: [string, number] | null;
}

export function serverEndpoint(options: ServerOptions, defaultPort: number): ServerEndpoint {
  return {
    server: options.server.replace(/^\[(.*)\]$/, '$1'),
    port: options.port ?? defaultPort,
    sourceAddress: localAddress(options.sourceAddress),
  };
}

/** The local address and port to send from; a bare address means any port (0). */
export function localAddress(src: string | [string, number] | null | undefined): [string, number] | null {
  return src === null || src === undefined ? null : typeof src === 'string' ? [src, 0] : src;
}

/** `scheme://server:port`, an IPv6 server in brackets: e.g. "dou://[::1]:53". */
export function serverLabel(scheme: string, server: string, port: number): string {
  return `${scheme}://${net.isIPv6(server) ? `[${server}]` : server}:${port}`;
}

/** A resolver that sends its queries to one server and port: e.g. "dot://[::1]:853". */
export abstract class ServerQueryResolver extends QueryResolver {
  /** The server: an IP address, or a name resolved through the system. */
  readonly server: string;
  readonly port: number;
  readonly sourceAddress: [string, number] | null;
  private readonly label: string;

  constructor(options: QueryResolverOptions & ServerOptions, scheme: string, defaultPort: number) {
    super(options);
    const endpoint = serverEndpoint(options, defaultPort);
    this.server = endpoint.server;
    this.port = endpoint.port;
    this.sourceAddress = endpoint.sourceAddress;
    this.label = serverLabel(scheme, this.server, this.port);
  }

  describe(): string {
    return this.label;
  }
}
