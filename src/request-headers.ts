// Request-header helpers (API.md section 12): urllib3's `make_headers`, the
// default User-Agent, and SKIP_HEADER, the value that tells the serializer to
// leave out a header it would otherwise add (Host, User-Agent, Accept-Encoding).
//
// Nothing here sends or validates headers; the version is read from
// package.json once, when the module loads.

import { readFileSync } from 'node:fs';
import { checkOptions, optionSet } from './options.js';

/** Header value meaning "do not send the default for this header". */
export const SKIP_HEADER = '@@@SKIP_HEADER@@@';

/** Lower-cased names of the headers SKIP_HEADER may suppress. */
export const SKIPPABLE_HEADERS: ReadonlySet<string> = new Set(['accept-encoding', 'host', 'user-agent']);

/** Content codings this library decodes, in the order advertised. */
export const ACCEPT_ENCODING = 'gzip,deflate,br,zstd';

function readVersion(): string {
  // src/ (under tsx) and dist/ (compiled) both sit one level below the package root.
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version?: unknown;
    };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export const VERSION: string = readVersion();

export const DEFAULT_USER_AGENT = `urllib3-ts/${VERSION}`;

export interface MakeHeadersOptions {
  /** Adds `connection: keep-alive`. */
  keepAlive?: boolean;
  /** `true` advertises every supported coding; a string or list is sent as given (joined with ","). */
  acceptEncoding?: boolean | string | readonly string[];
  userAgent?: string;
  /** `"user:password"` for `authorization: Basic ...`. */
  basicAuth?: string;
  /** `"user:password"` for `proxy-authorization: Basic ...`. */
  proxyBasicAuth?: string;
  /** Adds `cache-control: no-cache`. */
  disableCache?: boolean;
}

const MAKE_HEADERS_OPTIONS = optionSet(
  'keepAlive',
  'acceptEncoding',
  'userAgent',
  'basicAuth',
  'proxyBasicAuth',
  'disableCache',
);

/**
 * Credentials go out as Latin-1 when they fit (what urllib3 and most servers
 * expect), and as UTF-8 otherwise (RFC 7617 section 2.1), rather than failing.
 */
function basic(credentials: string, name: string): string {
  if (typeof credentials !== 'string')
    throw new TypeError(`makeHeaders: ${name} must be a "user:password" string`);
  const latin1 = /^[\x00-\xff]*$/.test(credentials);
  return `Basic ${Buffer.from(credentials, latin1 ? 'latin1' : 'utf8').toString('base64')}`;
}

/**
 * Builds common request headers (urllib3's `make_headers`), with lower-case
 * names in a fixed order.
 */
export function makeHeaders(options: MakeHeadersOptions = {}): Record<string, string> {
  checkOptions('makeHeaders', options, MAKE_HEADERS_OPTIONS);
  const headers: Record<string, string> = {};
  // As in urllib3, empty values ("", []) add nothing.
  const { acceptEncoding } = options;
  if (acceptEncoding !== undefined && acceptEncoding !== false) {
    let value: string;
    if (acceptEncoding === true) value = ACCEPT_ENCODING;
    else if (typeof acceptEncoding === 'string') value = acceptEncoding;
    else if (Array.isArray(acceptEncoding)) value = acceptEncoding.join(',');
    else throw new TypeError('makeHeaders: acceptEncoding must be a boolean, a string or a list of strings');
    if (value !== '') headers['accept-encoding'] = value;
  }
  if (options.userAgent !== undefined) {
    if (typeof options.userAgent !== 'string') throw new TypeError('makeHeaders: userAgent must be a string');
    if (options.userAgent !== '') headers['user-agent'] = options.userAgent;
  }
  if (options.keepAlive) headers.connection = 'keep-alive';
  if (options.basicAuth !== undefined && options.basicAuth !== '') {
    headers.authorization = basic(options.basicAuth, 'basicAuth');
  }
  if (options.proxyBasicAuth !== undefined && options.proxyBasicAuth !== '') {
    headers['proxy-authorization'] = basic(options.proxyBasicAuth, 'proxyBasicAuth');
  }
  if (options.disableCache) headers['cache-control'] = 'no-cache';
  return headers;
}
