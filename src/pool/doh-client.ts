// DNS over HTTPS through the library's own PoolManager (HTTP/2 by ALPN, the
// resolver's TLS options, source address): the DohHttpClient doh:// resolvers
// use unless given their own. src/dns/ sits below the pool and must not
// import it, so this module registers itself with setDohClientFactory() when
// the package entry point (index.ts) loads it.

import { type DohClientSettings, type DohHttpClient, setDohClientFactory } from '../dns/doh.js';
import { HttpVersion } from '../connection/connection-info.js';
import { PoolManager } from './pool-manager.js';
import { ProxyManager } from './proxy-manager.js';

const SVN: Record<string, (typeof HttpVersion)[keyof typeof HttpVersion]> = {
  h11: HttpVersion.h11,
  h2: HttpVersion.h2,
  h3: HttpVersion.h3,
};

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
      });
      const headers: Record<string, string> = {};
      for (const [name, value] of res.headers.entries()) headers[name.toLowerCase()] = value;
      return { status: res.status, headers, body: res.data };
    },
    close: () => pm.close(),
  };
}

setDohClientFactory(poolManagerDohClient);
