/**
 * `herald bench`: parses the flags, runs the suite (bench/suite.ts), prints the table and where
 * the report went. Returns the process exit code: 0 done, 1 some runs failed, 2 usage or setup
 * error, 130 interrupted.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderProfile, summariseProfile, type CpuProfile } from '../../bench/profile-summary.js';
import { repoRoot, killAllServersSync } from '../../bench/servers.js';
import { BenchSetupError, runSuite } from '../../bench/suite.js';
import { WORKLOADS } from '../../bench/workloads.js';
import { LAT_WORKLOADS } from '../../bench/latency/workloads.js';
import { runLatency } from './latency.js';
import { parseBenchArgs, UsageError, USAGE, type BenchArgs } from './args.js';

/** Functions listed per table when printing a profile summary. */
const PROFILE_TOP = 25;

/** Runs `herald bench` with the arguments after `bench`; resolves to the exit code. */
export async function runBench(argv: string[]): Promise<number> {
  let args: BenchArgs;
  try {
    args = parseBenchArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`herald bench: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.list && args.latency) {
    for (const w of LAT_WORKLOADS) process.stdout.write(`${w.id.padEnd(24)} ${w.title}\n`);
    return 0;
  }
  if (args.list) {
    for (const w of WORKLOADS) process.stdout.write(`${w.id.padEnd(20)} ${w.title}\n${' '.repeat(21)}${w.describe}\n`);
    return 0;
  }
  if (!args.compare && !args.nats && !args.redis) {
    process.stderr.write(`herald bench: give --compare, or --nats URL and/or --redis URL\n\n${USAGE}\n`);
    return 2;
  }
  // Servers started by the suite must not outlive us, even on Ctrl-C.
  const onSignal = (sig: NodeJS.Signals): void => {
    process.stderr.write(`\nherald bench: ${sig}, stopping the servers it started\n`);
    killAllServersSync();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.once('exit', killAllServersSync);
  if (args.latency) {
    try {
      return await runLatency(args, argv);
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('exit', killAllServersSync);
    }
  }
  try {
    const outDir = args.out ? path.resolve(args.out) : path.join(repoRoot(), 'bench', 'results');
    const res = await runSuite({
      compare: args.compare,
      natsUrl: args.nats,
      redisUrl: args.redis,
      natsMonitor: args.natsMonitor,
      natsPid: args.natsPid,
      redisPid: args.redisPid,
      rounds: args.rounds,
      durationS: args.duration,
      workloads: args.workloads,
      outDir,
      quick: args.quick,
      progress: args.progress,
      profileDir: args.profile ? path.resolve(args.profile) : null,
      heraldSync: args.heraldSync,
      command: ['herald bench', ...argv].join(' '),
    });
    process.stdout.write(`\n${res.table}\n\n`);
    process.stdout.write(`report: ${path.relative(process.cwd(), res.written.markdown) || res.written.markdown}\n`);
    process.stdout.write(`data:   ${path.relative(process.cwd(), res.written.json) || res.written.json}\n`);
    if (res.written.svg) process.stdout.write(`chart:  ${path.relative(process.cwd(), res.written.svg) || res.written.svg}\n`);
    if (args.profile) {
      if (res.profile) {
        const summary = renderProfile(summariseProfile(JSON.parse(readFileSync(res.profile, 'utf8')) as CpuProfile), PROFILE_TOP);
        writeFileSync(`${res.profile}.txt`, `${summary}\n`);
        process.stdout.write(`\nherald CPU profile: ${res.profile} (summary in ${res.profile}.txt)\n${summary}\n`);
      } else {
        process.stderr.write(`herald bench: no .cpuprofile appeared in ${args.profile} (did herald run and exit cleanly?)\n`);
      }
    }
    const failed = res.report.runs.filter((r) => r.error !== null);
    if (failed.length > 0) {
      process.stderr.write(`herald bench: ${failed.length} run(s) failed; see the report's "Errors" section\n`);
      return 1;
    }
    return 0;
  } catch (e) {
    if (e instanceof BenchSetupError || e instanceof UsageError) {
      process.stderr.write(`herald bench: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`herald bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.removeListener('exit', killAllServersSync);
  }
}
