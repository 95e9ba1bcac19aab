// The QUIC transport as this library sees it: a connection that carries
// streams, with the TLS facts of its handshake. HTTP/3 is written against
// these types only, so the backing implementation (today Cloudflare quiche
// through an optional binding, quiche-connection.ts; later perhaps Node's own
// QUIC) can be replaced without touching the protocol code.
//
// Streams are callback-driven rather than Node streams: an HTTP/3 session
// handles thousands of stream events per second and needs none of the
// stream machinery. Backpressure both ways: `write` answers false above a
// high-water mark and `onDrain` follows; `pause` stops reading a stream, so
// its bytes stay in the transport and QUIC flow control holds the peer back.

export interface QuicStreamHandlers {
  /** Bytes of the stream, in order. */
  onData(chunk: Buffer): void;
  /** The peer finished its side of the stream (FIN). */
  onEnd(): void;
  /** The peer abandoned its side (RESET_STREAM) with an application error code; -1: the connection closed. */
  onReset(code: number): void;
  /** The peer asked us to stop sending (STOP_SENDING); what was queued is dropped. */
  onStopSending(code: number): void;
  /** The write queue went back under its high-water mark. */
  onDrain(): void;
}

export interface QuicStream {
  readonly id: number;
  /** Where the stream's events go; events before a handler is set are held. */
  setHandlers(handlers: QuicStreamHandlers): void;
  /** Queues bytes; false when the queue is above its high-water mark (wait for onDrain). */
  write(data: Buffer): boolean;
  /** Queues `data` if given, then FIN. */
  end(data?: Buffer): void;
  /** Abandons both directions with an application error code (RESET_STREAM + STOP_SENDING). */
  reset(code: number): void;
  /** Stops delivering data until `resume`; the peer is held by flow control. */
  pause(): void;
  resume(): void;
  /** Bytes queued and not yet taken by the transport. */
  readonly writableLength: number;
}

/** How a QUIC connection ended. */
export interface QuicCloseInfo {
  /** Who closed it: 'peer' (CONNECTION_CLOSE received), 'local', or 'idle' (idle timeout). */
  by: 'peer' | 'local' | 'idle';
  /** An application (HTTP/3) code, or a transport code when false. */
  isApp: boolean;
  code: number;
  reason: string;
  /** A socket error that ended it, if any. */
  error: Error | null;
}

export interface QuicStats {
  packetsSent: number;
  packetsReceived: number;
  packetsLost: number;
  bytesSent: number;
  bytesReceived: number;
}

export interface QuicConnection {
  /** The application protocol negotiated through ALPN ('h3'). */
  readonly alpn: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** The peer's certificates as sent, leaf first (DER). */
  peerCertificates(): Buffer[];
  /** The peer's initial limit on concurrent bidirectional streams (initial_max_streams_bidi). */
  readonly peerMaxBidiStreams: number;
  /** How many more bidirectional streams the peer allows now. */
  readonly bidiStreamsLeft: number;
  /** Opens a stream; throws when the peer's stream limit is reached or the connection is closed. */
  openBidiStream(): QuicStream;
  openUniStream(): QuicStream;
  /** Streams the peer opens. */
  onStream: ((stream: QuicStream) => void) | null;
  /** The connection ended (called once, before the open streams get onReset(-1)). */
  onClose: ((info: QuicCloseInfo) => void) | null;
  /** Called after the transport processed a batch of events in which streams gained room. */
  onCapacity: (() => void) | null;
  readonly isClosed: boolean;
  /** Closes with an application error code (CONNECTION_CLOSE); streams fail. */
  close(code: number, reason: string): void;
  stats(): QuicStats;
  /**
   * Closed, or closing: the peer's CONNECTION_CLOSE arrived (the connection
   * drains) or the transport gave up on it. Nothing new may start on it.
   */
  readonly isClosing: boolean;
  /** The idle timeout in force (ms): the smaller of both sides' non-zero values; 0 for none. */
  readonly idleTimeout: number;
  /**
   * The liveness check of docs/api.md section 9.
   * Sends a QUIC PING (an ack-eliciting packet) and resolves true once the
   * peer answers anything within `timeout` ms; false otherwise, at once when
   * the connection closes first (never rejects).
   */
  ping(timeout: number): Promise<boolean>;
  /**
   * The TLS cipher suite negotiated (IANA name, e.g. 'TLS_AES_128_GCM_SHA256'),
   * or null while the transport cannot tell.
   */
  tlsCipher(): string | null;
  /** Whether the connection keeps the process alive (while requests are in flight). */
  ref(): void;
  unref(): void;
}

export interface QuicConnectOptions {
  /** The address to reach (already resolved) and its port. */
  address: string;
  family: 4 | 6;
  port: number;
  /** The local address (and port, 0 = any) to send from, urllib3's source_address; absent: the system's choice. */
  localAddress?: string | null;
  localPort?: number;
  /** The TLS server name (SNI, and the name checked against the certificate); null for an IP host. */
  serverName: string | null;
  alpn: string[];
  /** Verify the peer's certificate chain (and serverName when given). */
  verifyPeer: boolean;
  /** Trust anchors, concatenated PEM; used when verifyPeer is set. */
  caPem: string;
  /** Client certificate chain and its unencrypted key, PEM. */
  certChainPem: string | null;
  keyPem: string | null;
  /** Where to log TLS secrets (SSLKEYLOGFILE), or null. */
  keylogFile: string | null;
  /** How long the handshake may take (ms), or null for no limit. */
  timeout: number | null;
  signal: AbortSignal | null;
  /** A label for messages (host:port of the origin). */
  label: string;
}

/** Something that opens QUIC connections. */
export interface QuicTransport {
  readonly name: string;
  connect(options: QuicConnectOptions): Promise<QuicConnection>;
}
