// A short report for `npm test` in a pipe (CI logs, `| less`): nothing for a
// passing test; every failure in full with the path of names that leads to it;
// skipped tests counted by file and reason; whatever the test processes wrote
// to stderr (a warning there is news, so it is shown, not swallowed); and one
// closing line, `tests: N passed, N failed, N skipped`.
// `TEST_REPORTER=tap npm test` (or spec, dot) gives Node's own reporters.
import { relative } from 'node:path';
import { inspect } from 'node:util';

const MAX_ERROR_LINES = 40;
const MAX_STDERR_LINES_PER_FILE = 12;

function where(file) {
  return file ? relative(process.cwd(), file) : '(no file)';
}

function describeError(error) {
  // The runner wraps a test's error (ERR_TEST_FAILURE); what the test threw is its cause.
  const thrown = error?.code === 'ERR_TEST_FAILURE' && error.cause !== undefined ? error.cause : error;
  const text = thrown instanceof Error ? inspect(thrown, { depth: 4 }) : String(thrown);
  // Frames inside Node's own test runner say nothing about the failure.
  const lines = text.split('\n').filter((l) => !/^\s+at .*\(?node:(internal|async_hooks)/.test(l));
  if (lines.length <= MAX_ERROR_LINES) return lines;
  return [...lines.slice(0, MAX_ERROR_LINES), `... ${lines.length - MAX_ERROR_LINES} more lines`];
}

export default async function* summaryReporter(source) {
  const names = new Map(); // file -> names of the tests open at each nesting level
  const failures = [];
  const skipped = new Map(); // "file: reason" -> count
  const stderr = new Map(); // file -> lines
  const totals = new Map(); // the runner's own closing counters
  const started = Date.now();

  for await (const event of source) {
    const data = event.data ?? {};
    const file = where(data.file);
    switch (event.type) {
      case 'test:start': {
        const stack = names.get(file) ?? [];
        stack.length = data.nesting;
        stack[data.nesting] = data.name;
        names.set(file, stack);
        break;
      }
      case 'test:pass':
        if (data.skip !== undefined && data.skip !== false) {
          const reason = typeof data.skip === 'string' ? data.skip : 'skipped';
          const key = `${file}: ${reason}`;
          skipped.set(key, (skipped.get(key) ?? 0) + 1);
        }
        break;
      case 'test:fail': {
        const error = data.details?.error;
        // A parent failing because a child did says nothing new.
        if (error?.failureType === 'subtestsFailed') break;
        const path = (names.get(file) ?? []).slice(0, data.nesting);
        const title = data.name === data.file || data.name === file ? '(the file itself)' : data.name;
        failures.push({ file, path: [...path, title], ms: data.details?.duration_ms, error });
        break;
      }
      case 'test:stderr': {
        const lines = stderr.get(file) ?? [];
        lines.push(...String(data.message).replace(/\n$/, '').split('\n'));
        stderr.set(file, lines);
        break;
      }
      case 'test:diagnostic': {
        // The runner ends with "tests 12", "pass 10", "fail 1" ... at nesting 0.
        const m = /^(tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)$/.exec(
          data.message ?? '',
        );
        if (m && data.nesting === 0 && data.file === undefined) totals.set(m[1], Number(m[2]));
        else if (data.nesting === 0 && data.file !== undefined) yield `note: ${file}: ${data.message}\n`;
        break;
      }
      default:
        break;
    }
  }

  for (const f of failures) {
    const ms = f.ms !== undefined ? ` (${Math.round(f.ms)} ms)` : '';
    yield `\nFAIL ${f.file} > ${f.path.join(' > ')}${ms}\n`;
    if (f.path.at(-1) === '(the file itself)')
      yield '  the file did not run to its end: its stderr is below\n';
    else for (const line of describeError(f.error)) yield `  ${line}\n`;
  }
  if (stderr.size > 0) {
    yield '\nWritten to stderr by the test processes:\n';
    for (const [file, lines] of stderr) {
      yield `  ${file}:\n`;
      for (const line of lines.slice(0, MAX_STDERR_LINES_PER_FILE)) yield `    ${line}\n`;
      if (lines.length > MAX_STDERR_LINES_PER_FILE)
        yield `    ... ${lines.length - MAX_STDERR_LINES_PER_FILE} more lines (TEST_REPORTER=spec shows them all)\n`;
    }
  }
  if (skipped.size > 0) {
    yield '\nSkipped:\n';
    for (const [key, count] of [...skipped].sort()) yield `  ${count} x ${key}\n`;
  }
  const seconds = ((totals.get('duration_ms') ?? Date.now() - started) / 1000).toFixed(1);
  const extra = ['cancelled', 'todo']
    .filter((k) => (totals.get(k) ?? 0) > 0)
    .map((k) => `${totals.get(k)} ${k}`)
    .join(', ');
  yield `\n${totals.get('tests') ?? 0} tests in ${seconds} s${extra ? ` (${extra})` : ''}; ` +
    'TEST_REPORTER=tap npm test for the full TAP stream\n';
  yield `tests: ${totals.get('pass') ?? 0} passed, ${totals.get('fail') ?? 0} failed, ${totals.get('skipped') ?? 0} skipped\n`;
}
