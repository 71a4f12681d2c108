/**
 * Runs `herald bench` without the herald CLI: `node dist/bench/main.js --compare …`
 * (the same as `node bin/herald.js bench …`).
 */
import { runBench } from '../cli/bench/index.js';

runBench(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
