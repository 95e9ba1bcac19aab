// The fenced code blocks of a Markdown file, and how each is run by
// docs.test.ts. Every block says what it is in its info string:
//
// * ```ts / ```js (also typescript, javascript, mjs, cjs): an example that
//   runs. It is compiled the way the docs tell a Node 20 user to compile
//   (TypeScript, target ES2022: `await using` is lowered), then imported.
// * ```ts illustration (any language followed by `illustration`): shown but
//   not run, because it needs something the test cannot give: a host on the
//   internet, a certificate from your own CA, a fragment of a larger program.
// * ```sh, ```text, ```console: shell commands and output samples, not run.
//
// A block with no info string, or an unknown one, is an error: every block is
// either run or marked.

export type BlockKind = 'run' | 'illustration' | 'shell-or-output' | 'unmarked';

export interface CodeBlock {
  /** Path of the Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  meta: string;
  code: string;
  kind: BlockKind;
}

const RUNNABLE = new Set(['ts', 'typescript', 'js', 'javascript', 'mjs', 'cjs']);
const NOT_CODE = new Set(['sh', 'bash', 'shell', 'console', 'text', 'json']);

function kindOf(lang: string, meta: string): BlockKind {
  if (/\billustration\b/.test(meta)) return 'illustration';
  if (RUNNABLE.has(lang)) return 'run';
  if (NOT_CODE.has(lang)) return 'shell-or-output';
  return 'unmarked';
}

/** The fenced blocks of `markdown`, in order. */
export function extractBlocks(markdown: string, file: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const fence = open[1]!;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith(fence); i++) body.push(lines[i]!);
    const lang = open[2]!.toLowerCase();
    const meta = open[3]!.trim();
    blocks.push({ file, line: start + 1, lang, meta, code: body.join('\n'), kind: kindOf(lang, meta) });
  }
  return blocks;
}

// A comment that states a value: `r.status; // 200`, `x.url; // 'http://...'`.
const LITERAL =
  /^(?:-?\d[\d_]*(?:\.\d+)?|'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|true|false|null|undefined|\[.*\]|\{.*\})$/;
const NOT_AN_EXPRESSION =
  /^(?:const|let|var|import|export|return|throw|if|for|while|await using|using|}|\{|\/\/)/;

/**
 * Turns each "expression; // value" line (or an expression line followed by a
 * line holding only "// value") into a check that the expression equals the
 * value, so the comments in the examples are tested as well as the code.
 * Returns the new code and how many checks it holds.
 */
export function checkStatedValues(
  code: string,
  file: string,
  fenceLine: number,
): { code: string; checks: number } {
  const lines = code.split('\n');
  let checks = 0;
  const check = (indent: string, expr: string, value: string, line: number) => {
    checks++;
    return `${indent}__docsCheck((${expr}), (${value}), ${JSON.stringify(`${file}:${fenceLine + line}`)});`;
  };
  for (let i = 0; i < lines.length; i++) {
    const same = /^(\s*)(.+?);\s*\/\/\s*(.+?)\s*$/.exec(lines[i]!);
    if (same && !NOT_AN_EXPRESSION.test(same[2]!) && LITERAL.test(same[3]!)) {
      lines[i] = check(same[1]!, same[2]!, same[3]!, i + 1);
      continue;
    }
    const alone = /^(\s*)(.+?);\s*$/.exec(lines[i]!);
    const next = /^\s*\/\/\s*(.+?)\s*$/.exec(lines[i + 1] ?? '');
    if (alone && next && !NOT_AN_EXPRESSION.test(alone[2]!) && LITERAL.test(next[1]!)) {
      lines[i] = check(alone[1]!, alone[2]!, next[1]!, i + 1);
      lines[i + 1] = '';
      i++;
    }
  }
  return { code: lines.join('\n'), checks };
}
