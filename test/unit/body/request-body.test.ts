import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { canResend, type PreparedBody, prepareBody, rewindBody } from '../../../src/body/request-body.js';
import { UnrewindableBodyError } from '../../../src/errors.js';

async function chunksOf(prepared: PreparedBody): Promise<Buffer[]> {
  assert.ok(prepared.stream, 'expected a streaming body');
  const chunks: Buffer[] = [];
  for await (const chunk of prepared.stream) {
    assert.ok(Buffer.isBuffer(chunk), 'every chunk is a Buffer');
    chunks.push(chunk);
  }
  return chunks;
}

async function textOf(prepared: PreparedBody): Promise<string> {
  return Buffer.concat(await chunksOf(prepared)).toString('utf8');
}

describe('prepareBody: buffered bodies', () => {
  test('null and undefined mean no body: length 0, neither buffer nor stream', () => {
    for (const body of [null, undefined]) {
      const prepared = prepareBody(body);
      const { length, buffer, stream, rewindable } = prepared;
      assert.deepEqual(
        { length, buffer, stream, rewindable },
        { length: 0, buffer: null, stream: null, rewindable: true },
      );
      assert.equal(rewindBody(prepared), prepared);
    }
  });

  test('an empty string is an empty buffer, not "no body"', () => {
    const prepared = prepareBody('');
    assert.equal(prepared.length, 0);
    assert.deepEqual(prepared.buffer, Buffer.alloc(0));
  });

  test('a string is UTF-8 encoded and its byte length is known', () => {
    const prepared = prepareBody('héllo ☕');
    assert.equal(prepared.length, 10);
    assert.deepEqual(prepared.buffer, Buffer.from('héllo ☕', 'utf8'));
    assert.equal(prepared.stream, null);
    assert.equal(prepared.rewindable, true);
  });

  test('a Buffer is used as it is, without a copy', () => {
    const buffer = Buffer.from('abc');
    const prepared = prepareBody(buffer);
    assert.equal(prepared.buffer, buffer);
    assert.equal(prepared.length, 3);
  });

  test('a Uint8Array becomes a Buffer over the same memory', () => {
    const bytes = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
    const prepared = prepareBody(bytes);
    assert.ok(Buffer.isBuffer(prepared.buffer));
    assert.deepEqual([...prepared.buffer!], [2, 3]);
    bytes[0] = 9;
    assert.equal(prepared.buffer![0], 9);
  });

  test('ArrayBuffer and other ArrayBufferViews are sent as their bytes', () => {
    assert.equal(prepareBody(new ArrayBuffer(5)).length, 5);
    assert.equal(prepareBody(new Uint16Array([1, 2, 3])).length, 6);
    const view = new DataView(new ArrayBuffer(8), 2, 4);
    assert.equal(prepareBody(view).length, 4);
  });

  test('a String object is sent like a string', () => {
    assert.deepEqual(prepareBody(new String('boxed')).buffer, Buffer.from('boxed'));
  });

  test('a buffered body rewinds to itself', () => {
    const prepared = prepareBody('again');
    assert.equal(rewindBody(prepared), prepared);
  });
});

describe('prepareBody: streaming bodies', () => {
  test('a Readable streams with unknown length and is not rewindable', async () => {
    const prepared = prepareBody(Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    assert.equal(prepared.length, null);
    assert.equal(prepared.buffer, null);
    assert.equal(prepared.rewindable, false);
    assert.deepEqual(await chunksOf(prepared), [Buffer.from('ab'), Buffer.from('cd')]);
  });

  test('string chunks are UTF-8 encoded and empty chunks are skipped', async () => {
    const prepared = prepareBody(Readable.from(['é', '', 'x'], { objectMode: true }));
    const chunks = await chunksOf(prepared);
    assert.deepEqual(chunks, [Buffer.from('é'), Buffer.from('x')]);
  });

  test('an async generator streams and is not rewindable', async () => {
    async function* gen() {
      yield new Uint8Array([104, 105]);
      yield '!';
    }
    const prepared = prepareBody(gen());
    assert.equal(prepared.rewindable, false);
    assert.equal(await textOf(prepared), 'hi!');
  });

  test('a web ReadableStream is read as an async iterable', async () => {
    const web = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('web'));
        controller.close();
      },
    });
    assert.equal(await textOf(prepareBody(web)), 'web');
  });

  test('an array of chunks streams with unknown length and is rewindable', async () => {
    const prepared = prepareBody([Buffer.from('a'), 'b', new Uint8Array([99])]);
    assert.equal(prepared.length, null);
    assert.equal(prepared.rewindable, true);
    assert.equal(await textOf(prepared), 'abc');
    const again = rewindBody(prepared);
    assert.notEqual(again, prepared);
    assert.equal(await textOf(again), 'abc');
    assert.equal(await textOf(rewindBody(again)), 'abc');
  });

  test('a sync generator streams and is not rewindable', async () => {
    function* gen() {
      yield Buffer.from('one');
      yield Buffer.from('two');
    }
    const prepared = prepareBody(gen());
    assert.equal(prepared.rewindable, false);
    assert.equal(await textOf(prepared), 'onetwo');
  });

  test('a Blob streams with its known size and is rewindable', async () => {
    const prepared = prepareBody(new Blob(['blob ', 'data']));
    assert.equal(prepared.length, 9);
    assert.equal(prepared.rewindable, true);
    assert.equal(await textOf(prepared), 'blob data');
    assert.equal(await textOf(rewindBody(prepared)), 'blob data');
  });

  test('a chunk of the wrong type is a TypeError while streaming', async () => {
    function* gen() {
      yield Buffer.from('ok');
      yield 42;
    }
    await assert.rejects(chunksOf(prepareBody(gen())), /chunks must be Uint8Array or string, got number/);
  });

  test('an array with a chunk of the wrong type is a TypeError at once', () => {
    assert.throws(
      () => prepareBody([Buffer.from('ok'), 42]),
      /chunks must be Uint8Array or string, got number/,
    );
    assert.throws(() => prepareBody([[1, 2]]), /got Array/);
  });

  test('a stream error reaches the consumer', async () => {
    const readable = new Readable({
      read() {
        this.destroy(new Error('disk on fire'));
      },
    });
    await assert.rejects(chunksOf(prepareBody(readable)), /disk on fire/);
  });

  test('stopping early destroys the source Readable', async () => {
    const readable = Readable.from(['a', 'b', 'c']);
    const prepared = prepareBody(readable);
    for await (const _chunk of prepared.stream!) break;
    assert.equal(readable.destroyed, true);
  });

  test('a stream can be iterated only once', async () => {
    const prepared = prepareBody([Buffer.from('x')]);
    await chunksOf(prepared);
    assert.throws(() => prepared.stream![Symbol.asyncIterator](), UnrewindableBodyError);
  });
});

describe('rewindBody', () => {
  test('an unread one-shot stream is returned as it is', async () => {
    const prepared = prepareBody(Readable.from([Buffer.from('still here')]));
    assert.equal(rewindBody(prepared), prepared);
    assert.equal(await textOf(prepared), 'still here');
  });

  test('a consumed one-shot stream is an UnrewindableBodyError', async () => {
    const prepared = prepareBody(Readable.from([Buffer.from('gone')]));
    await chunksOf(prepared);
    assert.throws(() => rewindBody(prepared), UnrewindableBodyError);
  });

  test('a partly consumed generator is an UnrewindableBodyError', async () => {
    function* gen() {
      yield Buffer.from('1');
      yield Buffer.from('2');
    }
    const prepared = prepareBody(gen());
    const iterator = prepared.stream![Symbol.asyncIterator]();
    await iterator.next();
    assert.throws(() => rewindBody(prepared), UnrewindableBodyError);
  });

  test('a hand-made streaming body cannot be rewound', () => {
    const prepared: PreparedBody = {
      length: null,
      buffer: null,
      stream: (async function* () {})(),
      rewindable: false,
    };
    assert.throws(() => rewindBody(prepared), UnrewindableBodyError);
  });

  test('a hand-made buffered body rewinds to itself', () => {
    const prepared: PreparedBody = { length: 1, buffer: Buffer.from('x'), stream: null, rewindable: true };
    assert.equal(rewindBody(prepared), prepared);
  });
});

describe('one body across re-sends', () => {
  test('a body prepared here is returned as it is, keeping its state', async () => {
    const prepared = prepareBody(Readable.from(['once']));
    assert.equal(prepareBody(prepared), prepared);
    for await (const _ of prepared.stream!) {
      // consume it
    }
    assert.throws(() => rewindBody(prepareBody(prepared)), UnrewindableBodyError);
  });

  test('canResend: buffers, arrays and Blobs always; one-shot streams only until they are read', async () => {
    assert.equal(canResend(prepareBody('x')), true);
    assert.equal(canResend(prepareBody(['a', 'b'])), true);
    assert.equal(canResend(prepareBody(new Blob(['b']))), true);
    const stream = prepareBody(Readable.from(['s']));
    assert.equal(canResend(stream), true, 'nothing was read yet');
    for await (const _ of stream.stream!) {
      // consume it
    }
    assert.equal(canResend(stream), false);
    const handMade: PreparedBody = {
      length: null,
      buffer: null,
      stream: (async function* () {})(),
      rewindable: false,
    };
    assert.equal(canResend(handMade), false);
  });
});

describe('prepareBody: unsupported types', () => {
  test('are a TypeError that names the type', () => {
    assert.throws(() => prepareBody(42), /got number/);
    assert.throws(() => prepareBody(true), /got boolean/);
    assert.throws(() => prepareBody({ a: 1 }), /got Object/);
    assert.throws(() => prepareBody(new Date()), /got Date/);
    assert.throws(() => prepareBody(Symbol('s')), /got symbol/);
    assert.throws(() => prepareBody(() => 'x'), /got Function/);
  });
});
