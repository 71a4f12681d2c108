// The start-up bundle (scripts/bundle.js → dist/bundle/): `npm run build` makes it, bin/ runs it
// only while it is as new as tsc's output, and it behaves as dist/src does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const ROOT = resolve(import.meta.dirname, '../../..');
const BUNDLE = resolve(ROOT, 'dist/bundle/main.js');
const esbuildInstalled = (() => {
  try {
    createRequire(resolve(ROOT, 'package.json')).resolve('esbuild');
    return true;
  } catch {
    return false;
  }
})();
// Without esbuild (a node_modules older than the devDependency) the build leaves no bundle on
// purpose and bin/ runs dist/src: there is nothing to check then.
const NO_BUNDLE = esbuildInstalled ? false : 'esbuild is not installed, so npm run build makes no bundle';

/** `main(argv, argv0)` of the given entry, in a fresh process: its status and output. */
function runEntry(entry: string, argv: string[], argv0: string) {
  const script = `const { main } = await import(${JSON.stringify(pathToFileURL(entry).href)});
process.exitCode = await main(${JSON.stringify(argv)}, ${JSON.stringify(argv0)});`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('npm run build leaves a bundle at least as new as tsc output', { skip: NO_BUNDLE }, () => {
  assert.ok(existsSync(BUNDLE), 'dist/bundle/main.js is missing after the build');
  assert.ok(statSync(BUNDLE).mtimeMs >= statSync(resolve(ROOT, 'dist/.tsbuildinfo')).mtimeMs, 'the bundle is older than tsc output');
  assert.ok(existsSync(resolve(ROOT, 'dist/bundle/bcrypt-worker.js')), 'the bcrypt worker must sit beside the chunks');
});

test('the bundle answers as dist/src does (help, version, a bad flag)', { skip: NO_BUNDLE }, () => {
  const src = resolve(ROOT, 'dist/src/cli/main.js');
  for (const [argv, argv0] of [
    [['--help'], 'nats-server'],
    [['--version'], 'nats-server'],
    [['--version'], 'herald'],
    [['serve', '--port', 'abc'], 'herald'],
  ] as const) {
    assert.deepEqual(runEntry(BUNDLE, [...argv], argv0), runEntry(src, [...argv], argv0), `${argv0} ${argv.join(' ')}`);
  }
});

test('bin/ runs the bundle only when tsc has not built since', async () => {
  const entry = (await import(pathToFileURL(resolve(ROOT, 'bin/main-entry.js')).href)) as {
    bundleIsFresh(bundleMs: number, tscMs: number): boolean;
  };
  assert.equal(entry.bundleIsFresh(-1, 100), false, 'no bundle');
  assert.equal(entry.bundleIsFresh(-1, -1), false, 'no bundle, no build info');
  assert.equal(entry.bundleIsFresh(200, 100), true, 'bundled after tsc');
  assert.equal(entry.bundleIsFresh(100, 100), true, 'same instant');
  assert.equal(entry.bundleIsFresh(100, 200), false, 'tsc ran after the bundle: stale');
});

test('files found through import.meta.url are the ones scripts/bundle.js places beside the bundle', () => {
  // dist/bundle/ sits as deep as dist/src/ and holds bcrypt-worker.js; any other file a module
  // finds relative to itself would be looked for beside the chunks and missed there.
  const known = new Set(["'../../package.json'", "'./bcrypt-worker.js'"]);
  const found = new Set<string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        // `herald bench` runs unbundled (scripts/bundle.js keeps it external).
        if (e.name !== 'bench') walk(p);
      } else if (e.name.endsWith('.js')) {
        for (const m of readFileSync(p, 'utf8').matchAll(/new URL\(([^,]+),\s*import\.meta\.url\)/g)) found.add(m[1]!.replace(/"/g, "'"));
      }
    }
  };
  walk(resolve(ROOT, 'dist/src'));
  assert.deepEqual([...found].filter((f) => !known.has(f)), [], 'teach scripts/bundle.js where these files go');
});
