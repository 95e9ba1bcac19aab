// ANSI colours for the terminal, and the rule for when output is decorated
// (docs/api.md section 14): --pretty wins; otherwise colours and indented JSON
// only on a terminal, and no colours when NO_COLOR is set unless --pretty asks for them (no-color.org).

import type { Pretty } from './args.js';

export interface Style {
  /** indent JSON bodies */
  format: boolean;
  /** ANSI colours */
  color: boolean;
}

/** The decoration for a stream: `pretty` from --pretty (null: auto). */
export function styleFor(
  pretty: Pretty | null,
  isTTY: boolean,
  env: Record<string, string | undefined>,
): Style {
  const mode: Pretty = pretty ?? (isTTY ? 'all' : 'none');
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return {
    format: mode === 'all' || mode === 'format',
    // An explicit --pretty=all|colors is a request for colours; NO_COLOR only changes the default.
    color: (mode === 'all' || mode === 'colors') && (pretty !== null || !noColor),
  };
}

const CODES = {
  bold: 1,
  dim: 2,
  red: 31,
  green: 32,
  yellow: 33,
  blue: 34,
  magenta: 35,
  cyan: 36,
} as const;
export type ColorName = keyof typeof CODES;

export type Paint = (color: ColorName, text: string) => string;

export function painter(enabled: boolean): Paint {
  if (!enabled) return (_c, text) => text;
  return (c, text) => (text === '' ? text : `\x1b[${CODES[c]}m${text}\x1b[0m`);
}
