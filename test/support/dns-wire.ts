// Builds DNS responses byte by byte for tests: the unit tests of the codec
// and the scripted in-process DNS servers (dns-servers.ts). Written
// independently of src/dns/message.ts (no compression, plain loops) so a bug
// there cannot hide itself in both the encoder and the decoder.

export const T = { A: 1, CNAME: 5, SOA: 6, TXT: 16, AAAA: 28, OPT: 41, SVCB: 64, HTTPS: 65 } as const;

export function nameBytes(name: string): Buffer {
  const parts: Buffer[] = [];
  for (const label of name.split('.').filter(Boolean)) {
    parts.push(Buffer.from([label.length]), Buffer.from(label, 'latin1'));
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

export function ipv4(address: string): Buffer {
  return Buffer.from(address.split('.').map(Number));
}

export function ipv6(address: string): Buffer {
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(Number.parseInt(g || '0', 16), i * 2));
  return out;
}

export interface TestRecord {
  name: string;
  type: number;
  ttl?: number;
  /** Raw RDATA, or one of the shorthands. */
  data?: Buffer;
  a?: string;
  aaaa?: string;
  cname?: string;
  soa?: { minimum: number };
}

function rdataOf(r: TestRecord): Buffer {
  if (r.data) return r.data;
  if (r.a !== undefined) return ipv4(r.a);
  if (r.aaaa !== undefined) return ipv6(r.aaaa);
  if (r.cname !== undefined) return nameBytes(r.cname);
  if (r.soa) {
    const tail = Buffer.alloc(20);
    tail.writeUInt32BE(1, 0);
    tail.writeUInt32BE(3600, 4);
    tail.writeUInt32BE(600, 8);
    tail.writeUInt32BE(86400, 12);
    tail.writeUInt32BE(r.soa.minimum, 16);
    return Buffer.concat([nameBytes('ns.test'), nameBytes('admin.test'), tail]);
  }
  return Buffer.alloc(0);
}

export function recordBytes(r: TestRecord): Buffer {
  const rdata = rdataOf(r);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(r.type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(r.ttl ?? 300, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([nameBytes(r.name), fixed, rdata]);
}

export interface TestResponse {
  id: number;
  question?: { name: string; type: number } | null;
  rcode?: number;
  truncated?: boolean;
  qr?: boolean;
  answers?: TestRecord[];
  authorities?: TestRecord[];
  /** Extended DNS errors (RFC 8914) to put in an OPT record. */
  ede?: Array<{ code: number; text?: string }>;
  /** Adds an OPT record even without extended errors. */
  opt?: boolean;
}

export function buildResponse(r: TestResponse): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(r.id, 0);
  const rcode = r.rcode ?? 0;
  header[2] = (r.qr === false ? 0 : 0x80) | (r.truncated ? 0x02 : 0) | 0x01;
  header[3] = 0x80 | (rcode & 0x0f);
  const answers = r.answers ?? [];
  const authorities = r.authorities ?? [];
  const withOpt = r.opt || (r.ede && r.ede.length > 0) || rcode > 15;
  header.writeUInt16BE(r.question ? 1 : 0, 4);
  header.writeUInt16BE(answers.length, 6);
  header.writeUInt16BE(authorities.length, 8);
  header.writeUInt16BE(withOpt ? 1 : 0, 10);
  const parts: Buffer[] = [header];
  if (r.question) {
    const qt = Buffer.alloc(4);
    qt.writeUInt16BE(r.question.type, 0);
    qt.writeUInt16BE(1, 2);
    parts.push(nameBytes(r.question.name), qt);
  }
  for (const a of answers) parts.push(recordBytes(a));
  for (const a of authorities) parts.push(recordBytes(a));
  if (withOpt) {
    const options = (r.ede ?? []).map((e) => {
      const text = Buffer.from(e.text ?? '', 'utf8');
      const o = Buffer.alloc(6);
      o.writeUInt16BE(15, 0);
      o.writeUInt16BE(2 + text.length, 2);
      o.writeUInt16BE(e.code, 4);
      return Buffer.concat([o, text]);
    });
    const rdata = Buffer.concat(options);
    const opt = Buffer.alloc(11);
    opt[0] = 0;
    opt.writeUInt16BE(T.OPT, 1);
    opt.writeUInt16BE(1232, 3);
    opt[5] = rcode >> 4;
    opt.writeUInt16BE(rdata.length, 9);
    parts.push(opt, rdata);
  }
  return Buffer.concat(parts);
}

/** HTTPS/SVCB RDATA: priority, target, then params given as [key, value] in the order given. */
export function svcbData(priority: number, target: string, params: Array<[number, Buffer]>): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(priority, 0);
  const ps = params.map(([k, v]) => {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(k, 0);
    h.writeUInt16BE(v.length, 2);
    return Buffer.concat([h, v]);
  });
  return Buffer.concat([head, nameBytes(target), ...ps]);
}

export function alpnValue(ids: string[]): Buffer {
  return Buffer.concat(ids.map((id) => Buffer.concat([Buffer.from([id.length]), Buffer.from(id)])));
}

/** The question of a query the library sent: its ID, name and type. */
export function parseQuery(q: Buffer): { id: number; name: string; type: number } {
  let o = 12;
  const labels: string[] = [];
  while (q[o] !== 0) {
    const len = q[o]!;
    labels.push(q.subarray(o + 1, o + 1 + len).toString('latin1'));
    o += len + 1;
  }
  return { id: q.readUInt16BE(0), name: labels.join('.'), type: q.readUInt16BE(o + 1) };
}
