// ConnectionInfo (docs/api.md section 11): what a request's connection looked like
// when it was used. Set-up latencies are those of the connection's own
// establishment, reported as 0 when the connection was reused.

import type { PeerCertificate } from 'node:tls';

export const HttpVersion = {
  h11: 'HTTP/1.1',
  h2: 'HTTP/2',
  h3: 'HTTP/3',
} as const;
export type HttpVersion = (typeof HttpVersion)[keyof typeof HttpVersion];

export class ConnectionInfo {
  establishedLatency = 0;
  resolutionLatency = 0;
  tlsHandshakeLatency = 0;
  requestSentLatency = 0;
  httpVersion: HttpVersion = HttpVersion.h11;
  destinationAddress: [string, number] | null = null;
  cipher: string | null = null;
  tlsVersion: string | null = null;
  certificateDer: Buffer | null = null;
  certificateDict: PeerCertificate | null = null;
  issuerCertificateDer: Buffer | null = null;
  issuerCertificateDict: PeerCertificate | null = null;

  isEncrypted(): boolean {
    return this.tlsVersion !== null;
  }

  /** A copy describing a reuse of the same connection: set-up phases cost nothing. */
  forReuse(): ConnectionInfo {
    // Field by field (the latencies stay 0): one fixed shape, no generic copy per request.
    const c = new ConnectionInfo();
    c.httpVersion = this.httpVersion;
    c.destinationAddress = this.destinationAddress;
    c.cipher = this.cipher;
    c.tlsVersion = this.tlsVersion;
    c.certificateDer = this.certificateDer;
    c.certificateDict = this.certificateDict;
    c.issuerCertificateDer = this.issuerCertificateDer;
    c.issuerCertificateDict = this.issuerCertificateDict;
    return c;
  }
}
