// npm run soak: the fault-injection soak of test/soak/soak-run.ts, long.
//   npm run soak                                  # 20,000 requests per protocol
//   npm run soak -- --requests 500000             # per protocol (h1 and h2)
//   npm run soak -- --protocols h2 --faults 0.05 --concurrency 64
// Prints one JSON line per protocol and a summary; exit code 1 when a request
// was lost, a body was wrong, an error was not the library's own, or a
// socket or handle was left open.

import { runSoak, type SoakResult } from '../test/soak/soak-run.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(`--${name}`);
  return i === -1 ? dflt : args[i + 1]!;
};
const requests = Number(opt('requests', '20000'));
const protocols = opt('protocols', 'h1,h2').split(',') as Array<'h1' | 'h2'>;
const faultRate = Number(opt('faults', '0.05'));
const concurrency = Number(opt('concurrency', '64'));
const restartEvery = Number(opt('restart-every', String(Math.max(1000, Math.floor(requests / 20)))));

const results: SoakResult[] = [];
for (const protocol of protocols) {
  const r = await runSoak({
    protocol,
    requests,
    faultRate,
    concurrency,
    restartEvery,
    readTimeout: 300,
    progress: (n) => process.stderr.write(`\r${protocol}: ${n.toLocaleString('en')} requests`),
  });
  process.stderr.write('\n');
  console.log(JSON.stringify(r));
  results.push(r);
}
const bad = results.filter(
  (r) =>
    r.lost > 0 ||
    r.wrongBodies > 0 ||
    r.foreignErrors > 0 ||
    r.failedUnexpectedly > 0 ||
    r.leakedSockets > 0 ||
    Object.keys(r.leakedHandles).length > 0,
);
const total = results.reduce((n, r) => n + r.requests, 0);
console.log(
  `soak: ${total.toLocaleString('en')} requests, ${results.reduce((n, r) => n + Object.values(r.faultsInjected).reduce((a, b) => a + b, 0), 0).toLocaleString('en')} faults injected: ` +
    (bad.length === 0
      ? 'nothing lost, wrong or leaked'
      : `NOT OK (${bad.map((r) => r.protocol).join(', ')})`),
);
process.exit(bad.length === 0 ? 0 : 1);
