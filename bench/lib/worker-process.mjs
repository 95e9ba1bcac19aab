// Client worker processes (bench/lib/worker.mjs), started and driven over
// IPC by bench/run.mjs and the workload modules: one call at a time per
// worker, each with a timeout after which the worker is killed.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pinnedCommand, spawnOwned } from './servers.mjs';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.mjs');

let nextId = 1;

/**
 * `env`: variables added to the worker's environment; `prefix`: a command
 * the worker runs under ([cmd, ...args], e.g. unshare). Both for the DNS workload.
 */
export async function startWorker(pin, env = null, prefix = []) {
  const [pinned, pinnedArgs] = pinnedCommand(pin, pin.clientCore, process.execPath, ['--expose-gc', WORKER]);
  const [cmd, args] =
    prefix.length === 0 ? [pinned, pinnedArgs] : [prefix[0], [...prefix.slice(1), pinned, ...pinnedArgs]];
  const options = { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] };
  if (env !== null) options.env = { ...process.env, ...env };
  const child = spawnOwned(cmd, args, options, 'SIGKILL');
  const pending = new Map();
  let exited = null;
  child.on('message', (msg) => {
    const p = pending.get(msg.id);
    if (p === undefined) return;
    pending.delete(msg.id);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new Error(msg.error));
  });
  child.on('exit', (code, signal) => {
    exited = `worker exited (${signal ?? code})`;
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(exited));
    }
    pending.clear();
  });
  await new Promise((resolve, reject) => {
    const onMsg = (m) => {
      if (m?.ready) {
        child.removeListener('message', onMsg);
        resolve();
      }
    };
    child.on('message', onMsg);
    child.once('exit', () => reject(new Error('worker exited before it was ready')));
  });
  return {
    pid: child.pid,
    call(cmd, params, timeoutMs) {
      if (exited !== null) return Promise.reject(new Error(exited));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          child.stopOwned();
          reject(new Error(`worker: ${cmd} took longer than ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve, reject, timer });
        child.send({ id, cmd, ...params });
      });
    },
    async stop() {
      if (exited === null) {
        try {
          child.send({ cmd: 'exit' });
        } catch {
          // channel closed
        }
        const t = setTimeout(() => child.stopOwned(), 2000);
        await new Promise((r) => (exited !== null ? r() : child.once('exit', r)));
        clearTimeout(t);
      }
    },
  };
}
