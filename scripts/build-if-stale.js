#!/usr/bin/env node
// Builds dist/ with tsc, then the start-up bundle (scripts/bundle.js), only when a source changed
// since the last successful build, so `npm start` takes well under a second when nothing changed
// (a full `tsc` takes ~12 s here).
//
// Stale when: there is no stamp (dist/.build-stamp, or tsc's dist/.tsbuildinfo), or any file under the compiled trees (the
// tsconfig `include` roots), tsconfig.json or package.json is newer than the stamp. The stamp's
// time is the moment the build *started*, so an edit made during a build triggers the next one.
//
// Usage: node scripts/build-if-stale.js [--if-possible]
//   --if-possible  when TypeScript is not installed (a production install, `npm install --omit=dev`),
//                  say so and exit 0 instead of failing (used by npm's `prepare`).
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
/** tsc's incremental state, rewritten by every build, so a plain `npm run build` counts too. */
const TSBUILDINFO = join(ROOT, 'dist', '.tsbuildinfo');
/** The trees tsconfig.json compiles, and the files that change how they compile. */
const SOURCE_DIRS = ['src', 'test'];
const SOURCE_FILES = ['tsconfig.json', 'package.json'];

/** Newest mtime (ms) of any .ts file under `dir`, or 0. */
function newestUnder(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name === 'node_modules' || e.name === 'results') continue;
      newest = Math.max(newest, newestUnder(p));
    } else if (e.name.endsWith('.ts')) {
      newest = Math.max(newest, statSync(p).mtimeMs);
    }
  }
  return newest;
}

function sourcesNewest() {
  let newest = 0;
  for (const d of SOURCE_DIRS) newest = Math.max(newest, newestUnder(join(ROOT, d)));
  for (const f of SOURCE_FILES) if (existsSync(join(ROOT, f))) newest = Math.max(newest, statSync(join(ROOT, f)).mtimeMs);
  return newest;
}

/**
 * Builds when stale. Returns the exit status a caller should use: 0 when dist/ is current (or the
 * build was skipped under `ifPossible`), tsc's status otherwise.
 */
export function buildIfStale({ ifPossible = false } = {}) {
  const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0);
  const stampTime = Math.max(mtime(STAMP), mtime(TSBUILDINFO));
  if (stampTime > 0 && sourcesNewest() <= stampTime) return 0;
  let tsc;
  try {
    tsc = createRequire(join(ROOT, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    if (ifPossible) {
      process.stderr.write(
        'herald: TypeScript is not installed (production install?), skipping the build; dist/ is used as it is\n',
      );
      return 0;
    }
    process.stderr.write('herald: cannot build: TypeScript is not installed (run npm install)\n');
    return 1;
  }
  const started = new Date();
  process.stderr.write('herald: sources changed, building (tsc)…\n');
  const r = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'tsconfig.json')], { stdio: 'inherit', cwd: ROOT });
  if (r.status !== 0) return r.status ?? 1;
  // The start-up bundle bin/ prefers (scripts/bundle.js); without it bin/ runs dist/src.
  const b = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.js')], { stdio: 'inherit', cwd: ROOT });
  if (b.status !== 0) return b.status ?? 1;
  mkdirSync(dirname(STAMP), { recursive: true });
  writeFileSync(STAMP, `${started.toISOString()}\n`);
  utimesSync(STAMP, started, started);
  return 0;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exit(buildIfStale({ ifPossible: process.argv.includes('--if-possible') }));
}
