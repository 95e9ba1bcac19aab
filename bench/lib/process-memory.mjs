// RSS measurement inside a client process (worker.mjs and the workload
// clients it runs): a settled baseline, and the kernel's peak-RSS mark.

import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Peak RSS since the last reset, from the kernel's VmHWM; null where unavailable. */
export function readPeakRss() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Reset VmHWM to the current RSS (Linux: write 5 to clear_refs); false where unsupported. */
export function resetPeakRss() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** Two full GCs (the worker runs with --expose-gc) and a moment for the heap to shrink. */
export async function settle() {
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    await sleep(20);
    globalThis.gc();
  }
  await sleep(20);
}
