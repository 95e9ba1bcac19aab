// IDNA 2008 (RFC 5890-5893) for one host label, strict, as urllib3 applies it
// to a non-ASCII label (docs/api.md section 12): no UTS #46 mapping, so the label
// must already be what IDNA 2008 admits. Fullwidth letters, ligatures such as
// "ﬀ", text not in NFC, leading or trailing hyphens, "--" in the 3rd and 4th
// places, disallowed code points, a broken contextual rule (RFC 5892 appendix
// A) or Bidi rule (RFC 5893), and A-labels over 63 octets are refused with the
// reason.
//
// The caller lower-cases the label first (as urllib3 does), splits hosts on
// "." only and handles ASCII labels itself.

import { bidiProblem } from './bidi.js';
import { type CodePointClass, codePointClass } from './code-points.js';
import { isVirama, joiningType } from './joining.js';
import { punycodeDecode, punycodeEncode } from './punycode.js';

/** An A-label, or why the label has none. */
export type ALabelResult =
  | { readonly label: string; readonly reason: null }
  | { readonly label: null; readonly reason: string };

const refuse = (reason: string): ALabelResult => ({ label: null, reason });

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

function codePoints(text: string): number[] {
  const out: number[] = [];
  for (const ch of text) out.push(ch.codePointAt(0)!);
  return out;
}

let scriptRes: Record<string, RegExp> | null = null;
let markRe: RegExp | null = null;

function inScript(
  cp: number | undefined,
  script: 'Greek' | 'Hebrew' | 'Hiragana' | 'Katakana' | 'Han',
): boolean {
  if (cp === undefined) return false;
  scriptRes ??= {
    Greek: /^\p{Script=Greek}$/u,
    Hebrew: /^\p{Script=Hebrew}$/u,
    Hiragana: /^\p{Script=Hiragana}$/u,
    Katakana: /^\p{Script=Katakana}$/u,
    Han: /^\p{Script=Han}$/u,
  };
  return scriptRes[script]!.test(String.fromCodePoint(cp));
}

/** RFC 5892 appendix A.1 and A.2: ZERO WIDTH NON-JOINER and ZERO WIDTH JOINER. */
function contextJOk(label: readonly number[], pos: number): boolean {
  const cp = label[pos]!;
  // Both may follow a virama.
  if (pos > 0 && isVirama(label[pos - 1]!)) return true;
  if (cp !== 0x200c) return false;
  // ZWNJ between a left- or dual-joining and a right- or dual-joining
  // character, transparent ones skipped.
  let before = false;
  for (let i = pos - 1; i >= 0; i--) {
    const t = joiningType(label[i]!);
    if (t === 'T') continue;
    before = t === 'L' || t === 'D';
    break;
  }
  if (!before) return false;
  for (let i = pos + 1; i < label.length; i++) {
    const t = joiningType(label[i]!);
    if (t === 'T') continue;
    return t === 'R' || t === 'D';
  }
  return false;
}

/** RFC 5892 appendix A.3 to A.9. */
function contextOOk(label: readonly number[], pos: number): boolean {
  const cp = label[pos]!;
  switch (cp) {
    case 0x00b7: // MIDDLE DOT: between two "l" (Catalan "l·l").
      return pos > 0 && label[pos - 1] === 0x6c && label[pos + 1] === 0x6c;
    case 0x0375: // GREEK LOWER NUMERAL SIGN: before a Greek character.
      return inScript(label[pos + 1], 'Greek');
    case 0x05f3: // HEBREW PUNCTUATION GERESH and GERSHAYIM: after a Hebrew character.
    case 0x05f4:
      return inScript(label[pos - 1], 'Hebrew');
    case 0x30fb: // KATAKANA MIDDLE DOT: in a label with Hiragana, Katakana or Han.
      return label.some(
        (c) => c !== 0x30fb && (inScript(c, 'Hiragana') || inScript(c, 'Katakana') || inScript(c, 'Han')),
      );
    default:
      // ARABIC-INDIC DIGITS and EXTENDED ARABIC-INDIC DIGITS never mix.
      if (cp >= 0x0660 && cp <= 0x0669) return !label.some((c) => c >= 0x06f0 && c <= 0x06f9);
      if (cp >= 0x06f0 && cp <= 0x06f9) return !label.some((c) => c >= 0x0660 && c <= 0x0669);
      return false;
  }
}

const CLASS_WORDS: Record<CodePointClass, string> = {
  PVALID: 'valid',
  CONTEXTJ: 'a joiner',
  CONTEXTO: 'contextual',
  DISALLOWED: 'disallowed in IDNA 2008',
  UNASSIGNED: 'unassigned',
};

/** Why a U-label breaks RFC 5891 section 5.4 / RFC 5892, or null when it is valid. */
function labelProblem(text: string): string | null {
  if (text === '') return 'the label is empty';
  if (text.normalize('NFC') !== text) return 'the label is not in Unicode Normalization Form C';
  const label = codePoints(text);
  if (label[2] === 0x2d && label[3] === 0x2d) return 'the label has "--" in its 3rd and 4th positions';
  if (label[0] === 0x2d || label[label.length - 1] === 0x2d) return 'the label starts or ends with a hyphen';
  markRe ??= /^\p{M}$/u;
  if (markRe.test(String.fromCodePoint(label[0]!))) return 'the label starts with a combining mark';
  for (let pos = 0; pos < label.length; pos++) {
    const cp = label[pos]!;
    const cls = codePointClass(cp);
    if (cls === 'PVALID') continue;
    const where = `${hex(cp)} at position ${pos + 1}`;
    if (cls === 'CONTEXTJ') {
      if (!contextJOk(label, pos))
        return `the joiner ${where} is not allowed in its context (RFC 5892 A.1/A.2)`;
    } else if (cls === 'CONTEXTO') {
      if (!contextOOk(label, pos)) return `${where} is not allowed in its context (RFC 5892 appendix A)`;
    } else {
      return `${where} is ${CLASS_WORDS[cls]}`;
    }
  }
  return bidiProblem(label);
}

/** RFC 5890 section 2.3.2.1: the longest label, in octets. */
const MAX_LABEL_OCTETS = 63;

/**
 * The A-label of `text` (lower-cased by the caller): an ASCII label is checked
 * as it is (an "xn--" one through the U-label it encodes); any other becomes
 * "xn--" + Punycode.
 */
export function toALabel(text: string): ALabelResult {
  let problem: string | null;
  let label: string;
  if (/^[\x00-\x7f]*$/.test(text)) {
    if (text.startsWith('xn--')) {
      const encoded = text.slice(4);
      if (encoded === '') return refuse('the A-label has nothing after "xn--"');
      if (encoded.endsWith('-')) return refuse('the A-label ends with a hyphen');
      const decoded = punycodeDecode(encoded);
      if (decoded === null) return refuse('the A-label is not valid Punycode');
      problem = labelProblem(String.fromCodePoint(...decoded));
    } else problem = labelProblem(text);
    label = text;
  } else {
    problem = labelProblem(text);
    label = problem === null ? `xn--${punycodeEncode(codePoints(text))}` : '';
  }
  if (problem !== null) return refuse(problem);
  if (label.length > MAX_LABEL_OCTETS) {
    return refuse(
      `the A-label ${label} is ${label.length} octets long, over the ${MAX_LABEL_OCTETS} allowed`,
    );
  }
  return { label, reason: null };
}
