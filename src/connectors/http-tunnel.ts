// HTTP CONNECT tunnels (RFC 9110 section 9.3.6) over an already connected
// socket to a proxy (plain or TLS). Writes the CONNECT request with the
// proxy headers, reads the proxy's answer with the sans-IO HTTP/1.1 parser,
// and hands back the same socket once a 2xx arrived. Anything else is a
// ProxyError that keeps the status, marked as a connect error for Retry:
// the request to the target has not been sent.

import type { Duplex } from 'node:stream';
import { bracketHost } from '../authority.js';
import { ProxyError } from '../errors.js';
import { H1ResponseParser, type ResponseHead } from '../protocol/h1/parser.js';
import { serializeRequestHead } from '../protocol/h1/serializer.js';
import { runHandshake } from './handshake.js';

export interface TunnelOptions {
  /** Destination host and port, as written in the CONNECT authority. */
  host: string;
  port: number;
  /** Flat [name, value, ...] headers for the CONNECT request (Proxy-Authorization, proxyHeaders). */
  headers: string[];
  timeout: number | null;
  signal: AbortSignal | null;
  /** Who is connecting, for messages. */
  label: string;
  /** The proxy, for messages: "host:port". */
  proxy: string;
}

/** Open a CONNECT tunnel on `socket`; resolves once the proxy answered 2xx. */
export function openHttpTunnel(socket: Duplex, o: TunnelOptions): Promise<void> {
  const target = `${bracketHost(o.host)}:${o.port}`;
  let head: ResponseHead | null = null;
  const parser = new H1ResponseParser({
    onHead: (h) => {
      if (h.status >= 200) head = h;
    },
    onBody: () => {},
    onTrailers: () => {},
    onComplete: () => {},
  });
  parser.start('CONNECT');
  return runHandshake(socket, {
    timeout: o.timeout,
    signal: o.signal,
    start: () =>
      socket.write(serializeRequestHead('CONNECT', target, ['Host', target, ...o.headers]), 'latin1'),
    onData: (chunk, done) => {
      let consumed: number;
      try {
        consumed = parser.feed(chunk);
      } catch (err) {
        throw new ProxyError(`${o.label}: the proxy ${o.proxy} sent an invalid answer to CONNECT ${target}`, {
          cause: err,
        });
      }
      if (head === null) return;
      const h: ResponseHead = head;
      if (h.status < 200 || h.status > 299) {
        throw new ProxyError(
          `${o.label}: Unable to connect to proxy: tunnel connection to ${target} through ${o.proxy} failed: ${h.status} ${h.reason}`,
          { status: h.status },
        );
      }
      // Bytes after the proxy's answer already come from the destination.
      done(consumed < chunk.length ? chunk.subarray(consumed) : null);
    },
    closed: () =>
      new ProxyError(`${o.label}: the proxy ${o.proxy} closed the connection during CONNECT ${target}`),
    socketError: (err) =>
      new ProxyError(`${o.label}: Unable to connect to proxy ${o.proxy}: ${err.message}`, { cause: err }),
    aborted: (reason) => new ProxyError(`${o.label}: aborted during CONNECT ${target}`, { cause: reason }),
    timedOut: () =>
      new ProxyError(
        `${o.label}: the proxy ${o.proxy} did not answer CONNECT ${target} within ${o.timeout} ms`,
      ),
  });
}
