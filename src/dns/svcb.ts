// SVCB and HTTPS record data (RFC 9460 section 2.2): priority, target name
// and the SvcParams a client acts on (alpn, no-default-alpn, port, address
// hints, ech kept as bytes). Sans-IO, called by message.ts with a reader
// positioned at the record data. Keys must come in strictly increasing order
// and values must have their exact lengths (section 2.2: otherwise the
// record is malformed); unknown keys are skipped.

import { DnsMessageError } from '../errors.js';
import { formatIPv6, type WireReader } from './wire.js';

export interface SvcbData {
  kind: 'svcb';
  /** 0 = AliasMode, otherwise ServiceMode priority (lower first). */
  priority: number;
  /** "" is the root, meaning the owner name itself (section 2.5). */
  target: string;
  /** ALPN protocol ids from the alpn key, or [] when absent. */
  alpn: string[];
  noDefaultAlpn: boolean;
  port: number | null;
  ipv4Hints: string[];
  ipv6Hints: string[];
  ech: Uint8Array | null;
}

const KEY_MANDATORY = 0;
const KEY_ALPN = 1;
const KEY_NO_DEFAULT_ALPN = 2;
const KEY_PORT = 3;
const KEY_IPV4HINT = 4;
const KEY_ECH = 5;
const KEY_IPV6HINT = 6;

export function decodeSvcb(r: WireReader, end: number): SvcbData {
  const priority = r.u16('SVCB priority');
  const target = r.name('SVCB target', false);
  if (r.offset > end) throw new DnsMessageError('SVCB target runs past its record', r.offset);
  const out: SvcbData = {
    kind: 'svcb',
    priority,
    target,
    alpn: [],
    noDefaultAlpn: false,
    port: null,
    ipv4Hints: [],
    ipv6Hints: [],
    ech: null,
  };
  let lastKey = -1;
  while (r.offset < end) {
    const key = r.u16('SvcParamKey');
    const len = r.u16('SvcParam length');
    if (key <= lastKey) throw new DnsMessageError('SvcParam keys are not in increasing order', r.offset - 4);
    lastKey = key;
    if (r.offset + len > end) throw new DnsMessageError('SvcParam value runs past its record', r.offset);
    const value = r.bytes(len, 'SvcParam value');
    switch (key) {
      case KEY_MANDATORY:
        if (len === 0 || len % 2 !== 0) throw new DnsMessageError('malformed SVCB mandatory key list');
        break;
      case KEY_ALPN:
        out.alpn = decodeAlpn(value);
        break;
      case KEY_NO_DEFAULT_ALPN:
        if (len !== 0) throw new DnsMessageError('SVCB no-default-alpn has a value');
        out.noDefaultAlpn = true;
        break;
      case KEY_PORT:
        if (len !== 2) throw new DnsMessageError('SVCB port is not 2 bytes');
        out.port = (value[0]! << 8) | value[1]!;
        break;
      case KEY_IPV4HINT:
        if (len === 0 || len % 4 !== 0) throw new DnsMessageError('SVCB ipv4hint is not a list of addresses');
        for (let i = 0; i < len; i += 4)
          out.ipv4Hints.push(`${value[i]}.${value[i + 1]}.${value[i + 2]}.${value[i + 3]}`);
        break;
      case KEY_ECH:
        out.ech = value;
        break;
      case KEY_IPV6HINT:
        if (len === 0 || len % 16 !== 0)
          throw new DnsMessageError('SVCB ipv6hint is not a list of addresses');
        for (let i = 0; i < len; i += 16) out.ipv6Hints.push(formatIPv6(value.subarray(i, i + 16)));
        break;
      default:
        break; // unknown keys are ignored unless mandatory; this client acts on none of them
    }
  }
  return out;
}

function decodeAlpn(value: Uint8Array): string[] {
  const ids: string[] = [];
  let i = 0;
  if (value.length === 0) throw new DnsMessageError('SVCB alpn is empty');
  while (i < value.length) {
    const len = value[i]!;
    if (len === 0 || i + 1 + len > value.length) throw new DnsMessageError('malformed SVCB alpn list');
    ids.push(Buffer.from(value.subarray(i + 1, i + 1 + len)).toString('latin1'));
    i += 1 + len;
  }
  return ids;
}
