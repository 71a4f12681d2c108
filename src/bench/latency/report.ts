/**
 * The latency report: JSON (everything measured), Markdown in the documents' table shape
 * (throughput, p50/p99/p99.9, loss at overload, per server, with durability and the policy
 * behind any loss) and an SVG chart of percentiles against offered load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fmtNum, fmtRate } from '../lib/stats.js';
import type { MachineInfo } from '../machine.js';
import type { Target } from '../servers.js';
import { renderLatencyChart } from './chart.js';
import type { LevelRecord } from './run.js';
import type { LatWorkload } from './workloads.js';

/** p99 this many times its value at the lightest load marks the knee… */
export const KNEE_P99_FACTOR = 10;
/** …as does delivering less than this share of the offered rate, or any loss. */
export const KNEE_DELIVERED_SHARE = 0.95;

/** One row on one server: calibration, the levels, the knee. */
export interface LatRow {
  workload: string;
  title: string;
  target: string;
  protocol: string;
  durability: string;
  /** What each server does when a subscriber cannot keep up (the policy behind any loss). */
  policy: string;
  skipped: string | null;
  note: string | null;
  calibration: LevelRecord | null;
  /** Closed-loop maximum, publishes per second. */
  maxRate: number | null;
  levels: LevelRecord[];
  knee: Knee | null;
}

/** The first offered load at which the server stopped keeping up. */
export interface Knee {
  fraction: number | null;
  offered: number | null;
  why: string;
}

/** The whole report (schema 1). */
export interface LatencyReport {
  schema: 1;
  kind: 'latency';
  date: string;
  command: string;
  wallS: number;
  /** Seconds spent waiting for a quiet machine before levels (bounded). */
  quietWaitS: number;
  machine: MachineInfo;
  settings: { levels: number[]; levelS: number; warmupS: number; calibrateS: number; fixedS: number };
  targets: Array<{ name: string; protocol: string; version: string; durability: string; pidKnown: boolean }>;
  unavailable: Array<{ name: string; protocol: string; reason: string }>;
  workloads: Array<{ id: string; title: string; processes: string; payload: number }>;
  rows: LatRow[];
}

/** Where the report went. */
export interface WrittenLatencyReport {
  json: string;
  markdown: string;
  svg: string;
  latest: string;
}

/**
 * The knee: the lightest level with loss, with p99 ≥ KNEE_P99_FACTOR × the lightest level's p99,
 * or delivering < KNEE_DELIVERED_SHARE of what was offered. Null when every level kept up.
 */
export function findKnee(levels: readonly LevelRecord[]): Knee | null {
  const base = levels.find((l) => l.latency !== null)?.latency?.p99 ?? null;
  for (const l of levels) {
    const why: string[] = [];
    if (l.error) why.push('failed');
    if (l.lossPct > 0) why.push(`${fmtNum(l.lossPct)}% lost`);
    if (base !== null && l.latency && l.latency.p99 >= KNEE_P99_FACTOR * base)
      why.push(`p99 ${fmtNum(l.latency.p99 / base)}× the lightest load's`);
    if (l.offered !== null && l.achieved < KNEE_DELIVERED_SHARE * l.offered)
      why.push(`delivered ${fmtRate(l.achieved)}/s of ${fmtRate(l.offered)}/s`);
    if (why.length > 0) return { fraction: l.fraction, offered: l.offered, why: why.join(', ') };
  }
  return null;
}

/** What the server does to a subscriber that cannot keep up, in words (docs and sources cited). */
export function lossPolicy(t: Pick<Target, 'name' | 'protocol'>, w: Pick<LatWorkload, 'protocol'>): string {
  if (w.protocol === 'js')
    return 'stream: messages are kept (file store) and a slow consumer falls behind; loss here is a failed publish, or a message the consumer had not reached by the end of the drain (still stored)';
  if (t.protocol === 'redis') {
    return t.name === 'herald'
      ? "herald's Redis door, as Redis: a subscriber past 32 MB queued (or 8 MB for 60 s) is disconnected; the publisher is never held (src/core/backpressure.ts)"
      : 'client-output-buffer-limit pubsub 32mb 8mb 60: a subscriber past 32 MB queued (or 8 MB for 60 s) is disconnected (redis.conf)';
  }
  if (t.name === 'herald')
    return 'stop reading the publisher while a subscriber has > 32 MB queued, until it drains; a subscriber with no progress for 1 s is closed past max_pending 64 MB or the 10 s write deadline (src/core/backpressure.ts)';
  return 'stall the publisher while a subscriber has > half of max_pending queued; close it as a slow consumer past max_pending 64 MB or the write deadline (nats-server client.go)';
}

function pct(f: number | null): string {
  return f === null ? '–' : `${Math.round(f * 100)}%`;
}

function lat(v: number | undefined | null): string {
  return v == null ? '–' : fmtNum(v);
}

function cpuText(l: LevelRecord): string {
  const c = l.cpu;
  if (!c) return '–';
  const g = [...c.pubs, ...c.subs].map((x) => Math.round(x)).join('+');
  return `${c.server === null ? '?' : Math.round(c.server)} / ${g} / ${c.machine === null ? '?' : Math.round(c.machine)} (other ${c.other === null ? '?' : Math.round(c.other)})`;
}

/** The level a headline quotes: the one nearest `f` of the maximum. */
function at(row: LatRow, f: number): LevelRecord | null {
  let best: LevelRecord | null = null;
  for (const l of row.levels)
    if (l.fraction !== null && (best === null || Math.abs(l.fraction - f) < Math.abs((best.fraction ?? 0) - f))) best = l;
  return best;
}

/** The report as Markdown. */
export function renderLatencyMarkdown(rep: LatencyReport, svgName: string | null): string {
  const o: string[] = [];
  const m = rep.machine;
  o.push(`# herald bench --latency — open-loop latency and loss, ${rep.date.slice(0, 10)}`, '');
  o.push(
    `Command: \`${rep.command}\` · wall time ${rep.wallS} s (of which ${rep.quietWaitS} s waiting for a quiet machine) · levels ${rep.settings.levels.map((f) => pct(f)).join(', ')} of each server's closed-loop maximum, ${rep.settings.levelS} s each after ${rep.settings.warmupS} s of warm-up; calibration ${rep.settings.calibrateS} s; fixed-rate rows ${rep.settings.fixedS} s. One run per level (no medians: read neighbouring levels as the spread).`,
    '',
  );
  o.push('## Machine', '', '| | |', '|---|---|');
  o.push(
    `| cores | ${m.cores} |`,
    `| CPU | ${m.cpuModel} |`,
    `| memory | ${m.memoryGiB} GiB |`,
    `| kernel | ${m.kernel} |`,
    `| OS | ${m.os} |`,
    `| Node.js | ${m.node} |`,
    `| load average at start | ${m.loadAtStart} |`,
  );
  for (const t of rep.targets) o.push(`| ${t.name} (${t.protocol}) | ${t.version} |`);
  o.push('', '## Servers and durability', '', '| server | protocol | stream durability | CPU measured |', '|---|---|---|---|');
  for (const t of rep.targets) o.push(`| ${t.name} | ${t.protocol} | ${t.durability} | ${t.pidKnown ? 'yes' : 'no'} |`);
  for (const u of rep.unavailable) o.push(`| ${u.name} | ${u.protocol} | n/a: ${u.reason} | – |`);
  o.push('');
  o.push("## The documents' table (this machine)", '');
  o.push(
    '"max" is the closed-loop maximum (publishers wait for the server: PING/PONG per batch, replies, acks), in publishes per second. Latency is one-way, publisher → subscriber, measured from each message\'s **intended** send time (coordinated omission corrected), at 80% of that server\'s maximum. "loss at 200%" is what the server dropped (or refused, by pushing back on the publisher) when offered twice its maximum, and the policy that caused it.',
    '',
  );
  o.push(
    '| row | server | durability | max msgs/s | p50 / p99 / p99.9 µs at 80% | loss at 200% | disc / slow at 200% | knee | policy |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of rep.rows.filter((x) => x.levels.length > 0 && x.maxRate !== null)) {
    const l80 = at(r, 0.8);
    const l200 = at(r, 2);
    const l = l80?.latency;
    const cb = l80?.clientBound ? ' ⚠ client-bound' : '';
    o.push(
      `| ${r.title} | ${r.target} | ${r.durability} | ${fmtRate(r.maxRate)} | ${l ? `${lat(l.p50)} / ${lat(l.p99)} / ${lat(l.p999)}${cb}` : '–'} | ${l200 ? `${fmtNum(l200.lossPct)}%${l200.blocked > 0 ? ` (${fmtRate(l200.blocked)} refused)` : ''}${l200.clientBound ? ' ⚠' : ''}` : '–'} | ${l200 ? `${l200.disconnects} / ${l200.slowConsumers ?? 'n/a'}` : '–'} | ${r.knee ? `${pct(r.knee.fraction)} (${r.knee.why})` : 'beyond the sweep'} | ${r.policy} |`,
    );
  }
  const fixed = rep.rows.filter((x) => x.maxRate === null && x.levels.length === 1 && x.levels[0]!.offered !== null);
  if (fixed.length > 0) {
    o.push('', "Fixed offered load (the documents' 10,000 sensors):", '');
    o.push(
      '| row | server | offered msgs/s | delivered msgs/s | p50 / p99 / p99.9 µs | loss | disc / slow | policy |',
      '|---|---|---|---|---|---|---|---|',
    );
    for (const r of fixed) {
      const l = r.levels[0]!;
      const L = l.latency;
      o.push(
        `| ${r.title} | ${r.target} | ${fmtRate(l.offered)} | ${fmtRate(l.achieved)} | ${L ? `${lat(L.p50)} / ${lat(L.p99)} / ${lat(L.p999)}` : '–'}${l.clientBound ? ' ⚠ client-bound' : ''} | ${fmtNum(l.lossPct)}% | ${l.disconnects} / ${l.slowConsumers ?? 'n/a'} | ${r.policy} |`,
      );
    }
  }
  const skipped = rep.rows.filter((x) => x.skipped !== null);
  if (skipped.length > 0) {
    o.push('', 'Not measured:', '');
    for (const r of skipped) o.push(`- ${r.title} on ${r.target}: ${r.skipped}`);
  }
  o.push('');
  if (svgName) o.push(`![p50 and p99 against offered load](${svgName})`, '');
  o.push('## Every level', '');
  o.push(
    '"offered" is publishes per second on the schedule; "delivered" is delivered publishes per second (first to last delivery). Latency columns are µs from the intended send time; "from write" is the same messages timed from the actual write (what a closed-loop generator would report); "lag" is the publisher\'s own schedule lag (p99). "lost" is published but never received after the drain; "refused" is what the publisher could not write because the server stopped reading (its bounded send buffer was full). CPU is % of one core over the measured window: server / each generator process (publishers, then subscribers) / whole machine. ⚠ marks a level whose generator was saturated: read it as the generator\'s limit, not the server\'s.',
    '',
  );
  for (const r of rep.rows.filter((x) => x.levels.length > 0 || x.calibration)) {
    o.push(`### ${r.title} — ${r.target}`, '');
    const wl = rep.workloads.find((x) => x.id === r.workload);
    o.push(
      `${wl ? `${wl.processes}; ` : ''}durability: ${r.durability}. Loss policy: ${r.policy}.${r.note ? ` Note: ${r.note}.` : ''}${r.calibration ? ` Closed loop: ${fmtRate(r.calibration.achieved)} msgs/s (CPU ${cpuText(r.calibration)}).` : ''}${r.knee ? ` Knee: ${pct(r.knee.fraction)} (${r.knee.why}).` : r.levels.length > 1 ? ' No knee within the sweep.' : ''}`,
      '',
    );
    o.push(
      '| load | offered/s | delivered/s | p50 | p90 | p99 | p99.9 | max | from write p50 / p99 | lag p99 | lost | refused | loss % | disc / slow | CPU srv / gen / machine | |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const l of r.levels) {
      const L = l.latency;
      const flag = l.error
        ? `✗ ${l.error}`
        : l.clientBound
          ? `⚠ client-bound: ${l.clientBound}`
          : l.errors > 0
            ? `errors ${l.errors}: ${l.firstError ?? ''}`
            : '';
      o.push(
        `| ${pct(l.fraction)} | ${fmtRate(l.offered)} | ${fmtRate(l.achieved)} | ${lat(L?.p50)} | ${lat(L?.p90)} | ${lat(L?.p99)} | ${lat(L?.p999)} | ${lat(L?.max)} | ${lat(l.service?.p50)} / ${lat(l.service?.p99)} | ${lat(l.lag?.p99)} | ${l.lost.toLocaleString('en-US')} | ${l.blocked.toLocaleString('en-US')} | ${fmtNum(l.lossPct)} | ${l.disconnects} / ${l.slowConsumers ?? 'n/a'} | ${cpuText(l)} | ${flag} |`,
      );
    }
    o.push('');
  }
  o.push('## How it is measured', '');
  o.push(
    "- **Open loop.** Publishers follow a fixed-rate schedule cut into 1 ms quanta and never wait for the server; each message carries its quantum's intended send time, the actual write time, its publisher id and sequence number. A late tick sends what it owes, stamped with the times it *should* have gone, so a stalled server or generator shows up as latency (coordinated omission corrected).",
  );
  o.push(
    '- **Histograms.** Subscribers record arrival − intended time in HDR histograms (hdr-histogram-js, 3 significant digits), merged across processes.',
  );
  o.push(
    "- **Loss.** Every (subscriber connection, publisher) pair is counted: sent − received after a drain (until all arrived, 1 s without progress, or 10 s). A publisher whose connection's bounded send buffer is full counts the messages due as refused instead of queueing them without bound.",
  );
  o.push(
    "- **Generator.** Raw sockets, one pre-encoded frame per connection copied and stamped per message; roles in separate processes (listed per row), started through `sh -c 'ulimit -n …; exec node …'` so 2,500 connections per process fit. A process above 90% of a core, or a publisher more than 5 ms (p99) behind its schedule, marks the level client-bound.",
  );
  o.push(
    '- **Shapes.** 100 publishers × 100 subscribers are 100 pairs (publisher i → subject i → subscriber i), 50 connections per process, 4 processes. The 10,000 sensors are 4 processes × 2,500 connections publishing 10 msg/s each to their own subject, heard by one wildcard subscriber (`lat.*` / `PSUBSCRIBE`).',
  );
  o.push('', '## Reproduce', '', '```sh', 'npm ci && npm run build', 'node bin/herald.js bench --compare --latency', '```', '');
  return o.join('\n');
}

/** Writes `<stem>.json`, `.md`, `.svg` and `latest-latency.md` into `dir`. */
export function writeLatencyReport(rep: LatencyReport, dir: string, stem: string): WrittenLatencyReport {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${stem}.json`);
  const markdown = path.join(dir, `${stem}.md`);
  const svg = path.join(dir, `${stem}.svg`);
  const latest = path.join(dir, 'latest-latency.md');
  writeFileSync(json, `${JSON.stringify(rep, null, 2)}\n`);
  writeFileSync(svg, renderLatencyChart(rep));
  writeFileSync(markdown, renderLatencyMarkdown(rep, path.basename(svg)));
  writeFileSync(latest, `# Latest latency report\n\n[${stem}.md](${stem}.md) — ${rep.command}\n`);
  return { json, markdown, svg, latest };
}
