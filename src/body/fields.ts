// RequestField: one part of a multipart/form-data body (urllib3's
// fields.RequestField), with its part headers and the HTML5-style quoting of
// the `name` and `filename` parameters.
//
// This module only describes parts; the body layout (boundaries, CRLFs) lives
// in multipart.ts and the urlencoded form in form.ts. It does no I/O.

import { InvalidHeader } from '../errors.js';
import { guessMimeType } from './mime.js';

/** What a part can carry: text (sent as UTF-8), a number (its decimal string) or raw bytes. */
export type FieldData = string | number | Uint8Array;

/** A field's value: plain data, a file tuple `[filename, data, mimeType?]` or a ready RequestField. */
export type FieldValue =
  | string
  | number
  | [filename: string, data: string | Uint8Array]
  | [filename: string, data: string | Uint8Array, mimeType: string]
  | RequestField;

/** Fields in order: a record, or an array of `[name, value]` pairs (repeated names allowed). */
export type Fields = Record<string, FieldValue> | Array<[string, FieldValue]>;

/** Part headers: a record or any iterable of `[name, value]` pairs (a Map, an array ...). */
export type PartHeadersInit =
  | Record<string, string | null | undefined>
  | Iterable<readonly [string, string | null | undefined]>;

export interface RequestFieldOptions {
  /** Sent as the `filename` parameter of Content-Disposition; `null`/absent: no filename. */
  filename?: string | null;
  /** Initial part headers (urllib3 copies them; so do we). */
  headers?: PartHeadersInit | null;
}

export interface MakeMultipartOptions {
  /** Disposition type; `form-data` unless given. */
  contentDisposition?: string | null;
  contentType?: string | null;
  contentLocation?: string | null;
}

const DEFAULT_MIME_TYPE = 'application/octet-stream';

// urllib3 renders these three first, in this order, whatever order they were set in.
const SORT_KEYS: readonly string[] = ['Content-Disposition', 'Content-Type', 'Content-Location'];

// RFC 5322 field-name: printable ASCII except the colon.
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
// A CR or LF would end the part header early and let a value inject headers or body bytes.
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

/**
 * Formats one Content-Disposition parameter as `name="value"` the way the
 * WHATWG HTML standard (and urllib3 v2, browsers and curl) do: only LF, CR and
 * `"` are percent-encoded; everything else, non-ASCII included, is kept as is
 * (the header block is sent as UTF-8). Backslashes are not escaped: receivers
 * following the HTML standard do not unescape them.
 */
export function formatMultipartHeaderParam(name: string, value: string): string {
  return `${name}="${value.replace(/[\n\r"]/g, escapeParamChar)}"`;
}

function escapeParamChar(ch: string): string {
  return ch === '\n' ? '%0A' : ch === '\r' ? '%0D' : '%22';
}

export class RequestField {
  /** The form field name (the `name` parameter). */
  readonly name: string;
  /** The `filename` parameter, or `null` for a plain (non-file) field. */
  readonly filename: string | null;
  /** The part's content. */
  data: FieldData;
  /** Part headers in insertion order; empty values are not rendered. */
  headers: Record<string, string>;

  constructor(name: string, data: FieldData, options: RequestFieldOptions = {}) {
    checkOptions(options, ['filename', 'headers'], 'RequestField');
    if (typeof name !== 'string')
      throw new TypeError(`RequestField name must be a string, got ${typeName(name)}`);
    checkData(data, name);
    const filename = options.filename ?? null;
    if (filename !== null && typeof filename !== 'string') {
      throw new TypeError(`RequestField filename must be a string or null, got ${typeName(filename)}`);
    }
    this.name = name;
    this.filename = filename;
    this.data = data;
    this.headers = {};
    if (options.headers) {
      const entries = isIterable(options.headers) ? options.headers : Object.entries(options.headers);
      for (const [key, value] of entries) {
        if (value !== null && value !== undefined) this.headers[key] = String(value);
      }
    }
  }

  /**
   * Builds a multipart-ready field from the old-style value forms: plain data,
   * `[filename, data]` (MIME type guessed from the filename's extension,
   * falling back to application/octet-stream) or `[filename, data, mimeType]`.
   * A RequestField value is returned as it is (its own name is kept).
   */
  static fromTuples(fieldname: string, value: FieldValue): RequestField {
    if (value instanceof RequestField) return value;
    let field: RequestField;
    let contentType: string | null = null;
    if (Array.isArray(value)) {
      const tuple = value as unknown[];
      if (tuple.length !== 2 && tuple.length !== 3) {
        throw new TypeError(
          `field '${fieldname}': a file tuple is [filename, data] or [filename, data, mimeType], got ${tuple.length} items`,
        );
      }
      const [filename, data, mimeType] = tuple;
      if (typeof filename !== 'string') {
        throw new TypeError(`field '${fieldname}': the filename must be a string, got ${typeName(filename)}`);
      }
      if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
        throw new TypeError(
          `field '${fieldname}': file data must be a string or a Uint8Array, got ${typeName(data)}`,
        );
      }
      if (tuple.length === 3) {
        if (typeof mimeType !== 'string') {
          throw new TypeError(
            `field '${fieldname}': the MIME type must be a string, got ${typeName(mimeType)}`,
          );
        }
        contentType = mimeType;
      } else {
        // urllib3 only guesses from a non-empty filename; an empty one gets the default.
        contentType = (filename && guessMimeType(filename)) || DEFAULT_MIME_TYPE;
      }
      field = new RequestField(fieldname, data, { filename });
    } else {
      field = new RequestField(fieldname, value as FieldData);
    }
    field.makeMultipart({ contentType });
    return field;
  }

  /**
   * Sets Content-Disposition (`form-data; name="..."; filename="..."`),
   * Content-Type and Content-Location, replacing earlier values; an absent
   * type or location removes that header, as urllib3 does.
   */
  makeMultipart(options: MakeMultipartOptions = {}): void {
    checkOptions(options, ['contentDisposition', 'contentType', 'contentLocation'], 'makeMultipart');
    let disposition = `${options.contentDisposition || 'form-data'}; ${formatMultipartHeaderParam('name', this.name)}`;
    if (this.filename !== null) disposition += `; ${formatMultipartHeaderParam('filename', this.filename)}`;
    this.headers['Content-Disposition'] = disposition;
    setOrDelete(this.headers, 'Content-Type', options.contentType);
    setOrDelete(this.headers, 'Content-Location', options.contentLocation);
  }

  /**
   * The part's header block: one `Name: value` line per non-empty header
   * (Content-Disposition, Content-Type, Content-Location first), each ending in
   * CRLF, then the blank line that separates it from the data.
   * Throws InvalidHeader for a malformed name or a value containing CR, LF or NUL.
   */
  renderHeaders(): string {
    const lines: string[] = [];
    for (const key of SORT_KEYS) {
      const value = Object.hasOwn(this.headers, key) ? this.headers[key] : undefined;
      if (value) lines.push(renderLine(key, value));
    }
    for (const [key, value] of Object.entries(this.headers)) {
      if (value && !SORT_KEYS.includes(key)) lines.push(renderLine(key, value));
    }
    lines.push('\r\n');
    return lines.join('\r\n');
  }
}

function renderLine(name: string, value: string): string {
  if (!HEADER_NAME.test(name)) {
    throw new InvalidHeader(`Invalid multipart part header name ${JSON.stringify(name)}`);
  }
  if (FORBIDDEN_IN_VALUE.test(value)) {
    throw new InvalidHeader(
      `Invalid multipart part header value for ${name}: ${JSON.stringify(value)} (CR, LF and NUL are not allowed)`,
    );
  }
  return `${name}: ${value}`;
}

function setOrDelete(headers: Record<string, string>, name: string, value: string | null | undefined): void {
  if (value === null || value === undefined) delete headers[name];
  else headers[name] = value;
}

function checkData(data: unknown, name: string): void {
  if (typeof data === 'string' || data instanceof Uint8Array) return;
  if (typeof data === 'number') {
    if (!Number.isFinite(data)) throw new TypeError(`field '${name}': ${data} is not a finite number`);
    return;
  }
  throw new TypeError(
    `field '${name}': data must be a string, a number or a Uint8Array, got ${typeName(data)}`,
  );
}

function isIterable(value: object): value is Iterable<readonly [string, string | null | undefined]> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

function checkOptions(options: object, allowed: readonly string[], where: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${where}: options must be an object, got ${typeName(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new TypeError(`${where}: unknown option '${key}'`);
  }
}

/** @internal A short description of a value's type for error messages (`null`, `Array`, `Map`, `number` ...). */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object' && typeof value !== 'function') return typeof value;
  const ctor = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof ctor?.name === 'string' && ctor.name ? ctor.name : 'object';
}
