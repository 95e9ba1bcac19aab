// Waiting for a server-side socket to take more writes, for tests whose
// scripted servers write long bodies faster than the client reads them.

import type net from 'node:net';

/** Until the socket drains or closes (both listeners removed after, so none pile up). */
export function drained(socket: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      socket.removeListener('drain', done);
      socket.removeListener('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
