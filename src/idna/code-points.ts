// IDNA 2008 derived property values (RFC 5892 section 3) computed from the
// Unicode data the JavaScript engine carries, so the table follows the
// runtime's Unicode version with nothing to ship: each category of RFC 5892
// section 2 is a Unicode property escape, a range or a fixed list, tested in
// the order section 3 gives.
//
// The regular expressions are compiled on first use: a URL with an ASCII
// host never gets here.

/** RFC 5892 derived property values. */
export type CodePointClass = 'PVALID' | 'CONTEXTJ' | 'CONTEXTO' | 'DISALLOWED' | 'UNASSIGNED';

/** RFC 5892 section 2.6, Exceptions (F). */
const EXCEPTIONS: ReadonlyMap<number, CodePointClass> = new Map<number, CodePointClass>([
  // PVALID: sharp s, final sigma, two Arabic letters, the Tibetan tsheg, ideographic zero.
  [0x00df, 'PVALID'],
  [0x03c2, 'PVALID'],
  [0x06fd, 'PVALID'],
  [0x06fe, 'PVALID'],
  [0x0f0b, 'PVALID'],
  [0x3007, 'PVALID'],
  // CONTEXTO: valid only where appendix A's rules say.
  [0x00b7, 'CONTEXTO'],
  [0x0375, 'CONTEXTO'],
  [0x05f3, 'CONTEXTO'],
  [0x05f4, 'CONTEXTO'],
  [0x30fb, 'CONTEXTO'],
  ...Array.from({ length: 10 }, (_, i): [number, CodePointClass] => [0x0660 + i, 'CONTEXTO']),
  ...Array.from({ length: 10 }, (_, i): [number, CodePointClass] => [0x06f0 + i, 'CONTEXTO']),
  // DISALLOWED: tatweel, NKo lajanyalan, vertical kana repeat marks and friends.
  [0x0640, 'DISALLOWED'],
  [0x07fa, 'DISALLOWED'],
  [0x302e, 'DISALLOWED'],
  [0x302f, 'DISALLOWED'],
  [0x3031, 'DISALLOWED'],
  [0x3032, 'DISALLOWED'],
  [0x3033, 'DISALLOWED'],
  [0x3034, 'DISALLOWED'],
  [0x3035, 'DISALLOWED'],
  [0x303b, 'DISALLOWED'],
]);

interface Properties {
  unassigned: RegExp;
  noncharacter: RegExp;
  joinControl: RegExp;
  /** Unstable (B): NFKC(casefold(NFKC(cp))) != cp, the Changes_When_NFKC_Casefolded property. */
  unstable: RegExp;
  /** IgnorableProperties (C). */
  ignorable: RegExp;
  /** LetterDigits (A). */
  letterDigits: RegExp;
}

let properties: Properties | null = null;

function props(): Properties {
  properties ??= {
    unassigned: /^\p{Cn}$/u,
    noncharacter: /^\p{Noncharacter_Code_Point}$/u,
    joinControl: /^\p{Join_Control}$/u,
    unstable: /^\p{Changes_When_NFKC_Casefolded}$/u,
    ignorable: /^[\p{Default_Ignorable_Code_Point}\p{White_Space}\p{Noncharacter_Code_Point}]$/u,
    letterDigits: /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u,
  };
  return properties;
}

/** IgnorableBlocks (E): combining marks for symbols, musical symbols, ancient Greek musical notation. */
function inIgnorableBlock(cp: number): boolean {
  return (
    (cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d1ff) || (cp >= 0x1d200 && cp <= 0x1d24f)
  );
}

/** OldHangulJamo (I): Hangul_Syllable_Type L, V or T (conjoining jamo). */
function isOldHangulJamo(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x11ff) ||
    (cp >= 0xa960 && cp <= 0xa97c) ||
    (cp >= 0xd7b0 && cp <= 0xd7c6) ||
    (cp >= 0xd7cb && cp <= 0xd7fb)
  );
}

/** The RFC 5892 derived property value of a code point. */
export function codePointClass(cp: number): CodePointClass {
  const exception = EXCEPTIONS.get(cp);
  if (exception !== undefined) return exception;
  // BackwardCompatible (G) is empty.
  const p = props();
  const ch = String.fromCodePoint(cp);
  if (p.unassigned.test(ch) && !p.noncharacter.test(ch)) return 'UNASSIGNED';
  // LDH (K).
  if ((cp >= 0x61 && cp <= 0x7a) || (cp >= 0x30 && cp <= 0x39) || cp === 0x2d) return 'PVALID';
  if (p.joinControl.test(ch)) return 'CONTEXTJ';
  if (p.unstable.test(ch) || p.ignorable.test(ch) || inIgnorableBlock(cp) || isOldHangulJamo(cp)) {
    return 'DISALLOWED';
  }
  return p.letterDigits.test(ch) ? 'PVALID' : 'DISALLOWED';
}
