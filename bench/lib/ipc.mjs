// The call protocol (both sides) between the bench's parent process and its client
// processes (bench/lib/worker.mjs, bench/lib/h3-workload.mjs as a child):
// the child says { ready: true }, then answers each { id, cmd, ...params }
// with { id, ok, result } or { id, ok: false, error }; { cmd: 'exit' } ends it.
// One call at a time per child, each with a timeout after which the child is
// killed.

let nextId = 1;

/** The stdio a child needs for this protocol. */
export const IPC_STDIO = ['ignore', 'inherit', 'inherit', 'ipc'];

/**
 * Drives `child`, just spawned by spawnOwned (servers.mjs) with IPC_STDIO,
 * once its ready message has come. `name` ('worker', 'client process')
 * starts the error messages. Returns { pid, call(cmd, params, timeoutMs), stop() }.
 */
export async function ipcChild(child, name) {
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
    exited = `${name} exited (${signal ?? code})`;
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
    child.once('exit', () => reject(new Error(`${name} exited before it was ready`)));
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
          reject(new Error(`${name}: ${cmd} took longer than ${timeoutMs} ms`));
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

/**
 * The child's side: answers each call with `handlers[cmd](msg)`, runs
 * `beforeExit()` (closing its current client, errors ignored) on 'exit', and
 * says it is ready.
 */
export function serveIpcCalls(handlers, beforeExit) {
  process.on('message', async (msg) => {
    if (msg.cmd === 'exit') {
      await Promise.resolve()
        .then(beforeExit)
        .catch(() => {});
      process.exit(0);
    }
    try {
      const handler = handlers[msg.cmd];
      if (!handler) throw new Error(`unknown command ${msg.cmd}`);
      process.send({ id: msg.id, ok: true, result: await handler(msg) });
    } catch (err) {
      process.send({
        id: msg.id,
        ok: false,
        error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      });
    }
  });
  process.send({ ready: true });
}
