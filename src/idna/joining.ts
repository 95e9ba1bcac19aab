// Joining_Type and the virama test, for the CONTEXTJ rules of ZERO WIDTH
// NON-JOINER and ZERO WIDTH JOINER (RFC 5892 appendix A.1 and A.2).
//
// Joining_Type has no property escape: marks and format characters default
// to T (transparent), as ArabicShaping.txt says of the characters it does not
// list, and the generated table (unicode-tables.ts) gives the joining letters.
// Canonical_Combining_Class has none either; the virama class (9) is read off
// how canonical decomposition orders a mark against two marks of known class.

import { RangeTable } from './bidi.js';
import { JOINING_TYPES } from './unicode-tables.js';

let transparentRe: RegExp | null = null;
let markRe: RegExp | null = null;
let table: RangeTable | null = null;

/** T for marks and format characters, else U (non-joining). */
export function defaultJoiningType(cp: number): string {
  transparentRe ??= /^[\p{Mn}\p{Me}\p{Cf}]$/u;
  return transparentRe.test(String.fromCodePoint(cp)) ? 'T' : 'U';
}

/** Joining_Type of a code point: D, L, R, C, T or U. */
export function joiningType(cp: number): string {
  table ??= new RangeTable(JOINING_TYPES);
  return table.get(cp) ?? defaultJoiningType(cp);
}

// U+094D DEVANAGARI SIGN VIRAMA has class 9, U+05B0 HEBREW POINT SHEVA class 10.
const VIRAMA = '\u094d';
const SHEVA = '\u05b0';

/**
 * Whether the code point's Canonical_Combining_Class is 9 (Virama). NFD puts
 * adjacent marks in class order, so a mark of class 9 is reordered against
 * neither side of a virama yet moves before a class-10 mark.
 */
export function isVirama(cp: number): boolean {
  markRe ??= /^\p{M}$/u;
  const ch = String.fromCodePoint(cp);
  if (!markRe.test(ch) || ch.normalize('NFD') !== ch) return false;
  const stays = (s: string): boolean => s.normalize('NFD') === s;
  return stays(`a${ch}${VIRAMA}`) && stays(`a${VIRAMA}${ch}`) && !stays(`a${SHEVA}${ch}`);
}
