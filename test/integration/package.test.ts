// What a user gets (docs/api.md section 0): the package is built into a
// temporary directory laid out like the repository (sources, tests, bench
// and scripts beside dist/), and `npm pack` must take only the compiled
// library, its declarations, the CLI and the demo `npm run demo` runs, the
// README and the LICENSE. Installed through a symlink, the package loads with
// ESM `import` and with CommonJS `require()` (Node 20.19+ loads ES modules
// through `require` given the `require` export condition), and its command
// runs. The demo the README promises runs too.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let work: string;
/** the package as it would be published: package.json, README, LICENSE, dist/ and the repository's other folders */
let pkg: string;
/** a project that has the package in node_modules (a symlink, as `npm link` makes) */
let app: string;

before(
  async () => {
    work = mkdtempSync(join(tmpdir(), 'urllib3-ts-pack-'));
    pkg = join(work, 'urllib3-ts');
    app = join(work, 'app');
    mkdirSync(pkg);
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    await run(
      process.execPath,
      [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')],
      {
        cwd: root,
      },
    );
    for (const entry of [
      'package.json',
      'README.md',
      'LICENSE',
      'src',
      'test',
      'bench',
      'scripts',
      'tsconfig.json',
    ]) {
      cpSync(join(root, entry), join(pkg, entry), { recursive: true });
    }
    // The package's own dependencies (fzstd) resolve from its real path.
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(pkg, join(app, 'node_modules/urllib3-ts'), 'dir');
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true }\n');
  },
  { timeout: 180_000 },
);

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

test('npm pack takes dist JavaScript and declarations, the CLI, the demo, README, LICENSE and package.json only', async () => {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: pkg,
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
    assert.doesNotMatch(
      p,
      /(^|\/)(test|tests|bench|scripts|support)\/|\.test\.|\.spec\./,
      `test or bench file: ${p}`,
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
  // The demo ships only as the one script `npm run demo` and `urllib3-ts demo` run.
  assert.deepEqual(
    paths.filter((p) => p.startsWith('dist/demo/')),
    ['dist/demo/demo.js', 'dist/demo/server.js'],
  );
  // The command line is not a library: its declarations stay out.
  assert.deepEqual(
    paths.filter((p) => p.startsWith('dist/cli/') && p.endsWith('.d.ts')),
    [],
  );
});

test('package.json says where the project lives, and its bin and demo script point into the package', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    repository?: { url?: string };
    homepage?: string;
    bugs?: { url?: string };
    bin?: Record<string, string>;
    scripts?: Record<string, string>;
  };
  assert.match(manifest.repository?.url ?? '', /^git\+https:\/\/.+\.git$/);
  assert.match(manifest.homepage ?? '', /^https:\/\//);
  assert.match(manifest.bugs?.url ?? '', /^https:\/\/.+\/issues$/);
  assert.equal(manifest.bin?.['urllib3-ts'], './dist/cli/main.js');
  assert.equal(manifest.scripts?.demo, 'node dist/demo/demo.js');
});

test('the installed package loads with ESM import', async () => {
  const { stdout } = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "import * as u from 'urllib3-ts'; console.log(typeof u.PoolManager, typeof u.request)",
    ],
    { cwd: app },
  );
  assert.equal(stdout.trim(), 'function function');
});

test(
  'the installed package loads with CommonJS require()',
  { skip: process.features.require_module ? false : `Node ${process.version} cannot require() ES modules` },
  async () => {
    writeFileSync(
      join(app, 'check.cjs'),
      "const { PoolManager, request, HTTPError, VERSION } = require('urllib3-ts');\n" +
        'console.log(typeof PoolManager, typeof request, typeof HTTPError, VERSION);\n',
    );
    const { stdout, stderr } = await run(process.execPath, ['check.cjs'], { cwd: app });
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string })
      .version;
    assert.equal(stdout.trim(), `function function function ${version}`);
    assert.doesNotMatch(stderr, /Error/);
  },
);

test('the packaged command runs', async () => {
  const { stdout } = await run(
    process.execPath,
    [join(app, 'node_modules/urllib3-ts/dist/cli/main.js'), '--version'],
    {
      cwd: app,
    },
  );
  assert.match(stdout, /^urllib3-ts \d+\.\d+\.\d+ /);
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
  'the shipped declarations hold no internal member and type-check in a strict consumer',
  { timeout: 180_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'urllib3-ts-dts-'));
    try {
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const out = join(dir, 'dist');
      await run(process.execPath, [
        tsc,
        '-p',
        join(root, 'tsconfig.build.json'),
        '--emitDeclarationOnly',
        '--outDir',
        out,
      ]);
      const dts: string[] = [];
      const walk = (d: string) => {
        for (const e of readdirSync(d, { withFileTypes: true })) {
          const p = join(d, e.name);
          if (e.isDirectory()) walk(p);
          else if (p.endsWith('.d.ts')) dts.push(p);
        }
      };
      walk(out);
      assert.ok(dts.length > 10, 'declarations were emitted');
      for (const f of dts) {
        assert.ok(
          !readFileSync(f, 'utf8').includes('@internal'),
          `${relative(out, f)} keeps an @internal member`,
        );
      }
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
      writeFileSync(
        join(dir, 'consumer.ts'),
        [
          "import * as u3 from './dist/index.js';",
          'const pm: u3.PoolManager = new u3.PoolManager({ retries: new u3.Retry({ total: 1 }) });',
          "const ctx: u3.Urllib3Context = u3.createUrllib3Context({ sslMinimumVersion: 'TLSv1.2' });",
          'const tlsOptions: u3.TlsOptions = { sslContext: ctx };',
          "export const used = [pm.connectionFromUrl('http://example.com/').host, tlsOptions];",
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
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
            typeRoots: [join(root, 'node_modules/@types')],
          },
          files: ['consumer.ts'],
        }),
      );
      await run(process.execPath, [tsc, '-p', join(dir, 'tsconfig.json')]).catch((err) => {
        assert.fail(`the declarations do not type-check:\n${err.stdout}${err.stderr}`);
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
