// The provider shortcuts of urllib3-future's resolver URLs (`doh+cloudflare://`,
// `dot+quad9://`, `dou+google://` ...): what each expands to. Public, well
// known endpoints; the tests check the expansion and never contact them.

export interface ProviderEndpoints {
  dou?: { server: string };
  dot?: { server: string };
  doh?: { server: string; path: string };
  doq?: { server: string };
}

export const PROVIDERS: Readonly<Record<string, ProviderEndpoints>> = {
  cloudflare: {
    dou: { server: '1.1.1.1' },
    dot: { server: 'one.one.one.one' },
    doh: { server: 'cloudflare-dns.com', path: '/dns-query' },
  },
  google: {
    dou: { server: '8.8.8.8' },
    dot: { server: 'dns.google' },
    doh: { server: 'dns.google', path: '/dns-query' },
  },
  quad9: {
    dou: { server: '9.9.9.9' },
    dot: { server: 'dns.quad9.net' },
    doh: { server: 'dns.quad9.net', path: '/dns-query' },
  },
  adguard: {
    dou: { server: '94.140.14.140' },
    dot: { server: 'unfiltered.adguard-dns.com' },
    doh: { server: 'unfiltered.adguard-dns.com', path: '/dns-query' },
    doq: { server: 'unfiltered.adguard-dns.com' },
  },
  opendns: {
    dou: { server: '208.67.222.222' },
    dot: { server: 'dns.opendns.com' },
    doh: { server: 'doh.opendns.com', path: '/dns-query' },
  },
  nextdns: {
    doh: { server: 'dns.nextdns.io', path: '/dns-query' },
    doq: { server: 'dns.nextdns.io' },
  },
};

/** The JSON endpoints, for `rfc8484=false` where the provider offers the JSON form. */
export const JSON_PATHS: Readonly<Record<string, string>> = {
  google: '/resolve',
  cloudflare: '/dns-query',
};
