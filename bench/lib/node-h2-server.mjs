#!/usr/bin/env node
// The fallback HTTP/2 benchmark server, used when nginx is not installed: a
// node:http2 secure server (TLS, ALPN h2 only) in a process of its own,
// pinned to the server core by the caller. It answers the small file, the
// 1 MiB file of the download workload and /__stats (sessions accepted so
// far). Like node-server.mjs for HTTP/1.1, it
// tops out far below nginx, so with it the HTTP/2 numbers measure the server
// more than the clients.
//
// Usage: node node-h2-server.mjs PORT CERT_FILE KEY_FILE MAX_CONCURRENT_STREAMS

import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { H2_DOWNLOAD_SIZE, PATHS, patternBlock, SMALL_BODY } from './payloads.mjs';

const port = Number(process.argv[2]);
const cert = readFileSync(process.argv[3]);
const key = readFileSync(process.argv[4]);
const maxConcurrentStreams = Number(process.argv[5] ?? 128);

let accepted = 0;

// The same bytes as nginx's file (servers.mjs writeBigFile writes the same block).
const mib = patternBlock(H2_DOWNLOAD_SIZE);

const server = http2.createSecureServer({
  cert,
  key,
  allowHTTP1: false,
  settings: { maxConcurrentStreams },
  // One connection carries every request of the workload: no per-session cap.
  peerMaxConcurrentStreams: maxConcurrentStreams,
});
server.on('session', () => {
  accepted++;
});
server.on('stream', (stream, headers) => {
  const target = headers[':path'] ?? '/';
  if (target === PATHS.small) {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'content-length': SMALL_BODY.length });
    stream.end(SMALL_BODY);
    return;
  }
  if (target === PATHS.mib) {
    stream.respond({
      ':status': 200,
      'content-type': 'application/octet-stream',
      'content-length': mib.length,
    });
    stream.end(mib);
    return;
  }
  if (target === '/__stats') {
    const body = JSON.stringify({ accepted });
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': body.length });
    stream.end(body);
    return;
  }
  stream.respond({ ':status': 404, 'content-length': 0 });
  stream.end();
});
server.on('sessionError', () => {});
server.setTimeout(0);
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
