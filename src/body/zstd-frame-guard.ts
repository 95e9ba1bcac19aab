// Follows the frame structure of zstd (RFC 8878) without decompressing: frame
// headers (to check the window size before any decoder allocates it), block
// headers (to refuse blocks larger than the format allows, and to know where
// each block ends) and skippable frames. The fzstd decoder uses the block ends
// to feed its input one block at a time, which bounds what each step outputs.

// zstd frames may ask for a window of up to 2 GiB; like libzstd's default
// (windowLog 27) we refuse more than 128 MiB so a hostile server cannot make us
// allocate it.
export const ZSTD_MAX_WINDOW = 2 ** 27;

// RFC 8878 section 3.1.1.2.3: a block's size (its regenerated size for an RLE
// block) is at most Block_Maximum_Size, 128 KiB or the window if smaller.
const ZSTD_MAX_BLOCK = 128 * 1024;

enum GuardState {
  Magic = 0,
  FrameHeaderDescriptor = 1,
  FrameHeader = 2,
  BlockHeader = 3,
  SkippableSize = 4,
}

export class ZstdFrameGuard {
  #state = GuardState.Magic;
  // The longest header collected here is a frame header: 4 + 1 + 1 + 4 + 8 bytes.
  readonly #bytes = Buffer.alloc(18);
  #have = 0;
  #need = 4;
  /** Bytes of block content (or of a skippable frame) still to pass over. */
  #skip = 0;
  /** `#skip` counts the content of a block (not a skippable frame). */
  #inBlock = false;
  #singleSegment = false;
  #checksum = false;
  #headerSize = 0;
  #blockMax = ZSTD_MAX_BLOCK;

  /** Follows the whole of `chunk`; throws on what no valid stream contains. */
  feed(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) i = this.advance(chunk, i);
  }

  /**
   * Follows `chunk` from `from` and returns the index just after the first
   * block that ends in it (or `chunk.length` when none does).
   */
  advance(chunk: Buffer, from: number): number {
    let i = from;
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        if (this.#skip === 0 && this.#inBlock) {
          this.#inBlock = false;
          return i;
        }
        continue;
      }
      const n = Math.min(this.#need - this.#have, chunk.length - i);
      chunk.copy(this.#bytes, this.#have, i, i + n);
      this.#have += n;
      i += n;
      if (this.#have === this.#need) {
        this.#step();
        // An empty block ends with its header.
        if (this.#inBlock && this.#skip === 0) {
          this.#inBlock = false;
          return i;
        }
      }
    }
    return i;
  }

  atFrameBoundary(): boolean {
    return this.#state === GuardState.Magic && this.#have === 0 && this.#skip === 0;
  }

  #step(): void {
    const b = this.#bytes;
    switch (this.#state) {
      case GuardState.Magic: {
        const magic = b.readUInt32LE(0);
        if (magic === 0xfd2fb528) {
          this.#state = GuardState.FrameHeaderDescriptor;
          this.#need = 5;
        } else if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) {
          this.#state = GuardState.SkippableSize;
          this.#need = 8;
        } else {
          throw new Error('not zstd data (unknown frame magic number)');
        }
        return;
      }
      case GuardState.FrameHeaderDescriptor: {
        const fhd = b[4]!;
        if (fhd & 0x08) throw new Error('invalid zstd frame header (reserved bit set)');
        this.#singleSegment = (fhd & 0x20) !== 0;
        this.#checksum = (fhd & 0x04) !== 0;
        const fcsFlag = fhd >> 6;
        const dictSize = [0, 1, 2, 4][fhd & 0x03]!;
        const fcsSize = fcsFlag === 0 ? (this.#singleSegment ? 1 : 0) : 1 << fcsFlag;
        this.#headerSize = 5 + (this.#singleSegment ? 0 : 1) + dictSize;
        this.#need = this.#headerSize + fcsSize;
        this.#state = GuardState.FrameHeader;
        if (this.#have === this.#need) this.#step();
        return;
      }
      case GuardState.FrameHeader: {
        let window: number;
        if (this.#singleSegment) {
          // The frame content size is the window; 2-byte sizes are offset by 256.
          const size = this.#need - this.#headerSize;
          window = 0;
          for (let k = size - 1; k >= 0; k--) window = window * 256 + b[this.#headerSize + k]!;
          if (size === 2) window += 256;
        } else {
          const descriptor = b[5]!;
          const base = 2 ** (10 + (descriptor >> 3));
          window = base + (base / 8) * (descriptor & 0x07);
        }
        if (window > ZSTD_MAX_WINDOW) {
          throw new Error(`zstd frame window of ${window} bytes exceeds the ${ZSTD_MAX_WINDOW} byte limit`);
        }
        // A single-segment frame's window is its content size, which may be below one block.
        this.#blockMax = this.#singleSegment ? ZSTD_MAX_BLOCK : Math.min(window, ZSTD_MAX_BLOCK);
        this.#expectBlock();
        return;
      }
      case GuardState.BlockHeader: {
        const header = b[0]! | (b[1]! << 8) | (b[2]! << 16);
        const last = (header & 1) === 1;
        const type = (header >> 1) & 3;
        const size = header >>> 3;
        if (type === 3) throw new Error('invalid zstd block type');
        if (size > this.#blockMax) {
          throw new Error(`zstd block of ${size} bytes exceeds the ${this.#blockMax} byte maximum`);
        }
        // An RLE block stores one byte, whatever size it expands to.
        this.#skip = (type === 1 ? 1 : size) + (last && this.#checksum ? 4 : 0);
        this.#inBlock = true;
        if (last) this.#expectMagic();
        else this.#expectBlock();
        return;
      }
      case GuardState.SkippableSize:
        this.#skip = b.readUInt32LE(4);
        this.#expectMagic();
        return;
    }
  }

  #expectBlock(): void {
    this.#state = GuardState.BlockHeader;
    this.#have = 0;
    this.#need = 3;
  }

  #expectMagic(): void {
    this.#state = GuardState.Magic;
    this.#have = 0;
    this.#need = 4;
  }
}
