// The fuzz targets in the test suite: a few hundred inputs each, from a
// fixed seed, so a regression that a target would catch fails `npm test`
// too. `npm run fuzz` runs them for real (RELIABILITY.md).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { CORPUS, TARGETS } from './targets.js';

describe('fuzz targets, briefly', () => {
  test('the corpus of real responses is there', () => {
    assert.ok(CORPUS.length >= 10, `${CORPUS.length} seeds`);
  });

  for (const target of TARGETS) {
    test(`${target.name}: 300 inputs raise only the library's own errors`, async () => {
      const numRuns = 300;
      if (target.async) {
        await fc.assert(target.property() as fc.IAsyncPropertyWithHooks<unknown>, { numRuns, seed: 16 });
      } else {
        fc.assert(target.property() as fc.IPropertyWithHooks<unknown>, { numRuns, seed: 16 });
      }
    });
  }
});
