// The trust anchors and the client certificate a TLS leg presents, read from
// the options once for every TLS stack that needs them (Node's TLS over TCP,
// BoringSSL under QUIC): the CA options and an urllib3 context's own CAs, and
// certFile/keyFile, certData/keyData or the context's loaded chain
// (docs/api.md section 7; over QUIC, section 9).

import { certToPem, keyToPem, needKeyIn, readOrFail } from './pem.js';
import type { TlsOptions } from './tls-options.js';
import { loadCaPems } from './trust-store.js';
import type { Urllib3Context } from './urllib3-context.js';

/** The CA certificates the options name (PEM), or null when they name none: the default trust applies. */
export function explicitTrust(o: TlsOptions, u3: Urllib3Context | null): string[] | null {
  const given = o.caCerts || o.caCertDir || (o.caCertData !== undefined && o.caCertData !== null);
  if (!given && !(u3 && u3._caPems.length > 0)) return null;
  return [
    ...(u3?._caPems ?? []),
    ...loadCaPems(o.caCerts ?? null, o.caCertDir ?? null, o.caCertData ?? null, 'TLS'),
  ];
}

export interface ClientCertificate {
  cert: Buffer | null;
  key: Buffer | null;
  passphrase: string | null;
}

/** The client certificate and key the options give, if any. */
export function clientCertificate(o: TlsOptions, u3: Urllib3Context | null): ClientCertificate {
  let passphrase = o.keyPassword ?? null;
  if (o.certFile) {
    const cert = readOrFail(o.certFile, 'certFile');
    const key = o.keyFile
      ? readOrFail(o.keyFile, 'keyFile')
      : needKeyIn(cert, `certFile ${o.certFile}`, 'keyFile');
    return { cert, key, passphrase };
  }
  if (o.certData !== undefined && o.certData !== null) {
    const cert = certToPem(o.certData);
    const key =
      o.keyData !== undefined && o.keyData !== null
        ? keyToPem(o.keyData, passphrase)
        : needKeyIn(cert, 'certData', 'keyData');
    return { cert, key, passphrase };
  }
  if (u3?._certChain) {
    const { cert, key } = u3._certChain;
    passphrase = u3._certChain.passphrase;
    return { cert, key, passphrase };
  }
  return { cert: null, key: null, passphrase };
}
