// Runs the `urllib3-ts` command as a person would: a child process of its own,
// from source through tsx (so a fresh clone needs no build), with a clean
// environment (no proxy variables, no NO_COLOR) unless a test sets them.
// Standard input is /dev/null unless the test gives one, as in a script.

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** tsx by absolute URL, so the command also runs from another working directory. */
export const TSX = import.meta.resolve('tsx');
/** The argv prefix that starts the CLI: `node --import tsx src/cli/main.ts`. */
export const CLI_COMMAND = [process.execPath, '--import', TSX, MAIN];

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stdoutBytes: Buffer;
  stderr: string;
  /** wall-clock milliseconds from spawn to exit */
  elapsedMs: number;
}

export interface RunOptions {
  /** written to the command's standard input, which is then closed */
  input?: string | Buffer;
  /** added to the clean environment */
  env?: Record<string, string>;
  cwd?: string;
  timeoutMs?: number;
}

const DROPPED = /^(http_proxy|https_proxy|all_proxy|no_proxy|no_color|force_color|node_debug)$/i;

export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !DROPPED.test(k)) env[k] = v;
  return { ...env, ...extra };
}

export function runCli(args: string[], options: RunOptions = {}): Promise<CliResult> {
  const started = performance.now();
  const child = spawn(CLI_COMMAND[0]!, [...CLI_COMMAND.slice(1), ...args], {
    stdio: [options.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: cleanEnv(options.env),
    cwd: options.cwd,
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (c: Buffer) => out.push(c));
  child.stderr!.on('data', (c: Buffer) => err.push(c));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        elapsedMs: performance.now() - started,
      });
    });
  });
}

/** Asserts nothing that looks like a stack trace reached stderr. */
export function hasStackTrace(stderr: string): boolean {
  return /^\s+at .+[:(]/m.test(stderr);
}
