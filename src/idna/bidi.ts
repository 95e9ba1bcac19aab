// Bidi_Class for IDNA's Bidi rule (RFC 5893 section 2), and the rule itself
// as urllib3's IDNA encoder applies it: to each label that holds a
// right-to-left character (R, AL) or an Arabic-Indic digit (AN).
//
// JavaScript has no Bidi_Class property escape, so a default rule (marks are
// NSM; the blocks Unicode reserves for right-to-left scripts are R or AL;
// everything else L) is corrected by a generated table of exceptions
// (unicode-tables.ts). The table is built on first use.

import { BIDI_CLASSES } from './unicode-tables.js';

// Blocks whose letters default to AL and R (DerivedBidiClass.txt's @missing lines).
const AL_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0600, 0x07bf],
  [0x0860, 0x08ff],
  [0xfb50, 0xfdcf],
  [0xfdf0, 0xfdff],
  [0xfe70, 0xfeff],
  [0x10d00, 0x10d3f],
  [0x10ec0, 0x10eff],
  [0x10f30, 0x10f6f],
  [0x1ec70, 0x1ecbf],
  [0x1ed00, 0x1ed4f],
  [0x1ee00, 0x1eeff],
];
const R_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x0590, 0x05ff],
  [0x07c0, 0x085f],
  [0xfb1d, 0xfb4f],
  [0x10800, 0x10cff],
  [0x10d40, 0x10ebf],
  [0x10f00, 0x10f2f],
  [0x10f70, 0x10fff],
  [0x1e800, 0x1ec6f],
  [0x1ecc0, 0x1ecff],
  [0x1ed50, 0x1edff],
  [0x1ef00, 0x1efff],
];

const within = (ranges: ReadonlyArray<readonly [number, number]>, cp: number): boolean =>
  ranges.some(([lo, hi]) => cp >= lo && cp <= hi);

let markRe: RegExp | null = null;

/** The class the default rule gives; the generated table lists where Unicode says otherwise. */
export function defaultBidiClass(cp: number): string {
  markRe ??= /^[\p{Mn}\p{Me}]$/u;
  if (markRe.test(String.fromCodePoint(cp))) return 'NSM';
  if (within(AL_RANGES, cp)) return 'AL';
  if (within(R_RANGES, cp)) return 'R';
  return 'L';
}

/** Sorted, non-overlapping ranges with a value each, read from a generated table. */
export class RangeTable {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly values: string[] = [];

  constructor(encoded: string) {
    for (const entry of encoded.split(',')) {
      if (entry === '') continue;
      const colon = entry.indexOf(':');
      const span = entry.slice(0, colon);
      const dash = span.indexOf('-');
      const start = Number.parseInt(dash === -1 ? span : span.slice(0, dash), 16);
      this.starts.push(start);
      this.ends.push(dash === -1 ? start : Number.parseInt(span.slice(dash + 1), 16));
      this.values.push(entry.slice(colon + 1));
    }
  }

  get(cp: number): string | undefined {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < this.starts[mid]!) hi = mid - 1;
      else if (cp > this.ends[mid]!) lo = mid + 1;
      else return this.values[mid];
    }
    return undefined;
  }
}

let table: RangeTable | null = null;

/** Bidi_Class of a code point IDNA admits (others may be misclassified: they never get here). */
export function bidiClass(cp: number): string {
  table ??= new RangeTable(BIDI_CLASSES);
  return table.get(cp) ?? defaultBidiClass(cp);
}

const RTL_ALLOWED = new Set(['R', 'AL', 'AN', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);
const LTR_ALLOWED = new Set(['L', 'EN', 'ES', 'CS', 'ET', 'ON', 'BN', 'NSM']);

/**
 * Why `label` (code points) breaks the Bidi rule, or null when it keeps it or
 * holds no right-to-left character or Arabic-Indic digit at all.
 */
export function bidiProblem(label: readonly number[]): string | null {
  const classes = label.map(bidiClass);
  if (!classes.some((c) => c === 'R' || c === 'AL' || c === 'AN')) return null;
  const first = classes[0]!;
  // Rule 1: the first character gives the direction.
  if (first !== 'R' && first !== 'AL' && first !== 'L') {
    return 'the first character of a label with right-to-left text must be a letter (Bidi rule 1)';
  }
  const rtl = first !== 'L';
  let validEnding = false;
  let numberType: string | null = null;
  for (let i = 0; i < classes.length; i++) {
    const c = classes[i]!;
    const at = `U+${label[i]!.toString(16).toUpperCase().padStart(4, '0')} at position ${i + 1}`;
    if (rtl) {
      // Rules 2 to 4.
      if (!RTL_ALLOWED.has(c)) return `${at} (${c}) is not allowed in a right-to-left label (Bidi rule 2)`;
      if (c === 'R' || c === 'AL' || c === 'EN' || c === 'AN') validEnding = true;
      else if (c !== 'NSM') validEnding = false;
      if (c === 'AN' || c === 'EN') {
        if (numberType === null) numberType = c;
        else if (numberType !== c)
          return 'a right-to-left label mixes European and Arabic-Indic digits (Bidi rule 4)';
      }
    } else {
      // Rules 5 and 6.
      if (!LTR_ALLOWED.has(c)) return `${at} (${c}) is not allowed in a left-to-right label (Bidi rule 5)`;
      if (c === 'L' || c === 'EN') validEnding = true;
      else if (c !== 'NSM') validEnding = false;
    }
  }
  return validEnding
    ? null
    : `the label ends with a character of the wrong direction (Bidi rule ${rtl ? 3 : 6})`;
}
