// Seeds the fuzz corpus (test/fuzz/corpus/h1/) with real HTTP/1.1 responses:
// raw bytes as nginx and httpbin (gunicorn) from Debian and node:http send
// them, captured over a plain socket. Run it again to refresh the seeds:
//   node --import tsx scripts/fuzz-corpus.ts
// Servers whose binary is missing are skipped with a message.

import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { hasBinary, startHttpbin, startNginx } from '../test/support/real-servers.js';

const OUT = join(import.meta.dirname, '..', 'test', 'fuzz', 'corpus', 'h1');
/** Seeds stay small: the fuzzer mutates them, it does not need 1 MiB bodies. */
const MAX = 16 * 1024;

function capture(port: number, request: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    socket.on('data', (d: Buffer) => parts.push(d));
    socket.on('error', reject);
    socket.on('end', () => resolve(Buffer.concat(parts).subarray(0, MAX)));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no answer to ${request.split('\r\n')[0]}`)));
  });
}

function req(method: string, path: string, extra: string[] = [], body = ''): string {
  const head = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', 'Connection: close', ...extra];
  if (body !== '') head.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

async function save(name: string, port: number, request: string): Promise<void> {
  const bytes = await capture(port, request);
  writeFileSync(join(OUT, `${name}.http`), bytes);
  console.log(`${name}: ${bytes.length} bytes`);
}

mkdirSync(OUT, { recursive: true });

if (hasBinary('nginx')) {
  const nginx = await startNginx();
  try {
    const p = nginx.port;
    await save('nginx-small', p, req('GET', '/small.txt'));
    await save('nginx-gzip', p, req('GET', '/text.txt', ['Accept-Encoding: gzip']));
    await save('nginx-chunked', p, req('GET', '/chunked'));
    await save('nginx-trailers', p, req('GET', '/trailers', ['TE: trailers']));
    await save('nginx-404', p, req('GET', '/status/404'));
    await save('nginx-redirect', p, req('GET', '/redirect'));
    await save('nginx-head', p, req('HEAD', '/small.txt'));
    await save('nginx-json', p, req('GET', '/data.json', ['Accept-Encoding: gzip']));
    await save('nginx-range', p, req('GET', '/text.txt', ['Range: bytes=10-99']));
    await save(
      'nginx-not-modified',
      p,
      req('GET', '/small.txt', ['If-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT']),
    );
  } finally {
    await nginx.stop();
  }
} else {
  console.log('nginx: not installed, skipped');
}

if (hasBinary('gunicorn')) {
  const httpbin = await startHttpbin();
  try {
    const p = httpbin.port;
    await save('httpbin-get', p, req('GET', '/get?a=1&b=2'));
    await save('httpbin-gzip', p, req('GET', '/gzip'));
    await save('httpbin-deflate', p, req('GET', '/deflate'));
    await save('httpbin-brotli', p, req('GET', '/brotli'));
    await save('httpbin-post', p, req('POST', '/post', ['Content-Type: application/json'], '{"x":1}'));
    await save('httpbin-stream', p, req('GET', '/stream/5'));
    await save('httpbin-cookies', p, req('GET', '/cookies/set?k=v'));
    await save('httpbin-status-418', p, req('GET', '/status/418'));
    await save('httpbin-headers', p, req('GET', '/response-headers?X-A=1&X-A=2'));
  } finally {
    await httpbin.stop();
  }
} else {
  console.log('gunicorn (httpbin): not installed, skipped');
}

// node:http: interim responses, trailers, chunked gzip.
const server = http.createServer((request, response) => {
  switch (request.url) {
    case '/early-hints':
      response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
      response.end('after hints');
      return;
    case '/continue':
      response.writeContinue();
      response.end('continued');
      return;
    case '/trailers':
      response.writeHead(200, { 'Content-Type': 'text/plain', Trailer: 'X-Checksum' });
      response.write('part one, ');
      response.addTrailers({ 'X-Checksum': 'abc123' });
      response.end('part two');
      return;
    case '/gzip-chunked': {
      response.writeHead(200, { 'Content-Encoding': 'gzip', 'Transfer-Encoding': 'chunked' });
      const gz = zlib.createGzip();
      gz.pipe(response);
      gz.end('hello '.repeat(200));
      return;
    }
    default:
      response.writeHead(204);
      response.end();
  }
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as net.AddressInfo).port;
await save('node-early-hints', port, req('GET', '/early-hints'));
await save('node-continue', port, req('POST', '/continue', ['Expect: 100-continue'], 'x'));
await save('node-trailers', port, req('GET', '/trailers'));
await save('node-gzip-chunked', port, req('GET', '/gzip-chunked'));
await save('node-204', port, req('GET', '/nothing'));
server.close();
