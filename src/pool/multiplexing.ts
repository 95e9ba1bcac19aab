// The urlopen()/request()/getResponse() surface that pools and managers share
// for multiplexing (docs/api.md section 9): `multiplexed: true` resolves with a
// ResponsePromise once the request is on its way, and getResponse() hands
// the responses out later - the one asked for, or the first to arrive.
// Subclasses implement _urlopen(), reporting each request that goes out on an
// HTTP/2 stream to `onSent`; on HTTP/1.1 the flag changes nothing.

import { checkOptions, optionSet } from '../options.js';
import type { HTTPResponse } from '../response.js';
import { PendingResponses, type ResponsePromise, type SentRequest } from '../response-promise.js';
import { RequestMethods, type RequestOptions } from './request-methods.js';
import { URLOPEN_OPTIONS, type UrlopenOptions } from './urlopen-options.js';

/** Told of each request that went out on an HTTP/2 stream (multiplexed requests). */
export type OnSent = (sent: SentRequest) => void;

const GET_RESPONSE_OPTIONS = optionSet('promise');

export abstract class MultiplexingRequestMethods extends RequestMethods {
  private readonly pendingResponses = new PendingResponses();

  /**
   * The lowest-level request (no `fields`/`json` encoding), with retries,
   * redirects and timeouts as urllib3's; see the class for this one's rules.
   * With `multiplexed: true` it resolves with a ResponsePromise once the
   * request is sent; collect the response with getResponse().
   */
  override urlopen(
    method: string,
    url: string,
    options: UrlopenOptions & { multiplexed: true },
  ): Promise<HTTPResponse | ResponsePromise>;
  override urlopen(method: string, url: string, options?: UrlopenOptions): Promise<HTTPResponse>;
  override urlopen(
    method: string,
    url: string,
    options?: UrlopenOptions,
  ): Promise<HTTPResponse> | Promise<HTTPResponse | ResponsePromise> {
    if (options?.multiplexed === true) {
      try {
        checkOptions('urlopen', options, URLOPEN_OPTIONS);
      } catch (err) {
        return Promise.reject(err);
      }
      return this.pendingResponses.start(method, url, (onSent) =>
        this._urlopen(method, url, options, onSent),
      );
    }
    return this._urlopen(method, url, options, null);
  }

  override request(
    method: string,
    url: string,
    options: RequestOptions & { multiplexed: true },
  ): Promise<HTTPResponse | ResponsePromise>;
  override request(method: string, url: string, options?: RequestOptions): Promise<HTTPResponse>;
  override request(
    method: string,
    url: string,
    options?: RequestOptions,
  ): Promise<HTTPResponse> | Promise<HTTPResponse | ResponsePromise> {
    return super.request(method, url, options);
  }

  /**
   * Multiplexing (docs/api.md section 9): the response for `promise` (a
   * ResponsePromise from `urlopen(..., { multiplexed: true })` on this pool
   * or manager), or whichever pending one arrives first; null when none is
   * pending. Retries and redirects have been followed, as urlopen would.
   */
  getResponse(options?: { promise?: ResponsePromise | null }): Promise<HTTPResponse | null> {
    checkOptions('getResponse', options, GET_RESPONSE_OPTIONS);
    return this.pendingResponses.get(options?.promise ?? null);
  }

  /** @internal urlopen(), reporting each request that goes out on an HTTP/2 stream to `onSent`. */
  abstract _urlopen(
    method: string,
    url: string,
    options: UrlopenOptions | undefined,
    onSent: OnSent | null,
  ): Promise<HTTPResponse>;
}
