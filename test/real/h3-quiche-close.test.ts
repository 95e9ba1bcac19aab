// The quiche-driven QUIC connection at its end, against a real caddy
// (docs/api.md section 9, "Liveness"): a PING in flight when the connection
// closes is settled unanswered at once (no timer left to hold the process),
// and a connection closed right after its handshake lets its socket and
// timers go.

import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { loadQuicTransport } from '../../src/net/quic/quic-loader.js';
import { planQuicTls } from '../../src/net/quic/quic-tls.js';
import type { QuicConnection } from '../../src/net/quic/quic-transport.js';
import { type H3Caddy, h3CaddySkip, startH3Caddy } from '../support/real-caddy.js';

const skip = await h3CaddySkip();

/** Timers alive in this process (node:test's own included: compare before and after). */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('a quiche QUIC connection closing', { skip: skip ?? false }, () => {
  let server: H3Caddy;

  before(async () => {
    server = await startH3Caddy('h3-close', { 'small.txt': 'x\n' });
  });

  after(async () => {
    await server?.stop();
  });

  async function connect(): Promise<QuicConnection> {
    const { transport } = await loadQuicTransport();
    const tls = planQuicTls('localhost', { caCerts: server.pki.caCert });
    return transport!.connect({
      address: '127.0.0.1',
      family: 4,
      port: server.port,
      serverName: tls.serverName,
      alpn: ['h3'],
      verifyPeer: tls.verifyPeer,
      caPem: tls.caPem,
      certChainPem: null,
      keyPem: null,
      keylogFile: null,
      timeout: 5_000,
      signal: null,
      label: 'localhost:test',
    });
  }

  async function closed(q: QuicConnection): Promise<void> {
    const deadline = performance.now() + 5_000;
    while (!q.isClosed) {
      assert.ok(performance.now() < deadline, 'the connection closed');
      await sleep(5);
    }
  }

  test('a PING in flight when the connection is closed settles unanswered at once, its timer gone', async () => {
    const q = await connect();
    await sleep(20);
    const base = timers();
    const t0 = performance.now();
    const ping = q.ping(10_000);
    q.close(0x100, '');
    assert.equal(await ping, false);
    assert.ok(
      performance.now() - t0 < 2_000,
      `settled in ${Math.round(performance.now() - t0)} ms, not at its 10 s timeout`,
    );
    await closed(q);
    await sleep(5);
    assert.ok(timers() <= base, 'no timer of the connection or its PING is left');
  });

  test('an answered PING resolves true', async () => {
    const q = await connect();
    await sleep(20);
    assert.equal(await q.ping(2_000), true);
    q.close(0x100, '');
    await closed(q);
  });

  test('closed right after the handshake: the connection ends, leaving no timer', async () => {
    const base = timers();
    const q = await connect();
    q.close(0x100, 'bye');
    await closed(q);
    await sleep(5);
    assert.ok(timers() <= base, 'no timer of the connection is left');
  });
});
