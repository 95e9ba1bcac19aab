// A client process's bound on one piece of work (bench/lib/worker.mjs,
// bench/lib/h3-workload.mjs as a child).

/** `promise`, or a rejection naming `what` once `ms` have passed. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
