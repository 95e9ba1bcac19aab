// Every code block of README.md and docs/*.md runs here, so an example that
// no longer works fails the build (code-blocks.ts says how blocks are marked).
//
// The examples talk to http://127.0.0.1:8080 (httpbin's paths), an HTTPS
// server at https://localhost:8443 (certificate from the CA in ca.pem), a
// proxy at 127.0.0.1:3128 and a SOCKS proxy at 127.0.0.1:1080. Here those are
// the demo's embedded httpbin (src/demo/server.ts), plain and with TLS, and
// in-process proxies, on free ports. Each block is compiled as the README tells a Node 20 user to
// (TypeScript, target ES2022), imports the package from src/, runs in a
// folder holding the files the examples read (example.txt, ca.pem ...), and
// has its `expression; // value` comments checked.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { type DemoServer, startDemoServer } from '../../src/demo/server.js';
import { makeTestPki } from '../support/certs.js';
import {
  startHttpProxy,
  startSocksProxy,
  type TestProxy,
  type TestSocksProxy,
} from '../support/proxy-servers.js';
import { type CodeBlock, checkStatedValues, extractBlocks } from './code-blocks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const INDEX = pathToFileURL(join(ROOT, 'src/index.ts')).href;
const TSX = import.meta.resolve('tsx');
const BLOCK_TIMEOUT_MS = 20_000;
const run = promisify(execFile);

function markdownFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const blocks: CodeBlock[] = markdownFiles().flatMap((f) =>
  extractBlocks(readFileSync(join(ROOT, f), 'utf8'), f),
);

let demo: DemoServer;
let tlsDemo: DemoServer;
let proxy: TestProxy;
let socks: TestSocksProxy;
let work: string;
let checks = 0;
let ran = 0;

interface DocsGlobals {
  __docsCheck: (actual: unknown, expected: unknown, where: string) => void;
  __docsConsole: Pick<Console, 'log' | 'error' | 'warn' | 'info'>;
}
const g = globalThis as unknown as DocsGlobals;
const printed: string[] = [];

before(async () => {
  demo = await startDemoServer();
  proxy = await startHttpProxy();
  socks = await startSocksProxy();
  work = mkdtempSync(join(tmpdir(), 'urllib3-ts-docs-'));
  // The files the examples read, in the folder they run in.
  const pki = await makeTestPki(join(work, 'pki'));
  tlsDemo = await startDemoServer({ tls: { key: pki.serverKeyPem, cert: pki.serverCertPem } });
  writeFileSync(join(work, 'example.txt'), 'contents of example.txt\n');
  writeFileSync(join(work, 'video.mp4'), Buffer.alloc(64 * 1024, 7));
  writeFileSync(join(work, 'ca.pem'), pki.caCertPem);
  writeFileSync(join(work, 'other-ca.pem'), pki.caCertPem);
  writeFileSync(join(work, 'ca.der'), new X509Certificate(pki.caCertPem).raw);
  writeFileSync(join(work, 'client.pem'), pki.serverCertPem);
  writeFileSync(join(work, 'client.key'), pki.serverKeyPem);
  g.__docsCheck = (actual, expected, where) => {
    assert.deepStrictEqual(actual, expected, `${where}: the comment says ${inspectShort(expected)}`);
  };
  const capture = (...args: unknown[]) => {
    printed.push(args.map((a) => (typeof a === 'string' ? a : inspectShort(a))).join(' '));
  };
  g.__docsConsole = { log: capture, error: capture, warn: capture, info: capture };
});

after(async () => {
  await demo?.close();
  await tlsDemo?.close();
  await proxy?.close();
  await socks?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

function inspectShort(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The example's addresses become the test servers'. */
function localize(code: string): string {
  return code
    .replaceAll('http://127.0.0.1:8080', demo.url)
    .replaceAll('http://localhost:8080', `http://localhost:${demo.port}`)
    .replaceAll('https://localhost:8443', `https://localhost:${tlsDemo.port}`)
    .replaceAll('port: 8080', `port: ${demo.port}`)
    .replaceAll('port: 8443', `port: ${tlsDemo.port}`)
    .replaceAll('port: 3128', `port: ${proxy.port}`)
    .replaceAll('127.0.0.1:3128', `127.0.0.1:${proxy.port}`)
    .replaceAll('127.0.0.1:1080', `127.0.0.1:${socks.port}`)
    .replaceAll(/(['"])urllib3-ts\1/g, JSON.stringify(INDEX));
}

/** Compiles a TypeScript example with the settings the README gives for Node 20. */
function compile(code: string, where: string): string {
  const out = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    fileName: 'example.ts',
    reportDiagnostics: true,
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(errors, [], `${where} does not compile`);
  return out.outputText;
}

async function withTimeout<T>(p: Promise<T>, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${where} did not finish in ${BLOCK_TIMEOUT_MS} ms`)),
      BLOCK_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([p, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function runBlock(block: CodeBlock, index: number): Promise<void> {
  const where = `${block.file}:${block.line}`;
  const stated = checkStatedValues(localize(block.code), block.file, block.line);
  checks += stated.checks;
  if (block.lang === 'cjs' || /\brequire\(/.test(block.code)) {
    // CommonJS: a process of its own, as `node example.cjs` (tsx only loads src/ for it).
    const file = join(work, `block-${index}.cjs`);
    writeFileSync(file, stated.code.replaceAll(JSON.stringify(INDEX), JSON.stringify(fileURLToPath(INDEX))));
    await run(process.execPath, ['--import', TSX, file], { cwd: work, timeout: BLOCK_TIMEOUT_MS });
    return;
  }
  const isTs = block.lang === 'ts' || block.lang === 'typescript';
  const js = isTs ? compile(stated.code, where) : stated.code;
  const file = join(work, `block-${index}.mjs`);
  const prelude = 'const console = globalThis.__docsConsole; const __docsCheck = globalThis.__docsCheck;\n';
  writeFileSync(file, prelude + js);
  const cwd = process.cwd();
  process.chdir(work);
  try {
    await withTimeout(import(pathToFileURL(file).href), where);
  } finally {
    process.chdir(cwd);
  }
}

describe('the code blocks of README.md and docs/', () => {
  blocks.forEach((block, index) => {
    if (block.kind !== 'run') return;
    test(`the ${block.lang} block at ${block.file}:${block.line} runs`, async () => {
      await runBlock(block, index);
      ran++;
    });
  });
});

test('every code block is either run or marked as an illustration, and most of them run', (t) => {
  const illustrations = blocks.filter((b) => b.kind === 'illustration');
  const samples = blocks.filter((b) => b.kind === 'shell-or-output');
  const runnable = blocks.filter((b) => b.kind === 'run');
  t.diagnostic(
    `docs: ${ran} of ${runnable.length} code blocks ran (${checks} stated values checked); ` +
      `${illustrations.length} skipped as illustrations (${illustrations.map((b) => `${b.file}:${b.line}`).join(', ')}); ` +
      `${samples.length} shell commands or output samples`,
  );
  assert.deepEqual(
    blocks
      .filter((b) => b.kind === 'unmarked')
      .map((b) => `${b.file}:${b.line} ${JSON.stringify(`${b.lang} ${b.meta}`.trim())}`),
    [],
    'each code block needs an info string: ts or js (run by the tests), sh or text (not run), ' +
      'or "<lang> illustration" (shown, not run)',
  );
  assert.ok(runnable.length > 0);
  assert.ok(runnable.length > 3 * illustrations.length, 'most TypeScript examples must run');
  for (const file of markdownFiles())
    assert.ok(
      blocks.some((b) => b.file === file),
      `${file} has no code block`,
    );
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

test('every link between README.md and docs/ points at a file and a heading that exist', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const text = readFileSync(join(ROOT, file), 'utf8').replace(/```[\s\S]*?```/g, '');
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target!)) continue; // http:, https:, mailto:
      const [path, anchor] = target!.split('#') as [string, string | undefined];
      const linked = path === '' ? file : join(file, '..', path);
      if (!existsSync(join(ROOT, linked))) {
        broken.push(`${file}: ${target} (no such file)`);
        continue;
      }
      if (anchor === undefined || !linked.endsWith('.md')) continue;
      const body = readFileSync(join(ROOT, linked), 'utf8');
      const anchors = [...body.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!));
      if (!anchors.includes(anchor)) broken.push(`${file}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});
