// The I/O half shared by the proxy handshakes (HTTP CONNECT, SOCKS): listen
// to a socket under a deadline and an abort signal until the protocol code
// says the tunnel is open (any bytes past the handshake are pushed back for
// the next reader) or fails. Every failure destroys the socket and is marked
// as a connect error for Retry.

import type { Duplex } from 'node:stream';
import { markConnectError } from '../errors.js';

export interface HandshakeSteps {
  timeout: number | null;
  signal: AbortSignal | null;
  /** Write the opening bytes. */
  start(): void;
  /** Handle reply bytes: call `done` once the tunnel is open, throw to fail. */
  onData(chunk: Buffer, done: (leftover: Buffer | null) => void): void;
  closed(): Error;
  socketError(err: Error): Error;
  aborted(reason: unknown): Error;
  timedOut(): Error;
}

export function runHandshake(socket: Duplex, steps: HandshakeSteps): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | null = null;
    let settled = false;
    const cleanup = () => {
      settled = true;
      if (timer !== null) clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      steps.signal?.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error) => {
      if (settled) return;
      cleanup();
      socket.destroy();
      reject(markConnectError(err));
    };
    const done = (leftover: Buffer | null) => {
      if (settled) return;
      cleanup();
      // Hold the socket still: its next reader (TLS or the HTTP session) takes over.
      socket.pause();
      if (leftover !== null && leftover.length > 0) socket.unshift(leftover);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      try {
        steps.onData(chunk, done);
      } catch (err) {
        fail(err as Error);
      }
    };
    const onClose = () => fail(steps.closed());
    const onError = (err: Error) => fail(steps.socketError(err));
    const onAbort = () => fail(steps.aborted(steps.signal?.reason));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', onError);
    steps.signal?.addEventListener('abort', onAbort, { once: true });
    if (steps.timeout !== null) timer = setTimeout(() => fail(steps.timedOut()), Math.max(1, steps.timeout));
    try {
      steps.start();
      socket.resume();
    } catch (err) {
      fail(err as Error);
    }
  });
}
