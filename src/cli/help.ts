// The --help page, laid out like a man page (NAME, SYNOPSIS, DESCRIPTION,
// REQUEST ITEMS, OPTIONS, EXIT STATUS, ENVIRONMENT, EXAMPLES). Options and
// exit codes come from their tables.

import { EXIT_CODE_HELP } from './exit-codes.js';
import { OPTIONS, type OptionSpec } from './option-table.js';

function wrap(text: string, indent: number, width: number): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    if (line !== '' && indent + line.length + 1 + w.length > width) {
      lines.push(line);
      line = w;
    } else line = line === '' ? w : `${line} ${w}`;
  }
  if (line !== '') lines.push(line);
  return lines.map((l) => ' '.repeat(indent) + l).join('\n');
}

function optionLine(o: OptionSpec): string {
  const names = o.short !== undefined ? `${o.short}, ${o.long}` : `    ${o.long}`;
  return `       ${names}${o.value !== undefined ? ` ${o.value}` : ''}\n${wrap(o.help, 15, 79)}\n`;
}

export function helpText(version: string): string {
  const groups: OptionSpec['group'][] = ['Request', 'Body', 'Output', 'Connection', 'TLS', 'Other'];
  const options = groups
    .map(
      (g) =>
        `   ${g}\n${OPTIONS.filter((o) => o.group === g)
          .map(optionLine)
          .join('')}`,
    )
    .join('\n');
  const exits = EXIT_CODE_HELP.map(([code, text]) => `       ${String(code).padEnd(5)}${text}`).join('\n');
  return `URLLIB3-TS(1)                                                  urllib3-ts ${version}

NAME
       urllib3-ts - make HTTP requests from the command line with urllib3-ts

SYNOPSIS
       urllib3-ts [METHOD] URL [ITEM ...] [OPTIONS]
       urllib3-ts completion bash|zsh
       urllib3-ts demo

DESCRIPTION
       Sends one request and writes the response body to standard output:
       indented, coloured JSON on a terminal, the bytes as they came in a
       pipe. Options may come before or after the URL. METHOD defaults to
       GET, or POST when there is a body. A URL without a scheme gets
       http://; ":8080/path" means http://localhost:8080/path.

       A body comes from data items (a JSON object unless --form), or from
       standard input when it is redirected and there are no data items;
       scripts whose standard input is a pipe left open should pass
       --ignore-stdin.

       Redirects are returned, not followed, unless --follow is given.
       Problems are reported as one line on standard error.

REQUEST ITEMS
       Name:value     request header; "Name:" drops a default header,
                      "Name;" sends it empty
       name==value    query-string parameter
       name=value     data field (a JSON string, or a form field with --form)
       name:=json     raw JSON value: n:=3  tags:='["a","b"]'  ok:=true
       name=@file     data field read from a file
       name:=@file    raw JSON read from a file
       field@file     file upload; sends multipart/form-data
       A backslash escapes a separator in a name: a\\:b=c is the field "a:b".

OPTIONS
${options}
EXIT STATUS
${exits}

ENVIRONMENT
       HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY (and lower-case forms)
              proxy per scheme when --proxy is not given; socks URLs allowed
       NO_COLOR
              when set and not empty, no colours unless --pretty asks for them
       NODE_DEBUG=urllib3
              the library's debug log on standard error

EXAMPLES
       urllib3-ts httpbin.org/get X-API-Key:secret
       urllib3-ts POST https://httpbin.org/post name=Ada age:=36
       urllib3-ts --form POST :8080/upload file@photo.jpg
       urllib3-ts -o big.iso https://example.com/big.iso
       urllib3-ts -v --http2 https://example.com/
       echo '{"a":1}' | urllib3-ts PUT :8080/things/1 --json
       source <(urllib3-ts completion bash)
`;
}
