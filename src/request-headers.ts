// Request-header helpers (docs/api.md section 12): urllib3's `make_headers`, the
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
  /** How `basicAuth` becomes bytes: "latin-1" (the default, as urllib3), "utf-8" or "ascii". */
  basicAuthEncoding?: string;
  /** How `proxyBasicAuth` becomes bytes: "latin-1" (the default), "utf-8" or "ascii". */
  proxyBasicAuthEncoding?: string;
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
  'basicAuthEncoding',
  'proxyBasicAuthEncoding',
);

type AuthEncoding = 'latin1' | 'utf8' | 'ascii';

/** The encodings a Basic credential may use, under the names Python's codecs know them by. */
const AUTH_ENCODINGS: ReadonlyMap<string, AuthEncoding> = new Map([
  ['latin-1', 'latin1'],
  ['latin1', 'latin1'],
  ['iso-8859-1', 'latin1'],
  ['iso8859-1', 'latin1'],
  ['utf-8', 'utf8'],
  ['utf8', 'utf8'],
  ['ascii', 'ascii'],
  ['us-ascii', 'ascii'],
]);

function authEncoding(name: string | undefined, option: string): AuthEncoding {
  if (name === undefined) return 'latin1';
  const encoding =
    typeof name === 'string' ? AUTH_ENCODINGS.get(name.toLowerCase().replaceAll('_', '-')) : undefined;
  if (encoding === undefined) {
    throw new TypeError(
      `makeHeaders: ${option} must be "latin-1", "utf-8" or "ascii", got ${JSON.stringify(name)}`,
    );
  }
  return encoding;
}

const ENCODING_LABEL: Record<AuthEncoding, string> = { latin1: 'Latin-1', utf8: 'UTF-8', ascii: 'ASCII' };

/**
 * `Basic <base64>` of the credentials in the chosen encoding; Latin-1 by
 * default, as urllib3 (RFC 7617 leaves the charset to the server). A character
 * the encoding cannot carry is an error that names it and the option that
 * changes the encoding, never a silent substitute.
 */
function basic(credentials: string, name: string, encoding: AuthEncoding): string {
  if (typeof credentials !== 'string')
    throw new TypeError(`makeHeaders: ${name} must be a "user:password" string`);
  const limit = encoding === 'latin1' ? 0xff : encoding === 'ascii' ? 0x7f : 0x10ffff;
  let position = 0;
  for (const ch of credentials) {
    const cp = ch.codePointAt(0)!;
    // A lone surrogate has no UTF-8 form either.
    if (cp > limit || (cp >= 0xd800 && cp <= 0xdfff)) {
      const code = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
      throw new TypeError(
        `makeHeaders: ${name} has ${code} at position ${position}, which ${ENCODING_LABEL[encoding]} cannot encode` +
          (encoding === 'utf8'
            ? ''
            : `; set ${name}Encoding: "utf-8" if the server expects UTF-8 credentials`),
      );
    }
    position++;
  }
  return `Basic ${Buffer.from(credentials, encoding === 'ascii' ? 'latin1' : encoding).toString('base64')}`;
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
    headers.authorization = basic(
      options.basicAuth,
      'basicAuth',
      authEncoding(options.basicAuthEncoding, 'basicAuthEncoding'),
    );
  }
  if (options.proxyBasicAuth !== undefined && options.proxyBasicAuth !== '') {
    headers['proxy-authorization'] = basic(
      options.proxyBasicAuth,
      'proxyBasicAuth',
      authEncoding(options.proxyBasicAuthEncoding, 'proxyBasicAuthEncoding'),
    );
  }
  if (options.disableCache) headers['cache-control'] = 'no-cache';
  return headers;
}
