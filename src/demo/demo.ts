// `npm run demo`: a guided tour of urllib3-ts against an HTTP server embedded
// in this process on a loopback ephemeral port. No network needed.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPConnectionPool, PoolManager, ReadTimeoutError, MaxRetryError, Retry } from '../index.js';

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://demo.local');
  const body = await readBody(req);
  const json = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  switch (url.pathname) {
    case '/robots.txt':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('User-agent: *\nDisallow: /deny\n');
      return;
    case '/json':
      return json(200, { slideshow: { title: 'Sample Slide Show', slides: 2 } });
    case '/get':
      return json(200, { args: Object.fromEntries(url.searchParams), headers: req.headers });
    case '/post':
      return json(200, {
        contentType: req.headers['content-type'],
        bodyBytes: body.length,
        bodyStart: body.subarray(0, 120).toString('latin1'),
      });
    case '/download': {
      const total = 4 * 1024 * 1024;
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      const piece = Buffer.alloc(64 * 1024, 0x61);
      let sent = 0;
      const pump = () => {
        while (sent < total) {
          sent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    case '/slow':
      // Answers after 2 s: longer than the demo's read timeout.
      setTimeout(() => json(200, { late: true }), 2000).unref();
      return;
    default:
      return json(404, { error: 'not found' });
  }
}

function log(title: string, ...lines: string[]): void {
  console.log(`\n== ${title}`);
  for (const l of lines) console.log(`   ${l}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  let tcpConnections = 0;
  server.on('connection', () => tcpConnections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  console.log(`urllib3-ts demo: embedded server at ${base}`);

  await using http = new PoolManager();

  // 1. Making a request
  let r = await http.request('GET', `${base}/robots.txt`);
  log(
    'GET /robots.txt',
    `status ${r.status} ${r.reason}`,
    `content-type ${r.headers.get('content-type')}`,
    `data ${JSON.stringify(r.data.toString())}`,
  );

  // 2. JSON
  r = await http.request('GET', `${base}/json`);
  log('JSON', `r.json() -> ${JSON.stringify(r.json())}`);

  // 3. Query parameters from fields
  r = await http.request('GET', `${base}/get`, { fields: { arg: 'value', q: 'a b' } });
  log(
    'Query fields',
    `sent to ${r.url}`,
    `server saw args ${JSON.stringify((r.json() as { args: unknown }).args)}`,
  );

  // 4. Form data: urlencoded and multipart with a file
  r = await http.request('POST', `${base}/post`, { fields: { field: 'value' }, encodeMultipart: false });
  log('Form (urlencoded)', JSON.stringify(r.json()));
  r = await http.request('POST', `${base}/post`, {
    fields: { note: 'hello', filefield: ['example.txt', 'contents of the file'] },
  });
  const mp = r.json() as { contentType: string; bodyBytes: number };
  log('Multipart upload', `content-type ${mp.contentType}`, `${mp.bodyBytes} bytes sent`);

  // 5. JSON request body
  r = await http.request('POST', `${base}/post`, { json: { attribute: 'value' } });
  log('JSON body', JSON.stringify(r.json()));

  // 6. Streaming a download in chunks
  const stream = await http.request('GET', `${base}/download`, { preloadContent: false });
  let chunks = 0;
  let bytes = 0;
  for await (const chunk of stream.stream(256 * 1024)) {
    chunks++;
    bytes += chunk.length;
  }
  stream.releaseConn();
  log('Streamed download', `${bytes} bytes in ${chunks} chunks of up to 256 KiB, never all in memory`);

  // 7. One pool, 100 requests, connections reused
  const before = tcpConnections;
  await using pool = new HTTPConnectionPool('127.0.0.1', { port, maxSize: 1 });
  for (let i = 0; i < 100; i++) await pool.request('GET', `/get?i=${i}`);
  log(
    'Connection pooling',
    `100 requests opened ${tcpConnections - before} TCP connection(s) (pool.numConnections = ${pool.numConnections})`,
  );

  // 8. Timeouts
  try {
    await http.request('GET', `${base}/slow`, { timeout: 300, retries: false });
  } catch (err) {
    if (err instanceof ReadTimeoutError) log('Timeout', `caught ReadTimeoutError: ${err.message}`);
    else throw err;
  }
  try {
    await http.request('GET', `${base}/slow`, { timeout: 200, retries: new Retry({ total: 1 }) });
  } catch (err) {
    if (err instanceof MaxRetryError)
      log('Timeout with retries', `caught MaxRetryError, reason: ${err.reason?.name}`);
    else throw err;
  }

  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  console.log(`\nDone in ${Date.now() - started} ms.`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
