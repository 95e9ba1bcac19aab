// Every option `urllib3-ts` accepts, in one table: the parser, --help and the
// shell completion scripts are all generated from it, so an option cannot
// exist in one and be missing from another.

export type OptionKey =
  | 'json'
  | 'form'
  | 'header'
  | 'output'
  | 'download'
  | 'follow'
  | 'maxRedirects'
  | 'retries'
  | 'timeout'
  | 'proxy'
  | 'resolver'
  | 'http11'
  | 'http2'
  | 'http3'
  | 'insecure'
  | 'cacert'
  | 'cert'
  | 'key'
  | 'auth'
  | 'verbose'
  | 'head'
  | 'include'
  | 'pretty'
  | 'ignoreStdin'
  | 'help'
  | 'version';

export interface OptionSpec {
  key: OptionKey;
  long: string;
  short?: string;
  /** the value's name in help text; absent for a flag */
  value?: string;
  /** what a shell should complete the value with */
  complete?: 'file' | readonly string[];
  /** may be given more than once (values accumulate) */
  repeat?: boolean;
  group: 'Request' | 'Body' | 'Output' | 'Connection' | 'TLS' | 'Other';
  help: string;
}

export const PRETTY_CHOICES = ['all', 'colors', 'format', 'none'] as const;

export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'json',
    long: '--json',
    short: '-j',
    group: 'Body',
    help: 'send name=value and name:=json items as a JSON object (the default when there are items)',
  },
  {
    key: 'form',
    long: '--form',
    short: '-f',
    group: 'Body',
    help: 'send name=value items as a form: urlencoded, or multipart/form-data when a field@file item is present',
  },
  {
    key: 'header',
    long: '--header',
    short: '-H',
    value: "'Name: value'",
    repeat: true,
    group: 'Request',
    help: 'add a request header (same as the Name:value item)',
  },
  {
    key: 'auth',
    long: '--auth',
    short: '-u',
    value: 'USER:PASS',
    group: 'Request',
    help: 'send HTTP Basic credentials',
  },
  {
    key: 'follow',
    long: '--follow',
    short: '-L',
    group: 'Request',
    help: 'follow redirects (3xx with Location), across hosts too',
  },
  {
    key: 'maxRedirects',
    long: '--max-redirects',
    value: 'N',
    group: 'Request',
    help: 'with --follow, give up after N redirects (default 30; exit code 3)',
  },
  {
    key: 'retries',
    long: '--retries',
    value: 'N',
    group: 'Request',
    help: 'retry connection and read failures up to N times (default 0)',
  },
  {
    key: 'timeout',
    long: '--timeout',
    value: 'SECONDS',
    group: 'Request',
    help: 'limit for connecting and for each wait on the response, in seconds (fractions allowed; default none)',
  },
  {
    key: 'head',
    long: '--head',
    short: '-I',
    group: 'Request',
    help: 'send HEAD and print the response head',
  },
  {
    key: 'ignoreStdin',
    long: '--ignore-stdin',
    group: 'Body',
    help: 'do not read a request body from a redirected standard input',
  },
  {
    key: 'output',
    long: '--output',
    short: '-o',
    value: 'FILE',
    complete: 'file',
    group: 'Output',
    help: 'write the body to FILE (a progress bar is shown when stderr is a terminal)',
  },
  {
    key: 'download',
    long: '--download',
    short: '-d',
    group: 'Output',
    help: 'write the body to a file named after Content-Disposition or the URL path, in the current directory',
  },
  {
    key: 'verbose',
    long: '--verbose',
    short: '-v',
    group: 'Output',
    help: 'print the request and response heads and a timing line (DNS, connect, TLS, first byte, total) to stderr',
  },
  {
    key: 'include',
    long: '--include',
    short: '-i',
    group: 'Output',
    help: 'print the response head before the body on stdout',
  },
  {
    key: 'pretty',
    long: '--pretty',
    value: 'all|colors|format|none',
    complete: PRETTY_CHOICES,
    group: 'Output',
    help: 'colours and JSON indentation (default: all on a terminal, none in a pipe; NO_COLOR drops colours unless --pretty asks for them)',
  },
  {
    key: 'proxy',
    long: '--proxy',
    short: '-x',
    value: 'URL',
    group: 'Connection',
    help: 'send through this proxy (http://, https://, socks4://, socks4a://, socks5://, socks5h://); default: the proxy environment',
  },
  {
    key: 'resolver',
    long: '--resolver',
    value: 'URL',
    repeat: true,
    group: 'Connection',
    help: "resolve host names with this resolver URL, as the library's resolver option takes it (system://, in-memory://, dou://, dot://, doh://, doq://, provider shortcuts such as doh+cloudflare://); repeat to chain",
  },
  { key: 'http11', long: '--http1.1', group: 'Connection', help: 'use HTTP/1.1 only' },
  {
    key: 'http2',
    long: '--http2',
    group: 'Connection',
    help: 'use HTTP/2 only (ALPN over TLS; prior knowledge on http://)',
  },
  {
    key: 'http3',
    long: '--http3',
    group: 'Connection',
    help: 'HTTP/3 over QUIC only (where the optional QUIC binding loads: Linux x64, glibc 2.34+)',
  },
  {
    key: 'insecure',
    long: '--insecure',
    short: '-k',
    group: 'TLS',
    help: 'do not verify the server certificate',
  },
  {
    key: 'cacert',
    long: '--cacert',
    value: 'FILE',
    complete: 'file',
    group: 'TLS',
    help: 'trust the CA certificates in FILE (PEM)',
  },
  {
    key: 'cert',
    long: '--cert',
    value: 'FILE',
    complete: 'file',
    group: 'TLS',
    help: 'client certificate (PEM; may also hold the key)',
  },
  {
    key: 'key',
    long: '--key',
    value: 'FILE',
    complete: 'file',
    group: 'TLS',
    help: 'private key of the client certificate (PEM)',
  },
  { key: 'help', long: '--help', short: '-h', group: 'Other', help: 'print this help and exit' },
  { key: 'version', long: '--version', group: 'Other', help: 'print the version and exit' },
];
