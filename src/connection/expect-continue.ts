// `Expect: 100-continue` (RFC 9110 section 10.1.1), shared by both protocol
// sessions: a request that carries it sends its head, then holds its body
// back until the server says 100 Continue, answers finally (then the body is
// never sent), or stays silent for CONTINUE_TIMEOUT (then the body goes
// anyway, as the RFC asks of clients that cannot know the server supports it).

/** How long a request waits for 100 Continue before sending its body anyway. */
export const CONTINUE_TIMEOUT = 1000;

/** Whether the flat [name, value, ...] header list asks for 100-continue. */
export function expectsContinue(headers: readonly string[]): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (
      name.length === 6 &&
      name.toLowerCase() === 'expect' &&
      headers[i + 1]!.trim().toLowerCase() === '100-continue'
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Resolves once `ready()` holds - checked whenever the returned `wake` is
 * called - or after `timeout` ms, whichever comes first. Never rejects: the
 * caller looks at its own state afterwards.
 */
export function waitUntil(
  ready: () => boolean,
  timeout: number,
): { promise: Promise<void>; wake: () => void } {
  let resolveFn: () => void = () => {};
  let timer: ReturnType<typeof setTimeout> | null = null;
  let settled = false;
  const finish = () => {
    if (settled) return;
    settled = true;
    if (timer !== null) clearTimeout(timer);
    resolveFn();
  };
  const promise = new Promise<void>((resolve) => {
    resolveFn = resolve;
  });
  if (ready()) finish();
  else timer = setTimeout(finish, timeout);
  return {
    promise,
    wake: () => {
      if (!settled && ready()) finish();
    },
  };
}
