// The bytes every benchmark server serves and every client sends, in one
// place so the servers (nginx config, node fallback) and the client workers
// agree on sizes without talking to each other.

/** The small static file: exactly 100 bytes. */
export const SMALL_BODY = Buffer.from(
  `${'urllib3-ts benchmark small response body '.repeat(3).slice(0, 99)}\n`,
  'latin1',
);

/** The JSON answer to the POST workload (about 100 bytes). */
export const JSON_RESPONSE = Buffer.from(
  JSON.stringify({
    ok: true,
    id: 123456,
    status: 'accepted',
    items: [1, 2, 3],
    note: 'urllib3-ts benchmark reply',
  }),
  'latin1',
);

/** The request body of the POST workload: an object whose JSON is 1024 bytes. */
export const POST_OBJECT = (() => {
  const obj = {
    user: { id: 42, name: 'Ada Lovelace', email: 'ada@example.org', roles: ['admin', 'dev'] },
    items: Array.from({ length: 12 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 9.99 })),
    note: '',
  };
  const base = Buffer.byteLength(JSON.stringify(obj));
  if (base > 1024) throw new Error(`POST_OBJECT base is ${base} bytes, over 1 KiB`);
  obj.note = 'x'.repeat(1024 - base);
  return obj;
})();

export const POST_BODY_LENGTH = Buffer.byteLength(JSON.stringify(POST_OBJECT));

export const MiB = 1024 * 1024;

/**
 * `size` bytes (a multiple of 4) of xorshift32 output from a fixed seed: the
 * block every big file of the servers repeats, incompressible-looking and the
 * same from every server.
 */
export function patternBlock(size) {
  const block = Buffer.allocUnsafe(size);
  let x = 0x2545f491;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block.writeUInt32LE(x >>> 0, i);
  }
  return block;
}

/** Paths the servers answer. */
export const PATHS = {
  small: '/small.txt',
  json: '/json',
  big: '/big.bin',
  warm: '/warm.bin',
  /** the file of the HTTP/2 download workload (h2-download-c10) */
  mib: '/1mib.bin',
  /** prefix of the distinct-path workload: /p/0 ... /p/999 all serve the small file */
  distinct: '/p/',
};

/** Size of the warm-up download that precedes each measured download. */
export const WARM_DOWNLOAD_MIB = 16;

/** Size of PATHS.mib: each download of the h2-download-c10 workload. */
export const H2_DOWNLOAD_SIZE = MiB;
