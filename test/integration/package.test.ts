// What a user gets: `npm pack` ships compiled JavaScript, declarations, the
// README and the LICENSE, nothing else; the demo the README promises runs.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('npm pack contains only dist JavaScript, declarations, README, LICENSE and package.json', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    env: { ...process.env, npm_config_loglevel: 'error' },
  });
  const [info] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  const paths = info.files.map((f) => f.path).sort();
  for (const p of paths) {
    assert.match(
      p,
      /^(dist\/.+\.(js|d\.ts)|README\.md|LICENSE|package\.json)$/,
      `unexpected file in package: ${p}`,
    );
  }
  for (const needed of [
    'README.md',
    'LICENSE',
    'package.json',
    'dist/index.js',
    'dist/index.d.ts',
    'dist/cli/main.js',
  ]) {
    assert.ok(paths.includes(needed), `missing ${needed}`);
  }
});

test('the demo runs against its embedded server and finishes', { timeout: 30_000 }, async () => {
  // Run from source so the test does not depend on a prior build.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/demo/demo.ts'], {
    timeout: 25_000,
  });
  assert.match(stdout, /embedded server at http:\/\/127\.0\.0\.1:\d+/);
  assert.match(stdout, /100 requests opened 1 TCP connection/);
  assert.match(stdout, /caught ReadTimeoutError/);
  assert.match(stdout, /Done in \d+ ms/);
});

test(
  'the built entry point exports the public API',
  { skip: existsSync('dist/index.js') ? false : 'not built' },
  async () => {
    const api = (await import('../../dist/index.js' as string)) as Record<string, unknown>;
    for (const name of [
      'PoolManager',
      'HTTPConnectionPool',
      'HTTPResponse',
      'Retry',
      'Timeout',
      'request',
      'HTTPError',
    ]) {
      assert.ok(name in api, `${name} is exported`);
    }
  },
);

test(
  'the shipped declarations hold no internal member and type-check in a strict consumer',
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'urllib3-ts-dts-'));
    try {
      const tsc = path.resolve('node_modules/typescript/bin/tsc');
      const out = path.join(dir, 'dist');
      await run(process.execPath, [
        tsc,
        '-p',
        'tsconfig.build.json',
        '--emitDeclarationOnly',
        '--outDir',
        out,
      ]);
      const dts: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = path.join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (p.endsWith('.d.ts')) dts.push(p);
        }
      };
      walk(out);
      assert.ok(dts.length > 10, 'declarations were emitted');
      for (const f of dts) {
        assert.ok(
          !readFileSync(f, 'utf8').includes('@internal'),
          `${path.relative(out, f)} keeps an @internal member`,
        );
      }
      writeFileSync(path.join(dir, 'package.json'), '{ "type": "module" }');
      writeFileSync(
        path.join(dir, 'consumer.ts'),
        [
          "import * as u3 from './dist/index.js';",
          'const pm: u3.PoolManager = new u3.PoolManager({ retries: new u3.Retry({ total: 1 }) });',
          "const ctx: u3.Urllib3Context = u3.createUrllib3Context({ sslMinimumVersion: 'TLSv1.2' });",
          'const tlsOptions: u3.TlsOptions = { sslContext: ctx };',
          "export const used = [pm.connectionFromUrl('http://example.com/').host, tlsOptions];",
        ].join('\n'),
      );
      writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'ES2022',
            lib: ['ES2023'],
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
            typeRoots: [path.resolve('node_modules/@types')],
          },
          files: ['consumer.ts'],
        }),
      );
      await run(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json')]).catch((err) => {
        assert.fail(`the declarations do not type-check:\n${err.stdout}${err.stderr}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
