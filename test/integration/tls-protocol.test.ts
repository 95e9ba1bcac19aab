// Protocol settings on HTTPSConnection (docs/api.md sections 7 and 11): TLS
// versions, cipher suites, ALPN, sslContext from createUrllib3Context() (and
// a Node SecureContext), SSLKEYLOGFILE, and the TLS fields of ConnectionInfo.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import tls from 'node:tls';
import {
  ConnectTimeoutError,
  createUrllib3Context,
  HTTPSConnection,
  type HTTPSConnectionOptions,
  ProtocolError,
  SSLError,
  Urllib3Context,
} from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import {
  HOST,
  LoopbackResolver,
  rejectionOf,
  startTlsServer,
  type TlsEcho,
  type TlsServer,
  type TlsServerOptions,
} from './tls-fixtures.js';

let pki: TlsTestPki;
let server: TlsServer;
const extraServers: TlsServer[] = [];
let tmp: string;

before(async () => {
  pki = await makeTlsTestPki();
  server = await startTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem });
  tmp = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-tls-'));
});

after(async () => {
  await server?.close();
  await Promise.all(extraServers.map((s) => s.close()));
  rmSync(tmp, { recursive: true, force: true });
});

async function serve(extra: Partial<TlsServerOptions>): Promise<TlsServer> {
  const s = await startTlsServer({ cert: pki.server.certPem, key: pki.server.keyPem, ...extra });
  extraServers.push(s);
  return s;
}

function connection(s: TlsServer, options: HTTPSConnectionOptions = {}): HTTPSConnection {
  return new HTTPSConnection('localhost', {
    port: s.port,
    resolver: new LoopbackResolver(),
    caCerts: pki.caCert,
    ...options,
  });
}

async function get(
  s: TlsServer,
  options: HTTPSConnectionOptions = {},
): Promise<TlsEcho & { verified: boolean }> {
  const conn = connection(s, options);
  try {
    await conn.request('GET', '/');
    const resp = await conn.getResponse();
    assert.equal(resp.status, 200);
    return { ...(resp.json() as TlsEcho), verified: conn.isVerified };
  } finally {
    await conn.close();
  }
}

describe('TLS versions', () => {
  test('TLS 1.3 is used when both sides allow it', async () => {
    assert.equal((await get(server)).tlsVersion, 'TLSv1.3');
  });

  test('sslMaximumVersion caps the version', async () => {
    assert.equal((await get(server, { sslMaximumVersion: 'TLSv1.2' })).tlsVersion, 'TLSv1.2');
  });

  test('sslMinimumVersion above what the server speaks is an SSLError naming the protocol versions', async () => {
    const old = await serve({ maxVersion: 'TLSv1.2' });
    const err = await rejectionOf(get(old, { sslMinimumVersion: 'TLSv1.3' }));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /protocol version/);
    assert.match(err.message, /allows TLSv1\.3 to TLSv1\.3/);
  });

  test('sslMaximumVersion below what the server speaks is an SSLError naming the protocol versions', async () => {
    const modern = await serve({ minVersion: 'TLSv1.3' });
    const err = await rejectionOf(get(modern, { sslMaximumVersion: 'TLSv1.2' }));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /protocol version.*allows TLSv1\.2 to TLSv1\.2/);
  });

  test('the default minimum is TLS 1.2: a TLS 1.1 server is refused, and sslMinimumVersion can lower it', async () => {
    const legacy = await serve({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    const err = await rejectionOf(get(legacy));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /protocol version.*allows TLSv1\.2 to TLSv1\.3/);
    const r = await get(legacy, { sslMinimumVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' });
    assert.equal(r.tlsVersion, 'TLSv1.1');
  });

  test('bad version options are TypeErrors at construction', () => {
    assert.throws(
      () => connection(server, { sslMinimumVersion: 'TLSv9' as 'TLSv1.3' }),
      /sslMinimumVersion must be/,
    );
    assert.throws(
      () => connection(server, { sslMinimumVersion: 'TLSv1.3', sslMaximumVersion: 'TLSv1.2' }),
      /below sslMinimumVersion/,
    );
  });
});

describe('ciphers', () => {
  test('ciphers chooses the TLS 1.2 cipher suite', async () => {
    const r = await get(server, { sslMaximumVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-CHACHA20-POLY1305' });
    assert.equal(r.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305');
    const def = await get(server, { sslMaximumVersion: 'TLSv1.2' });
    assert.notEqual(def.cipher, 'ECDHE-ECDSA-CHACHA20-POLY1305');
  });

  test('ciphers chooses the TLS 1.3 suite by its TLS_ name', async () => {
    const r = await get(server, { ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
    assert.equal(r.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
  });

  test('no cipher in common with a restricted server is an SSLError', async () => {
    const strict = await serve({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' });
    assert.equal((await get(strict)).cipher, 'ECDHE-ECDSA-AES128-GCM-SHA256');
    const err = await rejectionOf(get(strict, { ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' }));
    assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
    assert.match(err.message, /handshake failure: no cipher suite in common/);
  });

  test('a cipher list OpenSSL does not know is an SSLError', async () => {
    const err = await rejectionOf(get(server, { ciphers: 'NOT-A-CIPHER' }));
    assert.ok(err instanceof SSLError);
    assert.match(err.message, /no cipher in the ciphers list/);
  });
});

describe('ALPN', () => {
  test('h2 and http/1.1 are offered by default; a server that picks http/1.1 gets HTTP/1.1', async () => {
    const s = await serve({});
    await get(s);
    assert.deepEqual(s.connections.at(-1)?.alpnOffered, ['h2', 'http/1.1']);
    assert.equal(s.connections.at(-1)?.alpn, 'http/1.1');
  });

  test('alpnProtocols sets the protocols offered', async () => {
    const s = await serve({});
    await get(s, { alpnProtocols: ['x-urllib3-test', 'http/1.1'] });
    assert.deepEqual(s.connections.at(-1)?.alpnOffered, ['x-urllib3-test', 'http/1.1']);
  });

  test('a server that selects a protocol this connection does not speak is a ProtocolError', async () => {
    const s = await serve({ alpnChoice: (offered) => offered[0] });
    const err = await rejectionOf(get(s, { alpnProtocols: ['x-other', 'http/1.1'] }));
    assert.ok(err instanceof ProtocolError, `${err.name}: ${err.message}`);
    assert.match(err.message, /selected ALPN protocol 'x-other'/);
  });
});

describe('sslContext', () => {
  test('createUrllib3Context() carries its TLS versions into the handshake', async () => {
    const ctx = createUrllib3Context({ sslMaximumVersion: 'TLSv1.2' });
    assert.ok(ctx instanceof Urllib3Context);
    assert.equal(ctx.sslMinimumVersion, 'TLSv1.2');
    assert.equal((await get(server, { sslContext: ctx })).tlsVersion, 'TLSv1.2');
  });

  test('certificate options given beside the context still apply', async () => {
    const mtls = await serve({ clientCa: pki.caCertPem });
    const ctx = createUrllib3Context({ ciphers: 'TLS_CHACHA20_POLY1305_SHA256' });
    const r = await get(mtls, { sslContext: ctx, certFile: pki.client.cert, keyFile: pki.client.key });
    assert.equal(r.clientCn, 'urllib3-ts client');
    assert.equal(r.cipher, 'TLS_CHACHA20_POLY1305_SHA256');
    assert.equal(r.verified, true);
  });

  test("the context's certReqs applies unless certReqs is given beside it", async () => {
    const unknown = await serve({ cert: pki.unknownCa.certPem, key: pki.unknownCa.keyPem });
    const ctx = createUrllib3Context({ certReqs: 'CERT_NONE' });
    assert.equal((await get(unknown, { sslContext: ctx })).verified, false);
    const err = await rejectionOf(get(unknown, { sslContext: ctx, certReqs: 'CERT_REQUIRED' }));
    assert.ok(err instanceof SSLError);
  });

  test('options beside the context win over its protocol settings', async () => {
    const ctx = createUrllib3Context({ sslMaximumVersion: 'TLSv1.2' });
    assert.equal(
      (await get(server, { sslContext: ctx, sslMaximumVersion: 'TLSv1.3' })).tlsVersion,
      'TLSv1.3',
    );
  });

  test('loadVerifyLocations and loadCertChain load trust and a client certificate into the context', async () => {
    const mtls = await serve({ clientCa: pki.caCertPem });
    const ctx = createUrllib3Context();
    ctx.loadVerifyLocations({ cafile: pki.caCert });
    ctx.loadCertChain(pki.client.cert, { keyfile: pki.client.encryptedKey, password: pki.clientKeyPassword });
    const conn = new HTTPSConnection('localhost', {
      port: mtls.port,
      resolver: new LoopbackResolver(),
      sslContext: ctx,
    });
    try {
      await conn.request('GET', '/');
      const echo = (await conn.getResponse()).json() as TlsEcho;
      assert.equal(echo.clientCn, 'urllib3-ts client');
      assert.equal(conn.isVerified, true);
    } finally {
      await conn.close();
    }
    assert.throws(
      () => ctx.loadCertChain(pki.client.cert, { keyfile: pki.client.encryptedKey, password: 'no' }),
      SSLError,
    );
  });

  test('the context ALPN list is offered', async () => {
    const s = await serve({});
    const ctx = createUrllib3Context();
    ctx.setAlpnProtocols(['x-ctx', 'http/1.1']);
    await get(s, { sslContext: ctx });
    assert.deepEqual(s.connections.at(-1)?.alpnOffered, ['x-ctx', 'http/1.1']);
  });

  test('a Node SecureContext is used as is; certificate options beside it are a TypeError', async () => {
    const secureContext = tls.createSecureContext({ ca: pki.caCertPem, maxVersion: 'TLSv1.2' });
    const conn = new HTTPSConnection('localhost', {
      port: server.port,
      resolver: new LoopbackResolver(),
      sslContext: secureContext,
    });
    try {
      await conn.request('GET', '/');
      const echo = (await conn.getResponse()).json() as TlsEcho;
      assert.equal(echo.tlsVersion, 'TLSv1.2');
      assert.equal(conn.isVerified, true);
    } finally {
      await conn.close();
    }
    assert.throws(
      () => new HTTPSConnection('localhost', { sslContext: secureContext, caCerts: pki.caCert }),
      /caCerts cannot be applied to a Node SecureContext/,
    );
  });

  test('anything else as sslContext is a TypeError', () => {
    assert.throws(
      () =>
        new HTTPSConnection('localhost', {
          sslContext: { minVersion: 'TLSv1.2' } as unknown as Urllib3Context,
        }),
      /sslContext must come from createUrllib3Context/,
    );
  });
});

describe('SSLKEYLOGFILE', () => {
  test('appends NSS key-log lines for each connection to the file the variable names', async () => {
    const file = path.join(tmp, 'keys.log');
    writeFileSync(file, '# existing line\n');
    const previous = process.env.SSLKEYLOGFILE;
    process.env.SSLKEYLOGFILE = file;
    try {
      await get(server);
      await get(server, { sslMaximumVersion: 'TLSv1.2' });
    } finally {
      if (previous === undefined) delete process.env.SSLKEYLOGFILE;
      else process.env.SSLKEYLOGFILE = previous;
    }
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines[0], '# existing line');
    const labels = lines.slice(1).map((l) => l.split(' ')[0]);
    for (const l of lines.slice(1)) assert.match(l, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/);
    assert.ok(labels.includes('CLIENT_TRAFFIC_SECRET_0'), `TLS 1.3 secrets: ${labels.join(',')}`);
    assert.ok(labels.includes('CLIENT_RANDOM'), `TLS 1.2 master secret: ${labels.join(',')}`);
    // Unset again: the next connection writes nothing.
    const size = readFileSync(file).length;
    await get(server);
    assert.equal(readFileSync(file).length, size);
  });
});

describe('ConnectionInfo TLS fields', () => {
  test('tlsVersion, cipher, certificates and handshake latency describe the connection', async () => {
    const conn = connection(server);
    try {
      await conn.request('GET', '/');
      const resp = await conn.getResponse();
      await resp.read();
      const info = conn.connectionInfo;
      assert.ok(info !== null);
      assert.equal(info.tlsVersion, 'TLSv1.3');
      assert.match(info.cipher ?? '', /^TLS_/);
      assert.ok(info.certificateDer?.equals(pki.server.certDer));
      assert.equal(info.certificateDict?.subject.CN, 'localhost');
      assert.match(info.certificateDict?.subjectaltname ?? '', /DNS:localhost/);
      assert.ok(info.issuerCertificateDer?.equals(pki.caCertDer), 'issuerCertificateDer is the CA');
      assert.equal(info.issuerCertificateDict?.subject.CN, 'urllib3-ts Test CA');
      assert.ok(info.tlsHandshakeLatency > 0);
      assert.equal(info.isEncrypted(), true);
      // Plain data: serialisable, no circular issuer chain.
      assert.doesNotThrow(() => JSON.stringify(info));

      await conn.request('GET', '/again');
      const again = await conn.getResponse();
      await again.read();
      assert.equal(again.connectionInfo?.tlsHandshakeLatency, 0, 'a reused connection had no handshake');
      assert.ok(again.connectionInfo?.certificateDer?.equals(pki.server.certDer));
    } finally {
      await conn.close();
    }
  });

  test('a self-signed certificate under CERT_NONE has no separate issuer', async () => {
    const s = await serve({ cert: pki.selfSigned.certPem, key: pki.selfSigned.keyPem });
    const conn = connection(s, { certReqs: 'CERT_NONE' });
    try {
      await conn.request('GET', '/');
      await (await conn.getResponse()).read();
      assert.ok(conn.connectionInfo?.certificateDer?.equals(pki.selfSigned.certDer));
      assert.equal(conn.connectionInfo?.issuerCertificateDer, null);
    } finally {
      await conn.close();
    }
  });
});

describe('transport failures during the handshake', () => {
  test('a plain-HTTP port is an SSLError saying the server did not answer in TLS', async () => {
    const plain = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n'));
    });
    plain.listen(0, HOST);
    await once(plain, 'listening');
    try {
      const port = (plain.address() as net.AddressInfo).port;
      const conn = new HTTPSConnection('localhost', {
        port,
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
      });
      const err = await rejectionOf(conn.connect());
      assert.ok(err instanceof SSLError, `${err.name}: ${err.message}`);
      assert.match(err.message, /did not answer in TLS/);
    } finally {
      await new Promise((r) => plain.close(r));
    }
  });

  test('a server that never answers the handshake hits the connect timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    silent.listen(0, HOST);
    await once(silent, 'listening');
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const conn = new HTTPSConnection('localhost', {
        port,
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
        timeout: 150,
      });
      const err = await rejectionOf(conn.connect());
      assert.ok(err instanceof ConnectTimeoutError, `${err.name}: ${err.message}`);
      assert.match(err.message, /TLS handshake/);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });
});
