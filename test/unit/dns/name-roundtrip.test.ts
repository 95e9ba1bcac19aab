// Query names, written and read back (src/dns/wire.ts, message.ts): any host
// name a DNS message can carry goes into a query and comes out of the
// decoder as the same name (lower or upper case kept, a final dot dropped),
// and any string at all is either encoded that way or refused with a
// DnsMessageError - never another exception, never a label or name past
// its limit on the wire. Seeded (NAME_FUZZ_SEED=<n> to replay).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeMessage, encodeQuery, RRType } from '../../../src/dns/message.js';
import { encodeName, readName } from '../../../src/dns/wire.js';
import { DnsMessageError } from '../../../src/errors.js';
import { xorshift } from '../../support/seeded-random.js';

const SEED = Number(process.env.NAME_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const LDH = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

test(`a host name goes into a query and comes back out the same (seed ${SEED})`, () => {
  const rand = xorshift(SEED);
  const pick = (n: number) => Math.floor(rand() * n);
  for (let i = 0; i < 5_000; i++) {
    const labels: string[] = [];
    let length = 1;
    const count = 1 + pick(8);
    for (let j = 0; j < count; j++) {
      const size = 1 + (rand() < 0.05 ? 62 : pick(20));
      if (length + size + 1 > 255) break;
      let label = '';
      for (let k = 0; k < size; k++) label += LDH[pick(LDH.length)];
      labels.push(label);
      length += size + 1;
    }
    const name = labels.join('.');
    const asked = rand() < 0.2 ? `${name}.` : name;
    const bytes = encodeName(asked);
    assert.equal(bytes.length, length, `wire length of ${asked}`);
    assert.deepEqual(readName(bytes, 0, 'name'), { name, end: bytes.length });
    const id = pick(0x10000);
    const m = decodeMessage(
      encodeQuery({ id, name: asked, type: RRType.AAAA, padBlock: rand() < 0.5 ? 128 : 0 }),
    );
    assert.equal(m.id, id);
    assert.deepEqual(m.questions, [{ name, type: RRType.AAAA, class: 1 }]);
  }
});

test(`any string is encoded as a readable name or refused with a DnsMessageError (seed ${SEED})`, () => {
  const rand = xorshift(SEED ^ 0x5bd1e995);
  const pick = (n: number) => Math.floor(rand() * n);
  const alphabet = `${LDH}..\\ \u00e9\u4e2d\u{1F600}\u0000`;
  for (let i = 0; i < 5_000; i++) {
    let s = '';
    const size = pick(rand() < 0.1 ? 400 : 40);
    for (let k = 0; k < size; k++) s += alphabet[pick(alphabet.length)];
    let bytes: Buffer;
    try {
      bytes = encodeName(s);
    } catch (err) {
      assert.ok(err instanceof DnsMessageError, `${JSON.stringify(s)}: ${String(err)}`);
      continue;
    }
    assert.ok(bytes.length <= 255, `${JSON.stringify(s)} took ${bytes.length} octets`);
    // Every label within 63 octets, the name ending at the root label.
    let o = 0;
    while (bytes[o] !== 0) {
      assert.ok(bytes[o]! >= 1 && bytes[o]! <= 63, `${JSON.stringify(s)}: label length ${bytes[o]}`);
      o += bytes[o]! + 1;
    }
    assert.equal(o, bytes.length - 1);
    readName(bytes, 0, 'name');
  }
});
