#!/usr/bin/env node
// The fallback benchmark server, used when nginx is not installed: the same
// paths as the nginx configuration in servers.mjs, in a process of its own
// (pinned to its own core by the caller). node:http on one core tops out far
// below nginx, so with this server the higher-concurrency numbers measure the
// server more than the clients; BENCHMARKS.md says so.
//
// Usage: node node-server.mjs PORT DOWNLOAD_MIB

import http from 'node:http';
import { JSON_RESPONSE, MiB, PATHS, patternBlock, SMALL_BODY, WARM_DOWNLOAD_MIB } from './payloads.mjs';

const port = Number(process.argv[2]);
const downloadMiB = Number(process.argv[3] ?? 256);

const block = patternBlock(MiB);

let accepted = 0;

const smallHeaders = { 'content-type': 'text/plain', 'content-length': SMALL_BODY.length };
const jsonHeaders = { 'content-type': 'application/json', 'content-length': JSON_RESPONSE.length };

function sendBlocks(res, mib) {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': mib * MiB });
  let left = mib;
  const pump = () => {
    while (left > 0) {
      left--;
      if (!res.write(block)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

const server = http.createServer(
  { keepAliveTimeout: 600_000, requestTimeout: 0, headersTimeout: 60_000 },
  (req, res) => {
    const url = req.url ?? '/';
    if (req.method === 'POST' && url === PATHS.json) {
      // Read (and drop) the whole body before answering, as a real endpoint would.
      req.on('data', () => {});
      req.on('end', () => {
        res.writeHead(200, jsonHeaders);
        res.end(JSON_RESPONSE);
      });
      return;
    }
    if (url === PATHS.small || url.startsWith(PATHS.distinct)) {
      res.writeHead(200, smallHeaders);
      res.end(SMALL_BODY);
      return;
    }
    if (url === PATHS.big) return sendBlocks(res, downloadMiB);
    if (url === PATHS.warm) return sendBlocks(res, WARM_DOWNLOAD_MIB);
    if (url === '/__stats') {
      const body = JSON.stringify({ accepted });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      res.end(body);
      return;
    }
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  },
);
server.maxRequestsPerSocket = 0;
server.on('connection', () => {
  accepted++;
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
