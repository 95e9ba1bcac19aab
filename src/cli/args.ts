// Reads argv into a CliArgs value (docs/api.md section 14). Options may come
// before, between or after the positionals; `--` ends the options. Anything
// that starts with `-` and is not in the option table is a usage error, so a
// mistyped option is never sent off as a host name. Checks that need no I/O
// (numbers, conflicting options, the URL's shape) happen here too.

import { parseUrl } from '../index.js';
import { OPTIONS, type OptionKey, type OptionSpec, PRETTY_CHOICES } from './option-table.js';
import { UsageError } from './usage-error.js';

export type Pretty = (typeof PRETTY_CHOICES)[number];

export interface RequestArgs {
  command: 'request';
  /** upper-cased; null when not given (GET, or POST when there is a body) */
  method: string | null;
  /** absolute http(s) URL */
  url: string;
  items: string[];
  json: boolean;
  form: boolean;
  headers: string[];
  auth: string | null;
  follow: boolean;
  maxRedirects: number;
  retries: number;
  /** milliseconds, or null for no limit */
  timeout: number | null;
  head: boolean;
  ignoreStdin: boolean;
  output: string | null;
  download: boolean;
  verbose: boolean;
  include: boolean;
  /** null: decide from the terminal */
  pretty: Pretty | null;
  proxy: string | null;
  resolvers: string[];
  httpVersion: 'http1.1' | 'http2' | 'http3' | null;
  insecure: boolean;
  cacert: string | null;
  cert: string | null;
  key: string | null;
}

export type CliArgs =
  | RequestArgs
  | { command: 'help' }
  | { command: 'version' }
  | { command: 'demo' }
  | { command: 'completion'; shell: 'bash' | 'zsh' };

/** A method is a word of letters written in capitals, or any common method in any case. */
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE']);

function isMethod(word: string): boolean {
  if (!/^[A-Za-z]+$/.test(word)) return false;
  return KNOWN_METHODS.has(word.toUpperCase()) || /^[A-Z]+$/.test(word);
}

const byLong = new Map(OPTIONS.map((o) => [o.long, o]));
const byShort = new Map(OPTIONS.filter((o) => o.short !== undefined).map((o) => [o.short!, o]));

type Seen = Map<OptionKey, string[]>;

function record(seen: Seen, spec: OptionSpec, value: string | null): void {
  // A flag records '' so that seen.has() tells it was given; a value option keeps every value.
  const list = seen.get(spec.key) ?? [];
  list.push(value ?? '');
  seen.set(spec.key, list);
}

/**
 * `httpbin.org/get` -> `http://httpbin.org/get`, `:8080/x` -> `http://localhost:8080/x`
 * (httpie's shorthand); schemes other than http and https are refused.
 */
export function normaliseUrl(raw: string): string {
  let url = raw;
  if (/^:\d*(\/|$)/.test(url)) url = `http://localhost${url}`;
  else if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(url)) url = `http://${url}`;
  const scheme = url.slice(0, url.indexOf(':')).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') {
    throw new UsageError(`unsupported URL scheme ${scheme}:// in ${raw} (use http:// or https://)`);
  }
  let host: string | null;
  try {
    host = parseUrl(url).host;
  } catch (err) {
    throw new UsageError(`invalid URL ${raw}: ${(err as Error).message}`);
  }
  if (host === null || host === '') throw new UsageError(`invalid URL ${raw}: no host`);
  return url;
}

function count(seen: Seen, key: OptionKey, flag: string, fallback: number): number {
  const v = seen.get(key)?.at(-1);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new UsageError(`${flag} needs a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}

function seconds(seen: Seen): number | null {
  const v = seen.get('timeout')?.at(-1);
  if (v === undefined) return null;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new UsageError(`--timeout needs a positive number of seconds, got ${JSON.stringify(v)}`);
  }
  return Math.round(n * 1000);
}

function last(seen: Seen, key: OptionKey): string | null {
  return seen.get(key)?.at(-1) ?? null;
}

function optionName(spec: OptionSpec): string {
  return spec.short !== undefined ? `${spec.short}/${spec.long}` : spec.long;
}

/** Splits argv (without node and the script) into options and positionals. */
function scan(argv: readonly string[]): { seen: Seen; positionals: string[] } {
  const seen: Seen = new Map();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq === -1 ? arg : arg.slice(0, eq);
      const spec = byLong.get(name);
      if (spec === undefined) throw new UsageError(`unknown option ${name}`);
      if (spec.value === undefined) {
        if (eq !== -1) throw new UsageError(`${name} takes no value`);
        record(seen, spec, null);
        continue;
      }
      if (eq !== -1) {
        record(seen, spec, arg.slice(eq + 1));
        continue;
      }
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value (${spec.value})`);
      record(seen, spec, argv[++i]!);
      continue;
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // Bundled short flags: -vL, -ofile, -o file.
      for (let j = 1; j < arg.length; j++) {
        const spec = byShort.get(`-${arg[j]}`);
        if (spec === undefined) {
          throw new UsageError(j === 1 ? `unknown option ${arg}` : `unknown option -${arg[j]} in ${arg}`);
        }
        if (spec.value === undefined) {
          record(seen, spec, null);
          continue;
        }
        const rest = arg.slice(j + 1);
        if (rest !== '') record(seen, spec, rest);
        else if (i + 1 < argv.length) record(seen, spec, argv[++i]!);
        else throw new UsageError(`${optionName(spec)} needs a value (${spec.value})`);
        break;
      }
      continue;
    }
    positionals.push(arg);
  }
  return { seen, positionals };
}

function conflicts(seen: Seen, pairs: [OptionKey, OptionKey, string, string][]): void {
  for (const [a, b, na, nb] of pairs) {
    if (seen.has(a) && seen.has(b)) throw new UsageError(`${na} and ${nb} cannot be used together`);
  }
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const { seen, positionals } = scan(argv);
  if (seen.has('help')) return { command: 'help' };
  if (seen.has('version')) return { command: 'version' };

  if (positionals[0] === 'completion') {
    const shell = positionals[1];
    if (shell !== 'bash' && shell !== 'zsh') {
      throw new UsageError(
        `completion needs a shell: bash or zsh${shell === undefined ? '' : `, got ${shell}`}`,
      );
    }
    if (positionals.length > 2) throw new UsageError(`unexpected argument ${positionals[2]}`);
    return { command: 'completion', shell };
  }
  if (positionals.length === 1 && positionals[0] === 'demo' && seen.size === 0) return { command: 'demo' };

  if (positionals.length === 0) throw new UsageError('no URL given');
  let method: string | null = null;
  let rest = positionals;
  if (positionals.length >= 2 && isMethod(positionals[0]!)) {
    method = positionals[0]!.toUpperCase();
    rest = positionals.slice(1);
  }
  const url = normaliseUrl(rest[0]!);

  conflicts(seen, [
    ['json', 'form', '--json', '--form'],
    ['http11', 'http2', '--http1.1', '--http2'],
    ['http11', 'http3', '--http1.1', '--http3'],
    ['http2', 'http3', '--http2', '--http3'],
    ['output', 'download', '--output', '--download'],
    ['head', 'output', '--head', '--output'],
    ['head', 'download', '--head', '--download'],
  ]);
  if (seen.has('head') && method !== null && method !== 'HEAD') {
    throw new UsageError(`--head sends HEAD; it cannot be combined with ${method}`);
  }
  const pretty = last(seen, 'pretty');
  if (pretty !== null && !(PRETTY_CHOICES as readonly string[]).includes(pretty)) {
    throw new UsageError(
      `--pretty must be one of ${PRETTY_CHOICES.join(', ')}, got ${JSON.stringify(pretty)}`,
    );
  }
  const auth = last(seen, 'auth');
  if (auth !== null && !auth.includes(':')) throw new UsageError('-u/--auth needs USER:PASS');
  if (seen.has('key') && !seen.has('cert')) throw new UsageError('--key needs --cert');

  return {
    command: 'request',
    method: seen.has('head') ? 'HEAD' : method,
    url,
    items: rest.slice(1),
    json: seen.has('json'),
    form: seen.has('form'),
    headers: seen.get('header') ?? [],
    auth,
    follow: seen.has('follow'),
    maxRedirects: count(seen, 'maxRedirects', '--max-redirects', 30),
    retries: count(seen, 'retries', '--retries', 0),
    timeout: seconds(seen),
    head: seen.has('head'),
    ignoreStdin: seen.has('ignoreStdin'),
    output: last(seen, 'output'),
    download: seen.has('download'),
    verbose: seen.has('verbose'),
    include: seen.has('include'),
    pretty: pretty as Pretty | null,
    proxy: last(seen, 'proxy'),
    resolvers: seen.get('resolver') ?? [],
    httpVersion: seen.has('http3')
      ? 'http3'
      : seen.has('http2')
        ? 'http2'
        : seen.has('http11')
          ? 'http1.1'
          : null,
    insecure: seen.has('insecure'),
    cacert: last(seen, 'cacert'),
    cert: last(seen, 'cert'),
    key: last(seen, 'key'),
  };
}
