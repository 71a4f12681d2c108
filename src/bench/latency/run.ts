/**
 * One measured level of one row on one server: set up, fork the subscriber and publisher
 * processes, start every publisher on one common schedule, sample CPU from /proc over the
 * measured window, stop the publishers, drain the subscribers (bounded), and account for every
 * message. Every process forked here is reaped by pid; every wait is bounded.
 */
import { varzSlowConsumers } from '../admin.js';
import { cpuBetween, nowMs, sampleCpu, type CpuSample, type CpuTarget } from '../lib/cpu.js';
import type { LatencySummary } from '../lib/hdr.js';
import type { Target } from '../servers.js';
import { mergeSummaries } from './histogram.js';
import type { LatRoleConfig, PubResult, SubResult } from './ipc.js';
import { accountLoss } from './loss.js';
import { LatProc } from './proc.js';
import type { LatWorkload, RowSetup } from './workloads.js';

/** All connections of a process must be up within this, ms (10,000 sensors take a few seconds). */
const CONNECT_TIMEOUT_MS = 60_000;
/** Delay between "start" and the first quantum, so every publisher begins on the same schedule, ms. */
const START_DELAY_MS = 100;
/** Beyond its schedule, how long a publisher may take to say it finished, ms. */
const FINISH_GRACE_MS = 30_000;
/** Drain: poll interval, give-up-after-no-progress, and hard cap, ms. */
const DRAIN_POLL_MS = 50;
const DRAIN_IDLE_MS = 2_000;
const DRAIN_MAX_MS = 15_000;
/** How long a process may take to send its result, ms (a publisher first waits for its PONGs). */
const STOP_TIMEOUT_MS = 15_000;
/** A generator process above this (% of one core) was saturated: the row is client-bound. */
export const CLIENT_BOUND_CPU = 90;
/** A publisher whose schedule lag p99 exceeds this (µs) could not keep its schedule. */
export const CLIENT_BOUND_LAG_US = 5_000;

/** CPU over the measured window, % of one core. */
export interface LevelCpu {
  server: number | null;
  pubs: number[];
  subs: number[];
  machine: number | null;
  other: number | null;
  windowS: number;
}

/** The outcome of one level. Rates are publishes per second (a 1→10 fan-out delivers 10 per publish). */
export interface LevelRecord {
  /** Fraction of the measured maximum (sweeps), or null (calibration, fixed-rate rows). */
  fraction: number | null;
  /** `open`: offered msgs/s; `closed`: calibration (as fast as acks allow). */
  mode: 'open' | 'closed';
  offered: number | null;
  /** Messages written by the publishers (warm-up included). */
  published: number;
  /** Messages the schedule asked for but the server's backpressure kept the generator from writing. */
  blocked: number;
  expected: number;
  delivered: number;
  /** Published, never received (after the drain). */
  lost: number;
  /** Per subscriber connection: messages it missed (JSON only; shows whether loss hit one or all). */
  lostPerSubscriber: number[];
  /** (lost + blocked) / (published + blocked), %. */
  lossPct: number;
  /** Delivered publishes per second over the measured window (first to last delivery). */
  achieved: number;
  /** From the intended send time (coordinated omission corrected), µs. */
  latency: LatencySummary | null;
  /** From the actual write, µs, for comparison. */
  service: LatencySummary | null;
  /** Publisher schedule lag (write − intended), µs. */
  lag: LatencySummary | null;
  disconnects: number;
  slowConsumers: number | null;
  errors: number;
  firstError: string | null;
  duplicates: number;
  cpu: LevelCpu | null;
  /** Why the generator, not the server, may have been the limit; null when it was not. */
  clientBound: string | null;
  error: string | null;
}

/** What a level is asked to do. */
export interface LevelPlan {
  w: LatWorkload;
  t: Target;
  mode: 'open' | 'closed';
  /** Offered publishes per second, all publishers together (open mode). */
  rate: number;
  fraction: number | null;
  warmupMs: number;
  durationMs: number;
  /** Run tag: names subjects, the stream, and goes into every stamp. */
  tag: number;
}

function emptyLevel(p: LevelPlan): LevelRecord {
  return {
    fraction: p.fraction,
    mode: p.mode,
    offered: p.mode === 'open' ? p.rate : null,
    published: 0,
    blocked: 0,
    expected: 0,
    delivered: 0,
    lost: 0,
    lostPerSubscriber: [],
    lossPct: 0,
    achieved: 0,
    latency: null,
    service: null,
    lag: null,
    disconnects: 0,
    slowConsumers: null,
    errors: 0,
    firstError: null,
    duplicates: 0,
    cpu: null,
    clientBound: null,
    error: null,
  };
}

function configs(p: LevelPlan, base: string, setup: RowSetup): { pubs: LatRoleConfig[]; subs: LatRoleConfig[] } {
  const { w } = p;
  const common = {
    protocol: w.protocol,
    url: p.t.url,
    payload: w.payload,
    mode: p.mode,
    warmupMs: p.warmupMs,
    durationMs: p.durationMs,
    tag: p.tag,
    batch: w.batch,
    window: w.window,
    pattern: w.pattern,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
  };
  const pubs: LatRoleConfig[] = [];
  for (let q = 0; q < w.pubProcs; q++) {
    const ids = Array.from({ length: w.pubConns }, (_, i) => q * w.pubConns + i);
    pubs.push({
      ...common,
      kind: 'pub',
      label: `${w.id}-pub${q}`,
      pubIds: ids,
      subjects: ids.map((i) => w.pubSubject(base, i)),
      rate: p.rate / w.pubProcs,
    });
  }
  const subs: LatRoleConfig[] = [];
  for (let q = 0; q < w.subProcs; q++) {
    const idx = Array.from({ length: w.subConns }, (_, i) => q * w.subConns + i);
    subs.push({
      ...common,
      kind: 'sub',
      label: `${w.id}-sub${q}`,
      pubIds: [],
      subjects: idx.map((i) => w.subSubject(base, i)),
      rate: 0,
      stream: setup.stream,
      consumer: setup.consumer,
    });
  }
  return { pubs, subs };
}

/** Deliveries so far over all subscriber processes; null when one did not answer (busy, not idle). */
async function totalReceived(subs: LatProc[]): Promise<number | null> {
  const ps = await Promise.all(subs.map((s) => s.poll()));
  if (ps.some((p) => p === null)) return null;
  return ps.reduce((a, p) => a + p!.received, 0);
}

/** Runs one level; never throws (a failure is recorded in `error`), may return `skip` from the row's setup. */
export async function runLevel(p: LevelPlan): Promise<{ rec: LevelRecord; skip: string | null }> {
  const rec = emptyLevel(p);
  const base = `lat.${p.tag}`;
  const procs: LatProc[] = [];
  let setup: RowSetup = { skip: null };
  try {
    if (p.w.setup) setup = await p.w.setup(p.t, base, p.tag);
    if (setup.skip !== null) return { rec, skip: setup.skip };
    const { pubs: pubCfgs, subs: subCfgs } = configs(p, base, setup);
    const subs = subCfgs.map((c) => new LatProc(c));
    procs.push(...subs);
    await Promise.all(subs.map((s) => s.init(CONNECT_TIMEOUT_MS)));
    const pubs = pubCfgs.map((c) => new LatProc(c));
    procs.push(...pubs);
    await Promise.all(pubs.map((s) => s.init(CONNECT_TIMEOUT_MS)));

    const targets: CpuTarget[] = [
      ...pubs.map((x, i) => ({ label: `p${i}`, pid: x.pid })),
      ...subs.map((x, i) => ({ label: `s${i}`, pid: x.pid })),
    ];
    if (p.t.pid !== null) targets.push({ label: 'server', pid: p.t.pid });
    targets.push({ label: 'bench', pid: process.pid });
    const slow0 = await varzSlowConsumers(p.t.monitorUrl);
    const atMs = nowMs() + START_DELAY_MS;
    for (const x of pubs) x.start(atMs);
    let s0: CpuSample | null = null;
    const warmTimer = setTimeout(() => (s0 = sampleCpu(targets)), Math.max(0, atMs + p.warmupMs - nowMs()));
    const ends = await Promise.all(pubs.map((x) => x.waitFinished(START_DELAY_MS + p.warmupMs + p.durationMs + FINISH_GRACE_MS)));
    clearTimeout(warmTimer);
    const s1 = sampleCpu(targets);
    s0 ??= s1;
    if (ends.some((e) => e === null))
      throw new Error(
        pubs
          .map((x, i) => (ends[i] === null ? x.describeFailure('did not finish its schedule') : ''))
          .filter(Boolean)
          .join('; '),
      );

    const pres = await Promise.all(pubs.map((x) => x.stop(STOP_TIMEOUT_MS)));
    pres.forEach((r, i) => {
      if (!r) throw new Error(pubs[i]!.describeFailure('returned no result'));
    });
    const pubResults = pres as PubResult[];
    const sent = new Map<number, number>();
    for (const r of pubResults) for (const [k, v] of Object.entries(r.sent)) sent.set(Number(k), v);
    const pubCount = p.w.pubProcs * p.w.pubConns;
    const listens = (i: number): number[] => p.w.listensTo(i, pubCount);
    let expected = 0;
    for (let i = 0; i < p.w.subProcs * p.w.subConns; i++) for (const pub of listens(i)) expected += sent.get(pub) ?? 0;

    // Drain: until every expected delivery arrived, deliveries stopped, or the cap.
    const d0 = nowMs();
    let last = -1;
    let lastChange = d0;
    while (nowMs() - d0 < DRAIN_MAX_MS) {
      const got = await totalReceived(subs);
      if (got !== null && got >= expected) break;
      if (got === null || got !== last) {
        last = got ?? last;
        lastChange = nowMs();
      } else if (nowMs() - lastChange >= DRAIN_IDLE_MS) break;
      await new Promise((r) => setTimeout(r, DRAIN_POLL_MS));
    }
    const slow1 = await varzSlowConsumers(p.t.monitorUrl);
    const sres = await Promise.all(subs.map((x) => x.stop(STOP_TIMEOUT_MS)));
    sres.forEach((r, i) => {
      if (!r) throw new Error(subs[i]!.describeFailure('returned no result'));
    });
    const subResults = sres as SubResult[];
    fill(rec, p, pubResults, subResults, sent, listens, s0, s1);
    if (slow0 !== null && slow1 !== null) rec.slowConsumers = slow1 - slow0;
  } catch (e) {
    rec.error = e instanceof Error ? e.message : String(e);
  } finally {
    await Promise.all(procs.map((x) => x.reap()));
    if (setup.teardown) await setup.teardown().catch(() => undefined);
  }
  return { rec, skip: null };
}

function fill(
  rec: LevelRecord,
  p: LevelPlan,
  pubs: PubResult[],
  subs: SubResult[],
  sent: Map<number, number>,
  listens: (i: number) => number[],
  s0: CpuSample,
  s1: CpuSample,
): void {
  const received = subs.flatMap((s) => s.received);
  const acc = accountLoss(sent, received, listens);
  rec.published = [...sent.values()].reduce((a, b) => a + b, 0);
  rec.blocked = pubs.reduce((a, r) => a + r.blocked, 0);
  rec.expected = acc.expected;
  rec.delivered = acc.delivered;
  rec.lost = acc.lost;
  rec.lostPerSubscriber = acc.lostPerSubscriber;
  const offeredAll = rec.published + rec.blocked;
  rec.lossPct = offeredAll > 0 ? (100 * (rec.lost / p.w.fanout + rec.blocked)) / offeredAll : 0;
  rec.duplicates = subs.reduce((a, s) => a + s.duplicates, 0);
  rec.disconnects = pubs.reduce((a, r) => a + r.disconnects, 0) + subs.reduce((a, s) => a + s.disconnects, 0);
  rec.errors = pubs.reduce((a, r) => a + r.errors, 0) + subs.reduce((a, s) => a + s.errors, 0);
  rec.firstError = pubs.find((r) => r.firstError)?.firstError ?? subs.find((s) => s.firstError)?.firstError ?? null;
  rec.latency = mergeSummaries(subs.map((s) => s.latency));
  rec.service = mergeSummaries(subs.map((s) => s.service));
  rec.lag = mergeSummaries(pubs.map((r) => r.lag));
  const firsts = subs.map((s) => s.firstRecvAt).filter((x): x is number => x !== null);
  const lasts = subs.map((s) => s.lastRecvAt).filter((x): x is number => x !== null);
  const span = firsts.length && lasts.length ? (Math.max(...lasts) - Math.min(...firsts)) / 1000 : 0;
  rec.achieved = span > 0 ? acc.delivered / p.w.fanout / span : 0;
  const win = cpuBetween(s0, s1);
  rec.cpu = {
    server: p.t.pid !== null ? (win.percent['server'] ?? null) : null,
    pubs: pubs.map((_, i) => win.percent[`p${i}`] ?? 0),
    subs: subs.map((_, i) => win.percent[`s${i}`] ?? 0),
    machine: win.machine,
    other: win.other,
    windowS: win.seconds,
  };
  rec.clientBound = clientBound(rec);
}

/** Why this level's generator may have been the bottleneck, or null. */
export function clientBound(rec: Pick<LevelRecord, 'cpu' | 'lag' | 'mode'>): string | null {
  const why: string[] = [];
  const cpu = rec.cpu;
  if (cpu) {
    const hot = [...cpu.pubs.map((c, i) => [`pub${i}`, c] as const), ...cpu.subs.map((c, i) => [`sub${i}`, c] as const)].filter(
      ([, c]) => c >= CLIENT_BOUND_CPU,
    );
    for (const [name, c] of hot) why.push(`${name} at ${Math.round(c)}% CPU`);
  }
  if (rec.mode === 'open' && rec.lag && rec.lag.p99 > CLIENT_BOUND_LAG_US)
    why.push(`publisher schedule lag p99 ${Math.round(rec.lag.p99 / 1000)} ms`);
  return why.length ? why.join(', ') : null;
}
