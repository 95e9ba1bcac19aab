// Hosts as they appear in URLs, Host headers and CONNECT targets: an IPv6
// literal is written in brackets there (RFC 3986 section 3.2.2) and bare
// everywhere else (sockets, SNI, certificate checks); a port equal to the
// scheme's default is left out of an authority (RFC 9110 section 4.2).
// A leaf: no imports, no I/O.

/** `host` in brackets when it is an IPv6 literal written without them; otherwise `host`. */
export function bracketHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** `host` without the brackets around an IPv6 literal; otherwise `host`. */
export function unbracketHost(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 0x5b && host.charCodeAt(host.length - 1) === 0x5d
    ? host.slice(1, -1)
    : host;
}

/** The well-known port of `scheme` (http 80, https 443, any case), else null. */
export function defaultPort(scheme: string): number | null {
  switch (scheme) {
    case 'http':
      return 80;
    case 'https':
      return 443;
  }
  const lower = scheme.toLowerCase();
  return lower === scheme ? null : defaultPort(lower);
}

/**
 * `host[:port]` as written in a URL or a Host header: the host bracketed
 * when it is an IPv6 literal, the port left out when it is null or the
 * scheme's default.
 */
export function authority(host: string, port: number | null, scheme: string): string {
  const h = bracketHost(host);
  return port === null || port === defaultPort(scheme) ? h : `${h}:${port}`;
}

/**
 * `host` without the trailing dot of an absolute DNS name: the dot matters
 * to the lookup only, not to the Host header or the certificate check.
 */
export function withoutTrailingDot(host: string): string {
  return host.length > 1 && host.endsWith('.') ? host.slice(0, -1) : host;
}
