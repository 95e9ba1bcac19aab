// Resolving a reference against a base URL as urllib3 resolves a redirect
// Location (docs/api.md section 6): the RFC 3986 section 5 algorithm as Python's
// `urllib.parse.urljoin` implements it, with its habits kept so the same
// Location leads to the same place: leading C0 controls and spaces dropped,
// tabs and line breaks removed anywhere, ";params" of the last segment carried
// as their own component, empty segments of a relative path dropped, and a
// reference with another scheme (or one that is not hierarchical) returned
// as it is.
//
// It is not the WHATWG URL parser: a backslash is data, not a slash, and no
// host is normalised here; the caller parses the result with parseUrl().

import { LocationParseError } from './errors.js';

/** Schemes whose references resolve against a base. */
const USES_RELATIVE = new Set([
  '',
  'ftp',
  'http',
  'gopher',
  'nntp',
  'imap',
  'wais',
  'file',
  'https',
  'shttp',
  'mms',
  'prospero',
  'rtsp',
  'rtsps',
  'rtspu',
  'sftp',
  'svn',
  'svn+ssh',
  'ws',
  'wss',
]);

/** Schemes with an authority ("//host"). */
const USES_NETLOC = new Set([
  '',
  'ftp',
  'http',
  'gopher',
  'nntp',
  'telnet',
  'imap',
  'wais',
  'file',
  'mms',
  'https',
  'shttp',
  'snews',
  'prospero',
  'rtsp',
  'rtsps',
  'rtspu',
  'rsync',
  'svn',
  'svn+ssh',
  'sftp',
  'nfs',
  'git',
  'git+ssh',
  'ws',
  'wss',
]);

/** Schemes whose last path segment may carry ";params". */
const USES_PARAMS = new Set([
  '',
  'ftp',
  'hdl',
  'prospero',
  'http',
  'imap',
  'https',
  'shttp',
  'rtsp',
  'rtsps',
  'rtspu',
  'sip',
  'sips',
  'mms',
  'sftp',
  'tel',
]);

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+.-]*$/;
const LEADING_C0_OR_SPACE_RE = /^[\x00-\x20]+/;
const TAB_OR_NEWLINE_RE = /[\t\r\n]/g;

interface Parts {
  scheme: string;
  netloc: string;
  path: string;
  params: string;
  query: string;
  fragment: string;
}

function fail(url: string, why: string): LocationParseError {
  return new LocationParseError(url, `Failed to parse: ${JSON.stringify(url)}: ${why}`);
}

/** Splits `url` into six parts; `defaultScheme` stands in for a missing scheme. */
function split(input: string, defaultScheme: string): Parts {
  let url = input.replace(LEADING_C0_OR_SPACE_RE, '').replace(TAB_OR_NEWLINE_RE, '');
  let scheme = defaultScheme;
  let netloc = '';
  let query = '';
  let fragment = '';
  const colon = url.indexOf(':');
  if (colon > 0 && SCHEME_RE.test(url.slice(0, colon))) {
    scheme = url.slice(0, colon).toLowerCase();
    url = url.slice(colon + 1);
  }
  if (url.startsWith('//')) {
    let end = url.length;
    for (const delim of '/?#') {
      const at = url.indexOf(delim, 2);
      if (at >= 0 && at < end) end = at;
    }
    netloc = url.slice(2, end);
    url = url.slice(end);
    if (netloc.includes('[') !== netloc.includes(']')) throw fail(input, 'invalid IPv6 literal');
    checkNetloc(netloc, input);
  }
  const hash = url.indexOf('#');
  if (hash !== -1) {
    fragment = url.slice(hash + 1);
    url = url.slice(0, hash);
  }
  const question = url.indexOf('?');
  if (question !== -1) {
    query = url.slice(question + 1);
    url = url.slice(0, question);
  }
  let params = '';
  if (USES_PARAMS.has(scheme) && url.includes(';')) {
    // Only the last segment's parameters are a component of their own.
    const at = url.indexOf(';', Math.max(url.lastIndexOf('/'), 0));
    if (at >= 0) {
      params = url.slice(at + 1);
      url = url.slice(0, at);
    }
  }
  return { scheme, netloc, path: url, params, query, fragment };
}

/** A non-ASCII authority must not turn into a different one under NFKC ("／" is "/"). */
function checkNetloc(netloc: string, input: string): void {
  if (/^[\x00-\x7f]*$/.test(netloc)) return;
  const plain = netloc.replace(/[@:#?]/g, '');
  const folded = plain.normalize('NFKC');
  if (folded !== plain && /[/?#@:]/.test(folded)) {
    throw fail(input, `the authority ${JSON.stringify(netloc)} changes meaning under NFKC normalisation`);
  }
}

function join(p: Parts): string {
  let url = p.params ? `${p.path};${p.params}` : p.path;
  if (p.netloc || (p.scheme && USES_NETLOC.has(p.scheme) && !url.startsWith('//'))) {
    if (url && !url.startsWith('/')) url = `/${url}`;
    url = `//${p.netloc}${url}`;
  }
  if (p.scheme) url = `${p.scheme}:${url}`;
  if (p.query) url += `?${p.query}`;
  if (p.fragment) url += `#${p.fragment}`;
  return url;
}

/**
 * `reference` resolved against `base`, as Python's `urljoin(base, reference)`.
 * Throws LocationParseError for an authority with unbalanced brackets.
 */
export function urljoin(base: string, reference: string): string {
  if (!base) return reference;
  if (!reference) return base;
  const b = split(base, '');
  const r = split(reference, b.scheme);
  if (r.scheme !== b.scheme || !USES_RELATIVE.has(r.scheme)) return reference;
  if (USES_NETLOC.has(r.scheme)) {
    if (r.netloc) return join(r);
    r.netloc = b.netloc;
  }
  if (!r.path && !r.params) {
    r.path = b.path;
    r.params = b.params;
    if (!r.query) r.query = b.query;
    return join(r);
  }

  const baseParts = b.path.split('/');
  if (baseParts[baseParts.length - 1] !== '') baseParts.pop();
  let segments: string[];
  if (r.path.startsWith('/')) segments = r.path.split('/');
  else {
    segments = [...baseParts, ...r.path.split('/')];
    // Empty segments between the first and the last are dropped ("a//b" is "a/b").
    if (segments.length > 2) {
      segments = [
        segments[0]!,
        ...segments.slice(1, -1).filter((s) => s !== ''),
        segments[segments.length - 1]!,
      ];
    }
  }
  const resolved: string[] = [];
  for (const segment of segments) {
    if (segment === '..') resolved.pop();
    else if (segment !== '.') resolved.push(segment);
  }
  const last = segments[segments.length - 1];
  if (last === '.' || last === '..') resolved.push('');
  r.path = resolved.join('/') || '/';
  return join(r);
}
