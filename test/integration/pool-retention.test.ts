// A connection back in its pool holds nothing of the request it carried:
// a response the caller dropped (and its body) and the request's body can be
// collected while the connection waits idle for its next request.

import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HTTPConnectionPool, HTTPSConnectionPool } from '../../src/index.js';
import { LOOPBACK } from '../support/servers.js';
import { type H2TestServer, startH2Server, tlsOptions } from './h2-fixtures.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let i = 0; i < 10; i++) {
    gc();
    if (ref.deref() === undefined) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** Runs `fn` in a frame of its own, so that nothing it touched stays in the test's registers. */
async function refsOf(fn: () => Promise<object[]>): Promise<Array<WeakRef<object>>> {
  return (await fn()).map((o) => new WeakRef(o));
}

describe('an idle pooled connection', { timeout: 30_000 }, () => {
  let server: http.Server;
  let port = 0;
  const BODY = Buffer.alloc(4 * 1024 * 1024, 7);

  before(async () => {
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.end(BODY));
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    port = (server.address() as AddressInfo).port;
  });

  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('does not keep the last response it carried (nor its body) from being collected', async () => {
    await using pool = new HTTPConnectionPool(LOOPBACK, { port, maxSize: 1 });
    const [response, data] = await refsOf(async () => {
      const r = await pool.request('GET', '/');
      assert.equal(r.data.length, BODY.length);
      return [r, r.data];
    });
    assert.equal(pool.numIdle, 1);
    assert.ok(await collected(data!), 'the body of the dropped response is still reachable');
    assert.ok(await collected(response!), 'the dropped response is still reachable');
  });

  test('does not keep the body of the last request it sent', async () => {
    await using pool = new HTTPConnectionPool(LOOPBACK, { port, maxSize: 1 });
    const [upload] = await refsOf(async () => {
      const body = Buffer.alloc(1024 * 1024, 3);
      const r = await pool.request('POST', '/', { body });
      assert.equal(r.status, 200);
      return [body];
    });
    assert.equal(pool.numIdle, 1);
    assert.ok(await collected(upload!), 'the request body is still reachable');
  });
});

describe('an idle pooled HTTP/2 connection', { timeout: 30_000 }, () => {
  let s: H2TestServer;
  const BODY = Buffer.alloc(4 * 1024 * 1024, 9);

  before(async () => {
    s = await startH2Server({
      handler: (stream) => {
        stream.respond({ ':status': 200 });
        stream.end(BODY);
        return true;
      },
    });
  });

  after(async () => {
    await s.close();
  });

  test('does not keep the last response it carried from being collected', async () => {
    await using pool = new HTTPSConnectionPool('localhost', { port: s.port, ...tlsOptions(s), maxSize: 1 });
    const [response, data] = await refsOf(async () => {
      const r = await pool.request('GET', '/');
      assert.equal(r.version, 20);
      assert.equal(r.data.length, BODY.length);
      return [r, r.data];
    });
    assert.equal(pool.numConnections, 1);
    assert.ok(await collected(data!), 'the body of the dropped response is still reachable');
    assert.ok(await collected(response!), 'the dropped response is still reachable');
  });
});
