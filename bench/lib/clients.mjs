// The clients under comparison. Each keep-alive client is a factory:
// create({ origin, concurrency, workload }) -> { run(deadline, maxRequests), close() }
// where run() keeps `concurrency` requests in flight (one per connection, no
// pipelining) until the deadline or the request budget, and resolves with the
// number of requests completed. Every response is checked (status, body
// length or parsed JSON), so no client can win by skipping work.
//
// Downloads: download({ origin, path, size }) -> bytes received, reading the
// body as a stream (never buffering it whole).
//
// HTTP/2 clients are in h2-clients.mjs.

import http from 'node:http';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  BenchCheckError,
  COMPARE_INDEX,
  checkJson,
  checkSmall,
  drive,
  loadCompare,
  loadUrllib3,
} from './client-common.mjs';
import { MiB, PATHS, POST_OBJECT } from './payloads.mjs';

export { loadUrllib3 } from './client-common.mjs';
// The HTTP/2 clients live in h2-clients.mjs; re-exported for bench/profile.mjs.
export { H2_CLIENTS } from './h2-clients.mjs';

// ---- raw socket: the limit ------------------------------------------------------

function rawRequest(origin, workload) {
  const u = new URL(origin);
  const host = `${u.hostname}:${u.port}`;
  if (workload === 'post') {
    const body = Buffer.from(JSON.stringify(POST_OBJECT));
    const head = `POST ${PATHS.json} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    return Buffer.concat([Buffer.from(head, 'latin1'), body]);
  }
  return Buffer.from(`GET ${PATHS.small} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 'latin1');
}

/** Total size of the first response in `buf` once its head is complete, else -1. */
function responseSize(buf) {
  const end = buf.indexOf('\r\n\r\n');
  if (end === -1) return -1;
  const head = buf.toString('latin1', 0, end);
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m) throw new Error(`raw socket: response without Content-Length:\n${head}`);
  return end + 4 + Number(m[1]);
}

function connectRaw(origin, extra = {}) {
  const u = new URL(origin);
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port), noDelay: true, ...extra });
    s.once('connect', () => {
      s.removeListener('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/**
 * Writes a prebuilt request and counts response bytes: the least work any
 * client could do per request. The response size is learned once, from the
 * first answer (nginx's and the node server's answers are fixed-size).
 */
function rawClient({ origin, concurrency, workload }) {
  const req = rawRequest(origin, workload);
  const sockets = [];
  let size = -1;
  return {
    async run(deadline, maxRequests) {
      while (sockets.length < concurrency) sockets.push(await connectRaw(origin));
      if (size === -1) {
        const s = sockets[0];
        size = await new Promise((resolve, reject) => {
          let buf = Buffer.alloc(0);
          const onData = (c) => {
            buf = Buffer.concat([buf, c]);
            const n = responseSize(buf);
            if (n !== -1 && buf.length >= n) {
              s.removeListener('data', onData);
              if (buf.length !== n) reject(new Error('raw socket: extra bytes after the response'));
              else resolve(n);
            }
          };
          s.on('data', onData);
          s.write(req);
        });
      }
      let started = 0;
      let done = 0;
      return new Promise((resolve, reject) => {
        let active = 0;
        for (const s of sockets) {
          let got = 0;
          active++;
          const next = () => {
            if (started < maxRequests && performance.now() < deadline) {
              started++;
              s.write(req);
              return;
            }
            s.removeListener('data', onData);
            s.removeListener('error', onError);
            if (--active === 0) resolve(done);
          };
          const onData = (c) => {
            got += c.length;
            if (got < size) return;
            if (got > size) {
              reject(new Error(`raw socket: ${got} bytes for a ${size}-byte response`));
              return;
            }
            got = 0;
            done++;
            next();
          };
          const onError = (err) => reject(err);
          s.on('data', onData);
          s.on('error', onError);
          next();
        }
      });
    },
    async close() {
      for (const s of sockets) s.destroy();
    },
  };
}

// ---- urllib3-ts -----------------------------------------------------------------

async function urllib3Client({ origin, concurrency, workload }, load = loadUrllib3) {
  const { PoolManager } = await load();
  const pm = new PoolManager({ maxSize: concurrency });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const r = await pm.request('POST', url, { json: POST_OBJECT });
          checkJson(r.status, r.json());
        }
      : async () => {
          const r = await pm.request('GET', url);
          checkSmall(r.status, r.data.length);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: () => pm.close(),
  };
}

async function urllib3PoolClient({ origin, concurrency, workload }, load = loadUrllib3) {
  const { HTTPConnectionPool } = await load();
  const u = new URL(origin);
  const pool = new HTTPConnectionPool(u.hostname, { port: Number(u.port), maxSize: concurrency });
  const once =
    workload === 'post'
      ? async () => {
          const r = await pool.request('POST', PATHS.json, { json: POST_OBJECT });
          checkJson(r.status, r.json());
        }
      : async () => {
          const r = await pool.request('GET', PATHS.small);
          checkSmall(r.status, r.data.length);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: () => pool.close(),
  };
}

// ---- undici ---------------------------------------------------------------------

async function undiciRequestClient({ origin, concurrency, workload }) {
  const { Pool, request } = await import('undici');
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const { statusCode, body } = await request(url, {
            dispatcher: pool,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(POST_OBJECT),
          });
          checkJson(statusCode, await body.json());
        }
      : async () => {
          const { statusCode, body } = await request(url, { dispatcher: pool });
          checkSmall(statusCode, (await body.arrayBuffer()).byteLength);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: () => pool.close(),
  };
}

async function undiciFetchClient({ origin, concurrency, workload }) {
  const { Agent, fetch } = await import('undici');
  const agent = new Agent({ connections: concurrency, pipelining: 1 });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const res = await fetch(url, {
            dispatcher: agent,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(POST_OBJECT),
          });
          checkJson(res.status, await res.json());
        }
      : async () => {
          const res = await fetch(url, { dispatcher: agent });
          checkSmall(res.status, (await res.arrayBuffer()).byteLength);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: () => agent.close(),
  };
}

// ---- node:http ------------------------------------------------------------------

function nodeHttpClient({ origin, concurrency, workload }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const collect = (res, resolve, reject, finish) => {
    const chunks = [];
    res.on('data', (c) => chunks.push(c));
    res.on('error', reject);
    res.on('end', () => {
      try {
        finish(res.statusCode, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
        resolve();
      } catch (err) {
        reject(err);
      }
    });
  };
  const once =
    workload === 'post'
      ? () =>
          new Promise((resolve, reject) => {
            const body = JSON.stringify(POST_OBJECT);
            const req = http.request(
              url,
              {
                agent,
                method: 'POST',
                headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
              },
              (res) =>
                collect(res, resolve, reject, (status, buf) => checkJson(status, JSON.parse(buf.toString()))),
            );
            req.on('error', reject);
            req.end(body);
          })
      : () =>
          new Promise((resolve, reject) => {
            const req = http.request(url, { agent }, (res) =>
              collect(res, resolve, reject, (status, buf) => checkSmall(status, buf.length)),
            );
            req.on('error', reject);
            req.end();
          });
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: async () => agent.destroy(),
  };
}

// ---- axios, got, node-fetch (all over a keep-alive node:http Agent) ---------------

async function axiosClient({ origin, concurrency, workload }) {
  const { default: axios } = await import('axios');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const ax = axios.create({ httpAgent: agent, proxy: false });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const r = await ax.post(url, POST_OBJECT);
          checkJson(r.status, r.data);
        }
      : async () => {
          const r = await ax.get(url, { responseType: 'arraybuffer' });
          checkSmall(r.status, r.data.length);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: async () => agent.destroy(),
  };
}

async function gotClient({ origin, concurrency, workload }) {
  const { default: got } = await import('got');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const g = got.extend({ agent: { http: agent }, retry: { limit: 0 } });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const r = await g.post(url, { json: POST_OBJECT, responseType: 'json' });
          checkJson(r.statusCode, r.body);
        }
      : async () => {
          const r = await g(url, { responseType: 'buffer' });
          checkSmall(r.statusCode, r.body.length);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: async () => agent.destroy(),
  };
}

async function nodeFetchClient({ origin, concurrency, workload }) {
  const { default: fetch } = await import('node-fetch');
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const url = origin + (workload === 'post' ? PATHS.json : PATHS.small);
  const once =
    workload === 'post'
      ? async () => {
          const res = await fetch(url, {
            agent,
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(POST_OBJECT),
          });
          checkJson(res.status, await res.json());
        }
      : async () => {
          const res = await fetch(url, { agent });
          checkSmall(res.status, (await res.arrayBuffer()).byteLength);
        };
  return {
    run: (deadline, max) => drive(once, concurrency, deadline, max),
    close: async () => agent.destroy(),
  };
}

/** Keep-alive clients, in table order. */
export const CLIENTS = {
  'raw socket': rawClient,
  'urllib3-ts': urllib3Client,
  'urllib3-ts pool': urllib3PoolClient,
  'undici.request': undiciRequestClient,
  'undici.fetch': undiciFetchClient,
  'node:http': nodeHttpClient,
  axios: axiosClient,
  got: gotClient,
  'node-fetch': nodeFetchClient,
};
if (COMPARE_INDEX !== null) {
  CLIENTS['urllib3-ts B'] = (o) => urllib3Client(o, loadCompare);
  CLIENTS['urllib3-ts pool B'] = (o) => urllib3PoolClient(o, loadCompare);
}
// ---- downloads ------------------------------------------------------------------

/** Naive raw loop: one 'data' event per read, Node's own 64 KiB read buffers. */
async function rawDownload(origin, target, size, onread) {
  const u = new URL(origin);
  let head = null;
  let total = -1;
  let got = 0;
  return new Promise((resolve, reject) => {
    const account = (buf, n) => {
      got += n;
      if (total === -1) {
        head = head === null ? Buffer.from(buf.subarray(0, n)) : Buffer.concat([head, buf.subarray(0, n)]);
        total = responseSize(head);
        if (total !== -1 && total - head.indexOf('\r\n\r\n') - 4 !== size) {
          reject(new Error(`raw download: unexpected Content-Length (${total})`));
        }
      }
      if (total !== -1 && got >= total) {
        s.destroy();
        if (got === total) resolve(size);
        else reject(new Error('raw download: extra bytes'));
      }
    };
    const options = { host: u.hostname, port: Number(u.port), noDelay: true };
    if (onread) {
      // Large reused read buffer: no allocation and one callback per (up to) 1 MiB read.
      options.onread = { buffer: Buffer.allocUnsafe(MiB), callback: (n, buf) => account(buf, n) };
    }
    const s = net.connect(options);
    if (!onread) s.on('data', (c) => account(c, c.length));
    s.on('error', reject);
    s.on('connect', () => s.write(`GET ${target} HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
  });
}

function checkSize(got, size) {
  if (got !== size) throw new BenchCheckError(`download: ${got} bytes, expected ${size}`);
  return got;
}

async function urllib3Download(origin, target, size, load) {
  const { PoolManager } = await load();
  const pm = new PoolManager();
  const r = await pm.request('GET', origin + target, { preloadContent: false });
  let n = 0;
  for await (const chunk of r) n += chunk.length;
  await pm.close();
  return checkSize(n, size);
}

/** urllib3-ts with Python urllib3's loop: `stream(amt)`, chunks of exactly `amt` bytes. */
async function urllib3StreamDownload(origin, target, size, amt) {
  const { PoolManager } = await loadUrllib3();
  const pm = new PoolManager();
  const r = await pm.request('GET', origin + target, { preloadContent: false });
  let n = 0;
  for await (const chunk of r.stream(amt)) n += chunk.length;
  await pm.close();
  return checkSize(n, size);
}

/**
 * Download clients: (origin, target, size, chunk) -> bytes, streaming the
 * body and counting it. `chunk` is the read size of the clients that choose
 * one (Python urllib3's stream(amt) and its urllib3-ts twin); the others take
 * the chunks their stream delivers.
 */
export const DOWNLOADS = {
  'raw socket': (origin, target, size) => rawDownload(origin, target, size, false),
  'raw socket onread': (origin, target, size) => rawDownload(origin, target, size, true),
  'urllib3-ts': (origin, target, size) => urllib3Download(origin, target, size, loadUrllib3),
  'urllib3-ts stream(amt)': urllib3StreamDownload,
  'undici.request': async (origin, target, size) => {
    const { Pool, request } = await import('undici');
    const pool = new Pool(origin, { connections: 1 });
    const { body } = await request(origin + target, { dispatcher: pool });
    let n = 0;
    for await (const chunk of body) n += chunk.length;
    await pool.close();
    return checkSize(n, size);
  },
  'undici.fetch': async (origin, target, size) => {
    const { Agent, fetch } = await import('undici');
    const agent = new Agent({ connections: 1 });
    const res = await fetch(origin + target, { dispatcher: agent });
    let n = 0;
    for await (const chunk of res.body) n += chunk.length;
    await agent.close();
    return checkSize(n, size);
  },
  'node:http': (origin, target, size) =>
    new Promise((resolve, reject) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const req = http.get(origin + target, { agent }, (res) => {
        let n = 0;
        res.on('data', (c) => {
          n += c.length;
        });
        res.on('error', reject);
        res.on('end', () => {
          agent.destroy();
          try {
            resolve(checkSize(n, size));
          } catch (err) {
            reject(err);
          }
        });
      });
      req.on('error', reject);
    }),
  axios: async (origin, target, size) => {
    const { default: axios } = await import('axios');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const r = await axios.get(origin + target, {
      httpAgent: agent,
      proxy: false,
      responseType: 'stream',
      maxContentLength: Number.POSITIVE_INFINITY,
    });
    let n = 0;
    for await (const chunk of r.data) n += chunk.length;
    agent.destroy();
    return checkSize(n, size);
  },
  got: async (origin, target, size) => {
    const { default: got } = await import('got');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    let n = 0;
    for await (const chunk of got.stream(origin + target, { agent: { http: agent }, retry: { limit: 0 } })) {
      n += chunk.length;
    }
    agent.destroy();
    return checkSize(n, size);
  },
  'node-fetch': async (origin, target, size) => {
    const { default: fetch } = await import('node-fetch');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const res = await fetch(origin + target, { agent });
    let n = 0;
    for await (const chunk of res.body) n += chunk.length;
    agent.destroy();
    return checkSize(n, size);
  },
};

/**
 * What each download client imports, loaded by the worker before the RSS
 * baseline: the cold download measures the first download, not module loading.
 */
export const DOWNLOAD_MODULES = {
  'urllib3-ts': loadUrllib3,
  'urllib3-ts stream(amt)': loadUrllib3,
  'urllib3-ts B': loadCompare,
  'undici.request': () => import('undici'),
  'undici.fetch': () => import('undici'),
  axios: () => import('axios'),
  got: () => import('got'),
  'node-fetch': () => import('node-fetch'),
};

if (COMPARE_INDEX !== null) {
  DOWNLOADS['urllib3-ts B'] = (origin, target, size) => urllib3Download(origin, target, size, loadCompare);
}

// ---- distinct paths through a PoolManager ----------------------------------------

/** `total` GETs to distinct paths, `concurrency` at a time, through PoolManager({ maxSize }). */
export async function distinctPaths(origin, total, concurrency, maxSize) {
  const { PoolManager } = await loadUrllib3();
  const pm = new PoolManager({ maxSize });
  let next = 0;
  const started = performance.now();
  const loop = async () => {
    while (next < total) {
      const i = next++;
      const r = await pm.request('GET', `${origin}${PATHS.distinct}${i}`);
      checkSmall(r.status, r.data.length);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const elapsedMs = performance.now() - started;
  let poolConnections = 0;
  for (const pool of pm.pools.values()) poolConnections += pool.numConnections;
  const pools = pm.pools.size;
  await pm.close();
  return { requests: total, elapsedMs, poolConnections, pools };
}
