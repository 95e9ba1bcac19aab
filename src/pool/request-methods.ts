// RequestMethods: the request()/requestEncodeUrl()/requestEncodeBody()
// layer shared by pools and managers, as in urllib3. It turns `fields` and
// `json` into a query string or a body and hands everything to urlopen(),
// which subclasses implement. No I/O happens here.

import type { Fields } from '../body/fields.js';
import { appendQuery, encodeUrlencoded } from '../body/form.js';
import { encodeJson } from '../body/json.js';
import { encodeMultipartFormdata } from '../body/multipart.js';
import { HTTPHeaderDict, type HeadersInit } from '../headers.js';
import type { HTTPResponse } from '../response.js';
import { checkOptions } from '../options.js';
import {
  copyUrlopenOptions,
  ENCODE_BODY_OPTIONS,
  EncodeBodyArgs,
  REQUEST_OPTIONS,
  URLOPEN_OPTIONS,
  UrlopenArgs,
  type UrlopenOptions,
} from './urlopen-options.js';

export interface RequestOptions extends UrlopenOptions {
  fields?: Fields | null;
  json?: unknown;
  encodeMultipart?: boolean;
  multipartBoundary?: string | null;
}

/** Methods whose `fields` go into the query string (urllib3's _encode_url_methods). */
const ENCODE_URL_METHODS = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS']);

function hasContentType(headers: HeadersInit): boolean {
  if (headers instanceof HTTPHeaderDict) return headers.has('content-type');
  return new HTTPHeaderDict(headers).has('content-type');
}

export abstract class RequestMethods {
  /** Default headers of this pool or manager. */
  headers: HeadersInit;

  constructor(headers?: HeadersInit | null) {
    this.headers = headers ?? {};
  }

  abstract urlopen(method: string, url: string, options?: UrlopenOptions): Promise<HTTPResponse>;

  /**
   * Make a request, encoding `fields` (query string for GET/HEAD/DELETE/OPTIONS,
   * body otherwise) or `json` as urllib3's RequestMethods.request does.
   */
  request(method: string, url: string, options?: RequestOptions): Promise<HTTPResponse> {
    if (options === undefined) return this.urlopen(method, url);
    try {
      checkOptions('request', options, REQUEST_OPTIONS);
    } catch (err) {
      return Promise.reject(err);
    }
    const json = options.json;
    const body = options.body;
    if (json !== undefined && body !== undefined && body !== null) {
      return Promise.reject(
        new TypeError(
          "request got values for both 'body' and 'json' parameters which are mutually exclusive",
        ),
      );
    }
    // The options are copied by hand into an object of fixed shape (not with
    // rest destructuring and spreads, whose shapes vary with the caller's keys).
    const encodeUrl = ENCODE_URL_METHODS.has(method.toUpperCase());
    let kw: UrlopenArgs;
    if (encodeUrl) {
      kw = copyUrlopenOptions(new UrlopenArgs(), options);
    } else {
      const b = copyUrlopenOptions(new EncodeBodyArgs(), options);
      b.encodeMultipart = options.encodeMultipart ?? true;
      b.multipartBoundary = options.multipartBoundary ?? null;
      kw = b;
    }
    if (json !== undefined) {
      let headers: HTTPHeaderDict;
      try {
        headers = new HTTPHeaderDict(kw.headers ?? this.headers);
        if (!headers.has('content-type')) headers.set('Content-Type', 'application/json');
        kw.body = encodeJson(json);
      } catch (err) {
        return Promise.reject(err);
      }
      kw.headers = headers;
    }
    const fields = options.fields ?? null;
    try {
      if (encodeUrl) return this.requestEncodeUrl(method, url, fields, kw);
      return this.requestEncodeBody(method, url, fields, kw as EncodeBodyArgs);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** `fields` become the query string. */
  requestEncodeUrl(
    method: string,
    url: string,
    fields: Fields | null,
    options?: UrlopenOptions,
  ): Promise<HTTPResponse> {
    // What request() passes was checked there (checkOptions passes it at once);
    // a direct caller's options are checked here, as urlopen() would.
    try {
      checkOptions('urlopen', options, URLOPEN_OPTIONS);
    } catch (err) {
      return Promise.reject(err);
    }
    const kw = new UrlopenArgs();
    if (options !== undefined && options !== null) copyUrlopenOptions(kw, options);
    if (kw.headers === undefined || kw.headers === null) kw.headers = this.headers;
    const target = fields ? appendQuery(url, fields) : url;
    return this.urlopen(method, target, kw);
  }

  /** `fields` become a multipart (default) or urlencoded body. */
  requestEncodeBody(
    method: string,
    url: string,
    fields: Fields | null,
    options?: UrlopenOptions & { encodeMultipart?: boolean; multipartBoundary?: string | null },
  ): Promise<HTTPResponse> {
    try {
      checkOptions('urlopen', options, ENCODE_BODY_OPTIONS);
    } catch (err) {
      return Promise.reject(err);
    }
    const kw = new UrlopenArgs();
    let encodeMultipart: boolean | undefined = true;
    let multipartBoundary: string | null | undefined = null;
    if (options !== undefined && options !== null) {
      copyUrlopenOptions(kw, options);
      // Defaults for absent (undefined) values only, as destructuring defaults.
      if (options.encodeMultipart !== undefined) encodeMultipart = options.encodeMultipart;
      if (options.multipartBoundary !== undefined) multipartBoundary = options.multipartBoundary;
    }
    const headers = new HTTPHeaderDict(kw.headers ?? this.headers);
    if (fields) {
      if (kw.body !== undefined && kw.body !== null) {
        return Promise.reject(
          new TypeError("request got values for both 'fields' and 'body', can only specify one."),
        );
      }
      let body: Buffer | string;
      let contentType: string;
      if (encodeMultipart) {
        const enc = encodeMultipartFormdata(fields, multipartBoundary ?? undefined);
        body = enc.body;
        contentType = enc.contentType;
      } else {
        body = encodeUrlencoded(fields);
        contentType = 'application/x-www-form-urlencoded';
      }
      kw.body = body;
      if (!hasContentType(headers)) headers.set('Content-Type', contentType);
    }
    kw.headers = headers;
    return this.urlopen(method, url, kw);
  }
}
