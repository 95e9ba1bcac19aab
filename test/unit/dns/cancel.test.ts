// QueryCancel (src/dns/cancel.ts): how one DNS query is called off without an
// AbortController of its own - listeners run once, in order; off() forgets
// one; a listener added after the fact is never run (callers check
// `aborted`); `signal` is a real AbortSignal, made on demand, that fires with
// it (or is already aborted when made late).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { QueryCancel } from '../../../src/dns/cancel.js';

describe('QueryCancel', () => {
  test('abort() runs each listener once, in the order they came, with the reason', () => {
    const c = new QueryCancel();
    const seen: string[] = [];
    const reason = new Error('timed out');
    c.on((r) => seen.push(`a:${(r as Error).message}`));
    c.on((r) => seen.push(`b:${(r as Error).message}`));
    c.on(() => seen.push('c'));
    assert.equal(c.aborted, false);
    c.abort(reason);
    c.abort(new Error('again'));
    assert.deepEqual(seen, ['a:timed out', 'b:timed out', 'c']);
    assert.equal(c.aborted, true);
    assert.equal(c.reason, reason, 'the first reason stays');
  });

  test('off() forgets a listener, first or later, and an unknown one is ignored', () => {
    const c = new QueryCancel();
    const seen: string[] = [];
    const a = () => seen.push('a');
    const b = () => seen.push('b');
    const d = () => seen.push('d');
    c.on(a);
    c.on(b);
    c.on(d);
    c.off(a);
    c.off(d);
    c.off(() => {});
    c.abort('x');
    assert.deepEqual(seen, ['b']);
  });

  test('a listener added after abort() is not run', () => {
    const c = new QueryCancel();
    c.abort('gone');
    let ran = false;
    c.on(() => {
      ran = true;
    });
    assert.equal(ran, false);
  });

  test('signal is an AbortSignal that fires with it, or is aborted already when asked for late', () => {
    const c = new QueryCancel();
    const s = c.signal;
    assert.equal(c.signal, s, 'made once');
    let reason: unknown = null;
    s.addEventListener('abort', () => {
      reason = s.reason;
    });
    c.abort('timeout');
    assert.equal(s.aborted, true);
    assert.equal(reason, 'timeout');
    const late = new QueryCancel();
    late.abort('closed');
    assert.equal(late.signal.aborted, true);
    assert.equal(late.signal.reason, 'closed');
  });
});
