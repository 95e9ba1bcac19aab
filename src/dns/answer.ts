// What a decoded response means for the question that was asked: does it
// belong to the query at all (ID, QR, opcode, question), and if so, which
// records answer it after following CNAMEs, for how long it may be cached,
// or why there is no answer (NXDOMAIN, NODATA, SERVFAIL with the extended
// error of RFC 8914, REFUSED). Sans-IO: a Message in, an Outcome out.

import { debug } from '../debug.js';
import { CLASS_IN, decodeMessage, type Message, RCode, type ResourceRecord, RRType } from './message.js';
import { sameName } from './wire.js';

/** Longest CNAME chain followed, across re-queries too (unbound, glibc and Go use 8 to 16). */
export const MAX_CNAME_CHAIN = 8;

export interface QueryKey {
  id: number;
  name: string;
  type: number;
}

export type Outcome =
  | {
      kind: 'records';
      /** Records of the asked type, owned by the end of the CNAME chain. */
      records: ResourceRecord[];
      /** Smallest TTL over the records and the CNAMEs followed, in seconds. */
      ttl: number;
      /** The CNAMEs followed, in order. */
      chain: string[];
    }
  | {
      /** The chain ends at a name this message says nothing more about: ask again for it. */
      kind: 'follow';
      target: string;
      ttl: number;
      chain: string[];
    }
  | { kind: 'nxdomain' | 'nodata'; negativeTtl: number; chain: string[] }
  | { kind: 'error'; rcode: number; reason: string; negativeTtl: number };

/**
 * Why a response is not an answer to `q`, or null when it is one. A resolver
 * drops such responses and keeps waiting (RFC 5452 section 9.1): they are
 * late answers, answers to someone else, or spoofing attempts.
 */
export function mismatch(q: QueryKey, m: Message): string | null {
  if (!m.isResponse) return 'not a response (QR is 0)';
  if (m.id !== q.id) return `ID ${m.id} is not the query's ID ${q.id}`;
  if (m.opcode !== 0) return `opcode ${m.opcode} is not QUERY`;
  // FORMERR and NOTIMP answers may omit the question (RFC 6891 section 7).
  if (m.questions.length === 0 && (m.rcode === RCode.FORMERR || m.rcode === RCode.NOTIMP)) return null;
  const question = m.questions[0];
  if (m.questions.length !== 1 || question === undefined) return 'it carries no question';
  if (question.type !== q.type || question.class !== CLASS_IN || !sameName(question.name, q.name)) {
    return `its question (${question.name} type ${question.type}) is not the query's (${q.name} type ${q.type})`;
  }
  return null;
}

const EDE_NAMES: Record<number, string> = {
  0: 'Other Error',
  1: 'Unsupported DNSKEY Algorithm',
  2: 'Unsupported DS Digest Type',
  3: 'Stale Answer',
  4: 'Forged Answer',
  5: 'DNSSEC Indeterminate',
  6: 'DNSSEC Bogus',
  7: 'Signature Expired',
  8: 'Signature Not Yet Valid',
  9: 'DNSKEY Missing',
  10: 'RRSIGs Missing',
  11: 'No Zone Key Bit Set',
  12: 'NSEC Missing',
  13: 'Cached Error',
  14: 'Not Ready',
  15: 'Blocked',
  16: 'Censored',
  17: 'Filtered',
  18: 'Prohibited',
  19: 'Stale NXDOMAIN Answer',
  20: 'Not Authoritative',
  21: 'Not Supported',
  22: 'No Reachable Authority',
  23: 'Network Error',
  24: 'Invalid Data',
};

/** RFC 8914 INFO-CODEs 1, 2 and 5 to 12 are DNSSEC validation failures. */
function isDnssecCode(code: number): boolean {
  return code === 1 || code === 2 || (code >= 5 && code <= 12);
}

function describeExtendedErrors(m: Message): { text: string; dnssec: boolean } {
  const errors = m.edns?.extendedErrors ?? [];
  const parts = errors.map((e) => {
    const name = EDE_NAMES[e.infoCode] ?? 'unassigned code';
    // Printable text only: it comes from the network and ends up in an error message.
    const extra = e.extraText.replace(/[^\x20-\x7e]/g, '?').slice(0, 200);
    return `extended DNS error ${e.infoCode} (${name})${extra ? `: ${extra}` : ''}`;
  });
  return { text: parts.join('; '), dnssec: errors.some((e) => isDnssecCode(e.infoCode)) };
}

function negativeTtlOf(m: Message): number {
  // RFC 2308 section 5: the SOA's TTL, bounded by its MINIMUM field.
  for (const rr of m.authorities) {
    if (rr.type === RRType.SOA && rr.data.kind === 'soa') return Math.min(rr.ttl, rr.data.minimum);
  }
  return 0;
}

/** Reads the answer to `q` (already checked with mismatch()) out of `m`. */
export function interpret(q: QueryKey, m: Message, chainSoFar = 0): Outcome {
  if (m.rcode !== RCode.NOERROR && m.rcode !== RCode.NXDOMAIN) {
    const ede = describeExtendedErrors(m);
    let reason: string;
    if (m.rcode === RCode.SERVFAIL) {
      reason = ede.dnssec
        ? `DNSSEC validation failure: the DNS server answered SERVFAIL with ${ede.text}`
        : `the DNS server answered SERVFAIL (server failure${ede.text ? `; ${ede.text}` : ''}; a validating resolver also answers so when DNSSEC validation fails)`;
    } else {
      const names: Record<number, string> = {
        [RCode.FORMERR]: 'FORMERR (format error)',
        [RCode.NOTIMP]: 'NOTIMP (not implemented)',
        [RCode.REFUSED]: 'REFUSED',
        [RCode.BADVERS]: 'BADVERS (EDNS version not supported)',
      };
      reason = `the DNS server answered ${names[m.rcode] ?? `RCODE ${m.rcode}`}${ede.text ? ` (${ede.text})` : ''}`;
    }
    return { kind: 'error', rcode: m.rcode, reason, negativeTtl: negativeTtlOf(m) };
  }
  const chain: string[] = [];
  let current = q.name;
  let ttl = Number.POSITIVE_INFINITY;
  for (;;) {
    const records = m.answers.filter(
      (rr) => rr.type === q.type && rr.class === CLASS_IN && sameName(rr.name, current),
    );
    if (records.length > 0) {
      for (const rr of records) ttl = Math.min(ttl, rr.ttl);
      return { kind: 'records', records, ttl, chain };
    }
    const cname = m.answers.find(
      (rr) => rr.type === RRType.CNAME && rr.class === CLASS_IN && sameName(rr.name, current),
    );
    if (cname === undefined || cname.data.kind !== 'cname') break;
    if (chain.length + chainSoFar >= MAX_CNAME_CHAIN) {
      return {
        kind: 'error',
        rcode: m.rcode,
        reason: `the CNAME chain from ${q.name} is longer than ${MAX_CNAME_CHAIN} names`,
        negativeTtl: 0,
      };
    }
    ttl = Math.min(ttl, cname.ttl);
    current = cname.data.target;
    chain.push(current);
  }
  if (m.rcode === RCode.NXDOMAIN) return { kind: 'nxdomain', negativeTtl: negativeTtlOf(m), chain };
  // A chain that stops at a name with neither records nor an SOA: the server
  // did not chase the CNAME (unbound does not for local data); ask for it.
  if (chain.length > 0 && !m.authorities.some((rr) => rr.type === RRType.SOA)) {
    return { kind: 'follow', target: current, ttl, chain };
  }
  return { kind: 'nodata', negativeTtl: negativeTtlOf(m), chain };
}

/** Decodes `bytes` and checks it answers `q`; null (and a debug line) when it must be dropped. */
export function acceptResponse(q: QueryKey, bytes: Uint8Array, from: string): Message | null {
  let m: Message;
  try {
    m = decodeMessage(bytes);
  } catch (err) {
    debug('dns dropped an undecodable answer from %s: %s', from, (err as Error).message);
    return null;
  }
  const why = mismatch(q, m);
  if (why !== null) {
    debug('dns dropped an answer from %s: %s', from, why);
    return null;
  }
  return m;
}
