// Sans-IO SOCKS client handshakes: SOCKS4 (RFC-less, the NEC protocol),
// SOCKS4a (host names resolved by the proxy), SOCKS5 (RFC 1928) with
// username/password authentication (RFC 1929). Bytes in, bytes out: the
// caller writes `start()`'s bytes, feeds every reply chunk to `feed()`, writes
// what it returns, and stops when it reports `done` (any bytes past the
// handshake are returned as `leftover`: they already belong to the tunnel).
//
// Written here rather than taken from a package: the protocol is a few dozen
// bytes each way, and a sans-IO state machine tests byte by byte like the
// HTTP/1.1 codec, with no socket or timer of its own.

import { isIP } from 'node:net';
import { SocksError } from '../errors.js';

export type SocksVersion = 'socks4' | 'socks4a' | 'socks5' | 'socks5h';

export interface SocksTarget {
  /** Destination host: an IP literal, or a name (resolved by the proxy for socks4a/socks5h). */
  host: string;
  port: number;
}

export interface SocksCredentials {
  username: string | null;
  password: string | null;
}

export interface FeedResult {
  /** Bytes to write to the proxy now (may be empty). */
  send: Buffer | null;
  /** The tunnel is open. */
  done: boolean;
  /** Bytes received past the end of the handshake. */
  leftover: Buffer | null;
}

const SOCKS4_REPLIES: Record<number, string> = {
  0x5a: 'request granted',
  0x5b: 'request rejected or failed',
  0x5c: 'request rejected: the proxy could not reach the client identd',
  0x5d: 'request rejected: identd reported a different user id',
};

const SOCKS5_REPLIES: Record<number, string> = {
  0x00: 'succeeded',
  0x01: 'general SOCKS server failure',
  0x02: 'connection not allowed by ruleset',
  0x03: 'network unreachable',
  0x04: 'host unreachable',
  0x05: 'connection refused',
  0x06: 'TTL expired',
  0x07: 'command not supported',
  0x08: 'address type not supported',
};

function encodeIPv4(ip: string): Buffer {
  return Buffer.from(ip.split('.').map((p) => Number(p)));
}

function encodeIPv6(ip: string): Buffer {
  // Expand '::' and any embedded IPv4 tail into eight 16-bit groups.
  let text = ip;
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const r = rest !== undefined && rest !== '' ? rest.split(':') : [];
  const fill = rest === undefined ? [] : new Array<string>(8 - h.length - r.length).fill('0');
  const groups = [...h, ...fill, ...r].map((g) => Number.parseInt(g, 16));
  if (tail.length) groups.splice(6, 2, ...tail);
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}

function portBytes(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(port, 0);
  return b;
}

/** One SOCKS handshake. */
export class SocksHandshake {
  private readonly version: SocksVersion;
  private readonly target: SocksTarget;
  private readonly creds: SocksCredentials;
  private state: 'new' | 'greeting' | 'auth' | 'connect' | 'done' = 'new';
  private pending: Buffer = Buffer.alloc(0);
  private readonly label: string;

  constructor(version: SocksVersion, target: SocksTarget, creds: SocksCredentials, label = 'SOCKS proxy') {
    this.version = version;
    this.target = target;
    this.creds = creds;
    this.label = label;
    if (!Number.isInteger(target.port) || target.port < 0 || target.port > 65535) {
      throw new TypeError(`SOCKS: invalid destination port ${target.port}`);
    }
    if (version === 'socks4' && isIP(target.host) !== 4) {
      throw new TypeError(
        `SOCKS4 can only reach IPv4 addresses, got '${target.host}'; resolve it first or use socks4a/socks5h`,
      );
    }
    if ((version === 'socks5' || version === 'socks5h') && creds.username !== null) {
      if (Buffer.byteLength(creds.username) > 255 || Buffer.byteLength(creds.password ?? '') > 255) {
        throw new TypeError('SOCKS5: username and password must be at most 255 bytes each');
      }
    }
  }

  /** The first bytes to send. */
  start(): Buffer {
    if (this.state !== 'new') throw new Error('SocksHandshake.start() called twice');
    if (this.version === 'socks4' || this.version === 'socks4a') {
      this.state = 'connect';
      const user = Buffer.from(this.creds.username ?? '', 'utf8');
      const ip = isIP(this.target.host) === 4 ? encodeIPv4(this.target.host) : Buffer.from([0, 0, 0, 1]);
      const parts = [Buffer.from([0x04, 0x01]), portBytes(this.target.port), ip, user, Buffer.from([0])];
      if (isIP(this.target.host) !== 4) parts.push(Buffer.from(this.target.host, 'utf8'), Buffer.from([0]));
      return Buffer.concat(parts);
    }
    this.state = 'greeting';
    const methods = this.creds.username !== null ? [0x00, 0x02] : [0x00];
    return Buffer.from([0x05, methods.length, ...methods]);
  }

  /** Feed reply bytes from the proxy. */
  feed(data: Buffer): FeedResult {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    switch (this.state) {
      case 'connect':
        return this.version === 'socks4' || this.version === 'socks4a'
          ? this.socks4Reply()
          : this.socks5Reply();
      case 'greeting':
        return this.socks5Greeting();
      case 'auth':
        return this.socks5Auth();
      default:
        throw new SocksError(`${this.label}: unexpected bytes from the proxy`, null);
    }
  }

  private need(n: number): boolean {
    return this.pending.length >= n;
  }

  private consume(n: number): Buffer {
    const out = this.pending.subarray(0, n);
    this.pending = this.pending.subarray(n);
    return out;
  }

  private finish(): FeedResult {
    this.state = 'done';
    const leftover = this.pending.length > 0 ? this.pending : null;
    this.pending = Buffer.alloc(0);
    return { send: null, done: true, leftover };
  }

  private socks4Reply(): FeedResult {
    if (!this.need(8)) return { send: null, done: false, leftover: null };
    const reply = this.consume(8);
    if (reply[0] !== 0x00) {
      throw new SocksError(`${this.label}: invalid SOCKS4 reply (version byte ${reply[0]})`, null);
    }
    const code = reply[1]!;
    if (code !== 0x5a) {
      const what = SOCKS4_REPLIES[code] ?? `unknown reply code 0x${code.toString(16)}`;
      throw new SocksError(
        `${this.label}: SOCKS4 connect to ${this.target.host}:${this.target.port} failed: ${what} (0x${code.toString(16)})`,
        code,
      );
    }
    return this.finish();
  }

  private socks5Greeting(): FeedResult {
    if (!this.need(2)) return { send: null, done: false, leftover: null };
    const [ver, method] = this.consume(2);
    if (ver !== 0x05) throw new SocksError(`${this.label}: not a SOCKS5 proxy (reply version ${ver})`, null);
    if (method === 0xff) {
      throw new SocksError(
        `${this.label}: the SOCKS5 proxy accepted none of our authentication methods` +
          (this.creds.username === null ? ' (it probably needs a username and password)' : ''),
        0xff,
      );
    }
    if (method === 0x02) {
      if (this.creds.username === null) {
        throw new SocksError(`${this.label}: the SOCKS5 proxy asked for a password we did not offer`, null);
      }
      this.state = 'auth';
      const u = Buffer.from(this.creds.username, 'utf8');
      const p = Buffer.from(this.creds.password ?? '', 'utf8');
      return {
        send: Buffer.concat([Buffer.from([0x01, u.length]), u, Buffer.from([p.length]), p]),
        done: false,
        leftover: null,
      };
    }
    if (method !== 0x00) {
      throw new SocksError(
        `${this.label}: the SOCKS5 proxy chose an unsupported method 0x${method!.toString(16)}`,
        null,
      );
    }
    return this.sendConnect();
  }

  private socks5Auth(): FeedResult {
    if (!this.need(2)) return { send: null, done: false, leftover: null };
    const [, status] = this.consume(2);
    if (status !== 0x00) {
      throw new SocksError(
        `${this.label}: SOCKS5 authentication failed: username/password rejected (status 0x${status!.toString(16)})`,
        status!,
      );
    }
    return this.sendConnect();
  }

  private sendConnect(): FeedResult {
    this.state = 'connect';
    const host = this.target.host;
    const family = isIP(host);
    let addr: Buffer;
    if (family === 4) addr = Buffer.concat([Buffer.from([0x01]), encodeIPv4(host)]);
    else if (family === 6) addr = Buffer.concat([Buffer.from([0x04]), encodeIPv6(host)]);
    else {
      const name = Buffer.from(host, 'utf8');
      if (name.length > 255) throw new TypeError(`SOCKS5: host name too long (${name.length} bytes)`);
      addr = Buffer.concat([Buffer.from([0x03, name.length]), name]);
    }
    const send = Buffer.concat([Buffer.from([0x05, 0x01, 0x00]), addr, portBytes(this.target.port)]);
    // A reply may already be buffered (a proxy answering everything at once).
    if (this.pending.length > 0) {
      const r = this.socks5Reply();
      return { ...r, send };
    }
    return { send, done: false, leftover: null };
  }

  private socks5Reply(): FeedResult {
    if (!this.need(5)) return { send: null, done: false, leftover: null };
    const p = this.pending;
    if (p[0] !== 0x05)
      throw new SocksError(`${this.label}: invalid SOCKS5 reply (version byte ${p[0]})`, null);
    const rep = p[1]!;
    if (rep !== 0x00) {
      const what = SOCKS5_REPLIES[rep] ?? `unknown reply code 0x${rep.toString(16)}`;
      throw new SocksError(
        `${this.label}: SOCKS5 connect to ${this.target.host}:${this.target.port} failed: ${what} (0x${rep.toString(16)})`,
        rep,
      );
    }
    const atyp = p[3];
    let len: number;
    if (atyp === 0x01) len = 4 + 4 + 2;
    else if (atyp === 0x04) len = 4 + 16 + 2;
    else if (atyp === 0x03) len = 4 + 1 + p[4]! + 2;
    else throw new SocksError(`${this.label}: invalid SOCKS5 reply address type ${atyp}`, null);
    if (!this.need(len)) return { send: null, done: false, leftover: null };
    this.consume(len);
    return this.finish();
  }
}
