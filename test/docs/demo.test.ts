// `npm run demo` prints each step's code with what each line printed beside
// it (in a pipe the width is 160 columns), and runs with no network.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test(
  'the demo shows the code of each step with its output beside the line that printed it',
  { timeout: 30_000 },
  async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts'], {
      cwd: ROOT,
      timeout: 25_000,
    });
    const lines = stdout.split('\n');
    const beside = (code: string, output: RegExp) =>
      assert.ok(
        lines.some((l) => l.includes(code) && output.test(l.slice(l.indexOf('│')))),
        `no line shows ${JSON.stringify(code)} beside ${output}:\n${stdout}`,
      );
    beside("console.log(r.headers.get('content-type'));", /│ text\/plain$/);
    beside('console.log(r.json().json);', /│ \{"attribute":"value"\}$/);
    beside(
      'console.log(`100 requests opened ${pool.numConnections} TCP connection(s)`);',
      /│ 100 requests opened 1 TCP connection\(s\)$/,
    );
    beside('console.log(r.versionString, r.status);', /│ HTTP\/2 200$/);
    // A line that prints twice (a loop) has its second output on the next row.
    const loop = lines.findIndex((l) => l.includes('for (const h of r.retries.history)'));
    assert.match(lines[loop]!, /│ 302 \/relative-redirect\/1$/);
    assert.match(lines[loop + 1]!, /^\s+│ 302 \/get$/);
    // Too wide to sit beside the code: the output goes under its line.
    const caught = lines.findIndex((l) => l.includes("console.log('caught ReadTimeoutError:'"));
    assert.match(
      lines[caught + 1]!,
      /^ {2}→ caught ReadTimeoutError: HTTPConnection\(host='127\.0\.0\.1', port=\d+\): Read timed out/,
    );
    assert.match(stdout, /^8\. Timeouts and retries$/m);
    assert.match(stdout, /^Done in \d+ ms\.$/m);
  },
);
