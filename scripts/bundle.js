#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js) into dist/bundle/ with esbuild, run by
// `npm run build` after tsc. Why: a test harness that spawns `nats-server` (the drop-in in
// bin/shim) starts one server per test under a 1 s deadline, and Node's ESM loader spends more
// time resolving, reading and linking ~45 small modules than herald spends running them. One
// entry file plus a few shared chunks cut start-up CPU by ~40 ms (bench/startup/README.md).
//
// - ESM with code splitting: what `Server.start` imports lazily (JetStream, the Redis door,
//   monitoring, the data-directory lock) stays in chunks loaded only when used.
// - npm packages stay external (resolved from node_modules at run time, as before).
// - Files found through `import.meta.url` keep working because dist/bundle/ sits as deep as
//   dist/src/: `../../package.json` (src/version.ts) is the same file, and the bcrypt worker
//   (src/core/bcrypt-pool.ts, `./bcrypt-worker.js`) is a second entry point beside the chunks.
// - `herald bench` is left unbundled (it finds its worker scripts next to its own files): the
//   bundle imports dist/src/cli/bench/index.js as it is.
//
// bin/main-entry.js uses the bundle only when it is at least as new as tsc's output, so a bare
// `tsc` after a build never runs stale code. Without esbuild installed (a production install,
// or a node_modules that predates the devDependency) this says so, leaves no bundle, and exits 0:
// bin/ then runs dist/src directly, only slower to start.
//
// Usage: node scripts/bundle.js
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist', 'bundle');

/** Bundles dist/src into dist/bundle. Returns an exit status (0 also when esbuild is missing). */
export async function bundle() {
  rmSync(OUT, { recursive: true, force: true });
  let esbuild;
  try {
    esbuild = createRequire(join(ROOT, 'package.json'))('esbuild');
  } catch {
    process.stderr.write('herald: esbuild is not installed, so dist/bundle/ is not built; bin/ runs dist/src (slower start-up)\n');
    return 0;
  }
  const keepBenchExternal = {
    name: 'herald-bench-external',
    setup(build) {
      build.onResolve({ filter: /^\.\/bench\/index\.js$/ }, (args) =>
        args.importer.endsWith(join('cli', 'main.js')) ? { path: '../src/cli/bench/index.js', external: true } : undefined,
      );
    },
  };
  try {
    await esbuild.build({
      absWorkingDir: ROOT,
      entryPoints: ['dist/src/cli/main.js', 'dist/src/core/bcrypt-worker.js'],
      outdir: 'dist/bundle',
      entryNames: '[name]',
      chunkNames: 'chunk-[hash]',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'linked',
      logLevel: 'warning',
      plugins: [keepBenchExternal],
    });
  } catch (err) {
    rmSync(OUT, { recursive: true, force: true });
    process.stderr.write(`herald: bundling failed: ${err?.message ?? err}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(await bundle());
}
