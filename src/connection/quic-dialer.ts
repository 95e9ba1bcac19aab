// The QUIC dialer (docs/architecture.md, "how to add a protocol"): resolve
// the origin, open a QUIC connection offering ALPN h3 with urllib3's TLS
// options (planned by net/quic/quic-tls.ts), check what BoringSSL did not
// (an IP host against the certificate's IP SANs, another name, a pinned
// fingerprint) before anything is sent, and report what was negotiated in
// ConnectionInfo. Every failure is a connect-phase error; TLS failures are
// SSLError. Where no QUIC transport loads, HTTP/3 is unavailable with an
// error that names the reason (docs/api.md section 9).
//
// Every address the resolver gives is tried, both families interleaved, by
// the Happy Eyeballs race of net/happy-eyeballs.ts: a QUIC attempt starts
// every 250 ms (at once when one fails), up to four at once, the first
// handshake wins and the connect timeout bounds the whole race once. QUIC
// always races: a UDP path that drops packets (a common way for QUIC to be
// blocked on one family) gives no error to move on from, only silence.
// A TLS failure ends the race: another address of the same name would show
// the same certificate.
//
// The seam's Dialed carries a Duplex; a QUIC connection is not one byte
// stream, so it travels in a shell (QuicShell) whose destroy() closes it.

import { X509Certificate } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Duplex } from 'node:stream';
import { unbracketHost } from '../authority.js';
import type { BaseResolver, ResolvedAddress } from '../dns/resolver.js';
import {
  ConnectTimeoutError,
  HTTPError,
  markConnectError,
  NameResolutionError,
  RequestAbortedError,
  SSLError,
} from '../errors.js';
import { DEFAULT_CONCURRENCY, happyEyeballs } from '../net/happy-eyeballs.js';
import { http3Unavailable, loadQuicTransport } from '../net/quic/quic-loader.js';
import { postHandshakeChecks } from '../net/quic/quic-peer-checks.js';
import type { QuicConnection, QuicTransport } from '../net/quic/quic-transport.js';
import { planQuicTls, type QuicTlsPlan, quicTlsUnavailable } from '../net/quic/quic-tls.js';
import type { TlsOptions } from '../net/tls-options.js';
import { H3_NO_ERROR } from '../protocol/h3/error-codes.js';
import { ConnectionInfo, HttpVersion } from './connection-info.js';
import type { Dialed, DialState } from './dialer.js';

/** What the QUIC dialer needs, decided by the connection. */
export interface QuicDialPlan {
  label: string;
  conn: unknown;
  /** The origin's host: the name the certificate is checked against. */
  host: string;
  /** Where to connect when an Alt-Svc names another host (default: host). */
  connectHost?: string;
  port: number;
  resolver: BaseResolver;
  socketFamily: 0 | 4 | 6;
  tls: TlsOptions;
  /** The connection's sourceAddress: the UDP socket sends from it (docs/api.md section 9). */
  sourceAddress?: [string, number] | string | null;
}

/** A QUIC connection in the Duplex the seam's Dialed carries. */
export class QuicShell extends Duplex {
  constructor(readonly quic: QuicConnection) {
    super();
  }
  override _read(): void {}
  override _write(_chunk: unknown, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    cb(new Error('a QUIC connection is not a byte stream'));
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    if (!this.quic.isClosed) this.quic.close(H3_NO_ERROR, '');
    cb(err);
  }
}

/** Resolve, handshake, verify; a Dialed whose protocol is HTTP/3. */
export async function dialQuic(
  plan: QuicDialPlan,
  state: DialState,
  timeout: number | null,
  signal: AbortSignal | null,
): Promise<Dialed> {
  const started = performance.now();
  const { transport, reason } = await loadQuicTransport();
  if (transport === null) throw http3Unavailable(plan.conn, plan.label, reason);
  const tlsReason = quicTlsUnavailable(plan.tls);
  if (tlsReason !== null) throw http3Unavailable(plan.conn, plan.label, tlsReason);
  state.isVerified = false;
  let tls: QuicTlsPlan;
  try {
    tls = planQuicTls(plan.host, plan.tls);
  } catch (err) {
    throw markConnectError(err as Error);
  }
  const host = unbracketHost(plan.connectHost ?? plan.host);
  const info = new ConnectionInfo();
  const { quic, address, resolutionLatency, handshakeLatency } = await raceQuic(
    transport,
    plan,
    tls,
    host,
    timeout === null ? null : Math.max(1, timeout - (performance.now() - started)),
    signal,
  );
  info.resolutionLatency = resolutionLatency;
  const chain = quic.peerCertificates();
  try {
    postHandshakeChecks(chain[0] ?? null, tls, plan.label);
    fillCertificates(info, chain);
  } catch (err) {
    // Nothing may keep the connection (its socket, its timers) once the dial failed.
    quic.close(0x0100, 'certificate check failed');
    throw err;
  }
  state.isVerified = tls.isVerified;
  // QUIC sets up transport and TLS in one handshake: both latencies are that handshake.
  info.establishedLatency = handshakeLatency;
  info.tlsHandshakeLatency = handshakeLatency;
  info.httpVersion = HttpVersion.h3;
  info.destinationAddress = [address, plan.port];
  info.tlsVersion = 'TLSv1.3';
  return { transport: new QuicShell(quic), protocol: HttpVersion.h3, info, sink: null };
}

/** A QUIC connection as the race's Closable: a loser is closed. */
class Attempt {
  constructor(readonly quic: QuicConnection) {}
  destroy(): void {
    if (!this.quic.isClosed) this.quic.close(H3_NO_ERROR, '');
  }
}

/** Races handshakes to the host's addresses (see the file comment); the first to complete wins. */
async function raceQuic(
  transport: QuicTransport,
  plan: QuicDialPlan,
  tls: QuicTlsPlan,
  host: string,
  timeout: number | null,
  signal: AbortSignal | null,
): Promise<{ quic: QuicConnection; address: string; resolutionLatency: number; handshakeLatency: number }> {
  const src = plan.sourceAddress ?? null;
  const localAddress = src === null ? null : typeof src === 'string' ? src : src[0];
  const localPort = src === null || typeof src === 'string' ? 0 : src[1];
  // The race stops through its own signal: on the caller's abort, at the
  // deadline (kept here, so the error can say what timed out), or at a TLS failure.
  const stop = new AbortController();
  let fatal: Error | null = null;
  let timedOut = false;
  const onAbort = () => stop.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const deadline =
    timeout === null
      ? null
      : setTimeout(() => {
          timedOut = true;
          stop.abort(new Error('connect timeout'));
        }, timeout);
  try {
    const r = await happyEyeballs<Attempt>({
      resolver: plan.resolver,
      host,
      port: plan.port,
      family: plan.socketFamily,
      concurrency: DEFAULT_CONCURRENCY,
      timeout: null,
      signal: stop.signal,
      label: plan.label,
      connect: (addr: ResolvedAddress, attemptSignal: AbortSignal) =>
        transport
          .connect({
            address: addr.address,
            family: addr.family,
            port: plan.port,
            localAddress,
            localPort,
            serverName: tls.serverName,
            alpn: ['h3'],
            verifyPeer: tls.verifyPeer,
            caPem: tls.caPem,
            certChainPem: tls.certChainPem,
            keyPem: tls.keyPem,
            keylogFile: tls.keylogFile,
            // The race owns the deadline.
            timeout: null,
            signal: attemptSignal,
            label: plan.label,
          })
          .then(
            (quic) => new Attempt(quic),
            (err: Error) => {
              if (err instanceof SSLError && fatal === null) {
                fatal = err;
                stop.abort(err);
              }
              throw err;
            },
          ),
    });
    return {
      quic: r.socket.quic,
      address: r.address.address,
      resolutionLatency: r.resolutionLatency,
      handshakeLatency: r.establishedLatency,
    };
  } catch (err) {
    if (fatal !== null) throw fatal;
    if (timedOut) {
      throw new ConnectTimeoutError(
        `${plan.label}: Connection to ${host} timed out. (connect timeout=${timeout! / 1000}): no QUIC handshake completed`,
      );
    }
    if (err instanceof RequestAbortedError) throw markConnectError(err);
    if (err instanceof HTTPError) throw err;
    throw new NameResolutionError(host, plan.conn, err as Error);
  } finally {
    if (deadline !== null) clearTimeout(deadline);
    signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * @internal The certificate fields of ConnectionInfo, from the DER chain the
 * server sent. A certificate that does not parse (BoringSSL reads no
 * intermediate when it verifies nothing, so a server may send any bytes)
 * leaves its dictionary null.
 */
export function fillCertificates(info: ConnectionInfo, chain: Buffer[]): void {
  const leaf = chain[0];
  if (leaf === undefined) return;
  info.certificateDer = leaf;
  info.certificateDict = parsedDict(leaf);
  const issuer = chain[1];
  if (issuer !== undefined) {
    info.issuerCertificateDer = issuer;
    info.issuerCertificateDict = parsedDict(issuer);
  }
}

function parsedDict(der: Buffer): NonNullable<ConnectionInfo['certificateDict']> | null {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return null;
  }
  return certificateDict(cert);
}

/** The fields of Node's PeerCertificate that an X509Certificate gives. */
function certificateDict(c: X509Certificate): NonNullable<ConnectionInfo['certificateDict']> {
  const names = (dn: string) => {
    const out: Record<string, string> = {};
    for (const line of dn.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
  };
  return {
    subject: names(c.subject),
    issuer: names(c.issuer),
    subjectaltname: c.subjectAltName ?? '',
    valid_from: c.validFrom,
    valid_to: c.validTo,
    fingerprint: c.fingerprint,
    fingerprint256: c.fingerprint256,
    fingerprint512: c.fingerprint512,
    serialNumber: c.serialNumber,
    raw: c.raw,
  } as unknown as NonNullable<ConnectionInfo['certificateDict']>;
}
