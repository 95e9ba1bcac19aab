// The body of an HTTPResponse built by hand (docs/api.md section 2: test
// doubles, as urllib3 users build `HTTPResponse(body=...)`), when that body is
// an iterable or async iterable of byte chunks (a Node Readable is one). It
// plays the part a connection plays for a real response: it pushes chunks
// in, stops while the response says it is full, and stops for good when the
// response is closed. There is no connection to hand back.

/** Where the chunks go (the response). */
export interface BodySink {
  push(chunk: Buffer): void;
  finish(): void;
  fail(error: Error): void;
}

import { ProtocolError } from './errors.js';

export type BodyChunk = Uint8Array | string;

/** A body given whole (bytes, text or nothing) as a Buffer; null for an iterable. */
export function bodyBytes(body: unknown): Buffer | null {
  if (body === null || body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  return null;
}

export class IterableBodyFeed {
  /** A hand-built response has no connection. */
  readonly connectionObject = null;
  readonly pooled = false;
  readonly #body: Iterable<BodyChunk> | AsyncIterable<BodyChunk>;
  #paused = false;
  #stopped = false;
  #resume: (() => void) | null = null;

  constructor(body: Iterable<BodyChunk> | AsyncIterable<BodyChunk>, preloadContent: boolean) {
    if (preloadContent) {
      throw new TypeError(
        'new HTTPResponse({ body }): an iterable or stream body needs preloadContent: false ' +
          '(its bytes arrive asynchronously; read them with await response.read())',
      );
    }
    this.#body = body;
  }

  start(sink: BodySink): void {
    this.#run(sink).catch((error: unknown) => {
      if (this.#stopped) return;
      // As a connection's failures reach a reader: urllib3's "Connection broken".
      const reason = error instanceof Error ? error.message : String(error);
      sink.fail(new ProtocolError(`HTTPResponse body: Connection broken: ${reason}`, { cause: error }));
    });
  }

  pauseBody(): void {
    this.#paused = true;
  }

  resumeBody(): void {
    this.#paused = false;
    this.#wake();
  }

  releaseFromResponse(): void {
    // Nothing to hand back.
  }

  discardFromResponse(): void {
    this.#stopped = true;
    this.#wake();
  }

  async #run(sink: BodySink): Promise<void> {
    for await (const piece of this.#body) {
      if (this.#stopped) return;
      if (typeof piece === 'string') sink.push(Buffer.from(piece, 'utf8'));
      else if (piece instanceof Uint8Array)
        sink.push(Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength));
      else throw new TypeError(`HTTPResponse body chunks must be Uint8Array or string, got ${typeof piece}`);
      while (this.#paused && !this.#stopped) {
        await new Promise<void>((resolve) => {
          this.#resume = resolve;
        });
      }
      if (this.#stopped) return;
    }
    if (!this.#stopped) sink.finish();
  }

  #wake(): void {
    const resume = this.#resume;
    if (resume !== null) {
      this.#resume = null;
      resume();
    }
  }
}
