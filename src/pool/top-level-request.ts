// The top-level request(): one module-level PoolManager, like
// urllib3.request(), with a 3000 ms default timeout (urllib3's is 3 s).
// `proxyFromEnv: true` opts a call into the proxies the environment names
// (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) through a module-level
// ProxyManager.fromEnv() manager.

import type { HTTPResponse } from '../response.js';
import { PoolManager } from './pool-manager.js';
import { type EnvProxyManager, ProxyManager } from './proxy-manager.js';
import type { RequestOptions } from './request-methods.js';

let defaultManager: PoolManager | null = null;
let envManager: EnvProxyManager | null = null;

/** The PoolManager behind the top-level request(), created on first use. */
function getDefaultPoolManager(): PoolManager {
  if (defaultManager === null) defaultManager = new PoolManager();
  return defaultManager;
}

export interface TopLevelRequestOptions extends RequestOptions {
  /** Use the proxy the environment names for this URL (read once, on first use). */
  proxyFromEnv?: boolean;
}

/**
 * Make a request through a module-level PoolManager, like urllib3.request().
 * Its timeout defaults to 3000 ms.
 */
export function request(
  method: string,
  url: string,
  options?: TopLevelRequestOptions,
): Promise<HTTPResponse> {
  const { proxyFromEnv, ...rest } = options ?? {};
  const o: RequestOptions = rest;
  if (o.multiplexed === true) {
    return Promise.reject(
      new TypeError(
        'request(): multiplexed needs a PoolManager, whose getResponse() collects the ResponsePromise',
      ),
    );
  }
  if (o.timeout === undefined) o.timeout = 3000;
  if (proxyFromEnv === true) {
    if (envManager === null) envManager = ProxyManager.fromEnv();
    return envManager.request(method, url, o);
  }
  return getDefaultPoolManager().request(method, url, o);
}
