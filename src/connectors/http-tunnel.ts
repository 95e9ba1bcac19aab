// HTTP CONNECT tunnels (RFC 9110 section 9.3.6) over an already connected
// socket to a proxy (plain or TLS). Writes the CONNECT request with the
// proxy headers, reads the proxy's answer with the sans-IO HTTP/1.1 parser,
// and hands back the same socket once a 2xx arrived. Anything else is a
// ProxyError that keeps the status, marked as a connect error for Retry:
// the request to the target has not been sent.

import type { Duplex } from 'node:stream';
import { ProxyError } from '../errors.js';
import { markConnectError } from '../net/connect.js';
import { H1ResponseParser, type ResponseHead } from '../protocol/h1/parser.js';
import { serializeRequestHead } from '../protocol/h1/serializer.js';

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

function authority(host: string, port: number): string {
  const h = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `${h}:${port}`;
}

/** Open a CONNECT tunnel on `socket`; resolves once the proxy answered 2xx. */
export function openHttpTunnel(socket: Duplex, o: TunnelOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const target = authority(o.host, o.port);
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
    let timer: NodeJS.Timeout | null = null;
    const cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(markConnectError(err));
    };
    const onData = (chunk: Buffer) => {
      let consumed: number;
      try {
        consumed = parser.feed(chunk);
      } catch (err) {
        fail(
          new ProxyError(`${o.label}: the proxy ${o.proxy} sent an invalid answer to CONNECT ${target}`, {
            cause: err,
          }),
        );
        return;
      }
      if (head === null) return;
      const h: ResponseHead = head;
      if (h.status < 200 || h.status > 299) {
        fail(
          new ProxyError(
            `${o.label}: Unable to connect to proxy: tunnel connection to ${target} through ${o.proxy} failed: ${h.status} ${h.reason}`,
            { status: h.status },
          ),
        );
        return;
      }
      cleanup();
      socket.pause();
      // Bytes after the proxy's answer already come from the destination.
      if (consumed < chunk.length) socket.unshift(chunk.subarray(consumed));
      resolve();
    };
    const onClose = () =>
      fail(new ProxyError(`${o.label}: the proxy ${o.proxy} closed the connection during CONNECT ${target}`));
    const onError = (err: Error) =>
      fail(
        new ProxyError(`${o.label}: Unable to connect to proxy ${o.proxy}: ${err.message}`, { cause: err }),
      );
    const onAbort = () =>
      fail(new ProxyError(`${o.label}: aborted during CONNECT ${target}`, { cause: o.signal?.reason }));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.timeout !== null) {
      timer = setTimeout(
        () =>
          fail(
            new ProxyError(
              `${o.label}: the proxy ${o.proxy} did not answer CONNECT ${target} within ${o.timeout} ms`,
            ),
          ),
        Math.max(1, o.timeout),
      );
    }
    const headers = ['Host', target, ...o.headers];
    socket.write(serializeRequestHead('CONNECT', target, headers), 'latin1');
    socket.resume();
  });
}
