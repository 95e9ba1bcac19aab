// Stacked codings (`Content-Encoding: gzip, br`): each decoder's output is the
// next one's input. Output is pulled from the last decoder; when it runs dry
// it pulls at most one CHUNK_SIZE step from the decoder before it, and so on
// down to the encoded input, so no layer ever holds more than a step or two
// of bytes whatever the expansion of each coding.

import { type ContentDecoder, CHUNK_SIZE } from './content-decoder.js';

export class StackedDecoder implements ContentDecoder {
  /** In decoding order: the last coding listed comes first. */
  readonly #decoders: ContentDecoder[];

  constructor(decoders: ContentDecoder[]) {
    this.#decoders = decoders;
  }

  get finished(): boolean {
    return this.#decoders[this.#decoders.length - 1]!.finished;
  }

  write(chunk: Buffer): void {
    this.#guard(() => this.#decoders[0]!.write(chunk));
  }

  end(): void {
    this.#guard(() => this.#decoders[0]!.end());
  }

  async read(max: number): Promise<Buffer[]> {
    try {
      return await this.#pull(this.#decoders.length - 1, max);
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  destroy(): void {
    for (const decoder of this.#decoders) decoder.destroy();
  }

  async #pull(index: number, max: number): Promise<Buffer[]> {
    const decoder = this.#decoders[index]!;
    for (;;) {
      const out = await decoder.read(max);
      if (out.length > 0 || decoder.finished || index === 0) return out;
      const input = await this.#pull(index - 1, CHUNK_SIZE);
      if (input.length > 0) {
        for (const piece of input) decoder.write(piece);
      } else if (this.#decoders[index - 1]!.finished) {
        decoder.end();
      } else {
        // The first decoder needs more encoded input.
        return [];
      }
    }
  }

  #guard(step: () => void): void {
    try {
      step();
    } catch (error) {
      this.destroy();
      throw error;
    }
  }
}
