// The exit status of `urllib3-ts` (docs/api.md section 14): 0 when the server
// answered 2xx or 3xx, and one distinct code per kind of failure so scripts
// can branch on it without parsing stderr. The table is printed by --help and
// listed in the README; keep the three in step.

export const ExitCode = {
  ok: 0,
  /** a local failure: an output file that cannot be written, an unexpected error */
  failure: 1,
  /** the command line itself is wrong; nothing was sent */
  usage: 2,
  /** --follow gave up: more redirects than --max-redirects */
  tooManyRedirects: 3,
  /** the server answered 4xx */
  clientError: 4,
  /** the server answered 5xx */
  serverError: 5,
  /** no answer: DNS, connection, TLS, proxy or protocol failure */
  network: 6,
  /** no answer in time (--timeout) */
  timeout: 7,
  /** interrupted (Ctrl-C) */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit code for a response status (1xx, 2xx and 3xx are successes). */
export function exitCodeForStatus(status: number): ExitCode {
  if (status >= 500) return ExitCode.serverError;
  if (status >= 400) return ExitCode.clientError;
  return ExitCode.ok;
}

/** One line per code, for --help and the README. */
export const EXIT_CODE_HELP: readonly [ExitCode, string][] = [
  [ExitCode.ok, 'the server answered 1xx, 2xx or 3xx'],
  [ExitCode.failure, 'a local failure (an output file could not be written)'],
  [ExitCode.usage, 'usage error: unknown option, bad item, bad URL; nothing was sent'],
  [ExitCode.tooManyRedirects, 'more redirects than --max-redirects'],
  [ExitCode.clientError, 'the server answered 4xx'],
  [ExitCode.serverError, 'the server answered 5xx'],
  [ExitCode.network, 'network error: name resolution, connection, TLS, proxy or protocol'],
  [ExitCode.timeout, 'timed out (--timeout)'],
  [ExitCode.interrupted, 'interrupted'],
];
