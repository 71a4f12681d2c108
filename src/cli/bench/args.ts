/**
 * Flags of `herald bench`, parsed by hand (no dependency): the options, or a usage error.
 */

/** Rounds per workload and target by default: medians need at least 3 (anchors.md). */
export const DEFAULT_ROUNDS = 3;
/** Seconds per measured phase by default (anchors.md: runs of 5 s). */
export const DEFAULT_DURATION_S = 5;
/** `--quick`: one round… */
export const QUICK_ROUNDS = 1;
/** …of 2 s: long enough for every workload to reach steady state, short enough for a smoke check. */
export const QUICK_DURATION_S = 2;
/** Highest offered load accepted by --levels, as a fraction of the maximum. */
export const MAX_LEVEL_FRACTION = 20;
/** Most rounds accepted: keeps a mistyped flag from running for hours. */
export const MAX_ROUNDS = 50;
/** Longest measured phase accepted, s, for the same reason. */
export const MAX_DURATION_S = 600;

/** Parsed `herald bench` flags. */
export interface BenchArgs {
  help: boolean;
  list: boolean;
  compare: boolean;
  nats: string | null;
  redis: string | null;
  natsMonitor: string | null;
  natsPid: number | null;
  redisPid: number | null;
  rounds: number;
  duration: number;
  workloads: string[] | null;
  out: string | null;
  quick: boolean;
  progress: boolean;
  /** Compare mode: profile herald with --cpu-prof into this directory. */
  profile: string | null;
  /** Compare mode: herald's --sync (always, never or a duration). */
  heraldSync: string | null;
  /** Run the open-loop latency sweep (bench/latency) instead of the throughput suite. */
  latency: boolean;
  /** --latency: offered loads as fractions of the closed-loop maximum; null = the default sweep. */
  levels: number[] | null;
}

/** A bad flag or value; the message says which. */
export class UsageError extends Error {}

/** The --help text. */
export const USAGE = `herald bench — measure herald against nats-server and redis-server side by side

Usage:
  herald bench --compare [options]          start herald, nats-server -js and redis-server
                                            (AOF everysec) on random loopback ports and compare
  herald bench --nats URL [--redis URL]     measure servers that are already running

Options:
  --compare            start the three servers (temp data dirs) and compare them
  --nats URL           a NATS server to measure (nats://127.0.0.1:4222)
  --redis URL          a Redis server to measure (redis://127.0.0.1:6379)
  --nats-monitor URL   its monitoring port, for /varz slow_consumers (http://127.0.0.1:8222)
  --nats-pid PID       its pid, for CPU accounting (found automatically on loopback)
  --redis-pid PID      the same for the Redis server
  --rounds N           rounds, interleaved across servers (default ${DEFAULT_ROUNDS})
  --duration S         seconds per measured phase (default ${DEFAULT_DURATION_S})
  --workloads a,b,…    run only these workloads (see --list)
  --out DIR            where the JSON, Markdown and SVG go (default bench/results)
  --profile DIR        (with --compare) run herald under node --cpu-prof, write the
                       .cpuprofile to DIR and print where its time went (docs/profiling.md)
  --herald-sync MODE   (with --compare) herald's --sync: always (its default), never, or a
                       duration like 1s, to compare code paths at the peers' durability
  --latency            open-loop latency and loss at offered loads of 10–200% of each
                       server's maximum, plus the 100×100 and 10,000-sensor shapes
                       (docs/bench.md, "Latency under load"); --duration is per level
  --levels a,b,…       (with --latency) offered loads as fractions of the maximum
                       (default 0.1,0.5,0.8,1,1.5,2)
  --quick              ${QUICK_ROUNDS} round of ${QUICK_DURATION_S} s, smaller backlogs: a smoke check
  --no-progress        no live status line
  --list               list the workloads and exit
  --help               this text

Results: <out>/<date>-compare.{json,md,svg} and <out>/latest.md. See docs/bench.md.`;

function numArg(name: string, v: string | undefined, min: number, max: number): number {
  const n = Number(v);
  if (v === undefined || !Number.isFinite(n) || n < min || n > max)
    throw new UsageError(`${name} needs a number from ${min} to ${max}, got ${v ?? 'nothing'}`);
  return n;
}

/** Parses argv (without `bench` itself). */
export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = {
    help: false,
    list: false,
    compare: false,
    nats: null,
    redis: null,
    natsMonitor: null,
    natsPid: null,
    redisPid: null,
    rounds: DEFAULT_ROUNDS,
    duration: DEFAULT_DURATION_S,
    workloads: null,
    out: null,
    quick: false,
    progress: true,
    profile: null,
    heraldSync: null,
    latency: false,
    levels: null,
  };
  let roundsSet = false;
  let durationSet = false;
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const inline = raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : undefined;
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith('--'))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        a.help = true;
        break;
      case '--list':
        a.list = true;
        break;
      case '--compare':
        a.compare = true;
        break;
      case '--quick':
        a.quick = true;
        break;
      case '--latency':
        a.latency = true;
        break;
      case '--levels':
        a.levels = value()
          .split(',')
          .map((x) => numArg(flag, x.trim(), 0.001, MAX_LEVEL_FRACTION));
        break;
      case '--no-progress':
        a.progress = false;
        break;
      case '--nats':
        a.nats = value();
        break;
      case '--redis':
        a.redis = value();
        break;
      case '--nats-monitor':
        a.natsMonitor = value();
        break;
      case '--nats-pid':
        a.natsPid = numArg(flag, value(), 1, 2 ** 31);
        break;
      case '--redis-pid':
        a.redisPid = numArg(flag, value(), 1, 2 ** 31);
        break;
      case '--rounds':
        a.rounds = numArg(flag, value(), 1, MAX_ROUNDS);
        roundsSet = true;
        break;
      case '--duration':
        a.duration = numArg(flag, value(), 0.2, MAX_DURATION_S);
        durationSet = true;
        break;
      case '--workloads':
        a.workloads = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        break;
      case '--out':
        a.out = value();
        break;
      case '--profile':
        a.profile = value();
        break;
      case '--herald-sync':
        a.heraldSync = value();
        if (!/^(always|never|\d+(ms|s|m)?)$/.test(a.heraldSync))
          throw new UsageError(`--herald-sync takes always, never or a duration like 1s, got ${a.heraldSync}`);
        break;
      default:
        throw new UsageError(`unknown option ${raw} (see herald bench --help)`);
    }
  }
  if (a.quick) {
    if (!roundsSet) a.rounds = QUICK_ROUNDS;
    if (!durationSet) a.duration = QUICK_DURATION_S;
  }
  if (a.levels && !a.latency) throw new UsageError('--levels applies to --latency');
  if (a.heraldSync && !a.compare)
    throw new UsageError('--herald-sync applies to the herald that --compare starts; add --compare');
  if (a.profile && !a.compare) throw new UsageError('--profile profiles the herald that --compare starts; add --compare');
  if (a.compare && (a.nats || a.redis))
    throw new UsageError('--compare starts its own servers; use --nats/--redis without --compare to measure running ones');
  return a;
}
