// ResponsePromise (docs/api.md section 9): what `urlopen(..., { multiplexed: true })`
// resolves with once a request has gone out on an HTTP/2 stream, before its
// response is in. `getResponse({ promise })` on the pool or manager that made
// it turns it into the HTTPResponse; `getResponse()` returns whichever
// pending response arrives first.
//
// It is deliberately not a thenable: `await urlopen(...)` must hand back the
// ResponsePromise itself, not silently wait for the response. Retries and
// redirects still happen: the response it stands for is the one urlopen
// would have returned.
//
// Not here: sending (the pool does it). On HTTP/1.1 no ResponsePromise is
// made; urlopen returns the response as usual.

import type { HTTPConnection } from './connection/connection.js';
import type { HTTPResponse } from './response.js';

type Outcome = { response: HTTPResponse; error: null } | { response: null; error: Error };

/** What the pool reports once a request is on the wire. */
export interface SentRequest {
  streamId: number | null;
  connection: HTTPConnection;
}

let promiseIds = 0;

export class ResponsePromise {
  /** Unique among the ResponsePromises of this process. */
  readonly id: string;
  /** The HTTP/2 stream the request went out on (the first attempt's). */
  readonly streamId: number | null;
  readonly method: string;
  readonly url: string;
  /** @internal */ readonly _outcome: Promise<Outcome>;
  /** @internal */ _registry: PendingResponses | null;
  /** @internal */ _collected = false;
  /** @internal */ _settled = false;
  private readonly conn: HTTPConnection | null;

  /** @internal */
  constructor(
    sent: SentRequest,
    method: string,
    url: string,
    outcome: Promise<Outcome>,
    registry: PendingResponses,
  ) {
    this.id = `rp-${++promiseIds}`;
    this.streamId = sent.streamId;
    this.conn = sent.connection;
    this.method = method;
    this.url = url;
    this._outcome = outcome;
    this._registry = registry;
    void outcome.then(() => {
      this._settled = true;
    });
  }

  /** The connection the request was sent on. */
  get connection(): HTTPConnection | null {
    return this.conn;
  }

  /** True once its response (or failure) is in: getResponse() would not wait. */
  get isReady(): boolean {
    return this._settled;
  }

  toString(): string {
    return `<ResponsePromise '${this.id}' ${this.method} ${this.url} stream ${this.streamId ?? '?'}>`;
  }
}

/**
 * The ResponsePromises a pool or manager handed out and nobody collected yet.
 */
export class PendingResponses {
  private readonly pending = new Set<ResponsePromise>();

  get size(): number {
    return this.pending.size;
  }

  /**
   * Run `send` (one urlopen): resolves with a ResponsePromise as soon as it
   * reports a request sent on an HTTP/2 stream, or with the response itself
   * when it finishes without ever doing so (HTTP/1.1).
   */
  start(
    method: string,
    url: string,
    send: (onSent: (s: SentRequest) => void) => Promise<HTTPResponse>,
  ): Promise<HTTPResponse | ResponsePromise> {
    return new Promise<HTTPResponse | ResponsePromise>((resolve, reject) => {
      let rp: ResponsePromise | null = null;
      let settle: ((o: Outcome) => void) | null = null;
      const onSent = (s: SentRequest) => {
        if (rp !== null) return;
        const outcome = new Promise<Outcome>((r) => {
          settle = r;
        });
        rp = new ResponsePromise(s, method, url, outcome, this);
        this.pending.add(rp);
        resolve(rp);
      };
      let run: Promise<HTTPResponse>;
      try {
        run = send(onSent);
      } catch (err) {
        reject(err);
        return;
      }
      run.then(
        (response) => {
          if (rp === null) {
            resolve(response);
            return;
          }
          response._promise = rp;
          settle!({ response, error: null });
        },
        (error: Error) => {
          if (rp === null) reject(error);
          else settle!({ response: null, error });
        },
      );
    });
  }

  /**
   * The response for `promise`, or for whichever pending one arrives first;
   * null when nothing is pending (or `promise` was already collected).
   */
  async get(promise?: ResponsePromise | null): Promise<HTTPResponse | null> {
    if (promise !== undefined && promise !== null) {
      if (!(promise instanceof ResponsePromise)) {
        throw new TypeError(
          'getResponse: promise must be a ResponsePromise returned by a multiplexed request',
        );
      }
      if (promise._collected) return null;
      return collect(promise);
    }
    for (;;) {
      if (this.pending.size === 0) return null;
      const first = await Promise.race([...this.pending].map((p) => p._outcome.then(() => p)));
      // Another getResponse() may have taken it meanwhile: then wait for the next one.
      if (!first._collected) return collect(first);
    }
  }

  /** @internal */
  _remove(p: ResponsePromise): void {
    this.pending.delete(p);
  }
}

async function collect(p: ResponsePromise): Promise<HTTPResponse> {
  p._collected = true;
  p._registry?._remove(p);
  p._registry = null;
  const o = await p._outcome;
  if (o.error !== null) throw o.error;
  return o.response;
}
