// TLS options through HTTPSConnectionPool and PoolManager (docs/api.md sections 4
// and 7): every option reaches the connection, every option is part of the
// pool key, TLS failures are connect errors for Retry, and CERT_NONE warns
// once per host.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  createUrllib3Context,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  MaxRetryError,
  PoolManager,
  Retry,
  SSLError,
} from '../../src/index.js';
import { TLS_OPTION_NAMES } from '../../src/net/tls-options.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import {
  LoopbackResolver,
  rejectionOf,
  startTlsServer,
  type TlsEcho,
  type TlsServer,
  type TlsServerOptions,
  warningsDuring,
} from './tls-fixtures.js';

let pki: TlsTestPki;
const servers = new Map<string, TlsServer>();

type ServerKind = 'plain' | 'unknownCa' | 'mtls' | 'wrongHost' | 'legacy' | 'expired';

async function server(kind: ServerKind): Promise<TlsServer> {
  const existing = servers.get(kind);
  if (existing) return existing;
  const base = { cert: pki.server.certPem, key: pki.server.keyPem };
  const options: Record<ServerKind, TlsServerOptions> = {
    plain: base,
    unknownCa: { cert: pki.unknownCa.certPem, key: pki.unknownCa.keyPem },
    mtls: { ...base, clientCa: pki.caCertPem },
    wrongHost: { cert: pki.wrongHost.certPem, key: pki.wrongHost.keyPem },
    legacy: { ...base, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' },
    expired: { cert: pki.expired.certPem, key: pki.expired.keyPem },
  };
  const s = await startTlsServer(options[kind]);
  servers.set(kind, s);
  return s;
}

before(async () => {
  pki = await makeTlsTestPki();
});

after(async () => {
  await Promise.all([...servers.values()].map((s) => s.close()));
});

interface Scenario {
  option: string;
  server: ServerKind;
  /** the host in the URL (resolved to 127.0.0.1) */
  host?: string;
  options: () => HTTPSConnectionPoolOptions;
  check: (echo: TlsEcho, s: TlsServer) => void;
}

// Each scenario needs its option: without it the request fails or the check does.
const scenarios: Scenario[] = [
  { option: 'certReqs', server: 'unknownCa', options: () => ({ certReqs: 'CERT_NONE' }), check: () => {} },
  { option: 'caCerts', server: 'plain', options: () => ({ caCerts: pki.caCert }), check: () => {} },
  { option: 'caCertDir', server: 'plain', options: () => ({ caCertDir: pki.caDir }), check: () => {} },
  { option: 'caCertData', server: 'plain', options: () => ({ caCertData: pki.caCertDer }), check: () => {} },
  {
    option: 'certFile/keyFile/keyPassword',
    server: 'mtls',
    options: () => ({
      caCerts: pki.caCert,
      certFile: pki.client.cert,
      keyFile: pki.client.encryptedKey,
      keyPassword: pki.clientKeyPassword,
    }),
    check: (e) => assert.equal(e.clientCn, 'urllib3-ts client'),
  },
  {
    option: 'certData/keyData',
    server: 'mtls',
    options: () => ({ caCerts: pki.caCert, certData: pki.client.certPem, keyData: pki.client.keyPem }),
    check: (e) => assert.equal(e.clientCn, 'urllib3-ts client'),
  },
  {
    option: 'serverHostname',
    server: 'wrongHost',
    host: '127.0.0.1',
    options: () => ({ caCerts: pki.caCert, serverHostname: 'api.wrong.example' }),
    check: (e) => assert.equal(e.sni, 'api.wrong.example'),
  },
  {
    option: 'assertHostname',
    server: 'wrongHost',
    options: () => ({ caCerts: pki.caCert, assertHostname: 'wrong.example' }),
    check: (e) => assert.equal(e.sni, 'localhost'),
  },
  {
    option: 'assertHostname: false',
    server: 'wrongHost',
    options: () => ({ caCerts: pki.caCert, assertHostname: false }),
    check: () => {},
  },
  {
    option: 'assertFingerprint',
    server: 'wrongHost',
    options: () => ({
      caCerts: pki.caCert,
      assertFingerprint: createHash('sha256').update(pki.wrongHost.certDer).digest('hex'),
    }),
    check: () => {},
  },
  {
    option: 'sslMinimumVersion',
    server: 'legacy',
    options: () => ({ caCerts: pki.caCert, sslMinimumVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
    check: (e) => assert.equal(e.tlsVersion, 'TLSv1.1'),
  },
  {
    option: 'sslMaximumVersion',
    server: 'plain',
    options: () => ({ caCerts: pki.caCert, sslMaximumVersion: 'TLSv1.2' }),
    check: (e) => assert.equal(e.tlsVersion, 'TLSv1.2'),
  },
  {
    option: 'ciphers',
    server: 'plain',
    options: () => ({ caCerts: pki.caCert, ciphers: 'TLS_CHACHA20_POLY1305_SHA256' }),
    check: (e) => assert.equal(e.cipher, 'TLS_CHACHA20_POLY1305_SHA256'),
  },
  {
    option: 'sslContext',
    server: 'plain',
    options: () => ({
      caCerts: pki.caCert,
      sslContext: createUrllib3Context({ sslMaximumVersion: 'TLSv1.2' }),
    }),
    check: (e) => assert.equal(e.tlsVersion, 'TLSv1.2'),
  },
  {
    option: 'alpnProtocols',
    server: 'plain',
    options: () => ({ caCerts: pki.caCert, alpnProtocols: ['x-pool-test', 'http/1.1'] }),
    check: (_e, s) => assert.deepEqual(s.connections.at(-1)?.alpnOffered, ['x-pool-test', 'http/1.1']),
  },
];

describe('every TLS option works through HTTPSConnectionPool', () => {
  for (const sc of scenarios) {
    test(`HTTPSConnectionPool: ${sc.option}`, async () => {
      const s = await server(sc.server);
      await using pool = new HTTPSConnectionPool(sc.host ?? 'localhost', {
        port: s.port,
        resolver: new LoopbackResolver(),
        retries: false,
        ...sc.options(),
      });
      const r = await pool.request('GET', '/pool');
      assert.equal(r.status, 200);
      sc.check(r.json() as TlsEcho, s);
    });
  }

  test('HTTPSConnectionPool: without the options the same servers fail', async () => {
    for (const kind of ['unknownCa', 'plain', 'mtls', 'wrongHost', 'legacy'] as const) {
      const s = await server(kind);
      await using pool = new HTTPSConnectionPool('localhost', {
        port: s.port,
        resolver: new LoopbackResolver(),
        retries: false,
        caCerts: kind === 'plain' || kind === 'unknownCa' ? null : pki.caCert,
      });
      const err = await rejectionOf(pool.request('GET', '/'));
      assert.ok(err instanceof SSLError, `${kind}: ${err.name}: ${err.message}`);
    }
  });
});

describe('every TLS option works through PoolManager', () => {
  for (const sc of scenarios) {
    test(`PoolManager: ${sc.option}`, async () => {
      const s = await server(sc.server);
      await using pm = new PoolManager({ resolver: new LoopbackResolver(), retries: false, ...sc.options() });
      const r = await pm.request('GET', `https://${sc.host ?? 'localhost'}:${s.port}/manager`);
      assert.equal(r.status, 200);
      sc.check(r.json() as TlsEcho, s);
    });
  }

  test('PoolManager: options given per pool with connectionFromUrl reach the connection', async () => {
    const s = await server('mtls');
    await using pm = new PoolManager({
      resolver: new LoopbackResolver(),
      retries: false,
      caCerts: pki.caCert,
    });
    const url = `https://localhost:${s.port}/`;
    const pool = pm.connectionFromUrl(url, { certFile: pki.client.cert, keyFile: pki.client.key });
    const r = await pool.request('GET', '/per-pool');
    assert.equal((r.json() as TlsEcho).clientCn, 'urllib3-ts client');
  });
});

describe('pool keys', () => {
  const values = (): Record<(typeof TLS_OPTION_NAMES)[number], unknown> => ({
    certReqs: 'CERT_NONE',
    caCerts: pki.caCert,
    caCertDir: pki.caDir,
    caCertData: pki.caCertDer,
    certFile: pki.client.cert,
    keyFile: pki.client.key,
    keyPassword: 'secret',
    certData: pki.client.certPem,
    keyData: pki.client.keyPem,
    serverHostname: 'api.example',
    assertHostname: 'other.example',
    assertFingerprint: 'ab'.repeat(32),
    sslMinimumVersion: 'TLSv1.3',
    sslMaximumVersion: 'TLSv1.2',
    sslVersion: 'PROTOCOL_TLS_CLIENT',
    ciphers: 'TLS_AES_128_GCM_SHA256',
    sslContext: createUrllib3Context(),
    alpnProtocols: ['http/1.1', 'x'],
  });

  test('each TLS option gives an https origin its own pool', async () => {
    await using pm = new PoolManager();
    const url = 'https://tls-key.example/';
    const base = pm.connectionFromUrl(url);
    const v = values();
    for (const name of TLS_OPTION_NAMES) {
      const pool = pm.connectionFromUrl(url, { [name]: v[name] });
      assert.notEqual(pool, base, `${name} must be part of the pool key`);
      assert.equal(
        pm.connectionFromUrl(url, { [name]: v[name] }),
        pool,
        `${name}: the same value, the same pool`,
      );
    }
    assert.equal(
      pm.connectionFromUrl(url, { caCerts: '/other/ca.pem' }) ===
        pm.connectionFromUrl(url, { caCerts: pki.caCert }),
      false,
    );
  });

  test('TLS options do not split pools of plain http origins', async () => {
    await using pm = new PoolManager({ caCerts: pki.caCert, certReqs: 'CERT_REQUIRED' });
    const url = 'http://plain-key.example/';
    assert.equal(pm.connectionFromUrl(url, { caCerts: pki.caDir }), pm.connectionFromUrl(url));
  });
});

describe('TLS failures under retries', () => {
  test('a certificate failure is a connect error: retried up to the connect budget, then MaxRetryError(SSLError)', async () => {
    const s = await server('expired');
    const before = s.accepted;
    await using pm = new PoolManager({
      resolver: new LoopbackResolver(),
      caCerts: pki.caCert,
      retries: new Retry({ total: 10, connect: 2, read: 0, other: 0 }),
    });
    const err = await rejectionOf(pm.request('GET', `https://localhost:${s.port}/`));
    assert.ok(err instanceof MaxRetryError, `${err.name}: ${err.message}`);
    assert.ok(err.reason instanceof SSLError);
    assert.match(err.message, /certificate has expired/);
    assert.equal(s.accepted - before, 3, 'one attempt and two connect retries');
  });

  test('with retries: false the SSLError itself is thrown', async () => {
    const s = await server('expired');
    await using pool = new HTTPSConnectionPool('localhost', {
      port: s.port,
      resolver: new LoopbackResolver(),
      caCerts: pki.caCert,
      retries: false,
    });
    const err = await rejectionOf(pool.request('GET', '/'));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /expired/);
  });
});

describe('InsecureRequestWarning through a PoolManager', () => {
  test('CERT_NONE warns once per host, however many requests and pools', async () => {
    const s = await server('unknownCa');
    const warnings = await warningsDuring('InsecureRequestWarning', async () => {
      await using pm = new PoolManager({
        resolver: new LoopbackResolver(),
        certReqs: 'CERT_NONE',
        maxSize: 2,
      });
      for (let i = 0; i < 3; i++) {
        assert.equal((await pm.request('GET', `https://warn-pool-a.test:${s.port}/`)).status, 200);
      }
      await pm.request('GET', `https://warn-pool-a.test:${s.port}/`, { headers: { 'x-new-pool': '1' } });
      assert.equal((await pm.request('GET', `https://warn-pool-b.test:${s.port}/`)).status, 200);
    });
    const hosts = warnings
      .map((w) => /'([^']+)'/.exec(w.message)?.[1])
      .filter((h) => h?.startsWith('warn-pool'));
    assert.deepEqual(hosts, ['warn-pool-a.test', 'warn-pool-b.test']);
  });

  test('a verified request emits no warning', async () => {
    const s = await server('plain');
    const warnings = await warningsDuring('InsecureRequestWarning', async () => {
      await using pm = new PoolManager({ resolver: new LoopbackResolver(), caCerts: pki.caCert });
      await pm.request('GET', `https://localhost:${s.port}/`);
    });
    assert.deepEqual(warnings, []);
  });
});
