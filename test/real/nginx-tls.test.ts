// TLS against a real nginx from Debian (docs/api.md section 7): verification with
// the test CA, versions, ciphers, SNI, fingerprints, the ConnectionInfo of a
// real server, and mutual TLS - nginx with `ssl_verify_client on` answers 400
// when the client sends no certificate and names the client it verified.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  BaseResolver,
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  PoolManager,
  type ResolvedAddress,
  SSLError,
} from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';
import { type NginxServer, requireServer, startNginx } from '../support/real-servers.js';

const skip = requireServer('nginx') ?? requireServer('openssl');

/** Sends every name to 127.0.0.1, so any host name can reach nginx. */
class LoopbackResolver extends BaseResolver {
  async getaddrinfo(_host: string, port: number): Promise<ResolvedAddress[]> {
    return [{ address: '127.0.0.1', family: 4, port }];
  }
}

// `$ssl_client_verify|$ssl_client_s_dn|$ssl_protocol|$ssl_cipher|$ssl_server_name`
const WHOAMI =
  'location = /whoami { default_type text/plain; ' +
  'return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_protocol|$ssl_cipher|$ssl_server_name"; }';

interface Whoami {
  verify: string;
  clientDn: string;
  protocol: string;
  cipher: string;
  sni: string;
}

function parseWhoami(text: string): Whoami {
  const [verify = '', clientDn = '', protocol = '', cipher = '', sni = ''] = text.split('|');
  return { verify, clientDn, protocol, cipher, sni };
}

describe('TLS against nginx', { skip: skip ?? false }, () => {
  let pki: TlsTestPki;
  let nginx: NginxServer & { tlsPort: number };
  let mtls: NginxServer & { tlsPort: number };

  before(async () => {
    pki = await makeTlsTestPki();
    const tls = { cert: pki.server.cert, key: pki.server.key };
    [nginx, mtls] = await Promise.all([
      startNginx({
        tls,
        extraConfig: `ssl_verify_client optional; ssl_client_certificate ${pki.caCert}; ${WHOAMI}`,
      }),
      startNginx({
        tls,
        extraConfig: `ssl_verify_client on; ssl_client_certificate ${pki.caCert}; ${WHOAMI}`,
      }),
    ]);
  });

  after(async () => {
    await Promise.all([nginx?.stop(), mtls?.stop()]);
  });

  async function whoami(
    server: { tlsPort: number },
    options: HTTPSConnectionPoolOptions,
    host = 'localhost',
  ): Promise<Whoami> {
    await using pool = new HTTPSConnectionPool(host, {
      port: server.tlsPort,
      resolver: new LoopbackResolver(),
      retries: false,
      ...options,
    });
    const r = await pool.request('GET', '/whoami');
    assert.equal(r.status, 200, r.data.toString());
    return parseWhoami(r.data.toString());
  }

  describe('server verification', () => {
    test('the test CA verifies nginx, without it the SSLError says unknown CA', async () => {
      const ok = await whoami(nginx, { caCerts: pki.caCert });
      assert.equal(ok.protocol, 'TLSv1.3');
      const err = await whoami(nginx, {}).then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err instanceof SSLError, String(err));
      assert.match(err.message, /unknown CA/);
    });

    test('caCertDir and DER caCertData verify nginx', async () => {
      await whoami(nginx, { caCertDir: pki.caDir });
      await whoami(nginx, { caCertData: pki.caCertDer });
    });

    test('SNI carries the host name, serverHostname replaces it, and none is sent to an IP address', async () => {
      assert.equal((await whoami(nginx, { caCerts: pki.caCert })).sni, 'localhost');
      assert.equal((await whoami(nginx, { caCerts: pki.caCert }, '127.0.0.1')).sni, '');
      assert.equal(
        (await whoami(nginx, { caCerts: pki.caCert, serverHostname: 'localhost' }, '127.0.0.1')).sni,
        'localhost',
      );
    });

    test('assertHostname checks the certificate against another name', async () => {
      const err = await whoami(nginx, { caCerts: pki.caCert }, 'nginx.test').then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err instanceof SSLError);
      assert.match(err.message, /not valid for 'nginx\.test'; it is valid for DNS:localhost/);
      await whoami(nginx, { caCerts: pki.caCert, assertHostname: 'localhost' }, 'nginx.test');
    });

    test('assertFingerprint pins the nginx certificate', async () => {
      const fp = createHash('sha256').update(pki.server.certDer).digest('hex');
      await whoami(nginx, { certReqs: 'CERT_NONE', assertFingerprint: fp });
      const err = await whoami(nginx, { certReqs: 'CERT_NONE', assertFingerprint: 'a'.repeat(64) }).then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err instanceof SSLError);
      assert.ok(err.message.includes(fp));
    });
  });

  describe('protocol settings', () => {
    test('sslMaximumVersion and ciphers choose what nginx negotiates', async () => {
      const r = await whoami(nginx, {
        caCerts: pki.caCert,
        sslMaximumVersion: 'TLSv1.2',
        ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384',
      });
      assert.equal(r.protocol, 'TLSv1.2');
      assert.equal(r.cipher, 'ECDHE-ECDSA-AES256-GCM-SHA384');
    });

    test('asking for TLS 1.1 only fails with a protocol-version SSLError (nginx allows 1.2 and 1.3)', async () => {
      const err = await whoami(nginx, {
        caCerts: pki.caCert,
        sslMinimumVersion: 'TLSv1.1',
        sslMaximumVersion: 'TLSv1.1',
        ciphers: 'DEFAULT@SECLEVEL=0',
      }).then(
        () => null,
        (e: Error) => e,
      );
      assert.ok(err instanceof SSLError, String(err));
      assert.match(err.message, /protocol version/);
    });

    test('one TLS connection carries many requests and ConnectionInfo describes it', async () => {
      await using pool = new HTTPSConnectionPool('localhost', {
        port: nginx.tlsPort,
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
      });
      for (let i = 0; i < 20; i++) {
        const r = await pool.request('GET', '/small.txt');
        assert.equal(r.status, 200);
        const info = r.connectionInfo;
        assert.ok(info !== null);
        assert.equal(info.tlsVersion, 'TLSv1.3');
        assert.ok(info.certificateDer?.equals(pki.server.certDer));
        assert.ok(info.issuerCertificateDer?.equals(pki.caCertDer));
        if (i === 0) assert.ok(info.tlsHandshakeLatency > 0);
        else assert.equal(info.tlsHandshakeLatency, 0);
      }
      assert.equal(pool.numConnections, 1);
    });
  });

  describe('mutual TLS (ssl_verify_client on)', () => {
    test('without a client certificate nginx answers 400', async () => {
      await using pool = new HTTPSConnectionPool('localhost', {
        port: mtls.tlsPort,
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
        retries: false,
      });
      const r = await pool.request('GET', '/whoami');
      assert.equal(r.status, 400);
      assert.match(r.data.toString(), /No required SSL certificate was sent/);
    });

    test('certFile + an encrypted keyFile + keyPassword identify the client', async () => {
      const r = await whoami(mtls, {
        caCerts: pki.caCert,
        certFile: pki.client.cert,
        keyFile: pki.client.encryptedKey,
        keyPassword: pki.clientKeyPassword,
      });
      assert.equal(r.verify, 'SUCCESS');
      assert.equal(r.clientDn, 'CN=urllib3-ts client');
    });

    test('certData + keyData identify the client, through a PoolManager too', async () => {
      const r = await whoami(mtls, {
        caCerts: pki.caCert,
        certData: pki.client.certPem,
        keyData: pki.client.keyPem,
      });
      assert.equal(r.verify, 'SUCCESS');
      await using pm = new PoolManager({
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
        certFile: pki.clientCombined,
      });
      const viaManager = await pm.request('GET', `https://localhost:${mtls.tlsPort}/whoami`);
      assert.equal(parseWhoami(viaManager.data.toString()).clientDn, 'CN=urllib3-ts client');
    });

    test('a client certificate from a CA nginx does not trust gets 400', async () => {
      await using pool = new HTTPSConnectionPool('localhost', {
        port: mtls.tlsPort,
        resolver: new LoopbackResolver(),
        caCerts: pki.caCert,
        certFile: pki.otherClient.cert,
        keyFile: pki.otherClient.key,
        retries: false,
      });
      const r = await pool.request('GET', '/whoami');
      assert.equal(r.status, 400);
      assert.match(r.data.toString(), /SSL certificate error/);
    });
  });
});
