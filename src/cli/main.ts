#!/usr/bin/env node
// The `urllib3-ts` command (docs/api.md section 14): a curl/httpie-like client
// built only on the package's public API. This file dispatches; argument
// parsing, request building, output and completion live beside it.

import { VERSION } from '../index.js';
import { parseArgs } from './args.js';
import { bashCompletion, zshCompletion } from './completion.js';
import { describeError, failureLine } from './describe-error.js';
import { ExitCode } from './exit-codes.js';
import { helpText } from './help.js';
import { runRequest } from './run-request.js';

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0) {
    process.stderr.write(
      'usage: urllib3-ts [METHOD] URL [ITEM ...] [OPTIONS]   (urllib3-ts --help for more)\n',
    );
    return ExitCode.usage;
  }
  const args = parseArgs(argv);
  switch (args.command) {
    case 'help':
      process.stdout.write(helpText(VERSION));
      return ExitCode.ok;
    case 'version':
      process.stdout.write(`urllib3-ts ${VERSION} (node ${process.version})\n`);
      return ExitCode.ok;
    case 'completion':
      process.stdout.write(args.shell === 'bash' ? bashCompletion() : zshCompletion());
      return ExitCode.ok;
    case 'demo':
      await import('../demo/demo.js');
      return ExitCode.ok;
    case 'request':
      return runRequest(args, {
        stdin: process.stdin,
        stdout: process.stdout,
        stderr: process.stderr,
        env: process.env,
      });
  }
}

// A closed pipe on stdout (`urllib3-ts URL | head -1`) ends the output, not the process with a trace.
process.stdout.on('error', () => {});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const f = describeError(err, 'urllib3-ts');
    process.stderr.write(failureLine(f));
    process.exitCode = f.code;
  },
);
