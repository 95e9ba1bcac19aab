// A minimal DohHttpClient over node:http2 for the DoH tests (one session per
// origin, kept open), standing in for the PoolManager-backed client the pool
// layer registers: the tests exercise the resolver, not the pool.

import http2 from 'node:http2';
import type { DohHttpClient, DohRequest, DohResponse } from '../../src/dns/doh.js';

export interface TestDohClient extends DohHttpClient {
  sessionsOpened: number;
  requests: DohRequest[];
}

export function http2DohClient(ca: string): TestDohClient {
  const sessions = new Map<string, http2.ClientHttp2Session>();
  const client: TestDohClient = {
    sessionsOpened: 0,
    requests: [],
    async request(req: DohRequest): Promise<DohResponse> {
      client.requests.push(req);
      const url = new URL(req.url);
      let session = sessions.get(url.origin);
      if (session === undefined || session.closed || session.destroyed) {
        session = http2.connect(url.origin, { ca });
        session.on('error', () => {});
        sessions.set(url.origin, session);
        client.sessionsOpened++;
      }
      const stream = session.request(
        { ':method': req.method, ':path': url.pathname + url.search, ...req.headers },
        { endStream: req.body === null, signal: req.signal },
      );
      if (req.body !== null) stream.end(req.body);
      return new Promise<DohResponse>((resolve, reject) => {
        let headers: http2.IncomingHttpHeaders = {};
        const chunks: Buffer[] = [];
        stream.on('response', (h) => {
          headers = h;
        });
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () =>
          resolve({
            status: Number(headers[':status']),
            headers: headers as Record<string, string>,
            body: Buffer.concat(chunks),
          }),
        );
        stream.on('error', reject);
      });
    },
    async close() {
      for (const s of sessions.values()) s.close();
      sessions.clear();
    },
  };
  return client;
}
