// DNS wire-format primitives (RFC 1035 section 3.1 and 4.1.4): domain names
// with compression pointers, and bounds-checked reads. Sans-IO: bytes in,
// values out; every read checks the message length first, so a hostile or
// truncated message ends in a DnsMessageError, never in a RangeError or an
// endless loop. Names are kept in presentation form without the final dot
// ("example.com", "" for the root); label bytes outside printable ASCII, and
// the dot and backslash inside a label, are written as \DDD escapes so two
// different wire names never read the same.

import { domainToASCII } from 'node:url';
import { DnsMessageError } from '../errors.js';

/** RFC 1035 section 2.3.4: 255 octets on the wire, labels of 63. */
const MAX_NAME_OCTETS = 255;
const MAX_LABEL_OCTETS = 63;
/**
 * Pointers may only point backwards (to an earlier label), so a message of
 * at most 64 KiB cannot loop; the jump count is a second, cheaper bound.
 */
const MAX_POINTER_JUMPS = 64;

export class WireReader {
  offset = 0;
  constructor(readonly buf: Uint8Array) {}

  need(n: number, what: string): void {
    if (this.offset + n > this.buf.length) {
      throw new DnsMessageError(`DNS message truncated: ${what} needs ${n} more bytes`, this.offset);
    }
  }
  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.offset++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.buf[this.offset]! << 8) | this.buf[this.offset + 1]!;
    this.offset += 2;
    return v;
  }
  u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const o = this.offset;
    this.offset += 4;
    return ((b[o]! << 24) >>> 0) + ((b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!);
  }
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }
  /** A possibly compressed name; `allowPointers` false for names that must not be compressed (RFC 9460 section 2.2). */
  name(what: string, allowPointers = true): string {
    const { name, end } = readName(this.buf, this.offset, what, allowPointers);
    this.offset = end;
    return name;
  }
}

/** A label byte that stands for itself in presentation form (else it is written \\DDD). */
function plain(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x2e && c !== 0x5c;
}

function labelText(buf: Uint8Array, start: number, len: number): string {
  const end = start + len;
  let i = start;
  while (i < end && plain(buf[i]!)) i++;
  // The usual label is plain: one string made from the bytes, not one per character.
  if (i === end) {
    return buf instanceof Buffer
      ? buf.toString('latin1', start, end)
      : String.fromCharCode.apply(null, buf.subarray(start, end) as unknown as number[]);
  }
  let s = '';
  for (i = start; i < end; i++) {
    const c = buf[i]!;
    if (plain(c)) s += String.fromCharCode(c);
    else s += `\\${String(c).padStart(3, '0')}`;
  }
  return s;
}

/**
 * Reads the name at `start`; `end` is where the name ends in the message
 * (after its first pointer, if any).
 */
export function readName(
  buf: Uint8Array,
  start: number,
  what: string,
  allowPointers = true,
): { name: string; end: number } {
  let name = '';
  let pos = start;
  let end = -1;
  let octets = 1; // the root label
  let jumps = 0;
  // Every label must start before this bound: a pointer lowers it to its own target.
  let limit = buf.length;
  for (;;) {
    if (pos >= buf.length) throw new DnsMessageError(`DNS message truncated inside ${what}`, pos);
    const len = buf[pos]!;
    if (len === 0) {
      if (end === -1) end = pos + 1;
      break;
    }
    const kind = len & 0xc0;
    if (kind === 0xc0) {
      if (!allowPointers) throw new DnsMessageError(`compression pointer not allowed in ${what}`, pos);
      if (pos + 1 >= buf.length) throw new DnsMessageError(`DNS message truncated inside ${what}`, pos);
      const target = ((len & 0x3f) << 8) | buf[pos + 1]!;
      if (target >= pos || target >= limit) {
        throw new DnsMessageError(`compression pointer in ${what} does not point backwards`, pos);
      }
      if (++jumps > MAX_POINTER_JUMPS)
        throw new DnsMessageError(`too many compression pointers in ${what}`, pos);
      if (end === -1) end = pos + 2;
      limit = target;
      pos = target;
      continue;
    }
    if (kind !== 0) throw new DnsMessageError(`unknown label type 0x${kind.toString(16)} in ${what}`, pos);
    if (pos + 1 + len > buf.length) throw new DnsMessageError(`DNS message truncated inside ${what}`, pos);
    octets += len + 1;
    if (octets > MAX_NAME_OCTETS) throw new DnsMessageError(`${what} is longer than 255 octets`, pos);
    const label = labelText(buf, pos + 1, len);
    name = name === '' ? label : `${name}.${label}`;
    pos += 1 + len;
  }
  return { name, end };
}

/** ASCII case-insensitive comparison of two presentation names (RFC 4343); a final dot is ignored. */
export function sameName(a: string, b: string): boolean {
  if (a.endsWith('.')) a = a.slice(0, -1);
  if (b.endsWith('.')) b = b.slice(0, -1);
  if (a.length !== b.length) return false;
  return a === b || a.toLowerCase() === b.toLowerCase();
}

/**
 * A host name as wire labels. Non-ASCII names go through IDNA (the URL
 * parser's domainToASCII); empty labels, labels over 63 octets and names over
 * 255 octets are refused. Backslash escapes are not interpreted: a host name
 * from a URL has none.
 */
export function encodeName(host: string): Buffer {
  const name = asciiName(host);
  const out = Buffer.allocUnsafe(nameWireLength(name));
  writeName(out, 0, name, host);
  return out;
}

/** `host` without its final dot, through IDNA when it is not ASCII: what writeName() takes. */
export function asciiName(host: string): string {
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (!/[^\x21-\x7e]/.test(name)) return name;
  const ascii = domainToASCII(name);
  if (ascii === '') throw new DnsMessageError(`'${host}' is not a valid domain name`);
  return ascii;
}

/** Octets `name` (from asciiName()) takes on the wire. */
export function nameWireLength(name: string): number {
  return name === '' ? 1 : name.length + 2;
}

/**
 * Writes `name` (from asciiName()) as labels into `out` at `offset`, which
 * has nameWireLength(name) octets free; returns the offset after it.
 * `host` is what errors name.
 */
export function writeName(out: Buffer, offset: number, name: string, host: string): number {
  if (nameWireLength(name) > MAX_NAME_OCTETS)
    throw new DnsMessageError(`'${host}' is longer than 255 octets`);
  let o = offset;
  let labelStart = 0;
  for (let i = 0; i <= name.length; i++) {
    if (i < name.length && name.charCodeAt(i) !== 0x2e) continue;
    const len = i - labelStart;
    if (len === 0) {
      // The root name is one empty label; an empty label anywhere else is an error.
      if (name === '') break;
      throw new DnsMessageError(`'${host}' has an empty label`);
    }
    if (len > MAX_LABEL_OCTETS) {
      throw new DnsMessageError(`'${host}' has a label longer than ${MAX_LABEL_OCTETS} octets`);
    }
    out[o++] = len;
    for (let k = labelStart; k < i; k++) out[o++] = name.charCodeAt(k);
    labelStart = i + 1;
  }
  out[o++] = 0;
  return o;
}

/** RFC 5952 text form: lower case, longest run of zero groups (2 or more) as "::". */
export function formatIPv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((b[i]! << 8) | b[i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
