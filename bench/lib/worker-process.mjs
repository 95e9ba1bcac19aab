// Client worker processes (bench/lib/worker.mjs), started and driven over
// IPC (bench/lib/ipc.mjs) by bench/run.mjs and the workload modules.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IPC_STDIO, ipcChild } from './ipc.mjs';
import { pinnedCommand, spawnOwned } from './servers.mjs';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs');

/**
 * `node ...nodeArgs` in a process of its own, pinned to the client core,
 * killed with us, and driven over IPC; `label` names it in errors. `env`:
 * variables added to its environment; `prefix`: a command it runs under
 * ([cmd, ...args], e.g. unshare).
 */
export function startIpcNode(pin, nodeArgs, label, env = null, prefix = []) {
  const [pinned, pinnedArgs] = pinnedCommand(pin, pin.clientCore, process.execPath, nodeArgs);
  const [cmd, args] =
    prefix.length === 0 ? [pinned, pinnedArgs] : [prefix[0], [...prefix.slice(1), pinned, ...pinnedArgs]];
  const options = { stdio: IPC_STDIO };
  if (env !== null) options.env = { ...process.env, ...env };
  return ipcChild(spawnOwned(cmd, args, options, 'SIGKILL'), label);
}

/** A client worker; `env` and `prefix` (as startIpcNode's) are for the DNS workload. */
export async function startWorker(pin, env = null, prefix = []) {
  return startIpcNode(pin, ['--expose-gc', WORKER], 'worker', env, prefix);
}
