// Sans-IO HTTP/1.1 response parser (client side). Bytes go in through feed(),
// events come out through handlers: a head for every response (1xx interim
// ones too), body chunks with the chunked framing removed, trailers, then
// completion. It never touches sockets, timers or streams; the connection
// layer owns those and decides what to do with leftover bytes.
//
// Framing follows RFC 9112: status line (section 4), field lines (section 5,
// obs-fold rejected per 5.2), message body length (section 6.3, including
// "Transfer-Encoding wins over Content-Length" and the no-body cases for HEAD,
// 1xx, 204, 304 and a 2xx answer to CONNECT), chunked coding (section 7.1,
// extensions ignored, trailers per 7.1.2). Bare LF line endings are accepted
// (section 2.2 allows it). It does not decode Content-Encoding and does not
// interpret any header beyond what framing and connection reuse need (the
// values of those, Content-Length, Transfer-Encoding and Connection, are
// read by framing-fields.ts).
//
// Speed matters here: lines are found with Buffer#indexOf; the complete lines
// of a head are decoded as latin1 with one toString and names and values are
// string slices of it; header names are checked with a byte loop over a token
// table, NUL and stray CR with string search; body chunks are subarrays of the
// caller's buffers. A line split across feed() calls is collected in a
// growable pending buffer, so no byte is scanned twice however the input is cut.

import { IncompleteRead, InvalidChunkLength, ProtocolError } from '../../errors.js';
import {
  CONNECTION_CLOSE,
  CONNECTION_KEEP_ALIVE,
  connectionOptions,
  lastCodingIsChunked,
  parseContentLength,
} from './framing-fields.js';

export type BodyKind = 'none' | 'length' | 'chunked' | 'close';

export interface ResponseHead {
  /** HTTP/1.0 or HTTP/1.1. */
  version: 10 | 11;
  status: number;
  /** Reason phrase; may be empty. */
  reason: string;
  /** Flat raw pairs [name0, value0, name1, value1, ...]; name case kept, values trimmed of OWS. */
  headers: string[];
  /** Parsed Content-Length; null when absent or when Transfer-Encoding overrides it. */
  contentLength: number | null;
  bodyKind: BodyKind;
  /** Whether the connection may be reused after this message, as far as the headers say. */
  keepAlive: boolean;
  /** Status 101: the bytes after this head belong to another protocol. */
  upgrade: boolean;
}

export interface H1ParserHandlers {
  /** Every head, interim (1xx) ones included. */
  onHead(head: ResponseHead): void;
  /** Body bytes with chunked framing removed; zero-copy views of the fed buffers. */
  onBody(chunk: Buffer): void;
  /** Trailer fields as flat pairs; only called when a chunked body had some. */
  onTrailers(trailers: string[]): void;
  /** The final message is complete. */
  onComplete(): void;
}

export interface H1ParserOptions {
  /** Limit for the status line plus header section (and for a chunk-size line or trailer section). Default 65536. */
  maxHeaderSize?: number;
  /** Most field lines in a head, and in a trailer section. Default 100, as urllib3 (http.client). */
  maxHeaderFields?: number;
}

export type H1ParserState = 'idle' | 'head' | 'body' | 'done' | 'upgraded' | 'error';

const DEFAULT_MAX_HEADER_SIZE = 65536;
const DEFAULT_MAX_HEADER_FIELDS = 100;

// Internal states; finer than the public ones so the hot loop switches on small ints.
const S_IDLE = 0;
const S_HEAD = 1;
const S_BODY_LENGTH = 2;
const S_BODY_CLOSE = 3;
const S_CHUNK_SIZE = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_DATA_CR = 6; // after chunk data: CR or LF expected
const S_CHUNK_DATA_LF = 7; // after chunk data and CR: LF expected
const S_TRAILERS = 8;
const S_DONE = 9;
const S_UPGRADED = 10;
const S_ERROR = 11;

const PUBLIC_STATE: readonly H1ParserState[] = [
  'idle',
  'head',
  'body',
  'body',
  'body',
  'body',
  'body',
  'body',
  'body',
  'done',
  'upgraded',
  'error',
];

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;
const SEMICOLON = 0x3b;

// RFC 9110 section 5.6.2 tchar.
const TOKEN = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TOKEN[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TOKEN[ch.charCodeAt(0)] = 1;

// Hex digit value + 1, so 0 means "not a hex digit".
const HEX = new Uint8Array(256);
for (let c = 0; c < 10; c++) HEX[0x30 + c] = c + 1;
for (let c = 0; c < 6; c++) {
  HEX[0x41 + c] = c + 11;
  HEX[0x61 + c] = c + 11;
}

const EMPTY = Buffer.alloc(0);
// A pending buffer grown past this is dropped between messages instead of kept.
const KEEP_PENDING_CAPACITY = 16384;

/** A short, escaped excerpt of raw bytes for error messages. */
function preview(buf: Buffer, start: number, end: number): string {
  const cut = Math.min(end, start + 64);
  const text = JSON.stringify(buf.toString('latin1', start, cut));
  return cut < end ? `${text}...` : text;
}

export class H1ResponseParser {
  private readonly handlers: H1ParserHandlers;
  private readonly maxHeaderSize: number;
  private readonly maxHeaderFields: number;

  private s: number = S_IDLE;
  private method = 'GET';

  // Partial line carried between feed() calls.
  private pending: Buffer = EMPTY;
  private pendingLen = 0;
  // The line takeLine() found last (terminator stripped) and its raw size.
  private lineBuf: Buffer = EMPTY;
  private lineStart = 0;
  private lineEnd = 0;
  private lineSize = 0;
  // Bytes of the head (or trailer) section seen so far, against maxHeaderSize.
  private sectionBytes = 0;
  // LF offsets found by headLines(), reused across calls.
  private readonly lineEnds: number[] = [];

  // Current head.
  private sawStatusLine = false;
  private version: 10 | 11 = 11;
  private status = 0;
  private reason = '';
  private headers: string[] = [];
  private contentLength: number | null = null;
  private sawTransferEncoding = false;
  private chunked = false;
  private connectionClose = false;
  private connectionKeepAlive = false;

  // Body.
  private remaining = 0;
  private received = 0;
  private trailers: string[] = [];

  constructor(handlers: H1ParserHandlers, options: H1ParserOptions = {}) {
    const max = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    if (!Number.isSafeInteger(max) || max <= 0) {
      throw new RangeError(`maxHeaderSize must be a positive integer, got ${String(max)}`);
    }
    const fields = options.maxHeaderFields ?? DEFAULT_MAX_HEADER_FIELDS;
    if (!Number.isSafeInteger(fields) || fields <= 0) {
      throw new RangeError(`maxHeaderFields must be a positive integer, got ${String(fields)}`);
    }
    this.handlers = handlers;
    this.maxHeaderSize = max;
    this.maxHeaderFields = fields;
  }

  get state(): H1ParserState {
    return PUBLIC_STATE[this.s]!;
  }

  /** Body bytes received so far for the current message (after de-chunking). */
  get bodyBytes(): number {
    return this.received;
  }

  /** Prepare for the response to a request with this method (HEAD -> no body whatever the headers say). Resets state. */
  start(method: string): void {
    this.method = method;
    this.s = S_IDLE;
    this.pendingLen = 0;
    if (this.pending.length > KEEP_PENDING_CAPACITY) this.pending = EMPTY;
    this.lineBuf = EMPTY;
    this.received = 0;
    this.remaining = 0;
    this.trailers = [];
    this.resetHead();
  }

  /**
   * Feed bytes. Returns how many were consumed: all of them, unless the
   * message completed (or a 101 head ended) inside this buffer, in which case
   * the offset just after it; the rest belongs to the next message or to the
   * upgraded protocol. Throws ProtocolError (or InvalidChunkLength) on
   * malformed input, after which the parser stays dead until start().
   */
  feed(data: Buffer): number {
    const s = this.s;
    if (s === S_DONE || s === S_UPGRADED) return 0;
    if (s === S_ERROR) throw new ProtocolError('HTTP/1.1 parser used after a parse error');
    try {
      return this.run(data);
    } catch (err) {
      this.s = S_ERROR;
      this.pendingLen = 0;
      throw err;
    }
  }

  /**
   * The peer closed the connection. Completes a close-delimited body; throws
   * IncompleteRead or ProtocolError when the message was cut short. A no-op
   * when nothing was received yet, or after completion, upgrade or an error.
   */
  finish(): void {
    switch (this.s) {
      case S_IDLE:
      case S_DONE:
      case S_UPGRADED:
      case S_ERROR:
        return;
      case S_BODY_CLOSE:
        this.complete();
        return;
    }
    const err = this.truncationError();
    this.s = S_ERROR;
    this.pendingLen = 0;
    throw err;
  }

  private truncationError(): ProtocolError {
    switch (this.s) {
      case S_HEAD:
        return new ProtocolError(
          this.sawStatusLine
            ? 'Connection closed while reading the response headers'
            : 'Connection closed before the status line was received',
        );
      case S_BODY_LENGTH:
        return new IncompleteRead(this.received, this.remaining);
      default:
        // Inside a chunked body the total is unknown.
        return new IncompleteRead(this.received, null);
    }
  }

  private resetHead(): void {
    this.sectionBytes = 0;
    this.sawStatusLine = false;
    this.version = 11;
    this.status = 0;
    this.reason = '';
    this.headers = [];
    this.contentLength = null;
    this.sawTransferEncoding = false;
    this.chunked = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
  }

  private run(data: Buffer): number {
    const len = data.length;
    let pos = 0;
    if (this.s === S_IDLE) {
      if (len === 0) return 0;
      this.s = S_HEAD;
    }
    while (pos < len) {
      switch (this.s) {
        case S_HEAD: {
          if (this.pendingLen === 0) {
            const end = this.headLines(data, pos);
            if (end === -1) return len;
            pos = end;
          } else {
            // A line split across feeds: finish it on its own, then back to headLines().
            const next = this.takeLine(data, pos, this.maxHeaderSize - this.sectionBytes);
            if (next === -1) return len;
            if (next === -2) throw this.headTooLarge();
            this.sectionBytes += this.lineSize;
            pos = next;
            const buf = this.lineBuf;
            const start = this.lineStart;
            const str = buf.toString('latin1', start, this.lineEnd);
            if (str.indexOf('\r') !== -1 || str.indexOf('\0') !== -1) {
              throw this.badCharError(str, 0, str.length);
            }
            if (!this.headLine(buf, start, this.lineEnd, str, start)) break;
          }
          // endHead() says whether this buffer's message (or HTTP/1.1 itself) ended.
          if (this.endHead()) return pos;
          break;
        }
        case S_BODY_LENGTH: {
          const avail = len - pos;
          if (avail < this.remaining) {
            this.remaining -= avail;
            this.emit(data, pos, len);
            return len;
          }
          const end = pos + this.remaining;
          this.remaining = 0;
          this.emit(data, pos, end);
          this.complete();
          return end;
        }
        case S_BODY_CLOSE:
          this.emit(data, pos, len);
          return len;
        case S_CHUNK_SIZE: {
          const next = this.takeLine(data, pos, this.maxHeaderSize);
          if (next === -1) return len;
          if (next === -2) {
            const head =
              this.pendingLen > 0
                ? this.pending.toString('latin1', 0, Math.min(this.pendingLen, 64))
                : data.toString('latin1', pos, Math.min(len, pos + 64));
            throw new InvalidChunkLength(
              head,
              `Chunk size line exceeds the limit of ${this.maxHeaderSize} bytes (maxHeaderSize)`,
            );
          }
          pos = next;
          const size = this.chunkSize();
          if (size === 0) {
            this.s = S_TRAILERS;
            this.sectionBytes = 0;
          } else {
            this.remaining = size;
            this.s = S_CHUNK_DATA;
          }
          break;
        }
        case S_CHUNK_DATA: {
          const avail = len - pos;
          if (avail < this.remaining) {
            this.remaining -= avail;
            this.emit(data, pos, len);
            return len;
          }
          const end = pos + this.remaining;
          this.remaining = 0;
          this.emit(data, pos, end);
          pos = end;
          // Fast path: the whole CRLF is here.
          if (pos + 1 < len && data[pos] === CR && data[pos + 1] === LF) {
            pos += 2;
            this.s = S_CHUNK_SIZE;
          } else {
            this.s = S_CHUNK_DATA_CR;
          }
          break;
        }
        case S_CHUNK_DATA_CR: {
          const b = data[pos++];
          if (b === CR) this.s = S_CHUNK_DATA_LF;
          else if (b === LF) this.s = S_CHUNK_SIZE;
          else throw new ProtocolError('Missing CRLF after chunk data');
          break;
        }
        case S_CHUNK_DATA_LF: {
          if (data[pos++] !== LF) throw new ProtocolError('Missing CRLF after chunk data');
          this.s = S_CHUNK_SIZE;
          break;
        }
        case S_TRAILERS: {
          const next = this.takeLine(data, pos, this.maxHeaderSize - this.sectionBytes);
          if (next === -1) return len;
          if (next === -2) {
            throw new ProtocolError(
              `Trailer section exceeds the limit of ${this.maxHeaderSize} bytes (maxHeaderSize)`,
            );
          }
          this.sectionBytes += this.lineSize;
          pos = next;
          if (this.lineStart === this.lineEnd) {
            if (this.trailers.length > 0) this.handlers.onTrailers(this.trailers);
            this.complete();
            return pos;
          }
          // Trailers are rare: one decode per line is fine.
          const str = this.lineBuf.toString('latin1', this.lineStart, this.lineEnd);
          if (str.indexOf('\r') !== -1 || str.indexOf('\0') !== -1) {
            throw this.badCharError(str, 0, str.length);
          }
          this.fieldLine(this.lineBuf, this.lineStart, this.lineEnd, str, this.lineStart, this.trailers);
          if (this.trailers.length > 2 * this.maxHeaderFields) throw this.tooManyFields('trailer section');
          break;
        }
        default:
          // A handler re-entered the parser (say, start() from onComplete); stop here.
          return pos;
      }
    }
    return pos;
  }

  /**
   * Finds the next line from `pos`. Returns the offset after its LF and sets
   * lineBuf/lineStart/lineEnd (CR before LF stripped) and lineSize (raw bytes,
   * terminator included, pending part included); -1 when the line is not
   * complete yet (its bytes are kept); -2 when it would exceed `budget` bytes.
   */
  private takeLine(data: Buffer, pos: number, budget: number): number {
    const lf = data.indexOf(LF, pos);
    if (lf === -1) {
      // The LF still to come counts too, hence >=.
      if (this.pendingLen + (data.length - pos) >= budget) return -2;
      this.appendPending(data, pos, data.length);
      return -1;
    }
    const size = this.pendingLen + (lf + 1 - pos);
    if (size > budget) return -2;
    if (this.pendingLen === 0) {
      this.lineBuf = data;
      this.lineStart = pos;
      this.lineEnd = lf;
    } else {
      // The line stays valid until the next append, and is consumed before that.
      this.appendPending(data, pos, lf);
      this.lineBuf = this.pending;
      this.lineStart = 0;
      this.lineEnd = this.pendingLen;
      this.pendingLen = 0;
    }
    if (this.lineEnd > this.lineStart && this.lineBuf[this.lineEnd - 1] === CR) this.lineEnd--;
    this.lineSize = size;
    return lf + 1;
  }

  private appendPending(data: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n === 0) return;
    const need = this.pendingLen + n;
    if (need > this.pending.length) {
      // Doubling keeps a head arriving one byte at a time linear overall.
      const grown = Buffer.allocUnsafe(Math.max(need, this.pending.length * 2, 256));
      this.pending.copy(grown, 0, 0, this.pendingLen);
      this.pending = grown;
    }
    data.copy(this.pending, this.pendingLen, start, end);
    this.pendingLen = need;
  }

  /**
   * The head path when no partial line is pending: finds every complete line
   * up to the end of the head first, decodes them with a single toString and
   * parses them from that string (slices are far cheaper than one Buffer
   * decode per name and value). Returns the offset after the head when it
   * ended here, else -1 with the trailing partial line kept pending.
   */
  private headLines(data: Buffer, pos: number): number {
    const len = data.length;
    const ends = this.lineEnds;
    let budget = this.maxHeaderSize - this.sectionBytes;
    let statusSeen = this.sawStatusLine;
    let ended = false;
    let n = 0;
    let p = pos;
    for (;;) {
      const lf = data.indexOf(LF, p);
      if (lf === -1) break;
      budget -= lf + 1 - p;
      if (budget < 0) throw this.headTooLarge();
      ends[n++] = lf;
      const empty = lf === p || (lf === p + 1 && data[p] === CR);
      p = lf + 1;
      // Mirrors headLine(): empty lines before the status line are skipped.
      if (!empty) statusSeen = true;
      else if (statusSeen) {
        ended = true;
        break;
      }
    }
    if (!ended) {
      // The LF still to come counts too, hence >=.
      if (len - p >= budget) throw this.headTooLarge();
      this.appendPending(data, p, len);
    }
    this.sectionBytes = this.maxHeaderSize - budget;
    if (n === 0) return -1;

    const str = data.toString('latin1', pos, p);
    // NUL or a CR that does not end its line is invalid anywhere in a head
    // (name, value or reason); find them with string search, not byte loops.
    // nextCr only moves forward, so bare-LF heads are not rescanned.
    let nextCr = str.indexOf('\r');
    if (nextCr === -1) nextCr = str.length;
    let nextNul = str.indexOf('\0');
    if (nextNul === -1) nextNul = str.length;
    let start = pos;
    for (let k = 0; k < n; k++) {
      const lf = ends[k]!;
      const end = lf > start && data[lf - 1] === CR ? lf - 1 : lf;
      const ls = start - pos;
      const le = end - pos;
      while (nextCr < ls) {
        nextCr = str.indexOf('\r', nextCr + 1);
        if (nextCr === -1) nextCr = str.length;
      }
      if (nextCr < le || nextNul < le) throw this.badCharError(str, ls, le);
      this.headLine(data, start, end, str, pos);
      start = lf + 1;
    }
    return ended ? p : -1;
  }

  /**
   * Handles one line of a head, given as bytes buf[start, end) and the same
   * text in str from index start - off; true when it was the empty line
   * ending the head.
   */
  private headLine(buf: Buffer, start: number, end: number, str: string, off: number): boolean {
    if (!this.sawStatusLine) {
      // RFC 9112 section 2.2: tolerate empty lines before the start line
      // (some servers send a stray CRLF after a body).
      if (start === end) return false;
      this.statusLine(buf, start, end, str, off);
      this.sawStatusLine = true;
      return false;
    }
    if (start === end) return true;
    const headers = this.headers;
    const name = this.fieldLine(buf, start, end, str, off, headers);
    if (headers.length > 2 * this.maxHeaderFields) throw this.tooManyFields('header section');
    // Only framing and reuse fields matter here; check the length first so
    // most names cost nothing, and the usual spelling before lower-casing.
    switch (name.length) {
      case 10:
        if (name === 'Connection' || name.toLowerCase() === 'connection') {
          const options = connectionOptions(headers[headers.length - 1]!);
          if (options & CONNECTION_CLOSE) this.connectionClose = true;
          if (options & CONNECTION_KEEP_ALIVE) this.connectionKeepAlive = true;
        }
        break;
      case 14:
        if (name === 'Content-Length' || name.toLowerCase() === 'content-length') {
          this.contentLength = parseContentLength(headers[headers.length - 1]!, this.contentLength);
        }
        break;
      case 17:
        if (name === 'Transfer-Encoding' || name.toLowerCase() === 'transfer-encoding') {
          this.sawTransferEncoding = true;
          const chunked = lastCodingIsChunked(headers[headers.length - 1]!);
          // A later field line decides over earlier ones, as they form one list.
          if (chunked !== null) this.chunked = chunked;
        }
        break;
    }
    return false;
  }

  /** RFC 9112 section 4: HTTP-version SP status-code SP [ reason-phrase ]. */
  private statusLine(buf: Buffer, start: number, end: number, str: string, off: number): void {
    const minor = buf[start + 7];
    if (
      end - start < 12 ||
      buf[start] !== 0x48 || // H
      buf[start + 1] !== 0x54 || // T
      buf[start + 2] !== 0x54 || // T
      buf[start + 3] !== 0x50 || // P
      buf[start + 4] !== 0x2f || // /
      buf[start + 6] !== 0x2e || // .
      buf[start + 8] !== SP
    ) {
      throw new ProtocolError(`Invalid HTTP status line: ${preview(buf, start, end)}`);
    }
    if (buf[start + 5] !== 0x31 || (minor !== 0x30 && minor !== 0x31)) {
      throw new ProtocolError(`Unsupported HTTP version in status line: ${preview(buf, start, end)}`);
    }
    const d1 = buf[start + 9]! - 0x30;
    const d2 = buf[start + 10]! - 0x30;
    const d3 = buf[start + 11]! - 0x30;
    if (d1 < 1 || d1 > 9 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) {
      throw new ProtocolError(`Invalid status code in status line: ${preview(buf, start, end)}`);
    }
    if (end > start + 12 && buf[start + 12] !== SP) {
      throw new ProtocolError(`Invalid HTTP status line: ${preview(buf, start, end)}`);
    }
    this.version = minor === 0x31 ? 11 : 10;
    this.status = d1 * 100 + d2 * 10 + d3;
    this.reason = end > start + 13 ? str.slice(start + 13 - off, end - off) : '';
  }

  /**
   * RFC 9112 section 5: field-name ":" OWS field-value OWS. Pushes the pair
   * to `out` and returns the name. NUL and bare CR were ruled out by the caller.
   */
  private fieldLine(
    buf: Buffer,
    start: number,
    end: number,
    str: string,
    off: number,
    out: string[],
  ): string {
    const first = buf[start]!;
    if (first === SP || first === HTAB) {
      // RFC 9112 section 5.2 lets a user agent replace obs-fold with SP; we
      // refuse instead, as a folded line is more often an attack than a feature.
      throw new ProtocolError('Obsolete line folding (obs-fold) in header section is not supported');
    }
    let i = start;
    for (; i < end; i++) {
      const b = buf[i]!;
      if (b === COLON) break;
      if (TOKEN[b] === 0) {
        throw new ProtocolError(
          `Invalid character 0x${b.toString(16).padStart(2, '0')} in header name ${preview(buf, start, i)}`,
        );
      }
    }
    if (i === end) throw new ProtocolError(`Header line without a colon: ${preview(buf, start, end)}`);
    if (i === start) throw new ProtocolError('Empty header name');
    const name = str.slice(start - off, i - off);
    let vs = i + 1;
    let ve = end;
    while (vs < ve && (buf[vs] === SP || buf[vs] === HTAB)) vs++;
    while (ve > vs && (buf[ve - 1] === SP || buf[ve - 1] === HTAB)) ve--;
    out.push(name, vs === ve ? '' : str.slice(vs - off, ve - off));
    return name;
  }

  /** The error for a NUL or bare CR in str[ls, le), naming the header when there is one. */
  private badCharError(str: string, ls: number, le: number): ProtocolError {
    if (!this.sawStatusLine) return new ProtocolError('Invalid character (NUL or CR) in status line');
    const colon = str.indexOf(':', ls);
    const name =
      colon !== -1 && colon < le ? JSON.stringify(str.slice(ls, Math.min(colon, ls + 64))) : 'line';
    return new ProtocolError(`Invalid character (NUL or CR) in header ${name}`);
  }

  private tooManyFields(where: string): ProtocolError {
    return new ProtocolError(
      `Response ${where} has more than ${this.maxHeaderFields} fields (maxHeaderFields)`,
    );
  }

  private headTooLarge(): ProtocolError {
    return new ProtocolError(
      `Response header section exceeds the limit of ${this.maxHeaderSize} bytes (maxHeaderSize)`,
    );
  }

  /** Reports the head; true when parsing stops here (message complete or upgraded). */
  private endHead(): boolean {
    const status = this.status;
    const version = this.version;
    const te = this.sawTransferEncoding;
    const method = this.method;
    let bodyKind: BodyKind;
    if (
      status < 200 ||
      status === 204 ||
      status === 304 ||
      method === 'HEAD' ||
      // RFC 9112 section 6.3 rule 2: a 2xx to CONNECT turns into a tunnel right after the head.
      (method === 'CONNECT' && status < 300)
    ) {
      bodyKind = 'none';
    } else if (te) {
      bodyKind = this.chunked ? 'chunked' : 'close';
    } else if (this.contentLength !== null) {
      bodyKind = 'length';
    } else {
      bodyKind = 'close';
    }
    let keepAlive =
      version === 11 ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
    // RFC 9112 section 6.1: CL next to TE, or TE on HTTP/1.0, means the framing
    // cannot be trusted past this message (request smuggling territory).
    if (te && (this.contentLength !== null || version === 10)) keepAlive = false;
    if (bodyKind === 'close' || status === 101) keepAlive = false;
    const contentLength = te ? null : this.contentLength;
    const head: ResponseHead = {
      version,
      status,
      reason: this.reason,
      headers: this.headers,
      contentLength,
      bodyKind,
      keepAlive,
      upgrade: status === 101,
    };

    if (status === 101) {
      this.s = S_UPGRADED;
      this.handlers.onHead(head);
      return true;
    }
    if (status < 200) {
      this.resetHead();
      this.s = S_HEAD;
      this.handlers.onHead(head);
      return false;
    }
    switch (bodyKind) {
      case 'none':
        this.handlers.onHead(head);
        this.complete();
        return true;
      case 'length':
        this.remaining = contentLength!;
        this.s = S_BODY_LENGTH;
        this.handlers.onHead(head);
        if (this.remaining !== 0) return false;
        this.complete();
        return true;
      case 'chunked':
        this.s = S_CHUNK_SIZE;
        this.handlers.onHead(head);
        return false;
      default:
        this.s = S_BODY_CLOSE;
        this.handlers.onHead(head);
        return false;
    }
  }

  /**
   * RFC 9112 section 7.1: chunk-size [ chunk-ext ]. The size is hex (leading
   * zeros allowed); extensions (`;name[=value]`, quoted values included) are
   * skipped because nothing here gives them meaning, and no LF can occur in
   * them.
   */
  private chunkSize(): number {
    const buf = this.lineBuf;
    const start = this.lineStart;
    const end = this.lineEnd;
    let i = start;
    let size = 0;
    for (; i < end; i++) {
      const h = HEX[buf[i]!]!;
      if (h === 0) break;
      size = size * 16 + (h - 1);
      if (size > Number.MAX_SAFE_INTEGER) throw this.badChunkSize();
    }
    if (i === start) throw this.badChunkSize();
    // BWS before the extensions (RFC 9112 section 7.1.1).
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    if (i < end) {
      if (buf[i] !== SEMICOLON) throw this.badChunkSize();
      for (i++; i < end; i++) {
        const b = buf[i];
        if (b === 0 || b === CR) throw this.badChunkSize();
      }
    }
    return size;
  }

  private badChunkSize(): InvalidChunkLength {
    const line = this.lineBuf.toString('latin1', this.lineStart, this.lineEnd);
    return new InvalidChunkLength(
      line,
      `Invalid chunk size line: ${preview(this.lineBuf, this.lineStart, this.lineEnd)}`,
    );
  }

  private emit(data: Buffer, start: number, end: number): void {
    if (start === end) return;
    this.received += end - start;
    this.handlers.onBody(start === 0 && end === data.length ? data : data.subarray(start, end));
  }

  private complete(): void {
    this.s = S_DONE;
    this.handlers.onComplete();
  }
}
