// The command line in a real terminal (docs/api.md section 14): a tmux pane
// runs it as a person would, and what the screen shows is read back with
// capture-pane. On a terminal a download draws a progress bar (percentage,
// size, rate, ETA) and JSON is indented and coloured; NO_COLOR drops the
// colours; through a pipe the same command writes plain bytes.
//
// Skipped with a message when tmux is not installed, except under CI=true,
// where a missing tmux fails (.ci/run installs it).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startHttpServer, type TestHttpServer } from '../support/servers.js';
import { CLI_COMMAND, cleanEnv } from './run-cli.js';

const run = promisify(execFile);
const SOCKET = `urllib3-ts-cli-${process.pid}`;
const ESC = '\x1b[';

async function tmuxAvailable(): Promise<boolean> {
  try {
    await run('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

const available = await tmuxAvailable();
if (!available && process.env.CI === 'true') {
  throw new Error('tmux is required under CI=true for the terminal tests (.ci/run installs it)');
}
const skip = available
  ? false
  : 'tmux is not installed: the terminal tests (progress bar, colours on a TTY) are skipped';

async function tmux(...args: string[]): Promise<string> {
  const { stdout } = await run('tmux', ['-L', SOCKET, ...args], { env: cleanEnv({ PS1: '$ ' }) });
  return stdout;
}

/** What the pane shows, with colour escapes and wrapped lines joined. */
function screen(): Promise<string> {
  return tmux('capture-pane', '-p', '-e', '-J', '-t', 'cli');
}

async function waitForScreen(pred: (text: string) => boolean, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while (Date.now() < deadline) {
    text = await screen();
    if (pred(text)) return text;
    await sleep(50);
  }
  assert.fail(`the terminal never showed what was expected; it shows:\n${text}`);
}

let commands = 0;

/**
 * Types a command line and waits for it to finish; resolves with the screen
 * and its exit status. Each command's end marker is its own, so a screen
 * still showing the previous command (clear is typed, not instant) is never
 * taken for this one's.
 */
async function typeAndWait(line: string): Promise<{ text: string; status: number }> {
  const mark = `EXIT${++commands}`;
  await tmux('send-keys', '-t', 'cli', 'clear', 'Enter');
  await tmux('clear-history', '-t', 'cli');
  await tmux('send-keys', '-t', 'cli', '-l', `${line}; echo "${mark}:$?"`);
  await tmux('send-keys', '-t', 'cli', 'Enter');
  const done = new RegExp(`${mark}:(\\d+)`);
  const text = await waitForScreen((t) => done.test(t));
  return { text, status: Number(done.exec(text)![1]) };
}

const cli = (...args: string[]) => [...CLI_COMMAND, ...args].map((a) => `'${a}'`).join(' ');

let server: TestHttpServer;
let dir: string;

before(async () => {
  if (!available) return;
  server = await startHttpServer((req, res) => {
    if (req.url === '/slow') {
      // 1 MiB in 32 pieces, 60 ms apart: about two seconds of progress bar.
      const piece = Buffer.alloc(32 * 1024, 'y');
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': piece.length * 32 });
      let sent = 0;
      const timer = setInterval(() => {
        res.write(piece);
        if (++sent === 32) {
          clearInterval(timer);
          res.end();
        }
      }, 60);
      res.once('close', () => clearInterval(timer));
      return true;
    }
    if (req.url === '/data.json') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"name":"Ada","n":3,"ok":true}');
      return true;
    }
    return false;
  });
  dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-tty-'));
  const shell = 'exec bash --norc --noprofile || exec sh';
  await tmux('new-session', '-d', '-s', 'cli', '-x', '200', '-y', '50', '-c', dir, shell);
});

after(async () => {
  if (!available) return;
  await tmux('kill-server').catch(() => '');
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('in a terminal (tmux)', { skip }, () => {
  test('a download with -o draws a progress bar with percentage, size, rate and ETA, then a summary', async () => {
    await tmux('send-keys', '-t', 'cli', 'clear', 'Enter');
    await tmux(
      'send-keys',
      '-t',
      'cli',
      '-l',
      `${cli('-o', 'slow.bin', `${server.origin}/slow`)}; echo "EXIT:$?"`,
    );
    await tmux('send-keys', '-t', 'cli', 'Enter');
    const during = await waitForScreen((t) =>
      /\d+% \[=*>? *\] [\d.]+ KiB \/ 1\.0 MiB +[\d.]+ \S+\/s +ETA \d+:\d\d/.test(t),
    );
    assert.match(during, /\d+% \[/);
    const done = await waitForScreen((t) => /EXIT:\d+/.test(t));
    assert.match(done, /saved slow\.bin: 1\.0 MiB in [\d.]+ s \([\d.]+ \S+\/s\)/);
    assert.match(done, /EXIT:0/);
    assert.equal(readFileSync(join(dir, 'slow.bin')).length, 1024 * 1024);
  });

  test('JSON is indented and coloured on a terminal', async () => {
    const { text, status } = await typeAndWait(cli(`${server.origin}/data.json`));
    assert.equal(status, 0);
    assert.ok(text.includes(`${ESC}34m"name"`), `blue key in:\n${JSON.stringify(text)}`);
    assert.ok(text.includes(`${ESC}32m"Ada"`), 'green string');
    assert.match(
      text.replace(/\x1b\[[\d;]*m/g, ''),
      /^{\n {2}"name": "Ada",\n {2}"n": 3,\n {2}"ok": true\n}$/m,
    );
  });

  test('NO_COLOR keeps the indentation and drops the colours', async () => {
    const { text } = await typeAndWait(`NO_COLOR=1 ${cli(`${server.origin}/data.json`)}`);
    assert.ok(!text.includes(`${ESC}34m`), JSON.stringify(text));
    assert.match(text, /^ {2}"name": "Ada",$/m);
  });

  test('through a pipe the same command writes the body as received, without colours or a progress bar', async () => {
    const json = await typeAndWait(`${cli(`${server.origin}/data.json`)} | cat`);
    assert.match(json.text, /^{"name":"Ada","n":3,"ok":true}EXIT\d+:0$/m);
    assert.ok(!json.text.includes(`${ESC}34m`));
    const download = await typeAndWait(`${cli(`${server.origin}/slow`)} 2>&1 | wc -c`);
    assert.match(download.text, /^\s*1048576\s*$/m);
    assert.doesNotMatch(download.text, /ETA/);
  });
});
