// How one DNS query is called off: its timeout fired or the resolver was
// closed (docs/api.md section 10). A burst of cold lookups sends hundreds of
// queries; an AbortController per query, with an 'abort' listener added and
// removed on its EventTarget, was a tenth of their client CPU and a good
// part of the garbage. A QueryCancel is a plain object with a listener slot:
// the transports that only need "tell me when it is off" (dou, dot, doq) use
// on()/off(); an API that takes an AbortSignal (the HTTP pool under doh://,
// the TLS upgrade) gets one from `signal`, made the first time it is asked
// for and fired with this.

export type CancelListener = (reason: unknown) => void;

export class QueryCancel {
  aborted = false;
  reason: unknown = undefined;
  /** The listener most queries have (one), then any others. */
  private first: CancelListener | null = null;
  private rest: CancelListener[] | null = null;
  private controller: AbortController | null = null;

  /** Calls `fn` once, when the query is called off (never if it already was: check `aborted` first). */
  on(fn: CancelListener): void {
    if (this.first === null) this.first = fn;
    else (this.rest ??= []).push(fn);
  }

  /** Forgets `fn`. */
  off(fn: CancelListener): void {
    if (this.first === fn) {
      this.first = null;
      return;
    }
    const rest = this.rest;
    if (rest === null) return;
    const i = rest.indexOf(fn);
    if (i !== -1) rest.splice(i, 1);
  }

  /** Calls the query off with `reason`; the listeners run once, in the order they came. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const first = this.first;
    const rest = this.rest;
    this.first = null;
    this.rest = null;
    if (first !== null) first(reason);
    if (rest !== null) for (const fn of rest) fn(reason);
    this.controller?.abort(reason);
  }

  /** An AbortSignal that fires with this one, for APIs that take a signal. */
  get signal(): AbortSignal {
    if (this.controller === null) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }
}
