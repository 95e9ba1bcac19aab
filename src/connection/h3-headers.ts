// HTTP/3's view of a request head (RFC 9114 section 4.3): our flat header
// list as a QPACK field list, pseudo-header fields first, names lower-cased,
// connection-specific fields dropped (section 4.2), Host carried as
// :authority. Pure functions; the session encodes the result.

import { InvalidHeader, ProtocolError } from '../errors.js';
import { eachRequestField } from './request-fields.js';
import type { ExchangeRequest } from './session.js';

/**
 * Flat [name, value, ...] fields for a request. `authority` is used when the
 * request names no Host. An Upgrade request has no HTTP/3 form here
 * (extended CONNECT over HTTP/3 is not offered): a permanent error.
 */
export function requestFields(opts: ExchangeRequest, authority: string, label: string): string[] {
  const regular: string[] = [];
  const pairs = opts.headers;
  const host = eachRequestField(pairs, (name, value) => {
    regular.push(name, value);
  });
  let upgrade = false;
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i]!.toLowerCase() === 'upgrade') upgrade = true;
  if (upgrade && /(^|,)\s*upgrade\s*(,|$)/i.test(headerValue(pairs, 'connection'))) {
    throw new ProtocolError(
      `${label}: an Upgrade request cannot be sent over HTTP/3; disable HTTP/3 for it (disabledSvn: new Set([HttpVersion.h3]))`,
      { permanent: true },
    );
  }
  const target = opts.target;
  if (opts.method === 'CONNECT') {
    return [':method', 'CONNECT', ':authority', host ?? authority, ...regular];
  }
  if (target.charCodeAt(0) !== 47 /* / */ && target !== '*') {
    throw new InvalidHeader(
      `${label}: HTTP/3 requests need an origin-form target, got ${JSON.stringify(target)}`,
    );
  }
  return [
    ':method',
    opts.method,
    ':scheme',
    'https',
    ':authority',
    host ?? authority,
    ':path',
    target,
    ...regular,
  ];
}

function headerValue(pairs: readonly string[], lowerName: string): string {
  const out: string[] = [];
  for (let i = 0; i < pairs.length; i += 2)
    if (pairs[i]!.toLowerCase() === lowerName) out.push(pairs[i + 1]!);
  return out.join(',');
}
