// Opening a transport: resolve, connect TCP, optionally wrap in TLS, all under
// one connect deadline. Node's errors are wrapped here, at the boundary, into
// the library's hierarchy: refused/unreachable -> NewConnectionError, DNS ->
// NameResolutionError, deadline -> ConnectTimeoutError, TLS -> SSLError
// (flagged as a connect error for Retry). Nothing here knows about HTTP.

import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import {
  ConnectTimeoutError,
  HTTPError,
  NameResolutionError,
  NewConnectionError,
  RequestAbortedError,
  SSLError,
} from '../errors.js';
import type { BaseResolver, ResolvedAddress } from '../dns/resolver.js';

export interface SocketOptions {
  /** TCP_NODELAY; on by default as in urllib3. */
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export interface TcpConnectOptions {
  host: string;
  port: number;
  /** Deadline in ms for resolution + connect (+ TLS when the caller chains it); null = none. */
  timeout: number | null;
  sourceAddress: [string, number] | string | null;
  socketOptions: SocketOptions;
  resolver: BaseResolver;
  family: 0 | 4 | 6;
  signal: AbortSignal | null;
  /** Who is connecting, for error messages: e.g. "HTTPConnection(host='a', port=80)". */
  label: string;
  /** The connection object, kept on NewConnectionError.conn. */
  conn: unknown;
}

export interface TcpConnectResult {
  socket: net.Socket;
  address: [string, number];
  resolutionLatency: number;
  establishedLatency: number;
}

/** Marks errors raised while establishing a connection, so Retry counts them as connect errors. */
export function markConnectError<E extends Error>(error: E): E {
  (error as E & { isConnectError?: boolean }).isConnectError = true;
  return error;
}

function stripBrackets(host: string): string {
  return host.length > 1 && host.charCodeAt(0) === 91 /* [ */ && host.endsWith(']') ? host.slice(1, -1) : host;
}

function abortError(signal: AbortSignal, label: string): HTTPError {
  return markConnectError(new RequestAbortedError(`${label}: request aborted while connecting`, { cause: signal.reason }));
}

/** Resolve and connect, trying each address in turn until one accepts. */
export async function connectTcp(o: TcpConnectOptions): Promise<TcpConnectResult> {
  const started = performance.now();
  const deadline = o.timeout === null ? null : started + o.timeout;
  const host = stripBrackets(o.host);
  if (o.signal?.aborted) throw abortError(o.signal, o.label);

  let addresses: ResolvedAddress[];
  const ipFamily = net.isIP(host);
  if (ipFamily !== 0) {
    addresses = [{ address: host, family: ipFamily === 6 ? 6 : 4, port: o.port }];
  } else {
    try {
      addresses = await withDeadline(
        o.resolver.getaddrinfo(host, o.port, { family: o.family, signal: o.signal ?? undefined }),
        deadline,
        o,
        null,
      );
    } catch (err) {
      if (err instanceof HTTPError) throw err;
      throw new NameResolutionError(host, o.conn, err as Error);
    }
    if (o.family !== 0) addresses = addresses.filter((a) => a.family === o.family);
    if (addresses.length === 0) throw new NameResolutionError(host, o.conn, null);
  }
  const resolved = performance.now();

  let lastError: unknown = null;
  for (const addr of addresses) {
    try {
      const socket = await connectOne(addr, o, deadline);
      const now = performance.now();
      return {
        socket,
        address: [addr.address, addr.port],
        resolutionLatency: resolved - started,
        establishedLatency: now - resolved,
      };
    } catch (err) {
      lastError = err;
      // A deadline or an abort ends the whole attempt; a refusal moves on to the next address.
      if (err instanceof ConnectTimeoutError && !(err instanceof NewConnectionError)) throw err;
      if (err instanceof RequestAbortedError) throw err;
    }
  }
  throw lastError;
}

function connectOne(addr: ResolvedAddress, o: TcpConnectOptions, deadline: number | null): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const opts: net.NetConnectOpts = {
      host: addr.address,
      port: addr.port,
      family: addr.family,
      noDelay: o.socketOptions.noDelay !== false,
    };
    if (o.sourceAddress !== null) {
      if (typeof o.sourceAddress === 'string') opts.localAddress = o.sourceAddress;
      else {
        opts.localAddress = o.sourceAddress[0];
        if (o.sourceAddress[1]) opts.localPort = o.sourceAddress[1];
      }
    }
    if (o.socketOptions.keepAlive) {
      opts.keepAlive = true;
      opts.keepAliveInitialDelay = o.socketOptions.keepAliveInitialDelay ?? 0;
    }
    const socket = net.connect(opts);
    let timer: NodeJS.Timeout | null = null;
    const cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('connect', onConnect);
      socket.removeListener('error', onError);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const onConnect = () => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: NodeJS.ErrnoException) => {
      cleanup();
      socket.destroy();
      reject(
        new NewConnectionError(
          o.conn,
          `${o.label}: Failed to establish a new connection to ${addr.address}:${addr.port}: ${err.message}`,
          { cause: err },
        ),
      );
    };
    const onAbort = () => {
      cleanup();
      socket.destroy();
      reject(abortError(o.signal!, o.label));
    };
    socket.once('connect', onConnect);
    socket.once('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (deadline !== null) {
      timer = setTimeout(
        () => {
          cleanup();
          socket.destroy();
          reject(connectTimeout(o));
        },
        Math.max(0, deadline - performance.now()),
      );
    }
  });
}

function connectTimeout(o: TcpConnectOptions): ConnectTimeoutError {
  return new ConnectTimeoutError(`${o.label}: Connection to ${o.host} timed out. (connect timeout=${o.timeout} ms)`);
}

function withDeadline<T>(p: Promise<T>, deadline: number | null, o: TcpConnectOptions, onLate: (() => void) | null): Promise<T> {
  if (deadline === null && o.signal === null) return p;
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    const done = () => {
      if (timer !== null) clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      onLate?.();
      reject(abortError(o.signal!, o.label));
    };
    if (deadline !== null) {
      timer = setTimeout(
        () => {
          done();
          onLate?.();
          reject(connectTimeout(o));
        },
        Math.max(0, deadline - performance.now()),
      );
    }
    o.signal?.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        done();
        resolve(v);
      },
      (e) => {
        done();
        reject(e);
      },
    );
  });
}

// ---- TLS ---------------------------------------------------------------------

export interface TlsUpgradeOptions {
  /** Options passed to tls.connect (minus socket). */
  tlsOptions: tls.ConnectionOptions;
  /** Name used in messages and for the hostname check. */
  hostname: string;
  port: number;
  timeout: number | null;
  signal: AbortSignal | null;
  label: string;
}

/** Wrap a connected socket in TLS and wait for the handshake. */
export function upgradeToTls(socket: net.Socket, o: TlsUpgradeOptions): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const tsock = tls.connect({ ...o.tlsOptions, socket });
    let timer: NodeJS.Timeout | null = null;
    const cleanup = () => {
      if (timer !== null) clearTimeout(timer);
      tsock.removeListener('secureConnect', onSecure);
      tsock.removeListener('error', onError);
      tsock.removeListener('close', onClose);
      o.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      cleanup();
      tsock.destroy();
      socket.destroy();
      reject(err);
    };
    const onSecure = () => {
      cleanup();
      resolve(tsock);
    };
    const onError = (err: NodeJS.ErrnoException) => fail(wrapTlsError(err, o));
    const onClose = () =>
      fail(
        markConnectError(
          new SSLError(`${o.label}: TLS handshake with ${o.hostname}:${o.port} failed: connection closed by peer`),
        ),
      );
    const onAbort = () => fail(abortError(o.signal!, o.label));
    tsock.once('secureConnect', onSecure);
    tsock.once('error', onError);
    tsock.once('close', onClose);
    o.signal?.addEventListener('abort', onAbort, { once: true });
    if (o.timeout !== null) {
      timer = setTimeout(
        () =>
          fail(
            new ConnectTimeoutError(
              `${o.label}: TLS handshake with ${o.hostname}:${o.port} timed out. (connect timeout=${o.timeout} ms)`,
            ),
          ),
        Math.max(0, o.timeout),
      );
    }
  });
}

const VERIFY_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (unknown CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (unknown CA)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
};

export function wrapTlsError(err: NodeJS.ErrnoException, o: { label: string; hostname: string; port: number }): SSLError {
  const code = err.code ?? '';
  const reason = VERIFY_REASONS[code];
  const msg = reason
    ? `${o.label}: certificate verify failed for ${o.hostname}:${o.port}: ${reason}: ${err.message} (${code})`
    : `${o.label}: TLS error with ${o.hostname}:${o.port}: ${err.message}${code ? ` (${code})` : ''}`;
  return markConnectError(new SSLError(msg, { cause: err }));
}
