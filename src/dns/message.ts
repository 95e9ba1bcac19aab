// The DNS message codec (RFC 1035 section 4, EDNS(0) of RFC 6891, extended
// errors of RFC 8914, SVCB/HTTPS of RFC 9460). Sans-IO: encodeQuery() turns
// a question into bytes, decodeMessage() turns bytes into a Message. No
// sockets, timers or streams; transports (dou.ts, dot.ts, doh.ts) and the
// interpretation of an answer (answer.ts) live elsewhere.
//
// Decoding is defensive: every length is checked before it is read, the
// record counts are bounded before anything is allocated, names go through
// wire.ts (pointer loops refused), and record data must fill its RDLENGTH
// exactly. Anything else is a DnsMessageError and the whole message is
// dropped: a resolver never acts on half of a message.

import { DnsMessageError } from '../errors.js';
import { decodeSvcb, type SvcbData } from './svcb.js';
import { asciiName, formatIPv6, nameWireLength, WireReader, writeName } from './wire.js';

export const RRType = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  OPT: 41,
  SVCB: 64,
  HTTPS: 65,
} as const;

export const RCode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  BADVERS: 16,
} as const;

/** The IN class; the only one a resolver for connections asks about. */
export const CLASS_IN = 1;
/** EDNS option codes (IANA registry). */
const OPTION_EDE = 15; // RFC 8914
const OPTION_PADDING = 12; // RFC 7830
/** The DNS flag day 2020 buffer size: no IP fragmentation on common paths. */
export const DEFAULT_EDNS_UDP_SIZE = 1232;
/**
 * More records than any answer for a connection needs; a 64 KiB message
 * could otherwise carry about 5,000 minimal records.
 */
export const DEFAULT_MAX_RECORDS = 512;
const MAX_MESSAGE_OCTETS = 65535;

export interface Question {
  name: string;
  type: number;
  class: number;
}

export type RecordData =
  | { kind: 'a'; address: string }
  | { kind: 'aaaa'; address: string }
  | { kind: 'cname'; target: string }
  | {
      kind: 'soa';
      mname: string;
      rname: string;
      serial: number;
      refresh: number;
      retry: number;
      expire: number;
      minimum: number;
    }
  | SvcbData
  | { kind: 'other'; bytes: Uint8Array };

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  /** Seconds; RFC 2181 section 8 reads values with the top bit set as 0. */
  ttl: number;
  data: RecordData;
}

export interface ExtendedError {
  /** RFC 8914 INFO-CODE. */
  infoCode: number;
  /** EXTRA-TEXT (UTF-8, may be empty). */
  extraText: string;
}

export interface Edns {
  udpSize: number;
  version: number;
  dnssecOk: boolean;
  extendedErrors: ExtendedError[];
}

export interface Message {
  id: number;
  isResponse: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  authenticData: boolean;
  checkingDisabled: boolean;
  /** The full RCODE: the header's 4 bits plus the OPT record's upper 8 (RFC 6891 section 6.1.3). */
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  /** Additional records other than OPT. */
  additionals: ResourceRecord[];
  edns: Edns | null;
}

export interface QueryOptions {
  id: number;
  name: string;
  type: number;
  recursionDesired?: boolean;
  /** EDNS(0) UDP payload size to advertise; null sends no OPT record. */
  ednsUdpSize?: number | null;
  /** Pad the message to a multiple of this many octets (RFC 8467: 128 for queries over TLS/HTTPS); 0 = none. */
  padBlock?: number;
}

/** A standard query with one question, RD set, and an OPT record unless ednsUdpSize is null. */
export function encodeQuery(q: QueryOptions): Buffer {
  if (!Number.isInteger(q.id) || q.id < 0 || q.id > 0xffff) throw new DnsMessageError(`bad DNS ID ${q.id}`);
  const qname = asciiName(q.name);
  const udpSize = q.ednsUdpSize === undefined ? DEFAULT_EDNS_UDP_SIZE : q.ednsUdpSize;
  const optLen = udpSize === null ? 0 : 11;
  let size = 12 + nameWireLength(qname) + 4 + optLen;
  let padLen = -1;
  if (udpSize !== null && q.padBlock && q.padBlock > 0) {
    // The padding option itself takes 4 octets of header.
    const unpadded = size + 4;
    padLen = (q.padBlock - (unpadded % q.padBlock)) % q.padBlock;
    size = unpadded + padLen;
  }
  const out = Buffer.alloc(size);
  out.writeUInt16BE(q.id, 0);
  out[2] = q.recursionDesired === false ? 0 : 0x01; // QR=0, OPCODE=0, RD
  out.writeUInt16BE(1, 4); // QDCOUNT
  out.writeUInt16BE(udpSize === null ? 0 : 1, 10); // ARCOUNT
  let o = 12;
  o = writeName(out, o, qname, q.name);
  out.writeUInt16BE(q.type, o);
  out.writeUInt16BE(CLASS_IN, o + 2);
  o += 4;
  if (udpSize !== null) {
    out[o] = 0; // root owner name
    out.writeUInt16BE(RRType.OPT, o + 1);
    out.writeUInt16BE(udpSize, o + 3);
    // TTL (extended RCODE, version 0, DO=0) stays zero.
    const rdlen = padLen >= 0 ? 4 + padLen : 0;
    out.writeUInt16BE(rdlen, o + 9);
    o += 11;
    if (padLen >= 0) {
      out.writeUInt16BE(OPTION_PADDING, o);
      out.writeUInt16BE(padLen, o + 2);
    }
  }
  return out;
}

export interface DecodeLimits {
  /** Most records (all sections) accepted; more is a DnsMessageError. */
  maxRecords?: number;
}

/** Decodes a whole DNS message; throws DnsMessageError on anything malformed. */
export function decodeMessage(buf: Uint8Array, limits: DecodeLimits = {}): Message {
  if (buf.length > MAX_MESSAGE_OCTETS) {
    throw new DnsMessageError(`DNS message of ${buf.length} bytes is larger than 65535`);
  }
  const r = new WireReader(buf);
  const id = r.u16('header');
  const flags = r.u16('header');
  const qd = r.u16('header');
  const an = r.u16('header');
  const ns = r.u16('header');
  const ar = r.u16('header');
  const maxRecords = limits.maxRecords ?? DEFAULT_MAX_RECORDS;
  if (qd > 1) throw new DnsMessageError(`DNS message has ${qd} questions (at most 1 is answered)`, 4);
  if (an + ns + ar > maxRecords) {
    throw new DnsMessageError(`DNS message has ${an + ns + ar} records (at most ${maxRecords} accepted)`, 6);
  }
  // Each record takes at least 11 octets: a count the length cannot hold is a lie.
  if (12 + qd * 5 + (an + ns + ar) * 11 > buf.length) {
    throw new DnsMessageError('DNS message is shorter than its record counts require', 6);
  }
  const questions: Question[] = [];
  for (let i = 0; i < qd; i++) {
    const name = r.name('question name');
    questions.push({ name, type: r.u16('question'), class: r.u16('question') });
  }
  const answers = readSection(r, an, ANSWER);
  const authorities = readSection(r, ns, AUTHORITY);
  const additionalAll = readSection(r, ar, ADDITIONAL);
  let edns: Edns | null = null;
  let rcode = flags & 0x0f;
  const additionals: ResourceRecord[] = [];
  for (const rr of additionalAll) {
    if (rr.type !== RRType.OPT) {
      additionals.push(rr);
      continue;
    }
    if (edns !== null) throw new DnsMessageError('DNS message has more than one OPT record');
    if (rr.name !== '') throw new DnsMessageError('OPT record owner is not the root');
    edns = decodeOpt(rr);
    rcode |= (rr.ttl >>> 24) << 4;
  }
  return {
    id,
    isResponse: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0x0f,
    authoritative: (flags & 0x0400) !== 0,
    truncated: (flags & 0x0200) !== 0,
    recursionDesired: (flags & 0x0100) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    authenticData: (flags & 0x0020) !== 0,
    checkingDisabled: (flags & 0x0010) !== 0,
    rcode,
    questions,
    answers,
    authorities,
    additionals,
    edns,
  };
}

/** What the reads of one section are called in errors: made once, not per record. */
interface SectionText {
  section: string;
  name: string;
  record: string;
  data: string;
  cname: string;
}

function sectionText(section: string): SectionText {
  return {
    section,
    name: `${section} record name`,
    record: `${section} record`,
    data: `${section} record data`,
    cname: `${section} CNAME target`,
  };
}

const ANSWER = sectionText('answer');
const AUTHORITY = sectionText('authority');
const ADDITIONAL = sectionText('additional');

function readSection(r: WireReader, count: number, text: SectionText): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  for (let i = 0; i < count; i++) {
    const name = r.name(text.name);
    const type = r.u16(text.record);
    const klass = r.u16(text.record);
    // OPT keeps its raw TTL bits (extended RCODE, flags); others are read per RFC 2181.
    const rawTtl = r.u32(text.record);
    const ttl = type === RRType.OPT ? rawTtl : rawTtl > 0x7fffffff ? 0 : rawTtl;
    const rdlen = r.u16(text.record);
    r.need(rdlen, text.data);
    const start = r.offset;
    const data = decodeRdata(r, type, rdlen, text);
    if (r.offset !== start + rdlen) {
      throw new DnsMessageError(`${text.section} record data does not fill its length of ${rdlen}`, start);
    }
    out.push({ name, type, class: klass, ttl, data });
  }
  return out;
}

function decodeRdata(r: WireReader, type: number, rdlen: number, text: SectionText): RecordData {
  const end = r.offset + rdlen;
  switch (type) {
    case RRType.A: {
      if (rdlen !== 4) throw new DnsMessageError(`A record data is ${rdlen} bytes, not 4`, r.offset);
      const a = r.u32('A record');
      return { kind: 'a', address: `${a >>> 24}.${(a >> 16) & 0xff}.${(a >> 8) & 0xff}.${a & 0xff}` };
    }
    case RRType.AAAA: {
      if (rdlen !== 16) throw new DnsMessageError(`AAAA record data is ${rdlen} bytes, not 16`, r.offset);
      return { kind: 'aaaa', address: formatIPv6(r.bytes(16, 'AAAA record')) };
    }
    case RRType.CNAME: {
      const target = r.name(text.cname);
      if (r.offset > end) throw new DnsMessageError('CNAME target runs past its record', r.offset);
      return { kind: 'cname', target };
    }
    case RRType.SOA: {
      const mname = r.name('SOA MNAME');
      const rname = r.name('SOA RNAME');
      if (r.offset + 20 > end) throw new DnsMessageError('SOA record is shorter than its fields', r.offset);
      return {
        kind: 'soa',
        mname,
        rname,
        serial: r.u32('SOA'),
        refresh: r.u32('SOA'),
        retry: r.u32('SOA'),
        expire: r.u32('SOA'),
        minimum: r.u32('SOA'),
      };
    }
    case RRType.SVCB:
    case RRType.HTTPS:
      return decodeSvcb(r, end);
    default:
      return { kind: 'other', bytes: r.bytes(rdlen, text.data) };
  }
}

function decodeOpt(rr: ResourceRecord): Edns {
  if (rr.data.kind !== 'other') throw new DnsMessageError('OPT record data is malformed');
  const bytes = rr.data.bytes;
  const r = new WireReader(bytes);
  const extendedErrors: ExtendedError[] = [];
  while (r.offset < bytes.length) {
    const code = r.u16('EDNS option');
    const len = r.u16('EDNS option');
    const value = r.bytes(len, 'EDNS option value');
    if (code === OPTION_EDE) {
      if (len < 2) throw new DnsMessageError('extended DNS error option shorter than 2 bytes');
      extendedErrors.push({
        infoCode: (value[0]! << 8) | value[1]!,
        extraText: Buffer.from(value.subarray(2)).toString('utf8').slice(0, 512),
      });
    }
  }
  return {
    udpSize: rr.class,
    version: (rr.ttl >>> 16) & 0xff,
    dnssecOk: (rr.ttl & 0x8000) !== 0,
    extendedErrors,
  };
}
