// By hand, not part of `npm test` (issue 16: "memory while streaming a 1 GiB
// decompression bomb with read(65536) stays within 64 MiB of the baseline"):
// serves a bomb from a raw node:net server and reads it through a pool,
// sampling RSS every 5 ms and after every read.
//
//   node --expose-gc --import tsx test/manual/decompression-bomb-rss.ts <coding> [MiB] [read|stream]
//
// coding: gzip, deflate, br, zstd or 'gzip, br'; MiB: decoded size (1024).

import type net from 'node:net';
import { createServer } from 'node:net';
import { HTTPConnectionPool } from '../../src/index.js';
import { bombs } from '../support/bombs.js';

const encoding = process.argv[2] ?? 'br';
const size = Number(process.argv[3] ?? 1024) * 1024 * 1024;
const mode = process.argv[4] ?? 'read';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const body = (await bombs(size))[encoding];
if (body === undefined) throw new TypeError(`unknown coding ${encoding}`);
const server = createServer((socket) => {
  socket.once('data', () => {
    socket.write(
      `HTTP/1.1 200 OK\r\nContent-Encoding: ${encoding}\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    socket.write(body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const pool = new HTTPConnectionPool('127.0.0.1', {
  port: (server.address() as net.AddressInfo).port,
  retries: false,
});

gc();
await new Promise((resolve) => setTimeout(resolve, 200));
gc();
const baseline = process.memoryUsage().rss;
let peak = baseline;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const timer = setInterval(sample, 5);
const started = Date.now();
const response = await pool.request('GET', '/', { preloadContent: false });
let total = 0;
if (mode === 'stream') {
  for await (const chunk of response.stream(65536)) {
    sample();
    total += chunk.length;
  }
} else {
  for (let chunk = await response.read(65536); chunk.length > 0; chunk = await response.read(65536)) {
    sample();
    total += chunk.length;
  }
}
clearInterval(timer);
const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
console.log(
  `${encoding} (${mode}): ${body.length} encoded bytes -> ${mib(total)} MiB in ${Date.now() - started} ms; ` +
    `RSS baseline ${mib(baseline)} MiB, peak ${mib(peak)} MiB, peak over baseline ${mib(peak - baseline)} MiB`,
);
await pool.close();
server.close();
