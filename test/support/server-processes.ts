// What the real-server and real-proxy harnesses (real-servers.ts,
// real-proxies.ts) share: finding Debian binaries, telling CI from a
// developer machine, and the registry of live server processes that an exit
// hook reaps (each server runs in a process group of its own, so whatever it
// forked goes with it), plus the retry for a port taken between choosing it
// and the server binding it.

import type { ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync, statSync } from 'node:fs';
import path from 'node:path';

const SBIN_DIRS = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** URLLIB3_TS_KEEP_SERVER_DIRS=1 keeps each server's temporary directory (configs, logs) for a post-mortem. */
export const keepDirs = process.env.URLLIB3_TS_KEEP_SERVER_DIRS === '1';

/** An executable on PATH or in the sbin directories (where Debian puts daemons), or null. */
export function findBinary(name: string): string | null {
  const candidates = name.includes('/')
    ? [name]
    : [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SBIN_DIRS].map((d) =>
        path.join(d, name),
      );
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not there; try the next directory
    }
  }
  return null;
}

/** CI=true (or any value but '', '0', 'false'): missing servers are an error there, not a skip. */
export function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** A server process that exited (or never answered) during start-up. */
export class ServerExitedError extends Error {}

/** Runs `attempt` again (up to 3 times) when the server died because its port was taken meanwhile. */
export async function withPortRetries<T>(attempt: () => Promise<T>): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (err) {
      const inUse = err instanceof ServerExitedError && /in use/i.test(err.message);
      if (!inUse || i >= 3) throw err;
    }
  }
}

/** SIGKILL to the server's whole process group, so the helpers it forked go too. */
export function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const live = new Map<ChildProcess, { dir: string; cleanup?: (() => void) | undefined }>();
let hooksInstalled = false;

function killAllNow(): void {
  for (const [child, { dir, cleanup }] of live) {
    killGroup(child);
    cleanup?.();
    if (!keepDirs) rmSync(dir, { recursive: true, force: true });
  }
  live.clear();
}

/**
 * Registers a started server: if the test process ends (normally or by a
 * signal) while it runs, its group is killed, `cleanup` runs and `dir` goes.
 */
export function trackServer(child: ChildProcess, dir: string, cleanup?: () => void): void {
  if (!hooksInstalled) {
    hooksInstalled = true;
    process.on('exit', killAllNow);
    // A signal's default action skips 'exit' handlers. Kill our servers, then
    // let the signal do what it would have done: re-raise it unless someone
    // else (e.g. the test runner) handles it.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        killAllNow();
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      });
    }
  }
  live.set(child, { dir, cleanup });
}

/** The server stopped on its own terms: nothing left for the exit hook. */
export function untrackServer(child: ChildProcess): void {
  live.delete(child);
}
