// Loads herald's CLI for bin/herald.js and bin/shim/nats-server, and runs it.
//
// It prefers dist/bundle/main.js (scripts/bundle.js, built by `npm run build`): one file and a
// few chunks start ~40 ms sooner than the ~45 modules of dist/src, which matters to harnesses
// that start a server per test under a deadline. The bundle is used only when it is at least as
// new as tsc's last build (dist/.tsbuildinfo), so a bare `tsc` after `npm run build` never runs
// stale code; otherwise, or when there is no bundle, dist/src runs as it is. Cost: two stat calls.
import { statSync } from 'node:fs';

const mtime = (rel) => statSync(new URL(rel, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;

/** True when a bundle built at `bundleMs` (-1: none) may run: tsc's last build (`tscMs`) is not newer. */
export function bundleIsFresh(bundleMs, tscMs) {
  return bundleMs >= 0 && bundleMs >= tscMs;
}

/** Runs `main(argv, argv0)`; `label` prefixes a crash report. Sets the exit status. */
export async function run(argv, argv0, label) {
  try {
    const { main } = bundleIsFresh(mtime('../dist/bundle/main.js'), mtime('../dist/.tsbuildinfo'))
      ? await import('../dist/bundle/main.js')
      : await import('../dist/src/cli/main.js');
    const code = await main(argv, argv0);
    if (code !== 0) process.exitCode = code;
  } catch (err) {
    process.stderr.write(`${label}: ${err?.stack ?? err}\n`);
    process.exit(1);
  }
}
