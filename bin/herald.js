#!/usr/bin/env node
// herald's command-line entry point. Runs the compiled JavaScript in dist/ (build with `npm run build`).
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2), process.argv[1]).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`herald: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
