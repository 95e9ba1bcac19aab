// The TypeScript examples of README.md and docs/*.md type-check, strictly,
// with the compiler settings the README gives for Node 20 (target ES2022,
// lib ES2022 + ESNext.Disposable, NodeNext modules), 'urllib3-ts' being this
// repository's src/. docs.test.ts runs them; this test sees that a user who
// pastes one into a strict project gets no type error either. Illustrations
// (signatures) are not checked.

import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { extractBlocks } from './code-blocks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

test('every TypeScript example type-checks with the settings the README gives', { timeout: 120_000 }, () => {
  const files = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .map((f) => `docs/${f}`),
  ];
  const blocks = files
    .flatMap((f) => extractBlocks(readFileSync(join(ROOT, f), 'utf8'), f))
    .filter((b) => b.kind === 'run' && (b.lang === 'ts' || b.lang === 'typescript'));
  const dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-docs-types-'));
  try {
    const where = new Map<string, string>();
    const names = blocks.map((b, i) => {
      const name = join(dir, `block-${i}.mts`);
      // `export {}` keeps each example a module of its own, as a file of a user's would be.
      writeFileSync(name, `${b.code}\nexport {};\n`);
      where.set(name, `${b.file}:${b.line}`);
      return name;
    });
    const program = ts.createProgram(names, {
      target: ts.ScriptTarget.ES2022,
      lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
      baseUrl: ROOT,
      paths: { 'urllib3-ts': ['src/index.ts'] },
    });
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file !== undefined && where.has(d.file.fileName))
      .map((d) => {
        const { line } = d.file!.getLineAndCharacterOfPosition(d.start ?? 0);
        const [file, fence] = where.get(d.file!.fileName)!.split(':') as [string, string];
        return `${file}:${Number(fence) + line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    assert.ok(blocks.length > 40, `only ${blocks.length} TypeScript examples found`);
    assert.deepEqual(problems, [], `in ${relative(ROOT, dir)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
