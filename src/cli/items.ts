// httpie's request-item syntax (docs/api.md section 14), parsed without I/O:
//
//   Name:value     request header          Name:        drop a default header
//   Name;          header with an empty value
//   name==value    query-string parameter
//   name=value     data field (JSON string, or form field)
//   name:=json     raw JSON value (JSON bodies only)
//   name=@file     data field read from a file
//   name:=@file    raw JSON read from a file
//   field@file     file upload (multipart/form-data)
//
// The earliest separator wins (`a=b:c` is the field a = "b:c"); a backslash
// escapes a separator character in the name (`a\:b=c` is the field "a:b").

import { UsageError } from './usage-error.js';

export type Item =
  | { kind: 'header'; name: string; value: string }
  | { kind: 'unsetHeader'; name: string }
  | { kind: 'query'; name: string; value: string }
  | { kind: 'field'; name: string; value: string }
  | { kind: 'fieldFile'; name: string; path: string }
  | { kind: 'json'; name: string; text: string }
  | { kind: 'jsonFile'; name: string; path: string }
  | { kind: 'upload'; name: string; path: string };

// Longest first, so `:=@` is not read as `:`.
const SEPARATORS = [':=@', ':=', '==', '=@', '=', ':', '@'] as const;
type Separator = (typeof SEPARATORS)[number];

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const ITEM_SYNTAX =
  'Name:value, name=value, name:=json, name==value, name=@file, name:=@file or field@file';

function split(raw: string): { name: string; sep: Separator; value: string } | null {
  let name = '';
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === '\\' && i + 1 < raw.length) {
      name += raw[++i];
      continue;
    }
    for (const sep of SEPARATORS) {
      if (raw.startsWith(sep, i)) return { name, sep, value: raw.slice(i + sep.length) };
    }
    name += c;
  }
  return null;
}

export function parseItem(raw: string): Item {
  // `Name;` is a header sent with an empty value (a bare `Name:` unsets it).
  if (/^[^:=@;]+;$/.test(raw)) {
    const name = raw.slice(0, -1);
    if (!TOKEN.test(name)) throw new UsageError(`invalid header name in ${raw}`);
    return { kind: 'header', name, value: '' };
  }
  const parts = split(raw);
  if (parts === null || parts.name === '') {
    throw new UsageError(`not a request item: ${JSON.stringify(raw)} (expected ${ITEM_SYNTAX})`);
  }
  const { name, sep, value } = parts;
  switch (sep) {
    case ':':
      if (!TOKEN.test(name)) throw new UsageError(`invalid header name ${JSON.stringify(name)} in ${raw}`);
      if (/[\r\n\0]/.test(value)) throw new UsageError(`header ${name} contains a line break or NUL`);
      return value === '' ? { kind: 'unsetHeader', name } : { kind: 'header', name, value: value.trim() };
    case '==':
      return { kind: 'query', name, value };
    case '=':
      return { kind: 'field', name, value };
    case '=@':
      return { kind: 'fieldFile', name, path: value };
    case ':=':
      return { kind: 'json', name, text: value };
    case ':=@':
      return { kind: 'jsonFile', name, path: value };
    case '@':
      return { kind: 'upload', name, path: value };
  }
}

/** A -H argument, `Name: value` (curl's form). */
export function parseHeaderOption(raw: string): Item {
  const colon = raw.indexOf(':');
  if (colon <= 0) throw new UsageError(`-H needs 'Name: value', got ${JSON.stringify(raw)}`);
  const name = raw.slice(0, colon).trim();
  const value = raw.slice(colon + 1).trim();
  if (!TOKEN.test(name)) throw new UsageError(`invalid header name ${JSON.stringify(name)} in -H ${raw}`);
  if (/[\r\n\0]/.test(value)) throw new UsageError(`header ${name} contains a line break or NUL`);
  return value === '' ? { kind: 'unsetHeader', name } : { kind: 'header', name, value };
}
