// How heads, JSON bodies and the -v timing line look on screen. Pure string
// building: the caller decides where it goes and whether it is coloured.

import { type ConnectionInfo, type HTTPHeaderDict, SKIP_HEADER } from '../index.js';
import type { Paint } from './colors.js';

function headerLines(headers: HTTPHeaderDict, paint: Paint): string {
  let out = '';
  for (const [name, value] of headers.items()) out += `${paint('cyan', name)}: ${value}\n`;
  return out;
}

function statusColor(status: number): 'green' | 'yellow' | 'red' {
  return status >= 400 ? 'red' : status >= 300 ? 'yellow' : 'green';
}

export function formatResponseHead(
  r: { versionString: string; status: number; reason: string | null; headers: HTTPHeaderDict },
  paint: Paint,
): string {
  const line = `${r.versionString} ${r.status}${r.reason ? ` ${r.reason}` : ''}`;
  return `${paint('bold', paint(statusColor(r.status), line))}\n${headerLines(r.headers, paint)}`;
}

export function formatRequestHead(
  method: string,
  url: string,
  headers: HTTPHeaderDict,
  bodyLength: number | null,
  paint: Paint,
): string {
  const u = new URL(url);
  let out = `${paint('bold', `${method} ${u.pathname}${u.search}`)}\n`;
  if (!headers.has('Host')) out += `${paint('cyan', 'Host')}: ${u.host}\n`;
  for (const [name, value] of headers.items()) {
    if (value === SKIP_HEADER) continue;
    out += `${paint('cyan', name)}: ${value}\n`;
  }
  if (bodyLength !== null) out += `${paint('cyan', 'Content-Length')}: ${bodyLength}\n`;
  return out;
}

function ms(n: number): string {
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ms`;
}

/** `* dns 1.2 ms · connect 0.4 ms · tls 6 ms · first byte 9 ms · total 12 ms (HTTP/1.1 127.0.0.1:80)` */
export function formatTiming(
  info: ConnectionInfo | null,
  firstByteMs: number,
  totalMs: number,
  paint: Paint,
): string {
  const parts: string[] = [];
  if (info !== null) {
    parts.push(`dns ${ms(info.resolutionLatency)}`, `connect ${ms(info.establishedLatency)}`);
    if (info.isEncrypted()) parts.push(`tls ${ms(info.tlsHandshakeLatency)}`);
  }
  parts.push(`first byte ${ms(firstByteMs)}`, `total ${ms(totalMs)}`);
  const facts: string[] = [];
  if (info !== null) {
    facts.push(info.httpVersion);
    if (info.destinationAddress !== null) {
      const [ip, port] = info.destinationAddress;
      facts.push(ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
    }
    if (info.tlsVersion !== null) facts.push(`${info.tlsVersion} ${info.cipher ?? ''}`.trim());
  }
  return paint('dim', `* ${parts.join(' · ')}${facts.length ? ` (${facts.join(', ')})` : ''}`) + '\n';
}

/** JSON, indented or not, keys and values coloured by kind (when `paint` colours). */
export function formatJson(value: unknown, paint: Paint, indent = true): string {
  const text = JSON.stringify(value, null, indent ? 2 : undefined);
  if (text === undefined) return '';
  // Tokens of JSON.stringify's own output: strings (keys when a colon follows), literals, numbers.
  return text.replace(
    /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (
      _m,
      str: string | undefined,
      colon: string | undefined,
      lit: string | undefined,
      num: string | undefined,
    ) => {
      if (str !== undefined)
        return colon !== undefined ? `${paint('blue', str)}${colon}` : paint('green', str);
      if (lit !== undefined) return paint('magenta', lit);
      return paint('yellow', num!);
    },
  );
}

/** Whether a content type names JSON (application/json, application/problem+json ...). */
export function isJsonType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json') || type === 'text/json';
}
