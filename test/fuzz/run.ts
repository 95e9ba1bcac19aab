// Runs one fuzz target (targets.ts) for a number of inputs, in slices of
// fresh seeds, and prints one JSON line of results per slice and at the end:
//   node --import tsx test/fuzz/run.ts <target> <inputs> [seed]
// Exit code 1 when a property failed (the counterexample is printed).

import fc from 'fast-check';
import { TARGETS } from './targets.js';

const [name, countArg, seedArg] = process.argv.slice(2);
const target = TARGETS.find((t) => t.name === name);
if (target === undefined) {
  console.error(`unknown target ${name}; targets: ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const total = Number(countArg ?? 10_000);
let seed = Number(seedArg ?? Date.now() % 2 ** 31);
const SLICE = target.async ? 20_000 : 100_000;
let done = 0;
let slowest = 0;
const started = performance.now();
while (done < total) {
  const numRuns = Math.min(SLICE, total - done);
  const t0 = performance.now();
  const details = target.async
    ? await fc.check(target.property() as fc.IAsyncPropertyWithHooks<unknown>, {
        numRuns,
        seed,
        endOnFailure: false,
      })
    : fc.check(target.property() as fc.IPropertyWithHooks<unknown>, { numRuns, seed });
  slowest = Math.max(slowest, (performance.now() - t0) / numRuns);
  if (details.failed) {
    console.log(
      JSON.stringify({
        target: name,
        seed,
        failed: true,
        after: done + details.numRuns,
        counterexample: fc.stringify(details.counterexample),
      }),
    );
    console.error(String(details.errorInstance));
    process.exit(1);
  }
  done += details.numRuns;
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
}
console.log(
  JSON.stringify({
    target: name,
    inputs: done,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    perSecond: Math.round(done / ((performance.now() - started) / 1000)),
    rssMiB: Math.round(process.memoryUsage().rss / 1048576),
  }),
);
