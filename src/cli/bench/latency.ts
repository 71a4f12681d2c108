/**
 * `herald bench --latency`: maps the flags onto the latency suite (bench/latency/suite.ts),
 * prints where the report went and the headline table. Returns the exit code.
 */
import path from 'node:path';
import { repoRoot } from '../../bench/servers.js';
import {
  DEFAULT_CALIBRATE_S,
  DEFAULT_LEVEL_S,
  DEFAULT_LEVELS,
  DEFAULT_WARMUP_S,
  FIXED_LEVEL_S,
  LatSetupError,
  runLatencySuite,
} from '../../bench/latency/suite.js';
import type { BenchArgs } from './args.js';

/** --quick with --latency: three levels of one second, a short calibration. */
const QUICK_LEVELS = [0.5, 1, 2];
const QUICK_LEVEL_S = 1;
const QUICK_CALIBRATE_S = 1;
const QUICK_FIXED_S = 2;

/** Runs the latency suite for parsed `herald bench` flags. */
export async function runLatency(args: BenchArgs, argv: readonly string[]): Promise<number> {
  const durationSet = argv.some((a) => a === '--duration' || a.startsWith('--duration='));
  try {
    const res = await runLatencySuite({
      compare: args.compare,
      natsUrl: args.nats,
      redisUrl: args.redis,
      natsMonitor: args.natsMonitor,
      workloads: args.workloads,
      levels: args.levels ?? (args.quick ? QUICK_LEVELS : DEFAULT_LEVELS),
      levelS: durationSet ? args.duration : args.quick ? QUICK_LEVEL_S : DEFAULT_LEVEL_S,
      warmupS: DEFAULT_WARMUP_S,
      calibrateS: args.quick ? QUICK_CALIBRATE_S : DEFAULT_CALIBRATE_S,
      fixedS: durationSet ? args.duration : args.quick ? QUICK_FIXED_S : FIXED_LEVEL_S,
      outDir: args.out ? path.resolve(args.out) : path.join(repoRoot(), 'bench', 'results'),
      heraldSync: args.heraldSync,
      command: ['herald bench', ...argv].join(' '),
    });
    const rel = (p: string): string => path.relative(process.cwd(), p) || p;
    process.stdout.write(
      `\nreport: ${rel(res.written.markdown)}\ndata:   ${rel(res.written.json)}\nchart:  ${rel(res.written.svg)}\n`,
    );
    const failed = res.report.rows.flatMap((r) => r.levels.filter((l) => l.error !== null));
    if (failed.length > 0) {
      process.stderr.write(`herald bench: ${failed.length} level(s) failed; see the report\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof LatSetupError) {
      process.stderr.write(`herald bench: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`herald bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
