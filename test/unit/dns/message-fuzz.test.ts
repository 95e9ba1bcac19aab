// A property test of the DNS codec: random bytes and mutated valid messages
// (bit flips, overwritten bytes, cuts, insertions, swapped spans) either
// decode into a well-formed Message or fail with a DnsMessageError - never
// another exception, never a hang - and whatever decodes can be interpreted
// without throwing. Seeded, so a failure names the seed that reproduces it
// (DNS_FUZZ_SEED=<n> to replay, DNS_FUZZ_RUNS=<n> for a longer run).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpret, mismatch } from '../../../src/dns/answer.js';
import { decodeMessage, RRType } from '../../../src/dns/message.js';
import { DnsMessageError } from '../../../src/errors.js';
import { alpnValue, buildResponse, ipv4, svcbData, T } from '../../support/dns-wire.js';
import { xorshift } from '../../support/seeded-random.js';

const SEEDS: Buffer[] = [
  buildResponse({
    id: 1,
    question: { name: 'www.test', type: T.A },
    answers: [
      { name: 'www.test', type: T.CNAME, cname: 'a.test' },
      { name: 'a.test', type: T.A, a: '192.0.2.1' },
    ],
  }),
  buildResponse({
    id: 2,
    question: { name: 'none.test', type: T.AAAA },
    rcode: 3,
    authorities: [{ name: 'test', type: T.SOA, soa: { minimum: 60 } }],
  }),
  buildResponse({
    id: 3,
    question: { name: 'bad.test', type: T.A },
    rcode: 2,
    ede: [{ code: 6, text: 'x' }],
  }),
  buildResponse({
    id: 4,
    question: { name: 's.test', type: T.HTTPS },
    answers: [
      {
        name: 's.test',
        type: T.HTTPS,
        data: svcbData(1, 'alt.test', [
          [1, alpnValue(['h3', 'h2'])],
          [4, ipv4('192.0.2.3')],
        ]),
      },
    ],
  }),
  // With a compression pointer: the answer's owner points at the question.
  Buffer.concat([
    Buffer.from([0, 5, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]),
    Buffer.from([3, 0x77, 0x77, 0x77, 4, 0x74, 0x65, 0x73, 0x74, 0, 0, 1, 0, 1]),
    Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4, 10, 0, 0, 1]),
  ]),
];

function mutate(rand: () => number, input: Buffer): Buffer {
  let buf = Buffer.from(input);
  const steps = 1 + Math.floor(rand() * 4);
  for (let s = 0; s < steps; s++) {
    const at = Math.floor(rand() * Math.max(1, buf.length));
    switch (Math.floor(rand() * 6)) {
      case 0:
        if (buf.length > 0) buf[at] = buf[at]! ^ (1 << Math.floor(rand() * 8));
        break;
      case 1:
        if (buf.length > 0) buf[at] = Math.floor(rand() * 256);
        break;
      case 2:
        buf = buf.subarray(0, at);
        break;
      case 3: {
        const extra = Buffer.from(
          Array.from({ length: 1 + Math.floor(rand() * 8) }, () => Math.floor(rand() * 256)),
        );
        buf = Buffer.concat([buf.subarray(0, at), extra, buf.subarray(at)]);
        break;
      }
      case 4:
        // A compression pointer dropped anywhere.
        if (buf.length > 1) {
          buf[at] = 0xc0 | Math.floor(rand() * 4);
          if (at + 1 < buf.length) buf[at + 1] = Math.floor(rand() * 256);
        }
        break;
      default: {
        const from = Math.floor(rand() * Math.max(1, buf.length));
        const len = Math.floor(rand() * 8);
        buf = Buffer.concat([buf.subarray(0, at), buf.subarray(from, from + len), buf.subarray(at)]);
      }
    }
  }
  return buf;
}

function check(buf: Buffer, label: string): 'ok' | 'refused' {
  let m: ReturnType<typeof decodeMessage>;
  try {
    m = decodeMessage(buf);
  } catch (err) {
    if (err instanceof DnsMessageError) return 'refused';
    throw new Error(`${label}: threw ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
  assert.ok(m.answers.length + m.authorities.length + m.additionals.length <= 512, label);
  for (const rr of [...m.answers, ...m.authorities, ...m.additionals]) {
    assert.ok(rr.ttl >= 0 && rr.ttl <= 0x7fffffff, `${label}: ttl ${rr.ttl}`);
    assert.ok(rr.name.length <= 255 * 4, `${label}: name of ${rr.name.length} chars`);
  }
  const q = m.questions[0];
  if (q) {
    const key = { id: m.id, name: q.name, type: q.type === RRType.OPT ? RRType.A : q.type };
    if (mismatch(key, m) === null) interpret(key, m);
  }
  return 'ok';
}

test('random and mutated messages decode or fail with a DnsMessageError', () => {
  const seed = Number(process.env.DNS_FUZZ_SEED ?? 0x5eed);
  const runs = Number(process.env.DNS_FUZZ_RUNS ?? 20000);
  const rand = xorshift(seed);
  const counts = { ok: 0, refused: 0 };
  const started = Date.now();
  for (let i = 0; i < runs; i++) {
    let buf: Buffer;
    if (i % 4 === 0) {
      buf = Buffer.from(Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256)));
      // A plausible header makes random bodies reach the record parser.
      if (buf.length >= 12 && rand() < 0.7) {
        buf.writeUInt16BE(Math.floor(rand() * 2), 4);
        buf.writeUInt16BE(Math.floor(rand() * 6), 6);
        buf.writeUInt16BE(Math.floor(rand() * 3), 8);
        buf.writeUInt16BE(Math.floor(rand() * 3), 10);
      }
    } else {
      buf = mutate(rand, SEEDS[i % SEEDS.length]!);
    }
    counts[check(buf, `seed ${seed} run ${i}`)]++;
  }
  // Both outcomes must occur, or the mutations are not reaching the parser.
  assert.ok(counts.ok > runs / 20, `only ${counts.ok} of ${runs} decoded`);
  assert.ok(counts.refused > runs / 20, `only ${counts.refused} of ${runs} refused`);
  assert.ok(Date.now() - started < 20000, 'decoding stays fast on hostile input');
});
