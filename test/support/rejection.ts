// The error a promise rejects with, for assertions on it; the test fails if
// the promise resolves instead.

import assert from 'node:assert/strict';

export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  assert.fail('expected the promise to reject');
}
