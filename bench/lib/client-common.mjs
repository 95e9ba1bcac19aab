// What every client module of the bench shares: where the library under test
// is loaded from, the response checks, and the loop that keeps `concurrency`
// requests in flight. Client modules (clients.mjs, h2-clients.mjs,
// many-origins-clients.mjs, ...) import from here and never from each other.

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SMALL_BODY } from './payloads.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
// BENCH_DIST points at another compiled tree (say, a build of the previous commit) to compare.
const DIST_INDEX = pathToFileURL(
  path.join(path.resolve(process.env.BENCH_DIST ?? path.join(ROOT, 'dist')), 'index.js'),
).href;

export const loadUrllib3 = () => import(DIST_INDEX);
// BENCH_COMPARE_DIST adds a client 'urllib3-ts B' loaded from another compiled tree, interleaved
// with the main one: the way to measure what one change gains, in one run.
export const COMPARE_INDEX = process.env.BENCH_COMPARE_DIST
  ? pathToFileURL(path.join(path.resolve(process.env.BENCH_COMPARE_DIST), 'index.js')).href
  : null;
export const loadCompare = () => import(COMPARE_INDEX);

export class BenchCheckError extends Error {}

export function checkSmall(status, length) {
  if (status !== 200 || length !== SMALL_BODY.length) {
    throw new BenchCheckError(`unexpected response: status ${status}, ${length} body bytes`);
  }
}

/** A response of `size` body bytes with status 200, else a BenchCheckError naming `what`. */
export function checkBody(what, status, length, size) {
  if (status !== 200 || length !== size) {
    throw new BenchCheckError(`${what}: status ${status}, ${length} body bytes (expected 200, ${size})`);
  }
}

export function checkJson(status, value) {
  if (status !== 200 || value === null || value.ok !== true) {
    throw new BenchCheckError(`unexpected JSON response: status ${status}, ${JSON.stringify(value)}`);
  }
}

/**
 * Runs `concurrency` loops of `once()` until the deadline (performance.now()
 * ms) or until `maxRequests` have been started; resolves with the count.
 */
export async function drive(once, concurrency, deadline, maxRequests) {
  let started = 0;
  let done = 0;
  const loop = async () => {
    while (started < maxRequests && performance.now() < deadline) {
      started++;
      await once();
      done++;
    }
  };
  const loops = [];
  for (let i = 0; i < concurrency; i++) loops.push(loop());
  await Promise.all(loops);
  return done;
}
