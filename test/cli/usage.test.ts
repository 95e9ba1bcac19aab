// The command line's own surface (docs/api.md section 14): --help, --version,
// shell completion, and usage errors - unknown options and bad values are
// refused with exit code 2 and one line on stderr before anything is sent.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EXIT_CODE_HELP } from '../../src/cli/exit-codes.js';
import { OPTIONS } from '../../src/cli/option-table.js';
import { startHttpServer, type TestHttpServer } from '../support/servers.js';
import { hasStackTrace, runCli } from './run-cli.js';

let server: TestHttpServer;

before(async () => {
  server = await startHttpServer();
});

after(async () => {
  await server?.close();
});

describe('help and version', () => {
  test('--help reads like a man page and lists every option and exit code', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    for (const section of [
      'NAME',
      'SYNOPSIS',
      'DESCRIPTION',
      'REQUEST ITEMS',
      'OPTIONS',
      'EXIT STATUS',
      'ENVIRONMENT',
      'EXAMPLES',
    ]) {
      assert.match(r.stdout, new RegExp(`^${section}$`, 'm'), `section ${section}`);
    }
    for (const o of OPTIONS) assert.ok(r.stdout.includes(o.long), `--help mentions ${o.long}`);
    for (const code of [0, 2, 3, 4, 5, 6, 7]) assert.match(r.stdout, new RegExp(`^ {7}${code} +\\S`, 'm'));
    assert.equal(r.stderr, '');
  });

  test('-h anywhere on the line prints the help, even after a URL', async () => {
    const r = await runCli([`${server.origin}/echo`, '-h']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^SYNOPSIS$/m);
  });

  test('--version prints the package version instead of looking it up as a host', async () => {
    const r = await runCli(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^urllib3-ts \d+\.\d+\.\d+ \(node v\d+/);
  });

  test("the README's Command line section lists every option and the same exit codes", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('\n## Command line\n');
    assert.ok(start > 0, 'README has a Command line section');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 5));
    for (const o of OPTIONS) assert.ok(section.includes(`\`${o.long}`), `README mentions ${o.long}`);
    const codes = [...section.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
    assert.deepEqual(
      codes,
      EXIT_CODE_HELP.map(([code]) => code),
    );
  });

  test('urllib3-ts demo runs the guided demo', async () => {
    const r = await runCli(['demo']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Done in \d+ ms/);
  });

  test('no arguments at all is a usage error with a hint', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^usage: urllib3-ts \[METHOD\] URL/);
  });
});

describe('usage errors (exit 2, nothing sent)', () => {
  const cases: [string, string[], RegExp][] = [
    ['an unknown long option', ['--bogus', 'URL'], /unknown option --bogus/],
    ['an unknown short option', ['-Z', 'URL'], /unknown option -Z/],
    ['an unknown flag in a bundle', ['-vZ', 'URL'], /unknown option -Z in -vZ/],
    ['an option missing its value', ['URL', '--timeout'], /--timeout needs a value/],
    [
      'a timeout that is not a number',
      ['--timeout', 'soon', 'URL'],
      /--timeout needs a positive number of seconds/,
    ],
    ['a negative retry count', ['--retries=-1', 'URL'], /--retries needs a whole number/],
    ['a flag given a value', ['--follow=yes', 'URL'], /--follow takes no value/],
    [
      'a bad --pretty choice',
      ['--pretty', 'loud', 'URL'],
      /--pretty must be one of all, colors, format, none/,
    ],
    ['--json with --form', ['--json', '--form', 'URL'], /--json and --form cannot be used together/],
    [
      '--http1.1 with --http2',
      ['--http1.1', '--http2', 'URL'],
      /--http1\.1 and --http2 cannot be used together/,
    ],
    ['--http3 with --http2', ['--http3', '--http2', 'URL'], /--http2.*--http3|--http3.*--http2/],
    ['-u without a password', ['-u', 'ada', 'URL'], /-u\/--auth needs USER:PASS/],
    ['--key without --cert', ['--key', 'k.pem', 'URL'], /--key needs --cert/],
    ['an item that is not an item', ['URL', 'justaword'], /not a request item: "justaword"/],
    ['raw JSON that does not parse', ['URL', 'n:={oops'], /item n:=\{oops: invalid JSON/],
    ['raw JSON with --form', ['--form', 'URL', 'n:=1'], /needs a JSON body; drop --form/],
    ['an upload with --json', ['--json', 'URL', 'f@/etc/hostname'], /multipart\/form-data; drop --json/],
    [
      'a file that does not exist',
      ['URL', 'f@/nonexistent/file'],
      /cannot read \/nonexistent\/file for item f@\/nonexistent\/file: ENOENT/,
    ],
    ['a header name with a space', ['-H', 'Bad Name: 1', 'URL'], /invalid header name "Bad Name"/],
    ['a URL with another scheme', ['ftp://example.com/x'], /unsupported URL scheme ftp:\/\//],
    ['an invalid port', ['http://127.0.0.1:99999/'], /invalid URL http:\/\/127\.0\.0\.1:99999\//],
    [
      'a socks proxy with a bad scheme',
      ['--proxy', 'gopher://127.0.0.1:1', 'URL'],
      /--proxy gopher:\/\/127\.0\.0\.1:1: /,
    ],
    [
      'a resolver its options make unusable',
      ['--resolver', 'doq://1.1.1.1?ssl_maximum_version=TLSv1.2', 'URL'],
      /doq:\/\/1\.1\.1\.1:853: DNS over QUIC is unavailable: QUIC needs TLS 1\.3/,
    ],
    ['completion without a shell', ['completion'], /completion needs a shell: bash or zsh/],
    [
      'completion for an unknown shell',
      ['completion', 'fish'],
      /completion needs a shell: bash or zsh, got fish/,
    ],
  ];
  for (const [what, args, message] of cases) {
    test(`${what} is refused with one line on stderr`, async () => {
      const before = server.requests.length;
      const r = await runCli(args.map((a) => a.replace(/^URL$/, `${server.origin}/echo`)));
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split('\n').length, 2, `one line: ${r.stderr}`);
      assert.match(r.stderr, /^urllib3-ts: /);
      assert.ok(!hasStackTrace(r.stderr));
      assert.equal(r.stdout, '');
      assert.equal(server.requests.length, before, 'nothing was sent');
    });
  }

  test('options are accepted before, between and after the method, URL and items', async () => {
    const r = await runCli([
      '-v',
      'POST',
      '--json',
      `${server.origin}/echo`,
      '--timeout=5',
      'a=1',
      '-H',
      'X-A: 1',
      '-L',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout) as { method: string; headers: Record<string, string>; body: string };
    assert.equal(echo.method, 'POST');
    assert.equal(echo.headers['x-a'], '1');
    assert.deepEqual(JSON.parse(echo.body), { a: '1' });
  });

  test('after -- everything is positional, so an item may start with a dash', async () => {
    const r = await runCli([`${server.origin}/echo`, '--', '-x=1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse((JSON.parse(r.stdout) as { body: string }).body), { '-x': '1' });
  });
});

describe('shell completion', () => {
  test('completion bash prints a script bash accepts that completes every option', async () => {
    const r = await runCli(['completion', 'bash']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /complete -o default -F _urllib3_ts urllib3-ts/);
    for (const o of OPTIONS) assert.ok(r.stdout.includes(o.long), o.long);
    const check = spawnSync('bash', ['-n'], { input: r.stdout });
    assert.equal(check.status, 0, check.stderr?.toString());
  });

  test('the bash completion offers options and file names where a file is expected', async (t) => {
    const r = await runCli(['completion', 'bash']);
    const dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-comp-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'ca-bundle.pem'), '');
    const script = `${r.stdout}
cd ${JSON.stringify(dir)}
COMP_WORDS=(urllib3-ts --ht); COMP_CWORD=1; _urllib3_ts; echo "opts: \${COMPREPLY[*]}"
COMP_WORDS=(urllib3-ts --cacert ca-); COMP_CWORD=2; _urllib3_ts; echo "file: \${COMPREPLY[*]}"
COMP_WORDS=(urllib3-ts --pretty n); COMP_CWORD=2; _urllib3_ts; echo "pretty: \${COMPREPLY[*]}"
`;
    const out = spawnSync('bash', ['--norc', '--noprofile'], { input: script }).stdout.toString();
    assert.match(out, /^opts: --http1\.1 --http2 --http3$/m);
    assert.match(out, /^file: ca-bundle\.pem$/m);
    assert.match(out, /^pretty: none$/m);
  });

  test('completion zsh prints a #compdef script with every option', async () => {
    const r = await runCli(['completion', 'zsh']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^#compdef urllib3-ts\n/);
    for (const o of OPTIONS) assert.ok(r.stdout.includes(o.long), o.long);
  });

  test('zsh accepts the zsh completion script', async (t) => {
    if (spawnSync('zsh', ['--version']).error !== undefined) {
      // CI installs zsh (.ci/run): there a missing zsh is a failure, not a skip.
      if (process.env.CI === 'true') assert.fail('zsh is not installed (.ci/run installs it)');
      t.skip('zsh is not installed');
      return;
    }
    const r = await runCli(['completion', 'zsh']);
    const zsh = spawnSync('zsh', ['-n'], { input: r.stdout });
    assert.equal(zsh.status, 0, zsh.stderr?.toString());
  });
});
