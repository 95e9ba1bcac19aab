// The download progress bar (docs/api.md section 14), drawn against a fake
// clock into a string: what each redraw shows, how often it redraws, and the
// summary line that replaces it.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSize, ProgressBar } from '../../src/cli/progress.js';

function fakeTerminal(columns = 100) {
  const writes: string[] = [];
  return { writes, out: { columns, write: (t: string) => writes.push(t) } };
}

describe('progress bar', () => {
  test('with a known length it shows percentage, bar, size, rate and ETA', () => {
    let now = 0;
    const { writes, out } = fakeTerminal();
    const bar = new ProgressBar(out, 4 * 1024 * 1024, 'saved x', () => now);
    now = 1000;
    bar.update(1024 * 1024);
    const line = writes.at(-1)!;
    assert.match(line, /^\r\x1b\[K 25% \[=+> +\] 1\.0 MiB \/ 4\.0 MiB {2}1\.0 MiB\/s {2}ETA 0:03$/);
    assert.ok(line.length - 4 <= 99, 'fits the terminal width');
  });

  test('without a length it shows the size and the rate', () => {
    let now = 0;
    const { writes, out } = fakeTerminal();
    const bar = new ProgressBar(out, null, 'saved x', () => now);
    now = 2000;
    bar.update(4096);
    assert.equal(writes.at(-1), '\r\x1b[K4.0 KiB  2.0 KiB/s');
  });

  test('redraws at most every 100 ms', () => {
    let now = 0;
    const { writes, out } = fakeTerminal();
    const bar = new ProgressBar(out, 1000, 'saved x', () => now);
    const initial = writes.length;
    for (let i = 0; i < 50; i++) {
      now += 5;
      bar.update(1);
    }
    assert.equal(writes.length, initial + 2, 'two redraws in 250 ms');
  });

  test('finish replaces the bar with a summary line', () => {
    let now = 0;
    const { writes, out } = fakeTerminal();
    const bar = new ProgressBar(out, 2048, 'saved out.bin', () => now);
    bar.update(2048);
    now = 500;
    bar.finish();
    assert.equal(writes.at(-1), '\r\x1b[Ksaved out.bin: 2.0 KiB in 0.5 s (4.0 KiB/s)\n');
  });

  test('sizes are written in binary units', () => {
    assert.equal(formatSize(512), '512 B');
    assert.equal(formatSize(1536), '1.5 KiB');
    assert.equal(formatSize(5 * 1024 ** 3), '5.0 GiB');
  });
});
