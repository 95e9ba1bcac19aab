// Timeout: validation, the connect/read/total arithmetic and the connect
// timer (urllib3's Timeout tests, in ms, with an injected clock).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TimeoutStateError } from '../../../src/errors.js';
import { DEFAULT_TIMEOUT, Timeout, type TimeoutOptions } from '../../../src/policies/timeout.js';

/** A clock the test moves by hand. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A started Timeout whose connect phase took `elapsed` ms. */
function afterConnect(options: TimeoutOptions, elapsed: number): Timeout {
  const clock = manualClock();
  const timeout = new Timeout(options, { now: clock.now });
  timeout.startConnect();
  clock.advance(elapsed);
  return timeout;
}

describe('Timeout validation', () => {
  const bad: Array<[TimeoutOptions, typeof RangeError | typeof TypeError, RegExp]> = [
    [{ total: -1 }, RangeError, /total must be a finite number of ms greater than 0/],
    [{ connect: 2, total: -1 }, RangeError, /total/],
    [{ read: -1 }, RangeError, /read/],
    [{ connect: 0 }, RangeError, /connect must be a finite number of ms greater than 0, got 0/],
    [{ read: Number.NaN }, RangeError, /read/],
    [{ connect: Number.POSITIVE_INFINITY }, RangeError, /connect/],
    [{ connect: false as unknown as number }, TypeError, /connect cannot be a boolean/],
    [{ read: true as unknown as number }, TypeError, /read cannot be a boolean/],
    [{ read: 'foo' as unknown as number }, TypeError, /read must be a number of ms or null, got string/],
    [{ read: '1.0' as unknown as number }, TypeError, /read must be a number/],
  ];
  for (const [options, kind, message] of bad) {
    test(`${JSON.stringify(options)} is a ${kind.name}`, () => {
      assert.throws(
        () => new Timeout(options),
        (e: unknown) => e instanceof kind && message.test((e as Error).message),
      );
    });
  }

  test('an unknown option is a TypeError', () => {
    assert.throws(() => new Timeout({ conect: 1 } as TimeoutOptions), {
      name: 'TypeError',
      message: "Timeout: unknown option 'conect'",
    });
  });

  test('fractional milliseconds are accepted', () => {
    assert.equal(new Timeout({ connect: 0.5 }).connectTimeout, 0.5);
  });
});

describe('Timeout limits', () => {
  test('total caps both connect and read when nothing else is set', () => {
    const timeout = afterConnect({ total: 3000 }, 0);
    assert.equal(timeout.readTimeout, 3000);
    assert.equal(timeout.connectTimeout, 3000);
  });

  test('the smaller of connect and total bounds the connect phase', () => {
    assert.equal(new Timeout({ total: 3000, connect: 2000 }).connectTimeout, 2000);
    assert.equal(new Timeout({ total: 1000, connect: 2000 }).connectTimeout, 1000);
  });

  test('nothing set means no limit (the default marker resolves to null)', () => {
    const timeout = new Timeout();
    assert.equal(timeout.connect, DEFAULT_TIMEOUT);
    assert.equal(timeout.read, Timeout.DEFAULT_TIMEOUT);
    assert.equal(timeout.connectTimeout, null);
    assert.equal(timeout.readTimeout, null);
    assert.equal(timeout.total, null);
  });

  test('a slow connect leaves the rest of total for reading', () => {
    assert.equal(afterConnect({ total: 10_000, read: 7000 }, 5000).readTimeout, 5000);
  });

  test('a fast connect leaves the read limit in charge', () => {
    assert.equal(afterConnect({ total: 10_000, read: 7000 }, 2000).readTimeout, 7000);
  });

  test('the read limit never goes below zero', () => {
    assert.equal(afterConnect({ total: 1000, read: 700 }, 5000).readTimeout, 0);
    assert.equal(afterConnect({ total: 1000 }, 5000).readTimeout, 0);
  });

  test('before the connect timer starts, a set read limit is returned as is', () => {
    assert.equal(new Timeout({ total: 10_000, read: 7000 }).readTimeout, 7000);
  });

  test('before the connect timer starts, total alone cannot give a read limit', () => {
    assert.throws(() => new Timeout({ total: 3000 }).readTimeout, TimeoutStateError);
  });

  test('explicit nulls are no limits', () => {
    const timeout = new Timeout({ total: null, read: null, connect: null });
    assert.equal(timeout.connectTimeout, null);
    assert.equal(timeout.readTimeout, null);
    assert.equal(timeout.total, null);
  });

  test('read and connect without total are returned as given', () => {
    const timeout = new Timeout({ connect: 100, read: 200 });
    assert.equal(timeout.connectTimeout, 100);
    assert.equal(timeout.readTimeout, 200);
  });
});

describe('Timeout connect timer', () => {
  test('measures from startConnect with the injected clock', () => {
    const clock = manualClock(1000);
    const timeout = new Timeout({ total: 3000 }, { now: clock.now });
    assert.throws(() => timeout.getConnectDuration(), TimeoutStateError);
    assert.equal(timeout.startConnect(), 1000);
    assert.throws(() => timeout.startConnect(), {
      name: 'TimeoutStateError',
      message: 'Timeout timer has already been started.',
    });
    clock.advance(2000);
    assert.equal(timeout.getConnectDuration(), 2000);
    clock.advance(35_000);
    assert.equal(timeout.getConnectDuration(), 37_000);
  });

  test('the default clock is monotonic milliseconds', () => {
    const timeout = new Timeout({ total: 60_000 });
    const start = timeout.startConnect();
    assert.ok(Math.abs(start - performance.now()) < 1000);
    assert.ok(timeout.getConnectDuration() >= 0);
  });

  test('clone copies the limits and clock but not the started timer', () => {
    const clock = manualClock();
    const timeout = new Timeout({ connect: 1, read: 2, total: 3 }, { now: clock.now });
    timeout.startConnect();
    const copy = timeout.clone();
    assert.notEqual(copy, timeout);
    assert.equal(copy.toString(), 'Timeout(connect=1, read=2, total=3)');
    assert.throws(() => copy.getConnectDuration(), TimeoutStateError);
    copy.startConnect();
    clock.advance(5);
    assert.equal(copy.getConnectDuration(), 5);
  });
});

describe('Timeout.from', () => {
  test('a number sets connect and read, not total', () => {
    const timeout = Timeout.from(5000);
    assert.equal(timeout.connectTimeout, 5000);
    assert.equal(timeout.readTimeout, 5000);
    assert.equal(timeout.total, null);
  });

  test('null means no limits at all', () => {
    const timeout = Timeout.from(null, new Timeout({ connect: 5 }));
    assert.equal(timeout.connect, null);
    assert.equal(timeout.read, null);
    assert.equal(timeout.connectTimeout, null);
  });

  test('undefined takes a fresh copy of the fallback, or the default', () => {
    const fallback = new Timeout({ connect: 7, read: 8 });
    fallback.startConnect();
    const timeout = Timeout.from(undefined, fallback);
    assert.notEqual(timeout, fallback);
    assert.equal(timeout.connectTimeout, 7);
    assert.doesNotThrow(() => timeout.startConnect());
    assert.equal(Timeout.from(undefined).toString(), 'Timeout(connect=DEFAULT, read=DEFAULT, total=None)');
  });

  test('a Timeout gives an unstarted copy of it', () => {
    const original = new Timeout({ total: 9 });
    original.startConnect();
    const timeout = Timeout.from(original);
    assert.notEqual(timeout, original);
    assert.equal(timeout.total, 9);
    assert.doesNotThrow(() => timeout.startConnect());
  });

  test('invalid values are refused', () => {
    assert.throws(() => Timeout.from(-1), RangeError);
    assert.throws(() => Timeout.from('5' as unknown as number), TypeError);
  });
});

describe('Timeout.toString', () => {
  test('reads like urllib3', () => {
    assert.equal(
      String(new Timeout({ connect: 1, read: 2, total: 3 })),
      'Timeout(connect=1, read=2, total=3)',
    );
    assert.equal(
      String(new Timeout({ connect: 1, read: null, total: 3 })),
      'Timeout(connect=1, read=None, total=3)',
    );
  });
});
