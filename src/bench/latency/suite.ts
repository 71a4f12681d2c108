/**
 * `herald bench --latency`: picks the targets (compare mode starts herald, nats-server -js and
 * redis-server through bench/servers.ts; otherwise the given URLs), and for every row and server
 * of its protocol measures the closed-loop maximum, then sweeps open-loop offered loads at
 * fractions of it (or runs the row's one fixed rate), and writes one report. Servers started here
 * are stopped in all cases.
 */
import path from 'node:path';
import { findListenerPid, isLoopback } from '../lib/cpu.js';
import { parseNatsUrl } from '../lib/nats-wire.js';
import { parseRedisUrl, RespClient, respText } from '../lib/resp-wire.js';
import { machineInfo } from '../machine.js';
import { QUIET_BUDGET_MS, QUIET_MAX_WAIT_MS, waitForQuiet } from '../suite.js';
import {
  APT_HINT,
  findBinary,
  probeHerald,
  startHerald,
  startNatsServer,
  startRedisServer,
  type ManagedServer,
  type Target,
} from '../servers.js';
import {
  findKnee,
  lossPolicy,
  writeLatencyReport,
  type LatencyReport,
  type LatRow,
  type WrittenLatencyReport,
} from './report.js';
import { runLevel, type LevelRecord } from './run.js';
import { selectLatWorkloads, SENSORS, type LatWorkload } from './workloads.js';

/** The default sweep: fractions of the measured closed-loop maximum (the issue's 10–200%). */
export const DEFAULT_LEVELS = [0.1, 0.5, 0.8, 1.0, 1.5, 2.0];
/** Seconds measured per level (p99.9 needs thousands of samples even at 10% load). */
export const DEFAULT_LEVEL_S = 3;
/** Unrecorded warm-up before each level (JIT, connection buffers), s. */
export const DEFAULT_WARMUP_S = 0.5;
/** Seconds of closed-loop calibration per row and server. */
export const DEFAULT_CALIBRATE_S = 2;
/** Fixed-rate rows (10,000 sensors) measure this many seconds: one level, so a little longer. */
export const FIXED_LEVEL_S = 5;
/** Calibrations per row and server at most, when the machine was busy during them. */
export const CALIBRATE_TRIES = 3;
/** A calibration with more than this much CPU (% of a core) used outside the bench is repeated. */
export const DISTURBED_OTHER_CPU = 50;
/** Redis connections needed by the sensor rows, beyond its default maxclients of 10,000. */
const REDIS_MAXCLIENTS = SENSORS + 100;

/** What to run. */
export interface LatSuiteOptions {
  compare: boolean;
  natsUrl: string | null;
  redisUrl: string | null;
  natsMonitor: string | null;
  workloads: string[] | null;
  levels: number[];
  levelS: number;
  warmupS: number;
  calibrateS: number;
  fixedS: number;
  outDir: string;
  heraldSync: string | null;
  command: string;
  /** File-name stem; default `<date>-latency`. */
  stem?: string;
  /** Wait (bounded) for a quiet machine before each level; off in tests. Default on. */
  quietWait?: boolean;
  /** One line per finished level (stderr by default). */
  log?: (line: string) => void;
}

/** The suite's outcome. */
export interface LatSuiteResult {
  report: LatencyReport;
  written: WrittenLatencyReport;
}

/** A problem the user can fix (missing server binary, bad URL). */
export class LatSetupError extends Error {}

function urlTarget(url: string, protocol: 'nats' | 'redis', monitor: string | null): Target {
  const a = protocol === 'nats' ? parseNatsUrl(url) : parseRedisUrl(url);
  return {
    name: `${protocol}@${a.host}:${a.port}`,
    protocol,
    url,
    monitorUrl: monitor,
    pid: isLoopback(a.host) ? findListenerPid(a.port) : null,
    version: 'as running',
    durability: 'as configured on that server',
    managed: false,
    path: null,
  };
}

/** Lets a Redis server take the 10,000 sensor connections (its default maxclients is 10,000). */
async function raiseRedisClients(t: Target): Promise<string> {
  try {
    const c = await RespClient.connect(t.url, 5000);
    const r = await c.command(['CONFIG', 'SET', 'maxclients', String(REDIS_MAXCLIENTS)]);
    c.close();
    return respText(r) === 'OK'
      ? `maxclients ${REDIS_MAXCLIENTS}`
      : `CONFIG SET maxclients refused (${String(respText(r) ?? 'error')})`;
  } catch (e) {
    return `CONFIG SET maxclients failed (${e instanceof Error ? e.message : String(e)})`;
  }
}

let tagSeq = 0;
/** A run tag unique within this process and unlikely to repeat across runs. */
function nextTag(): number {
  tagSeq++;
  return ((process.pid % 1000) * 100_000 + ((Date.now() / 1000) % 1000) * 100 + tagSeq) >>> 0;
}

function describe(r: LevelRecord): string {
  if (r.error) return `error: ${r.error}`;
  const l = r.latency;
  const lat = l ? `p50 ${l.p50} µs p99 ${l.p99} µs p99.9 ${l.p999} µs` : 'no latency';
  return `${Math.round(r.achieved)}/s ${lat} loss ${r.lossPct.toFixed(2)}%${r.clientBound ? ` [client-bound: ${r.clientBound}]` : ''}`;
}

/** The bounded wait for a quiet machine before each level (bench/suite.ts's rule), and what it cost. */
class Quiet {
  budgetMs = QUIET_BUDGET_MS;
  waitedMs = 0;
  constructor(enabled: boolean) {
    if (!enabled) this.budgetMs = 0;
  }
  async wait(): Promise<void> {
    if (this.budgetMs <= 0) return;
    const waited = await waitForQuiet(Math.min(QUIET_MAX_WAIT_MS, this.budgetMs), () => undefined);
    this.budgetMs = Math.max(0, this.budgetMs - waited);
    this.waitedMs += waited;
  }
}

/** Measures one row on one server. */
async function runRow(w: LatWorkload, t: Target, o: LatSuiteOptions, log: (s: string) => void, quiet: Quiet): Promise<LatRow> {
  const row: LatRow = {
    workload: w.id,
    title: w.title,
    target: t.name,
    protocol: w.protocol,
    durability: w.stored ? t.durability : 'nothing stored',
    policy: lossPolicy(t, w),
    skipped: null,
    note: null,
    calibration: null,
    maxRate: null,
    levels: [],
    knee: null,
  };
  const warmupMs = o.warmupS * 1000;
  if (w.target === 'redis' && w.pubProcs * w.pubConns >= SENSORS) row.note = await raiseRedisClients(t);
  if (w.load === 'sweep') {
    // A maximum taken while something else used the machine would scale every level down, so a
    // disturbed calibration is repeated (bounded) and the best one kept.
    let best: LevelRecord | null = null;
    for (let i = 0; i < CALIBRATE_TRIES; i++) {
      await quiet.wait();
      const c = await runLevel({
        w,
        t,
        mode: 'closed',
        rate: 0,
        fraction: null,
        warmupMs,
        durationMs: o.calibrateS * 1000,
        tag: nextTag(),
      });
      if (c.skip !== null) {
        row.skipped = c.skip;
        log(`${w.id} on ${t.name}: n/a (${c.skip})`);
        return row;
      }
      if (best === null || c.rec.achieved > best.achieved) best = c.rec;
      if ((c.rec.cpu?.other ?? 0) < DISTURBED_OTHER_CPU) break;
      log(
        `${w.id} on ${t.name}: calibration disturbed (${Math.round(c.rec.cpu?.other ?? 0)}% of a core busy outside the bench), again`,
      );
    }
    const cal = { rec: best! };
    row.calibration = cal.rec;
    log(`${w.id} on ${t.name}: closed loop ${describe(cal.rec)}`);
    if (cal.rec.error || !(cal.rec.achieved > 0)) {
      row.skipped = `calibration failed: ${cal.rec.error ?? 'nothing delivered'}`;
      return row;
    }
    row.maxRate = cal.rec.achieved;
    for (const f of o.levels) {
      await quiet.wait();
      const lv = await runLevel({
        w,
        t,
        mode: 'open',
        rate: f * row.maxRate,
        fraction: f,
        warmupMs,
        durationMs: o.levelS * 1000,
        tag: nextTag(),
      });
      if (lv.skip !== null) {
        row.skipped = lv.skip;
        return row;
      }
      row.levels.push(lv.rec);
      log(`${w.id} on ${t.name}: ${Math.round(f * 100)}% = ${Math.round(f * row.maxRate)}/s offered → ${describe(lv.rec)}`);
    }
    row.knee = findKnee(row.levels);
  } else {
    await quiet.wait();
    const lv = await runLevel({
      w,
      t,
      mode: 'open',
      rate: w.load,
      fraction: null,
      warmupMs,
      durationMs: o.fixedS * 1000,
      tag: nextTag(),
    });
    if (lv.skip !== null) {
      row.skipped = lv.skip;
      return row;
    }
    row.levels.push(lv.rec);
    log(`${w.id} on ${t.name}: ${w.load}/s offered → ${describe(lv.rec)}`);
  }
  return row;
}

/** Runs the latency suite; see the file comment. */
export async function runLatencySuite(o: LatSuiteOptions): Promise<LatSuiteResult> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  let workloads: LatWorkload[];
  try {
    workloads = selectLatWorkloads(o.workloads);
  } catch (e) {
    throw new LatSetupError(e instanceof Error ? e.message : String(e));
  }
  const needNats = workloads.some((w) => w.target === 'nats');
  const needRedis = workloads.some((w) => w.target === 'redis');
  const started = Date.now();
  const machine = machineInfo();
  const servers: ManagedServer[] = [];
  const targets: Target[] = [];
  const unavailable: LatencyReport['unavailable'] = [];
  try {
    if (o.compare) {
      const natsBin = needNats ? findBinary('nats-server') : null;
      const redisBin = needRedis ? findBinary('redis-server') : null;
      const missing = [needNats && !natsBin ? 'nats-server' : null, needRedis && !redisBin ? 'redis-server' : null].filter(
        (x): x is string => x !== null,
      );
      if (missing.length > 0) throw new LatSetupError(`compare mode needs ${missing.join(' and ')}; install: ${APT_HINT}`);
      const probe = probeHerald();
      if (probe.available) {
        try {
          const h = await startHerald(probe, null, o.heraldSync);
          servers.push(h);
          targets.push(...h.targets.filter((t) => (t.protocol === 'nats' ? needNats : needRedis)));
          if (needRedis && !h.targets.some((t) => t.protocol === 'redis'))
            unavailable.push({ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' });
        } catch (e) {
          unavailable.push({
            name: 'herald',
            protocol: 'nats',
            reason: `herald did not start: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`,
          });
        }
      } else {
        unavailable.push({ name: 'herald', protocol: 'nats', reason: probe.reason });
      }
      if (natsBin) {
        const n = await startNatsServer(natsBin);
        servers.push(n);
        targets.push(...n.targets);
      }
      if (redisBin) {
        const r = await startRedisServer(redisBin);
        servers.push(r);
        targets.push(...r.targets);
      }
    } else {
      if (!o.natsUrl && !o.redisUrl)
        throw new LatSetupError('give --nats URL and/or --redis URL, or --compare to start the servers');
      if (o.natsUrl && needNats) targets.push(urlTarget(o.natsUrl, 'nats', o.natsMonitor));
      if (o.redisUrl && needRedis) targets.push(urlTarget(o.redisUrl, 'redis', null));
    }
    const rows: LatRow[] = [];
    const quiet = new Quiet(o.quietWait ?? true);
    for (const w of workloads) {
      for (const t of targets.filter((x) => x.protocol === w.target)) rows.push(await runRow(w, t, o, log, quiet));
      for (const u of unavailable.filter((x) => x.protocol === w.target)) {
        rows.push({
          workload: w.id,
          title: w.title,
          target: u.name,
          protocol: w.protocol,
          durability: '–',
          policy: '–',
          skipped: u.reason,
          note: null,
          calibration: null,
          maxRate: null,
          levels: [],
          knee: null,
        });
      }
    }
    const report: LatencyReport = {
      schema: 1,
      kind: 'latency',
      date: new Date().toISOString(),
      command: o.command,
      wallS: Math.round((Date.now() - started) / 1000),
      quietWaitS: Math.round(quiet.waitedMs / 1000),
      machine,
      settings: { levels: o.levels, levelS: o.levelS, warmupS: o.warmupS, calibrateS: o.calibrateS, fixedS: o.fixedS },
      targets: targets.map((t) => ({
        name: t.name,
        protocol: t.protocol,
        version: t.version,
        durability: t.durability,
        pidKnown: t.pid !== null,
      })),
      unavailable,
      workloads: workloads.map((w) => ({
        id: w.id,
        title: w.title,
        processes: `${w.pubProcs} publisher process(es) × ${w.pubConns} connection(s), ${w.subProcs} subscriber process(es) × ${w.subConns} connection(s)`,
        payload: w.payload,
      })),
      rows,
    };
    const stem = o.stem ?? `${report.date.slice(0, 10)}-latency`;
    const written = writeLatencyReport(report, path.resolve(o.outDir), stem);
    return { report, written };
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
  }
}
