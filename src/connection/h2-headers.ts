// HTTP/2's view of a message, as pure functions (RFC 9113 section 8): our
// flat header list mapped to Node's header object with pseudo-headers and
// without connection-specific fields, the extended CONNECT an `Upgrade`
// request becomes (RFC 8441), Node's raw response header list read back
// into an HTTPHeaderDict, and error-code names for messages.

import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2';
import { HTTPHeaderDict } from '../headers.js';
import { eachRequestField } from './request-fields.js';
import type { ExchangeRequest } from './session.js';

/** RFC 9113 section 7's error codes, for messages. */
const ERROR_CODE_NAMES: Record<number, string> = {
  0: 'NO_ERROR',
  1: 'PROTOCOL_ERROR',
  2: 'INTERNAL_ERROR',
  3: 'FLOW_CONTROL_ERROR',
  4: 'SETTINGS_TIMEOUT',
  5: 'STREAM_CLOSED',
  6: 'FRAME_SIZE_ERROR',
  7: 'REFUSED_STREAM',
  8: 'CANCEL',
  9: 'COMPRESSION_ERROR',
  10: 'CONNECT_ERROR',
  11: 'ENHANCE_YOUR_CALM',
  12: 'INADEQUATE_SECURITY',
  13: 'HTTP_1_1_REQUIRED',
};

export function codeName(code: number): string {
  return ERROR_CODE_NAMES[code] ?? `error code ${code}`;
}

/**
 * The protocol an upgrade request asks for: the first token of its `Upgrade`
 * field, lower-cased, when `Connection` names the `upgrade` option too (RFC
 * 9110 section 7.8); HTTP/2 sends it as the `:protocol` of an extended
 * CONNECT (RFC 8441 section 4). null otherwise: a stray Upgrade field is
 * dropped like any connection-specific field, and `h2c` / `h2` are HTTP/1.1's
 * ways to reach HTTP/2, meaningless on it.
 */
export function upgradeProtocol(pairs: readonly string[]): string | null {
  let protocol: string | null = null;
  let optioned = false;
  for (let i = 0; i < pairs.length; i += 2) {
    const name = pairs[i]!;
    if (name.length === 7 && protocol === null && name.toLowerCase() === 'upgrade') {
      protocol = pairs[i + 1]!.split(',')[0]!.trim().toLowerCase();
    } else if (name.length === 10 && name.toLowerCase() === 'connection') {
      optioned ||= pairs[i + 1]!.split(',').some((o) => o.trim().toLowerCase() === 'upgrade');
    }
  }
  if (!optioned || protocol === '' || protocol === 'h2c' || protocol === 'h2') return null;
  return protocol;
}

/** Header fields from Node's raw list, without pseudo-headers. */
export function headerDict(raw: readonly string[] | undefined, obj: IncomingHttpHeaders): HTTPHeaderDict {
  if (raw !== undefined) {
    const flat: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) !== 58 /* : */) flat.push(name, raw[i + 1]!);
    }
    return HTTPHeaderDict.fromRawPairs(flat);
  }
  const h = new HTTPHeaderDict();
  for (const name of Object.keys(obj)) {
    if (name.charCodeAt(0) === 58) continue;
    const v = obj[name];
    if (Array.isArray(v)) for (const item of v) h.add(name, item);
    else if (v !== undefined) h.add(name, String(v));
  }
  return h;
}

/** RFC 9113 section 6.5.2's size of a header list: name + value + 32 per field. */
export function headerListSize(raw: readonly string[] | undefined): number {
  if (raw === undefined) return 0;
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n + 16 * raw.length;
}

/** Node's header object for a request: pseudo-headers first, connection-specific fields dropped. */
export function requestHeaders(
  opts: ExchangeRequest,
  protocol: string | null,
  scheme: 'http' | 'https',
): OutgoingHttpHeaders {
  const h: OutgoingHttpHeaders = Object.create(null);
  // An extended CONNECT (RFC 8441 section 4) has :scheme and :path like any request.
  const connect = opts.method === 'CONNECT' && protocol === null;
  h[':method'] = protocol !== null ? 'CONNECT' : opts.method;
  if (protocol !== null) h[':protocol'] = protocol;
  let path = opts.target;
  let authority: string | null = null;
  if (path.charCodeAt(0) !== 47 /* / */ && path !== '*' && !connect) {
    // Absolute form (a forwarding proxy's target): HTTP/2 carries it as :authority + :path.
    try {
      const u = new URL(path);
      authority = u.host;
      path = `${u.pathname}${u.search}`;
    } catch {
      // leave it; the server will answer 400
    }
  }
  const host = eachRequestField(opts.headers, (name, value) => {
    const prev = h[name];
    if (prev === undefined) h[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else h[name] = [String(prev), value];
  });
  authority ??= host;
  if (authority !== null) h[':authority'] = authority;
  if (!connect) {
    h[':scheme'] = scheme;
    h[':path'] = path;
  }
  return h;
}
