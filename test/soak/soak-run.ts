// A soak with fault injection (RELIABILITY.md, "Soak"): many requests through
// one PoolManager to in-process HTTP/1.1 and HTTP/2 (h2c) servers, of which a
// share are told to misbehave: a reset mid-body, a stall past the read
// timeout, a body cut short of its Content-Length, a GOAWAY, and now and then
// the server restarts under the requests in flight. Every body that arrives
// is compared byte for byte with what the server was asked to send; every
// request must settle; afterwards no socket, handle or heap growth may be
// left. `scripts/soak.ts` runs it long; test/soak/soak.test.ts runs it short.

import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { HTTPError, HttpVersion, PoolManager, Timeout } from '../../src/index.js';

export type Fault = 'reset' | 'stall' | 'truncate' | 'goaway';
const FAULTS: readonly Fault[] = ['reset', 'stall', 'truncate', 'goaway'];

export interface SoakOptions {
  protocol: 'h1' | 'h2';
  requests: number;
  /** Share of requests told to misbehave (0.05 = 5 %). */
  faultRate: number;
  /** Requests in flight at once. */
  concurrency: number;
  /** Restart the server after every this many requests (0: never). */
  restartEvery: number;
  /** Read timeout (ms) of the requests told to stall: they fail after it. */
  readTimeout: number;
  /** Called now and then with the number of requests settled. */
  progress?: (settled: number) => void;
}

export interface SoakResult {
  protocol: 'h1' | 'h2';
  requests: number;
  ok: number;
  faultsInjected: Record<Fault | 'restart', number>;
  /** Failed requests: expected ones (faulted, or in flight during a restart) and others. */
  failedAsExpected: number;
  failedUnexpectedly: number;
  /** Errors that were not the library's own classes. */
  foreignErrors: number;
  /** Requests that never settled. */
  lost: number;
  /** Bodies that arrived complete but differed from what was sent. */
  wrongBodies: number;
  bodyBytesChecked: number;
  /** Sockets and other handles open after close() beyond those before the run. */
  leakedSockets: number;
  leakedHandles: Record<string, number>;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  rssPeakMiB: number;
  seconds: number;
  errorSamples: string[];
}

/** The body for request `id`: `size` bytes anyone can recompute (xorshift32 from the id). */
export function bodyFor(id: number, size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  let x = (id * 2654435761) >>> 0 || 1;
  let i = 0;
  for (; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b.writeUInt32LE(x >>> 0, i);
  }
  for (; i < size; i++) b[i] = (id + i) & 0xff;
  return b;
}

/** What the servers read from a request path: /b/<id>/<size>/<fault or "none">. */
function route(path: string): { id: number; size: number; fault: Fault | 'none' } {
  const [, , id, size, fault] = path.split('/');
  return { id: Number(id), size: Number(size), fault: (fault ?? 'none') as Fault | 'none' };
}

interface SoakServer {
  port: number;
  restart(): Promise<void>;
  close(): Promise<void>;
}

function h1Handler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const { id, size, fault } = route(req.url ?? '/');
  const body = bodyFor(id, size);
  const half = body.subarray(0, size >> 1);
  switch (fault) {
    case 'reset':
      res.writeHead(200, { 'Content-Length': String(size) });
      res.write(half, () => res.socket?.resetAndDestroy());
      return;
    case 'stall':
      res.writeHead(200, { 'Content-Length': String(size) });
      res.write(half);
      return; // never ends; the client's read timeout fails it, its close frees us
    case 'truncate':
      res.writeHead(200, { 'Content-Length': String(size) });
      res.write(half, () => res.socket?.end());
      return;
    case 'goaway':
      // HTTP/1.1's image of GOAWAY: the answer, then the connection goes.
      res.writeHead(200, { 'Content-Length': String(size), Connection: 'close' });
      res.end(body);
      return;
    default:
      res.writeHead(200, { 'Content-Length': String(size) });
      res.end(body);
  }
}

function h2Handler(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
  const { id, size, fault } = route(String(headers[':path'] ?? '/'));
  const body = bodyFor(id, size);
  const half = body.subarray(0, size >> 1);
  stream.on('error', () => {});
  switch (fault) {
    case 'reset':
      stream.respond({ ':status': 200, 'content-length': String(size) });
      stream.write(half, () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
      return;
    case 'stall':
      stream.respond({ ':status': 200, 'content-length': String(size) });
      stream.write(half);
      return;
    case 'truncate':
      stream.respond({ ':status': 200, 'content-length': String(size) });
      stream.end(half);
      return;
    case 'goaway':
      stream.respond({ ':status': 200, 'content-length': String(size) });
      stream.end(body, () => stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR));
      return;
    default:
      stream.respond({ ':status': 200, 'content-length': String(size) });
      stream.end(body);
  }
}

async function startServer(protocol: 'h1' | 'h2'): Promise<SoakServer> {
  const make = (): net.Server => {
    if (protocol === 'h1') {
      const s = http.createServer({ keepAliveTimeout: 60_000 }, h1Handler);
      s.on('clientError', (_e, socket) => socket.destroy());
      return s;
    }
    const s = http2.createServer({ settings: { maxConcurrentStreams: 100 } });
    s.on('stream', h2Handler);
    s.on('sessionError', () => {});
    return s as unknown as net.Server;
  };
  let server = make();
  const sockets = new Set<net.Socket>();
  const track = (s: net.Server) =>
    s.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    });
  track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const stop = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    port,
    async restart() {
      await stop();
      server = make();
      track(server);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
    close: stop,
  };
}

const SOCKET_HANDLES = new Set(['TCPSocketWrap', 'TLSWrap']);

function handleCounts(): Map<string, number> {
  const m = new Map<string, number>();
  for (const n of process.getActiveResourcesInfo()) m.set(n, (m.get(n) ?? 0) + 1);
  return m;
}

function heapMiB(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return Math.round((process.memoryUsage().heapUsed / 1048576) * 10) / 10;
}

/** Deterministic choices (xorshift), so a run can be repeated. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const SIZES = [0, 1, 100, 1000, 4096, 16_384, 65_536];
/** How long after a restart a failed connection attempt still counts as meeting it (ms). */
const RESTART_GRACE = 250;

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const started = performance.now();
  const handlesBefore = handleCounts();
  const heapBefore = heapMiB();
  const server = await startServer(o.protocol);
  const http = new PoolManager({
    maxSize: o.concurrency,
    retries: false,
    // Generous for the others: the machine may be busy, and a slow answer is not a lost one.
    timeout: new Timeout({ connect: 10_000, read: 10_000 }),
    ...(o.protocol === 'h2' ? { disabledSvn: new Set([HttpVersion.h11]) } : {}),
  });
  const origin = `http://127.0.0.1:${server.port}`;
  const random = rng(0x5eed + (o.protocol === 'h2' ? 1 : 0));
  const result: SoakResult = {
    protocol: o.protocol,
    requests: 0,
    ok: 0,
    faultsInjected: { reset: 0, stall: 0, truncate: 0, goaway: 0, restart: 0 },
    failedAsExpected: 0,
    failedUnexpectedly: 0,
    foreignErrors: 0,
    lost: 0,
    wrongBodies: 0,
    bodyBytesChecked: 0,
    leakedSockets: 0,
    leakedHandles: {},
    heapBeforeMiB: heapBefore,
    heapAfterMiB: 0,
    rssPeakMiB: 0,
    seconds: 0,
    errorSamples: [],
  };
  const stallTimeout = new Timeout({ connect: 10_000, read: o.readTimeout });
  let next = 0;
  let settled = 0;
  /** Requests in flight when a restart began: their failure is expected. */
  const inFlight = new Set<number>();
  const excused = new Set<number>();
  let restarting: Promise<void> | null = null;
  let lastRestart = Number.NEGATIVE_INFINITY;

  const one = async (id: number): Promise<void> => {
    const fault: Fault | 'none' =
      random() < o.faultRate ? FAULTS[Math.floor(random() * FAULTS.length)]! : 'none';
    // A faulty body has something to cut: with 0 or 1 bytes, "half of it" is nothing, and a
    // stalled empty body is a complete one to the client (while node:http would queue the
    // next request on that connection behind a response it never ended).
    const sizes = fault === 'none' ? SIZES : SIZES.slice(2);
    const size = sizes[Math.floor(random() * sizes.length)]!;
    if (fault !== 'none') result.faultsInjected[fault]++;
    inFlight.add(id);
    const t0 = performance.now();
    try {
      const r = await http.request(
        'GET',
        `${origin}/b/${id}/${size}/${fault}`,
        fault === 'stall' ? { timeout: stallTimeout } : undefined,
      );
      const expected = bodyFor(id, size);
      if (r.status !== 200 || !r.data.equals(expected)) {
        result.wrongBodies++;
        if (result.errorSamples.length < 10) result.errorSamples.push(`wrong body for ${id} (${fault})`);
      } else {
        result.ok++;
        result.bodyBytesChecked += size;
      }
    } catch (err) {
      if (!(err instanceof HTTPError)) result.foreignErrors++;
      // A GOAWAY after a complete answer is not a failure: that request should have succeeded.
      // A connection attempt that met the restart can fail the requests queued for it (HTTP/2
      // shares one connection attempt among them) just after the server is back.
      const metRestart =
        err instanceof HTTPError &&
        err.phase === 'connect' &&
        performance.now() - lastRestart < RESTART_GRACE;
      const expectedFailure = (fault !== 'none' && fault !== 'goaway') || excused.has(id) || metRestart;
      if (expectedFailure) result.failedAsExpected++;
      else {
        result.failedUnexpectedly++;
        if (result.errorSamples.length < 10) {
          result.errorSamples.push(
            `${id} (${fault}, ${size} bytes, after ${Math.round(performance.now() - t0)} ms): ${(err as Error).name}: ${(err as Error).message}`,
          );
        }
      }
    } finally {
      inFlight.delete(id);
      excused.delete(id);
      settled++;
      if (settled % 10_000 === 0) {
        o.progress?.(settled);
        result.rssPeakMiB = Math.max(result.rssPeakMiB, Math.round(process.memoryUsage().rss / 1048576));
      }
    }
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (restarting !== null) await restarting;
      const id = next++;
      if (id >= o.requests) return;
      if (o.restartEvery > 0 && id > 0 && id % o.restartEvery === 0) {
        result.faultsInjected.restart++;
        for (const f of inFlight) excused.add(f);
        restarting = server.restart().finally(() => {
          restarting = null;
          lastRestart = performance.now();
        });
        // This request goes once the server is back; those in flight meet the restart.
        await restarting;
      }
      await one(id);
    }
  };
  // A watchdog: a request that never settles shows up as `lost` instead of a hang.
  const all = Promise.all(Array.from({ length: o.concurrency }, worker));
  const deadline = new Promise<'timeout'>((resolve) => {
    const t = setTimeout(() => resolve('timeout'), Math.max(60_000, o.requests * 5));
    t.unref();
    void all.then(() => clearTimeout(t));
  });
  if ((await Promise.race([all, deadline])) === 'timeout') result.lost = o.requests - settled;
  result.requests = settled;
  await http.close();
  await server.close();
  // Closing completes over a few turns of the event loop.
  for (let i = 0; i < 100; i++) {
    const now = handleCounts();
    let sockets = 0;
    for (const [name, n] of now) if (SOCKET_HANDLES.has(name)) sockets += n - (handlesBefore.get(name) ?? 0);
    if (sockets <= 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const after = handleCounts();
  for (const [name, n] of after) {
    const extra = n - (handlesBefore.get(name) ?? 0);
    if (extra > 0) {
      result.leakedHandles[name] = extra;
      if (SOCKET_HANDLES.has(name)) result.leakedSockets += extra;
    }
  }
  result.heapAfterMiB = heapMiB();
  result.rssPeakMiB = Math.max(result.rssPeakMiB, Math.round(process.memoryUsage().rss / 1048576));
  result.seconds = Math.round((performance.now() - started) / 100) / 10;
  return result;
}
