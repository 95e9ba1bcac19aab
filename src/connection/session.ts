// The session seam (docs/architecture.md): what every protocol session offers
// the connection that owns it, whatever the protocol. HTTPConnection drives
// HTTP/1.1, HTTP/2 - and any later protocol - only through these types; a
// new protocol is a new ProtocolSession plus a SessionFactory entry, with no
// change to the connection or the pool.

import type { PreparedBody } from '../body/request-body.js';
import type { HTTPResponse } from '../response.js';
import type { ConnectionInfo, HttpVersion } from './connection-info.js';
import type { Reservation } from './poolable.js';

export type UploadProgress = (
  totalSent: number,
  contentLength: number | null,
  isCompleted: boolean,
  anyError: boolean,
) => void;

/** One request, prepared by the connection for a session (headers final, body prepared). */
export interface ExchangeRequest {
  method: string;
  /** The request target: origin form ('/x?y') or absolute form (forwarding proxies). */
  target: string;
  /** Flat [name, value, ...] pairs, validated by the session's serializer. */
  headers: string[];
  body: PreparedBody | null;
  /** HTTP/1.1 framing: the body goes in chunks (Transfer-Encoding: chunked). */
  chunked: boolean;
  preloadContent: boolean;
  decodeContent: boolean;
  enforceContentLength: boolean;
  readTimeout: number | null;
  signal: AbortSignal | null;
  onUploadBody: UploadProgress | null;
  onEarlyResponse: ((early: HTTPResponse) => void) | null;
  /** For messages: the absolute URL being fetched. */
  url: string;
  connectionInfo: ConnectionInfo | null;
  /**
   * Called once when the exchange no longer occupies the connection,
   * whatever the outcome: frees a shared connection's slot in the pool.
   */
  onDone: (() => void) | null;
}

/** The `sent` of an exchange whose request went out in one synchronous write. */
export const SENT: Promise<void> = Promise.resolve();

/** One request/response on a session. */
export interface Exchange {
  /** Settles when the request is fully sent (or answered before the upload ended). */
  readonly sent: Promise<void>;
  /** The stream id on a multiplexed protocol; null on HTTP/1.1. */
  readonly streamId: number | null;
  /** Some byte of the response arrived (the stale keep-alive rule needs to know). */
  readonly gotResponseBytes: boolean;
  /** The final response head; with preloadContent, once the whole body is in. */
  getResponse(): Promise<HTTPResponse>;
}

/** Signals from a session to the connection that owns it. */
export interface SessionOwner {
  readonly label: string;
  /** The object exposed as `response.connection`. */
  readonly connectionObject: unknown;
  /** Whether a pool owns the connection. */
  readonly pooled: boolean;
  /** Idle time (ms) after which a multiplexed session checks the peer is alive before reuse. */
  readonly pingAfterIdle: number;
  /** A 'unique' session finished its exchange and can take the next request. */
  sessionIdle(session: ProtocolSession): void;
  /** The transport is gone (closed by either side, discarded, or handed to an upgrade). */
  sessionClosed(session: ProtocolSession): void;
  /** A 'shared' session now takes more or fewer requests (SETTINGS, GOAWAY). */
  sessionCapacityChanged(session: ProtocolSession): void;
}

/** A protocol spoken over one transport. */
export interface ProtocolSession {
  readonly httpVersion: HttpVersion;
  /** 'unique': one exchange at a time; 'shared': up to `concurrency` at once. */
  readonly reservation: Reservation;
  readonly isClosed: boolean;
  /** 'unique': free for a request now; 'shared': accepting new exchanges. */
  readonly isAvailable: boolean;
  /** How many exchanges may run at once (the peer's limit on shared sessions). */
  readonly concurrency: number;
  /** Exchanges completed on this session. */
  readonly requestsServed: number;
  /** A session idle long enough to be suspect proves it is alive; true when no check is needed. */
  checkAlive(): Promise<boolean> | true;
  /**
   * Start an exchange: send the request. Throws (after calling
   * `request.onDone`) when it cannot even start.
   */
  open(request: ExchangeRequest): Exchange;
  /** Close the transport now; exchanges in flight fail. */
  destroy(): void;
}
