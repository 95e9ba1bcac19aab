// The session factory step of connecting (docs/architecture.md, "the session
// seam"): given a dialed transport and the protocol it negotiated (ALPN, or
// prior knowledge), start the matching ProtocolSession. A connection looks
// its factory up by HttpVersion, so a new protocol is one more entry here (or
// in a subclass's table) and nothing else changes.

import type { Socket } from 'node:net';
import type { HttpVersion } from './connection-info.js';
import type { Dialed } from './dialer.js';
import { H1Session } from './h1-session.js';
import { H2Session } from './h2-session.js';
import type { ResponseLimits } from './response-limits.js';
import type { ProtocolSession, SessionOwner } from './session.js';

/** What a factory needs besides the transport. */
export interface SessionOptions {
  /** host:port of the origin (HTTP/2's :authority). */
  authority: string;
  scheme: 'http' | 'https';
  /** What is left of the connect timeout (ms), for a handshake of the protocol's own. */
  timeout: number | null;
  signal: AbortSignal | null;
  maxHeaderSize: number;
  /** Header field count, interim responses, decoded body size (docs/api.md section 4). */
  limits: ResponseLimits;
}

export type SessionFactory = (
  dialed: Dialed,
  owner: SessionOwner,
  options: SessionOptions,
) => ProtocolSession | Promise<ProtocolSession>;

function startH1(dialed: Dialed, owner: SessionOwner, o: SessionOptions): ProtocolSession {
  const socket = dialed.transport as Socket;
  const session = new H1Session(socket, owner, o.maxHeaderSize, dialed.sink, o.limits);
  // A tunnel opener may have paused the socket to hold back early bytes.
  socket.resume();
  return session;
}

function startH2(dialed: Dialed, owner: SessionOwner, o: SessionOptions): Promise<ProtocolSession> {
  return H2Session.open(dialed.transport as Socket, owner, o);
}

/** The protocols this build speaks over TCP, by the version the dialer negotiated. */
export const TCP_SESSION_FACTORIES: ReadonlyMap<HttpVersion, SessionFactory> = new Map<
  HttpVersion,
  SessionFactory
>([
  ['HTTP/1.1', startH1],
  ['HTTP/2', startH2],
]);
