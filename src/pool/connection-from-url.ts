// connectionFromUrl (urllib3's connection_from_url): a fresh pool for the
// origin of a URL, HTTPS or plain by its scheme.

import { defaultPort } from '../authority.js';
import { LocationValueError } from '../errors.js';
import { parseUrl } from '../url.js';
import {
  HTTPConnectionPool,
  type HTTPConnectionPoolOptions,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
} from './connection-pool.js';

export function connectionFromUrl(url: string, options?: HTTPSConnectionPoolOptions): HTTPConnectionPool {
  const u = parseUrl(url);
  if (u.host === null) throw new LocationValueError(`No host specified in ${url}`);
  const scheme = u.scheme ?? 'http';
  const port = u.port ?? defaultPort(scheme) ?? 80;
  if (scheme === 'https') return new HTTPSConnectionPool(u.host, { ...options, port });
  return new HTTPConnectionPool(u.host, { ...(options as HTTPConnectionPoolOptions), port });
}
