// The response side of one HTTP/3 request stream, sans-IO (RFC 9114
// section 4.1): frames in, a response out. A response is zero or more
// interim (1xx) heads, one final head, DATA, and optionally a trailer
// section, then the end of the stream. Anything else in that order is the
// connection error H3_FRAME_UNEXPECTED; a malformed head (section 4.1.2:
// upper-case names, unknown or repeated pseudo-headers, connection-specific
// fields, a bad :status) is the stream error H3_MESSAGE_ERROR. Head and
// trailer sections are bounded by maxHeaderSize, encoded and decoded.
// Frames with no place on a request stream (SETTINGS, GOAWAY, MAX_PUSH_ID,
// CANCEL_PUSH) are H3_FRAME_UNEXPECTED; PUSH_PROMISE is H3_ID_ERROR, since
// this client never allows pushes (no MAX_PUSH_ID).

import {
  H3_EXCESSIVE_LOAD,
  H3_FRAME_UNEXPECTED,
  H3_ID_ERROR,
  H3_MESSAGE_ERROR,
  H3ConnectionError,
  H3StreamError,
} from './error-codes.js';
import { FrameReader } from './frame-reader.js';
import { FRAME_HEADERS, FRAME_PUSH_PROMISE } from './frames.js';
import { decodeFieldSection } from './qpack-decoder.js';

export interface ResponseReaderHandlers {
  /** An interim 1xx head (never 101, which HTTP/3 does not have). */
  onInterim(status: number, headers: string[]): void;
  /** The final head; `headers` are flat [name, value, ...] pairs without :status. */
  onHead(status: number, headers: string[]): void;
  /** A piece of the body. */
  onData(chunk: Buffer): void;
  /** The trailer section. */
  onTrailers(trailers: string[]): void;
}

/** Where the response is, in the order section 4.1 allows. */
export type ResponsePhase = 'head' | 'body' | 'trailers' | 'ended';

/** Fields that are connection-specific, hence malformed in HTTP/3 (section 4.2). */
const CONNECTION_SPECIFIC = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
]);

function malformed(what: string): H3StreamError {
  return new H3StreamError(H3_MESSAGE_ERROR, `malformed response: ${what}`);
}

function checkNames(fields: string[], from: number, what: string): void {
  for (let i = from; i < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length === 0) throw malformed(`an empty field name in the ${what}`);
    if (name.charCodeAt(0) === 58 /* : */)
      throw malformed(`pseudo-header ${JSON.stringify(name)} in the ${what}`);
    if (name !== name.toLowerCase())
      throw malformed(`upper-case field name ${JSON.stringify(name)} in the ${what}`);
    if (CONNECTION_SPECIFIC.has(name)) throw malformed(`connection-specific field ${JSON.stringify(name)}`);
  }
}

export class ResponseReader {
  private phaseNow: ResponsePhase = 'head';
  private readonly frames: FrameReader;
  /** Body bytes received so far. */
  received = 0;

  constructor(
    private readonly handlers: ResponseReaderHandlers,
    private readonly maxHeaderSize: number,
  ) {
    this.frames = new FrameReader(
      {
        onDataFrame: () => {
          if (this.phaseNow !== 'body') {
            throw new H3ConnectionError(
              H3_FRAME_UNEXPECTED,
              this.phaseNow === 'head' ? 'DATA before the response head' : 'DATA after the trailer section',
            );
          }
        },
        onData: (chunk) => {
          this.received += chunk.length;
          this.handlers.onData(chunk);
        },
        onFrame: (type, payload) => this.onFrame(type, payload),
        tooLarge: (type, length) =>
          new H3StreamError(
            H3_EXCESSIVE_LOAD,
            `${type === FRAME_HEADERS && this.phaseNow !== 'head' ? 'Trailer section' : 'Response header section'} of ${length} bytes exceeds the limit of ${this.maxHeaderSize} bytes (maxHeaderSize)`,
          ),
      },
      // Other collected frames are refused once read, whatever their size (see onFrame).
      (type) => (type === FRAME_HEADERS ? this.maxHeaderSize : 16384),
    );
  }

  get phase(): ResponsePhase {
    return this.phaseNow;
  }

  /** Bytes of the stream, as they arrive. */
  push(chunk: Buffer): void {
    this.frames.push(chunk);
  }

  /**
   * The stream ended (FIN). Returns true when a complete response was read;
   * false when the stream ended before the final head (nothing to deliver).
   */
  end(): boolean {
    this.frames.end();
    if (this.phaseNow === 'head') return false;
    this.phaseNow = 'ended';
    return true;
  }

  private onFrame(type: number, payload: Buffer): void {
    if (type === FRAME_PUSH_PROMISE) {
      throw new H3ConnectionError(
        H3_ID_ERROR,
        'PUSH_PROMISE received, but this client allows no server push',
      );
    }
    if (type !== FRAME_HEADERS) {
      throw new H3ConnectionError(
        H3_FRAME_UNEXPECTED,
        `frame type 0x${type.toString(16)} is not allowed on a request stream`,
      );
    }
    switch (this.phaseNow) {
      case 'head':
        this.onHeadSection(payload);
        return;
      case 'body': {
        const trailers = decodeFieldSection(payload, this.maxHeaderSize, 'Trailer section');
        checkNames(trailers, 0, 'trailer section');
        this.phaseNow = 'trailers';
        this.handlers.onTrailers(trailers);
        return;
      }
      default:
        throw new H3ConnectionError(H3_FRAME_UNEXPECTED, 'HEADERS after the trailer section');
    }
  }

  private onHeadSection(payload: Buffer): void {
    const fields = decodeFieldSection(payload, this.maxHeaderSize, 'Response header section');
    // Section 4.3: pseudo-headers first; a response has exactly one, :status.
    if (fields[0] !== ':status') {
      throw malformed(
        fields.length === 0 || fields[0]!.charCodeAt(0) !== 58
          ? 'no :status'
          : `pseudo-header ${JSON.stringify(fields[0])}`,
      );
    }
    const text = fields[1]!;
    if (!/^[1-5][0-9][0-9]$/.test(text)) throw malformed(`:status ${JSON.stringify(text)}`);
    const status = Number(text);
    checkNames(fields, 2, 'response head');
    const headers = fields.slice(2);
    if (status >= 200) {
      this.phaseNow = 'body';
      this.handlers.onHead(status, headers);
      return;
    }
    // Section 4.5: HTTP/3 has no 101 Switching Protocols.
    if (status === 101) throw malformed('101 Switching Protocols, which HTTP/3 does not have');
    this.handlers.onInterim(status, headers);
  }
}
