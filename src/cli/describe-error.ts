// One line on stderr and an exit code for anything that stops a request
// (docs/api.md section 14): the failing host and port and what went wrong,
// never a stack trace. MaxRetryError is unwrapped to the failure that used up
// the retries; the library's message already says where and what.

import {
  HTTPError,
  LocationValueError,
  MaxRetryError,
  NewConnectionError,
  ProxyError,
  ResponseError,
  SSLError,
  TimeoutError,
} from '../index.js';
import { ExitCode } from './exit-codes.js';
import { UsageError } from './usage-error.js';

export interface Failure {
  code: ExitCode;
  message: string;
}

function innermost(err: unknown): unknown {
  let e = err;
  while (e instanceof MaxRetryError && e.reason !== null && e.reason !== undefined) e = e.reason;
  return e;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** `where` is the request's `host:port`, added when the message does not name it. */
export function describeError(err: unknown, where: string): Failure {
  if (err instanceof UsageError) return { code: ExitCode.usage, message: oneLine(err.message) };
  const e = innermost(err);
  const msg = oneLine(e instanceof Error ? e.message : String(e));
  // The library's messages usually name the host and port (`host:port`, or
  // `HTTPConnection(host='h', port=p)`); where they do not, say it first.
  const colon = where.lastIndexOf(':');
  const [host, port] = [where.slice(0, colon), where.slice(colon + 1)];
  const named = (text: string) =>
    text.includes(where) || (text.includes(`host='${host}'`) && text.includes(`port=${port}`));
  const at = (text: string) => (named(text) ? text : `${where}: ${text}`);
  if (e instanceof ResponseError || (err instanceof MaxRetryError && /too many redirects/.test(msg))) {
    return {
      code: ExitCode.tooManyRedirects,
      message: at(`too many redirects (${msg}); raise --max-redirects`),
    };
  }
  if (e instanceof TimeoutError && !(e instanceof NewConnectionError)) {
    return { code: ExitCode.timeout, message: at(`${e.name}: ${msg}`) };
  }
  if (e instanceof LocationValueError) return { code: ExitCode.usage, message: `${e.name}: ${msg}` };
  if (
    e instanceof NewConnectionError ||
    e instanceof SSLError ||
    e instanceof ProxyError ||
    e instanceof HTTPError
  ) {
    return { code: ExitCode.network, message: at(`${e.name}: ${msg}`) };
  }
  if (e instanceof TypeError || e instanceof RangeError) {
    // The library refuses an option value before any I/O.
    return { code: ExitCode.usage, message: msg };
  }
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return { code: ExitCode.failure, message: code !== undefined ? `${msg}` : `unexpected error: ${msg}` };
}

/** The stderr line for a failure; usage errors point at --help. */
export function failureLine(f: Failure): string {
  return `urllib3-ts: ${f.message}${f.code === ExitCode.usage ? ' (see urllib3-ts --help)' : ''}\n`;
}
