// The command line's connection options (docs/api.md section 14) against
// in-process servers: timeouts and retries, proxies (--proxy and the proxy
// environment, HTTP and SOCKS), TLS (--cacert, --insecure, --cert/--key),
// HTTP versions, --resolver, and the one-line errors with their exit codes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import {
  startHttpProxy,
  startSocksProxy,
  type TestProxy,
  type TestSocksProxy,
} from '../support/proxy-servers.js';
import { type EchoBody, startHttpServer, startHttpsServer, type TestHttpServer } from '../support/servers.js';
import { type H2TestServer, startH2Server } from '../integration/h2-fixtures.js';
import { startTlsServer, type TlsEcho, type TlsServer } from '../integration/tls-fixtures.js';
import { hasStackTrace, runCli } from './run-cli.js';

let server: TestHttpServer;
let tlsServer: TestHttpServer;
let mtls: TlsServer;
let h2: H2TestServer;
let h2c: H2TestServer;
let proxy: TestProxy;
let socks: TestSocksProxy;
let pki: TlsTestPki;
const flakyHits = new Map<string, number>();

before(async () => {
  pki = await makeTlsTestPki();
  server = await startHttpServer((req, res) => {
    // /flaky/<id>: the first request for each id loses its connection before any answer.
    const m = /^\/flaky\/(\w+)$/.exec(req.url ?? '');
    if (m === null) return false;
    const n = (flakyHits.get(m[1]!) ?? 0) + 1;
    flakyHits.set(m[1]!, n);
    if (n === 1) req.socket.destroy();
    else res.end('recovered');
    return true;
  });
  tlsServer = await startHttpsServer({ cert: pki.server.certPem, key: pki.server.keyPem });
  mtls = await startTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem, clientCa: pki.caCertPem });
  h2 = await startH2Server({ allowHTTP1: true });
  h2c = await startH2Server({ tls: false });
  proxy = await startHttpProxy();
  socks = await startSocksProxy();
});

after(async () => {
  await Promise.all([server, tlsServer, mtls, h2, h2c, proxy, socks].map((s) => s?.close()));
});

function echoed(stdout: string): EchoBody {
  return JSON.parse(stdout) as EchoBody;
}

describe('network failures', () => {
  test('a refused connection exits 6 with one line naming the host and port', async () => {
    const r = await runCli(['http://127.0.0.1:1/']);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^urllib3-ts: .*NewConnectionError.*127\.0\.0\.1.*1.*refused/i);
    assert.equal(r.stderr.split('\n').length, 2);
    assert.ok(!hasStackTrace(r.stderr));
  });

  test('--timeout is in seconds and a slow answer exits 7', async () => {
    const r = await runCli(['--timeout', '0.3', `${server.origin}/delay?ms=1500`]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /^urllib3-ts: .*ReadTimeoutError.*127\.0\.0\.1.*\n$/);
    assert.match(r.stderr, new RegExp(`port=${server.port}|127\\.0\\.0\\.1:${server.port}`));
    assert.ok(r.elapsedMs < 10_000);
  });

  test('a timeout long enough lets the answer through', async () => {
    const r = await runCli(['--timeout=5', `${server.origin}/delay?ms=200`]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('without --retries a dropped connection is an error (exit 6)', async () => {
    const r = await runCli([`${server.origin}/flaky/once`]);
    assert.equal(r.code, 6, r.stderr);
    assert.match(r.stderr, /^urllib3-ts: .*127\.0\.0\.1/);
    assert.ok(!hasStackTrace(r.stderr));
  });

  test('--retries 1 retries a dropped connection and succeeds', async () => {
    const r = await runCli(['--retries', '1', `${server.origin}/flaky/twice`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'recovered');
    assert.equal(flakyHits.get('twice'), 2);
  });
});

describe('proxies', () => {
  test('--proxy forwards a plain-HTTP request through an HTTP proxy', async () => {
    const before = proxy.seen.forwarded.length;
    const r = await runCli(['--proxy', proxy.url, `${server.origin}/echo/via-proxy`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/via-proxy');
    assert.equal(proxy.seen.forwarded[before]?.url, `${server.origin}/echo/via-proxy`);
  });

  test('-x tunnels an HTTPS request through the proxy with CONNECT', async () => {
    const before = proxy.seen.connects.length;
    const r = await runCli(['-x', proxy.url, '--cacert', pki.caCert, `${tlsServer.origin}/echo/tunnel`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/tunnel');
    assert.equal(proxy.seen.connects[before]?.authority, `127.0.0.1:${tlsServer.port}`);
  });

  test('HTTP_PROXY from the environment is used when --proxy is not given', async () => {
    const before = proxy.seen.forwarded.length;
    const r = await runCli([`${server.origin}/echo/env`], { env: { HTTP_PROXY: proxy.url } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.seen.forwarded.length, before + 1);
  });

  test('NO_PROXY sends a matching host directly', async () => {
    const before = proxy.seen.forwarded.length;
    const r = await runCli([`${server.origin}/echo/direct`], {
      env: { HTTP_PROXY: proxy.url, NO_PROXY: '127.0.0.1' },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(proxy.seen.forwarded.length, before);
  });

  test('a socks5h:// proxy carries the request', async () => {
    const before = socks.seen.requests.length;
    const r = await runCli(['--proxy', `socks5h://127.0.0.1:${socks.port}`, `${server.origin}/echo/socks`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/socks');
    assert.equal(socks.seen.requests[before]?.port, server.port);
  });

  test('an unreachable proxy exits 6 naming the proxy', async () => {
    const r = await runCli(['--proxy', 'http://127.0.0.1:1', `${server.origin}/echo`]);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^urllib3-ts: .*ProxyError.*127\.0\.0\.1:1\b/);
    assert.equal(r.stderr.split('\n').length, 2);
  });
});

describe('TLS', () => {
  test('--cacert trusts the test CA', async () => {
    const r = await runCli(['--cacert', pki.caCert, `${tlsServer.origin}/echo/tls`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/tls');
  });

  test('an untrusted certificate exits 6 with the SSLError on one line', async () => {
    const r = await runCli([`${tlsServer.origin}/echo`]);
    assert.equal(r.code, 6);
    assert.match(r.stderr, /^urllib3-ts: .*SSLError.*\n$/);
    assert.match(r.stderr, new RegExp(`${tlsServer.port}`));
    assert.ok(!hasStackTrace(r.stderr));
  });

  test('--insecure skips verification without a warning on stderr', async () => {
    const r = await runCli(['-k', `${tlsServer.origin}/echo/insecure`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
  });

  test('--cert and --key present a client certificate', async () => {
    const r = await runCli([
      '--cacert',
      pki.caCert,
      '--cert',
      pki.client.cert,
      '--key',
      pki.client.key,
      `${mtls.origin}/who`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const echo = JSON.parse(r.stdout) as TlsEcho;
    assert.equal(echo.clientCn, 'urllib3-ts client');
    assert.equal(echo.clientAuthorized, true);
  });

  test('-v shows the TLS version and the HTTP version of the connection in its timing line', async () => {
    const r = await runCli(['-v', '--cacert', pki.caCert, `${tlsServer.origin}/echo`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /^\* dns [\d.]+ ms · connect [\d.]+ ms · tls [\d.]+ ms · first byte [\d.]+ ms · total [\d.]+ ms \(HTTP\/1\.1, 127\.0\.0\.1:\d+, TLSv1\.[23] \S+\)$/m,
    );
  });
});

describe('HTTP versions and resolvers', () => {
  const h2url = () => `https://127.0.0.1:${h2.port}/echo`;

  test('an HTTPS server offering h2 is spoken to in HTTP/2', async () => {
    const r = await runCli(['-v', '--cacert', h2.pki!.caCert, h2url()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^HTTP\/2 200\b/m);
    assert.match(r.stderr, /\(HTTP\/2, /);
  });

  test('--http1.1 keeps to HTTP/1.1 where HTTP/2 is on offer', async () => {
    const r = await runCli(['-v', '--http1.1', '--cacert', h2.pki!.caCert, h2url()]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /^HTTP\/1\.1 200\b/m);
  });

  test('--http2 on http:// speaks HTTP/2 with prior knowledge', async () => {
    const r = await runCli(['-v', '--http2', `http://127.0.0.1:${h2c.port}/hello`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello');
    assert.match(r.stderr, /^HTTP\/2 200\b/m);
  });

  test('--resolver system:// resolves through the system', async () => {
    const r = await runCli(['--resolver', 'system://', `http://localhost:${server.port}/echo/resolved`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/resolved');
  });

  test("--resolver takes the library's resolver URLs: an in-memory table sends a made-up name to the server", async () => {
    const r = await runCli([
      '--resolver',
      'in-memory://default?hosts=cli.internal:127.0.0.1',
      `http://cli.internal:${server.port}/echo/mapped`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(echoed(r.stdout).url, '/echo/mapped');
  });
});
