// What the command line writes (docs/api.md section 14): bodies on stdout as
// they came in a pipe, indented and coloured JSON when asked (--pretty; the
// terminal default is covered by terminal.test.ts), downloads with -o and
// --download (no progress bar without a terminal), -v heads and timings on
// stderr, and a reader that goes away early.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { styleFor } from '../../src/cli/colors.js';
import { startHttpServer, type TestHttpServer } from '../support/servers.js';
import { CLI_COMMAND, cleanEnv, hasStackTrace, runCli } from './run-cli.js';

const run = promisify(execFile);
let server: TestHttpServer;
let dir: string;
const ESC = '\x1b[';

before(async () => {
  server = await startHttpServer((req, res) => {
    if (req.url === '/report') {
      const body = Buffer.from('report body');
      res.writeHead(200, {
        'Content-Type': 'application/pdf',
        'Content-Length': body.length,
        'Content-Disposition': 'attachment; filename="q3 report.pdf"',
      });
      res.end(body);
      return true;
    }
    if (req.url === '/data.json') {
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end('{"name":"Ada","n":3,"ok":true,"none":null,"list":[1,"two"]}');
      return true;
    }
    return false;
  });
  dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-cli-out-'));
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('JSON bodies', () => {
  test('in a pipe the JSON body is written exactly as received, without colours', async () => {
    const r = await runCli([`${server.origin}/data.json`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '{"name":"Ada","n":3,"ok":true,"none":null,"list":[1,"two"]}');
    assert.ok(!r.stdout.includes(ESC));
  });

  test('--pretty=all indents and colours keys, strings, numbers and literals', async () => {
    const r = await runCli(['--pretty=all', `${server.origin}/data.json`]);
    assert.equal(r.code, 0);
    assert.ok(r.stdout.includes(`  ${ESC}34m"name"${ESC}0m: ${ESC}32m"Ada"${ESC}0m,\n`), r.stdout);
    assert.ok(r.stdout.includes(`${ESC}33m3${ESC}0m`));
    assert.ok(r.stdout.includes(`${ESC}35mtrue${ESC}0m`));
    assert.ok(r.stdout.includes(`${ESC}35mnull${ESC}0m`));
    // Without the escapes it is the indented JSON.
    const plain = r.stdout.replace(/\x1b\[\d+m/g, '');
    assert.equal(plain, `${JSON.stringify(JSON.parse(plain), null, 2)}\n`);
  });

  test('--pretty=format indents without colours, and --pretty=colors colours without indenting', async () => {
    const format = await runCli(['--pretty', 'format', `${server.origin}/data.json`]);
    assert.ok(!format.stdout.includes(ESC));
    assert.match(format.stdout, /^{\n {2}"name": "Ada",\n/);
    const colors = await runCli(['--pretty', 'colors', `${server.origin}/data.json`]);
    assert.ok(colors.stdout.includes(`${ESC}34m"name"${ESC}0m:`));
    assert.ok(!colors.stdout.includes('\n  '));
  });

  test('--pretty=none on a forced style keeps the bytes', async () => {
    const r = await runCli(['--pretty=none', `${server.origin}/data.json`]);
    assert.equal(r.stdout, '{"name":"Ada","n":3,"ok":true,"none":null,"list":[1,"two"]}');
  });

  test('the style rule: terminals get colours unless NO_COLOR, pipes get none, --pretty wins', () => {
    assert.deepEqual(styleFor(null, true, {}), { format: true, color: true });
    assert.deepEqual(styleFor(null, true, { NO_COLOR: '1' }), { format: true, color: false });
    assert.deepEqual(styleFor(null, true, { NO_COLOR: '' }), { format: true, color: true });
    assert.deepEqual(styleFor(null, false, {}), { format: false, color: false });
    assert.deepEqual(styleFor('all', false, { NO_COLOR: '1' }), { format: true, color: true });
    assert.deepEqual(styleFor('none', true, {}), { format: false, color: false });
  });
});

describe('downloads', () => {
  test('-o FILE writes the body to the file, with no progress bar when stderr is not a terminal', async () => {
    const file = join(dir, 'bytes.bin');
    const r = await runCli(['-o', file, `${server.origin}/bytes?n=300000`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, '');
    const data = readFileSync(file);
    assert.equal(data.length, 300000);
    assert.ok(data.every((b) => b === 0x78));
  });

  test('--download names the file after the URL path, then after Content-Disposition, never overwriting', async () => {
    const first = await runCli(['--download', `${server.origin}/bytes?n=10`], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    assert.equal(readFileSync(join(dir, 'bytes'), 'utf8'), 'xxxxxxxxxx');
    const again = await runCli(['-d', `${server.origin}/bytes?n=3`], { cwd: dir });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(join(dir, 'bytes-1'), 'utf8'), 'xxx');
    const report = await runCli(['-d', `${server.origin}/report`], { cwd: dir });
    assert.equal(report.code, 0, report.stderr);
    assert.equal(readFileSync(join(dir, 'q3 report.pdf'), 'utf8'), 'report body');
  });

  test('a 404 is not saved: no file, exit 4', async () => {
    const file = join(dir, 'missing.txt');
    const r = await runCli(['-o', file, `${server.origin}/status/404`]);
    assert.equal(r.code, 4);
    assert.ok(!existsSync(file));
    assert.match(r.stderr, /HTTP 404 Not Found/);
  });

  test('an output file that cannot be written exits 1 with one line', async () => {
    const r = await runCli(['-o', join(dir, 'no/such/dir/file'), `${server.origin}/bytes?n=10`]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^urllib3-ts: .*ENOENT.*no\/such\/dir\/file.*\n$/);
    assert.ok(!hasStackTrace(r.stderr));
  });
});

describe('heads, timings and pipes', () => {
  test('-v writes the request and response heads and a timing line to stderr, the body alone to stdout', async () => {
    const r = await runCli(['-v', `${server.origin}/echo`, 'X-Trace:abc']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { url: string }).url, '/echo');
    assert.match(r.stderr, /^GET \/echo\nHost: 127\.0\.0\.1:\d+\nUser-Agent: urllib3-ts\/\S+\n/);
    assert.match(r.stderr, /\nX-Trace: abc\n\nHTTP\/1\.1 200 OK\nContent-Type: application\/json\n/);
    assert.match(
      r.stderr,
      /\n\* dns [\d.]+ ms · connect [\d.]+ ms · first byte [\d.]+ ms · total [\d.]+ ms \(HTTP\/1\.1, 127\.0\.0\.1:\d+\)\n$/,
    );
    assert.ok(!r.stderr.includes(ESC), 'no colours on a pipe');
  });

  test('-v shows a request body length', async () => {
    const r = await runCli(['-v', `${server.origin}/echo`, 'a=1']);
    assert.match(r.stderr, /^POST \/echo\n/);
    assert.match(r.stderr, /\nContent-Type: application\/json\nContent-Length: 9\n/);
  });

  test('-i puts the response head before the body on stdout', async () => {
    const r = await runCli(['-i', `${server.origin}/bytes?n=4`]);
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\n(.+\n)+\nxxxx$/);
  });

  test('a reader that stops early ends the command quietly', async () => {
    // Through a shell pipe, as typed; spawned asynchronously so this process's server keeps answering.
    const cli = CLI_COMMAND.map((a) => `'${a}'`).join(' ');
    const r = await run('sh', ['-c', `${cli} '${server.origin}/bytes?n=5000000' < /dev/null | head -c 10`], {
      env: cleanEnv(),
      timeout: 30_000,
    });
    assert.equal(r.stdout, 'xxxxxxxxxx');
    assert.equal(r.stderr, '');
  });
});
