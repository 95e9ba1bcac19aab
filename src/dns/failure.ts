// How resolvers fail: always a NameResolutionError naming the host and the
// reason. Some failures are final - the name does not exist, a null resolver
// refuses it - and a ManyResolver must not ask the next resolver then; others
// (timeouts, SERVFAIL, a server gone) are worth another resolver's try. The
// mark is kept on the error object, so it survives being passed around.

import { NameResolutionError } from '../errors.js';

const FINAL = Symbol('urllib3.dns.final');

export function resolutionError(
  host: string,
  reason: string,
  options: { final?: boolean; cause?: unknown } = {},
): NameResolutionError {
  const err = new NameResolutionError(host, null, new Error(reason), {
    cause: options.cause ?? new Error(reason),
  });
  if (options.final) (err as unknown as Record<symbol, boolean>)[FINAL] = true;
  return err;
}

/** Whether another resolver of a list may still be asked after `err`. */
export function isFinalFailure(err: unknown): boolean {
  return (err as Record<symbol, boolean> | null)?.[FINAL] === true;
}
