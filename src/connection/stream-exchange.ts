// What the exchanges of multiplexed protocols (HTTP/2, HTTP/3) share beyond
// the exchange core: each stream has its own read timer (one connection
// carries many exchanges, so the socket's timer cannot serve), armed once the
// request is sent, refreshed by every piece of the response, never running
// while the reader has paused the body; and letting go of a response before
// its end costs only that stream, never the connection.

import { ProtocolError } from '../errors.js';
import { ExchangeCore, Phase } from './exchange-core.js';

export abstract class StreamExchange extends ExchangeCore {
  private timer: NodeJS.Timeout | null = null;
  /** The read timeout applies (the request is on its way); a resumed reader re-arms it. */
  private timerWanted = false;

  /** Close only this exchange's stream (cancel it); the connection carries on. */
  protected abstract cancelStream(): void;

  // ---- read timeout: between pieces of the response, not while paused ----------

  protected armTimer(): void {
    this.timerWanted = true;
    if (this.opts.readTimeout === null || this.isOver || this.paused) return;
    if (this.timer !== null) {
      this.timer.refresh();
      return;
    }
    this.timer = setTimeout(
      () => {
        this.timer = null;
        this.onReadTimeout();
      },
      Math.max(1, this.opts.readTimeout),
    );
    this.timer.unref();
  }

  /** A piece of the response arrived: the read timeout starts again. */
  protected refreshTimer(): void {
    const t = this.timer;
    if (t !== null) t.refresh();
  }

  protected disarmTimer(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  override resumeBody(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.timerWanted) this.armTimer();
    this.resumeTransport();
  }

  // ---- ResponseFeeder -------------------------------------------------------------

  releaseFromResponse(): void {
    if (this.phase !== Phase.Complete) this.discardFromResponse();
  }

  discardFromResponse(): void {
    // An upgraded stream is the extension's: only extension.close() ends it.
    if (this.phase === Phase.Upgraded) return;
    if (!this.isOver) {
      this.error = new ProtocolError(`${this.label}: response released before its body was read`);
      this.phase = Phase.Failed;
      this.disarmTimer();
      this.detachAbort();
      this.wakeUp();
    }
    this.cancelStream();
  }
}
