// What the exchanges of multiplexed protocols (HTTP/2, HTTP/3) share beyond
// the exchange core: each stream has its own read timer (one connection
// carries many exchanges, so the socket's timer cannot serve), armed once the
// request is sent, refreshed by every piece of the response, never running
// while the reader has paused the body; and letting go of a response before
// its end costs only that stream, never the connection.

import { ProtocolError } from '../errors.js';
import { ExchangeCore, Phase } from './exchange-core.js';
import type { ResponseLimits } from './response-limits.js';
import type { ExchangeRequest } from './session.js';

/** What every stream exchange asks of its session. */
export interface StreamHost {
  readonly label: string;
  readonly connectionObject: unknown;
  readonly pooled: boolean;
  readonly limits?: ResponseLimits;
}

export abstract class StreamExchange<H extends StreamHost = StreamHost> extends ExchangeCore {
  protected readonly host: H;
  /** The stream is closed (ended both ways, reset, or gone with its connection). */
  protected streamIsClosed = false;
  private timer: NodeJS.Timeout | null = null;
  /** The read timeout applies (the request is on its way); a resumed reader re-arms it. */
  private timerWanted = false;

  constructor(host: H, opts: ExchangeRequest) {
    super(opts, host.label, host.limits);
    this.host = host;
  }

  get connectionObject(): unknown {
    return this.host.connectionObject;
  }

  get pooled(): boolean {
    return this.host.pooled;
  }

  protected get transportClosed(): boolean {
    return this.streamIsClosed;
  }

  /**
   * More regular fields than maxHeaderFields in a header section or in the
   * trailer section (docs/api.md section 4): the exchange fails.
   */
  protected failOverFieldLimit(fields: number, section: 'header' | 'trailer' = 'header'): boolean {
    const max = this.limits.maxHeaderFields;
    if (fields <= max) return false;
    const what = section === 'header' ? 'header block' : 'trailer section';
    this.fail(
      new ProtocolError(
        `${this.label}: the response ${what} has more than ${max} fields (maxHeaderFields) (${this.opts.url})`,
      ),
    );
    return true;
  }

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
