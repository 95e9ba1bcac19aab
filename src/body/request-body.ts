// Normalises every request body type docs/api.md allows into one shape the
// connection layer can send: a single Buffer when the bytes are at hand
// (string, Uint8Array, ArrayBuffer, any ArrayBufferView), or a one-shot async
// iterator of Buffers for streams (Readable, async iterables, sync iterables
// such as arrays of chunks or generators, Blobs).
//
// It decides nothing about headers: the caller sets Content-Length from
// `length`, or uses chunked transfer coding when it is null. It also decides
// when a body may be sent again (retries, redirects): see rewindBody.

import { UnrewindableBodyError } from '../errors.js';
import { typeName } from './fields.js';

export interface PreparedBody {
  /**
   * Known length in bytes, or null when unknown (-> the caller sends chunked).
   * No body at all (`null`/`undefined`) is length 0 with both `buffer` and
   * `stream` null, which the caller can tell apart from an empty body
   * (a zero-length `buffer`), as urllib3 does for Content-Length: 0.
   */
  length: number | null;
  /** For buffered bodies: the single Buffer to write (fast path: head + this in one write). null for streams. */
  buffer: Buffer | null;
  /**
   * For streaming bodies: an async iterator of Buffer chunks (strings in the
   * source are UTF-8 encoded, empty chunks are skipped so none can be taken for
   * the end of a chunked body). It can be iterated once. null for buffers.
   */
  stream: AsyncIterable<Buffer> | null;
  /**
   * Whether the body can be produced again for a retry/redirect: buffers,
   * arrays of chunks and Blobs can; Readables, async iterables and generators
   * cannot (their data is gone once sent).
   */
  rewindable: boolean;
}

interface StreamState {
  started: boolean;
}

interface Source {
  /** Builds a fresh PreparedBody over the same data; null when the data cannot be replayed. */
  replay: (() => PreparedBody) | null;
  /** For streams: whether iteration began. */
  state: StreamState | null;
}

/**
 * The PreparedBody this module makes: plain data for callers, plus where it
 * came from (for rewinds) in a field of its own. A class rather than a side
 * table (a WeakMap entry per request was measurable on small POSTs), and one
 * shape for every body type.
 */
class Prepared implements PreparedBody {
  constructor(
    public length: number | null,
    public buffer: Buffer | null,
    public stream: AsyncIterable<Buffer> | null,
    public rewindable: boolean,
    /** @internal */
    readonly source: Source,
  ) {}
}

function sourceOf(prepared: PreparedBody): Source | undefined {
  return prepared instanceof Prepared ? prepared.source : undefined;
}

const NO_SOURCE: Source = { replay: null, state: null };

const SUPPORTED =
  'a string, Uint8Array/Buffer, ArrayBuffer, ArrayBufferView, Blob, Readable, ' +
  'async iterable or iterable of Uint8Array/string chunks';

/**
 * Turns a request body into a PreparedBody. TypeError (naming the type) for
 * anything else. A PreparedBody made here is returned as it is, so a caller
 * that re-sends across several pools (the PoolManager following a redirect)
 * keeps one body whose state says whether it can still be rewound.
 */
export function prepareBody(body: unknown): PreparedBody {
  if (body instanceof Prepared) return body;
  if (body === null || body === undefined) return new Prepared(0, null, null, true, NO_SOURCE);
  const bytes = asBuffer(body);
  if (bytes !== null) return bufferBody(bytes);
  if (typeof body === 'string' || body instanceof String)
    return bufferBody(Buffer.from(String(body), 'utf8'));
  if (typeof body !== 'object' && typeof body !== 'function') {
    throw new TypeError(`request body must be ${SUPPORTED}; got ${typeName(body)}`);
  }
  if (typeof Blob !== 'undefined' && body instanceof Blob) return blobBody(body);
  const source = body as { [Symbol.asyncIterator]?: unknown; [Symbol.iterator]?: unknown };
  if (typeof source[Symbol.asyncIterator] === 'function') {
    return streamBody(body as AsyncIterable<unknown>, null, false);
  }
  if (typeof source[Symbol.iterator] === 'function') {
    // An array can be walked again; any other iterable (a generator, an
    // iterator) may be single-use, so it is not replayed.
    if (Array.isArray(body)) return arrayBody(body);
    return streamBody(body as Iterable<unknown>, null, true);
  }
  throw new TypeError(`request body must be ${SUPPORTED}; got ${typeName(body)}`);
}

/**
 * Re-obtains the body for a re-send (retry, 301/302/307/308 redirect).
 * Buffered bodies come back as they are; arrays of chunks and Blobs get a
 * fresh stream. A one-shot stream that was never iterated is returned as it
 * is (nothing of it was sent); one already (partly) consumed throws
 * UnrewindableBodyError, as does a hand-made streaming PreparedBody.
 */
export function rewindBody(prepared: PreparedBody): PreparedBody {
  const source = sourceOf(prepared);
  if (source === undefined) {
    if (prepared.stream === null) return prepared;
    throw new UnrewindableBodyError(
      'Unable to rewind the request body: it was not prepared by prepareBody()',
    );
  }
  if (source.state === null) return prepared;
  if (source.replay !== null) return source.replay();
  if (!source.state.started) return prepared;
  throw new UnrewindableBodyError(
    'Unable to rewind the request body for a re-send: it is a one-shot stream (Readable, async iterable ' +
      'or generator) that was already read; pass a Buffer, a string or an array of chunks to allow ' +
      'retries and redirects',
  );
}

/**
 * Whether `prepared` can go out (again) without losing data: anything
 * rewindable, and a one-shot stream that nothing has read yet.
 */
export function canResend(prepared: PreparedBody): boolean {
  if (prepared.rewindable) return true;
  const source = sourceOf(prepared);
  return source?.state != null && !source.state.started;
}

function bufferBody(buffer: Buffer): PreparedBody {
  return new Prepared(buffer.length, buffer, null, true, NO_SOURCE);
}

function arrayBody(chunks: readonly unknown[]): PreparedBody {
  // The items are at hand, so a wrong one is reported now rather than mid-send.
  for (const chunk of chunks) {
    if (typeof chunk !== 'string' && asBuffer(chunk) === null) {
      throw new TypeError(`request body chunks must be Uint8Array or string, got ${typeName(chunk)}`);
    }
  }
  const state: StreamState = { started: false };
  return new Prepared(
    null,
    null,
    oneShot(() => syncChunks(chunks), state),
    true,
    {
      replay: () => arrayBody(chunks),
      state,
    },
  );
}

function blobBody(blob: Blob): PreparedBody {
  const state: StreamState = { started: false };
  // A Blob is immutable, so its bytes can be streamed again for every send.
  const open = () => asyncChunks(blob.stream() as unknown as AsyncIterable<unknown>);
  return new Prepared(blob.size, null, oneShot(open, state), true, { replay: () => blobBody(blob), state });
}

function streamBody(
  source: AsyncIterable<unknown> | Iterable<unknown>,
  length: number | null,
  sync: boolean,
): PreparedBody {
  const state: StreamState = { started: false };
  const open = sync
    ? () => syncChunks(source as Iterable<unknown>)
    : () => asyncChunks(source as AsyncIterable<unknown>);
  return new Prepared(length, null, oneShot(open, state), false, { replay: null, state });
}

// Single use, so a retry can never silently send an already drained (empty) stream.
function oneShot(open: () => AsyncGenerator<Buffer>, state: StreamState): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<Buffer> {
      if (state.started) {
        throw new UnrewindableBodyError('The request body stream was already consumed; use rewindBody()');
      }
      state.started = true;
      return open();
    },
  };
}

async function* asyncChunks(source: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    const bytes = toChunk(chunk);
    if (bytes.length > 0) yield bytes;
  }
}

// Not `for await`: a sync iterable's items are chunks, never promises to wait on.
async function* syncChunks(source: Iterable<unknown>): AsyncGenerator<Buffer> {
  for (const chunk of source) {
    const bytes = toChunk(chunk);
    if (bytes.length > 0) yield bytes;
  }
}

function toChunk(chunk: unknown): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  const bytes = asBuffer(chunk);
  if (bytes !== null) return bytes;
  throw new TypeError(`request body chunks must be Uint8Array or string, got ${typeName(chunk)}`);
}

/** A Buffer view (no copy) over any binary value, or null when `value` is not binary. */
function asBuffer(value: unknown): Buffer | null {
  if (Buffer.isBuffer(value)) return value;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return Buffer.from(value);
  if (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
    return Buffer.from(value);
  return null;
}
