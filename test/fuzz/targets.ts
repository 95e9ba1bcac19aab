// Fuzz targets (RELIABILITY.md, "Fuzzing"): property tests with fast-check
// over the code that reads what a server sends. Each target generates inputs
// (mutations of real responses from corpus/, or structured ones) and checks
// one rule for all of them: the code either succeeds or throws one of the
// library's own error classes; where a right answer is known (a chunked body,
// a compressed body, a URL written back), it is the answer. Any other
// exception class, or a wrong answer, is a failure fast-check shrinks and
// reports. `scripts/fuzz.mjs` runs them, each in its own process under a
// time limit (a hang fails too).

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import fc from 'fast-check';
import { createContentDecoder, decodeAllSync } from '../../src/body/decoders.js';
import { openHttpTunnel } from '../../src/connectors/http-tunnel.js';
import { SocksHandshake, type SocksVersion } from '../../src/connectors/socks-handshake.js';
import {
  DecodeError,
  DnsMessageError,
  HTTPError,
  LocationValueError,
  ProxyError,
  SocksError,
} from '../../src/errors.js';
import { H1ResponseParser, type ResponseHead } from '../../src/protocol/h1/parser.js';
import { parseUrl } from '../../src/url.js';
import { acceptResponse, mismatch } from '../../src/dns/answer.js';
import { decodeMessage, encodeQuery, RRType } from '../../src/dns/message.js';

export interface FuzzTarget {
  name: string;
  /** Inputs are cheap (sync) or need the event loop (async). */
  property: () => fc.IPropertyWithHooks<unknown> | fc.IAsyncPropertyWithHooks<unknown>;
  async: boolean;
}

/** The seeds: real responses captured by scripts/fuzz-corpus.ts. */
export const CORPUS: readonly Buffer[] = (() => {
  const dir = join(import.meta.dirname, 'corpus', 'h1');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.http'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
})();

/** Byte strings framing cares about, spliced into mutations. */
const TOKENS = [
  '\r\n',
  '\n',
  '\r',
  '\0',
  ': ',
  ':',
  ' ',
  '\t',
  '0\r\n\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 0\r\n',
  'Content-Length: 18446744073709551616\r\n',
  'Content-Length: 5, 6\r\n',
  'Connection: close\r\n',
  'HTTP/1.1 100 Continue\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\n\r\n',
  'HTTP/1.0 ',
  'HTTP/2 ',
  'ffffffffffffffff\r\n',
  ';ext=1',
  '-1',
  '\x80\xff',
].map((s) => Buffer.from(s, 'latin1'));

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'insert'; at: number; token: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), token: fc.nat(TOKENS.length - 1) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function mutate(seed: Buffer, mutations: readonly Mutation[]): Buffer {
  let b = seed;
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (b.length === 0) break;
        b = Buffer.from(b);
        b[at % b.length] = m.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), TOKENS[m.token]!, b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.length)]);
        break;
      case 'duplicate':
        b = Buffer.concat([b.subarray(0, at + m.length), b.subarray(at)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** A real response, mutated a few times, or plain random bytes. */
const responseBytes: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .tuple(fc.nat(CORPUS.length - 1), fc.array(mutation, { maxLength: 6 }))
      .map(([i, ms]) => mutate(CORPUS[i]!, ms)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((u) => Buffer.from(u)) },
);

/** Where to cut the input into pieces, as fractions of its length. */
const cuts = fc.array(fc.nat(1000), { maxLength: 8 });

function split(b: Buffer, fractions: readonly number[]): Buffer[] {
  const points = [...new Set(fractions.map((f) => Math.floor((f / 1000) * b.length)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(b.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < b.length) out.push(b.subarray(prev));
  return out;
}

interface Parsed {
  heads: Array<{ status: number; headers: string[]; bodyKind: string }>;
  body: Buffer;
  trailers: string[] | null;
  complete: boolean;
  error: Error | null;
}

/** Feeds `pieces` to a fresh parser for `method`, as a session does; then EOF. */
function parseAll(pieces: readonly Buffer[], method: string, options = {}): Parsed {
  const out: Parsed = { heads: [], body: Buffer.alloc(0), trailers: null, complete: false, error: null };
  const body: Buffer[] = [];
  const parser = new H1ResponseParser(
    {
      onHead: (h: ResponseHead) =>
        out.heads.push({ status: h.status, headers: h.headers, bodyKind: h.bodyKind }),
      onBody: (c) => body.push(Buffer.from(c)),
      onTrailers: (t) => {
        out.trailers = t;
      },
      onComplete: () => {
        out.complete = true;
      },
    },
    options,
  );
  parser.start(method);
  try {
    for (const p of pieces) {
      parser.feed(p);
      const s = parser.state;
      if (s === 'done' || s === 'upgraded') break;
    }
    if (parser.state !== 'done' && parser.state !== 'upgraded') parser.finish();
  } catch (err) {
    out.error = err as Error;
  }
  out.body = Buffer.concat(body);
  return out;
}

/** Only the library's own errors may come out of code that reads a server's bytes. */
function expected(err: unknown, ...classes: Array<abstract new (...a: never[]) => Error>): void {
  if (classes.some((c) => err instanceof c)) return;
  throw new Error(
    `unexpected exception class: ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`,
    {
      cause: err,
    },
  );
}

function same(a: Parsed, b: Parsed): boolean {
  return (
    JSON.stringify(a.heads) === JSON.stringify(b.heads) &&
    a.body.equals(b.body) &&
    JSON.stringify(a.trailers) === JSON.stringify(b.trailers) &&
    a.complete === b.complete &&
    (a.error === null) === (b.error === null)
  );
}

// ---- the HTTP/1.1 response parser -----------------------------------------------

const h1Parser: FuzzTarget = {
  name: 'h1-parser',
  async: false,
  property: () =>
    fc.property(
      responseBytes,
      cuts,
      fc.constantFrom('GET', 'HEAD', 'POST', 'CONNECT'),
      (bytes, fractions, method) => {
        const whole = parseAll([bytes], method);
        if (whole.error !== null) expected(whole.error, HTTPError);
        // However the bytes are cut, the parser says the same thing.
        const pieces = parseAll(split(bytes, fractions), method);
        if (pieces.error !== null) expected(pieces.error, HTTPError);
        if (!same(whole, pieces)) throw new Error('the parse depends on where the input was split');
      },
    ),
};

// ---- chunked transfer coding ---------------------------------------------------------

const chunkedBody = fc.record({
  chunks: fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 12 }),
  ext: fc.array(fc.constantFrom('', ';a=1', ';name="q;uoted"', ' ;x', ';\t=y'), { maxLength: 12 }),
  hexCase: fc.boolean(),
  zeros: fc.nat(3),
  trailers: fc.array(
    fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,10}$/), fc.stringMatching(/^[ -~]{0,20}$/)),
    {
      maxLength: 3,
    },
  ),
  lf: fc.boolean(),
});

const h1Chunked: FuzzTarget = {
  name: 'chunked',
  async: false,
  property: () =>
    fc.property(
      chunkedBody,
      cuts,
      fc.array(mutation, { maxLength: 2 }),
      fc.boolean(),
      (c, fractions, ms, mutated) => {
        const eol = c.lf ? '\n' : '\r\n';
        const parts: Buffer[] = [Buffer.from(`HTTP/1.1 200 OK${eol}Transfer-Encoding: chunked${eol}${eol}`)];
        c.chunks.forEach((chunk, i) => {
          let size = chunk.length.toString(16);
          size = c.hexCase ? size.toUpperCase() : size;
          parts.push(
            Buffer.from(`${'0'.repeat(c.zeros)}${size}${c.ext[i] ?? ''}${eol}`),
            Buffer.from(chunk),
            Buffer.from(eol),
          );
        });
        parts.push(Buffer.from(`0${eol}`));
        for (const [n, v] of c.trailers) parts.push(Buffer.from(`${n}: ${v}${eol}`));
        parts.push(Buffer.from(eol));
        const wire = Buffer.concat(parts);
        if (mutated) {
          const out = parseAll(split(mutate(wire, ms), fractions), 'GET');
          if (out.error !== null) expected(out.error, HTTPError);
          return;
        }
        const out = parseAll(split(wire, fractions), 'GET');
        if (out.error !== null) throw out.error;
        if (!out.complete) throw new Error('a whole chunked body did not complete');
        if (!out.body.equals(Buffer.concat(c.chunks.map((u) => Buffer.from(u)))))
          throw new Error('wrong body bytes');
        if (c.trailers.length > 0 && out.trailers?.length !== c.trailers.length * 2)
          throw new Error('wrong trailers');
      },
    ),
};

// ---- CONNECT answers -------------------------------------------------------------------

/** A proxy's answer to CONNECT through the real tunnel code, over an in-memory socket. */
async function tunnel(answer: readonly Buffer[]): Promise<Error | null> {
  const socket = new PassThrough();
  // The tunnel writes the CONNECT request; nobody reads it here.
  socket.write = () => true;
  // As a TCP socket (allowHalfOpen false): the peer's FIN closes it.
  socket.once('end', () => socket.destroy());
  const opened = openHttpTunnel(socket, {
    host: 'example.com',
    port: 443,
    headers: [],
    timeout: null,
    signal: null,
    label: 'fuzz',
    proxy: 'proxy:3128',
  });
  for (const piece of answer) socket.push(piece);
  socket.push(null);
  try {
    await opened;
    return null;
  } catch (err) {
    return err as Error;
  }
}

const connectAnswers = fc.oneof(
  responseBytes,
  fc
    .tuple(
      fc.integer({ min: 100, max: 599 }),
      fc.array(mutation, { maxLength: 3 }),
      fc.uint8Array({ maxLength: 64 }),
    )
    .map(([status, ms, after]) =>
      mutate(
        Buffer.concat([
          Buffer.from(`HTTP/1.1 ${status} Whatever\r\nProxy-Agent: fuzz\r\n\r\n`),
          Buffer.from(after),
        ]),
        ms,
      ),
    ),
);

const connectHandshake: FuzzTarget = {
  name: 'connect',
  async: true,
  property: () =>
    fc.asyncProperty(connectAnswers, cuts, async (bytes, fractions) => {
      const err = await tunnel(split(bytes, fractions));
      if (err !== null) expected(err, ProxyError);
    }),
};

// ---- SOCKS replies -------------------------------------------------------------------------

const socksReplies = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((u) => Buffer.from(u)),
  // Plausible replies: a SOCKS5 method choice, auth status and connect reply, mutated.
  fc
    .tuple(
      fc.constantFrom(0x00, 0x02, 0xff, 0x01),
      fc.constantFrom(0x00, 0x01),
      fc.integer({ min: 0, max: 9 }),
      fc.constantFrom(0x01, 0x03, 0x04, 0x07),
      fc.uint8Array({ maxLength: 40 }),
      fc.array(mutation, { maxLength: 2 }),
    )
    .map(([method, auth, rep, atyp, rest, ms]) =>
      mutate(Buffer.concat([Buffer.from([5, method, 1, auth, 5, rep, 0, atyp]), Buffer.from(rest)]), ms),
    ),
  // SOCKS4 replies.
  fc
    .tuple(fc.integer({ min: 0x58, max: 0x5e }), fc.uint8Array({ maxLength: 16 }))
    .map(([cd, rest]) => Buffer.concat([Buffer.from([0, cd, 0, 80, 1, 2, 3, 4]), Buffer.from(rest)])),
);

const socksHandshake: FuzzTarget = {
  name: 'socks',
  async: false,
  property: () =>
    fc.property(
      socksReplies,
      cuts,
      fc.constantFrom<SocksVersion>('socks4', 'socks4a', 'socks5', 'socks5h'),
      fc.boolean(),
      (bytes, fractions, version, auth) => {
        const host = version === 'socks4' ? '10.1.2.3' : 'example.com';
        const hs = new SocksHandshake(
          version,
          { host, port: 443 },
          {
            username: auth ? 'user' : null,
            password: auth ? 'pass' : null,
          },
        );
        hs.start();
        try {
          for (const piece of split(bytes, fractions)) {
            const r = hs.feed(piece);
            if (r.done) {
              if (r.leftover !== null && r.leftover.length === 0) throw new Error('an empty leftover');
              return;
            }
          }
        } catch (err) {
          expected(err, SocksError, ProxyError);
        }
      },
    ),
};

// ---- content decoders -------------------------------------------------------------------------

const CODINGS = ['gzip', 'deflate', 'br', 'zstd', 'identity', 'x-gzip', 'bogus'] as const;

function encode(coding: string, data: Buffer): Buffer {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gzipSync(data);
    case 'deflate':
      return zlib.deflateSync(data);
    case 'br':
      return zlib.brotliCompressSync(data);
    default:
      return data;
  }
}

const decoders: FuzzTarget = {
  name: 'decoders',
  async: false,
  property: () =>
    fc.property(
      fc.array(fc.constantFrom(...CODINGS), { minLength: 1, maxLength: 7 }),
      fc.uint8Array({ maxLength: 2048 }),
      fc.array(mutation, { maxLength: 3 }),
      fc.boolean(),
      (codings, plain, ms, corrupt) => {
        const header = codings.join(', ');
        const data: Buffer = Buffer.from(plain);
        const roundTrip = codings.every((c) => c !== 'zstd' && c !== 'bogus') && codings.length <= 5;
        // Applied in order, so the last listed coding is the outermost.
        let wire: Buffer = data;
        if (roundTrip) for (const c of codings) wire = encode(c, wire);
        if (corrupt || !roundTrip) wire = mutate(wire, ms);
        let out: Buffer;
        try {
          out = decodeAllSync(header, wire);
        } catch (err) {
          expected(err, DecodeError);
          if (roundTrip && !corrupt && data.length > 0)
            throw new Error(`a valid ${header} body failed to decode`, { cause: err });
          return;
        }
        if (roundTrip && !corrupt && !out.equals(data))
          throw new Error(`${header} decoded to the wrong bytes`);
      },
    ),
};

/** The streaming decoder the responses use, reading in random step sizes. */
const streamingDecoders: FuzzTarget = {
  name: 'decoders-streaming',
  async: true,
  property: () =>
    fc.asyncProperty(
      fc.array(fc.constantFrom('gzip', 'deflate', 'br'), { minLength: 1, maxLength: 3 }),
      fc.uint8Array({ maxLength: 4096 }),
      fc.array(mutation, { maxLength: 2 }),
      fc.boolean(),
      cuts,
      fc.array(fc.integer({ min: 1, max: 70_000 }), { minLength: 1, maxLength: 6 }),
      async (codings, plain, ms, corrupt, fractions, steps) => {
        const data: Buffer = Buffer.from(plain);
        let wire: Buffer = data;
        for (const c of codings) wire = encode(c, wire);
        if (corrupt) wire = mutate(wire, ms);
        const decoder = createContentDecoder(codings.join(', '))!;
        const got: Buffer[] = [];
        try {
          for (const p of split(wire, fractions)) decoder.write(p);
          decoder.end();
          for (let i = 0; ; i++) {
            const out = await decoder.read(steps[i % steps.length]!);
            if (out.length === 0 && decoder.finished) break;
            if (out.length === 0) throw new Error('the decoder asked for input after end()');
            got.push(...out);
          }
        } catch (err) {
          decoder.destroy();
          expected(err, DecodeError);
          if (!corrupt && data.length > 0) throw new Error('a valid body failed to decode', { cause: err });
          return;
        }
        if (!corrupt && !Buffer.concat(got).equals(data)) throw new Error('decoded to the wrong bytes');
      },
    ),
};

// ---- URLs ------------------------------------------------------------------------------------

const urls = fc.oneof(
  fc.webUrl({
    withQueryParameters: true,
    withFragments: true,
    authoritySettings: { withUserInfo: true, withPort: true, withIPv6: true, withIPv4: true },
  }),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc
    .tuple(
      fc.constantFrom('http://', 'https://', '//', '', 'socks5h://', 'HTTP://'),
      fc.string({ maxLength: 40 }),
      fc.constantFrom('', ':80', ':0', ':65536', ':x', ']', '%25', '@', '/..', '?#'),
    )
    .map(([a, b, c]) => a + b + c),
);

const urlParser: FuzzTarget = {
  name: 'url',
  async: false,
  property: () =>
    fc.property(urls, (input) => {
      let u: ReturnType<typeof parseUrl>;
      try {
        u = parseUrl(input);
      } catch (err) {
        expected(err, LocationValueError);
        return;
      }
      // What parseUrl writes back parses to the same URL (normalising is idempotent). Without a
      // scheme it need not: `//a:0` writes back as `a:0`, which reads as scheme `a`, as in urllib3.
      if (u.scheme === null) return;
      const again = parseUrl(u.url);
      if (again.url !== u.url)
        throw new Error(`not idempotent: ${JSON.stringify(input)} -> ${u.url} -> ${again.url}`);
    }),
};

/**
 * The DNS codec on hostile answers: mutations of real-shaped answers (a query
 * echoed back with A, AAAA, CNAME and HTTPS records, compression pointers
 * included) and random bytes. Decoding either yields a message or throws
 * DnsMessageError; deciding whether it answers the query never throws; and a
 * decoded message's records hold what their types promise.
 */
function dnsAnswer(id: number, name: string): Buffer {
  const q = encodeQuery({ id, name, type: RRType.A, ednsUdpSize: null });
  const head = Buffer.from(q);
  head.writeUInt16BE(0x8180, 2); // QR, RD, RA
  head.writeUInt16BE(3, 6); // three answers
  const rr = (type: number, data: Buffer) => {
    const b = Buffer.alloc(12 + data.length);
    b.writeUInt16BE(0xc00c, 0); // a pointer to the question's name
    b.writeUInt16BE(type, 2);
    b.writeUInt16BE(1, 4);
    b.writeUInt32BE(300, 6);
    b.writeUInt16BE(data.length, 10);
    data.copy(b, 12);
    return b;
  };
  return Buffer.concat([
    head,
    rr(RRType.CNAME, Buffer.from([0xc0, 0x0c])),
    rr(RRType.A, Buffer.from([127, 0, 0, 1])),
    rr(RRType.AAAA, Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])),
  ]);
}

const dnsCodec: FuzzTarget = {
  name: 'dns',
  async: false,
  property: () =>
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 600 }),
        fc
          .record({
            id: fc.nat(0xffff),
            edits: fc.array(fc.tuple(fc.nat(200), fc.nat(255)), { maxLength: 8 }),
            cut: fc.nat(200),
          })
          .map(({ id, edits, cut }) => {
            const b = dnsAnswer(id, 'a.example.test');
            for (const [at, v] of edits) if (at < b.length) b[at] = v;
            return b.subarray(0, Math.max(12, b.length - (cut % 40)));
          }),
      ),
      (bytes) => {
        let m: ReturnType<typeof decodeMessage>;
        try {
          m = decodeMessage(bytes);
        } catch (err) {
          if (err instanceof DnsMessageError) return;
          throw err;
        }
        const key = { id: m.id, name: 'a.example.test', type: RRType.A };
        mismatch(key, m);
        acceptResponse(key, bytes, 'fuzz');
        for (const rr of m.answers) {
          const d = rr.data;
          if (d.kind === 'a' && !/^\d+\.\d+\.\d+\.\d+$/.test(d.address)) {
            throw new Error(`an A record that is not an IPv4 address: ${JSON.stringify(d.address)}`);
          }
          if (d.kind === 'aaaa' && !d.address.includes(':')) {
            throw new Error(`an AAAA record that is not an IPv6 address: ${JSON.stringify(d.address)}`);
          }
        }
      },
    ),
};

export const TARGETS: readonly FuzzTarget[] = [
  dnsCodec,
  h1Parser,
  h1Chunked,
  connectHandshake,
  socksHandshake,
  decoders,
  streamingDecoders,
  urlParser,
];
