// A script that makes requests and never closes its manager exits when its
// work is done (docs/api.md section 4): idle keep-alive connections (HTTP/1.1
// sockets, plain or TLS, and HTTP/2 sessions) and the resolvers' own
// connections (dou://'s UDP sockets and the TCP connection of a truncated
// answer's retry, dot://'s kept-alive TLS connection, doh://'s HTTP/2 one) are
// unref'd and never hold the process open, while the servers here would keep
// them open for a minute or more. (HTTP/3 to a real caddy is checked the same
// way in test/real/h3-process-exit.test.ts.) Each script runs as a real child
// process; the test measures the time from its last line of output to its
// exit.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { makeTestPki, type TestPki } from '../support/certs.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-servers.js';
import { buildResponse, parseQuery, T } from '../support/dns-wire.js';
import { runTsxScript, type ScriptRun } from '../support/child-script.js';
import { startHttpProxy, type TestProxy } from '../support/proxy-servers.js';
import {
  startHttpServer,
  startHttpsServer,
  type TestHttpServer,
  type TestHttpsServer,
} from '../support/servers.js';

const INDEX = pathToFileURL(path.resolve('src/index.ts')).href;
/** How long after its last line a finished script may take to exit (ms). */
const EXIT_WITHIN = 1000;

/** Runs `source` (an ES module) under tsx and times its exit. */
async function runScript(
  dir: string,
  name: string,
  source: string,
  env: Record<string, string>,
): Promise<ScriptRun> {
  const file = path.join(dir, `${name}.mts`);
  await writeFile(file, source);
  return runTsxScript([file], env);
}

function assertExitedPromptly(run: ScriptRun, expectedOutput: RegExp): void {
  assert.equal(run.code, 0, `exit code ${run.code}; stderr: ${run.stderr}`);
  assert.match(run.stdout, expectedOutput);
  assert.ok(
    run.lingered < EXIT_WITHIN,
    `the script lingered ${run.lingered.toFixed(0)} ms after its last line`,
  );
}

/** Runs a script whose body follows `import { <names> } from 'urllib3-ts'` and checks it exits promptly. */
async function assertScriptExits(
  dir: string,
  name: string,
  names: string,
  body: string,
  env: Record<string, string>,
  expectedOutput: RegExp,
): Promise<void> {
  const run = await runScript(dir, name, `import { ${names} } from '${INDEX}';\n${body}`, env);
  assertExitedPromptly(run, expectedOutput);
}

/**
 * What every DNS server here answers: app.test and big.test are A 127.0.0.1, but big.test's
 * answer over UDP is truncated, so only TCP gives it; every other question gets an empty answer.
 */
function dnsAnswer(q: { id: number; name: string; type: number }, transport: string): Buffer {
  if (q.name === 'big.test' && transport === 'udp')
    return buildResponse({ id: q.id, question: q, truncated: true });
  const known = q.type === T.A && (q.name === 'app.test' || q.name === 'big.test');
  return buildResponse({
    id: q.id,
    question: q,
    answers: known ? [{ name: q.name, type: T.A, a: '127.0.0.1' }] : [],
  });
}

describe('processes exit when their requests are done', () => {
  let dir: string;
  let server: TestHttpServer;
  let proxy: TestProxy;
  let pki: TestPki;
  let h2: http2.Http2SecureServer;
  let h2Port: number;
  let dns: TestDnsServer;
  let tlsServer: TestHttpsServer;
  const dohQueries: string[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'urllib3-exit-'));
    server = await startHttpServer();
    // The server would keep an idle connection for a minute: only the client can let go.
    server.server.keepAliveTimeout = 60_000;
    proxy = await startHttpProxy();
    pki = await makeTestPki(path.join(dir, 'pki'));
    h2 = http2.createSecureServer({ key: pki.serverKeyPem, cert: pki.serverCertPem });
    h2.on('stream', (stream, headers) => {
      // Also the DoH server: RFC 8484 GETs to /dns-query.
      const url = new URL(String(headers[':path']), 'https://x');
      if (url.pathname === '/dns-query') {
        const q = parseQuery(Buffer.from(url.searchParams.get('dns') ?? '', 'base64url'));
        dohQueries.push(q.name);
        stream.respond({ ':status': 200, 'content-type': 'application/dns-message' });
        stream.end(dnsAnswer(q, 'https'));
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end('over h2');
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    h2Port = (h2.address() as AddressInfo).port;
    tlsServer = await startHttpsServer({ cert: pki.serverCertPem, key: pki.serverKeyPem });
    tlsServer.server.keepAliveTimeout = 60_000;
    dns = await startDnsServer((q) => dnsAnswer(q, q.transport), {
      tls: { cert: pki.serverCertPem, key: pki.serverKeyPem },
    });
  });

  after(async () => {
    await server.close();
    await proxy.close();
    await new Promise<void>((r) => h2.close(() => r()));
    await dns.close();
    await tlsServer.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the first README example (a PoolManager never closed) exits within a second', async () => {
    await assertScriptExits(
      dir,
      'readme-first',
      'PoolManager',
      `const http = new PoolManager();
const resp = await http.request('GET', process.env.URL);
console.log(resp.status, resp.data.length > 0);
`,
      { URL: `${server.origin}/echo` },
      /^200 true$/m,
    );
    assert.ok(server.requests.length > 0);
  });

  test('the module-level request() exits within a second', async () => {
    await assertScriptExits(
      dir,
      'top-level',
      'request',
      `const r = await request('GET', process.env.URL);
console.log(r.status);
`,
      { URL: `${server.origin}/echo` },
      /^200$/m,
    );
  });

  test('several keep-alive requests through a pool, left open, exit within a second', async () => {
    await assertScriptExits(
      dir,
      'pool',
      'HTTPConnectionPool',
      `const u = new URL(process.env.URL);
const pool = new HTTPConnectionPool(u.hostname, { port: Number(u.port), maxSize: 4 });
const rs = await Promise.all([1, 2, 3, 4].map(() => pool.request('GET', '/echo')));
const again = await pool.request('GET', '/echo');
console.log(rs.length, again.status, pool.numConnections);
`,
      { URL: server.origin },
      /^4 200 4$/m,
    );
  });

  test('an HTTPS request over HTTP/1.1 exits within a second', async () => {
    await assertScriptExits(
      dir,
      'https-h1',
      'PoolManager',
      `const http = new PoolManager({ caCerts: process.env.CA });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.versionString, r.connectionInfo?.tlsVersion !== null);
`,
      { URL: `https://localhost:${tlsServer.port}/echo`, CA: pki.caCert },
      /^200 HTTP\/1\.1 true$/m,
    );
  });

  test('an HTTP/2 request exits within a second', async () => {
    await assertScriptExits(
      dir,
      'h2',
      'PoolManager',
      `const http = new PoolManager({ caCerts: process.env.CA });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.versionString, r.data.toString());
`,
      { URL: `https://localhost:${h2Port}/`, CA: pki.caCert },
      /^200 HTTP\/2 over h2$/m,
    );
  });

  /** A script that resolves `host` through `resolver` and makes one request to the HTTP server. */
  function resolvedRequest(name: string, resolver: string, host: string): Promise<void> {
    return assertScriptExits(
      dir,
      name,
      'PoolManager',
      `const http = new PoolManager({ resolver: process.env.RESOLVER });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.connectionInfo?.destinationAddress?.[0]);
`,
      { URL: `http://${host}:${server.port}/echo`, RESOLVER: resolver },
      /^200 127\.0\.0\.1$/m,
    );
  }

  test('a request whose host name a dou:// resolver answered exits within a second', async () => {
    await resolvedRequest('dou', `dou://127.0.0.1:${dns.port}`, 'app.test');
    assert.ok(
      dns.queries.some((q) => q.name === 'app.test' && q.transport === 'udp'),
      'the name was asked over UDP',
    );
  });

  test('a request whose truncated dou:// answer was asked again over TCP exits within a second', async () => {
    await resolvedRequest('dou-tcp', `dou://127.0.0.1:${dns.port}`, 'big.test');
    assert.ok(
      dns.queries.some((q) => q.name === 'big.test' && q.transport === 'tcp'),
      'the truncated answer was asked again over TCP',
    );
  });

  test('a request whose host name a dot:// resolver answered exits within a second', async () => {
    const ca = encodeURIComponent(pki.caCert);
    await resolvedRequest('dot', `dot://127.0.0.1:${dns.tlsPort}?ca_certs=${ca}`, 'app.test');
    assert.ok(
      dns.queries.some((q) => q.name === 'app.test' && q.transport === 'tls'),
      'the name was asked over TLS',
    );
  });

  test('a request whose host name a doh:// resolver answered exits within a second', async () => {
    // The resolver's HTTP/2 connection trusts the test CA through the manager's caCerts (section 7).
    await assertScriptExits(
      dir,
      'doh',
      'PoolManager',
      `const http = new PoolManager({ resolver: process.env.RESOLVER, caCerts: process.env.CA });
const r = await http.request('GET', process.env.URL);
console.log(r.status, r.connectionInfo?.destinationAddress?.[0]);
`,
      { URL: `http://app.test:${server.port}/echo`, RESOLVER: `doh://localhost:${h2Port}`, CA: pki.caCert },
      /^200 127\.0\.0\.1$/m,
    );
    assert.ok(dohQueries.includes('app.test'), 'the name was asked over HTTPS');
  });

  test('a proxied request exits within a second', async () => {
    await assertScriptExits(
      dir,
      'proxied',
      'ProxyManager',
      `const http = new ProxyManager(process.env.PROXY);
const r = await http.request('GET', process.env.URL);
console.log(r.status);
`,
      { URL: `${server.origin}/echo`, PROXY: proxy.url },
      /^200$/m,
    );
    assert.ok(proxy.seen.forwarded.length > 0, 'the request went through the proxy');
  });

  test('a request still in flight keeps the process alive until its response arrives', async () => {
    await assertScriptExits(
      dir,
      'in-flight',
      'PoolManager',
      `const http = new PoolManager();
console.log('sent');
const started = Date.now();
const r = await http.request('GET', process.env.URL);
console.log(r.status, Date.now() - started >= 250);
`,
      { URL: `${server.origin}/delay?ms=300` },
      /^200 true$/m,
    );
  });
});
