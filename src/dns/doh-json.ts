// The JSON form of DNS over HTTPS (application/dns-json, as Google and
// Cloudflare serve it; not a standard): turns an answer into the Message the
// wire-format path produces, so the same rules (question match, CNAME
// chains, TTLs, negative answers) apply. Every field is checked: a record
// whose data is not what its type says makes the whole answer unusable.
// Sans-IO.

import { isIPv4, isIPv6 } from 'node:net';
import { DnsMessageError } from '../errors.js';
import type { QueryKey } from './answer.js';
import {
  CLASS_IN,
  DEFAULT_MAX_RECORDS,
  type Message,
  type RecordData,
  type ResourceRecord,
  RRType,
} from './message.js';

interface JsonRecord {
  name?: unknown;
  type?: unknown;
  TTL?: unknown;
  data?: unknown;
}

const stripDot = (s: string) => (s.endsWith('.') && s.length > 1 ? s.slice(0, -1) : s);

function record(raw: JsonRecord): ResourceRecord {
  if (typeof raw.name !== 'string' || typeof raw.type !== 'number' || typeof raw.data !== 'string') {
    throw new DnsMessageError('DNS JSON record without name, type or data');
  }
  const ttl = typeof raw.TTL === 'number' && raw.TTL >= 0 && raw.TTL <= 0x7fffffff ? Math.floor(raw.TTL) : 0;
  const text = raw.data.trim();
  let data: RecordData;
  switch (raw.type) {
    case RRType.A:
      if (!isIPv4(text))
        throw new DnsMessageError(`DNS JSON A record data '${text.slice(0, 40)}' is not an address`);
      data = { kind: 'a', address: text };
      break;
    case RRType.AAAA:
      if (!isIPv6(text))
        throw new DnsMessageError(`DNS JSON AAAA record data '${text.slice(0, 40)}' is not an address`);
      data = { kind: 'aaaa', address: text.toLowerCase() };
      break;
    case RRType.CNAME:
      data = { kind: 'cname', target: stripDot(text) };
      break;
    case RRType.SOA: {
      const f = text.split(/\s+/);
      const n = f.slice(2).map(Number);
      if (f.length !== 7 || n.some((x) => !Number.isInteger(x) || x < 0)) {
        throw new DnsMessageError('DNS JSON SOA record data is malformed');
      }
      data = {
        kind: 'soa',
        mname: stripDot(f[0]!),
        rname: stripDot(f[1]!),
        serial: n[0]!,
        refresh: n[1]!,
        retry: n[2]!,
        expire: n[3]!,
        minimum: n[4]!,
      };
      break;
    }
    case RRType.HTTPS:
    case RRType.SVCB: {
      // Presentation form: "1 . alpn=h3,h2 ipv4hint=...".
      const f = text.split(/\s+/);
      const priority = Number(f[0]);
      if (!Number.isInteger(priority) || priority < 0 || priority > 0xffff || f.length < 2) {
        throw new DnsMessageError('DNS JSON HTTPS record data is malformed');
      }
      const alpn =
        f
          .find((p) => p.startsWith('alpn='))
          ?.slice(5)
          .replace(/"/g, '')
          .split(',')
          .filter(Boolean) ?? [];
      data = {
        kind: 'svcb',
        priority,
        target: f[1] === '.' ? '' : stripDot(f[1]!),
        alpn,
        noDefaultAlpn: f.includes('no-default-alpn'),
        port: null,
        ipv4Hints: [],
        ipv6Hints: [],
        ech: null,
      };
      break;
    }
    default:
      data = { kind: 'other', bytes: Buffer.from(text, 'utf8') };
  }
  return { name: stripDot(raw.name), type: raw.type, class: CLASS_IN, ttl, data };
}

function section(v: unknown, what: string): ResourceRecord[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new DnsMessageError(`DNS JSON ${what} is not a list`);
  if (v.length > DEFAULT_MAX_RECORDS) throw new DnsMessageError(`DNS JSON ${what} has ${v.length} records`);
  return v.map((r) => record(r as JsonRecord));
}

/** Parses a JSON answer to `q`; throws DnsMessageError when it is not one. */
export function decodeJsonAnswer(q: QueryKey, body: Buffer): Message {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new DnsMessageError('DNS JSON answer is not JSON', -1, { cause: err });
  }
  if (doc === null || typeof doc !== 'object' || typeof doc.Status !== 'number') {
    throw new DnsMessageError('DNS JSON answer has no Status');
  }
  const rawQuestions = Array.isArray(doc.Question) ? (doc.Question as JsonRecord[]) : [];
  const questions = rawQuestions.slice(0, 2).map((x) => {
    if (typeof x?.name !== 'string' || typeof x.type !== 'number')
      throw new DnsMessageError('DNS JSON question is malformed');
    return { name: stripDot(x.name), type: x.type, class: CLASS_IN };
  });
  if (
    questions.length !== 1 ||
    questions[0]!.type !== q.type ||
    stripDot(questions[0]!.name).toLowerCase() !== q.name.toLowerCase()
  ) {
    throw new DnsMessageError('DNS JSON answer is for another question');
  }
  return {
    id: q.id,
    isResponse: true,
    opcode: 0,
    authoritative: false,
    truncated: doc.TC === true,
    recursionDesired: true,
    recursionAvailable: doc.RA === true,
    authenticData: doc.AD === true,
    checkingDisabled: doc.CD === true,
    rcode: doc.Status,
    questions,
    answers: section(doc.Answer, 'Answer'),
    authorities: section(doc.Authority, 'Authority'),
    additionals: [],
    edns: null,
  };
}
