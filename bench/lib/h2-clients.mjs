// HTTP/2 clients: create({ origin, concurrency, ca, target?, size? }) with an
// https origin and the CA's PEM; they keep `concurrency` requests in flight
// on ONE connection (streams, not connections) until the deadline or the
// request budget, verify at setup that HTTP/2 was negotiated, and have
// stats() -> { connections } (what the client itself says it opened; the
// bench also counts at the server).
//
// `target` and `size` say what each request fetches: the small file by
// default (h2-get-c100: each answer read whole, as an application reads a
// small response), or a larger file (h2-download-c10, 1 MiB) whose body every
// client streams and counts without keeping it. Every answer is checked
// (status 200, exactly `size` body bytes).

import diagnosticsChannel from 'node:diagnostics_channel';
import http2 from 'node:http2';
import { performance } from 'node:perf_hooks';
import {
  BenchCheckError,
  COMPARE_INDEX,
  checkBody,
  drive,
  loadCompare,
  loadUrllib3,
} from './client-common.mjs';
import { PATHS, SMALL_BODY } from './payloads.mjs';

/** HTTP/2's default window (RFC 9113, section 6.9.2). */
const DEFAULT_WINDOW = 65_535;

/** The request's target and expected body size; `streamed` when the body is read as a stream. */
function what({ target = PATHS.small, size = SMALL_BODY.length }) {
  return { target, size, streamed: target !== PATHS.small };
}

/**
 * A connected ClientHttp2Session; rejects unless ALPN chose h2. The raw
 * client is the limit, so flow control must never hold it back: each
 * stream's window holds a whole answer and the connection's all the answers
 * in flight (for the 100-byte file that is HTTP/2's default, 64 KiB).
 */
function connectH2(origin, ca, streamWindow, connectionWindow) {
  return new Promise((resolve, reject) => {
    const session = http2.connect(origin, { ca, settings: { initialWindowSize: streamWindow } });
    session.once('error', reject);
    session.once('connect', () => {
      session.removeListener('error', reject);
      if (session.alpnProtocol !== 'h2') {
        session.destroy();
        reject(new Error(`raw node:http2: ALPN chose ${session.alpnProtocol}, not h2`));
        return;
      }
      if (connectionWindow > DEFAULT_WINDOW) session.setLocalWindowSize(connectionWindow);
      resolve(session);
    });
  });
}

/**
 * The limit: a ClientHttp2Session doing session.request() with
 * `concurrency` streams open at any time, checking each answer's status and
 * counting its body bytes. No response object, no header dict, no promise
 * per request: the least work a client on node:http2 can do.
 */
async function rawH2Client({ origin, concurrency, ca, ...rest }) {
  const { target, size } = what(rest);
  const session = await connectH2(
    origin,
    ca,
    Math.max(DEFAULT_WINDOW, size),
    Math.max(DEFAULT_WINDOW, size * concurrency),
  );
  const headers = { ':path': target };
  let sessionError = null;
  session.on('error', (err) => {
    sessionError = err;
  });
  return {
    run(deadline, maxRequests) {
      return new Promise((resolve, reject) => {
        let started = 0;
        let done = 0;
        let active = 0;
        let failed = false;
        const fail = (err) => {
          if (failed) return;
          failed = true;
          reject(err);
        };
        const next = () => {
          if (failed) return;
          if (sessionError !== null) return fail(sessionError);
          if (started < maxRequests && performance.now() < deadline) {
            started++;
            active++;
            one();
          } else if (active === 0) {
            resolve(done);
          }
        };
        const one = () => {
          const stream = session.request(headers, { endStream: true });
          let status = 0;
          let got = 0;
          stream.on('response', (h) => {
            status = h[':status'];
          });
          stream.on('data', (c) => {
            got += c.length;
          });
          stream.on('error', fail);
          stream.on('end', () => {
            active--;
            if (status !== 200 || got !== size) {
              fail(new BenchCheckError(`raw node:http2: status ${status}, ${got} body bytes`));
              return;
            }
            done++;
            next();
          });
        };
        for (let i = 0; i < concurrency; i++) next();
      });
    },
    stats: () => ({
      connections: 1,
      tls: {
        protocol: session.socket?.getProtocol?.() ?? null,
        cipher: session.socket?.getCipher?.()?.name ?? null,
      },
    }),
    close: () =>
      new Promise((resolve) => {
        if (session.closed || session.destroyed) resolve();
        else session.close(resolve);
      }),
  };
}

/** GET the small file once and insist on HTTP/2: the connection is open after this. */
async function checkUrllib3H2(get, name) {
  const r = await get();
  checkBody(name, r.status, r.data.length, SMALL_BODY.length);
  if (r.version !== 20)
    throw new Error(`${name}: the server answered over HTTP/${r.version / 10}, not HTTP/2`);
}

/**
 * One request through urllib3-ts (`request(options)`: a manager's or a
 * pool's request for the target): the small file read whole (`data`), a
 * larger one streamed with `preloadContent: false` and `for await`,
 * counting bytes.
 */
function urllib3Once(request, name, { size, streamed }) {
  if (!streamed) {
    return async () => {
      const r = await request(undefined);
      checkBody(name, r.status, r.data.length, size);
    };
  }
  const options = { preloadContent: false };
  return async () => {
    const r = await request(options);
    let n = 0;
    for await (const chunk of r) n += chunk.length;
    checkBody(name, r.status, n, size);
  };
}

/** urllib3-ts through a PoolManager: ALPN picks h2, concurrent requests share one connection. */
async function urllib3H2Client({ origin, concurrency, ca, ...rest }, load = loadUrllib3) {
  const { PoolManager } = await load();
  const pm = new PoolManager({ caCertData: ca });
  await checkUrllib3H2(() => pm.request('GET', origin + PATHS.small), 'urllib3-ts');
  const w = what(rest);
  const url = origin + w.target;
  const once = urllib3Once((o) => pm.request('GET', url, o), 'urllib3-ts', w);
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    stats: () => {
      let connections = 0;
      for (const pool of pm.pools.values()) connections += pool.numConnections;
      return { connections };
    },
    close: () => pm.close(),
  };
}

/**
 * A client on one HTTPSConnectionPool, checked to speak HTTP/2 first:
 * `request(pool, target, options)` makes one request of the workload.
 */
async function urllib3H2PoolClientOf(name, request, { origin, concurrency, ca, ...rest }, load) {
  const { HTTPSConnectionPool } = await load();
  const u = new URL(origin);
  const pool = new HTTPSConnectionPool(u.hostname, { port: Number(u.port), caCertData: ca });
  await checkUrllib3H2(() => pool.request('GET', PATHS.small), name);
  const w = what(rest);
  const once = urllib3Once((o) => request(pool, w.target, o), name, w);
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    stats: () => ({ connections: pool.numConnections }),
    close: () => pool.close(),
  };
}

/** urllib3-ts through an HTTPSConnectionPool, without the manager layer. */
const urllib3H2PoolClient = (spec, load = loadUrllib3) =>
  urllib3H2PoolClientOf('urllib3-ts pool', (pool, target, o) => pool.request('GET', target, o), spec, load);

/**
 * urllib3-ts's multiplexing API on the pool: request(..., { multiplexed: true })
 * resolves with a ResponsePromise once the request is on its stream, and
 * getResponse({ promise }) with the response.
 */
const urllib3H2MultiplexedClient = (spec, load = loadUrllib3) =>
  urllib3H2PoolClientOf(
    'urllib3-ts multiplexed',
    async (pool, target, o) => {
      const promise = await pool.request('GET', target, { ...o, multiplexed: true });
      return pool.getResponse({ promise });
    },
    spec,
    load,
  );

/**
 * undici.request over HTTP/2: a Pool of one connection with allowH2. undici
 * keeps at most `pipelining` requests in flight per connection on HTTP/2 too
 * (its default, 1, would serialise the streams), and at most the peer's
 * MAX_CONCURRENT_STREAMS. Its flow-control windows are its defaults.
 * `sockets` collects the connections the pool opens until `unwatch()`
 * (also for h3-workload.mjs's HTTP/2 row).
 */
export async function undiciH2Pool(origin, concurrency, ca) {
  const { Pool, request } = await import('undici');
  const sockets = [];
  const onConnected = (msg) => sockets.push(msg.socket);
  diagnosticsChannel.subscribe('undici:client:connected', onConnected);
  const pool = new Pool(origin, {
    connections: 1,
    allowH2: true,
    pipelining: concurrency,
    maxConcurrentStreams: concurrency,
    connect: { ca },
  });
  return {
    pool,
    request,
    sockets,
    unwatch: () => diagnosticsChannel.unsubscribe('undici:client:connected', onConnected),
  };
}

/** undici.request over HTTP/2 (undiciH2Pool). */
async function undiciH2Client({ origin, concurrency, ca, ...rest }) {
  const { target, size, streamed } = what(rest);
  const { pool, request, sockets, unwatch } = await undiciH2Pool(origin, concurrency, ca);
  const url = origin + target;
  const once = streamed
    ? async () => {
        const { statusCode, body } = await request(url, { dispatcher: pool });
        let n = 0;
        for await (const chunk of body) n += chunk.length;
        checkBody('undici.request', statusCode, n, size);
      }
    : async () => {
        const { statusCode, body } = await request(url, { dispatcher: pool });
        checkBody('undici.request', statusCode, (await body.arrayBuffer()).byteLength, size);
      };
  try {
    await once();
  } finally {
    unwatch();
  }
  const alpn = sockets.map((s) => s.alpnProtocol);
  if (alpn.length !== 1 || alpn[0] !== 'h2') {
    await pool.destroy();
    throw new Error(`undici.request: expected one h2 connection, ALPN gave ${JSON.stringify(alpn)}`);
  }
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    stats: () => ({ connections: null }),
    close: () => pool.close(),
  };
}

/** HTTP/2 clients, in table order. */
export const H2_CLIENTS = {
  'raw node:http2': rawH2Client,
  'urllib3-ts': urllib3H2Client,
  'urllib3-ts pool': urllib3H2PoolClient,
  'urllib3-ts multiplexed': urllib3H2MultiplexedClient,
  'undici.request': undiciH2Client,
};
if (COMPARE_INDEX !== null) {
  H2_CLIENTS['urllib3-ts B'] = (o) => urllib3H2Client(o, loadCompare);
  H2_CLIENTS['urllib3-ts pool B'] = (o) => urllib3H2PoolClient(o, loadCompare);
}
