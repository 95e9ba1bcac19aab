// Opening a transport: resolve, connect TCP, optionally wrap in TLS, all under
// one connect deadline. Node's errors are wrapped here, at the boundary, into
// the library's hierarchy: refused/unreachable -> NewConnectionError, DNS ->
// NameResolutionError, deadline -> ConnectTimeoutError, TLS -> SSLError
// (flagged as a connect error for Retry). Nothing here knows about HTTP.

import { appendFileSync } from 'node:fs';
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
  markConnectError,
} from '../errors.js';
import { unbracketHost } from '../authority.js';
import { happyEyeballs } from './happy-eyeballs.js';
import { debug } from '../debug.js';
import type { BaseResolver, ResolvedAddress } from '../dns/resolver.js';

import type { SocketOptions } from './socket-options.js';

export type { SocketOptions };

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
  /**
   * Happy Eyeballs (RFC 8305): how many connection attempts may race at once
   * (`happyEyeballsConcurrency()` of the option); 1 or absent: one address
   * after another.
   */
  happyEyeballs?: number;
  /** Who is connecting, for error messages: e.g. "HTTPConnection(host='a', port=80)". */
  label: string;
  /** The connection object, kept on NewConnectionError.conn. */
  conn: unknown;
  /**
   * Read into this buffer (Node's `onread`) instead of a fresh Buffer per
   * read; the socket then emits no 'data' events. Only for a socket nothing
   * else (TLS, a proxy handshake, HTTP/2) will read from.
   */
  onread?: { buffer: Buffer | (() => Uint8Array); callback: (nread: number, buf: Buffer) => boolean } | null;
}

export interface TcpConnectResult {
  socket: net.Socket;
  address: [string, number];
  resolutionLatency: number;
  establishedLatency: number;
}

function abortError(signal: AbortSignal, label: string): HTTPError {
  return new RequestAbortedError(`${label}: request aborted while connecting`, {
    cause: signal.reason,
    phase: 'connect',
  });
}

/** Resolve and connect, trying each address in turn until one accepts. */
export async function connectTcp(o: TcpConnectOptions): Promise<TcpConnectResult> {
  const started = performance.now();
  const deadline = o.timeout === null ? null : started + o.timeout;
  const host = unbracketHost(o.host);
  if (o.signal?.aborted) throw abortError(o.signal, o.label);

  const race = o.happyEyeballs ?? 1;
  if (race > 1 && net.isIP(host) === 0) return raceTcp(o, host, race, started);

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

/**
 * Happy Eyeballs: AAAA and A asked together, families interleaved, attempts
 * staggered, the first connected socket wins and the others are closed; the
 * connect timeout bounds the whole race once, not each address.
 */
async function raceTcp(
  o: TcpConnectOptions,
  host: string,
  concurrency: number,
  started: number,
): Promise<TcpConnectResult> {
  try {
    const r = await happyEyeballs<net.Socket>({
      resolver: o.resolver,
      host,
      port: o.port,
      family: o.family,
      concurrency,
      timeout: o.timeout,
      signal: o.signal,
      label: o.label,
      // The race owns the deadline and the abort: one attempt has neither of its own.
      connect: (addr, signal) => connectOne(addr, { ...o, signal }, null),
    });
    return {
      socket: r.socket,
      address: [r.address.address, r.address.port],
      resolutionLatency: r.resolutionLatency,
      establishedLatency: performance.now() - started - r.resolutionLatency,
    };
  } catch (err) {
    if (err instanceof RequestAbortedError) throw markConnectError(err);
    if (err instanceof HTTPError) throw err;
    throw new NameResolutionError(host, o.conn, err as Error);
  }
}

function connectOne(
  addr: ResolvedAddress,
  o: TcpConnectOptions,
  deadline: number | null,
): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const opts: net.NetConnectOpts = {
      host: addr.address,
      port: addr.port,
      family: addr.family,
      noDelay: o.socketOptions.noDelay !== false,
    };
    if (o.onread != null) opts.onread = o.onread;
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
  return new ConnectTimeoutError(
    `${o.label}: Connection to ${o.host} timed out. (connect timeout=${o.timeout} ms)`,
  );
}

function withDeadline<T>(
  p: Promise<T>,
  deadline: number | null,
  o: TcpConnectOptions,
  onLate: (() => void) | null,
): Promise<T> {
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
  /** Allowed TLS versions, named in protocol-version errors (when the minimum is known). */
  minVersion?: string | null;
  maxVersion?: string | null;
  /** The name the certificate is checked against, named in hostname errors. */
  checkedName?: string | null;
  /** Append NSS key-log lines for this connection here (SSLKEYLOGFILE). */
  keylogFile?: string | null;
}

/**
 * Wrap a connected socket in TLS and wait for the handshake. Errors are
 * SSLErrors naming the reason, flagged as connect errors; that includes the
 * alerts of TLS 1.3 servers that reject the client's certificate, which only
 * arrive after the client considers the handshake done.
 */
export function upgradeToTls(socket: net.Socket, o: TlsUpgradeOptions): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    let tsock: tls.TLSSocket;
    try {
      tsock = tls.connect({ ...o.tlsOptions, socket });
    } catch (err) {
      socket.destroy();
      reject(wrapTlsError(err as NodeJS.ErrnoException, o));
      return;
    }
    if (o.keylogFile) logKeys(tsock, o.keylogFile);
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
      translateLateAlerts(tsock, o);
      resolve(tsock);
    };
    const onError = (err: NodeJS.ErrnoException) => fail(wrapTlsError(err, o));
    const onClose = () =>
      fail(
        markConnectError(
          new SSLError(
            `${o.label}: TLS handshake with ${o.hostname}:${o.port} failed: connection closed by peer`,
          ),
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

/**
 * SSLKEYLOGFILE: one NSS key-log line per secret, appended as the handshake
 * produces them (for Wireshark). A debugging aid, so a failing write only
 * shows in the debug log.
 */
function logKeys(tsock: tls.TLSSocket, file: string): void {
  tsock.on('keylog', (line: Buffer) => {
    try {
      appendFileSync(file, line);
    } catch (err) {
      debug('SSLKEYLOGFILE %s: %s', file, (err as Error).message);
    }
  });
}

/**
 * With TLS 1.3 the server checks the client certificate after the client has
 * finished its handshake, so a refusal arrives as an alert on the first read,
 * where the HTTP session would report it as a broken connection. Alerts are
 * rewritten into the SSLError the handshake would have raised; other errors
 * pass through untouched.
 */
function translateLateAlerts(tsock: tls.TLSSocket, o: TlsUpgradeOptions): void {
  const emit = tsock.emit;
  tsock.emit = function (this: tls.TLSSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'error' && isTlsAlert(args[0])) args[0] = wrapTlsError(args[0], o);
    return emit.apply(this, [event, ...args] as Parameters<typeof emit>);
  } as typeof tsock.emit;
}

function isTlsAlert(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^ERR_SSL_(SSLV3|TLSV1|TLSV13)_ALERT_/.test(code);
}

/** Certificate verification failures (OpenSSL's X509_V_ERR_* names, as Node reports them). */
const VERIFY_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate (not issued by a trusted CA)',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain (unknown CA)',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate (unknown CA)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate (unknown CA)',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate (unknown CA)',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_REVOKED: 'certificate revoked',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  INVALID_CA: 'invalid CA certificate',
  INVALID_PURPOSE: 'unsuitable certificate purpose (not a TLS server certificate)',
  PATH_LENGTH_EXCEEDED: 'certificate chain too long',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  ERR_TLS_CERT_ALTNAME_INVALID: 'hostname mismatch',
};

/** Handshake failures (alerts and local refusals), by Node's ERR_SSL_* code. */
const HANDSHAKE_REASONS: Array<[RegExp, (o: TlsErrorContext) => string]> = [
  [
    /^ERR_SSL_(TLSV1_ALERT_PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|NO_PROTOCOLS_AVAILABLE|UNSUPPORTED_SSL_VERSION|WRONG_SSL_VERSION|VERSION_TOO_(LOW|HIGH))$/,
    (o) =>
      'protocol version: the server and this client have no TLS version in common' +
      (o.minVersion ? ` (this client allows ${o.minVersion} to ${o.maxVersion ?? 'TLSv1.3'})` : ''),
  ],
  [
    /^ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED$/,
    () => 'the server requires a client certificate (certFile/keyFile or certData/keyData)',
  ],
  [
    /^ERR_SSL_(SSLV3_ALERT_BAD_CERTIFICATE|SSLV3_ALERT_UNSUPPORTED_CERTIFICATE|SSLV3_ALERT_CERTIFICATE_REVOKED|SSLV3_ALERT_CERTIFICATE_EXPIRED|SSLV3_ALERT_CERTIFICATE_UNKNOWN|TLSV1_ALERT_UNKNOWN_CA|TLSV1_ALERT_ACCESS_DENIED|TLSV1_ALERT_DECRYPT_ERROR)$/,
    () => 'the server rejected the client certificate',
  ],
  [
    /^ERR_SSL_(SSLV3_ALERT_HANDSHAKE_FAILURE|NO_SHARED_CIPHER|NO_CIPHERS_AVAILABLE|TLSV1_ALERT_INSUFFICIENT_SECURITY)$/,
    () => 'handshake failure: no cipher suite in common, or the server wants a client certificate',
  ],
  [
    /^ERR_SSL_TLSV1_ALERT_UNRECOGNIZED_NAME$/,
    (o) => `the server does not know the name sent in SNI (${o.sniName ?? o.hostname})`,
  ],
  [
    /^ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL$/,
    () => 'the server speaks none of the ALPN protocols offered',
  ],
  [
    /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST|RECORD_LENGTH_MISMATCH)$/,
    () => 'the server did not answer in TLS (a plain-HTTP port?)',
  ],
  [/^(ECONNRESET|EPIPE)$/, () => 'connection reset by the server during the TLS handshake'],
];

export interface TlsErrorContext {
  label: string;
  hostname: string;
  port: number;
  minVersion?: string | null;
  maxVersion?: string | null;
  checkedName?: string | null;
  sniName?: string | null;
}

/** The subjectAltName list of a certificate, for hostname-mismatch messages. */
function certificateNames(cert: unknown): string {
  const c = cert as { subjectaltname?: string; subject?: { CN?: string | string[] } } | undefined;
  if (c?.subjectaltname) return c.subjectaltname;
  const cn = c?.subject?.CN;
  return cn ? `no subjectAltName (commonName ${Array.isArray(cn) ? cn.join(', ') : cn})` : 'no names';
}

/** Node's TLS error -> SSLError naming the reason, with Node's error as `cause`. */
export function wrapTlsError(err: NodeJS.ErrnoException, o: TlsErrorContext): SSLError {
  const code = err.code ?? '';
  let detail: string;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const e = err as NodeJS.ErrnoException & { host?: string; cert?: unknown };
    const name = e.host ?? o.checkedName ?? o.hostname;
    detail =
      `certificate verify failed: hostname mismatch, certificate is not valid for '${name}'; ` +
      `it is valid for ${certificateNames(e.cert)}`;
  } else if (VERIFY_REASONS[code] !== undefined) {
    detail = `certificate verify failed: ${VERIFY_REASONS[code]}`;
  } else {
    const known = HANDSHAKE_REASONS.find(([re]) => re.test(code));
    const openssl = (err as { reason?: unknown }).reason;
    const nodeText = typeof openssl === 'string' && openssl ? openssl : err.message.split('\n')[0];
    detail = known ? `${known[1](o)} (${nodeText})` : `TLS handshake failed: ${nodeText}`;
  }
  return markConnectError(new SSLError(`${o.label}: ${detail}${code ? ` (${code})` : ''}`, { cause: err }));
}
