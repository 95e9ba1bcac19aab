// The manager a command-line request goes through, from the connection and
// TLS options: a ProxyManager or SOCKSProxyManager for --proxy, otherwise
// ProxyManager.fromEnv() so HTTP_PROXY / HTTPS_PROXY / ALL_PROXY / NO_PROXY
// apply as they do for curl. The library checks --proxy and --resolver URLs;
// what it rejects is reported as a usage error in its own words.

import {
  disableWarnings,
  HTTPError,
  HttpVersion,
  type PoolManagerOptions,
  ProxyManager,
  Retry,
  type ResolverInput,
  SOCKSProxyManager,
} from '../index.js';
import type { RequestArgs } from './args.js';
import { UsageError } from './usage-error.js';

/** What the CLI needs from a manager: the PoolManager request API and close(). */
export type Client = Pick<ProxyManager, 'request'> & { close(): Promise<void> };

export function managerOptions(args: RequestArgs): PoolManagerOptions {
  const o: PoolManagerOptions = {};
  if (args.insecure) {
    o.certReqs = 'CERT_NONE';
    // -k is an explicit choice: no InsecureRequestWarning on stderr.
    disableWarnings();
  }
  if (args.cacert !== null) o.caCerts = args.cacert;
  if (args.cert !== null) o.certFile = args.cert;
  if (args.key !== null) o.keyFile = args.key;
  if (args.resolvers.length > 0) o.resolver = resolverOption(args.resolvers);
  // Each flag leaves exactly one version on, so Alt-Svc cannot move the request elsewhere.
  if (args.httpVersion === 'http1.1') o.disabledSvn = new Set([HttpVersion.h2, HttpVersion.h3]);
  else if (args.httpVersion === 'http2') o.disabledSvn = new Set([HttpVersion.h11, HttpVersion.h3]);
  else if (args.httpVersion === 'http3') o.disabledSvn = new Set([HttpVersion.h11, HttpVersion.h2]);
  return o;
}

/** Resolver URLs go to the library as they are: it judges them (docs/api.md section 10). */
function resolverOption(urls: string[]): ResolverInput {
  return urls.length === 1 ? urls[0] : urls;
}

function isUsageProblem(err: unknown): boolean {
  return err instanceof TypeError || err instanceof RangeError || err instanceof HTTPError;
}

export function createClient(args: RequestArgs, env: Record<string, string | undefined>): Client {
  const options = managerOptions(args);
  const what =
    args.proxy !== null
      ? `--proxy ${args.proxy}`
      : args.resolvers.length > 0
        ? `--resolver ${args.resolvers.join(' ')}`
        : 'options';
  try {
    if (args.proxy === null) return ProxyManager.fromEnv(options, env);
    if (/^socks/i.test(args.proxy)) return new SOCKSProxyManager(args.proxy, options);
    return new ProxyManager(args.proxy, options);
  } catch (err) {
    if (isUsageProblem(err)) throw new UsageError(`${what}: ${(err as Error).message}`);
    throw err;
  }
}

/**
 * --retries N retries connection and read failures N times (never a status);
 * with --follow, --max-redirects bounds the redirects.
 */
export function retryFor(args: RequestArgs): Retry {
  return new Retry({
    total: null,
    connect: args.retries,
    read: args.retries,
    other: args.retries,
    status: 0,
    redirect: args.maxRedirects,
    raiseOnStatus: false,
    raiseOnRedirect: true,
  });
}
