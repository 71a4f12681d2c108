/**
 * A whole bench: pick the targets (start herald, nats-server and redis-server in compare mode, or
 * use the given URLs), run every workload on every target of its protocol for N interleaved
 * rounds, summarise, and write the report. Servers started here are stopped in all cases.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { connectNats, parseNatsUrl } from './lib/nats-wire.js';
import { parseRedisUrl, RespClient, respText } from './lib/resp-wire.js';
import { findListenerPid, isLoopback, readMachineCpu } from './lib/cpu.js';
import { fmtNum, fmtRate, fmtRatio } from './lib/stats.js';
import { machineInfo } from './machine.js';
import { ProgressDisplay } from './progress.js';
import { writeReport, type BenchReport, type TargetInfo, type WrittenReport } from './report.js';
import { runOne, type RunRecord } from './runner.js';
import {
  APT_HINT,
  findBinary,
  probeHerald,
  startHerald,
  startNatsServer,
  startRedisServer,
  type ManagedServer,
  type Target,
} from './servers.js';
import { clientVsRaw, compare, summarise, type ComparisonRow, type SummaryRow } from './summary.js';
import {
  CORE_BATCH,
  CORE_WINDOW,
  JS_BATCH,
  JS_WINDOW,
  PULL_WINDOW,
  selectWorkloads,
  WARMUP,
  XREAD_COUNT,
  type Workload,
} from './workloads.js';

/** Before each run, wait until less than this much CPU (% of a core) is busy outside the bench... */
const QUIET_OTHER_CPU = 30;
/** ...sampled over this window, ms... */
const QUIET_SAMPLE_MS = 500;
/** ...for at most this long per run, ms... */
export const QUIET_MAX_WAIT_MS = 5_000;
/** ...and at most this long over the whole suite, ms (keeps the default suite under 10 minutes). */
export const QUIET_BUDGET_MS = 60_000;

/**
 * Waits (bounded) until the machine is quiet: other people's work on a shared machine would land in
 * the measurement. Between runs nothing of ours is busy, so all machine CPU counts as other.
 * Returns the ms waited.
 */
export async function waitForQuiet(maxMs: number, onWait: () => void): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < maxMs) {
    const a = readMachineCpu();
    await new Promise((r) => setTimeout(r, QUIET_SAMPLE_MS));
    const b = readMachineCpu();
    if (!a || !b) return 0;
    const busy = (100 * (b.busy - a.busy)) / (QUIET_SAMPLE_MS / 1000);
    if (busy < QUIET_OTHER_CPU) break;
    onWait();
  }
  return Date.now() - t0;
}

/** Per-run overhead on top of its duration (fork, connect, drain, setup), s; for the ETA only. */
const RUN_OVERHEAD_S = 2.5;

/** What to run and where. */
export interface SuiteOptions {
  compare: boolean;
  natsUrl: string | null;
  redisUrl: string | null;
  natsMonitor: string | null;
  natsPid: number | null;
  redisPid: number | null;
  rounds: number;
  durationS: number;
  workloads: string[] | null;
  outDir: string;
  quick: boolean;
  /** Show the progress display (on a terminal). */
  progress: boolean;
  /** The command line, for the report. */
  command: string;
  /** File-name stem of the report; default `<date>-compare` or `<date>-run`. */
  stem?: string;
  /** Compare mode: run herald under `node --cpu-prof`, writing the profile here. */
  profileDir?: string | null;
  /** Compare mode: herald's `--sync` (default: herald's own default, `always`). */
  heraldSync?: string | null;
  /** Longest total wait for a quiet machine, ms (default QUIET_BUDGET_MS; 0 for tests that check counts, not speed). */
  quietBudgetMs?: number;
}

/** A setup problem the user can fix (missing server binary, bad URL): printed without a stack. */
export class BenchSetupError extends Error {}

/** The suite's outcome. */
export interface SuiteResult {
  report: BenchReport;
  written: WrittenReport;
  table: string;
  /** The herald CPU profile written during the run, if one was asked for. */
  profile: string | null;
}

async function natsTarget(url: string, monitor: string | null, pid: number | null): Promise<Target> {
  const addr = parseNatsUrl(url);
  let info: Record<string, unknown> = {};
  try {
    const raw = await connectNats(url, 'herald-bench-probe', 5000);
    info = raw.info;
    raw.socket.destroy();
  } catch (e) {
    throw new BenchSetupError(`cannot reach NATS at ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const found = pid ?? (isLoopback(addr.host) ? findListenerPid(addr.port) : null);
  const name = String(info['server_name'] ?? '').length > 0 ? `nats@${addr.port}` : `nats@${addr.host}:${addr.port}`;
  return {
    name,
    protocol: 'nats',
    url,
    monitorUrl: monitor,
    pid: found,
    version: `${String(info['version'] ?? 'unknown')}${info['server_name'] ? ` (${String(info['server_name'])})` : ''}`,
    path: null,
    durability: 'as configured on that server',
    managed: false,
  };
}

async function redisTarget(url: string, pid: number | null): Promise<Target> {
  const addr = parseRedisUrl(url);
  let version = 'unknown';
  try {
    const c = await RespClient.connect(url, 5000);
    const info = respText(await c.command(['INFO', 'server'], 5000)) ?? '';
    c.close();
    version = /redis_version:(\S+)/.exec(info)?.[1] ?? version;
  } catch (e) {
    throw new BenchSetupError(`cannot reach Redis at ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return {
    name: `redis@${addr.port}`,
    protocol: 'redis',
    url,
    monitorUrl: null,
    pid: pid ?? (isLoopback(addr.host) ? findListenerPid(addr.port) : null),
    version: `redis ${version}`,
    path: null,
    durability: 'as configured on that server',
    managed: false,
  };
}

function localDate(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** What compare mode says when a peer server is not installed. */
export function missingServersMessage(missing: readonly string[]): string {
  return `compare mode needs ${missing.join(' and ')}, which ${missing.length > 1 ? 'are' : 'is'} not installed (looked in $PATH and /usr/sbin, /usr/bin, /usr/local/bin).\nInstall them from Debian's packages:\n  ${APT_HINT}`;
}

/** Plain-text table of the comparisons (or of each target's headline numbers). */
export function textTable(rep: BenchReport, workloads: readonly Workload[]): string {
  const title = new Map(workloads.map((w) => [w.id, w.title]));
  const lines: string[][] = [];
  if (rep.comparisons.length > 0) {
    lines.push(['workload', 'herald', 'peer', 'herald/peer']);
    for (const c of rep.comparisons) {
      const f = (v: number | undefined): string =>
        v === undefined ? 'n/a' : c.metric === 'rate' ? `${fmtRate(v)}/s` : `${fmtNum(v)} µs`;
      const range = (s: { min: number; max: number; n: number } | null): string =>
        s && s.n > 1
          ? ` [${c.metric === 'rate' ? fmtRate(s.min) : fmtNum(s.min)}–${c.metric === 'rate' ? fmtRate(s.max) : fmtNum(s.max)}]`
          : '';
      lines.push([
        title.get(c.workload) ?? c.workload,
        c.herald ? `${f(c.herald.median)}${range(c.herald)}` : `n/a (${c.heraldNote ?? ''})`,
        c.peerValue ? `${f(c.peerValue.median)}${range(c.peerValue)} ${c.peer}` : `n/a ${c.peer}`,
        c.ratio === null ? '–' : `${fmtRatio(c.ratio)}${c.metric === 'p50' ? ' (p50, lower better)' : ''}`,
      ]);
    }
  } else {
    lines.push(['workload', 'server', 'msgs/s or p50', 'lost']);
    for (const r of rep.summary) {
      const v = r.skipped ? `n/a (${r.skipped})` : r.p50 ? `${fmtNum(r.p50.median)} µs` : `${fmtRate(r.rate?.median)}/s`;
      lines.push([title.get(r.workload) ?? r.workload, r.target, v, r.lost ? String(r.lost.median) : '–']);
    }
  }
  const widths = lines[0]!.map((_, i) => Math.min(60, Math.max(...lines.map((l) => (l[i] ?? '').length))));
  return lines
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Runs the suite; see the file comment. */
export async function runSuite(o: SuiteOptions): Promise<SuiteResult> {
  const workloads = selectWorkloads(o.workloads);
  const needNats = workloads.some((w) => w.protocol === 'nats');
  const needRedis = workloads.some((w) => w.protocol === 'redis');
  const started = Date.now();
  const machine = machineInfo();
  const servers: ManagedServer[] = [];
  const targets: Target[] = [];
  const unavailable: BenchReport['unavailable'] = [];
  const display = new ProgressDisplay(1, 0, process.stderr, o.progress);
  try {
    if (o.compare) {
      const natsBin = needNats ? findBinary('nats-server') : null;
      const redisBin = needRedis ? findBinary('redis-server') : null;
      const missing = [needNats && !natsBin ? 'nats-server' : null, needRedis && !redisBin ? 'redis-server' : null].filter(
        Boolean,
      );
      if (missing.length > 0) {
        throw new BenchSetupError(missingServersMessage(missing as string[]));
      }
      const probe = probeHerald();
      let heraldFailure: string | null = null;
      if (probe.available) {
        display.note('starting herald…');
        try {
          const h = await startHerald(probe, o.profileDir ?? null, o.heraldSync ?? null);
          servers.push(h);
          targets.push(...h.targets.filter((t) => (t.protocol === 'nats' ? needNats : needRedis)));
          if (needRedis && !h.targets.some((t) => t.protocol === 'redis'))
            unavailable.push({ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' });
        } catch (e) {
          // A herald that does not start (e.g. a half-built dist/) must not cost the peers' numbers.
          heraldFailure = `herald did not start: ${(e instanceof Error ? e.message : String(e)).split('\n').slice(0, 3).join(' ')}`;
          display.note(`${heraldFailure}; measuring the peers only`);
          if (needNats) unavailable.push({ name: 'herald', protocol: 'nats', reason: heraldFailure });
          if (needRedis) unavailable.push({ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' });
        }
      } else {
        display.note(`herald is not runnable here (${probe.reason}); measuring the peers only`);
        if (needNats) unavailable.push({ name: 'herald', protocol: 'nats', reason: probe.reason });
        if (needRedis) unavailable.push({ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' });
      }
      if (natsBin) {
        display.note('starting nats-server -js…');
        const n = await startNatsServer(natsBin);
        servers.push(n);
        targets.push(...n.targets);
      }
      if (redisBin) {
        display.note('starting redis-server (AOF everysec)…');
        const r = await startRedisServer(redisBin);
        servers.push(r);
        targets.push(...r.targets);
      }
    } else {
      if (!o.natsUrl && !o.redisUrl)
        throw new BenchSetupError('give --nats URL and/or --redis URL, or --compare to start the servers');
      if (o.natsUrl && needNats) targets.push(await natsTarget(o.natsUrl, o.natsMonitor, o.natsPid));
      if (o.redisUrl && needRedis) targets.push(await redisTarget(o.redisUrl, o.redisPid));
    }

    const plan: Array<{ round: number; w: Workload; t: Target }> = [];
    for (let round = 1; round <= o.rounds; round++) {
      for (const w of workloads) {
        const ts = targets.filter((t) => t.protocol === w.protocol);
        // Alternate which server goes first, so neither always runs on a warmer (or hotter) machine.
        if (round % 2 === 0) ts.reverse();
        for (const t of ts) plan.push({ round, w, t });
      }
    }
    const perRun = o.durationS + RUN_OVERHEAD_S;
    const progress = new ProgressDisplay(plan.length, plan.length * perRun, process.stderr, o.progress);
    progress.note(
      `${plan.length} runs (${workloads.length} workloads × ${targets.map((t) => `${t.name}/${t.protocol}`).join(', ')} × ${o.rounds} rounds), about ${Math.ceil((plan.length * perRun) / 60)} min`,
    );
    const runs: RunRecord[] = [];
    let quietBudgetMs = o.quietBudgetMs ?? QUIET_BUDGET_MS;
    let quietWaitedMs = 0;
    for (const { round, w, t } of plan) {
      progress.begin(round, o.rounds, w.id, t.name);
      const waited = await waitForQuiet(Math.min(QUIET_MAX_WAIT_MS, quietBudgetMs), () =>
        progress.update('waiting for a quiet machine', 0, 0, 0),
      );
      quietBudgetMs -= waited;
      quietWaitedMs += waited;
      const r = await runOne(w, t, round, o.durationS * 1000, o.quick, (p) =>
        progress.update(p.phase, p.elapsedMs, p.totalMs, p.received),
      );
      runs.push(r);
      progress.finish(r);
    }
    progress.clear();

    const summary: SummaryRow[] = [];
    const comparisons: ComparisonRow[] = [];
    for (const w of workloads) {
      const ts = targets.filter((t) => t.protocol === w.protocol);
      const rows = ts.map((t) => summarise(w.id, t.name, runs));
      summary.push(...rows);
      if (!o.compare) continue;
      const herald = rows.find((r) => r.target === 'herald') ?? null;
      const note = unavailable.find((u) => u.name === 'herald' && u.protocol === w.protocol)?.reason ?? null;
      for (const peer of rows.filter((r) => r.target !== 'herald')) comparisons.push(compare(w.id, w.kind, herald, peer, note));
    }
    const tinfo: TargetInfo[] = targets.map((t) => ({
      name: t.name,
      protocol: t.protocol,
      version: t.version,
      path: t.path,
      durability: t.durability,
      pidKnown: t.pid !== null,
      managed: t.managed,
    }));
    const report: BenchReport = {
      schema: 1,
      createdAt: new Date().toISOString(),
      command: o.command,
      mode: o.compare ? 'compare' : 'run',
      machine,
      settings: {
        rounds: o.rounds,
        durationS: o.durationS,
        quick: o.quick,
        workloads: workloads.map((w) => w.id),
        coreBatch: CORE_BATCH,
        coreWindow: CORE_WINDOW,
        jsBatch: JS_BATCH,
        jsWindow: JS_WINDOW,
        pullWindow: PULL_WINDOW,
        xreadCount: XREAD_COUNT,
        warmup: WARMUP,
        wallSeconds: (Date.now() - started) / 1000,
        quietWaitSeconds: quietWaitedMs / 1000,
      },
      targets: tinfo,
      unavailable,
      runs,
      summary,
      comparisons,
      clientVsRaw: clientVsRaw(summary),
    };
    const stem = o.stem ?? `${localDate()}-${o.compare ? 'compare' : 'run'}`;
    const written = writeReport(report, workloads, o.outDir, stem);
    // herald writes its profile when it exits, so stop the servers before looking for it.
    await stopAll(servers);
    return {
      report,
      written,
      table: textTable(report, workloads),
      profile: o.profileDir ? newestProfile(o.profileDir, started) : null,
    };
  } finally {
    display.clear();
    await stopAll(servers);
  }
}

async function stopAll(servers: ManagedServer[]): Promise<void> {
  for (const s of servers.splice(0).reverse()) await s.stop().catch(() => undefined);
}

/** The newest `.cpuprofile` in dir written since `since` (ms epoch), or null. */
function newestProfile(dir: string, since: number): string | null {
  let best: { file: string; mtime: number } | null = null;
  let names: string[] = [];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const n of names) {
    if (!n.endsWith('.cpuprofile')) continue;
    const file = path.join(dir, n);
    const mtime = statSync(file).mtimeMs;
    if (mtime >= since && (!best || mtime > best.mtime)) best = { file, mtime };
  }
  return best?.file ?? null;
}
