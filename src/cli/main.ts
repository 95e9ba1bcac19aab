#!/usr/bin/env node
// The `urllib3-ts` command. For now it runs the guided demo (`urllib3-ts demo`)
// or fetches one URL and prints the body (`urllib3-ts URL`); the full
// curl/httpie-like client (docs/api.md section 14) is a later issue.

import { HTTPError, request } from '../index.js';

async function main(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 0 || args[0] === 'demo') {
    await import('../demo/demo.js');
    return 0;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write('usage: urllib3-ts [demo] | urllib3-ts [METHOD] URL\n');
    return 0;
  }
  const [method, url] = args.length >= 2 ? [args[0]!.toUpperCase(), args[1]!] : ['GET', args[0]!];
  try {
    const r = await request(method, url, { preloadContent: false });
    for await (const chunk of r) process.stdout.write(chunk);
    return r.status < 400 ? 0 : 1;
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`urllib3-ts: ${e instanceof HTTPError ? `${e.name}: ` : ''}${e.message}\n`);
    return 2;
  }
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`urllib3-ts: ${err.message}\n`);
    process.exitCode = 2;
  },
);
