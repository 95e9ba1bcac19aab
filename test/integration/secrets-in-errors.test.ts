// Secrets never travel in an error (docs/security.md): proxy credentials in a
// proxy URL (http, https, socks5, socks5h), a Proxy-Authorization header and a
// caller's Authorization header stay out of the message, util.inspect and
// JSON of every error a failed request raises, however deep the error goes
// (pool, connection, cause chain).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, test } from 'node:test';
import util from 'node:util';
import {
  type HTTPError,
  makeHeaders,
  PoolManager,
  ProxyManager,
  SOCKSProxyManager,
} from '../../src/index.js';
import { startHttpProxy } from '../support/proxy-servers.js';

const SECRET = 'S3CRETPASS';
const B64 = Buffer.from(`user:${SECRET}`).toString('base64');
const closers: Array<() => Promise<void>> = [];
after(async () => {
  for (const c of closers) await c();
});

/** A port where nothing listens. */
async function deadPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A server that accepts and closes at once (a broken proxy or origin). */
async function slammer(): Promise<number> {
  const srv = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise<void>((r) => srv.close(() => r())));
  return (srv.address() as net.AddressInfo).port;
}

async function failure(p: Promise<unknown>): Promise<HTTPError> {
  try {
    await p;
  } catch (err) {
    return err as HTTPError;
  }
  assert.fail('expected the request to fail');
}

function assertNoSecret(err: Error): void {
  const views = {
    message: err.message,
    stack: String(err.stack),
    inspect: util.inspect(err, { depth: 20, showHidden: true }),
    json: JSON.stringify(err),
    string: String(err),
  };
  for (const [view, text] of Object.entries(views)) {
    assert.ok(!text.includes(SECRET), `the password appears in the error's ${view}:\n${text.slice(0, 4000)}`);
    assert.ok(!text.includes(B64), `the encoded credentials appear in the error's ${view}`);
  }
}

describe('proxy credentials never appear in an error', () => {
  for (const scheme of ['socks5h', 'socks5', 'socks4a']) {
    test(`a ${scheme}:// proxy with a password that refuses connections`, async () => {
      const port = await deadPort();
      const http = new SOCKSProxyManager(`${scheme}://user:${SECRET}@127.0.0.1:${port}`, { retries: false });
      const err = await failure(http.request('GET', 'http://example.invalid/'));
      assertNoSecret(err);
      await http.close();
    });
  }

  test('an http:// proxy with a password that drops the connection', async () => {
    const port = await slammer();
    const http = new ProxyManager(`http://user:${SECRET}@127.0.0.1:${port}`, { retries: 1 });
    for (const url of ['http://example.invalid/', 'https://example.invalid/']) {
      const err = await failure(http.request('GET', url));
      assertNoSecret(err);
    }
    await http.close();
  });

  test('a Proxy-Authorization header given as proxyHeaders', async () => {
    const port = await slammer();
    const http = new ProxyManager(`http://127.0.0.1:${port}`, {
      proxyHeaders: makeHeaders({ proxyBasicAuth: `user:${SECRET}` }),
      retries: false,
    });
    for (const url of ['http://example.invalid/', 'https://example.invalid/']) {
      const err = await failure(http.request('GET', url));
      assertNoSecret(err);
    }
    await http.close();
  });

  test('a proxy that answers 407 to a CONNECT', async () => {
    const proxy = await startHttpProxy({ auth: { username: 'user', password: 'other' } });
    closers.push(() => proxy.close());
    const http = new ProxyManager(`http://user:${SECRET}@127.0.0.1:${proxy.port}`, { retries: false });
    const err = await failure(http.request('GET', 'https://example.invalid/'));
    assertNoSecret(err);
    await http.close();
  });

  test('Authorization and Proxy-Authorization request headers to a dead origin', async () => {
    const port = await slammer();
    const http = new PoolManager({ retries: false });
    const err = await failure(
      http.request('GET', `http://127.0.0.1:${port}/`, {
        headers: { Authorization: `Basic ${B64}`, 'Proxy-Authorization': `Basic ${B64}` },
      }),
    );
    assertNoSecret(err);
    await http.close();
  });
});
