// The TLS facts a QUIC binding does not report directly, read from the TLS
// session it keeps for resumption (docs/api.md section 11, `cipher` over
// HTTP/3). quiche hands out that session, once the server sent a ticket, as
// an 8-byte big-endian length, BoringSSL's serialised SSL_SESSION (DER), then
// the peer's transport parameters. The SSL_SESSION starts
//
//   SEQUENCE { version INTEGER (1), sslVersion INTEGER, cipher OCTET STRING (2 bytes), ... }
//
// so the negotiated protocol version and cipher suite are its second and
// third fields. Pure parsing; anything unexpected is "unknown" (null).

/** IANA names of the TLS 1.3 cipher suites (the names Node's getCipher() reports). */
const TLS13_SUITES: Record<number, string> = {
  0x1301: 'TLS_AES_128_GCM_SHA256',
  0x1302: 'TLS_AES_256_GCM_SHA384',
  0x1303: 'TLS_CHACHA20_POLY1305_SHA256',
};

const VERSIONS: Record<number, string> = {
  0x0303: 'TLSv1.2',
  0x0304: 'TLSv1.3',
};

export interface TlsSessionFacts {
  /** 'TLSv1.3' (QUIC is TLS 1.3 only). */
  version: string | null;
  /** The cipher suite, e.g. 'TLS_AES_128_GCM_SHA256'. */
  cipher: string | null;
}

/** One DER element at `at`: its tag, where its contents start, and their length; null if malformed. */
function element(b: Buffer, at: number): { tag: number; start: number; len: number } | null {
  if (at + 2 > b.length) return null;
  const tag = b[at]!;
  let len = b[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > b.length) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[start + i]!;
    start += n;
  }
  if (start + len > b.length) return null;
  return { tag, start, len };
}

function uint(b: Buffer, e: { start: number; len: number }): number {
  let v = 0;
  for (let i = 0; i < e.len; i++) v = v * 256 + b[e.start + i]!;
  return v;
}

/** The version and cipher suite of a quiche session blob; null when it is not one. */
export function tlsSessionFacts(blob: Uint8Array): TlsSessionFacts | null {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 8) return null;
  const declared = b.readBigUInt64BE(0);
  if (declared > BigInt(b.length - 8)) return null;
  const der = b.subarray(8, 8 + Number(declared));
  const seq = element(der, 0);
  if (seq === null || seq.tag !== 0x30) return null;
  const version = element(der, seq.start);
  if (version === null || version.tag !== 0x02 || uint(der, version) !== 1) return null;
  const ssl = element(der, version.start + version.len);
  if (ssl === null || ssl.tag !== 0x02) return null;
  const cipher = element(der, ssl.start + ssl.len);
  if (cipher === null || cipher.tag !== 0x04 || cipher.len !== 2) return null;
  return {
    version: VERSIONS[uint(der, ssl)] ?? null,
    cipher: TLS13_SUITES[uint(der, cipher)] ?? null,
  };
}
