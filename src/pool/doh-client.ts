// DNS over HTTPS through the library's own PoolManager (HTTP/2 by ALPN, the
// resolver's TLS options, source address): the DohHttpClient doh:// resolvers
// use unless given their own. src/dns/ sits below the pool and must not
// import it, so this module registers itself with setDohClientFactory() when
// the package entry point (index.ts) loads it.

import { type DohClientSettings, type DohHttpClient, setDohClientFactory } from '../dns/doh.js';
import { HttpVersion } from '../connection/connection-info.js';
import { ProtocolError } from '../errors.js';
import type { HTTPResponse } from '../response.js';
import { PoolManager } from './pool-manager.js';
import { ProxyManager } from './proxy-manager.js';

const SVN: Record<string, (typeof HttpVersion)[keyof typeof HttpVersion]> = {
  h11: HttpVersion.h11,
  h2: HttpVersion.h2,
  h3: HttpVersion.h3,
};

/**
 * A DNS message is at most 65,535 bytes; its JSON form (rfc8484=false) a few
 * times that. A server sending more is refused once past this, not read to
 * its end into memory.
 */
const MAX_ANSWER_BODY = 256 * 1024;

async function readBounded(res: HTTPResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.stream(-1)) {
    size += chunk.length;
    if (size > MAX_ANSWER_BODY) {
      res.close();
      throw new ProtocolError(`the answer body is larger than ${MAX_ANSWER_BODY} bytes`);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

export function poolManagerDohClient(s: DohClientSettings): DohHttpClient {
  const options = {
    ...s.tls,
    // The DoH server's own name goes through the system resolver: asking the
    // DoH resolver being built would never end.
    resolver: null,
    sourceAddress: s.sourceAddress,
    disabledSvn: new Set(s.disabledSvn.map((v) => SVN[v]).filter((v) => v !== undefined)),
    maxSize: 1,
  };
  const pm =
    s.proxy !== null
      ? new ProxyManager(s.proxy, { ...options, proxyHeaders: s.proxyHeaders })
      : new PoolManager(options);
  return {
    async request(req) {
      const res = await pm.request(req.method, req.url, {
        headers: req.headers,
        body: req.body,
        retries: false,
        redirect: false,
        timeout: s.timeout,
        signal: req.signal,
        preloadContent: false,
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of res.headers.entries()) headers[name.toLowerCase()] = value;
      return { status: res.status, headers, body: await readBounded(res) };
    },
    close: () => pm.close(),
  };
}

setDohClientFactory(poolManagerDohClient);
