// HTTP/3 and QPACK error codes (RFC 9114 section 8.1, RFC 9204 section 6) and
// the errors of the library that carry them. Sans-IO: the protocol code throws
// H3ConnectionError (the peer broke a rule of the connection: close it with
// that code) or H3StreamError (one request stream is broken: reset it); both
// are ProtocolErrors, so callers above see the library's own error tree
// (docs/api.md section 13). `peerResetError` turns a code the server reset a
// stream with into the error a request fails with, with the facts the retry
// rules read: H3_REQUEST_REJECTED means the request was not processed, like
// HTTP/2's REFUSED_STREAM (docs/api.md section 9).

import { type ErrorOptions, markUnprocessed, ProtocolError } from '../../errors.js';

export const H3_NO_ERROR = 0x100;
export const H3_GENERAL_PROTOCOL_ERROR = 0x101;
export const H3_INTERNAL_ERROR = 0x102;
export const H3_STREAM_CREATION_ERROR = 0x103;
export const H3_CLOSED_CRITICAL_STREAM = 0x104;
export const H3_FRAME_UNEXPECTED = 0x105;
export const H3_FRAME_ERROR = 0x106;
export const H3_EXCESSIVE_LOAD = 0x107;
export const H3_ID_ERROR = 0x108;
export const H3_SETTINGS_ERROR = 0x109;
export const H3_MISSING_SETTINGS = 0x10a;
export const H3_REQUEST_REJECTED = 0x10b;
export const H3_REQUEST_CANCELLED = 0x10c;
export const H3_REQUEST_INCOMPLETE = 0x10d;
export const H3_MESSAGE_ERROR = 0x10e;
export const H3_CONNECT_ERROR = 0x10f;
export const H3_VERSION_FALLBACK = 0x110;
export const QPACK_DECOMPRESSION_FAILED = 0x200;
export const QPACK_ENCODER_STREAM_ERROR = 0x201;
export const QPACK_DECODER_STREAM_ERROR = 0x202;

const NAMES: ReadonlyMap<number, string> = new Map([
  [H3_NO_ERROR, 'H3_NO_ERROR'],
  [H3_GENERAL_PROTOCOL_ERROR, 'H3_GENERAL_PROTOCOL_ERROR'],
  [H3_INTERNAL_ERROR, 'H3_INTERNAL_ERROR'],
  [H3_STREAM_CREATION_ERROR, 'H3_STREAM_CREATION_ERROR'],
  [H3_CLOSED_CRITICAL_STREAM, 'H3_CLOSED_CRITICAL_STREAM'],
  [H3_FRAME_UNEXPECTED, 'H3_FRAME_UNEXPECTED'],
  [H3_FRAME_ERROR, 'H3_FRAME_ERROR'],
  [H3_EXCESSIVE_LOAD, 'H3_EXCESSIVE_LOAD'],
  [H3_ID_ERROR, 'H3_ID_ERROR'],
  [H3_SETTINGS_ERROR, 'H3_SETTINGS_ERROR'],
  [H3_MISSING_SETTINGS, 'H3_MISSING_SETTINGS'],
  [H3_REQUEST_REJECTED, 'H3_REQUEST_REJECTED'],
  [H3_REQUEST_CANCELLED, 'H3_REQUEST_CANCELLED'],
  [H3_REQUEST_INCOMPLETE, 'H3_REQUEST_INCOMPLETE'],
  [H3_MESSAGE_ERROR, 'H3_MESSAGE_ERROR'],
  [H3_CONNECT_ERROR, 'H3_CONNECT_ERROR'],
  [H3_VERSION_FALLBACK, 'H3_VERSION_FALLBACK'],
  [QPACK_DECOMPRESSION_FAILED, 'QPACK_DECOMPRESSION_FAILED'],
  [QPACK_ENCODER_STREAM_ERROR, 'QPACK_ENCODER_STREAM_ERROR'],
  [QPACK_DECODER_STREAM_ERROR, 'QPACK_DECODER_STREAM_ERROR'],
]);

/** A readable name for an error code: 'H3_FRAME_ERROR', or the number in hex for others. */
export function h3CodeName(code: number): string {
  const name = NAMES.get(code);
  if (name !== undefined) return name;
  // Reserved codes (0x1f * N + 0x21) exist to exercise unknown-code handling (RFC 9114 section 8.1).
  if (code >= 0x21 && (code - 0x21) % 0x1f === 0) return `reserved code 0x${code.toString(16)}`;
  return `0x${code.toString(16)}`;
}

/** The peer broke a rule of the connection: the connection is closed with `h3Code`. */
export class H3ConnectionError extends ProtocolError {
  readonly h3Code: number;
  constructor(h3Code: number, message: string, options?: ErrorOptions) {
    super(`HTTP/3 connection error ${h3CodeName(h3Code)}: ${message}`, options);
    this.h3Code = h3Code;
  }
}

/** One request stream is malformed: that stream is reset with `h3Code`, the connection lives on. */
export class H3StreamError extends ProtocolError {
  readonly h3Code: number;
  constructor(h3Code: number, message: string, options?: ErrorOptions) {
    super(`HTTP/3 stream error ${h3CodeName(h3Code)}: ${message}`, options);
    this.h3Code = h3Code;
  }
}

/**
 * The error a request fails with when the server resets its stream with
 * `code` (RESET_STREAM or STOP_SENDING before a response). `where` names the
 * connection and the URL for the message.
 */
export function peerResetError(code: number, where: string, responseStarted: boolean): ProtocolError {
  if (code === H3_REQUEST_REJECTED && !responseStarted) {
    // RFC 9114 section 4.1.1.1: the server did not process any of it.
    return markUnprocessed(
      new ProtocolError(
        `${where}: the server rejected the request (H3_REQUEST_REJECTED); the request was not processed`,
      ),
    );
  }
  return new ProtocolError(`${where}: the server reset the stream with ${h3CodeName(code)}`);
}
