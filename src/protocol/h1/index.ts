// The sans-IO HTTP/1.1 codec (RFC 9112): response parser and request
// serializer. Internal to the library; the connection layer drives it.

export type { BodyKind, H1ParserHandlers, H1ParserOptions, H1ParserState, ResponseHead } from './parser.js';
export { H1ResponseParser } from './parser.js';
export {
  CRLF,
  chunkHeader,
  isValidMethod,
  LAST_CHUNK,
  serializeRequestHead,
  validateHeaderName,
  validateHeaderValue,
} from './serializer.js';
