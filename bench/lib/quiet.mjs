// Guarding measurements against other work on the machine. A benchmark run
// on a shared 2-core box is only meaningful while nothing else runs, so each
// measured run (a) waits until the machine has been quiet for a moment, and
// (b) counts afterwards the CPU time spent by processes that are not ours
// (the server and the client worker): if that exceeds a threshold, the run
// is repeated (a bounded number of times) and the result flagged otherwise.
//
// Linux only (/proc); elsewhere every run counts as quiet.
// BENCH_QUIET=0 turns the guard off; BENCH_QUIET_THRESHOLD (cores, default
// 0.05), BENCH_QUIET_WAIT_MS (longest wait for quiet before a run, default
// 3000), BENCH_QUIET_RETRIES (repeats of a disturbed run, default 1) and
// BENCH_QUIET_BUDGET_MS (all waiting and repeating in one bench, default
// 30000) tune it.

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const enabled =
  process.env.BENCH_QUIET !== '0' &&
  (() => {
    try {
      readFileSync('/proc/stat');
      return true;
    } catch {
      return false;
    }
  })();
const THRESHOLD = Number(process.env.BENCH_QUIET_THRESHOLD ?? 0.05);
const MAX_WAIT_MS = Number(process.env.BENCH_QUIET_WAIT_MS ?? 3000);
const MAX_RETRIES = Number(process.env.BENCH_QUIET_RETRIES ?? 1);
const WINDOW_MS = 100;
// All the waiting and repeating of one bench run together stays under this, so a
// machine that never goes quiet costs bounded time: later runs are just flagged.
let budgetMs = Number(process.env.BENCH_QUIET_BUDGET_MS ?? 30_000);
// USER_HZ: 100 on every mainstream Linux build.
const HZ = 100;

/**
 * Busy CPU ticks of the whole machine: everything but idle and iowait. irq
 * and softirq count too: loopback TCP work done in softirq context is
 * charged to the interrupted process in /proc/PID/stat, so leaving it out
 * would make our own processes look busier than the machine.
 */
function machineTicks() {
  const f = readFileSync('/proc/stat', 'utf8').slice(0, 300).split('\n')[0].trim().split(/\s+/);
  let busy = 0;
  for (let i = 1; i <= 8; i++) if (i !== 4 && i !== 5) busy += Number(f[i] ?? 0);
  return { busy, irq: Number(f[6] ?? 0) + Number(f[7] ?? 0) };
}

function processTicks(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return 0;
  }
}

/**
 * The kernel threads that finish network work deferred from interrupts
 * (ksoftirqd/N): under a fast download they run on our behalf, so they
 * count as ours.
 */
const SOFTIRQ_THREADS = (() => {
  if (!enabled) return [];
  const pids = [];
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^[0-9]+$/.test(name)) continue;
      try {
        if (readFileSync(`/proc/${name}/comm`, 'utf8').startsWith('ksoftirqd/')) pids.push(Number(name));
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // no /proc listing
  }
  return pids;
})();

function snapshot(pids) {
  let ours = 0;
  for (const pid of pids) ours += processTicks(pid);
  for (const pid of SOFTIRQ_THREADS) ours += processTicks(pid);
  const m = machineTicks();
  return { t: performance.now(), machine: m.busy, irq: m.irq, ours };
}

/**
 * Foreign CPU in cores (1.0 = one core busy) between two snapshots. With
 * `irqIsOurs`, interrupt time counts as ours: a fast download keeps the
 * kernel busy receiving for us in interrupt context, which is charged to
 * nobody's process (small requests, by contrast, are mostly processed in the
 * context of the process that sends them, and charged to it).
 */
function foreignCores(a, b, irqIsOurs = false) {
  const seconds = (b.t - a.t) / 1000;
  if (seconds <= 0) return 0;
  let foreign = b.machine - a.machine - (b.ours - a.ours);
  if (irqIsOurs) foreign -= b.irq - a.irq;
  return Math.max(0, foreign / HZ / seconds);
}

/** Wait (bounded) until a short window shows less than THRESHOLD foreign CPU besides `pids`. */
async function waitQuiet(pids) {
  const started = performance.now();
  const deadline = started + Math.min(MAX_WAIT_MS, Math.max(0, budgetMs));
  try {
    for (;;) {
      const a = snapshot(pids);
      await sleep(WINDOW_MS);
      const f = foreignCores(a, snapshot(pids));
      if (f < THRESHOLD || performance.now() >= deadline) return f;
    }
  } finally {
    // The first window is the price of every run; only waiting beyond it spends the budget.
    budgetMs -= Math.max(0, performance.now() - started - WINDOW_MS);
  }
}

/**
 * Runs `fn` (a measurement) while the processes `getPids()` lists are the
 * only ones allowed to use the CPU; repeats it when something else used more
 * than THRESHOLD cores on average meanwhile. `prepare`, when given, runs
 * before each attempt (outside the measured window); `irqIsOurs` is for
 * bulk transfers (see foreignCores). Resolves with fn's result plus
 * `foreignCpu`, `attempts` and `disturbed`.
 */
export async function quietRun(getPids, fn, prepare = null, irqIsOurs = false) {
  if (!enabled) {
    if (prepare) await prepare();
    return { ...(await fn()), foreignCpu: null, attempts: 1, disturbed: false };
  }
  for (let attempt = 1; ; attempt++) {
    if (prepare) await prepare();
    await waitQuiet(getPids());
    const a = snapshot(getPids());
    const result = await fn();
    const b = snapshot(getPids());
    const f = foreignCores(a, b, irqIsOurs);
    if (process.env.BENCH_QUIET_DEBUG) {
      process.stderr.write(
        `quiet: ${((b.t - a.t) / 1000).toFixed(2)} s machine ${b.machine - a.machine} ours ${b.ours - a.ours} foreign ${f.toFixed(2)} cores\n`,
      );
    }
    if (f < THRESHOLD || attempt > MAX_RETRIES || budgetMs <= 0) {
      return { ...result, foreignCpu: f, attempts: attempt, disturbed: f >= THRESHOLD };
    }
    budgetMs -= performance.now() - a.t;
  }
}

export const quietGuard = {
  enabled,
  threshold: THRESHOLD,
  maxWaitMs: MAX_WAIT_MS,
  maxRetries: MAX_RETRIES,
  budgetMs: Number(process.env.BENCH_QUIET_BUDGET_MS ?? 30_000),
};
