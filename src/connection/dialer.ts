// The dialer step of connecting (docs/architecture.md, "the session seam"):
// TCP to the first hop, then whatever stands between it and the origin - a
// SOCKS handshake, TLS to an HTTPS proxy and a CONNECT tunnel - then TLS to
// the origin with ALPN. It yields a transport plus what was negotiated (the
// protocol the transport will speak, the TLS facts, the peer address);
// choosing and starting the protocol session is the session factory's job.
// A QUIC dialer would yield its own transport the same way.

import { unbracketHost } from '../authority.js';
import type net from 'node:net';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { openHttpTunnel } from '../connectors/http-tunnel.js';
import { openSocksTunnel } from '../connectors/socks.js';
import type { SocksVersion } from '../connectors/socks-handshake.js';
import type { BaseResolver } from '../dns/resolver.js';
import { markConnectError, ProxyError, RequestAbortedError } from '../errors.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import { connectTcp, type SocketOptions } from '../net/connect.js';
import { establishTls, fillTlsInfo } from '../net/tls-handshake.js';
import type { TlsOptions } from '../net/tls-options.js';
import { ConnectionInfo, HttpVersion } from './connection-info.js';
import { looksLikePlainHttp, type ProxyRoute } from './proxy-route.js';
import { ReadSink } from './read-sink.js';

/** Where a CONNECT tunnel leads (setTunnel()). */
export interface TunnelTarget {
  host: string;
  port: number;
  scheme: string;
  headers: HeadersInit | null;
}

/** Everything the TCP/TLS dialer needs to know, decided by the connection. */
export interface DialPlan {
  /** For messages: the connection's label. */
  label: string;
  /** The connection, kept on NewConnectionError.conn. */
  conn: unknown;
  /** The first hop: the origin, or the HTTP(S) proxy itself (urllib3's model). */
  host: string;
  port: number;
  /** Host and port the request finally reaches (SOCKS and tunnels lead there). */
  destination: { host: string; port: number };
  proxy: ProxyRoute | null;
  tunnel: TunnelTarget | null;
  sourceAddress: [string, number] | string | null;
  socketOptions: SocketOptions;
  resolver: BaseResolver;
  socketFamily: 0 | 4 | 6;
  /** Connection attempts racing at once (Happy Eyeballs); 1: one address after another. */
  happyEyeballs: number;
  /** TLS to the destination, or null for plain TCP. */
  tls: { options: TlsOptions; accept: readonly string[] } | null;
  /** TLS options for the leg to an HTTPS proxy. */
  proxyTls: () => TlsOptions;
  /** Plain TCP speaks HTTP/2 by prior knowledge (h2c: HTTP/1.1 disabled). */
  priorKnowledgeH2: boolean;
}

/** What the dialer learns about the connection, written as it goes (also when it fails). */
export interface DialState {
  isVerified: boolean;
  isProxyVerified: boolean | null;
  hasConnectedToProxy: boolean;
}

/** A connected transport and what was negotiated on it. */
export interface Dialed {
  /** The byte stream the session runs over (a TCP or TLS socket, a tunnel, or another transport). */
  readonly transport: Duplex;
  /** The protocol it speaks: from ALPN, or by prior knowledge on plain TCP. */
  readonly protocol: HttpVersion;
  readonly info: ConnectionInfo;
  /** Set when a plain socket reads into the shared buffer (HTTP/1.1 only). */
  readonly sink: ReadSink | null;
}

/** TCP, then SOCKS or a CONNECT tunnel when proxied, then TLS when the plan asks for it. */
export async function dialTcp(
  plan: DialPlan,
  state: DialState,
  timeout: number | null,
  signal: AbortSignal | null,
): Promise<Dialed> {
  const started = performance.now();
  const remaining = () => (timeout === null ? null : Math.max(0, timeout - (performance.now() - started)));
  const proxy = plan.proxy;
  const socks = proxy?.scheme.startsWith('socks') === true;
  const forwarding = proxy !== null && !socks && plan.tunnel === null;
  state.hasConnectedToProxy = false;
  state.isProxyVerified = null;
  let socket: net.Socket | null = null;
  const info = new ConnectionInfo();
  info.httpVersion = HttpVersion.h11;
  // A socket that will carry HTTP/1.1 itself reads into the shared buffer.
  const plainH1 = proxy === null && plan.tunnel === null && plan.tls === null && !plan.priorKnowledgeH2;
  const sink = plainH1 ? new ReadSink() : null;
  let protocol: HttpVersion = HttpVersion.h11;
  try {
    // A SOCKS connection is made to the proxy; an HTTP(S) proxy connection already
    // names the proxy as its host (urllib3's model: host = first hop).
    const r = await connectTcp({
      host: socks ? proxy!.host : plan.host,
      port: socks ? proxy!.port : plan.port,
      timeout,
      sourceAddress: plan.sourceAddress,
      socketOptions: plan.socketOptions,
      resolver: plan.resolver,
      family: plan.socketFamily,
      happyEyeballs: plan.happyEyeballs,
      signal,
      label: plan.label,
      conn: plan.conn,
      onread: sink?.onread ?? null,
    });
    socket = r.socket;
    info.resolutionLatency = r.resolutionLatency;
    info.establishedLatency = r.establishedLatency;
    info.destinationAddress = r.address;
    if (socks) {
      await throughSocks(plan, state, r.socket, proxy!, remaining(), signal);
    } else if (proxy !== null && plan.tunnel !== null) {
      socket = await throughTunnel(plan, state, r.socket, proxy, plan.tunnel, remaining(), signal);
    }
    // A forwarding HTTP proxy is reached now; an HTTPS one once its TLS handshake is done,
    // so a TLS failure towards it is a ProxyError (proxyFailure).
    if (forwarding && plan.tls === null) state.hasConnectedToProxy = true;
    if (plan.tls !== null) {
      state.isVerified = false;
      const dest = plan.destination;
      const t = await establishTls(socket, dest.host, dest.port, plan.tls.options, {
        timeout: remaining(),
        signal,
        label: plan.label,
        accept: plan.tls.accept,
      });
      fillTlsInfo(info, t.socket, t.handshakeLatency);
      state.isVerified = t.isVerified;
      socket = t.socket;
      if (t.socket.alpnProtocol === 'h2') protocol = HttpVersion.h2;
      if (forwarding) {
        // This TLS leg ends at the proxy: the proxy was verified, the target never was
        // (seed 003's is_verified / is_proxy_verified; docs/api.md section 4).
        state.isProxyVerified = t.isVerified;
        state.isVerified = false;
        state.hasConnectedToProxy = true;
      }
    } else if (plan.priorKnowledgeH2) {
      protocol = HttpVersion.h2;
    }
  } catch (err) {
    socket?.destroy();
    throw proxyFailure(plan, state, err);
  }
  info.httpVersion = protocol;
  return { transport: socket, protocol, info, sink };
}

/** SOCKS handshake to the destination. */
async function throughSocks(
  plan: DialPlan,
  state: DialState,
  socket: net.Socket,
  proxy: ProxyRoute,
  timeout: number | null,
  signal: AbortSignal | null,
): Promise<void> {
  const version = proxy.scheme as SocksVersion;
  const dest = plan.destination;
  let host = unbracketHost(dest.host);
  // socks4 and socks5 resolve the destination here; socks4a and socks5h let the proxy do it.
  if ((version === 'socks4' || version === 'socks5') && isIP(host) === 0) {
    const family = version === 'socks4' ? 4 : plan.socketFamily;
    const addrs = await plan.resolver.getaddrinfo(host, dest.port, { family, signal: signal ?? undefined });
    if (addrs.length === 0)
      throw new ProxyError(`${plan.label}: '${host}' did not resolve to an address for ${version}`);
    host = addrs[0]!.address;
  }
  let username: string | null = null;
  let password: string | null = null;
  if (proxy.auth !== null) {
    const i = proxy.auth.indexOf(':');
    username = decodeURIComponent(i === -1 ? proxy.auth : proxy.auth.slice(0, i));
    password = i === -1 ? null : decodeURIComponent(proxy.auth.slice(i + 1));
  }
  await openSocksTunnel(
    socket,
    version,
    { host, port: dest.port },
    { username, password },
    { timeout, signal, label: plan.label, proxy: `${proxy.host}:${proxy.port}` },
  );
  state.hasConnectedToProxy = true;
}

/** TLS to an HTTPS proxy if needed, then CONNECT to the tunnel's destination. */
async function throughTunnel(
  plan: DialPlan,
  state: DialState,
  socket: net.Socket,
  proxy: ProxyRoute,
  tunnel: TunnelTarget,
  timeout: number | null,
  signal: AbortSignal | null,
): Promise<net.Socket> {
  const started = performance.now();
  const left = () => (timeout === null ? null : Math.max(0, timeout - (performance.now() - started)));
  let s = socket;
  if (proxy.scheme === 'https') {
    const r = await establishTls(socket, proxy.host, proxy.port, plan.proxyTls(), {
      timeout: left(),
      signal,
      label: plan.label,
    });
    s = r.socket;
    state.isProxyVerified = r.isVerified;
  }
  const headers: string[] = [];
  if (tunnel.headers !== null) {
    const flat = new HTTPHeaderDict(tunnel.headers).toFlatPairs();
    for (const v of flat) headers.push(v);
  }
  await openHttpTunnel(s, {
    host: tunnel.host,
    port: tunnel.port,
    headers,
    timeout: left(),
    signal,
    label: plan.label,
    proxy: `${proxy.host}:${proxy.port}`,
  });
  state.hasConnectedToProxy = true;
  return s;
}

/** Errors before the proxy was reached become ProxyError, as urllib3 reports them. */
function proxyFailure(plan: DialPlan, state: DialState, err: unknown): unknown {
  const proxy = plan.proxy;
  if (proxy === null || state.hasConnectedToProxy) return err;
  if (err instanceof ProxyError || err instanceof RequestAbortedError) return err;
  const e = err as Error;
  const where = `${proxy.host}:${proxy.port}`;
  // The underlying error names this connection already: say it once.
  const prefix = `${plan.label}: `;
  const detail = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  if (proxy.scheme === 'https' && looksLikePlainHttp(e)) {
    return markConnectError(
      new ProxyError(
        `${plan.label}: Unable to connect to proxy ${where}. Your proxy appears to only use HTTP and not HTTPS: ` +
          "try changing the proxy URL's scheme to http://",
        { cause: e },
      ),
    );
  }
  return markConnectError(
    new ProxyError(`${plan.label}: Unable to connect to proxy ${where}: ${detail}`, { cause: e }),
  );
}
