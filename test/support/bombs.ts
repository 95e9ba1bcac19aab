// Decompression bombs for tests: `size` zero bytes compressed with each coding
// urllib3-ts decodes, built without ever holding the `size` bytes.

import zlib from 'node:zlib';

/** `size` zero bytes compressed 1 MiB at a time: a few KB that expand to `size`. */
export async function compressZeros(
  stream: zlib.Gzip | zlib.Deflate | zlib.BrotliCompress,
  size: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  stream.on('data', (part: Buffer) => parts.push(part));
  const done = new Promise((resolve, reject) => stream.on('end', resolve).on('error', reject));
  const zeros = Buffer.alloc(1024 * 1024);
  for (let n = 0; n < size; n += zeros.length) {
    if (!stream.write(zeros)) await new Promise((resolve) => stream.once('drain', resolve));
  }
  stream.end();
  await done;
  return Buffer.concat(parts);
}

/** A zstd frame of RLE blocks (RFC 8878): 4 bytes for every 128 KiB of zeros. */
export function zstdZeros(size: number): Buffer {
  const block = 128 * 1024;
  const count = Math.ceil(size / block);
  const frame = Buffer.alloc(6 + count * 4);
  frame.writeUInt32LE(0xfd2fb528, 0);
  frame[4] = 0x00; // no single segment, no checksum, no content size
  frame[5] = 0x38; // window 2^(10 + 7) = 128 KiB
  for (let i = 0; i < count; i++) {
    const last = i === count - 1 ? 1 : 0;
    frame.writeUIntLE((block << 3) | (1 << 1) | last, 6 + i * 4, 3);
  }
  return frame;
}

/** A bomb of `size` decoded bytes for each coding and for a stack, keyed by Content-Encoding. */
export async function bombs(size: number): Promise<Record<string, Buffer>> {
  const brotli = () => zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } });
  const gzip = await compressZeros(zlib.createGzip({ level: 9 }), size);
  return {
    gzip,
    deflate: await compressZeros(zlib.createDeflate({ level: 9 }), size),
    br: await compressZeros(brotli(), size),
    zstd: zstdZeros(size),
    'gzip, br': zlib.brotliCompressSync(gzip),
  };
}
