// The public surface of urllib3-ts (docs/api.md): everything a user imports comes
// from here. Internals stay unexported.

export { RequestField } from './body/fields.js';
export type { FieldValue, Fields } from './body/fields.js';
export { chooseBoundary, encodeMultipartFormdata } from './body/multipart.js';
export type { UploadProgress } from './connection/session.js';
export {
  HTTPConnection,
  type ConnectionRequestOptions,
  type HTTPConnectionOptions,
} from './connection/connection.js';
export { HTTPSConnection, type HTTPSConnectionOptions } from './connection/https-connection.js';
export { ConnectionInfo, HttpVersion } from './connection/connection-info.js';
export {
  BaseResolver,
  type BaseResolverOptions,
  type ResolvedAddress,
  type ResolveOptions,
} from './dns/resolver.js';
export { SystemResolver } from './dns/system.js';
export { InMemoryResolver, type InMemoryResolverOptions, type InMemoryTable } from './dns/in-memory.js';
export { NullResolver } from './dns/null.js';
export { ManyResolver } from './dns/many.js';
export { QueryResolver, type QueryResolverOptions } from './dns/query-resolver.js';
export { PlainResolver, type PlainResolverOptions } from './dns/dou.js';
export { TLSResolver, type TLSResolverOptions } from './dns/dot.js';
export { QuicResolver, type QuicResolverOptions } from './dns/doq.js';
export {
  type DohClientSettings,
  type DohHttpClient,
  type DohRequest,
  type DohResponse,
  HTTPSResolver,
  type HTTPSResolverOptions,
} from './dns/doh.js';
export { ResolverDescription, type ResolverContext, type ResolverProtocol } from './dns/description.js';
export type { DnsCacheOptions } from './dns/cache.js';
export type { ResolverInput, ResolverSpec } from './dns/resolver-option.js';
export * from './errors.js';
export { RawExtension } from './extension.js';
export { HTTPHeaderDict, type HeadersInit } from './headers.js';
export type { TlsOptions } from './net/tls-options.js';
export type { CertReqs, TlsVersion } from './net/tls-settings.js';
export { createUrllib3Context, Urllib3Context, type Urllib3ContextOptions } from './net/urllib3-context.js';
export { type SocketOptions, type SocketOptionTriple, socketConstants } from './net/socket-options.js';
export { Retry, type RequestHistory, type RetryOptions } from './policies/retry.js';
export { Timeout, type TimeoutOptions } from './policies/timeout.js';
export {
  HTTPConnectionPool,
  HTTPSConnectionPool,
  type HTTPConnectionPoolOptions,
  type HTTPSConnectionPoolOptions,
} from './pool/connection-pool.js';
export { connectionFromUrl } from './pool/connection-from-url.js';
export { PoolManager, type PoolManagerOptions } from './pool/pool-manager.js';
export { request, type TopLevelRequestOptions } from './pool/top-level-request.js';
export {
  EnvProxyManager,
  ProxyManager,
  type ProxyConfig,
  type ProxyManagerOptions,
  proxyFromUrl,
  SOCKSProxyManager,
  type SOCKSProxyManagerOptions,
} from './pool/proxy-manager.js';

export type { PoolKey } from './pool/pool-key.js';
export { RequestMethods, type RequestOptions } from './pool/request-methods.js';
export type { UrlopenOptions } from './pool/urlopen-options.js';
export {
  makeHeaders,
  SKIP_HEADER,
  SKIPPABLE_HEADERS,
  DEFAULT_USER_AGENT,
  VERSION,
} from './request-headers.js';
export { HTTPResponse } from './response.js';
export type { HTTPResponseOptions, ReadOptions } from './response-init.js';
export { ResponsePromise } from './response-promise.js';
export { parseUrl, Url } from './url.js';
export { disableWarnings } from './warnings.js';

// doh:// resolvers go over the library's own pool: registered here, where both layers are loaded.
import './pool/doh-client.js';
