// A tiny authoritative DNS server over UDP, in the process that imports it,
// for the DNS micro-measurements (bench/dns-cache.mjs, the dou layer of
// bench/critical-path.mjs): every name under `zone` has one A record
// (`address`, TTL `ttl`); any other type for such a name is NODATA and any
// name outside the zone NXDOMAIN, both with the zone's SOA in the authority
// section, so a resolver may cache the negative answer too (RFC 2308; without
// the SOA a NODATA for AAAA is not cacheable and every getaddrinfo() with
// family 0 would ask again). Queries are read as the library sends them: one
// question, an uncompressed name, possibly an EDNS OPT record (ignored).
// `queries` counts what was asked, so a measurement can show the cache
// answered and the server did not.

import dgram from 'node:dgram';
import { once } from 'node:events';

const TYPE_A = 1;
const TYPE_SOA = 6;
const CLASS_IN = 1;

function encodeName(name) {
  const parts = name.replace(/\.$/, '').split('.').filter(Boolean);
  const bufs = parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'ascii')]));
  return Buffer.concat([...bufs, Buffer.from([0])]);
}

function rr(nameBytes, type, ttl, rdata) {
  const head = Buffer.alloc(10);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(CLASS_IN, 2);
  head.writeUInt32BE(ttl, 4);
  head.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([nameBytes, head, rdata]);
}

function soaRecord(zone, ttl) {
  const tail = Buffer.alloc(20);
  tail.writeUInt32BE(1, 0); // serial
  tail.writeUInt32BE(3600, 4); // refresh
  tail.writeUInt32BE(600, 8); // retry
  tail.writeUInt32BE(86400, 12); // expire
  tail.writeUInt32BE(ttl, 16); // minimum: the negative TTL
  const rdata = Buffer.concat([encodeName(`ns.${zone}`), encodeName(`hostmaster.${zone}`), tail]);
  return rr(encodeName(zone), TYPE_SOA, ttl, rdata);
}

/** Reads the question of a query: { id, rd, name, type, end } or null when it is not one. */
function readQuestion(msg) {
  if (msg.length < 12 || (msg[2] & 0x80) !== 0 || msg.readUInt16BE(4) !== 1) return null;
  const labels = [];
  let i = 12;
  for (;;) {
    if (i >= msg.length) return null;
    const len = msg[i];
    if (len === 0) break;
    if (len > 63 || i + 1 + len > msg.length) return null;
    labels.push(msg.toString('ascii', i + 1, i + 1 + len).toLowerCase());
    i += 1 + len;
  }
  i += 1;
  if (i + 4 > msg.length) return null;
  return {
    id: msg.readUInt16BE(0),
    rd: msg[2] & 1,
    name: labels.join('.'),
    type: msg.readUInt16BE(i),
    end: i + 4,
  };
}

/**
 * Starts the server on `host` (default 127.0.0.1) and a free UDP port.
 * Resolves with { host, port, queries(), close() }.
 */
export async function startDnsServer({ zone, address = '127.0.0.1', ttl = 3600, host = '127.0.0.1' }) {
  const z = zone.replace(/\.$/, '').toLowerCase();
  const soa = soaRecord(z, ttl);
  const a = Buffer.from(address.split('.').map(Number));
  let queries = 0;
  const socket = dgram.createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    const q = readQuestion(msg);
    if (q === null) return;
    queries++;
    const inZone = q.name === z || q.name.endsWith(`.${z}`);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(q.id, 0);
    header[2] = 0x84 | q.rd; // QR, AA, RD as asked
    header[3] = inZone ? 0 : 3; // NOERROR or NXDOMAIN
    header.writeUInt16BE(1, 4);
    const question = msg.subarray(12, q.end);
    let answer = null;
    if (inZone && q.type === TYPE_A) answer = rr(Buffer.from([0xc0, 12]), TYPE_A, ttl, a);
    header.writeUInt16BE(answer === null ? 0 : 1, 6);
    header.writeUInt16BE(answer === null ? 1 : 0, 8);
    const reply = Buffer.concat(answer === null ? [header, question, soa] : [header, question, answer]);
    socket.send(reply, rinfo.port, rinfo.address);
  });
  socket.bind(0, host);
  await once(socket, 'listening');
  return {
    host,
    port: socket.address().port,
    queries: () => queries,
    close: () => new Promise((resolve) => socket.close(resolve)),
  };
}
