// multipart/form-data bodies (RFC 7578), laid out exactly as urllib3's
// filepost.encode_multipart_formdata does:
//
//   --BOUNDARY\r\n <part headers> \r\n\r\n <data> \r\n ... --BOUNDARY--\r\n
//
// The body is built in memory as one Buffer (urllib3 does the same); streaming
// file parts is not supported here.

import { randomBytes } from 'node:crypto';
import { type FieldValue, type Fields, RequestField, typeName } from './fields.js';

export interface EncodedMultipart {
  body: Buffer;
  /** `multipart/form-data; boundary=...`, for the request's Content-Type. */
  contentType: string;
}

/** A fresh random boundary: 32 lowercase hex characters (128 bits), as urllib3's. */
export function chooseBoundary(): string {
  return randomBytes(16).toString('hex');
}

// RFC 2046 section 5.1.1: 1 to 70 characters; we accept printable ASCII so a
// boundary can never break the Content-Type header or the body's framing.
const VALID_BOUNDARY = /^[\x20-\x7e]{1,70}$/;

/**
 * Encodes `fields` as multipart/form-data. `fields` is a record, an array (or
 * any iterable, e.g. a Map) of `[name, value]` pairs, RequestFields, or a mix
 * of pairs and RequestFields. Strings are sent as UTF-8, numbers as their
 * decimal string, bytes as they are.
 */
export function encodeMultipartFormdata(
  fields: Fields | Iterable<RequestField | [string, FieldValue]>,
  boundary?: string,
): EncodedMultipart {
  if (boundary === undefined || boundary === null) {
    boundary = chooseBoundary();
  } else if (typeof boundary !== 'string' || !VALID_BOUNDARY.test(boundary)) {
    throw new TypeError(
      `multipart boundary must be 1 to 70 printable ASCII characters, got ${
        typeof boundary === 'string' ? JSON.stringify(boundary) : typeName(boundary)
      }`,
    );
  }
  const delimiter = Buffer.from(`--${boundary}\r\n`, 'latin1');
  const crlf = Buffer.from('\r\n', 'latin1');
  const pieces: Buffer[] = [];
  for (const field of iterFieldObjects(fields)) {
    pieces.push(delimiter, Buffer.from(field.renderHeaders(), 'utf8'), dataBytes(field.data), crlf);
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}

function dataBytes(data: unknown): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (typeof data === 'number') return Buffer.from(String(data), 'latin1');
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  throw new TypeError(
    `multipart field data must be a string, a number or a Uint8Array, got ${typeName(data)}`,
  );
}

/** Every field as a RequestField, in order. */
export function* iterFieldObjects(
  fields: Fields | Iterable<RequestField | [string, FieldValue]>,
): Generator<RequestField> {
  if (fields === null || typeof fields !== 'object') {
    throw new TypeError(
      `fields must be a record or an iterable of [name, value] pairs, got ${typeName(fields)}`,
    );
  }
  const entries: Iterable<unknown> =
    typeof (fields as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
      ? (fields as Iterable<unknown>)
      : Object.entries(fields);
  for (const entry of entries) {
    if (entry instanceof RequestField) {
      yield entry;
    } else if (Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string') {
      yield RequestField.fromTuples(entry[0], entry[1] as FieldValue);
    } else {
      throw new TypeError(
        `each field must be a [name, value] pair or a RequestField, got ${typeName(entry)}`,
      );
    }
  }
}
