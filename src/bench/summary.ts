/**
 * Turns the runs of a suite into medians with ranges per workload × target, herald/peer
 * comparisons, and the raw-generator-vs-client comparison. Pure functions (unit-tested).
 */
import type { RunRecord } from './runner.js';
import { advantage, ratio, spread, type Spread } from './lib/stats.js';

/** Medians (with ranges) of one workload on one target over the rounds that ran. */
export interface SummaryRow {
  workload: string;
  target: string;
  runs: number;
  /** Why the workload did not run on this target (all rounds skipped), else null. */
  skipped: string | null;
  errors: string[];
  rate: Spread | null;
  publishRate: Spread | null;
  lost: Spread | null;
  /** Deliveries above published × fanout (pub/sub only). */
  duplicates: Spread | null;
  delivered: Spread | null;
  disconnects: Spread | null;
  slowConsumers: Spread | null;
  p50: Spread | null;
  p99: Spread | null;
  p999: Spread | null;
  floorP50: Spread | null;
  floorP99: Spread | null;
  floorP999: Spread | null;
  cpuServer: Spread | null;
  cpuMain: Spread | null;
  cpuOthers: Spread | null;
  cpuMachine: Spread | null;
  cpuOther: Spread | null;
  serverUsPerMsg: Spread | null;
  /** Checks of the last round that ran (stream counts, acks). */
  checks: Record<string, number | string | boolean>;
  /** Did every round's checks pass (no `false` values)? */
  checksOk: boolean;
  /** "round N: why" for each round whose counts failed (errors, duplicates, misroutes; see lib/accounting.ts). */
  failed: string[];
}

/** herald against the peer on one workload. */
export interface ComparisonRow {
  workload: string;
  peer: string;
  /** 'rate' (msgs/s, higher is better) or 'p50' (µs, lower is better). */
  metric: 'rate' | 'p50';
  herald: Spread | null;
  peerValue: Spread | null;
  /** herald median / peer median. */
  ratio: number | null;
  /** > 1 means herald did better (herald/peer for rates, peer/herald for latencies). */
  advantage: number | null;
  /** herald's p99 / the peer's p99, for latency rows. */
  p99Ratio: number | null;
  /** Server CPU µs per message, herald / peer. */
  cpuRatio: number | null;
  /** Why herald has no number here, if it has none. */
  heraldNote: string | null;
  /** A round of either side failed its counts: the ratio compares numbers that cannot be trusted. */
  failed: boolean;
}

function sp(rs: RunRecord[], f: (r: RunRecord) => number | null | undefined): Spread | null {
  return spread(rs.map(f).filter((x): x is number => typeof x === 'number'));
}

/** Summarises the runs of one workload on one target. */
export function summarise(workload: string, target: string, runs: readonly RunRecord[]): SummaryRow {
  const all = runs.filter((r) => r.workload === workload && r.target === target);
  const ran = all.filter((r) => r.skipped === null && r.error === null);
  const skipped = ran.length === 0 ? (all.find((r) => r.skipped)?.skipped ?? all.find((r) => r.error)?.error ?? 'not run') : null;
  const checksOk = ran.every((r) => Object.values(r.checks).every((v) => v !== false));
  return {
    workload,
    target,
    runs: ran.length,
    skipped,
    errors: [...new Set(all.map((r) => r.error ?? r.firstError).filter((x): x is string => !!x))],
    rate: sp(ran, (r) => r.rate),
    publishRate: sp(ran, (r) => r.publishRate),
    lost: sp(ran, (r) => r.lost),
    duplicates: sp(ran, (r) => r.duplicates),
    delivered: sp(ran, (r) => r.delivered),
    disconnects: sp(ran, (r) => r.disconnects),
    slowConsumers: sp(ran, (r) => r.slowConsumers),
    p50: sp(ran, (r) => r.latency?.p50),
    p99: sp(ran, (r) => r.latency?.p99),
    p999: sp(ran, (r) => r.latency?.p999),
    floorP50: sp(ran, (r) => r.floor?.p50),
    floorP99: sp(ran, (r) => r.floor?.p99),
    floorP999: sp(ran, (r) => r.floor?.p999),
    cpuServer: sp(ran, (r) => r.cpu?.server),
    cpuMain: sp(ran, (r) => r.cpu?.main),
    cpuOthers: sp(ran, (r) => (r.cpu ? r.cpu.others.reduce((a, b) => a + b, 0) : null)),
    cpuMachine: sp(ran, (r) => r.cpu?.machine),
    cpuOther: sp(ran, (r) => r.cpu?.other),
    serverUsPerMsg: sp(ran, (r) => r.serverUsPerMsg),
    checks: ran[ran.length - 1]?.checks ?? {},
    checksOk,
    failed: ran.filter((r) => r.failed != null).map((r) => `round ${r.round}: ${r.failed}`),
  };
}

/** Compares herald's row with the peer's on one workload. */
export function compare(
  workload: string,
  kind: 'throughput' | 'latency',
  herald: SummaryRow | null,
  peer: SummaryRow,
  heraldNote: string | null,
): ComparisonRow {
  const metric = kind === 'latency' ? 'p50' : 'rate';
  const h = herald && herald.skipped === null ? (metric === 'rate' ? herald.rate : herald.p50) : null;
  const p = peer.skipped === null ? (metric === 'rate' ? peer.rate : peer.p50) : null;
  return {
    workload,
    peer: peer.target,
    metric,
    herald: h,
    peerValue: p,
    ratio: ratio(h?.median, p?.median),
    advantage: advantage(h?.median, p?.median, metric === 'rate'),
    p99Ratio: metric === 'p50' ? ratio(herald?.p99?.median, peer.p99?.median) : null,
    cpuRatio: ratio(herald?.serverUsPerMsg?.median, peer.serverUsPerMsg?.median),
    heraldNote: h === null ? (heraldNote ?? herald?.skipped ?? 'not run') : null,
    failed: (herald?.failed.length ?? 0) > 0 || peer.failed.length > 0,
  };
}

/** The raw generator against the nats.js client on pub/sub 1→1, 16 B, on one target. */
export interface ClientVsRaw {
  target: string;
  raw: SummaryRow;
  client: SummaryRow;
  /** raw rate / client rate. */
  speedup: number | null;
}

/** Pairs pub-16 with client-pub-16 per target. */
export function clientVsRaw(rows: readonly SummaryRow[]): ClientVsRaw[] {
  const out: ClientVsRaw[] = [];
  for (const c of rows.filter((r) => r.workload === 'client-pub-16' && r.skipped === null)) {
    const raw = rows.find((r) => r.workload === 'pub-16' && r.target === c.target && r.skipped === null);
    if (raw) out.push({ target: c.target, raw, client: c, speedup: ratio(raw.rate?.median, c.rate?.median) });
  }
  return out;
}
