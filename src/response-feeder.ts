// The two small shapes that join a response to the connection that feeds it,
// declared on the response's side so that it never imports the connection
// layer: what the response needs from its feeder (an exchange of any
// protocol), and what it exposes as `response.connection`.

import type { ConnectionInfo } from './connection/connection-info.js';

/**
 * What `response.connection` is: the connection that carried the response
 * (an HTTPConnection or HTTPSConnection). Declared here, by what the
 * response promises, so the response does not depend on the connection layer.
 */
export interface ResponseConnection {
  readonly scheme: 'http' | 'https';
  readonly host: string;
  readonly port: number;
  readonly label: string;
  readonly isConnected: boolean;
  readonly isVerified: boolean;
  readonly isProxyVerified: boolean | null;
  readonly connectionInfo: ConnectionInfo | null;
  readonly requestsServed: number;
  close(): Promise<void>;
}

/** What a response needs from the thing feeding it (an exchange of any protocol). */
export interface ResponseFeeder {
  /** Stop delivering body bytes for now (backpressure). */
  pauseBody(): void;
  resumeBody(): void;
  /** The body was fully received and the reader is done with the connection: hand it back. */
  releaseFromResponse(): void;
  /** Close the connection: the body was not read to its end, or something failed. */
  discardFromResponse(): void;
  /**
   * The response itself found the body unacceptable (over `maxResponseSize`):
   * fail the exchange with `err`, settling whoever waits for the response, and
   * close the connection. Optional: a hand-built feed has nothing to fail.
   */
  failFromResponse?(err: Error): void;
  /** The low-level connection object exposed as `response.connection`. */
  readonly connectionObject: unknown;
  /** Whether releasing hands the connection to a pool (then `response.connection` becomes null). */
  readonly pooled: boolean;
}
