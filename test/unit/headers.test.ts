// HTTPHeaderDict: case-insensitive, ordered, multi-valued (urllib3's
// test_collections cases, plus the raw-pair fast path used per response).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inspect } from 'node:util';
import { HTTPHeaderDict } from '../../src/headers.js';

/** The dict urllib3's tests start from: Cookie: foo, then cookie: bar. */
function cookies(): HTTPHeaderDict {
  const d = new HTTPHeaderDict({ Cookie: 'foo' });
  d.add('cookie', 'bar');
  return d;
}

describe('HTTPHeaderDict construction', () => {
  test('from a record, with numbers coerced and arrays as repeated fields', () => {
    const h = new HTTPHeaderDict({ ab: 1, cd: '2', 'Set-Cookie': ['a=1', 'b=2'] });
    assert.equal(h.size, 3);
    assert.equal(h.get('ab'), '1');
    assert.deepEqual(h.getList('set-cookie'), ['a=1', 'b=2']);
  });

  test('from a record, undefined entries add nothing', () => {
    const h = new HTTPHeaderDict({ a: 'x', b: undefined } as unknown as Record<string, string>);
    assert.deepEqual([...h.keys()], ['a']);
  });

  test('from pairs, repeated names collapse into one multi-valued field', () => {
    const h = new HTTPHeaderDict([
      ['ab', 'A'],
      ['cd', 'B'],
      ['cookie', 'C'],
      ['cookie', 'D'],
      ['cookie', 'E'],
    ]);
    assert.equal(h.size, 3);
    assert.deepEqual(h.getList('cookie'), ['C', 'D', 'E']);
  });

  test('from a generator of pairs', () => {
    const text = 'urllib3ontherocks';
    function* pairs(): Generator<[string, string]> {
      for (const c of text) yield [c, c.repeat(5)];
    }
    const h = new HTTPHeaderDict(pairs());
    assert.equal(h.size, new Set(text).size);
    assert.deepEqual(h.getList('o'), ['ooooo', 'ooooo']);
    assert.deepEqual(h.getList('l'), ['lllll', 'lllll']);
  });

  test('from a Map', () => {
    const h = new HTTPHeaderDict(new Map([['X-A', '1']]));
    assert.equal(h.get('x-a'), '1');
  });

  test('from another dict: an equal, independent copy', () => {
    const org = new HTTPHeaderDict([
      ['ab', 'A'],
      ['cookie', 'C'],
      ['cookie', 'D'],
    ]);
    const h = new HTTPHeaderDict(org);
    assert.notEqual(h, org);
    assert.ok(h.equals(org));
    assert.deepEqual(h.getList('cookie'), ['C', 'D']);
    h.add('cookie', 'E');
    assert.deepEqual(org.getList('cookie'), ['C', 'D']);
  });

  test('non-string names and malformed pairs are TypeErrors', () => {
    assert.throws(() => new HTTPHeaderDict([[3, 'x']] as unknown as Array<[string, string]>), TypeError);
    assert.throws(
      () => new HTTPHeaderDict([['a', 'b', 'c']] as unknown as Array<[string, string]>),
      TypeError,
    );
    assert.throws(() => new HTTPHeaderDict(['ab'] as unknown as Array<[string, string]>), TypeError);
    assert.throws(() => new HTTPHeaderDict('a: b' as unknown as Record<string, string>), TypeError);
    assert.throws(() => cookies().add(3 as unknown as string, 'x'), TypeError);
    assert.throws(() => cookies().set(3 as unknown as string, 'x'), TypeError);
    assert.throws(() => cookies().delete(3 as unknown as string), TypeError);
  });
});

describe('HTTPHeaderDict lookups', () => {
  test('get joins every value with ", " and is case-insensitive', () => {
    const d = cookies();
    assert.equal(d.get('cookie'), 'foo, bar');
    assert.equal(d.get('COOKIE'), 'foo, bar');
    assert.equal(d.get('missing'), undefined);
  });

  test('getList returns each value, a copy, and [] when absent', () => {
    const d = cookies();
    assert.deepEqual(d.getList('Cookie'), ['foo', 'bar']);
    assert.deepEqual(d.getList('b'), []);
    d.getList('cookie').push('mutated');
    assert.deepEqual(d.getList('cookie'), ['foo', 'bar']);
    d.add('b', 'asdf');
    assert.deepEqual(d.getList('b'), ['asdf']);
  });

  test('has is case-insensitive', () => {
    const d = cookies();
    assert.equal(d.has('COOKIE'), true);
    assert.equal(d.has('cookies'), false);
  });

  test('size counts distinct names', () => {
    const d = cookies();
    assert.equal(d.size, 1);
    d.add('cookie', 'bla');
    d.add('asdf', 'foo');
    assert.equal(d.size, 2);
  });
});

describe('HTTPHeaderDict changes', () => {
  test('set replaces every value', () => {
    const d = cookies();
    d.set('Cookie', 'foo');
    assert.equal(d.get('cookie'), 'foo');
    d.set('cookie', 'with, comma');
    assert.deepEqual(d.getList('cookie'), ['with, comma']);
  });

  test('set keeps the position of an existing field and takes the new spelling', () => {
    const d = new HTTPHeaderDict([
      ['A', '1'],
      ['B', '2'],
    ]);
    d.set('a', '3');
    assert.deepEqual(
      [...d.entries()],
      [
        ['a', '3'],
        ['B', '2'],
      ],
    );
  });

  test('set with a list stores several values; an empty list removes the field', () => {
    const d = cookies();
    d.set('x', ['1', '2']);
    assert.deepEqual(d.getList('x'), ['1', '2']);
    d.set('x', []);
    assert.equal(d.has('x'), false);
  });

  test('set and add coerce numbers to strings', () => {
    const d = new HTTPHeaderDict();
    d.set('Content-Length', 42);
    d.add('X-N', 7);
    assert.equal(d.get('content-length'), '42');
    assert.deepEqual(d.getList('x-n'), ['7']);
  });

  test('values with CR, LF or NUL are stored as given (refused only when sent)', () => {
    const d = new HTTPHeaderDict({ 'X-Evil': 'a\r\nb\0' });
    assert.equal(d.get('x-evil'), 'a\r\nb\0');
  });

  test('add appends in order whatever the spelling', () => {
    const d = cookies();
    d.add('COOKIE', 'asdf');
    assert.deepEqual(d.getList('cookie'), ['foo', 'bar', 'asdf']);
    assert.equal(d.get('cookie'), 'foo, bar, asdf');
    assert.deepEqual([...d.keys()], ['Cookie']);
  });

  test('add with combine appends to the last value', () => {
    const d = cookies();
    d.add('cookie', 'baz', { combine: true });
    assert.deepEqual(d.getList('cookie'), ['foo', 'bar, baz']);
    d.add('new', 'x', { combine: true });
    assert.deepEqual(d.getList('new'), ['x']);
    d.add('new', 'y', { combine: false });
    assert.deepEqual(d.getList('new'), ['x', 'y']);
  });

  test('add rejects an unknown option', () => {
    assert.throws(() => cookies().add('a', 'b', { combine: true, merge: true } as { combine: boolean }), {
      name: 'TypeError',
      message: "HTTPHeaderDict.add: unknown option 'merge'",
    });
  });

  test('extend from pairs, a record, a Map and another dict adds to existing values', () => {
    const d = cookies();
    d.extend([
      ['set-cookie', '100'],
      ['set-cookie', '200'],
    ]);
    assert.equal(d.get('set-cookie'), '100, 200');
    d.extend({ cookie: 'asdf', b: '100' });
    assert.equal(d.get('cookie'), 'foo, bar, asdf');
    assert.equal(d.get('b'), '100');
    d.extend(new Map([['b', '200']]));
    assert.deepEqual(d.getList('b'), ['100', '200']);
    d.extend(new HTTPHeaderDict({ Cookie: 'last', e: 'foofoo' }));
    assert.equal(d.get('cookie'), 'foo, bar, asdf, last');
    assert.equal(d.get('e'), 'foofoo');
  });

  test('extend with a value containing a comma keeps it as one value', () => {
    const d = cookies();
    d.add('cookie', 'with, comma');
    assert.deepEqual(d.getList('cookie'), ['foo', 'bar', 'with, comma']);
  });

  test('delete removes every value and says whether anything was there', () => {
    const d = cookies();
    assert.equal(d.delete('COOKIE'), true);
    assert.equal(d.has('cookie'), false);
    assert.equal(d.delete('cookie'), false);
  });

  test('copy is equal and independent', () => {
    const d = cookies();
    const c = d.copy();
    assert.notEqual(c, d);
    assert.ok(c.equals(d));
    c.add('cookie', 'more');
    assert.deepEqual(d.getList('cookie'), ['foo', 'bar']);
  });
});

describe('HTTPHeaderDict iteration', () => {
  function sample(): HTTPHeaderDict {
    const d = new HTTPHeaderDict();
    d.add('Content-Type', 'text/plain');
    d.add('Set-Cookie', 'a=1');
    d.add('X-Trace', '1');
    d.add('set-cookie', 'b=2');
    return d;
  }

  test('keys keep the spelling of the first insertion, in insertion order', () => {
    assert.deepEqual([...sample().keys()], ['Content-Type', 'Set-Cookie', 'X-Trace']);
  });

  test('values and entries are merged per name', () => {
    assert.deepEqual([...sample().values()], ['text/plain', 'a=1, b=2', '1']);
    assert.deepEqual(
      [...sample().entries()],
      [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1, b=2'],
        ['X-Trace', '1'],
      ],
    );
  });

  test('the iterator is entries()', () => {
    assert.deepEqual([...sample()], [...sample().entries()]);
    assert.deepEqual(Object.fromEntries(sample()), {
      'Content-Type': 'text/plain',
      'Set-Cookie': 'a=1, b=2',
      'X-Trace': '1',
    });
  });

  test('items gives one pair per value, grouped by name', () => {
    assert.deepEqual(
      [...cookies().items()],
      [
        ['Cookie', 'foo'],
        ['Cookie', 'bar'],
      ],
    );
    assert.deepEqual(
      [...sample().items()],
      [
        ['Content-Type', 'text/plain'],
        ['Set-Cookie', 'a=1'],
        ['Set-Cookie', 'b=2'],
        ['X-Trace', '1'],
      ],
    );
  });

  test('a record survives a round trip with its case', () => {
    const record = { 'Content-Length': '0', 'Content-type': 'text/plain', Server: 'TornadoServer/1.2.3' };
    assert.deepEqual(Object.fromEntries(new HTTPHeaderDict(record).items()), record);
    assert.deepEqual(new HTTPHeaderDict(record).toJSON(), record);
  });

  test('toJSON merges values and JSON.stringify uses it', () => {
    assert.deepEqual(cookies().toJSON(), { Cookie: 'foo, bar' });
    assert.equal(JSON.stringify(cookies()), '{"Cookie":"foo, bar"}');
  });

  test('toJSON keeps a "__proto__" header as a key', () => {
    const json = new HTTPHeaderDict([['__proto__', 'x']]).toJSON();
    assert.equal(Object.getPrototypeOf(json), Object.prototype);
    assert.deepEqual(Object.keys(json), ['__proto__']);
  });

  test('toFlatPairs gives name, value per field line in original case', () => {
    assert.deepEqual(sample().toFlatPairs(), [
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'X-Trace',
      '1',
    ]);
  });

  test('inspect shows a plain object of merged values', () => {
    assert.equal(inspect(cookies()), "HTTPHeaderDict { Cookie: 'foo, bar' }");
    assert.equal(Object.prototype.toString.call(cookies()), '[object HTTPHeaderDict]');
  });
});

describe('HTTPHeaderDict.equals', () => {
  test('compares merged values case-insensitively, order ignored', () => {
    const d = cookies();
    assert.ok(d.equals(new HTTPHeaderDict({ cookie: 'foo, bar' })));
    assert.ok(d.equals({ COOKIE: 'foo, bar' }));
    assert.ok(d.equals([['Cookie', 'foo, bar']]));
    const a = new HTTPHeaderDict({ a: '1', b: '2' });
    assert.ok(a.equals({ B: '2', A: '1' }));
  });

  test('different values, extra or missing names are unequal', () => {
    const d = cookies();
    assert.equal(d.equals({ cookie: 'bar, foo' }), false);
    assert.equal(d.equals({ cookie: 'foo, bar', x: '1' }), false);
    assert.equal(d.equals({}), false);
  });

  test('things that are not headers are unequal, not errors', () => {
    const d = cookies();
    assert.equal(d.equals(2), false);
    assert.equal(d.equals(null), false);
    assert.equal(d.equals('Cookie: foo, bar'), false);
    assert.equal(d.equals([1, 2, 3]), false);
  });
});

describe('HTTPHeaderDict.fromRawPairs', () => {
  test('builds the dict a parser would, keeping case and repeats', () => {
    const d = HTTPHeaderDict.fromRawPairs([
      'Server',
      'nginx',
      'Set-Cookie',
      'bb_lastvisit=1348253375; path=/',
      'set-cookie',
      'bb_lastactivity=0; path=/',
      'www-authenticate',
      'asdf',
      'WWW-Authenticate',
      'bla',
    ]);
    assert.equal(d.get('server'), 'nginx');
    assert.deepEqual(d.getList('set-cookie'), [
      'bb_lastvisit=1348253375; path=/',
      'bb_lastactivity=0; path=/',
    ]);
    assert.equal(d.get('www-authenticate'), 'asdf, bla');
    assert.deepEqual([...d.keys()], ['Server', 'Set-Cookie', 'www-authenticate']);
  });

  test('an empty list gives an empty dict, and toFlatPairs inverts it', () => {
    assert.equal(HTTPHeaderDict.fromRawPairs([]).size, 0);
    const flat = ['A', '1', 'b', '2', 'a', '3'];
    assert.deepEqual(HTTPHeaderDict.fromRawPairs(flat).toFlatPairs(), ['A', '1', 'A', '3', 'b', '2']);
  });
});

describe('HTTPHeaderDict.fromRawPairs before and after indexing', () => {
  // fromRawPairs answers get/has from the flat pairs until something needs the
  // index; both paths must give the same answers.
  const flat = (): string[] => [
    'Content-Type',
    'text/plain',
    'X-Twice',
    'one',
    'content-TYPE',
    'extra',
    'Vary',
    'Accept',
    'x-twice',
    'two',
    'Empty',
    '',
  ];

  test('get and has match case-insensitively and join repeats in order, as the index does', () => {
    const raw = HTTPHeaderDict.fromRawPairs(flat());
    const indexed = HTTPHeaderDict.fromRawPairs(flat());
    assert.equal(indexed.size, 4); // forces the index
    for (const name of [
      'content-type',
      'CONTENT-TYPE',
      'x-twice',
      'X-TWICE',
      'vary',
      'empty',
      'missing',
      'Vary2',
      '',
    ]) {
      assert.equal(raw.get(name), indexed.get(name), `get(${name})`);
      assert.equal(raw.has(name), indexed.has(name), `has(${name})`);
    }
    assert.equal(raw.get('content-type'), 'text/plain, extra');
    assert.equal(raw.get('x-twice'), 'one, two');
    assert.equal(raw.get('empty'), '');
    assert.equal(raw.has('empty'), true);
    assert.equal(raw.get('missing'), undefined);
  });

  test('a name of the same length but other letters does not match', () => {
    const d = HTTPHeaderDict.fromRawPairs(['Retry-After', '5', 'Server', 'x']);
    assert.equal(d.has('retry-afteR'), true);
    assert.equal(d.has('retry-aftex'), false);
    assert.equal(d.get('server'), 'x');
    assert.equal(d.get('serve'), undefined);
  });

  test('lookups leave the dict usable: mutations, iteration and equality see every pair', () => {
    const d = HTTPHeaderDict.fromRawPairs(flat());
    assert.equal(d.get('vary'), 'Accept');
    d.add('vary', 'Origin');
    assert.equal(d.get('Vary'), 'Accept, Origin');
    d.set('X-Twice', 'three');
    assert.deepEqual(d.getList('x-twice'), ['three']);
    assert.deepEqual(d.toFlatPairs(), [
      'Content-Type',
      'text/plain',
      'Content-Type',
      'extra',
      'X-Twice',
      'three',
      'Vary',
      'Accept',
      'Vary',
      'Origin',
      'Empty',
      '',
    ]);
    assert.equal(d.delete('content-type'), true);
    assert.equal(d.has('Content-Type'), false);
  });

  test('equality, copies and extension work on a dict that was never indexed', () => {
    const a = HTTPHeaderDict.fromRawPairs(['A', '1', 'b', '2']);
    const b = HTTPHeaderDict.fromRawPairs(['B', '2', 'a', '1']);
    assert.equal(a.equals(b), true);
    const c = HTTPHeaderDict.fromRawPairs(['A', '1']).copy();
    c.add('a', '2');
    assert.equal(c.get('a'), '1, 2');
    const e = new HTTPHeaderDict(HTTPHeaderDict.fromRawPairs(['X', 'y', 'x', 'z']));
    assert.deepEqual(e.getList('x'), ['y', 'z']);
    assert.deepEqual(HTTPHeaderDict.fromRawPairs(['K', 'v']).toJSON(), { K: 'v' });
  });

  test('an odd trailing name without a value is ignored, as by the index', () => {
    const d = HTTPHeaderDict.fromRawPairs(['A', '1', 'B']);
    assert.equal(d.has('b'), false);
    assert.equal(d.get('a'), '1');
    assert.equal(d.size, 1);
  });
});
