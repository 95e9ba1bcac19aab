// Sends one request from the command line and writes what came back: the
// body to stdout (indented and coloured JSON on a terminal), or to a file with
// -o / --download behind a progress bar; heads and timings with -v, -i, -I.
// Returns the exit code; the manager is always closed so the process ends as
// soon as the work is done.

import { once } from 'node:events';
import { createWriteStream, existsSync, fstatSync } from 'node:fs';
import { basename } from 'node:path';
import type { ConnectionInfo, HTTPResponse } from '../index.js';
import type { RequestArgs } from './args.js';
import { createClient, retryFor } from './client.js';
import { painter, type Style, styleFor } from './colors.js';
import { describeError, failureLine } from './describe-error.js';
import { exitCodeForStatus } from './exit-codes.js';
import { formatJson, formatRequestHead, formatResponseHead, formatTiming, isJsonType } from './format.js';
import { ProgressBar } from './progress.js';
import { hasDataItems, planRequest } from './request-plan.js';

export interface Io {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

/** Standard input is read as the body only when it is a pipe, a file or a socket, not a terminal or /dev/null. */
function stdinIsRedirected(stdin: NodeJS.ReadStream): boolean {
  if (stdin.isTTY) return false;
  try {
    const st = fstatSync(0);
    return st.isFIFO() || st.isFile() || st.isSocket();
  } catch {
    return false;
  }
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

/** Resolves false when the reader went away (EPIPE): nothing more to write. */
async function write(out: NodeJS.WritableStream, data: Buffer | string): Promise<boolean> {
  if ((out as NodeJS.WriteStream).destroyed) return false;
  if (!out.write(data)) {
    // The listeners of the event that did not happen are removed (abort), or
    // each wait would leave a 'close' and an 'error' listener behind.
    const settled = new AbortController();
    const emitter = out as NodeJS.WriteStream;
    try {
      await Promise.race([
        once(emitter, 'drain', { signal: settled.signal }),
        once(emitter, 'close', { signal: settled.signal }),
      ]);
    } catch {
      // EPIPE: the reader closed its end (`| head`); main.ts keeps the error quiet.
      return false;
    } finally {
      settled.abort();
    }
  }
  return !(out as NodeJS.WriteStream).destroyed;
}

function hostPort(url: string): string {
  const u = new URL(url);
  const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
  return `${u.hostname}:${port}`;
}

/** The file --download writes: Content-Disposition's filename, else the URL's last segment; never overwrites. */
function downloadName(response: HTTPResponse, url: string): string {
  const cd = response.headers.get('content-disposition') ?? '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(cd);
  let name = m ? basename(decodeURIComponent(m[1]!)) : basename(new URL(response.url ?? url).pathname);
  if (name === '' || name === '/' || name === '.' || name === '..') name = 'index';
  if (!existsSync(name)) return name;
  for (let i = 1; ; i++) {
    const candidate = `${name}-${i}`;
    if (!existsSync(candidate)) return candidate;
  }
}

function looksBinary(data: Buffer): boolean {
  return data.subarray(0, 1024).includes(0);
}

async function saveBody(response: HTTPResponse, path: string, io: Io): Promise<void> {
  const file = createWriteStream(path);
  await Promise.race([once(file, 'open'), once(file, 'error').then(([e]) => Promise.reject(e))]);
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const bar = io.stderr.isTTY
    ? new ProgressBar(io.stderr, Number.isFinite(length) ? length : null, `saved ${path}`)
    : null;
  try {
    for await (const chunk of response.stream(-1)) {
      bar?.update(chunk.length);
      // A failing disk rejects here (events.once rejects on 'error').
      if (!file.write(chunk)) await once(file, 'drain');
    }
  } catch (err) {
    bar?.abort();
    file.destroy();
    throw err;
  }
  file.end();
  await once(file, 'finish');
  bar?.finish();
}

async function printBody(response: HTTPResponse, io: Io, style: Style): Promise<void> {
  const paint = painter(style.color);
  const contentType = response.headers.get('content-type');
  if ((style.format || style.color) && isJsonType(contentType)) {
    const data = (await response.read()) as Buffer;
    let text: string;
    try {
      text = formatJson(JSON.parse(data.toString('utf8')), paint, style.format);
    } catch {
      text = data.toString('utf8');
    }
    if (text !== '') await write(io.stdout, text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  let first = true;
  let lastByte = 0x0a;
  for await (const chunk of response.stream(-1)) {
    if (chunk.length === 0) continue;
    if (first && io.stdout.isTTY && looksBinary(chunk)) {
      await response.drainConn();
      io.stderr.write('urllib3-ts: binary body not shown on a terminal; use -o FILE or a pipe\n');
      return;
    }
    first = false;
    lastByte = chunk[chunk.length - 1]!;
    if (!(await write(io.stdout, chunk))) return;
  }
  // On a terminal the prompt should not start on the body's last line.
  if (io.stdout.isTTY && lastByte !== 0x0a) await write(io.stdout, '\n');
}

export async function runRequest(args: RequestArgs, io: Io): Promise<number> {
  const where = hostPort(args.url);
  const errPaint = painter(styleFor(args.pretty, io.stderr.isTTY === true, io.env).color);
  const fail = (err: unknown): number => {
    const f = describeError(err, where);
    io.stderr.write(failureLine(f));
    return f.code;
  };

  let client: ReturnType<typeof createClient> | null = null;
  let response: HTTPResponse | null = null;
  try {
    const useStdin = !args.ignoreStdin && !hasDataItems(args.items) && stdinIsRedirected(io.stdin);
    const plan = planRequest(args, useStdin ? await readAll(io.stdin) : null);
    client = createClient(args, io.env);
    if (args.verbose) {
      io.stderr.write(
        `${formatRequestHead(plan.method, plan.url, plan.headers, plan.body?.length ?? null, errPaint)}\n`,
      );
    }
    let info: ConnectionInfo | null = null;
    const t0 = performance.now();
    response = await client.request(plan.method, plan.url, {
      headers: plan.headers,
      ...(plan.body !== null ? { body: plan.body } : {}),
      preloadContent: false,
      redirect: args.follow,
      retries: retryFor(args),
      timeout: args.timeout,
      onPostConnection: (i: ConnectionInfo) => {
        info = i;
      },
    });
    const firstByte = performance.now() - t0;
    const outStyle = styleFor(args.pretty, io.stdout.isTTY === true, io.env);
    if (args.verbose) {
      for (const h of response.retries?.history ?? []) {
        if (h.redirectLocation)
          io.stderr.write(errPaint('dim', `* ${h.status} redirect to ${h.redirectLocation}\n`));
      }
      io.stderr.write(`${formatResponseHead(response, errPaint)}\n`);
    }
    if (args.head || args.include) {
      await write(
        io.stdout,
        `${formatResponseHead(response, painter(outStyle.color))}${args.head ? '' : '\n'}`,
      );
    }
    const failed = response.status >= 400;
    const target = args.output ?? (args.download ? downloadName(response, plan.url) : null);
    if (args.head) await response.drainConn();
    else if (target !== null && !failed) await saveBody(response, target, io);
    else if (target !== null) await response.drainConn();
    else await printBody(response, io, outStyle);
    if (args.verbose) io.stderr.write(formatTiming(info, firstByte, performance.now() - t0, errPaint));
    if (failed) {
      const reason = response.reason ? ` ${response.reason}` : '';
      io.stderr.write(
        `urllib3-ts: ${errPaint('red', `HTTP ${response.status}${reason}`)} from ${hostPort(response.url ?? plan.url)}\n`,
      );
    }
    return exitCodeForStatus(response.status);
  } catch (err) {
    return fail(err);
  } finally {
    // A body left unread (a reader gone, a failed write) would keep its socket, and the process, alive.
    if (response !== null && !response.closed) response.close();
    await client?.close();
  }
}
