// The `urllib3-ts` command against real servers from Debian, as a person
// would use it in a fresh terminal (docs/api.md section 14): httpbin under
// gunicorn for headers, JSON and form bodies, uploads, auth, redirects and
// errors; nginx for a download with -o and HTTPS with --cacert.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runCli } from '../cli/run-cli.js';
import { makeTestPki, type TestPki } from '../support/certs.js';
import {
  type NginxServer,
  nginxFixtureFiles,
  requireServer,
  type RunningServer,
  startHttpbin,
  startNginx,
} from '../support/real-servers.js';

interface HttpbinEcho {
  args: Record<string, string>;
  headers: Record<string, string>;
  json: unknown;
  form: Record<string, string>;
  files: Record<string, string>;
  url: string;
}

describe('the command line against httpbin', { skip: requireServer('httpbin') ?? false }, () => {
  let httpbin: RunningServer;
  let dir: string;

  before(async () => {
    httpbin = await startHttpbin();
    dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-cli-real-'));
  });
  after(async () => {
    await httpbin?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a GET with a header and a query item', async () => {
    const r = await runCli([`${httpbin.url}/get`, 'X-Api-Key:secret', 'q==a b']);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as HttpbinEcho;
    assert.equal(body.headers['X-Api-Key'], 'secret');
    assert.deepEqual(body.args, { q: 'a b' });
    assert.match(body.headers['User-Agent'] ?? '', /^urllib3-ts\//);
  });

  test('a JSON POST from items', async () => {
    const r = await runCli(['POST', `${httpbin.url}/post`, 'name=Ada', 'age:=36']);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as HttpbinEcho;
    assert.deepEqual(body.json, { name: 'Ada', age: 36 });
    assert.equal(body.headers['Content-Type'], 'application/json');
  });

  test('a multipart upload with --form', async () => {
    writeFileSync(join(dir, 'notes.txt'), 'file contents\n');
    const r = await runCli([
      '--form',
      'POST',
      `${httpbin.url}/post`,
      'note=hi',
      `upload@${join(dir, 'notes.txt')}`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const body = JSON.parse(r.stdout) as HttpbinEcho;
    assert.deepEqual(body.form, { note: 'hi' });
    assert.deepEqual(body.files, { upload: 'file contents\n' });
  });

  test('-u sends Basic credentials httpbin accepts, and wrong ones exit 4', async () => {
    const ok = await runCli(['-u', 'ada:pw', `${httpbin.url}/basic-auth/ada/pw`]);
    assert.equal(ok.code, 0, ok.stderr);
    const wrong = await runCli(['-u', 'ada:nope', `${httpbin.url}/basic-auth/ada/pw`]);
    assert.equal(wrong.code, 4);
    assert.match(wrong.stderr, /^urllib3-ts: HTTP 401 UNAUTHORIZED from 127\.0\.0\.1:\d+\n$/);
  });

  test('a 404 exits 4 and a 500 exits 5', async () => {
    const missing = await runCli([`${httpbin.url}/status/404`]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /HTTP 404 NOT FOUND from 127\.0\.0\.1:\d+/);
    const broken = await runCli([`${httpbin.url}/status/500`]);
    assert.equal(broken.code, 5);
  });

  test('--follow follows httpbin redirects; too many exit 3', async () => {
    const followed = await runCli(['-L', `${httpbin.url}/redirect/2`]);
    assert.equal(followed.code, 0, followed.stderr);
    assert.match((JSON.parse(followed.stdout) as HttpbinEcho).url, /\/get$/);
    const tooMany = await runCli(['-L', '--max-redirects', '2', `${httpbin.url}/redirect/4`]);
    assert.equal(tooMany.code, 3);
  });

  test('a gzip answer is decoded', async () => {
    const r = await runCli([`${httpbin.url}/gzip`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { gzipped: boolean }).gzipped, true);
  });

  test('--timeout against /delay exits 7', async () => {
    const r = await runCli(['--timeout', '0.5', `${httpbin.url}/delay/3`]);
    assert.equal(r.code, 7, r.stderr);
  });
});

describe(
  'the command line against nginx',
  { skip: (requireServer('nginx') ?? requireServer('openssl')) || false },
  () => {
    let nginx: NginxServer & { tlsPort?: number; tlsUrl?: string };
    let pki: TestPki;
    let dir: string;

    before(async () => {
      pki = await makeTestPki();
      nginx = await startNginx({ tls: { cert: pki.serverCert, key: pki.serverKey } });
      dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-cli-nginx-'));
    });
    after(async () => {
      await nginx?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('-o downloads a 1 MiB file byte for byte', async () => {
      const file = join(dir, 'big.bin');
      const r = await runCli(['-o', file, `${nginx.url}/big.bin`]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(readFileSync(file).equals(nginxFixtureFiles()['big.bin']!));
    });

    test('HTTPS with --cacert, and without it a one-line certificate error', async () => {
      const ok = await runCli(['--cacert', pki.caCert, `${nginx.tlsUrl}/small.txt`]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(ok.stdout, 'Hello, world\n');
      const refused = await runCli([`${nginx.tlsUrl}/small.txt`]);
      assert.equal(refused.code, 6);
      assert.match(refused.stderr, /^urllib3-ts: .*SSLError.*\n$/);
    });
  },
);
