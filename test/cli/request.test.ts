// The command line's requests (docs/api.md section 14), run as a child
// process against an in-process server: headers, query and body items,
// JSON and form bodies, uploads, standard input, methods, auth, HEAD,
// redirects, and the exit code of each kind of answer.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type EchoBody, startHttpServer, type TestHttpServer } from '../support/servers.js';
import { hasStackTrace, runCli } from './run-cli.js';

let server: TestHttpServer;
let dir: string;

before(async () => {
  server = await startHttpServer();
  dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-cli-'));
});

after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

function echoed(stdout: string): EchoBody {
  return JSON.parse(stdout) as EchoBody;
}

describe('request items', () => {
  test('Name:value items and -H options become request headers', async () => {
    const r = await runCli([`${server.origin}/echo`, 'X-One:1', '-H', 'X-Two: two words', 'X-One:again']);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.method, 'GET');
    assert.equal(echo.headers['x-one'], '1, again');
    assert.equal(echo.headers['x-two'], 'two words');
    assert.match(String(echo.headers['user-agent']), /^urllib3-ts\/\d/);
  });

  test('a bare Name: drops a default header and Name; sends an empty one', async () => {
    const r = await runCli([`${server.origin}/echo`, 'User-Agent:', 'X-Empty;']);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.headers['user-agent'], undefined);
    assert.equal(echo.headers['x-empty'], '');
  });

  test('name==value items are added to the query string', async () => {
    const r = await runCli([`${server.origin}/echo?a=1`, 'b==2', 'c==x y']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo?a=1&b=2&c=x+y');
  });

  test('data items make a JSON object posted with POST by default', async () => {
    const r = await runCli([
      `${server.origin}/echo`,
      'name=Ada',
      'age:=36',
      'tags:=["a","b"]',
      'ok:=true',
      'a\\:b=escaped',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.method, 'POST');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(echo.body), {
      name: 'Ada',
      age: 36,
      tags: ['a', 'b'],
      ok: true,
      'a:b': 'escaped',
    });
  });

  test('--json with an explicit method sends the JSON media type in Accept too', async () => {
    const r = await runCli(['PUT', '--json', `${server.origin}/echo`, 'x=1']);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.method, 'PUT');
    assert.match(String(echo.headers.accept), /^application\/json/);
    assert.deepEqual(JSON.parse(echo.body), { x: '1' });
  });

  test('values and JSON can be read from files with =@ and :=@', async () => {
    writeFileSync(join(dir, 'note.txt'), 'from a file');
    writeFileSync(join(dir, 'obj.json'), '{"deep":[1,2]}');
    const r = await runCli([
      `${server.origin}/echo`,
      `note=@${join(dir, 'note.txt')}`,
      `obj:=@${join(dir, 'obj.json')}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(echoed(r.stdout).body), { note: 'from a file', obj: { deep: [1, 2] } });
  });

  test('--form sends name=value items urlencoded', async () => {
    const r = await runCli(['--form', `${server.origin}/echo`, 'a=1', 'b=x y&z']);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(echo.body, 'a=1&b=x+y%26z');
  });

  test('a field@file item uploads the file as multipart/form-data', async () => {
    writeFileSync(join(dir, 'photo.png'), 'PNGDATA');
    const r = await runCli([`${server.origin}/echo`, 'title=holiday', `photo@${join(dir, 'photo.png')}`]);
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.match(String(echo.headers['content-type']), /^multipart\/form-data; boundary=/);
    assert.match(echo.body, /name="photo"; filename="photo.png"\r\nContent-Type: image\/png\r\n\r\nPNGDATA/);
    assert.match(echo.body, /name="title"\r\n\r\nholiday/);
  });

  test('a redirected standard input is the body', async () => {
    const r = await runCli(['PUT', `${server.origin}/echo`, '--json', 'X-A:1'], {
      input: '{"from":"stdin"}',
    });
    assert.equal(r.code, 0, r.stderr);
    const echo = echoed(r.stdout);
    assert.equal(echo.method, 'PUT');
    assert.equal(echo.body, '{"from":"stdin"}');
    assert.equal(echo.headers['content-type'], 'application/json');
    assert.equal(echo.headers['content-length'], '16');
  });

  test('standard input makes the default method POST, and --ignore-stdin leaves it unread', async () => {
    const posted = await runCli([`${server.origin}/echo`], { input: 'raw bytes' });
    assert.equal(echoed(posted.stdout).method, 'POST');
    assert.equal(echoed(posted.stdout).body, 'raw bytes');
    const ignored = await runCli([`${server.origin}/echo`, '--ignore-stdin'], { input: 'raw bytes' });
    assert.equal(echoed(ignored.stdout).method, 'GET');
    assert.equal(echoed(ignored.stdout).bodyLength, 0);
  });

  test('-u user:pass sends Basic credentials', async () => {
    const r = await runCli([`${server.origin}/echo`, '-u', 'ada:s3cret']);
    assert.equal(
      echoed(r.stdout).headers.authorization,
      `Basic ${Buffer.from('ada:s3cret').toString('base64')}`,
    );
  });

  test('a lower-case common method and an upper-case custom one are both methods', async () => {
    const del = await runCli(['delete', `${server.origin}/echo`]);
    assert.equal(echoed(del.stdout).method, 'DELETE');
    const custom = await runCli(['PURGE', `${server.origin}/echo`]);
    assert.equal(echoed(custom.stdout).method, 'PURGE');
  });

  test('a URL without a scheme gets http:// and :PORT/path means localhost', async () => {
    const bare = await runCli([`127.0.0.1:${server.port}/echo`]);
    assert.equal(bare.code, 0, bare.stderr);
    assert.equal(echoed(bare.stdout).url, '/echo');
    const shorthand = await runCli([`:${server.port}/echo/short`]);
    assert.equal(shorthand.code, 0, shorthand.stderr);
    assert.equal(echoed(shorthand.stdout).url, '/echo/short');
  });
});

describe('answers and exit codes', () => {
  test('a 2xx answer exits 0 with the body on stdout and nothing on stderr', async () => {
    const r = await runCli([`${server.origin}/bytes?n=5`]);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, 'xxxxx');
    assert.equal(r.stderr, '');
  });

  test('a 404 prints its body, exits 4 and names the status and host on stderr', async () => {
    const r = await runCli([`${server.origin}/status/404`]);
    assert.equal(r.code, 4);
    assert.equal(r.stdout, 'status 404');
    assert.equal(r.stderr, `urllib3-ts: HTTP 404 Not Found from 127.0.0.1:${server.port}\n`);
  });

  test('a 500 exits 5', async () => {
    const r = await runCli([`${server.origin}/status/503`]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^urllib3-ts: HTTP 503 Service Unavailable from 127\.0\.0\.1:\d+\n$/);
    assert.ok(!hasStackTrace(r.stderr));
  });

  test('a redirect is returned, not followed, and exits 0', async () => {
    const r = await runCli([`${server.origin}/redirect?to=/echo/there`, '-i']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^HTTP\/1\.1 302 Found\n/);
    assert.match(r.stdout, /\nLocation: \/echo\/there\n/);
    assert.match(r.stdout, /\n\nredirecting$/);
  });

  test('--follow follows redirects and -v reports each one', async () => {
    const r = await runCli([`${server.origin}/redirect?to=/redirect%3Fto%3D/echo/final`, '--follow', '-v']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/final');
    assert.match(r.stderr, /\* 302 redirect to \/redirect\?to=\/echo\/final\n/);
    assert.match(r.stderr, /\* 302 redirect to \/echo\/final\n/);
  });

  test('more redirects than --max-redirects exits 3', async () => {
    const r = await runCli([
      `${server.origin}/redirect?to=/redirect%3Fto%3D/echo`,
      '-L',
      '--max-redirects',
      '1',
    ]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^urllib3-ts: .*too many redirects.*\n$/);
    assert.ok(!hasStackTrace(r.stderr));
  });

  test('-I sends HEAD and prints the response head on stdout', async () => {
    const before = server.requests.length;
    const r = await runCli(['-I', `${server.origin}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(server.requests[before]?.method, 'HEAD');
    assert.match(r.stdout, /^HTTP\/1\.1 200 OK\nContent-Type: application\/json\n/);
  });

  test('-I on a 404 exits 4', async () => {
    const r = await runCli(['--head', `${server.origin}/status/404`]);
    assert.equal(r.code, 4);
    assert.match(r.stdout, /^HTTP\/1\.1 404 Not Found\n/);
  });

  test('the process exits as soon as the answer is printed (the manager is closed)', async () => {
    const r = await runCli([`${server.origin}/echo`], { timeoutMs: 4000 });
    // The server keeps idle connections for 5 s: a process waiting on one would be killed by the timeout.
    assert.equal(r.signal, null);
    assert.equal(r.code, 0);
  });
});
