// The part of Cloudflare quiche's N-API binding this library drives, as the
// project declares it, and its lazy loader. The binding ships in the optional
// dependency `@matrixai/quic` (prebuilt for linux-x64 with glibc >= 2.34); it
// is imported only when an HTTP/3 connection is first wanted, so a machine
// where it is missing or cannot load still imports the library and speaks
// HTTP/1.1 and HTTP/2. Only its raw sans-IO `Config` and `Connection` are
// used: the socket, timers and batching are ours (quiche-connection.ts).
//
// The types below are declared here rather than imported from the package, so
// the library type-checks and builds where the package is absent.

export interface HostPort {
  host: string;
  port: number;
}

export interface QuicheConfig {
  setApplicationProtos(protos: string[]): void;
  setMaxIdleTimeout(ms: number): void;
  setMaxRecvUdpPayloadSize(size: number): void;
  setMaxSendUdpPayloadSize(size: number): void;
  setInitialMaxData(v: number): void;
  setInitialMaxStreamDataBidiLocal(v: number): void;
  setInitialMaxStreamDataBidiRemote(v: number): void;
  setInitialMaxStreamDataUni(v: number): void;
  setInitialMaxStreamsBidi(v: number): void;
  setInitialMaxStreamsUni(v: number): void;
  setMaxStreamWindow(v: number): void;
  setMaxConnectionWindow(v: number): void;
  setDisableActiveMigration(v: boolean): void;
  grease(v: boolean): void;
}

export interface QuicheConnectionError {
  isApp: boolean;
  errorCode: number;
  reason: Uint8Array;
}

export interface QuicheStats {
  recv: number;
  sent: number;
  lost: number;
  retrans: number;
  sentBytes: number;
  recvBytes: number;
  lostBytes: number;
  peerInitialMaxStreamsBidi: number;
  /** The peer's max_idle_timeout transport parameter (ms; 0: none). */
  peerMaxIdleTimeout: number;
}

export interface QuicheConnection {
  setKeylog(path: string): void;
  recv(data: Uint8Array, info: { from: HostPort; to: HostPort }): number;
  send(out: Uint8Array): [number, { from: HostPort; to: HostPort }] | null;
  streamRecv(streamId: number, out: Uint8Array): [number, boolean] | null;
  streamSend(streamId: number, data: Uint8Array, fin: boolean): number | null;
  streamShutdown(streamId: number, direction: 0 | 1, err: number): undefined | null;
  streamFinished(streamId: number): boolean;
  peerStreamsLeftBidi(): number;
  readable(): Iterable<number>;
  /** Whether any stream has something to read (data, FIN or a reset). */
  isReadable(): boolean;
  timeout(): number | null;
  onTimeout(): void;
  close(app: boolean, err: number, reason: Uint8Array): undefined | null;
  applicationProto(): Uint8Array;
  peerCertChain(): Uint8Array[] | null;
  isEstablished(): boolean;
  isDraining(): boolean;
  isClosed(): boolean;
  isTimedOut(): boolean;
  peerError(): QuicheConnectionError | null;
  localError(): QuicheConnectionError | null;
  stats(): QuicheStats;
  /** Queues an ack-eliciting packet (a QUIC PING) for the next `send`. */
  sendAckEliciting(): void;
  /** The TLS session to resume with (quiche's framing around BoringSSL's), once the server sent a ticket. */
  session(): Uint8Array | null;
}

export interface QuicheBinding {
  CRYPTO_ERROR_START: number;
  CRYPTO_ERROR_STOP: number;
  Config: {
    withBoringSslCtx(
      verifyPeer: boolean,
      verifyAllowFail: boolean,
      ca?: Uint8Array | null,
      key?: Uint8Array[] | null,
      cert?: Uint8Array[] | null,
      sigalgs?: string | null,
    ): QuicheConfig;
  };
  Connection: {
    connect(
      serverName: string | null,
      scid: Uint8Array,
      local: HostPort,
      remote: HostPort,
      config: QuicheConfig,
    ): QuicheConnection;
  };
}

/** The package that carries the binding (an optional dependency). */
export const QUIC_PACKAGE = '@matrixai/quic';

/** What loading the binding came to: the binding, or why there is none. */
export type BindingLoad = { binding: QuicheBinding; reason: null } | { binding: null; reason: string };

let loading: Promise<BindingLoad> | null = null;

/**
 * Loads the binding once per process. Never rejects: a failure is kept as
 * the reason HTTP/3 is unavailable (package not installed, no prebuilt
 * binary for this platform, a libc too old, ...).
 */
export function loadQuicheBinding(): Promise<BindingLoad> {
  loading ??= (async (): Promise<BindingLoad> => {
    // A variable specifier: the type checker must not require the package.
    const specifier = `${QUIC_PACKAGE}/native/quiche.js`;
    try {
      const mod = (await import(specifier)) as { default?: QuicheBinding };
      const binding = mod.default;
      if (!binding?.Connection || !binding.Config) {
        return { binding: null, reason: `${QUIC_PACKAGE} loaded but has no quiche binding` };
      }
      return { binding, reason: null };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why =
        err.code === 'ERR_MODULE_NOT_FOUND'
          ? `the optional dependency ${QUIC_PACKAGE} is not installed`
          : `${QUIC_PACKAGE} could not be loaded on ${process.platform}-${process.arch}: ${err.message.split('\n')[0]}`;
      return { binding: null, reason: why };
    }
  })();
  return loading;
}
