// Turns the parsed command line into what is sent: method, URL (with ==
// query items), headers and a body held in memory, so `-v` prints exactly the
// head that goes out, Content-Length included. Files named by items are read
// here; a file that cannot be read is a usage error (nothing was sent).
//
// The body comes from the data items (a JSON object by default, a form with
// --form, multipart as soon as a field@file upload is present) or, with no
// data items, from a redirected standard input.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import {
  DEFAULT_USER_AGENT,
  encodeMultipartFormdata,
  type FieldValue,
  HTTPHeaderDict,
  makeHeaders,
  SKIP_HEADER,
} from '../index.js';
import type { RequestArgs } from './args.js';
import { type Item, parseHeaderOption, parseItem } from './items.js';
import { UsageError } from './usage-error.js';

export interface RequestPlan {
  method: string;
  url: string;
  headers: HTTPHeaderDict;
  body: Buffer | null;
}

/** Headers whose library default a bare `Name:` item suppresses with SKIP_HEADER. */
const SKIPPABLE = new Set(['user-agent', 'accept-encoding', 'host']);

function readItemFile(path: string, item: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new UsageError(`cannot read ${path} for item ${item}: ${code}`);
  }
}

function parseJson(text: string, item: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`item ${item}: invalid JSON: ${(err as Error).message}`);
  }
}

const MIME_BY_EXTENSION: Record<string, string> = {
  json: 'application/json',
  txt: 'text/plain',
  html: 'text/html',
  csv: 'text/csv',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  pdf: 'application/pdf',
  xml: 'application/xml',
};

function mimeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  return MIME_BY_EXTENSION[ext] ?? 'application/octet-stream';
}

function defaultHeaders(args: RequestArgs): HTTPHeaderDict {
  const h = new HTTPHeaderDict();
  h.set('User-Agent', DEFAULT_USER_AGENT);
  h.set('Accept', args.json ? 'application/json, */*;q=0.5' : '*/*');
  h.set('Accept-Encoding', makeHeaders({ acceptEncoding: true })['accept-encoding']!);
  if (args.auth !== null) {
    h.set('Authorization', makeHeaders({ basicAuth: args.auth }).authorization!);
  }
  return h;
}

/**
 * The first header item with a name replaces the default; further ones add
 * values. `userSet` holds the lower-cased names given so far.
 */
function applyHeader(headers: HTTPHeaderDict, item: Item, userSet: Set<string>): void {
  const lower = item.name.toLowerCase();
  if (item.kind === 'header') {
    if (!userSet.has(lower)) headers.delete(item.name);
    userSet.add(lower);
    headers.add(item.name, item.value);
  } else if (item.kind === 'unsetHeader') {
    headers.delete(item.name);
    userSet.delete(lower);
    if (SKIPPABLE.has(lower)) headers.set(item.name, SKIP_HEADER);
  }
}

/** Whether the items make a body (then standard input is not read). */
export function hasDataItems(items: readonly string[]): boolean {
  return items.some((raw) => {
    const kind = parseItem(raw).kind;
    return kind !== 'header' && kind !== 'unsetHeader' && kind !== 'query';
  });
}

/** Builds the request; `stdin` is the redirected standard input, if it is to be read. */
export function planRequest(args: RequestArgs, stdin: Buffer | null): RequestPlan {
  const headers = defaultHeaders(args);
  const userSet = new Set<string>();
  for (const raw of args.headers) applyHeader(headers, parseHeaderOption(raw), userSet);

  const url = new URL(args.url);
  const data: { raw: string; item: Item }[] = [];
  let queryAdded = false;
  for (const raw of args.items) {
    const item = parseItem(raw);
    if (item.kind === 'header' || item.kind === 'unsetHeader') applyHeader(headers, item, userSet);
    else if (item.kind === 'query') {
      url.searchParams.append(item.name, item.value);
      queryAdded = true;
    } else data.push({ raw, item });
  }

  let body: Buffer | null = null;
  let contentType: string | null = null;
  const uploads = data.some((d) => d.item.kind === 'upload');
  if (data.length > 0) {
    if (uploads && args.json)
      throw new UsageError('field@file uploads are sent as multipart/form-data; drop --json');
    if (args.form || uploads) ({ body, contentType } = formBody(data, uploads));
    else ({ body, contentType } = jsonBody(data));
  } else if (stdin !== null && stdin.length > 0) {
    body = stdin;
    if (args.json) contentType = 'application/json';
    else if (args.form) contentType = 'application/x-www-form-urlencoded';
  }
  if (contentType !== null && !headers.has('Content-Type')) headers.set('Content-Type', contentType);
  const method = args.method ?? (body !== null ? 'POST' : 'GET');
  // Keep the URL as typed when no query item changed it (URL() would re-encode it).
  return { method, url: queryAdded ? url.href : args.url, headers, body };
}

function jsonBody(data: { raw: string; item: Item }[]): { body: Buffer; contentType: string } {
  const obj: Record<string, unknown> = {};
  for (const { raw, item } of data) {
    if (item.kind === 'field') obj[item.name] = item.value;
    else if (item.kind === 'fieldFile') obj[item.name] = readItemFile(item.path, raw).toString('utf8');
    else if (item.kind === 'json') obj[item.name] = parseJson(item.text, raw);
    else if (item.kind === 'jsonFile')
      obj[item.name] = parseJson(readItemFile(item.path, raw).toString('utf8'), raw);
  }
  return { body: Buffer.from(JSON.stringify(obj)), contentType: 'application/json' };
}

function formBody(
  data: { raw: string; item: Item }[],
  multipart: boolean,
): { body: Buffer; contentType: string } {
  const fields: [string, FieldValue][] = [];
  for (const { raw, item } of data) {
    if (item.kind === 'field') fields.push([item.name, item.value]);
    else if (item.kind === 'fieldFile')
      fields.push([item.name, readItemFile(item.path, raw).toString('utf8')]);
    else if (item.kind === 'json' || item.kind === 'jsonFile') {
      throw new UsageError(`item ${raw}: raw JSON (:=) needs a JSON body; drop --form`);
    } else if (item.kind === 'upload') {
      fields.push([item.name, [basename(item.path), readItemFile(item.path, raw), mimeOf(item.path)]]);
    }
  }
  if (multipart) {
    const { body, contentType } = encodeMultipartFormdata(fields);
    return { body: Buffer.from(body), contentType };
  }
  const params = new URLSearchParams();
  for (const [name, value] of fields) params.append(name, String(value));
  return { body: Buffer.from(params.toString()), contentType: 'application/x-www-form-urlencoded' };
}
