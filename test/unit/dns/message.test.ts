// The DNS message codec without a network: queries byte by byte, answers
// decoded (A, AAAA, CNAME, SOA, HTTPS, EDNS extended errors), and the hostile
// messages it must refuse (pointer loops, truncation, lying counts, too many
// records, oversized input, bad record lengths).

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DnsMessageError } from '../../../src/errors.js';
import { decodeMessage, encodeQuery, RRType } from '../../../src/dns/message.js';
import { encodeName, readName } from '../../../src/dns/wire.js';
import { alpnValue, buildResponse, ipv4, ipv6, nameBytes, svcbData, T } from '../../support/dns-wire.js';

describe('encodeQuery', () => {
  test('writes the header, one question and an EDNS(0) OPT record', () => {
    const q = encodeQuery({ id: 0xbeef, name: 'example.com', type: RRType.AAAA });
    assert.equal(q.readUInt16BE(0), 0xbeef);
    assert.equal(q[2], 0x01, 'RD set, QR and opcode zero');
    assert.equal(q.readUInt16BE(4), 1);
    assert.equal(q.readUInt16BE(10), 1, 'one additional record: the OPT');
    const qname = nameBytes('example.com');
    assert.deepEqual(q.subarray(12, 12 + qname.length), qname);
    assert.equal(q.readUInt16BE(12 + qname.length), 28);
    assert.equal(q.readUInt16BE(12 + qname.length + 2), 1);
    const opt = q.subarray(12 + qname.length + 4);
    assert.equal(opt.length, 11);
    assert.equal(opt.readUInt16BE(1), 41);
    assert.equal(opt.readUInt16BE(3), 1232, 'advertises the flag-day buffer size');
  });

  test('leaves out the OPT record when EDNS is off', () => {
    const q = encodeQuery({ id: 1, name: 'a.test', type: RRType.A, ednsUdpSize: null });
    assert.equal(q.readUInt16BE(10), 0);
    assert.equal(q.length, 12 + nameBytes('a.test').length + 4);
  });

  test('pads to a multiple of the block size with an RFC 7830 padding option', () => {
    for (const name of ['a.test', 'a-much-longer-name.example.org']) {
      const q = encodeQuery({ id: 1, name, type: RRType.A, padBlock: 128 });
      assert.equal(q.length % 128, 0, `${name}: ${q.length} bytes`);
      const m = decodeMessage(Buffer.concat([q]));
      assert.equal(m.questions[0]!.name, name);
    }
  });

  test('refuses names a DNS message cannot carry', () => {
    assert.throws(() => encodeName('a..b'), DnsMessageError);
    assert.throws(() => encodeName(`${'x'.repeat(64)}.test`), /longer than 63/);
    assert.throws(() => encodeName(Array(130).fill('ab').join('.')), /longer than 255/);
  });

  test('encodes internationalised names through IDNA', () => {
    assert.deepEqual(encodeName('bücher.example'), nameBytes('xn--bcher-kva.example'));
  });
});

describe('decodeMessage', () => {
  test('reads A, AAAA and CNAME records with their TTLs', () => {
    const buf = buildResponse({
      id: 7,
      question: { name: 'www.test', type: T.A },
      answers: [
        { name: 'www.test', type: T.CNAME, ttl: 60, cname: 'host.test' },
        { name: 'host.test', type: T.A, ttl: 30, a: '192.0.2.1' },
        { name: 'host.test', type: T.AAAA, ttl: 30, aaaa: '2001:db8::1' },
      ],
    });
    const m = decodeMessage(buf);
    assert.equal(m.id, 7);
    assert.equal(m.isResponse, true);
    assert.deepEqual(m.questions, [{ name: 'www.test', type: 1, class: 1 }]);
    assert.deepEqual(
      m.answers.map((r) => [r.name, r.ttl, r.data]),
      [
        ['www.test', 60, { kind: 'cname', target: 'host.test' }],
        ['host.test', 30, { kind: 'a', address: '192.0.2.1' }],
        ['host.test', 30, { kind: 'aaaa', address: '2001:db8::1' }],
      ],
    );
  });

  test('formats IPv6 addresses in RFC 5952 form', () => {
    const cases: Array<[string, string]> = [
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['2001:0:1:0:1:0:1:0', '2001:0:1:0:1:0:1:0'],
    ];
    for (const [input, want] of cases) {
      const m = decodeMessage(
        buildResponse({ id: 1, question: null, answers: [{ name: 'x', type: T.AAAA, data: ipv6(input) }] }),
      );
      assert.deepEqual(m.answers[0]!.data, { kind: 'aaaa', address: want });
    }
  });

  test('follows compression pointers that point backwards', () => {
    const header = Buffer.from([0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]);
    const question = Buffer.concat([nameBytes('www.example.test'), Buffer.from([0, 1, 0, 1])]);
    // Answer owner: pointer to offset 12 (the question name).
    const rr = Buffer.concat([Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 9, 0, 4]), ipv4('198.51.100.7')]);
    const m = decodeMessage(Buffer.concat([header, question, rr]));
    assert.equal(m.answers[0]!.name, 'www.example.test');
    assert.deepEqual(m.answers[0]!.data, { kind: 'a', address: '198.51.100.7' });
  });

  test('reads the RFC 8914 extended error and the extended RCODE from the OPT record', () => {
    const m = decodeMessage(
      buildResponse({
        id: 9,
        question: { name: 'bogus.test', type: T.A },
        rcode: 2,
        ede: [{ code: 6, text: 'signature invalid' }],
      }),
    );
    assert.equal(m.rcode, 2);
    assert.deepEqual(m.edns?.extendedErrors, [{ infoCode: 6, extraText: 'signature invalid' }]);
    assert.equal(m.additionals.length, 0, 'the OPT record is not an ordinary additional record');
  });

  test('reads HTTPS records: priority, target, alpn, port and hints', () => {
    const data = svcbData(1, '', [
      [1, alpnValue(['h3', 'h2'])],
      [3, Buffer.from([0x01, 0xbb])],
      [4, Buffer.concat([ipv4('192.0.2.1'), ipv4('192.0.2.2')])],
      [6, ipv6('2001:db8::1')],
    ]);
    const m = decodeMessage(
      buildResponse({
        id: 1,
        question: { name: 'svc.test', type: T.HTTPS },
        answers: [{ name: 'svc.test', type: T.HTTPS, data }],
      }),
    );
    assert.deepEqual(m.answers[0]!.data, {
      kind: 'svcb',
      priority: 1,
      target: '',
      alpn: ['h3', 'h2'],
      noDefaultAlpn: false,
      port: 443,
      ipv4Hints: ['192.0.2.1', '192.0.2.2'],
      ipv6Hints: ['2001:db8::1'],
      ech: null,
    });
  });

  test('refuses HTTPS records whose keys are out of order', () => {
    const data = svcbData(1, '', [
      [3, Buffer.from([0x01, 0xbb])],
      [1, alpnValue(['h2'])],
    ]);
    const buf = buildResponse({ id: 1, question: null, answers: [{ name: 's.test', type: T.HTTPS, data }] });
    assert.throws(() => decodeMessage(buf), /increasing order/);
  });

  test('escapes label bytes that would change the meaning of a name', () => {
    const raw = Buffer.from([3, 0x61, 0x2e, 0x00, 4, 0x74, 0x65, 0x73, 0x74, 0]);
    assert.equal(readName(raw, 0, 'name').name, 'a\\046\\000.test');
  });
});

describe('decodeMessage refuses hostile messages', () => {
  const header = (an: number) => Buffer.from([0, 1, 0x81, 0x80, 0, 0, 0, an, 0, 0, 0, 0]);

  test('a compression pointer to itself', () => {
    const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    assert.throws(() => decodeMessage(Buffer.concat([header(1), rr])), /does not point backwards/);
  });

  test('two pointers pointing at each other', () => {
    // A name at 12 that is a label then a pointer forward to 20, where a pointer points back to 12.
    const body = Buffer.from([1, 0x61, 0xc0, 20, 0, 0, 0, 0, 0xc0, 12]);
    const msg = Buffer.concat([header(0), body]);
    assert.throws(() => readName(msg, 20, 'name'), /does not point backwards/);
    assert.throws(() => readName(msg, 12, 'name'), /does not point backwards/);
  });

  test('a pointer chain that revisits a suffix', () => {
    // Label "a" at 12 then a pointer to 12: a loop through a backward pointer.
    const body = Buffer.from([1, 0x61, 0xc0, 12]);
    assert.throws(() => readName(Buffer.concat([header(0), body]), 14, 'name'), DnsMessageError);
  });

  test('a message cut anywhere', () => {
    const full = buildResponse({
      id: 3,
      question: { name: 'cut.test', type: T.A },
      answers: [{ name: 'cut.test', type: T.A, a: '192.0.2.9' }],
    });
    for (let i = 0; i < full.length; i++) {
      assert.throws(() => decodeMessage(full.subarray(0, i)), DnsMessageError, `cut at ${i}`);
    }
    assert.equal(decodeMessage(full).answers.length, 1);
  });

  test('record counts the message is too short to hold', () => {
    const buf = Buffer.concat([header(200), Buffer.alloc(20)]);
    assert.throws(() => decodeMessage(buf), /shorter than its record counts/);
  });

  test('more records than the limit', () => {
    const answers = Array.from({ length: 20 }, (_, i) => ({ name: 'm.test', type: T.A, a: `192.0.2.${i}` }));
    const buf = buildResponse({ id: 1, question: null, answers });
    assert.equal(decodeMessage(buf).answers.length, 20);
    assert.throws(() => decodeMessage(buf, { maxRecords: 10 }), /20 records/);
  });

  test('a message larger than 64 KiB', () => {
    assert.throws(() => decodeMessage(Buffer.alloc(65536)), /larger than 65535/);
  });

  test('an A record whose data is not 4 bytes', () => {
    const buf = buildResponse({
      id: 1,
      question: null,
      answers: [{ name: 'x', type: T.A, data: Buffer.alloc(5) }],
    });
    assert.throws(() => decodeMessage(buf), /not 4/);
  });

  test('a CNAME whose target runs past its record length', () => {
    const rr = Buffer.concat([
      nameBytes('x'),
      Buffer.from([0, 5, 0, 1, 0, 0, 0, 1, 0, 2]),
      nameBytes('long.target'),
    ]);
    assert.throws(() => decodeMessage(Buffer.concat([header(1), rr])), DnsMessageError);
  });

  test('two OPT records', () => {
    const opt = Buffer.from([0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]);
    const h = Buffer.from([0, 1, 0x81, 0x80, 0, 0, 0, 0, 0, 0, 0, 2]);
    assert.throws(() => decodeMessage(Buffer.concat([h, opt, opt])), /more than one OPT/);
  });
});
