// A script run as a real child process under tsx, for the tests that check a
// process exits on its own once its work is done (docs/api.md section 4): it
// collects the output and times the exit from the last line of stdout.

import { spawn } from 'node:child_process';

export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** ms from the last stdout line to the exit (NaN when the script printed nothing). */
  lingered: number;
}

/** How long a script may run before it is killed (ms): a hung script fails its test instead of hanging it. */
const KILL_AFTER = 20_000;

/**
 * Runs `node --import tsx ...args` (a file, or `--input-type=module -e <source>`)
 * with `env` added to this process's environment and NODE_DEBUG cleared.
 */
export function runTsxScript(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return new Promise<ScriptRun>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env: { ...process.env, ...env, NODE_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let lastLine = 0;
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER);
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
      lastLine = performance.now();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr, lingered: lastLine === 0 ? Number.NaN : performance.now() - lastLine });
    });
  });
}
