// Sans-IO tests for the HTTP/1.1 response parser: bytes in, events out, no
// sockets. Valid messages are also fed split at every byte position and one
// byte at a time, and must give the same events as when fed whole.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IncompleteRead, InvalidChunkLength, ProtocolError } from '../../../../src/errors.js';
import {
  H1ResponseParser,
  type H1ParserOptions,
  type ResponseHead,
} from '../../../../src/protocol/h1/index.js';

type Event =
  | { type: 'head'; head: ResponseHead }
  | { type: 'body'; data: string }
  | { type: 'trailers'; trailers: string[] }
  | { type: 'complete' };

interface Run {
  events: Event[];
  consumed: number;
  parser: H1ResponseParser;
  chunks: Buffer[];
}

function recorder(options?: H1ParserOptions): Run {
  const run: Run = { events: [], consumed: 0, parser: undefined as unknown as H1ResponseParser, chunks: [] };
  run.parser = new H1ResponseParser(
    {
      onHead: (head) => run.events.push({ type: 'head', head }),
      onBody: (chunk) => {
        run.chunks.push(chunk);
        // Adjacent body events are merged so the split points do not show.
        const last = run.events[run.events.length - 1];
        if (last?.type === 'body') last.data += chunk.toString('latin1');
        else run.events.push({ type: 'body', data: chunk.toString('latin1') });
      },
      onTrailers: (trailers) => run.events.push({ type: 'trailers', trailers }),
      onComplete: () => run.events.push({ type: 'complete' }),
    },
    options,
  );
  return run;
}

/** Feeds the pieces in order, stopping once the parser no longer takes bytes; then signals EOF if asked. */
function parse(
  pieces: Array<string | Buffer>,
  {
    method = 'GET',
    eof = false,
    options,
  }: { method?: string; eof?: boolean; options?: H1ParserOptions } = {},
): Run {
  const run = recorder(options);
  run.parser.start(method);
  let offset = 0;
  for (const piece of pieces) {
    const buf = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
    const n = run.parser.feed(buf);
    assert.ok(n >= 0 && n <= buf.length, `feed returned ${n} for ${buf.length} bytes`);
    run.consumed = offset + n;
    offset += buf.length;
    if (n < buf.length) break;
  }
  if (eof) run.parser.finish();
  return run;
}

/**
 * Asserts that the message is rejected however it is split: whole, one byte
 * at a time, and in two pieces at every position.
 */
function assertRejected(
  raw: string,
  check: (err: unknown) => boolean,
  opts: { method?: string; eof?: boolean; options?: H1ParserOptions } = {},
): void {
  const bytes = Buffer.from(raw, 'latin1');
  const splits: Buffer[][] = [[bytes], [...bytes].map((b) => Buffer.from([b]))];
  for (let i = 1; i < bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
  for (const pieces of splits) {
    assert.throws(
      () => parse(pieces, opts),
      check,
      `pieces of ${pieces.map((x) => x.length).join('+')} bytes`,
    );
  }
}

function heads(run: Run): ResponseHead[] {
  return run.events.flatMap((e) => (e.type === 'head' ? [e.head] : []));
}

function body(run: Run): string {
  return run.events
    .filter((e) => e.type === 'body')
    .map((e) => (e as { data: string }).data)
    .join('');
}

function eventTypes(run: Run): string[] {
  return run.events.map((e) => e.type);
}

describe('status line', () => {
  test('parses version, status and reason of an HTTP/1.1 response', () => {
    const run = parse(['HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n']);
    const [head] = heads(run);
    assert.equal(head!.version, 11);
    assert.equal(head!.status, 404);
    assert.equal(head!.reason, 'Not Found');
    assert.equal(run.parser.state, 'done');
  });

  test('parses HTTP/1.0', () => {
    const [head] = heads(parse(['HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n']));
    assert.equal(head!.version, 10);
  });

  test('accepts a missing reason with or without the space before it', () => {
    for (const line of ['HTTP/1.1 200', 'HTTP/1.1 200 ']) {
      const [head] = heads(parse([`${line}\r\nContent-Length: 0\r\n\r\n`]));
      assert.equal(head!.status, 200, line);
      assert.equal(head!.reason, '', line);
    }
  });

  test('keeps spaces inside the reason and decodes it as latin1', () => {
    const [head] = heads(
      parse([Buffer.from('HTTP/1.1 200 Tr\xe8s bien  ok\r\nContent-Length: 0\r\n\r\n', 'latin1')]),
    );
    assert.equal(head!.reason, 'Tr\xe8s bien  ok');
  });

  test('accepts statuses from 100 to 999', () => {
    const [head] = heads(parse(['HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n']));
    assert.equal(head!.status, 999);
  });

  test('tolerates empty lines before the status line', () => {
    const [head] = heads(parse(['\r\n\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n']));
    assert.equal(head!.status, 200);
  });

  for (const line of [
    'HTTP/2.0 200 OK',
    'HTTP/1.2 200 OK',
    'HTTP/0.9 200 OK',
    'http/1.1 200 OK',
    'HTTP/1.1 099 Low',
    'HTTP/1.1 20 OK',
    'HTTP/1.1 2000 OK',
    'HTTP/1.1 20x OK',
    'HTTP/1.1  200 OK',
    'HTTP/1.1 200OK',
    'HTTP/1.1',
    'ICY 200 OK',
    'garbage',
    'HTTP/1.1 200 O\rK',
    'HTTP/1.1 200 O\0K',
  ]) {
    test(`rejects the status line ${JSON.stringify(line)}`, () => {
      assertRejected(`${line}\r\nContent-Length: 0\r\n\r\n`, (err) => err instanceof ProtocolError);
    });
  }

  test('the parser is dead after an error', () => {
    const run = recorder();
    run.parser.start('GET');
    assert.throws(() => run.parser.feed(Buffer.from('HTTP/3 200 OK\r\n')), ProtocolError);
    assert.equal(run.parser.state, 'error');
    assert.throws(() => run.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), ProtocolError);
    assert.deepEqual(run.events, []);
  });
});

describe('header section', () => {
  test('keeps name case and order, trims OWS from values and keeps repeated fields', () => {
    const [head] = heads(
      parse([
        'HTTP/1.1 200 OK\r\nX-Mixed-Case:  a b \t\r\nset-cookie: a=1\r\nSet-Cookie:b=2\r\nEmpty:\r\nSpaces:   \r\nContent-Length: 0\r\n\r\n',
      ]),
    );
    assert.deepEqual(head!.headers, [
      'X-Mixed-Case',
      'a b',
      'set-cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Empty',
      '',
      'Spaces',
      '',
      'Content-Length',
      '0',
    ]);
  });

  test('decodes values as latin1, keeping obs-text bytes', () => {
    const [head] = heads(
      parse([Buffer.from('HTTP/1.1 200 OK\r\nX: caf\xe9\xff\r\nContent-Length: 0\r\n\r\n', 'latin1')]),
    );
    assert.equal(head!.headers[1], 'caf\xe9\xff');
  });

  test('accepts bare LF line endings', () => {
    const run = parse(['HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 3\n\nabc']);
    const [head] = heads(run);
    assert.deepEqual(head!.headers, ['Content-Type', 'text/plain', 'Content-Length', '3']);
    assert.equal(body(run), 'abc');
    assert.equal(run.parser.state, 'done');
  });

  test('rejects obs-fold continuation lines', () => {
    for (const fold of [' folded', '\tfolded']) {
      assert.throws(
        () => parse([`HTTP/1.1 200 OK\r\nX-A: one\r\n${fold}\r\nContent-Length: 0\r\n\r\n`]),
        (err: unknown) => err instanceof ProtocolError && /fold/.test(err.message),
      );
    }
  });

  for (const [label, line] of [
    ['NUL in a name', 'X-\0A: v'],
    ['CR in a name', 'X-\rA: v'],
    ['a space in a name', 'X A: v'],
    ['a space before the colon', 'X-A : v'],
    ['a tab before the colon', 'X-A\t: v'],
    ['a non-token char in a name', 'X(A): v'],
    ['a non-ASCII byte in a name', 'X\xe9: v'],
    ['an empty name', ': v'],
    ['a line without a colon', 'NoColonHere'],
    ['NUL in a value', 'X-A: a\0b'],
    ['bare CR in a value', 'X-A: a\rb'],
    ['CR at the end of a value', 'X-A: ab\r\r'],
    ['CR in the whitespace after a value', 'X-A: ab \r '],
    ['CR just before the line end', 'X-A: ab\r'],
    ['NUL at the end of a value', 'X-A: ab\0'],
  ] as const) {
    test(`rejects ${label}`, () => {
      assert.throws(
        () => parse([Buffer.from(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`, 'latin1')]),
        ProtocolError,
      );
      // First field, last field, and split at every byte.
      assertRejected(`HTTP/1.1 200 OK\r\nA: 1\r\n${line}\r\n\r\n`, (err) => err instanceof ProtocolError);
      assertRejected(
        `HTTP/1.1 200 OK\r\n${line}\r\nB: 2\r\nContent-Length: 0\r\n\r\n`,
        (err) => err instanceof ProtocolError,
      );
    });
  }

  test('a header section exactly at maxHeaderSize is accepted, one byte more is not', () => {
    const base = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX: ';
    const limit = 200;
    const exact = `${base}${'a'.repeat(limit - base.length - 4)}\r\n\r\n`;
    assert.equal(exact.length, limit);
    const opts = { options: { maxHeaderSize: limit } };
    assert.equal(heads(parse([exact], opts)).length, 1);
    assert.equal(heads(parse([...exact], opts)).length, 1);
    for (let i = 1; i < exact.length; i++) {
      assert.equal(heads(parse([exact.slice(0, i), exact.slice(i)], opts)).length, 1, `split at ${i}`);
    }
    const over = `${base}${'a'.repeat(limit - base.length - 3)}\r\n\r\n`;
    assertRejected(over, (err) => err instanceof ProtocolError && err.message.includes(String(limit)), opts);
  });

  test('the limit applies to a partial line within a single feed, before it is buffered', () => {
    const run = recorder({ maxHeaderSize: 1024 });
    run.parser.start('GET');
    assert.throws(
      () => run.parser.feed(Buffer.from(`HTTP/1.1 200 OK\r\nX-Long: ${'a'.repeat(2000)}`)),
      (err: unknown) => err instanceof ProtocolError && err.message.includes('1024'),
    );
  });

  test('a header section over maxHeaderSize is rejected, whole or in small pieces', () => {
    const raw = `HTTP/1.1 200 OK\r\n${'X-Filler: 0123456789abcdef\r\n'.repeat(5000)}Content-Length: 0\r\n\r\n`;
    const check = (err: unknown) => err instanceof ProtocolError && err.message.includes('65536');
    // The field count limit would stop it first: this is about size.
    const options = { maxHeaderFields: 10_000 };
    assert.throws(() => parse([raw], { options }), check);
    const pieces: string[] = [];
    for (let i = 0; i < raw.length; i += 7) pieces.push(raw.slice(i, i + 7));
    assert.throws(() => parse(pieces, { options }), check);
  });

  test('one endless header line is rejected before its end arrives', () => {
    const run = recorder({ maxHeaderSize: 1024 });
    run.parser.start('GET');
    run.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nX-Long: '));
    assert.throws(() => {
      for (let i = 0; i < 100; i++) run.parser.feed(Buffer.alloc(100, 0x61));
    }, ProtocolError);
    assert.equal(run.parser.state, 'error');
  });

  test('a large header section fed one byte at a time is parsed in linear time', () => {
    // About 2 MiB of head, half of it one 1 MiB line: a parser that re-scans or
    // re-copies its pending bytes on every feed would need minutes here.
    const line = `X-Big: ${'v'.repeat(1000)}\r\n`;
    const single = 'w'.repeat(1024 * 1024);
    const raw = Buffer.from(
      `HTTP/1.1 200 OK\r\n${line.repeat(1024)}X-Single: ${single}\r\nContent-Length: 0\r\n\r\n`,
    );
    const run = recorder({ maxHeaderSize: 4 * 1024 * 1024, maxHeaderFields: 2000 });
    run.parser.start('GET');
    const t0 = performance.now();
    for (let i = 0; i < raw.length; i++) run.parser.feed(raw.subarray(i, i + 1));
    const elapsed = performance.now() - t0;
    assert.equal(run.parser.state, 'done');
    const [head] = heads(run);
    assert.equal(head!.headers.length, 2 * 1026);
    assert.equal(head!.headers[2049], single);
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });
});

describe('header field count', () => {
  const head = (n: number, where: 'head' | 'trailers') =>
    where === 'head'
      ? `HTTP/1.1 200 OK\r\n${'X-F: v\r\n'.repeat(n)}Content-Length: 0\r\n\r\n`
      : `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X-T: v\r\n'.repeat(n)}\r\n`;

  test('a head of 100 fields is accepted and one of 101 refused, whole or byte by byte', () => {
    assert.equal(heads(parse([head(99, 'head')]))[0]!.headers.length, 200);
    const check = (err: unknown) => err instanceof ProtocolError && /more than 100 fields/.test(err.message);
    const raw = head(100, 'head');
    assert.throws(() => parse([raw]), check);
    assert.throws(() => parse(raw.split('')), check);
  });

  test('maxHeaderFields applies to a trailer section too', () => {
    const run = parse([head(5, 'trailers')], { options: { maxHeaderFields: 5 } });
    assert.equal(run.parser.state, 'done');
    assert.throws(
      () => parse([head(6, 'trailers')], { options: { maxHeaderFields: 5 } }),
      (err: unknown) =>
        err instanceof ProtocolError && /trailer section has more than 5 fields/.test(err.message),
    );
  });

  test('maxHeaderFields must be a positive integer', () => {
    assert.throws(() => recorder({ maxHeaderFields: 0 }), RangeError);
    assert.throws(() => recorder({ maxHeaderFields: 1.5 }), RangeError);
  });
});

describe('Content-Length', () => {
  test('reads exactly Content-Length bytes and reports the offset after them', () => {
    const run = parse(['HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n']);
    const [head] = heads(run);
    assert.equal(head!.contentLength, 5);
    assert.equal(head!.bodyKind, 'length');
    assert.equal(head!.keepAlive, true);
    assert.equal(body(run), 'hello');
    assert.equal(run.consumed, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello'.length);
    assert.deepEqual(eventTypes(run), ['head', 'body', 'complete']);
    assert.equal(run.parser.bodyBytes, 5);
  });

  test('body chunks are views of the fed buffer, not copies', () => {
    const run = recorder();
    run.parser.start('GET');
    run.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n'));
    const data = Buffer.from('abcdef');
    run.parser.feed(data);
    assert.equal(run.chunks.length, 1);
    assert.equal(run.chunks[0]!.buffer, data.buffer);
    data[0] = 0x7a;
    assert.equal(run.chunks[0]!.toString(), 'zbcdef');
  });

  test('Content-Length: 0 completes right after the head', () => {
    const run = parse(['HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nNEXT']);
    assert.deepEqual(eventTypes(run), ['head', 'complete']);
    assert.equal(run.consumed, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'.length);
  });

  test('repeated identical values and an identical list count as one', () => {
    for (const fields of [
      'Content-Length: 3\r\nContent-Length: 3',
      'Content-Length: 3, 3',
      'content-length:3 ,3,  03',
    ]) {
      const run = parse([`HTTP/1.1 200 OK\r\n${fields}\r\n\r\nabc`]);
      assert.equal(heads(run)[0]!.contentLength, 3, fields);
      assert.equal(body(run), 'abc');
    }
  });

  for (const fields of [
    'Content-Length: 3\r\nContent-Length: 4',
    'Content-Length: 3, 4',
    'Content-Length: -3',
    'Content-Length: +3',
    'Content-Length: 3 4',
    'Content-Length: 0x10',
    'Content-Length: 3.0',
    'Content-Length:',
    'Content-Length: 3,',
    'Content-Length: 99999999999999999999',
  ]) {
    test(`rejects ${JSON.stringify(fields)}`, () => {
      assert.throws(() => parse([`HTTP/1.1 200 OK\r\n${fields}\r\n\r\nabcd`]), ProtocolError);
    });
  }

  test('a truncated body raises IncompleteRead with the bytes read and still expected', () => {
    const run = parse(['HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', 'd']);
    assert.equal(run.parser.bodyBytes, 4);
    assert.throws(
      () => run.parser.finish(),
      (err: unknown) => err instanceof IncompleteRead && err.partial === 4 && err.expected === 6,
    );
    assert.equal(run.parser.state, 'error');
  });
});

describe('Transfer-Encoding', () => {
  test('decodes a chunked body, ignoring extensions, and delivers trailers', () => {
    const run = parse([
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' +
        '5;name=value\r\nhello\r\n' +
        '6 ; a="quoted; \\"x\\"" ;b\r\n world\r\n' +
        '000A\r\n0123456789\r\n' +
        '0;last=yes\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\nLEFT',
    ]);
    const [head] = heads(run);
    assert.equal(head!.bodyKind, 'chunked');
    assert.equal(head!.contentLength, null);
    assert.equal(head!.keepAlive, true);
    assert.equal(body(run), 'hello world0123456789');
    assert.deepEqual(eventTypes(run), ['head', 'body', 'trailers', 'complete']);
    assert.deepEqual(
      run.events.find((e) => e.type === 'trailers'),
      { type: 'trailers', trailers: ['Expires', 'never', 'X-Checksum', 'abc'] },
    );
    assert.equal(run.parser.bodyBytes, 21);
    const raw =
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6 ; a="quoted; \\"x\\"" ;b\r\n world\r\n000A\r\n0123456789\r\n0;last=yes\r\nExpires: never\r\nX-Checksum:  abc \r\n\r\n';
    assert.equal(run.consumed, raw.length);
  });

  test('no onTrailers call when there are no trailer fields', () => {
    const run = parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n']);
    assert.deepEqual(eventTypes(run), ['head', 'body', 'complete']);
  });

  test('accepts upper-case hex sizes and bare LF in the chunked framing', () => {
    const run = parse([`HTTP/1.1 200 OK\nTransfer-Encoding: CHUNKED\n\n1A\n${'x'.repeat(26)}\n0\n\n`]);
    assert.equal(body(run), 'x'.repeat(26));
    assert.equal(run.parser.state, 'done');
  });

  test('Transfer-Encoding wins over Content-Length, and the connection is not reused', () => {
    const run = parse([
      'HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    ]);
    const [head] = heads(run);
    assert.equal(head!.bodyKind, 'chunked');
    assert.equal(head!.contentLength, null);
    assert.equal(head!.keepAlive, false);
    assert.equal(body(run), 'hi');
    assert.equal(run.parser.state, 'done');
  });

  test('only a final chunked coding frames the body; otherwise it is close-delimited', () => {
    const chunkedLast = heads(parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n']))[0]!;
    assert.equal(chunkedLast.bodyKind, 'chunked');
    const split = heads(
      parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n']),
    )[0]!;
    assert.equal(split.bodyKind, 'chunked');
    const run = parse(['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', 'raw bytes'], {
      eof: true,
    });
    const [head] = heads(run);
    assert.equal(head!.bodyKind, 'close');
    assert.equal(head!.keepAlive, false);
    assert.equal(body(run), 'raw bytes');
    assert.equal(run.parser.state, 'done');
  });

  test('Transfer-Encoding on an HTTP/1.0 response is honoured but the connection is not reused', () => {
    const run = parse([
      'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n',
    ]);
    assert.equal(heads(run)[0]!.keepAlive, false);
    assert.equal(body(run), 'a');
  });

  for (const size of [
    'zz',
    '',
    '-1',
    '+1',
    ' 5',
    '0x5',
    '5 x',
    '20000000000000',
    'ffffffffffffffffffff',
    '5\r',
  ]) {
    test(`rejects the chunk size line ${JSON.stringify(size)} with InvalidChunkLength`, () => {
      assertRejected(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${size}\r\nhello\r\n0\r\n\r\n`,
        (err) => err instanceof InvalidChunkLength && err.length === size,
      );
    });
  }

  test('accepts a chunk size of exactly Number.MAX_SAFE_INTEGER (body cut off later)', () => {
    const run = parse([
      `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${Number.MAX_SAFE_INTEGER.toString(16)}\r\nabc`,
    ]);
    assert.equal(body(run), 'abc');
    assert.equal(run.parser.state, 'body');
  });

  test('a chunk size line longer than maxHeaderSize is rejected', () => {
    assert.throws(
      () =>
        parse([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;${'e'.repeat(300)}`], {
          options: { maxHeaderSize: 256 },
        }),
      InvalidChunkLength,
    );
  });

  test('a trailer section longer than maxHeaderSize is rejected', () => {
    assert.throws(
      () =>
        parse(
          [
            `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'X-T: 0123456789\r\n'.repeat(30)}\r\n`,
          ],
          { options: { maxHeaderSize: 256 } },
        ),
      (err: unknown) => err instanceof ProtocolError && err.message.includes('256'),
    );
  });

  test('chunk data must be followed by CRLF', () => {
    for (const after of ['X', '\rX', 'hello']) {
      assert.throws(
        () => parse([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc${after}\r\n0\r\n\r\n`]),
        (err: unknown) => err instanceof ProtocolError && !(err instanceof InvalidChunkLength),
        JSON.stringify(after),
      );
    }
  });

  test('trailer fields are validated like header fields', () => {
    for (const bad of ['Bad Name: x', 'X: a\r\n folded', 'X: a\0b', 'X: a\rb', 'NoColon']) {
      assertRejected(
        `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nOk: 1\r\n${bad}\r\n\r\n`,
        (err) => err instanceof ProtocolError && !(err instanceof IncompleteRead),
      );
    }
  });

  test('EOF inside a chunked body raises IncompleteRead with an unknown total', () => {
    for (const cut of ['3\r\nab', '3\r\nabc\r\n', '3\r\nabc\r\n0\r\n', '3\r\nabc\r\n0\r\nX: y\r\n']) {
      const run = parse([`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${cut}`]);
      assert.throws(
        () => run.parser.finish(),
        (err: unknown) =>
          err instanceof IncompleteRead && err.expected === null && err.partial === run.parser.bodyBytes,
        JSON.stringify(cut),
      );
    }
  });
});

describe('responses without a body', () => {
  test('a HEAD response has no body whatever its headers say', () => {
    for (const fields of ['Content-Length: 1234', 'Transfer-Encoding: chunked', '']) {
      const head = `HTTP/1.1 200 OK\r\n${fields}${fields ? '\r\n' : ''}\r\n`;
      const run = parse([`${head}NEXT`], { method: 'HEAD' });
      assert.deepEqual(eventTypes(run), ['head', 'complete'], fields);
      assert.equal(heads(run)[0]!.bodyKind, 'none');
      assert.equal(heads(run)[0]!.keepAlive, true);
      assert.equal(run.consumed, head.length);
    }
    const [head] = heads(parse(['HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n'], { method: 'HEAD' }));
    assert.equal(head!.contentLength, 1234);
  });

  for (const status of [204, 304]) {
    test(`a ${status} response has no body even with Content-Length`, () => {
      const raw = `HTTP/1.1 ${status} X\r\nContent-Length: 10\r\n\r\n`;
      const run = parse([`${raw}HTTP/1.1 200 OK\r\n`]);
      assert.deepEqual(eventTypes(run), ['head', 'complete']);
      assert.equal(heads(run)[0]!.bodyKind, 'none');
      assert.equal(run.consumed, raw.length);
    });
  }

  test('a 2xx answer to CONNECT ends at its head; the rest is tunnel data', () => {
    const raw = 'HTTP/1.1 200 Connection established\r\nContent-Length: 5\r\n\r\n';
    const run = parse([`${raw}\x16\x03\x01`], { method: 'CONNECT' });
    assert.deepEqual(eventTypes(run), ['head', 'complete']);
    assert.equal(run.consumed, raw.length);
    const refused = parse(['HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\nno'], { method: 'CONNECT' });
    assert.equal(body(refused), 'no');
  });
});

describe('interim responses and upgrades', () => {
  test('100 Continue then 200 in one buffer gives two heads and the final body', () => {
    const run = parse(['HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok']);
    const hs = heads(run);
    assert.equal(hs.length, 2);
    assert.equal(hs[0]!.status, 100);
    assert.equal(hs[0]!.bodyKind, 'none');
    assert.equal(hs[1]!.status, 200);
    assert.deepEqual(eventTypes(run), ['head', 'head', 'body', 'complete']);
    assert.equal(body(run), 'ok');
  });

  test('103 Early Hints keeps its own headers and never carries a body', () => {
    const run = parse([
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nContent-Length: 7\r\n\r\n' +
        'HTTP/1.1 103 Early Hints\r\nLink: </b.js>; rel=preload\r\n\r\n' +
        'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc',
    ]);
    const hs = heads(run);
    assert.deepEqual(
      hs.map((h) => [h.status, h.headers]),
      [
        [103, ['Link', '</a.css>; rel=preload', 'Content-Length', '7']],
        [103, ['Link', '</b.js>; rel=preload']],
        [200, ['Content-Length', '3']],
      ],
    );
    assert.equal(body(run), 'abc');
  });

  test('an interim head counts against its own maxHeaderSize budget, not the final one', () => {
    const interim = `HTTP/1.1 103 Early Hints\r\nLink: ${'x'.repeat(150)}\r\n\r\n`;
    const final = `HTTP/1.1 200 OK\r\nLink: ${'y'.repeat(150)}\r\nContent-Length: 0\r\n\r\n`;
    const run = parse([interim + final], { options: { maxHeaderSize: 256 } });
    assert.equal(heads(run).length, 2);
  });

  test('101 stops parsing and returns the offset where the new protocol starts', () => {
    const raw = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n';
    const run = parse([`${raw}\x81\x05hello`]);
    const [head] = heads(run);
    assert.equal(head!.upgrade, true);
    assert.equal(head!.status, 101);
    assert.equal(head!.keepAlive, false);
    assert.equal(run.consumed, raw.length);
    assert.equal(run.parser.state, 'upgraded');
    assert.deepEqual(eventTypes(run), ['head']);
    assert.equal(run.parser.feed(Buffer.from('more')), 0);
    run.parser.finish();
    assert.deepEqual(eventTypes(run), ['head']);
  });

  test('100 Continue then 101 in one buffer: the upgrade offset is after the second head', () => {
    const raw = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n';
    const run = parse([`${raw}DATA`]);
    assert.deepEqual(
      heads(run).map((h) => [h.status, h.upgrade]),
      [
        [100, false],
        [101, true],
      ],
    );
    assert.equal(run.consumed, raw.length);
  });
});

describe('connection reuse', () => {
  const cases: Array<[string, boolean]> = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 0', true],
    ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0', false],
    ['HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\nContent-Length: 0', false],
    ['HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nConnection: close\r\nContent-Length: 0', false],
    ['HTTP/1.0 200 OK\r\nContent-Length: 0', false],
    ['HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0', true],
    ['HTTP/1.0 200 OK\r\nconnection: Upgrade, Keep-Alive\r\nContent-Length: 0', true],
    ['HTTP/1.0 204 No Content\r\nConnection: keep-alive', true],
    ['HTTP/1.1 200 OK', false],
    ['HTTP/1.0 200 OK\r\nConnection: keep-alive', false],
  ];
  for (const [raw, keepAlive] of cases) {
    test(`keepAlive is ${keepAlive} for ${JSON.stringify(raw)}`, () => {
      assert.equal(heads(parse([`${raw}\r\n\r\n`]))[0]!.keepAlive, keepAlive);
    });
  }

  test('a response without length is close-delimited and completed by finish()', () => {
    const run = parse(['HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome ', 'data'], { eof: false });
    assert.equal(heads(run)[0]!.bodyKind, 'close');
    assert.equal(run.parser.state, 'body');
    assert.deepEqual(eventTypes(run), ['head', 'body']);
    run.parser.finish();
    assert.deepEqual(eventTypes(run), ['head', 'body', 'complete']);
    assert.equal(body(run), 'some data');
    assert.equal(run.parser.state, 'done');
    run.parser.finish();
    assert.equal(run.events.length, 3);
  });
});

describe('EOF and lifecycle', () => {
  test('finish() before any byte is a no-op', () => {
    const run = recorder();
    run.parser.start('GET');
    assert.equal(run.parser.state, 'idle');
    run.parser.finish();
    assert.equal(run.parser.state, 'idle');
    assert.deepEqual(run.events, []);
  });

  test('EOF inside the status line or the headers is a ProtocolError that says where', () => {
    const inStatus = parse(['HTTP/1.1 20']);
    assert.throws(
      () => inStatus.parser.finish(),
      (err: unknown) => err instanceof ProtocolError && /status line/.test(err.message),
    );
    const inHeaders = parse(['HTTP/1.1 200 OK\r\nContent-Len']);
    assert.throws(
      () => inHeaders.parser.finish(),
      (err: unknown) => err instanceof ProtocolError && /headers/.test(err.message),
    );
    const afterInterim = parse(['HTTP/1.1 100 Continue\r\n\r\n']);
    assert.equal(afterInterim.parser.state, 'head');
    assert.throws(() => afterInterim.parser.finish(), ProtocolError);
  });

  test('start() resets the parser for the next response on the same connection', () => {
    const run = recorder();
    run.parser.start('GET');
    const first = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nabHTTP/1.1 204 No\r\n\r\n');
    const n = run.parser.feed(first);
    assert.equal(run.parser.state, 'done');
    assert.equal(run.parser.feed(Buffer.from('x')), 0);
    run.parser.start('GET');
    assert.equal(run.parser.bodyBytes, 0);
    assert.equal(run.parser.feed(first.subarray(n)), first.length - n);
    assert.deepEqual(
      heads(run).map((h) => h.status),
      [200, 204],
    );
    assert.equal(run.parser.state, 'done');
  });

  test('start() after an error makes the parser usable again', () => {
    const run = recorder();
    run.parser.start('GET');
    assert.throws(() => run.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nBad Header\r\n\r\n')), ProtocolError);
    run.parser.start('GET');
    run.parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(run.parser.state, 'done');
    assert.equal(heads(run)[0]!.headers.length, 2);
  });

  test('an exception thrown by a handler leaves the parser dead', () => {
    const parser = new H1ResponseParser({
      onHead: () => {
        throw new Error('boom');
      },
      onBody: () => {},
      onTrailers: () => {},
      onComplete: () => {},
    });
    parser.start('GET');
    assert.throws(() => parser.feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')), /boom/);
    assert.equal(parser.state, 'error');
  });

  test('rejects a non-positive maxHeaderSize', () => {
    assert.throws(() => recorder({ maxHeaderSize: 0 }), RangeError);
  });
});

describe('split feeding gives the same events as whole feeding', () => {
  const messages: Array<{ name: string; raw: string; method?: string; eof?: boolean }> = [
    {
      name: 'Content-Length body followed by the next response',
      raw: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello worldHTTP/1.1 204 No\r\n\r\n',
    },
    {
      name: 'chunked body with extensions and trailers',
      raw:
        'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A:  1 \r\n\r\n' +
        '4;ext=1\r\nWiki\r\n5 ; q="a;b"\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n' +
        '0;end\r\nX-Trailer: yes\r\nX-Other:   two  \r\n\r\nTAIL',
    },
    {
      name: 'chunked body with bare LF framing',
      raw: 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n0\n\n',
    },
    {
      name: '100 Continue then a final response',
      raw: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 4\r\nLocation: /x\r\n\r\ndone',
    },
    {
      name: 'close-delimited HTTP/1.0 body',
      raw: 'HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end\r\nof the connection',
      eof: true,
    },
    {
      name: 'HEAD response',
      raw: 'HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\n',
      method: 'HEAD',
    },
    {
      name: '101 upgrade with protocol bytes after it',
      raw: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n\x00\x00\x12\x04\x00',
    },
  ];

  for (const { name, raw, method, eof } of messages) {
    test(name, () => {
      const bytes = Buffer.from(raw, 'latin1');
      const whole = parse([bytes], { method, eof });
      assert.ok(whole.events.length > 0);
      const last = whole.events[whole.events.length - 1]!;
      assert.ok(last.type === 'complete' || whole.parser.state === 'upgraded');
      for (let i = 0; i <= bytes.length; i++) {
        const split = parse([bytes.subarray(0, i), bytes.subarray(i)], { method, eof });
        assert.deepEqual(split.events, whole.events, `split at ${i}`);
        assert.equal(split.consumed, whole.consumed, `consumed, split at ${i}`);
      }
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i++) pieces.push(bytes.subarray(i, i + 1));
      const bytewise = parse(pieces, { method, eof });
      assert.deepEqual(bytewise.events, whole.events, 'one byte at a time');
      assert.equal(bytewise.consumed, whole.consumed, 'consumed, one byte at a time');
    });
  }
});
