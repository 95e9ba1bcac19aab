// The HPACK/QPACK Huffman code (RFC 7541 section 5.2 and Appendix B; QPACK
// reuses it, RFC 9204 section 4.1.2). Servers Huffman-encode some header
// strings, so a client must decode them; this client never encodes with it.
//
// The code is canonical: codes of one length are consecutive, in symbol
// order, each length following the last code of the shorter one. So the
// table below lists only the code length of each of the 257 symbols (256
// byte values and EOS), transcribed from Appendix B; the codes are rebuilt
// from the lengths at load time, and the tests check them against the
// appendix's hex column and the RFC's example strings.
//
// Decoding walks a table of 4-bit steps: each state is a node of the code
// tree, each nibble moves to another node and may complete one symbol
// (a nibble can complete at most one, as the shortest code has 5 bits).

import { ProtocolError } from '../../errors.js';

// biome-ignore format: one row per 16 symbols reads against the RFC's table
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, //   0-15
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28, //  16-31
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, //          32-47  ' '..'/'
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, //               48-63  '0'..'?'
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, //                 64-79  '@'..'O'
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, //              80-95  'P'..'_'
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5, //                 96-111 '`'..'o'
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, //             112-127 'p'..DEL
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23, // 128-143
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, // 144-159
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, // 160-175
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23, // 176-191
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, // 192-207
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, // 208-223
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23, // 224-239
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26, // 240-255
  30, //                                                              256 EOS
];

export const EOS = 256;

/** The code of each symbol (right-aligned) and its length in bits, rebuilt canonically. */
export function huffmanCodes(): { codes: number[]; lengths: readonly number[] } {
  const order = CODE_LENGTHS.map((len, sym) => ({ len, sym })).sort((a, b) => a.len - b.len || a.sym - b.sym);
  const codes = new Array<number>(CODE_LENGTHS.length).fill(0);
  let code = 0;
  let prevLen = order[0]!.len;
  for (const { len, sym } of order) {
    code *= 2 ** (len - prevLen);
    prevLen = len;
    codes[sym] = code;
    code += 1;
  }
  return { codes, lengths: CODE_LENGTHS };
}

// Decoding table: for state s and nibble n, entry (s * 16 + n) holds
// next state (bits 0-8), emitted symbol + 1 or 0 (bits 9-17), and a flag
// (bit 18) set when the path so far is a prefix of EOS made only of 1 bits
// (padding allowed at the end), bit 19 when the nibble hit EOS or a dead end.
const FAIL = 1 << 19;
const ACCEPT = 1 << 18;
let TABLE: Uint32Array | null = null;

function buildTable(): Uint32Array {
  const { codes, lengths } = huffmanCodes();
  // The code tree: node 0 is the root; children[2n], children[2n+1]; leaves are -(sym + 1).
  const children: number[] = [0, 0];
  let nodes = 1;
  for (let sym = 0; sym < codes.length; sym++) {
    const len = lengths[sym]!;
    const code = codes[sym]!;
    let node = 0;
    for (let i = len - 1; i >= 0; i--) {
      const bit = Math.floor(code / 2 ** i) & 1;
      const slot = node * 2 + bit;
      if (i === 0) {
        children[slot] = -(sym + 1);
      } else {
        if (!children[slot]) {
          children[slot] = nodes++;
          children.push(0, 0);
        }
        node = children[slot]!;
      }
    }
  }
  // Whether a node lies on the all-ones path from the root (a prefix of EOS).
  const onesDepth = new Map<number, number>();
  let n = 0;
  for (let depth = 0; depth < 8; depth++) {
    onesDepth.set(n, depth);
    n = children[n * 2 + 1]!;
  }
  const table = new Uint32Array(nodes * 16);
  for (let state = 0; state < nodes; state++) {
    for (let nibble = 0; nibble < 16; nibble++) {
      let node = state;
      let emitted = 0;
      let fail = false;
      for (let i = 3; i >= 0; i--) {
        const next = children[node * 2 + ((nibble >> i) & 1)]!;
        if (next < 0) {
          if (next === -(EOS + 1) || emitted !== 0) {
            fail = true;
            break;
          }
          emitted = -next;
          node = 0;
        } else if (next === 0) {
          fail = true;
          break;
        } else {
          node = next;
        }
      }
      const accept = onesDepth.has(node) ? ACCEPT : 0;
      table[state * 16 + nibble] = fail ? FAIL : node | (emitted << 9) | accept;
    }
  }
  return table;
}

/**
 * Decodes a Huffman-coded string (RFC 7541 section 5.2). Padding must be at
 * most 7 bits, all ones (the high bits of EOS); EOS itself is an error.
 */
export function huffmanDecode(input: Uint8Array): Buffer {
  const table = TABLE ?? (TABLE = buildTable());
  // Every symbol takes at least 5 bits, so the output is at most 8/5 of the input.
  const out = Buffer.allocUnsafe(Math.ceil((input.length * 8) / 5));
  let len = 0;
  let state = 0;
  let accept = true;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    let entry = table[state * 16 + (byte >> 4)]!;
    if (entry & FAIL) throw invalid();
    let sym = (entry >> 9) & 0x1ff;
    if (sym !== 0) out[len++] = sym - 1;
    entry = table[(entry & 0x1ff) * 16 + (byte & 0x0f)]!;
    if (entry & FAIL) throw invalid();
    sym = (entry >> 9) & 0x1ff;
    if (sym !== 0) out[len++] = sym - 1;
    state = entry & 0x1ff;
    accept = (entry & ACCEPT) !== 0;
  }
  // Padding is a path of at most 7 one bits from the root (RFC 7541 section 5.2).
  if (!accept) throw new ProtocolError('Invalid Huffman-coded string: the padding is not a prefix of EOS');
  return out.subarray(0, len);
}

function invalid(): ProtocolError {
  return new ProtocolError('Invalid Huffman-coded string: it contains EOS');
}
