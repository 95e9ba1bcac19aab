// `npm run demo`: a guided tour of urllib3-ts against the small httpbin of
// server.ts, embedded in this process on a loopback port. No network needed.
// Each step is a piece of code that is printed and then run as it is shown
// (the text is the program), each line's console output printed beside it.

import * as lib from '../index.js';
import { startDemoServer } from './server.js';

interface Step {
  title: string;
  code: string[];
}

const STEPS: Step[] = [
  {
    title: 'A GET request',
    code: [
      "const r = await http.request('GET', `${base}/robots.txt`);",
      'console.log(r.status, r.reason);',
      "console.log(r.headers.get('content-type'));",
      'console.log(JSON.stringify(r.text()));',
    ],
  },
  {
    title: 'JSON responses, query fields',
    code: [
      "const r = await http.request('GET', `${base}/get`, { fields: { q: 'a b', page: 2 } });",
      'console.log(r.url);',
      'console.log(r.json().args);',
    ],
  },
  {
    title: 'Forms, file uploads, JSON bodies',
    code: [
      "let r = await http.request('POST', `${base}/post`, { fields: { name: 'Ada' }, encodeMultipart: false });",
      'console.log(r.json().form);',
      "r = await http.request('POST', `${base}/post`, {",
      "  fields: { note: 'hi', upload: ['notes.txt', 'file contents'] },",
      '});',
      'console.log(r.json().form, r.json().files);',
      "r = await http.request('POST', `${base}/post`, { json: { attribute: 'value' } });",
      'console.log(r.json().json);',
    ],
  },
  {
    title: 'Streaming a download',
    code: [
      "const r = await http.request('GET', `${base}/bytes/4194304`, { preloadContent: false });",
      'let chunks = 0, bytes = 0;',
      'for await (const chunk of r.stream(256 * 1024)) {',
      '  chunks++;',
      '  bytes += chunk.length;',
      '}',
      'console.log(`${bytes} bytes in ${chunks} chunks, never all in memory`);',
    ],
  },
  {
    title: 'Connection pooling',
    code: [
      "const pool = new HTTPConnectionPool('127.0.0.1', { port, maxSize: 1 });",
      "for (let i = 0; i < 100; i++) await pool.request('GET', `/get?i=${i}`);",
      'console.log(`100 requests opened ${pool.numConnections} TCP connection(s)`);',
      'await pool.close();',
    ],
  },
  {
    title: 'Redirects and their history',
    code: [
      "const r = await http.request('GET', `${base}/redirect/2`);",
      'console.log(r.status, r.url);',
      'for (const h of r.retries.history) console.log(h.status, h.redirectLocation);',
    ],
  },
  {
    title: 'HTTP/2 (h2c, prior knowledge)',
    code: [
      'const h2 = new PoolManager({ disabledSvn: new Set([HttpVersion.h11]) });',
      "const r = await h2.request('GET', `${base}/get`);",
      'console.log(r.versionString, r.status);',
      'await h2.close();',
    ],
  },
  {
    title: 'Timeouts and retries',
    code: [
      'try {',
      "  await http.request('GET', `${base}/delay/2`, { timeout: 300, retries: false });",
      '} catch (err) {',
      "  if (err instanceof ReadTimeoutError) console.log('caught ReadTimeoutError:', err.message);",
      '}',
      'try {',
      "  await http.request('GET', `${base}/delay/2`, { timeout: 200, retries: new Retry({ total: 1 }) });",
      '} catch (err) {',
      "  if (err instanceof MaxRetryError) console.log('caught MaxRetryError, reason:', err.reason.name);",
      '}',
    ],
  },
];

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...values: unknown[]) => Promise<void>;

function format(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? String(value);
}

interface Printed {
  /** index of the code line that printed it, or -1 when unknown */
  line: number;
  text: string;
}

/** Where in the step's code a console.log call is: the Function constructor puts the body two lines down. */
function callerLine(): number {
  const frame = /<anonymous>:(\d+):\d+/.exec(new Error().stack ?? '');
  return frame ? Number(frame[1]) - 3 : -1;
}

/** Runs a step's code with the library's exports, `http`, `base` and `port` in scope; returns what it printed. */
async function runStep(step: Step, scope: Record<string, unknown>): Promise<Printed[]> {
  const printed: Printed[] = [];
  const console = {
    log: (...args: unknown[]) => printed.push({ line: callerLine(), text: args.map(format).join(' ') }),
  };
  const names = [...Object.keys(scope), 'console'];
  const fn = new AsyncFunction(...names, step.code.join('\n'));
  await fn(...Object.values(scope), console);
  return printed;
}

/**
 * Each line of output beside the line of code that printed it when they fit
 * side by side, else under it after an arrow.
 */
function layout(code: string[], printed: Printed[], width: number): string[] {
  const at = (i: number) => printed.filter((p) => p.line === i).map((p) => p.text);
  const stray = printed.filter((p) => p.line < 0 || p.line >= code.length).map((p) => p.text);
  const left = Math.max(...code.map((l) => l.length));
  const right = Math.max(0, ...printed.map((p) => p.text.length));
  const lines: string[] = [];
  if (left + right + 7 <= width) {
    const row = (c: string, o: string | undefined) =>
      lines.push(`  ${c.padEnd(left)}${o === undefined ? '' : `  │ ${o}`}`.trimEnd());
    code.forEach((c, i) => {
      const out = at(i);
      row(c, out[0]);
      for (const o of out.slice(1)) row('', o);
    });
    for (const o of stray) row('', o);
    return lines;
  }
  code.forEach((c, i) => {
    lines.push(`  ${c}`);
    for (const o of at(i)) lines.push(`  → ${o}`);
  });
  for (const o of stray) lines.push(`  → ${o}`);
  return lines;
}

async function main(): Promise<void> {
  const started = Date.now();
  const server = await startDemoServer();
  const base = server.url;
  console.log(`urllib3-ts demo: embedded server at ${base}`);
  console.log('Each step shows its code and runs it; what a line prints is beside it (or below it after →).');
  const width = process.stdout.isTTY ? process.stdout.columns : 160;

  const http = new lib.PoolManager();
  const scope: Record<string, unknown> = { ...lib, http, base, port: server.port };
  try {
    for (const [i, step] of STEPS.entries()) {
      const output = await runStep(step, scope);
      console.log(`\n${i + 1}. ${step.title}`);
      for (const line of layout(step.code, output, width)) console.log(line);
    }
  } finally {
    await http.close();
    await server.close();
  }
  console.log(`\nDone in ${Date.now() - started} ms.`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
