// A seeded random number generator for property tests (xorshift32): a
// failure names its seed, and the seed replays it.

/** Numbers in [0, 1) from `seed`, the same sequence for the same seed. */
export function xorshift(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}
