// The DohHttpClient the pool layer is meant to register with
// setDohClientFactory(): DoH queries through the library's own PoolManager
// (HTTP/2 by ALPN, the resolver's TLS options, source address). It lives
// here, under test/, only until the integrator moves it to
// src/pool/doh-client.ts (src/dns/ must not import the pool: see doh.ts);
// the unbound tests use it to prove DoH works over the library's pool.

import type { DohClientSettings, DohHttpClient } from '../../src/dns/doh.js';
import { HttpVersion } from '../../src/connection/connection-info.js';
import { PoolManager } from '../../src/pool/pool-manager.js';
import { ProxyManager } from '../../src/pool/proxy-manager.js';

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
