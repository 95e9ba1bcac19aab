// Reading and writing a RawExtension in the upgrade tests (HTTP/1.1 101 and
// HTTP/2 extended CONNECT alike).

import assert from 'node:assert/strict';
import type { RawExtension } from '../../src/index.js';
import { pattern } from './h2-fixtures.js';

/** Reads payloads until `n` bytes arrived (or the stream ended). */
export async function readBytes(ext: RawExtension, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  while (got < n) {
    const p = await ext.nextPayload();
    if (p === null) break;
    parts.push(p);
    got += p.length;
  }
  return Buffer.concat(parts);
}

/** Reads until the stream fails: what arrived first, and the failure (null if it ended cleanly). */
export async function readUntilFailure(ext: RawExtension): Promise<{ got: string; err: Error | null }> {
  const parts: Buffer[] = [];
  for (;;) {
    try {
      const p = await ext.nextPayload();
      if (p === null) return { got: Buffer.concat(parts).toString(), err: null };
      parts.push(p);
    } catch (err) {
      return { got: Buffer.concat(parts).toString(), err: err as Error };
    }
  }
}

/**
 * Sends `total` pattern bytes through an echoing peer in 256 KiB payloads
 * while reading the echo back at the same time, and checks every byte.
 */
export async function assertEchoRoundTrip(ext: RawExtension, total: number): Promise<void> {
  const data = pattern(total);
  const sending = (async () => {
    for (let off = 0; off < total; off += 256 * 1024)
      await ext.sendPayload(data.subarray(off, off + 256 * 1024));
  })();
  const echoed = await readBytes(ext, total);
  await sending;
  assert.equal(echoed.length, total);
  assert.ok(echoed.equals(data), 'every byte came back in order');
}
