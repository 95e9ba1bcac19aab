// Shared by the tls-*.test.ts files: an in-process node:https server whose
// TLS side is fully configurable (certificates per SNI name, client
// certificates, TLS versions, ciphers, ALPN) and that records, per
// connection, what the client offered; and a resolver that sends every name
// to 127.0.0.1, so certificates for any host name can be tested on loopback.

import { once } from 'node:events';
import https from 'node:https';
import type net from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { BaseResolver, type ResolvedAddress, type ResolveOptions } from '../../src/index.js';

export const HOST = '127.0.0.1';

/** Answers every name with 127.0.0.1. */
export class LoopbackResolver extends BaseResolver {
  calls: string[] = [];
  async getaddrinfo(host: string, port: number, _options?: ResolveOptions): Promise<ResolvedAddress[]> {
    this.calls.push(host);
    return [{ address: HOST, family: 4, port }];
  }
}

/** What the server saw of one TLS connection. */
export interface SeenConnection {
  /** SNI name, or null when the client sent none */
  sni: string | null;
  /** ALPN protocols the client offered (empty when none) */
  alpnOffered: string[];
  /** ALPN protocol agreed */
  alpn: string | false;
  tlsVersion: string | null;
  cipher: string | null;
  /** CN of the client certificate, when one was presented */
  clientCn: string | null;
  clientAuthorized: boolean;
}

/** The JSON body every request gets back. */
export interface TlsEcho {
  path: string;
  sni: string | null;
  tlsVersion: string | null;
  cipher: string | null;
  clientCn: string | null;
  clientAuthorized: boolean;
}

export interface TlsServerOptions {
  cert: string;
  key: string;
  /** other certificates by SNI name (exact match) */
  sniCerts?: Record<string, { certPem: string; keyPem: string }>;
  /** require a client certificate signed by this CA (PEM) */
  clientCa?: string;
  /** ask for a client certificate but accept connections without one */
  clientCertOptional?: boolean;
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
  /** the ALPN protocol to choose from the client's offer (default: http/1.1 when offered) */
  alpnChoice?: (offered: string[]) => string | undefined;
}

export interface TlsServer {
  port: number;
  origin: string;
  connections: SeenConnection[];
  /** TCP connections accepted (handshakes attempted) */
  accepted: number;
  close(): Promise<void>;
}

export async function startTlsServer(o: TlsServerOptions): Promise<TlsServer> {
  const connections: SeenConnection[] = [];
  const sniContexts = new Map<string, tls.SecureContext>();
  for (const [name, c] of Object.entries(o.sniCerts ?? {})) {
    sniContexts.set(name, tls.createSecureContext({ cert: c.certPem, key: c.keyPem }));
  }
  const options: https.ServerOptions = {
    cert: o.cert,
    key: o.key,
    ALPNCallback: ({ protocols }) => {
      // The callback has no socket; remember the offer for the next secureConnection.
      lastOffer = protocols;
      if (o.alpnChoice) return o.alpnChoice(protocols);
      return protocols.includes('http/1.1') ? 'http/1.1' : undefined;
    },
  };
  let lastOffer: string[] = [];
  if (sniContexts.size > 0) {
    options.SNICallback = (name, cb) => cb(null, sniContexts.get(name));
  }
  if (o.clientCa !== undefined) {
    options.ca = o.clientCa;
    options.requestCert = true;
    options.rejectUnauthorized = o.clientCertOptional !== true;
  }
  if (o.minVersion) options.minVersion = o.minVersion;
  if (o.maxVersion) options.maxVersion = o.maxVersion;
  if (o.ciphers) options.ciphers = o.ciphers;

  const server = https.createServer(options, (req, res) => {
    const sock = req.socket as TLSSocket;
    const peer = sock.getPeerCertificate();
    const body: TlsEcho = {
      path: req.url ?? '',
      sni:
        typeof (sock as TLSSocket & { servername?: unknown }).servername === 'string'
          ? (sock as TLSSocket & { servername: string }).servername
          : null,
      tlsVersion: sock.getProtocol(),
      cipher: sock.getCipher()?.name ?? null,
      clientCn: peer && Object.keys(peer).length > 0 ? String(peer.subject?.CN ?? '') : null,
      clientAuthorized: sock.authorized,
    };
    const data = Buffer.from(JSON.stringify(body));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': data.length });
    res.end(data);
  });
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  server.on('connection', (s: net.Socket) => {
    accepted++;
    sockets.add(s);
    s.on('error', () => {});
    s.once('close', () => sockets.delete(s));
  });
  server.on('secureConnection', (s: TLSSocket) => {
    const peer = s.getPeerCertificate();
    const name = (s as TLSSocket & { servername?: unknown }).servername;
    connections.push({
      sni: typeof name === 'string' ? name : null,
      alpnOffered: lastOffer,
      alpn: s.alpnProtocol ?? false,
      tlsVersion: s.getProtocol(),
      cipher: s.getCipher()?.name ?? null,
      clientCn: peer && Object.keys(peer).length > 0 ? String(peer.subject?.CN ?? '') : null,
      clientAuthorized: s.authorized,
    });
    lastOffer = [];
  });
  // Handshakes the client refuses (or that we refuse) are part of the tests.
  server.on('tlsClientError', () => {});
  server.listen(0, HOST);
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    origin: `https://${HOST}:${port}`,
    connections,
    get accepted() {
      return accepted;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves with the rejection of `p`, failing when it resolves. */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, got a value');
}

/** Collects the process warnings of one type while `fn` runs (warnings arrive on a later tick). */
export async function warningsDuring(type: string, fn: () => Promise<void>): Promise<Error[]> {
  const seen: Error[] = [];
  // The warnings a test expects are taken here, not printed on stderr by
  // Node's own listener; any other warning still reaches it.
  const others = process.listeners('warning');
  const onWarning = (w: Error) => {
    if (w.name === type) seen.push(w);
    else for (const listener of others) listener(w);
  };
  process.removeAllListeners('warning');
  process.on('warning', onWarning);
  try {
    await fn();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 10));
  } finally {
    process.off('warning', onWarning);
    for (const listener of others) process.on('warning', listener);
  }
  return seen;
}
