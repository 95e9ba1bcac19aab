// URL parsing with urllib3 v2 semantics (docs/api.md section 12): RFC 3986
// components, best effort for incomplete input ("google.com:80", "/path"),
// and normalisation for http, https and scheme-less URLs: scheme and host
// lower-cased, IDNA 2008 (strict, see idna/) for non-ASCII hosts, IPv6 zone
// ids as RFC 6874 writes them, dot segments removed and characters outside
// each component's RFC 3986 set percent-encoded (existing %XX escapes kept
// and upper-cased).
//
// It is not the WHATWG URL parser (no base URLs, no special-scheme quirks),
// does no I/O and resolves nothing; other schemes are split but not rewritten.

import { LocationParseError } from './errors.js';
import { toALabel } from './idna/idna.js';
import { CheckedOptions, checkOptions, optionSet } from './options.js';

/** Fields of a `Url`; omitted ones are `null`. */
export interface UrlFields {
  scheme?: string | null;
  auth?: string | null;
  host?: string | null;
  port?: number | null;
  path?: string | null;
  query?: string | null;
  fragment?: string | null;
}

const URL_FIELDS = optionSet('scheme', 'auth', 'host', 'port', 'path', 'query', 'fragment');

/**
 * An immutable parsed URL, as urllib3's `Url` named tuple. Components are kept
 * in their encoded form; `url` joins them back without re-encoding.
 */
export class Url {
  readonly scheme: string | null;
  /** The userinfo component, still percent-encoded. */
  readonly auth: string | null;
  /** IPv6 literals keep their brackets, as in urllib3. */
  readonly host: string | null;
  readonly port: number | null;
  readonly path: string | null;
  readonly query: string | null;
  readonly fragment: string | null;

  constructor(fields: UrlFields = {}) {
    checkOptions('Url', fields, URL_FIELDS);
    const path = fields.path ?? null;
    const scheme = fields.scheme ?? null;
    this.scheme = scheme === null ? null : scheme.toLowerCase();
    this.auth = fields.auth ?? null;
    this.host = fields.host ?? null;
    this.port = fields.port ?? null;
    this.path = path && !path.startsWith('/') ? `/${path}` : path;
    this.query = fields.query ?? null;
    this.fragment = fields.fragment ?? null;
  }

  /** Same as `host` (kept for parity with urllib3 and `urlparse`). */
  get hostname(): string | null {
    return this.host;
  }

  /** Path and query as sent on the request line; "/" when the path is empty. */
  get requestUri(): string {
    const uri = this.path || '/';
    return this.query === null ? uri : `${uri}?${this.query}`;
  }

  /** `host:port` (or just `host` without a port); `null` without a host. */
  get netloc(): string | null {
    if (this.host === null) return null;
    return this.port === null ? this.host : `${this.host}:${this.port}`;
  }

  /** RFC 3986 authority: `auth@host:port`. */
  get authority(): string | null {
    const netloc = this.netloc;
    if (netloc === null || this.auth === null) return netloc;
    return `${this.auth}@${netloc}`;
  }

  /** The URL as a string; round-trips with `parseUrl` up to normalisation. */
  get url(): string {
    let out = '';
    // Empty strings and port 0 are components too, hence the null tests.
    if (this.scheme !== null) out += `${this.scheme}://`;
    if (this.auth !== null) out += `${this.auth}@`;
    if (this.host !== null) out += this.host;
    if (this.port !== null) out += `:${this.port}`;
    if (this.path !== null) out += this.path;
    if (this.query !== null) out += `?${this.query}`;
    if (this.fragment !== null) out += `#${this.fragment}`;
    return out;
  }

  toString(): string {
    return this.url;
  }

  toJSON(): string {
    return this.url;
  }
}

// ---- character sets (RFC 3986 section 2 and 3) ---------------------------

function charTable(chars: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return table;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UNRESERVED = `${ALNUM}-._~`;
const SUB_DELIMS = "!$&'()*+,;=";
const UNRESERVED_SET = charTable(UNRESERVED);
const USERINFO_SET = charTable(`${UNRESERVED}${SUB_DELIMS}:`);
const PATH_SET = charTable(`${UNRESERVED}${SUB_DELIMS}:@/`);
const QUERY_SET = charTable(`${UNRESERVED}${SUB_DELIMS}:@/?`);

const HEX = '0123456789ABCDEF';
const PCT_RE = /%[0-9A-Fa-f]{2}/g;
const NORMALIZABLE = new Set(['http', 'https']);

function isHexCode(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** Upper-cases the hex digits of every valid %XX escape. */
function upperEscapes(text: string): string {
  return text.includes('%') ? text.replace(PCT_RE, (m) => m.toUpperCase()) : text;
}

/**
 * UTF-8 bytes of `text`. A lone surrogate is encoded from its code unit (as
 * Python's "surrogatepass" does) instead of becoming U+FFFD, so no input
 * character is silently lost.
 */
function utf8Bytes(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let cp = text.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
        i++;
      }
    }
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    else {
      out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
    }
  }
  return out;
}

/**
 * Percent-encodes every character of `component` outside `allowed`. A "%" is
 * kept only when every "%" in the component starts a valid escape: then the
 * component is taken as already encoded; otherwise each "%" is data and
 * becomes %25. Escapes are upper-cased (RFC 3986 section 6.2.2.1).
 */
function encodeInvalidChars(component: string, allowed: Uint8Array): string {
  let clean = true;
  for (let i = 0; i < component.length; i++) {
    const c = component.charCodeAt(i);
    if (c >= 128 || allowed[c] !== 1) {
      clean = false;
      break;
    }
  }
  if (clean) return component;

  let escapes = 0;
  let percents = 0;
  for (let i = 0; i < component.length; i++) {
    if (component.charCodeAt(i) !== 37) continue;
    percents++;
    if (
      i + 2 < component.length &&
      isHexCode(component.charCodeAt(i + 1)) &&
      isHexCode(component.charCodeAt(i + 2))
    ) {
      escapes++;
    }
  }
  const keepPercent = escapes === percents;
  const source = escapes > 0 ? upperEscapes(component) : component;

  let out = '';
  for (const byte of utf8Bytes(source)) {
    if ((byte === 37 && keepPercent) || (byte < 128 && allowed[byte] === 1)) out += String.fromCharCode(byte);
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** RFC 3986 section 5.2.4, applied to an absolute or relative path. */
function removeDotSegments(path: string): string {
  // Fast path: without a segment that starts with "." there is no "." or ".."
  // segment, and the algorithm below would give the path back unchanged.
  if (path.charCodeAt(0) !== 46 && !path.includes('/.')) return path;
  const output: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '.') continue;
    if (segment === '..') {
      // The leading "" of an absolute path is the root and cannot be popped.
      if (output.length > 0 && !(output.length === 1 && output[0] === '')) output.pop();
      continue;
    }
    output.push(segment);
  }
  if (path.startsWith('/') && (output.length === 0 || output[0] !== '')) output.unshift('');
  // "/a/." and "/a/.." name a directory, so the result keeps a trailing slash.
  if (path.endsWith('/.') || path.endsWith('/..')) output.push('');
  return output.join('/');
}

// ---- hosts -----------------------------------------------------------------

const IPV4ISH_RE = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)(?:\.(?:0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$/;
const IPV4_DOTTED_RE = /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$/;
const H16_RE = /^[0-9A-Fa-f]{1,4}$/;
// A zone id (RFC 6874) after "%25", or after a bare "%" as many tools write it.
const ZONE_CHARS_RE = /^(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})+$/;
// Bytes a host may never carry, raw or escaped: they split request lines.
const HOST_FORBIDDEN_RE = /[\x00-\x20\x7f]/;

/** RFC 3986 IPv6address (without brackets or zone). */
function isIPv6(address: string): boolean {
  const halves = address.split('::');
  if (halves.length > 2) return false;
  const parse = (part: string): string[] | null => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (head === null || tail === null) return false;
  const groups = [...head, ...tail];
  let units = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (H16_RE.test(g)) units += 1;
    // A dotted quad is only ever the last 32 bits (RFC 4291 section 2.2, RFC
    // 3986 ls32): never before a "::" ("1.2.3.4::" names no address).
    else if (i === groups.length - 1 && !address.endsWith(':') && IPV4_DOTTED_RE.test(g)) units += 2;
    else return false;
  }
  return halves.length === 2 ? units <= 7 : units === 8;
}

function hostError(host: string, message: string): LocationParseError {
  return new LocationParseError(host, `Failed to parse: ${JSON.stringify(host)}: ${message}`);
}

/** Checks a %XX escape inside a host and rejects encoded control characters. */
function hostEscapeValue(pct: string, host: string): number {
  const value = Number.parseInt(pct.slice(1), 16);
  if (value < 0x20 || value === 0x7f) {
    throw hostError(host, `percent-encoded control character ${pct}`);
  }
  return value;
}

/** Normalises a bracketed IPv6 literal: lower-case address, zone id as RFC 4007 writes it. */
function normalizeIPv6(host: string): string {
  const inner = host.slice(1, -1);
  const zoneAt = inner.indexOf('%');
  if (zoneAt === -1) return host.toLowerCase();
  let zone = inner.slice(zoneAt);
  // "%25" is the RFC 6874 delimiter, unless the zone is just "25" written bare.
  zone = zone.startsWith('%25') && zone !== '%25' ? zone.slice(3) : zone.slice(1);
  zone = zone.replace(PCT_RE, (m) => {
    hostEscapeValue(m, host);
    return m.toUpperCase();
  });
  return `[${inner.slice(0, zoneAt).toLowerCase()}%${encodeInvalidChars(zone, UNRESERVED_SET)}]`;
}

/**
 * One host label as urllib3 encodes it: an ASCII label is lower-cased (its
 * escapes upper-cased) and otherwise left alone; any other label is
 * lower-cased and must be a valid IDNA 2008 label, strictly (no UTS #46
 * mapping: "ｅｘａｍｐｌｅ" is refused, not folded to "example").
 */
function idnaLabel(label: string, host: string): string {
  if (/^[\x00-\x7f]*$/.test(label)) return upperEscapes(label.toLowerCase());
  const result = toALabel(label.toLowerCase());
  if (result.reason !== null) {
    throw hostError(host, `${JSON.stringify(label)} is not a valid IDNA label: ${result.reason}`);
  }
  return result.label;
}

function normalizeHost(host: string, scheme: string | null): string {
  if (host === '') return host;
  if (scheme !== null && !NORMALIZABLE.has(scheme)) return host;
  if (host.startsWith('[')) return normalizeIPv6(host);
  if (isNormalAsciiHost(host)) return host;
  if (IPV4ISH_RE.test(host)) return host;
  if (host.includes('%')) {
    // Escapes of unreserved characters are decoded (RFC 3986 section 6.2.2.2).
    host = host.replace(PCT_RE, (m) => {
      const value = hostEscapeValue(m, host);
      const ch = String.fromCharCode(value);
      return value < 128 && UNRESERVED_SET[value] === 1 ? ch : m.toUpperCase();
    });
  }
  const labels = host.split('.');
  for (let i = 0; i < labels.length; i++) labels[i] = idnaLabel(labels[i]!, host);
  return labels.join('.');
}

/**
 * Whether normalizeHost() would give `host` (not an IPv6 literal) back as it
 * is: ASCII without upper-case letters or "%" escapes, which neither IDNA nor
 * escape normalisation changes (the usual "example.com" or "127.0.0.1").
 */
function isNormalAsciiHost(host: string): boolean {
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 128 || c === 0x25 || (c >= 0x41 && c <= 0x5a)) return false;
  }
  return true;
}

/**
 * Splits `host[:port]`. The host is a bracketed IPv6 literal (optionally with
 * a zone id) or a reg-name / IPv4 address; the port is ASCII digits, leading
 * zeros allowed, at most 65535, empty meaning none.
 */
function splitHostPort(hostPort: string, original: string): [string, number | null] {
  let host: string;
  let portText: string | null = null;
  // Whether the host may hold a byte of HOST_FORBIDDEN_RE (the reg-name scan below rules it out).
  let suspect = true;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close === -1) throw hostError(hostPort, 'unterminated IPv6 literal');
    host = hostPort.slice(0, close + 1);
    const rest = hostPort.slice(close + 1);
    if (rest !== '') {
      if (rest[0] !== ':') throw hostError(hostPort, 'unexpected text after IPv6 literal');
      portText = rest.slice(1);
    }
    const inner = host.slice(1, -1);
    const zoneAt = inner.indexOf('%');
    const address = zoneAt === -1 ? inner : inner.slice(0, zoneAt);
    if (!isIPv6(address)) throw hostError(hostPort, 'invalid IPv6 address');
    if (zoneAt !== -1 && !ZONE_CHARS_RE.test(inner.slice(zoneAt + 1))) {
      throw hostError(hostPort, 'invalid IPv6 zone id');
    }
  } else {
    const colon = hostPort.indexOf(':');
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    if (colon !== -1) portText = hostPort.slice(colon + 1);
    suspect = false;
    for (let i = 0; i < host.length; i++) {
      const c = host.charCodeAt(i);
      if (c <= 0x20 || c === 0x7f) suspect = true;
      // reg-name: anything but gen-delims, with "%" only as a valid escape.
      if (c === 0x5b || c === 0x5d) throw hostError(hostPort, 'unexpected bracket');
      if (c === 0x25) {
        if (!(isHexCode(host.charCodeAt(i + 1)) && isHexCode(host.charCodeAt(i + 2)))) {
          throw hostError(hostPort, 'invalid percent-encoding');
        }
      }
    }
  }
  if (suspect && HOST_FORBIDDEN_RE.test(host)) {
    const bad = HOST_FORBIDDEN_RE.exec(host)![0];
    throw hostError(hostPort, `invalid character ${JSON.stringify(bad)}`);
  }
  if (portText === null || portText === '') return [host, null];
  // ASCII digits only, leading zeros allowed; past 65535 the value stops growing.
  let port = 0;
  for (let i = 0; i < portText.length; i++) {
    const d = portText.charCodeAt(i) - 48;
    if (d < 0 || d > 9) throw new LocationParseError(original, `Failed to parse: ${original}: invalid port`);
    if (port <= 65535) port = port * 10 + d;
  }
  if (port > 65535) throw new LocationParseError(original, `Failed to parse: ${original}: port out of range`);
  return [host, port];
}

// RFC 3986 appendix B, with "\" also ending the authority as browsers do, so
// "http://a.com\@b.com" cannot name one host to us and another to a browser.
const URI_RE = /^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?:\/\/([^\\/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#([\s\S]*))?$/;
// Input that already says where it starts: a scheme (without dots, so that
// "example.com:80" is a host and port) or a path.
const HAS_SCHEME_OR_PATH_RE = /^(?:[A-Za-z][A-Za-z0-9+-]*:|\/)/;

/** The fields parseUrl() hands the Url constructor: every key known, so they need no check. */
class ParsedFields extends CheckedOptions implements UrlFields {
  readonly scheme: string | null;
  readonly auth: string | null;
  readonly host: string | null;
  readonly port: number | null;
  readonly path: string | null;
  readonly query: string | null;
  readonly fragment: string | null;

  constructor(
    scheme: string | null,
    auth: string | null,
    host: string | null,
    port: number | null,
    path: string | null,
    query: string | null,
    fragment: string | null,
  ) {
    super();
    this.scheme = scheme;
    this.auth = auth;
    this.host = host;
    this.port = port;
    this.path = path;
    this.query = query;
    this.fragment = fragment;
  }
}

/**
 * Parses `url` the way urllib3's `parse_url` does. Missing components are
 * `null`; input without a scheme is taken as `host[:port][/path]` (scheme
 * `null`, which callers treat as http). Throws `LocationParseError` for an
 * invalid host, IPv6 literal, IDNA label or port.
 */
export function parseUrl(url: string): Url {
  if (typeof url !== 'string') throw new TypeError(`parseUrl: expected a string, got ${typeof url}`);
  if (url === '') return new Url();

  const source = HAS_SCHEME_OR_PATH_RE.test(url) ? url : `//${url}`;
  const m = URI_RE.exec(source);
  if (m === null) throw new LocationParseError(url);
  let scheme = m[1] ?? null;
  const authority = m[2];
  let path: string | null = m[3] ?? '';
  let query = m[4] ?? null;
  let fragment = m[5] ?? null;

  if (scheme !== null) scheme = scheme.toLowerCase();
  const normalize = scheme === null || NORMALIZABLE.has(scheme);

  let auth: string | null = null;
  let host: string | null = null;
  let port: number | null = null;
  if (authority) {
    // The last "@" ends the userinfo: "a@b@host" has userinfo "a@b".
    const at = authority.lastIndexOf('@');
    const hostPort = at === -1 ? authority : authority.slice(at + 1);
    auth = at > 0 ? authority.slice(0, at) : null;
    [host, port] = splitHostPort(hostPort, url);
    if (auth !== null && normalize) auth = encodeInvalidChars(auth, USERINFO_SET);
    host = normalizeHost(host, scheme);
  }

  if (normalize) {
    if (path) path = encodeInvalidChars(removeDotSegments(path), PATH_SET);
    if (query) query = encodeInvalidChars(query, QUERY_SET);
    if (fragment) fragment = encodeInvalidChars(fragment, QUERY_SET);
  }
  // urllib3 keeps "" rather than null for a path followed by a query or fragment.
  if (!path) path = query !== null || fragment !== null ? '' : null;

  return new Url(new ParsedFields(scheme, auth, host, port, path, query, fragment));
}

/** `[scheme, host, port]` of `url`, the scheme defaulting to "http" (urllib3's `get_host`). */
export function getHost(url: string): [string, string | null, number | null] {
  const u = parseUrl(url);
  return [u.scheme ?? 'http', u.host, u.port];
}
