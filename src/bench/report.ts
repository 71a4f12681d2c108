/**
 * The results people look at: a JSON file with every run, a Markdown report (machine header,
 * servers and durability, tables of medians with ranges and herald/peer ratios, the raw generator
 * against the nats.js client) and an SVG chart, plus `latest.md` pointing at the newest report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderChart } from './chart.js';
import { gitCommit } from './servers.js';
import type { MachineInfo } from './machine.js';
import type { RunRecord } from './runner.js';
import type { ClientVsRaw, ComparisonRow, SummaryRow } from './summary.js';
import { fmtNum, fmtRate, fmtRatio, type Spread } from './lib/stats.js';
import type { Workload } from './workloads.js';

/** Version of the JSON layout, bumped on incompatible changes. */
export const REPORT_SCHEMA = 1;

/** A server as the report describes it. */
export interface TargetInfo {
  name: string;
  protocol: 'nats' | 'redis';
  version: string;
  /** The binary run (checked to be the peer it claims to be; bench/servers.ts findPeer); null/absent when given by URL. */
  path?: string | null;
  durability: string;
  pidKnown: boolean;
  managed: boolean;
}

/** Everything a bench run produced (the JSON file). */
export interface BenchReport {
  schema: number;
  createdAt: string;
  command: string;
  /** The git commit the bench ran on ("+dirty" with uncommitted changes); filled by writeReport when absent. */
  commit?: string | null;
  mode: 'compare' | 'run';
  machine: MachineInfo;
  settings: {
    rounds: number;
    durationS: number;
    quick: boolean;
    workloads: string[];
    coreBatch: number;
    coreWindow: number;
    jsBatch: number;
    jsWindow: number;
    pullWindow: number;
    xreadCount: number;
    warmup: number;
    wallSeconds: number;
    /** Time spent before runs waiting for other work on the machine to stop (bounded). */
    quietWaitSeconds: number;
  };
  targets: TargetInfo[];
  /** Targets that could not be measured, and why (e.g. herald not built yet). */
  unavailable: Array<{ name: string; protocol: 'nats' | 'redis'; reason: string }>;
  runs: RunRecord[];
  summary: SummaryRow[];
  comparisons: ComparisonRow[];
  clientVsRaw: ClientVsRaw[];
}

/** "975k (934k–1.09M)" for a rate spread. */
export function fmtRateSpread(s: Spread | null): string {
  if (!s) return '–';
  return s.n > 1 ? `${fmtRate(s.median)} (${fmtRate(s.min)}–${fmtRate(s.max)})` : fmtRate(s.median);
}

/** "254 (242–269)" for a number spread. */
export function fmtSpread(s: Spread | null, digits = 3): string {
  if (!s) return '–';
  return s.n > 1 && s.min !== s.max
    ? `${fmtNum(s.median, digits)} (${fmtNum(s.min, digits)}–${fmtNum(s.max, digits)})`
    : fmtNum(s.median, digits);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function row(cells: string[]): string {
  return `| ${cells.map(cell).join(' | ')} |`;
}

function lossCell(r: SummaryRow): string {
  const dup = r.duplicates && r.duplicates.max > 0 ? ` + **${fmtSpread(r.duplicates)} duplicates**` : '';
  return `${lostCell(r)}${dup}`;
}

function lostCell(r: SummaryRow): string {
  if (!r.lost) return '–';
  if (r.lost.max === 0) return '0';
  const of = r.delivered && r.lost ? ` of ${fmtRate(r.delivered.median + r.lost.median)}` : '';
  return `**${fmtSpread(r.lost)}**${of}`;
}

function discCell(r: SummaryRow): string {
  const d = r.disconnects ? fmtSpread(r.disconnects) : '–';
  const s = r.slowConsumers ? fmtSpread(r.slowConsumers) : 'n/a';
  return `${d} / ${s}`;
}

function cpuCell(r: SummaryRow): string {
  const f = (s: Spread | null): string => (s ? String(Math.round(s.median)) : '?');
  return `${f(r.cpuServer)} / ${f(r.cpuMain)} / ${f(r.cpuOthers)} / ${f(r.cpuMachine)} (other ${f(r.cpuOther)})`;
}

function checksCell(r: SummaryRow): string {
  const entries = Object.entries(r.checks);
  const failed = (r.failed ?? []).length > 0 ? `✗ FAILED (${(r.failed ?? []).join('; ')})` : '';
  if (entries.length === 0) return failed;
  return `${failed}${failed ? ' ' : ''}${r.checksOk ? '✓' : '✗'} ${entries.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`;
}

/** "✗ " before a number whose run failed its counts. */
function failMark(r: SummaryRow): string {
  return (r.failed ?? []).length > 0 ? '✗ ' : '';
}

function durabilityOf(w: Workload, t: TargetInfo | undefined): string {
  if (!w.durable) return 'none (in memory)';
  return t?.durability ?? 'n/a';
}

/** Runs with more than this much CPU (% of a core) used outside the bench count as disturbed. */
export const DISTURBED_OTHER_CPU = 30;

/** Renders the Markdown report. `chartFile` is the SVG's file name next to it. */
export function renderMarkdown(rep: BenchReport, workloads: readonly Workload[], chartFile: string | null): string {
  const L: string[] = [];
  const m = rep.machine;
  const wById = new Map(workloads.map((w) => [w.id, w]));
  const tByName = (name: string, proto: 'nats' | 'redis'): TargetInfo | undefined =>
    rep.targets.find((t) => t.name === name && t.protocol === proto);
  L.push(
    `# herald bench — ${rep.mode === 'compare' ? 'herald vs nats-server and redis-server' : 'results'}, ${rep.createdAt.slice(0, 10)}`,
  );
  L.push('');
  L.push(`Commit: ${rep.commit ?? 'unknown'}.`);
  L.push('');
  const failedRows = rep.summary.filter((r) => (r.failed ?? []).length > 0);
  if (failedRows.length > 0) {
    L.push(
      `**${failedRows.length} row(s) FAILED their counts** (error replies, duplicate or misrouted deliveries): their numbers are marked ✗ and listed under "Failed runs"; do not quote them.`,
    );
    L.push('');
  }
  L.push(
    `Command: \`${rep.command}\` · ${rep.settings.rounds} round(s) × ${rep.settings.durationS} s per workload, interleaved (each round runs every workload on every server, alternating which server goes first) · wall time ${Math.round(rep.settings.wallSeconds)} s.`,
  );
  L.push('');
  const measured = rep.runs.filter((r) => r.skipped === null && r.error === null && r.cpu?.other != null);
  const disturbed = measured.filter((r) => (r.cpu?.other ?? 0) > DISTURBED_OTHER_CPU);
  if (measured.length > 0) {
    L.push(
      `Interference: ${disturbed.length} of ${measured.length} runs had more than ${DISTURBED_OTHER_CPU}% of a core busy outside the bench (the "other" CPU column${disturbed.length > 0 ? '; such rows are marked ⚠ where the median is affected' : ''}). Before each run the bench waited up to 5 s for the machine to go quiet (at most 60 s per suite; ${Math.round(rep.settings.quietWaitSeconds ?? 0)} s in all).`,
    );
    L.push('');
  }
  L.push('## Machine');
  L.push('');
  L.push('| | |');
  L.push('|---|---|');
  L.push(row(['cores', String(m.cores)]));
  L.push(row(['CPU', m.cpuModel]));
  L.push(row(['memory', `${m.memoryGiB} GiB`]));
  L.push(row(['kernel', m.kernel]));
  L.push(row(['OS', m.os]));
  L.push(row(['Node.js', m.node]));
  L.push(row(['load average at start', String(m.loadAtStart)]));
  for (const t of rep.targets) L.push(row([`${t.name} (${t.protocol})`, `${t.version}${t.path ? ` — ${t.path}` : ''}`]));
  for (const u of rep.unavailable) L.push(row([`${u.name} (${u.protocol})`, `n/a — ${u.reason}`]));
  L.push('');
  L.push('## Servers and durability');
  L.push('');
  L.push(row(['server', 'protocol', 'stream durability', 'CPU measured']));
  L.push('|---|---|---|---|');
  for (const t of rep.targets)
    L.push(row([t.name, t.protocol, t.durability, t.pidKnown ? 'yes (pid known)' : 'no (pid unknown)']));
  L.push('');
  L.push(
    'Core pub/sub and request/reply keep nothing on disk on any server. herald acknowledges a stream write only after fdatasync; the peers acknowledge before their data reaches the disk, so herald does strictly more work per durable message in the rows below.',
  );
  L.push('');
  L.push(
    `Load generator: raw sockets with pre-encoded frames, each role in its own process; core and Redis publishers write batches of ${rep.settings.coreBatch} with ≤ ${rep.settings.coreWindow} batches unanswered (PING/PONG or replies), JetStream publishers keep ≤ ${rep.settings.jsWindow} acks outstanding (writes of ${rep.settings.jsBatch}), pull consumers request ${rep.settings.pullWindow} at a time, XREADGROUP reads ${rep.settings.xreadCount}; latency loops are closed (one in flight) after ${rep.settings.warmup} warm-ups. Subscribers never push back.`,
  );
  L.push('');

  if (rep.comparisons.length > 0) {
    L.push('## herald vs peer (medians; range over rounds in brackets)');
    L.push('');
    if (chartFile) {
      L.push(`![herald relative to the peer](${chartFile})`);
      L.push('');
    }
    L.push(row(['workload', 'durability: herald / peer', 'herald', 'peer', 'herald/peer', 'srv µs/msg herald/peer']));
    L.push('|---|---|---|---|---|---|');
    for (const c of rep.comparisons) {
      const w = wById.get(c.workload);
      if (!w) continue;
      const unit = c.metric === 'rate' ? 'msgs/s' : 'µs p50';
      const fmt = (s: Spread | null): string => (c.metric === 'rate' ? fmtRateSpread(s) : fmtSpread(s));
      const h = c.herald ? `${fmt(c.herald)} ${unit}` : `n/a (${c.heraldNote ?? 'not run'})`;
      const p = c.peerValue ? `${fmt(c.peerValue)} ${unit}` : 'n/a';
      const dur = `${durabilityOf(w, tByName('herald', w.protocol)).split(' (')[0]} / ${durabilityOf(w, tByName(c.peer, w.protocol)).split(' (')[0]}`;
      const rat = `${c.failed ? '✗ failed run — ' : ''}${c.ratio === null ? '–' : `${fmtRatio(c.ratio)}${c.metric === 'p50' ? ' (lower is better)' : ''}`}`;
      L.push(row([w.title, dur, h, `${p} (${c.peer})`, rat, fmtRatio(c.cpuRatio)]));
    }
    L.push('');
  }

  const thr = rep.summary.filter((r) => wById.get(r.workload)?.kind === 'throughput');
  if (thr.length > 0) {
    L.push('## Throughput');
    L.push('');
    L.push(
      '"msgs/s" is delivered messages per second (all subscribers together, duplicates excluded; for streams: OK-acked publishes or consumed messages, error acks excluded). "lost" is published × subscribers − received after the drain (for stream publishes: publishes with no answer at all); deliveries above published × subscribers are shown as duplicates and fail the run. "disc / slow" is connections the server closed / `/varz` slow_consumers. CPU is % of one core over the publish window: server / main load process / other load processes / whole machine (other = outside the bench). "srv µs/msg" is server CPU time per delivered message.',
    );
    L.push('');
    L.push(
      row([
        'workload',
        'server',
        'msgs/s',
        'publisher msgs/s',
        'lost',
        'disc / slow',
        'CPU srv / main / others / machine',
        'srv µs/msg',
        'checks',
      ]),
    );
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const r of thr) {
      const w = wById.get(r.workload)!;
      if (r.skipped !== null) {
        L.push(row([w.title, r.target, `n/a (${r.skipped})`, '', '', '', '', '', '']));
        continue;
      }
      const warn = (r.cpuOther?.median ?? 0) > DISTURBED_OTHER_CPU ? ' ⚠' : '';
      L.push(
        row([
          w.title,
          r.target,
          `${failMark(r)}${fmtRateSpread(r.rate)}${warn}`,
          r.publishRate ? fmtRate(r.publishRate.median) : '–',
          lossCell(r),
          discCell(r),
          cpuCell(r),
          fmtSpread(r.serverUsPerMsg),
          checksCell(r),
        ]),
      );
    }
    L.push('');
    const queue = rep.runs.find((r) => r.workload === 'queue-1k' && r.perConnection.length > 1 && r.skipped === null);
    if (queue) {
      L.push(
        `Queue-group distribution (one round on ${queue.target}): ${queue.perConnection.map((n) => n.toLocaleString('en-US')).join(' / ')}.`,
      );
      L.push('');
    }
  }

  const lat = rep.summary.filter((r) => wById.get(r.workload)?.kind === 'latency');
  if (lat.length > 0) {
    L.push('## Latency (closed loop, one in flight, µs)');
    L.push('');
    L.push(
      row([
        'workload',
        'server',
        'p50',
        'p99',
        'p99.9',
        'round trips/s',
        'floor (PING) p50 / p99 / p99.9',
        'CPU srv / client / others',
        'checks',
      ]),
    );
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const r of lat) {
      const w = wById.get(r.workload)!;
      if (r.skipped !== null) {
        L.push(row([w.title, r.target, `n/a (${r.skipped})`, '', '', '', '', '', '']));
        continue;
      }
      const floor = r.floorP50
        ? `${fmtSpread(r.floorP50)} / ${fmtNum(r.floorP99?.median)} / ${fmtNum(r.floorP999?.median)}`
        : '–';
      const f = (s: Spread | null): string => (s ? String(Math.round(s.median)) : '?');
      const warn = (r.cpuOther?.median ?? 0) > DISTURBED_OTHER_CPU ? ' ⚠' : '';
      L.push(
        row([
          w.title,
          r.target,
          `${failMark(r)}${fmtSpread(r.p50)}${warn}`,
          fmtSpread(r.p99),
          fmtSpread(r.p999),
          fmtRateSpread(r.rate),
          floor,
          `${f(r.cpuServer)} / ${f(r.cpuMain)} / ${f(r.cpuOthers)}`,
          checksCell(r),
        ]),
      );
    }
    L.push('');
  }

  if (rep.clientVsRaw.length > 0) {
    L.push('## The raw load generator vs the nats.js client (pub/sub 1→1, 16 B)');
    L.push('');
    L.push(
      'Same workload, process layout and BATCH/WINDOW; only the load generator differs. When the generator is the bottleneck, the server looks slower than it is: the raw generator needs less CPU per message, so more of the machine is left for the server.',
    );
    L.push('');
    L.push(
      row([
        'server',
        'generator',
        'delivered msgs/s',
        'CPU srv / publisher / subscriber',
        'publisher CPU µs/msg',
        'raw / client',
      ]),
    );
    L.push('|---|---|---|---|---|---|');
    for (const c of rep.clientVsRaw) {
      for (const [name, r] of [
        ['raw sockets', c.raw],
        ['nats.js 2.x', c.client],
      ] as const) {
        const f = (s: Spread | null): string => (s ? String(Math.round(s.median)) : '?');
        const pubUs = r.cpuMain && r.rate && r.rate.median > 0 ? (r.cpuMain.median / 100 / r.rate.median) * 1e6 : null;
        L.push(
          row([
            c.target,
            name,
            fmtRateSpread(r.rate),
            `${f(r.cpuServer)} / ${f(r.cpuMain)} / ${f(r.cpuOthers)}`,
            fmtNum(pubUs),
            name === 'raw sockets' ? fmtRatio(c.speedup) : '',
          ]),
        );
      }
    }
    L.push('');
  }

  if (failedRows.length > 0) {
    L.push('## Failed runs');
    L.push('');
    L.push(
      'A run fails when any role got an error reply, a subscriber got more than published × subscribers, or an answer was for another request or stream (bench/lib/accounting.ts). Error replies and duplicates are never counted in the rates.',
    );
    L.push('');
    for (const r of failedRows) L.push(`- ${r.workload} on ${r.target}: ${(r.failed ?? []).join('; ')}`);
    L.push('');
  }
  const problems = rep.summary.filter((r) => r.errors.length > 0);
  if (problems.length > 0) {
    L.push('## Errors and skipped runs');
    L.push('');
    for (const r of problems) L.push(`- ${r.workload} on ${r.target}: ${r.errors.slice(0, 3).join('; ')}`);
    L.push('');
  }
  L.push('## Reproduce');
  L.push('');
  L.push('```sh');
  L.push('npm ci && npm run build');
  L.push(`node bin/herald.js bench --compare --rounds ${rep.settings.rounds} --duration ${rep.settings.durationS}`);
  L.push('```');
  L.push('');
  L.push('See docs/bench.md for what each workload measures and the fairness rules.');
  L.push('');
  return L.join('\n');
}

/** Paths written by writeReport. */
export interface WrittenReport {
  json: string;
  markdown: string;
  svg: string | null;
  latest: string;
}

/** Writes `<stem>.json`, `<stem>.md`, `<stem>.svg` (when there are comparisons) and `latest.md`. */
export function writeReport(given: BenchReport, workloads: readonly Workload[], outDir: string, stem: string): WrittenReport {
  const rep: BenchReport = given.commit === undefined ? { ...given, commit: gitCommit() } : given;
  mkdirSync(outDir, { recursive: true });
  const json = path.join(outDir, `${stem}.json`);
  const md = path.join(outDir, `${stem}.md`);
  let svg: string | null = null;
  writeFileSync(json, JSON.stringify(rep, null, 2) + '\n');
  if (rep.comparisons.length > 0) {
    svg = path.join(outDir, `${stem}.svg`);
    const titles = new Map(workloads.map((w) => [w.id, w.title]));
    const sub = `${rep.machine.cores} cores, ${rep.machine.cpuModel}, ${rep.createdAt.slice(0, 10)}, ${rep.settings.rounds}×${rep.settings.durationS} s`;
    writeFileSync(svg, renderChart(rep.comparisons, titles, sub));
  }
  writeFileSync(md, renderMarkdown(rep, workloads, svg ? path.basename(svg) : null));
  const latest = path.join(outDir, 'latest.md');
  writeFileSync(
    latest,
    `# Latest bench results\n\nThe newest report is [${path.basename(md)}](${path.basename(md)}) (${rep.createdAt}, git ${rep.commit ?? 'unknown'}), with data in [${path.basename(json)}](${path.basename(json)})${svg ? ` and the chart [${path.basename(svg)}](${path.basename(svg)})` : ''}.\n\nReproduce with \`node bin/herald.js bench --compare\` after the set-up in the README; see docs/bench.md.\n`,
  );
  return { json, markdown: md, svg, latest };
}
