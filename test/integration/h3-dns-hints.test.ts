// HTTPS-record hints for HTTP/3 (docs/api.md section 9, "DNS HTTPS records"),
// with a resolver that answers the HTTPS question from a table and counts the
// questions, in front of a TCP-only HTTPS server on loopback: its UDP port is
// closed, so the QUIC attempt a hint starts fails (or HTTP/3 is unavailable
// here at all) and the request goes on over TCP. When the question is asked
// and when it is not: the cool-down, disabledSvn, an IP host, a cache that
// already knows the origin, `preemptiveQuicCache: null`.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { quicCoolingDown } from '../../src/connection/h3-alt-svc.js';
import {
  HTTPSConnectionPool,
  type HTTPSConnectionPoolOptions,
  HttpVersion,
  InMemoryResolver,
  RequestAbortedError,
  Timeout,
} from '../../src/index.js';
import { makeTlsTestPki, type TlsTestPki } from '../support/certs.js';

/** A table resolver whose HTTPS records offer `alpn`, counting the questions. */
class HintingResolver extends InMemoryResolver {
  asked = 0;
  constructor(private readonly alpn: string[]) {
    super({ hosts: { 'hinted.test': '127.0.0.1' } });
  }
  override async getHttpsAlpn(): Promise<string[] | null> {
    this.asked++;
    return this.alpn;
  }
}

/** A resolver whose HTTPS question never gets an answer, and which ignores its abort signal. */
class SilentResolver extends InMemoryResolver {
  asked = 0;
  constructor() {
    super({ hosts: { 'hinted.test': '127.0.0.1' } });
  }
  override getHttpsAlpn(): Promise<string[] | null> {
    this.asked++;
    return new Promise(() => {});
  }
}

describe('HTTP/3 hints from DNS HTTPS records', () => {
  let pki: TlsTestPki;
  let server: Server;
  let port: number;

  before(async () => {
    pki = await makeTlsTestPki();
    server = createServer({ cert: pki.server.certPem, key: pki.server.keyPem }, (_req, res) =>
      res.end('tcp\n'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  async function get(
    host: string,
    resolver: HintingResolver,
    opts: HTTPSConnectionPoolOptions = {},
    signal?: AbortSignal,
  ) {
    const pool = new HTTPSConnectionPool(host, {
      port,
      resolver,
      caCerts: pki.caCert,
      serverHostname: 'localhost',
      retries: false,
      ...opts,
    });
    try {
      const r = await pool.request('GET', '/', signal ? { signal } : {});
      return r;
    } finally {
      await pool.close();
    }
  }

  test('an h3 hint starts a QUIC attempt; its failure falls back to TCP and cools the origin down, and a cooling origin is not asked again', async () => {
    const resolver = new HintingResolver(['h3', 'h2']);
    const cache = new Map<string, string | null>();
    const r = await get('hinted.test', resolver, { preemptiveQuicCache: cache });
    assert.equal(r.version, 11);
    assert.equal(r.data.toString(), 'tcp\n');
    assert.equal(resolver.asked, 1);
    assert.ok(quicCoolingDown(cache, `hinted.test:${port}`), 'the failed attempt started the cool-down');
    const again = await get('hinted.test', resolver, { preemptiveQuicCache: cache });
    assert.equal(again.version, 11);
    assert.equal(resolver.asked, 1, 'not asked during the cool-down');
  });

  test(
    'a question that gets no answer (from a resolver ignoring its signal) holds the connect up to half its timeout, then TCP',
    { timeout: 10_000 },
    async () => {
      const resolver = new SilentResolver();
      const t0 = performance.now();
      const r = await get('hinted.test', resolver as unknown as HintingResolver, {
        preemptiveQuicCache: new Map(),
        timeout: new Timeout({ connect: 400 }),
      });
      assert.equal(r.version, 11);
      assert.equal(resolver.asked, 1);
      assert.ok(
        performance.now() - t0 < 2_000,
        `went on over TCP after ${Math.round(performance.now() - t0)} ms`,
      );
    },
  );

  test(
    'an abort while the question is pending fails the request at once with RequestAbortedError',
    { timeout: 10_000 },
    async () => {
      const resolver = new SilentResolver();
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 50);
      const t0 = performance.now();
      await assert.rejects(
        get(
          'hinted.test',
          resolver as unknown as HintingResolver,
          { preemptiveQuicCache: new Map() },
          ac.signal,
        ),
        RequestAbortedError,
      );
      assert.ok(
        performance.now() - t0 < 900,
        `failed after ${Math.round(performance.now() - t0)} ms, before the 1 s hint wait`,
      );
    },
  );

  test('a record without h3 leaves the origin on TCP, with no cool-down', async () => {
    const resolver = new HintingResolver(['h2', 'http/1.1']);
    const cache = new Map<string, string | null>();
    await get('hinted.test', resolver, { preemptiveQuicCache: cache });
    assert.equal(resolver.asked, 1);
    assert.equal(quicCoolingDown(cache, `hinted.test:${port}`), false);
  });

  test('the question is not asked with disabledSvn h3, for an IP host, for an origin the cache knows, or without a cache', async () => {
    const resolver = new HintingResolver(['h3']);
    await get('hinted.test', resolver, { disabledSvn: new Set([HttpVersion.h3]) });
    await get('127.0.0.1', resolver, { preemptiveQuicCache: new Map() });
    await get('hinted.test', resolver, {
      preemptiveQuicCache: new Map([[`hinted.test:${port}`, null]]),
    });
    await get('hinted.test', resolver, { preemptiveQuicCache: null });
    assert.equal(resolver.asked, 0);
  });
});
