/**
 * Runs one workload against one target: setup, fork the roles (each in its own process), start,
 * sample CPU from /proc, wait for the main role, drain the subscribers, collect, check, tear down.
 * Every wait is bounded and every process forked here is reaped (SIGKILL by pid if needed).
 */
import { varzSlowConsumers } from './admin.js';
import { account } from './lib/accounting.js';
import { cpuBetween, nowMs, sampleCpu, type CpuSample, type CpuTarget } from './lib/cpu.js';
import type { LatencySummary } from './lib/hdr.js';
import type { RoleConfig, RoleResult } from './lib/ipc.js';
import type { Target } from './servers.js';
import { WorkerProc } from './worker-proc.js';
import type { Checks, Plan, PlanContext, Workload } from './workloads.js';

/** Time allowed for all workers to connect and subscribe, ms. */
const READY_TIMEOUT_MS = 15_000;
/** Beyond its duration, how long the main role may take to report, ms. */
const MAIN_GRACE_MS = 30_000;
/** Drain: poll interval, give-up-after-no-progress, and hard cap, ms. */
const DRAIN_POLL_MS = 50;
const DRAIN_IDLE_MS = 1_000;
const DRAIN_MAX_MS = 15_000;
/** How long a subscriber may take to send its final result, ms. */
const STOP_TIMEOUT_MS = 5_000;
/** Progress display refresh while a run is measuring, ms. */
const PROGRESS_MS = 250;

/** CPU use over the measured window, percent of one core (100 = one core). */
export interface RunCpu {
  /** The server process (children included, e.g. Redis AOF rewrites); null if its pid is unknown. */
  server: number | null;
  /** The main role's process (publisher, requester or consumer). */
  main: number;
  /** Each other process (subscribers, replier). */
  others: number[];
  /** This orchestrating process (progress polls, IPC). */
  bench: number;
  /** Whole machine, and the part of it outside the bench's processes. */
  machine: number | null;
  other: number | null;
  /** Length of the CPU window, s. */
  windowS: number;
}

/** The outcome of one workload × target × round. */
export interface RunRecord {
  workload: string;
  target: string;
  round: number;
  /** null when the run happened; otherwise why not (shown as n/a). */
  skipped: string | null;
  /** Set when the run failed part-way (the numbers may be partial). */
  error: string | null;
  /** Measured window, s: first publish to last delivery (pub/sub), or the main role's phase. */
  seconds: number;
  published: number;
  delivered: number;
  /** Deliveries expected after the drain (published × subscribers); 0 when not pub/sub. */
  expected: number;
  /** Deliveries above `expected` (pub/sub), see bench/lib/accounting.ts; absent in old reports. */
  duplicates?: number | null;
  /** Answers that were not for their request or stream; absent in old reports. */
  misrouted?: number;
  /** Why this run's numbers cannot be trusted (errors, duplicates, misroutes), or null; absent in old reports. */
  failed?: string | null;
  /** expected − delivered (pub/sub), or publishes without an ok ack/reply (streams); null for consumers and latency. */
  lost: number | null;
  /** Headline rate: delivered msgs/s (pub/sub), acked msgs/s, consumed msgs/s, or round trips/s. */
  rate: number;
  /** Publisher-side rate (messages the server accepted per second), for pub/sub. */
  publishRate: number | null;
  disconnects: number;
  /** `/varz` slow_consumers delta during the run, when a monitor URL is known. */
  slowConsumers: number | null;
  errors: number;
  firstError: string | null;
  cpu: RunCpu | null;
  /** Server CPU µs per delivered message (per round trip for latency), when its pid is known. */
  serverUsPerMsg: number | null;
  latency: LatencySummary | null;
  floor: LatencySummary | null;
  perConnection: number[];
  checks: Checks;
}

/** A callback for the progress display: phase and counts of the run in progress. */
export type ProgressFn = (p: { phase: string; elapsedMs: number; totalMs: number; received: number; sent: number }) => void;

function emptyRecord(w: Workload, t: Target, round: number): RunRecord {
  return {
    workload: w.id,
    target: t.name,
    round,
    skipped: null,
    error: null,
    seconds: 0,
    published: 0,
    delivered: 0,
    expected: 0,
    lost: null,
    rate: 0,
    publishRate: null,
    disconnects: 0,
    slowConsumers: null,
    errors: 0,
    firstError: null,
    cpu: null,
    serverUsPerMsg: null,
    latency: null,
    floor: null,
    perConnection: [],
    checks: {},
  };
}

/** Runs one worker to completion, unmeasured (backlog prefill). */
export async function runToCompletion(cfg: RoleConfig): Promise<RoleResult | null> {
  const w = new WorkerProc(cfg);
  try {
    await w.init(READY_TIMEOUT_MS);
    w.start();
    return await w.waitDone(cfg.durationMs + MAIN_GRACE_MS);
  } finally {
    await w.stop(STOP_TIMEOUT_MS).catch(() => null);
    await w.reap();
  }
}

async function sumProgress(workers: WorkerProc[]): Promise<{ received: number; sent: number }> {
  const ps = await Promise.all(workers.map((w) => w.poll()));
  let received = 0;
  let sent = 0;
  for (const p of ps) {
    received += p?.received ?? 0;
    sent += p?.sent ?? 0;
  }
  return { received, sent };
}

/** Runs `w` against `t`; never throws (failures are recorded in the result). */
export async function runOne(
  w: Workload,
  t: Target,
  round: number,
  durationMs: number,
  quick: boolean,
  progress: ProgressFn,
): Promise<RunRecord> {
  const rec = emptyRecord(w, t, round);
  const ctx: PlanContext = {
    target: t,
    durationMs,
    quick,
    runId: `${w.id.replace(/[^a-z0-9]/g, '')}${round}${process.pid}${Math.floor(Math.random() * 1e6)}`,
    prefill: runToCompletion,
  };
  const plan: Plan = w.plan(ctx);
  const workers: WorkerProc[] = [];
  try {
    progress({ phase: 'setup', elapsedMs: 0, totalMs: durationMs, received: 0, sent: 0 });
    const skip = plan.setup ? await plan.setup() : null;
    if (skip !== null) {
      rec.skipped = skip;
      return rec;
    }
    plan.adjust?.(plan.main);
    await measure(plan, w, t, rec, workers, durationMs, progress);
    if (plan.verify) rec.checks = await plan.verify(mainResultOf(workers) ?? ({} as RoleResult));
  } catch (e) {
    rec.error = e instanceof Error ? e.message : String(e);
  } finally {
    await Promise.all(workers.map((x) => x.reap()));
    if (plan.teardown) await plan.teardown().catch(() => undefined);
  }
  return rec;
}

function mainResultOf(workers: WorkerProc[]): RoleResult | null {
  return workers[workers.length - 1]?.result ?? null;
}

async function measure(
  plan: Plan,
  w: Workload,
  t: Target,
  rec: RunRecord,
  workers: WorkerProc[],
  durationMs: number,
  progress: ProgressFn,
): Promise<void> {
  const others = plan.others.map((cfg) => new WorkerProc(cfg));
  workers.push(...others);
  await Promise.all(others.map((o) => o.init(READY_TIMEOUT_MS)));
  const main = new WorkerProc(plan.main);
  workers.push(main); // last: mainResultOf relies on it
  await main.init(READY_TIMEOUT_MS);

  const targets: CpuTarget[] = [{ label: 'main', pid: main.pid }, ...others.map((o, i) => ({ label: `o${i}`, pid: o.pid }))];
  if (t.pid !== null) targets.push({ label: 'server', pid: t.pid });
  // The orchestrator itself (polls, IPC) is ours too, so "other" is only what ran outside the bench.
  targets.push({ label: 'bench', pid: process.pid });
  const slow0 = await varzSlowConsumers(t.monitorUrl);

  for (const o of others) o.start();
  let s0: CpuSample = sampleCpu(targets);
  main.start();
  const t0 = nowMs();
  const totalMs = durationMs + plan.main.floorMs;

  // Progress while the main role runs; bounded by its own timeouts plus a grace period.
  let mainDone = false;
  const donePromise = main.waitDone(totalMs + MAIN_GRACE_MS).then((r) => {
    mainDone = true;
    return r;
  });
  if (w.kind === 'latency') {
    void main.waitMeasuring(totalMs + MAIN_GRACE_MS).then(() => {
      if (!mainDone) s0 = sampleCpu(targets);
    });
  }
  while (!mainDone && nowMs() - t0 < totalMs + MAIN_GRACE_MS) {
    const p = await main.poll();
    progress({ phase: 'run', elapsedMs: nowMs() - t0, totalMs, received: p?.received ?? 0, sent: p?.sent ?? 0 });
    await Promise.race([donePromise, new Promise((r) => setTimeout(r, PROGRESS_MS))]);
  }
  const mres = await donePromise;
  const s1 = sampleCpu(targets);
  if (!mres) throw new Error(main.describeFailure('did not finish'));

  // Drain: wait until every expected delivery arrived, or deliveries stop, or the cap.
  const expected = mres.sent * plan.fanout;
  let delivered = 0;
  if (plan.fanout > 0) {
    const d0 = nowMs();
    let lastChange = d0;
    let last = -1;
    while (nowMs() - d0 < DRAIN_MAX_MS) {
      const { received } = await sumProgress(others);
      delivered = received;
      progress({ phase: 'drain', elapsedMs: nowMs() - t0, totalMs, received, sent: mres.sent });
      if (received >= expected) break;
      if (received !== last) {
        last = received;
        lastChange = nowMs();
      } else if (nowMs() - lastChange >= DRAIN_IDLE_MS) break;
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
  }
  const s2 = sampleCpu(targets);
  const slow1 = await varzSlowConsumers(t.monitorUrl);
  const ores = await Promise.all(others.map((o) => o.stop(STOP_TIMEOUT_MS)));
  for (let i = 0; i < ores.length; i++) {
    if (!ores[i]) throw new Error(others[i]!.describeFailure('returned no result'));
  }
  const results = ores as RoleResult[];
  fill(rec, w, plan, mres, results, s0, s1, s2, t.pid !== null);
  if (slow0 !== null && slow1 !== null) rec.slowConsumers = slow1 - slow0;
  void delivered;
}

function fill(
  rec: RunRecord,
  w: Workload,
  plan: Plan,
  m: RoleResult,
  others: RoleResult[],
  s0: CpuSample,
  s1: CpuSample,
  s2: CpuSample,
  serverKnown: boolean,
): void {
  const c = account({ kind: w.kind, fanout: plan.fanout }, m, others);
  rec.errors = c.errors;
  rec.firstError = m.firstError ?? others.find((r) => r.firstError)?.firstError ?? null;
  rec.disconnects = m.disconnects + others.reduce((a, r) => a + r.disconnects, 0);
  rec.latency = m.latency ?? null;
  rec.floor = m.floor ?? null;
  rec.published = c.published;
  rec.delivered = c.delivered;
  rec.expected = c.expected;
  rec.lost = c.lost;
  rec.duplicates = c.duplicates;
  rec.misrouted = c.misrouted;
  rec.failed = c.failed;
  rec.seconds = c.seconds;
  rec.rate = c.rate;
  rec.publishRate = c.publishRate;
  if (plan.fanout > 0) rec.perConnection = others.flatMap((r) => r.perConnection);
  const count = c.perMessageCount;
  const win = cpuBetween(s0, s1);
  const whole = cpuBetween(s0, s2);
  rec.cpu = {
    server: serverKnown ? (win.percent['server'] ?? null) : null,
    main: win.percent['main'] ?? 0,
    others: others.map((_, i) => win.percent[`o${i}`] ?? 0),
    bench: win.percent['bench'] ?? 0,
    machine: win.machine,
    other: win.other,
    windowS: win.seconds,
  };
  const serverS = whole.cpuSeconds['server'];
  rec.serverUsPerMsg = serverKnown && serverS !== undefined && count > 0 ? (serverS * 1e6) / count : null;
}
