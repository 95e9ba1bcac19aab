import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import zlib from 'node:zlib';
import {
  type ContentDecoder,
  createContentDecoder,
  decodeAll,
  decodeAllSync,
  MAX_STACKED_CODINGS,
  SUPPORTED_ENCODINGS,
} from '../../../src/body/decoders.js';
import { DecodeError } from '../../../src/errors.js';
import { bombs } from '../../support/bombs.js';

// The zstd fixtures come from the zstd CLI (v1.5.4), as the test suite has no
// zstd compressor of its own:
//   ZDATA_ZST: `node -e` writing zstdText() below to zdata.txt, then
//              `zstd -19 zdata.txt -o zdata.zst` (single-segment frame with a
//              2-byte content size and a content checksum)
//   SMALL_ZST: `printf 'hello, zstd!\n' > s.txt && zstd --no-check s.txt`
//   STREAMED_ZST: `printf 'streamed zstd frame\n' | zstd -c` (size unknown:
//              a window descriptor instead of a content size, with checksum)
// each dumped with `xxd -p`.
function zstdText(): string {
  let s = '';
  for (let i = 0; i < 300; i++)
    s += `line ${i}: the quick brown fox jumps over ${(i * 7919) % 1000} lazy dogs\n`;
  return s;
}

const ZDATA_ZST = Buffer.from(
  '28b52ffd64e33ee51f004a6a680c1970392c0750fa43e90fa58fffffd54a29539229918e4fef1e0ed700b700b600af219da6' +
    '9f1911fa98e5b9cc50873e4e0937d1c66c526709bde3b9f8bf3bfe47f229ea698a2fef218b8f2c334a2e752c97db62fbbc78' +
    '626aa2a1eb34872bbc967023696d448617bb96574466ae509952f3497c422654258bdaa9d0ebcfbd503a6c4b216c91ac318e' +
    'ce2fb243ec682845a7a7cc5b385d492359c531a8c15d6a14d3cacf24e6338df7936ca43a2257b12d6ab10d8b2eb53232df65' +
    '7f2ee3299558ab01a08000428183860d021a1ce230c1c00508070a111c585870c800e1c0e101060813061c1810506041c2c1' +
    '40820a87007130f0404183de69f1265e8fe8f4ea332f4ce1ad55328e64ad91c9ec329b96bd15d94c2aa312ca6a3c59fc219b' +
    '4c752451d7a8e984ea9defee32e9866c475176455d1723d1cd2e8e3d71dd0c2735e73c64ee2ee1a6e5682357b571410c6e6f' +
    '6d14a1adf46c12ff66bab77f641ba16ec4e256dba262dbac623429d676623279cc258e7d2cb1f11ba30e63355a2ca22236aa' +
    '2a9eaab229215f8eba4e959a4b8bc4ace257b1895a4d118788ea1a929ebc995e139a61895c52554641072d02434afda4674c' +
    'de24e4b44ad248568d0c5a903b6ba494c6526694f047933dfe9771643a128963456d8caa183715a447c1961394f541571dfc' +
    '8804c76e907a066bb3600445704455e38b6a95a909f79a83ae9d28b5795b2311d68a5e2df6a8ad5e34ce10ada6a149eb34cf' +
    'b497d066561a99a4553b5a5082b670cd48a659ff9989cc672679f628990d556774ce4ab6599431db5a1fabf475643eb1ffb9' +
    'f7f78d7c53d38f86f8956b5f487ce3ca6390bc12c793f79e451c53459ea858a9290a5f74ccc5d338678b2465b1282bc61cc5' +
    '958bc83911eb19a2944ef4cac4570971a644f248ac72c46083b8901a928486bd6728f20fcdf1f041321ca20ee9c561c986d1' +
    'c570639d2cd2d9e99c62f9e9dae77739a7de93667896696748c53996c91899a58d29e74d4b6d9e22e6846b129966fd33c313' +
    'e64a25e48a84ad1aa1cc85f62c7c29c2592ba42a85353261dc219cbc4a72a86cd09442f4d22f971729876b494196455c19d3' +
    '286729923591dd038257a81280a0f1f7ff0d52efb41d1248107804817ec1fff863eb74a4bb141abbfa77455b87998ba3fe31' +
    'b58dc2e0d92fc5dbba7270be795dd23d3c5c6d7f7c790f8a6ed1a87f6a555ee51cdc7d9e0f516538fe55df1a0d67b8fc3b6f' +
    'f5071e2edb6d7aa54b0fc35f772cb42b16c75d5b2dcf87c151aedca757e551cba7077fcfd56046ad02a3374fda0bfc7aa370' +
    'feb31ed837fd7413fafa84853e609af4f705a7f5c51574b18e76efbbe5786f3bf18d36d6ab6fa9bf2765b67a4d3466b28dae' +
    '2276d2db4e7863db382df78be6da15a3312e43602f0a31242799c602b4ada2aab4db',
  'hex',
);
const SMALL_ZST = Buffer.from('28b52ffd200d69000068656c6c6f2c207a737464210a', 'hex');
const STREAMED_ZST = Buffer.from('28b52ffd0458a1000073747265616d6564207a737464206672616d650a8866f09d', 'hex');

const TEXT = Buffer.from(zstdText());

/** Everything the decoder can give now, read `max` bytes at a time. */
async function readAvailable(decoder: ContentDecoder, max = Number.POSITIVE_INFINITY): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (;;) {
    const got = await decoder.read(max);
    if (got.length === 0) return out;
    for (const piece of got) {
      assert.ok(piece.length <= max, `read(${max}) returned ${piece.length} bytes`);
      out.push(piece);
    }
  }
}

/** Writes `data` in `step`-byte pieces, reading out what each allows, then ends. */
async function decodeStream(
  encoding: string,
  data: Buffer,
  step = data.length,
  max?: number,
): Promise<Buffer> {
  const decoder = createContentDecoder(encoding);
  assert.ok(decoder, `expected a decoder for ${encoding}`);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += step) {
    decoder.write(data.subarray(i, i + step));
    out.push(...(await readAvailable(decoder, max)));
  }
  decoder.end();
  out.push(...(await readAvailable(decoder, max)));
  assert.ok(decoder.finished, `the ${encoding} decoder is finished once its output is read`);
  return Buffer.concat(out);
}

function isDecodeErrorNaming(coding: string) {
  return (error: unknown) =>
    error instanceof DecodeError && error.message.includes(`(${coding}:`) && error.cause instanceof Error;
}

const ENCODERS: Record<string, (data: Buffer) => Buffer> = {
  gzip: (d) => zlib.gzipSync(d),
  'x-gzip': (d) => zlib.gzipSync(d),
  deflate: (d) => zlib.deflateSync(d),
  br: (d) => zlib.brotliCompressSync(d),
};

describe('createContentDecoder', () => {
  test('SUPPORTED_ENCODINGS lists what Accept-Encoding may offer', () => {
    assert.deepEqual([...SUPPORTED_ENCODINGS], ['gzip', 'deflate', 'br', 'zstd']);
  });

  test('nothing to undo, or an unknown coding anywhere in the list, gives null', () => {
    for (const encoding of [
      '',
      '  ',
      'identity',
      ' IDENTITY ',
      'compress',
      'gzip, foo',
      'foo, gzip',
      'bzip2',
    ]) {
      assert.equal(createContentDecoder(encoding), null, encoding);
    }
  });

  for (const [coding, encode] of Object.entries(ENCODERS)) {
    test(`${coding} round-trips`, async () => {
      assert.deepEqual(await decodeStream(coding, encode(TEXT)), TEXT);
    });
  }

  test('raw deflate (no zlib wrapper) is recognised and decoded', async () => {
    assert.deepEqual(await decodeStream('deflate', zlib.deflateRawSync(TEXT)), TEXT);
  });

  test('zstd round-trips from fixtures made by the zstd CLI', async () => {
    assert.equal((await decodeStream('zstd', ZDATA_ZST)).toString(), zstdText());
    assert.equal((await decodeStream('zstd', SMALL_ZST)).toString(), 'hello, zstd!\n');
    assert.equal((await decodeStream('zstd', STREAMED_ZST)).toString(), 'streamed zstd frame\n');
  });

  test('coding names are case-insensitive and whitespace-tolerant', async () => {
    assert.deepEqual(await decodeStream('  GZip ', zlib.gzipSync(TEXT)), TEXT);
    assert.deepEqual(await decodeStream('BR', zlib.brotliCompressSync(TEXT)), TEXT);
    assert.deepEqual(await decodeStream('gzip, identity', zlib.gzipSync(TEXT)), TEXT);
  });

  test('a stacked list is undone last coding first', async () => {
    const gzipThenBr = zlib.brotliCompressSync(zlib.gzipSync(TEXT));
    assert.deepEqual(await decodeStream('gzip, br', gzipThenBr), TEXT);
    assert.deepEqual(await decodeStream('gzip,br', gzipThenBr, 7), TEXT);
    const zstdThenDeflate = zlib.deflateRawSync(ZDATA_ZST);
    assert.equal((await decodeStream('zstd, deflate', zstdThenDeflate, 100)).toString(), zstdText());
  });

  test('in a stacked list, the error names the coding that failed', async () => {
    await assert.rejects(decodeStream('gzip, br', zlib.gzipSync(TEXT)), isDecodeErrorNaming('br'));
  });

  test('every member of a multi-member gzip body is decoded', async () => {
    const body = Buffer.concat([zlib.gzipSync('first '), zlib.gzipSync('second '), zlib.gzipSync('third')]);
    assert.equal((await decodeStream('gzip', body)).toString(), 'first second third');
    assert.equal((await decodeStream('gzip', body, 1)).toString(), 'first second third');
  });

  test('zero padding after the last gzip member is ignored', async () => {
    const body = Buffer.concat([zlib.gzipSync(TEXT), Buffer.alloc(16)]);
    assert.deepEqual(await decodeStream('gzip', body), TEXT);
    assert.deepEqual(await decodeStream('gzip', body, 5), TEXT);
  });

  test('other bytes after the last gzip member are a DecodeError', async () => {
    const body = Buffer.concat([zlib.gzipSync(TEXT), Buffer.from('garbage')]);
    await assert.rejects(decodeStream('gzip', body), isDecodeErrorNaming('gzip'));
  });

  test('bytes after the end of a deflate or brotli stream are ignored', async () => {
    assert.deepEqual(
      await decodeStream('deflate', Buffer.concat([zlib.deflateSync(TEXT), Buffer.from('xx')])),
      TEXT,
    );
    assert.deepEqual(
      await decodeStream('br', Buffer.concat([zlib.brotliCompressSync(TEXT), Buffer.from('x')]), 3),
      TEXT,
    );
  });

  test('fed one byte at a time, every coding gives the same output', async () => {
    const cases: [string, Buffer][] = [
      ['gzip', zlib.gzipSync(TEXT)],
      ['deflate', zlib.deflateSync(TEXT)],
      ['deflate', zlib.deflateRawSync(TEXT)],
      ['br', zlib.brotliCompressSync(TEXT)],
      ['zstd', ZDATA_ZST],
      ['zstd', STREAMED_ZST],
      ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(TEXT))],
    ];
    for (const [encoding, data] of cases) {
      const whole = await decodeStream(encoding, data);
      assert.deepEqual(await decodeStream(encoding, data, 1), whole, encoding);
    }
  });

  test('an empty body decodes to nothing for every coding', async () => {
    for (const encoding of ['gzip', 'x-gzip', 'deflate', 'br', 'zstd', 'gzip, br']) {
      const decoder = createContentDecoder(encoding)!;
      decoder.write(Buffer.alloc(0));
      assert.deepEqual(await decoder.read(1024), []);
      decoder.end();
      assert.deepEqual(await readAvailable(decoder), [], encoding);
      assert.ok(decoder.finished, encoding);
    }
  });

  test('corrupt input is a DecodeError that names the coding and keeps the cause', async () => {
    const junk = Buffer.from('this is definitely not compressed data, not at all');
    for (const coding of ['gzip', 'deflate', 'br', 'zstd']) {
      await assert.rejects(decodeStream(coding, junk), isDecodeErrorNaming(coding), coding);
    }
  });

  test('corruption inside a zstd frame is a DecodeError', async () => {
    const damaged = Buffer.from(ZDATA_ZST);
    for (let i = 20; i < 60; i++) damaged[i] = damaged[i]! ^ 0xa5;
    await assert.rejects(decodeStream('zstd', damaged), isDecodeErrorNaming('zstd'));
  });

  test('a truncated body is a DecodeError once it ends, not before', async () => {
    const cases: [string, Buffer][] = [
      ['gzip', zlib.gzipSync(TEXT)],
      ['deflate', zlib.deflateSync(TEXT)],
      ['deflate', zlib.deflateRawSync(TEXT)],
      ['br', zlib.brotliCompressSync(TEXT)],
      ['zstd', ZDATA_ZST],
      ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(TEXT))],
    ];
    for (const [encoding, data] of cases) {
      const decoder = createContentDecoder(encoding)!;
      decoder.write(data.subarray(0, data.length - 5));
      await readAvailable(decoder);
      // In a stacked list the last coding is undone first, so it is the one that sees the cut.
      const coding = encoding.split(',').at(-1)!.trim();
      await assert.rejects(
        async () => {
          decoder.end();
          await readAvailable(decoder);
        },
        isDecodeErrorNaming(coding),
        encoding,
      );
    }
  });

  test('a deflate body of a single byte is truncated, not passed through', async () => {
    await assert.rejects(decodeStream('deflate', Buffer.from([0x78])), DecodeError);
  });

  test('a decoder that failed keeps failing', async () => {
    const decoder = createContentDecoder('gzip')!;
    decoder.write(Buffer.from('not gzip, definitely not'));
    await assert.rejects(decoder.read(1024), DecodeError);
    assert.throws(() => decoder.write(zlib.gzipSync('ok')), DecodeError);
    await assert.rejects(decoder.read(1024), DecodeError);
  });

  test('output is handed back as it is produced, not held until the end', async () => {
    const plain = randomBytes(1024 * 1024);
    const encoded = zlib.gzipSync(plain);
    const decoder = createContentDecoder('gzip')!;
    let before = 0;
    for (let i = 0; i < encoded.length; i += 64 * 1024) {
      decoder.write(encoded.subarray(i, i + 64 * 1024));
      for (const chunk of await readAvailable(decoder)) before += chunk.length;
    }
    decoder.end();
    const tail = (await readAvailable(decoder)).reduce((n, chunk) => n + chunk.length, 0);
    assert.equal(before + tail, plain.length);
    assert.ok(tail <= 128 * 1024, `only the last piece may come at the end, got ${tail} bytes`);
  });

  test('a zstd frame asking for a window over 128 MiB is refused before decoding', async () => {
    // Frame header: magic, descriptor 0x00 (no single segment), window descriptor 0x90 (2^28 bytes).
    const header = Buffer.from('28b52ffd0090', 'hex');
    await assert.rejects(
      decodeStream('zstd', header),
      (error: unknown) => error instanceof DecodeError && /window/.test(error.message),
    );
  });

  test('zstd skippable frames are skipped and several frames are all decoded', async () => {
    const skippable = Buffer.concat([Buffer.from('532a4d1805000000', 'hex'), Buffer.from('ignor')]);
    const body = Buffer.concat([skippable, SMALL_ZST, STREAMED_ZST, skippable]);
    assert.equal((await decodeStream('zstd', body)).toString(), 'hello, zstd!\nstreamed zstd frame\n');
    assert.equal((await decodeStream('zstd', body, 1)).toString(), 'hello, zstd!\nstreamed zstd frame\n');
  });

  test('a zstd body cut inside a skippable frame is truncated', async () => {
    const body = Buffer.concat([SMALL_ZST, Buffer.from('502a4d1810000000', 'hex'), Buffer.from('short')]);
    await assert.rejects(decodeStream('zstd', body), isDecodeErrorNaming('zstd'));
  });

  test('write after end and use after destroy are DecodeErrors', async () => {
    const ended = createContentDecoder('br')!;
    ended.write(zlib.brotliCompressSync('x'));
    ended.end();
    assert.equal(Buffer.concat(await readAvailable(ended)).toString(), 'x');
    assert.throws(() => ended.write(Buffer.from('more')), DecodeError);

    for (const encoding of ['gzip', 'zstd', 'gzip, br']) {
      const decoder = createContentDecoder(encoding)!;
      decoder.destroy();
      decoder.destroy();
      assert.throws(() => decoder.write(Buffer.from([0x28, 0xb5, 0x2f])), DecodeError, encoding);
    }
  });

  test('destroy while a read is in flight settles that read', async () => {
    const decoder: ContentDecoder = createContentDecoder('gzip')!;
    decoder.write(zlib.gzipSync(randomBytes(256 * 1024)));
    const pending = decoder.read(1024 * 1024);
    decoder.destroy();
    await assert.rejects(pending, DecodeError);
  });

  test('read(max) never returns more than max, for every coding and stack', async () => {
    const cases: [string, Buffer][] = [
      ['gzip', zlib.gzipSync(TEXT)],
      ['deflate', zlib.deflateRawSync(TEXT)],
      ['br', zlib.brotliCompressSync(TEXT)],
      ['zstd', ZDATA_ZST],
      ['gzip, br', zlib.brotliCompressSync(zlib.gzipSync(TEXT))],
    ];
    for (const [encoding, data] of cases) {
      for (const max of [1, 7, 1000]) {
        assert.equal(
          (await decodeStream(encoding, data, 100, max)).toString(),
          TEXT.toString(),
          `${encoding} ${max}`,
        );
      }
    }
  });

  test('a decompression bomb is decoded only as far as reads ask, on every coding and stack', async () => {
    const size = 64 * 1024 * 1024;
    for (const [encoding, bomb] of Object.entries(await bombs(size))) {
      const decoder = createContentDecoder(encoding)!;
      decoder.write(bomb);
      decoder.end();
      const before = process.memoryUsage().arrayBuffers;
      const first = await decoder.read(65536);
      assert.ok(first.length > 0 && first.reduce((n, b) => n + b.length, 0) <= 65536, encoding);
      // Give a decoder that decodes ahead every chance to do so.
      for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
      const grown = process.memoryUsage().arrayBuffers - before;
      assert.ok(grown < 8 * 1024 * 1024, `${encoding}: ${grown} bytes held after one 64 KiB read`);
      decoder.destroy();
    }
  });

  test('a decompression bomb read to its end gives every byte and stays finished', async () => {
    const size = 8 * 1024 * 1024;
    for (const [encoding, bomb] of Object.entries(await bombs(size))) {
      const decoder = createContentDecoder(encoding)!;
      decoder.write(bomb);
      decoder.end();
      let total = 0;
      for (const piece of await readAvailable(decoder, 65536)) {
        assert.ok(piece.every((b) => b === 0));
        total += piece.length;
      }
      assert.equal(total, size, encoding);
      assert.ok(decoder.finished, encoding);
    }
  });
});

describe('stacked codings', () => {
  test(`more than ${MAX_STACKED_CODINGS} stacked codings is a DecodeError, as in urllib3 2.6`, async () => {
    const six = Array(MAX_STACKED_CODINGS + 1)
      .fill('gzip')
      .join(', ');
    assert.throws(
      () => createContentDecoder(six),
      (e: unknown) => e instanceof DecodeError && /too many/.test(e.message),
    );
    await assert.rejects(decodeAll(six, Buffer.from('x')), DecodeError);
    assert.throws(() => decodeAllSync(six, Buffer.from('x')), DecodeError);
    const thousand = Array(1000).fill('gzip').join(',');
    assert.throws(
      () => createContentDecoder(thousand),
      (e: unknown) => e instanceof DecodeError && e.message.length < 300,
    );
  });

  test(`${MAX_STACKED_CODINGS} stacked codings decode, and identity does not count`, async () => {
    let body = TEXT;
    for (let i = 0; i < MAX_STACKED_CODINGS; i++) body = zlib.gzipSync(body);
    const five = Array(MAX_STACKED_CODINGS).fill('gzip').join(', ');
    assert.deepEqual(await decodeStream(five, body, 50), TEXT);
    assert.deepEqual(await decodeStream(`identity, ${five}, identity`, body), TEXT);
    assert.deepEqual(await decodeAll(five, body), TEXT);
    assert.deepEqual(decodeAllSync(five, body), TEXT);
  });
});

describe('decodeAll', () => {
  test('decodes every coding in one call', async () => {
    for (const [coding, encode] of Object.entries(ENCODERS)) {
      assert.deepEqual(await decodeAll(coding, encode(TEXT)), TEXT, coding);
    }
    assert.deepEqual(await decodeAll('deflate', zlib.deflateRawSync(TEXT)), TEXT);
    assert.equal((await decodeAll('zstd', ZDATA_ZST)).toString(), zstdText());
  });

  test('handles stacked lists, multi-member gzip and case', async () => {
    assert.deepEqual(await decodeAll('GZIP ,  Br', zlib.brotliCompressSync(zlib.gzipSync(TEXT))), TEXT);
    const members = Buffer.concat([zlib.gzipSync('a'), zlib.gzipSync('b')]);
    assert.equal((await decodeAll('gzip', members)).toString(), 'ab');
  });

  test('returns the data itself for identity or an unknown coding', async () => {
    const data = Buffer.from('plain');
    assert.equal(await decodeAll('identity', data), data);
    assert.equal(await decodeAll('', data), data);
    assert.equal(await decodeAll('gzip, compress', data), data);
  });

  test('an empty body is empty for every coding', async () => {
    for (const encoding of ['gzip', 'deflate', 'br', 'zstd', 'gzip, br']) {
      assert.equal((await decodeAll(encoding, Buffer.alloc(0))).length, 0);
    }
  });

  test('corrupt or truncated data is a DecodeError naming the coding', async () => {
    const gz = zlib.gzipSync(TEXT);
    await assert.rejects(decodeAll('gzip', gz.subarray(0, gz.length - 4)), isDecodeErrorNaming('gzip'));
    await assert.rejects(decodeAll('br', Buffer.from('nope, not brotli')), isDecodeErrorNaming('br'));
    await assert.rejects(
      decodeAll('deflate', Buffer.from('nope, not deflate')),
      isDecodeErrorNaming('deflate'),
    );
    await assert.rejects(decodeAll('zstd', ZDATA_ZST.subarray(0, 500)), isDecodeErrorNaming('zstd'));
  });
});

describe('decodeAllSync', () => {
  test('decodes every coding and stack on the calling thread', () => {
    for (const [coding, encode] of Object.entries(ENCODERS)) {
      assert.deepEqual(decodeAllSync(coding, encode(TEXT)), TEXT, coding);
    }
    assert.equal(decodeAllSync('zstd', ZDATA_ZST).toString(), zstdText());
    assert.deepEqual(decodeAllSync('gzip, br', zlib.brotliCompressSync(zlib.gzipSync(TEXT))), TEXT);
    const data = Buffer.from('plain');
    assert.equal(decodeAllSync('identity', data), data);
  });

  test('corrupt data is a DecodeError naming the coding', () => {
    assert.throws(() => decodeAllSync('br', Buffer.from('nope, not brotli')), isDecodeErrorNaming('br'));
    assert.throws(() => decodeAllSync('zstd', ZDATA_ZST.subarray(0, 500)), isDecodeErrorNaming('zstd'));
  });
});
