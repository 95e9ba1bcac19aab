// The sans-IO HTTP/3 codec (RFC 9114) with QPACK (RFC 9204, static table and
// literals) and the Huffman decoder QPACK shares with HPACK (RFC 7541).
// Internal to the library; the HTTP/3 session drives it.

export { ControlReader, parseSettings } from './control-reader.js';
export * from './error-codes.js';
export { FrameReader } from './frame-reader.js';
export * from './frames.js';
export { huffmanDecode } from './huffman.js';
export { PeerStreams, type UniVerdict } from './peer-streams.js';
export { decodeFieldSection } from './qpack-decoder.js';
export { encodeFieldSection } from './qpack-encoder.js';
export { ResponseReader, type ResponseReaderHandlers } from './response-reader.js';
export { encodeVarint, readVarint, VARINT_MAX, varintLength, writeVarint } from './varint.js';
