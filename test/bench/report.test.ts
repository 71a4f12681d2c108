import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { renderChart } from '../../src/bench/chart.js';
import type { RunRecord } from '../../src/bench/runner.js';
import { renderMarkdown, writeReport, type BenchReport } from '../../src/bench/report.js';
import { clientVsRaw, compare, summarise } from '../../src/bench/summary.js';
import { WORKLOADS } from '../../src/bench/workloads.js';
import { missingServersMessage } from '../../src/bench/suite.js';
import { parseBenchArgs, UsageError } from '../../src/cli/bench/args.js';

function run(workload: string, target: string, round: number, over: Partial<RunRecord>): RunRecord {
  return {
    workload,
    target,
    round,
    skipped: null,
    error: null,
    seconds: 5,
    published: 1000,
    delivered: 1000,
    expected: 1000,
    lost: 0,
    rate: 100,
    publishRate: 100,
    disconnects: 0,
    slowConsumers: 0,
    errors: 0,
    firstError: null,
    cpu: { server: 50, main: 20, others: [10, 5], bench: 1, machine: 90, other: 5, windowS: 5 },
    serverUsPerMsg: 1,
    latency: null,
    floor: null,
    perConnection: [1000],
    checks: {},
    ...over,
  };
}

const RUNS: RunRecord[] = [
  run('pub-16', 'herald', 1, { rate: 900, serverUsPerMsg: 0.8 }),
  run('pub-16', 'herald', 2, { rate: 1100, serverUsPerMsg: 0.6 }),
  run('pub-16', 'herald', 3, { rate: 1000, serverUsPerMsg: 0.7 }),
  run('pub-16', 'nats-server', 1, { rate: 2000, serverUsPerMsg: 0.3 }),
  run('pub-16', 'nats-server', 2, { rate: 1800, serverUsPerMsg: 0.35 }),
  run('pub-16', 'nats-server', 3, { rate: 2200, serverUsPerMsg: 0.4 }),
  run('reqrep-16', 'herald', 1, { latency: { count: 10, p50: 100, p90: 120, p99: 200, p999: 900, max: 1000, mean: 110 } }),
  run('reqrep-16', 'nats-server', 1, { latency: { count: 10, p50: 50, p90: 60, p99: 100, p999: 700, max: 800, mean: 55 } }),
  run('js-pub-1k', 'herald', 1, { skipped: 'JetStream stream create failed: no reply' }),
  run('js-pub-1k', 'nats-server', 1, { rate: 150_000, checks: { stream_messages: 10, stored_equals_sent: true } }),
  run('redis-fanout-1k', 'redis-server', 1, { lost: 300, delivered: 700, disconnects: 4 }),
  run('client-pub-16', 'nats-server', 1, { rate: 500 }),
];

test('summarise takes medians and ranges over rounds', () => {
  const h = summarise('pub-16', 'herald', RUNS);
  assert.equal(h.runs, 3);
  assert.deepEqual(h.rate, { median: 1000, min: 900, max: 1100, n: 3 });
  assert.equal(h.serverUsPerMsg?.median, 0.7);
  assert.equal(h.cpuOthers?.median, 15);
  assert.equal(h.skipped, null);
  const s = summarise('js-pub-1k', 'herald', RUNS);
  assert.equal(s.runs, 0);
  assert.match(s.skipped ?? '', /stream create failed/);
  assert.equal(summarise('js-pub-1k', 'nats-server', RUNS).checksOk, true);
});

test('compare gives herald/peer ratios and the direction of advantage', () => {
  const thr = compare(
    'pub-16',
    'throughput',
    summarise('pub-16', 'herald', RUNS),
    summarise('pub-16', 'nats-server', RUNS),
    null,
  );
  assert.equal(thr.metric, 'rate');
  assert.equal(thr.ratio, 0.5);
  assert.equal(thr.advantage, 0.5);
  assert.ok(Math.abs((thr.cpuRatio ?? 0) - 2) < 1e-9);
  const lat = compare(
    'reqrep-16',
    'latency',
    summarise('reqrep-16', 'herald', RUNS),
    summarise('reqrep-16', 'nats-server', RUNS),
    null,
  );
  assert.equal(lat.metric, 'p50');
  assert.equal(lat.ratio, 2); // herald's p50 is twice the peer's…
  assert.equal(lat.advantage, 0.5); // …so herald is half as good
  assert.equal(lat.p99Ratio, 2);
  const none = compare(
    'redis-fanout-1k',
    'throughput',
    null,
    summarise('redis-fanout-1k', 'redis-server', RUNS),
    'no Redis door yet',
  );
  assert.equal(none.ratio, null);
  assert.equal(none.heraldNote, 'no Redis door yet');
  const skipped = compare(
    'js-pub-1k',
    'throughput',
    summarise('js-pub-1k', 'herald', RUNS),
    summarise('js-pub-1k', 'nats-server', RUNS),
    null,
  );
  assert.match(skipped.heraldNote ?? '', /stream create failed/);
});

test('clientVsRaw pairs pub-16 with client-pub-16 per server', () => {
  const rows = ['pub-16', 'client-pub-16'].flatMap((w) => ['herald', 'nats-server'].map((t) => summarise(w, t, RUNS)));
  const c = clientVsRaw(rows);
  assert.equal(c.length, 1);
  assert.equal(c[0]!.target, 'nats-server');
  assert.equal(c[0]!.speedup, 4);
});

function report(): BenchReport {
  const summary = ['pub-16', 'reqrep-16', 'js-pub-1k', 'redis-fanout-1k', 'client-pub-16'].flatMap((w) => {
    const proto = WORKLOADS.find((x) => x.id === w)!.protocol;
    return (proto === 'nats' ? ['herald', 'nats-server'] : ['redis-server']).map((t) => summarise(w, t, RUNS));
  });
  const get = (w: string, t: string) => summary.find((r) => r.workload === w && r.target === t)!;
  return {
    schema: 1,
    createdAt: '2026-11-22T12:00:00.000Z',
    command: 'herald bench --compare',
    mode: 'compare',
    machine: {
      hostname: 'h',
      cores: 2,
      cpuModel: 'AMD EPYC',
      memoryGiB: 24,
      kernel: 'Linux 6',
      os: 'Debian 12',
      node: 'v20',
      loadAtStart: 0.1,
    },
    settings: {
      rounds: 3,
      durationS: 5,
      quick: false,
      workloads: [],
      coreBatch: 1000,
      coreWindow: 4,
      jsBatch: 100,
      jsWindow: 1000,
      pullWindow: 1000,
      xreadCount: 100,
      warmup: 1000,
      wallSeconds: 300,
      quietWaitSeconds: 0,
    },
    targets: [
      {
        name: 'herald',
        protocol: 'nats',
        version: '0.1.0',
        durability: 'sync: always (fdatasync)',
        pidKnown: true,
        managed: true,
      },
      {
        name: 'nats-server',
        protocol: 'nats',
        version: 'v2.9.10',
        durability: 'file store, default sync',
        pidKnown: true,
        managed: true,
      },
      { name: 'redis-server', protocol: 'redis', version: '7.0.15', durability: 'AOF everysec', pidKnown: true, managed: true },
    ],
    unavailable: [{ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' }],
    runs: RUNS,
    summary,
    comparisons: [
      compare('pub-16', 'throughput', get('pub-16', 'herald'), get('pub-16', 'nats-server'), null),
      compare('reqrep-16', 'latency', get('reqrep-16', 'herald'), get('reqrep-16', 'nats-server'), null),
      compare('js-pub-1k', 'throughput', get('js-pub-1k', 'herald'), get('js-pub-1k', 'nats-server'), null),
      compare('redis-fanout-1k', 'throughput', null, get('redis-fanout-1k', 'redis-server'), 'no Redis door yet'),
    ],
    clientVsRaw: clientVsRaw(summary),
  };
}

test('the Markdown report has the machine header, durability, ratios and n/a rows', () => {
  const md = renderMarkdown(report(), WORKLOADS, 'x.svg');
  assert.match(md, /\| cores \| 2 \|/);
  assert.match(md, /\| CPU \| AMD EPYC \|/);
  assert.match(md, /nats-server \(nats\) \| v2\.9\.10/);
  assert.match(md, /herald \(redis\) \| n\/a — no Redis door yet/);
  assert.match(md, /!\[herald relative to the peer\]\(x\.svg\)/);
  assert.match(md, /NATS pub\/sub 1→1, 16 B \| none \/ none \| 1\.0k \(900–1\.1k\) msgs\/s/);
  assert.match(md, /0\.50×/);
  assert.match(md, /2\.00× \(lower is better\)/);
  assert.match(
    md,
    /JetStream async publish, 1 KB \| sync: always \/ file store, default sync \| n\/a \(JetStream stream create failed/,
  );
  assert.match(md, /n\/a \(no Redis door yet\)/);
  assert.match(md, /\*\*300\*\* of 1\.0k/); // loss is bold, with the total
  assert.match(md, /raw sockets \| 2\.0k/);
  assert.match(md, /## Reproduce/);
});

test('the chart is well-formed SVG with one row per comparison', () => {
  const rep = report();
  const svg = renderChart(rep.comparisons, new Map(WORKLOADS.map((w) => [w.id, w.title])), 'test');
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.match(svg, /<\/svg>\n$/);
  assert.equal((svg.match(/<rect /g) ?? []).length, 1 + 2); // background + two bars with values
  assert.match(svg, /0\.50×/);
  assert.match(svg, /no Redis door yet/);
  assert.doesNotMatch(svg, /NaN|undefined/);
});

test('writeReport writes json, md, svg and latest.md', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-test-'));
  try {
    const w = writeReport(report(), WORKLOADS, dir, '2026-11-22-compare');
    const json = JSON.parse(readFileSync(w.json, 'utf8')) as BenchReport;
    assert.equal(json.schema, 1);
    assert.equal(json.runs.length, RUNS.length);
    assert.ok(w.svg && readFileSync(w.svg, 'utf8').startsWith('<svg'));
    assert.match(readFileSync(w.latest, 'utf8'), /\[2026-11-22-compare\.md\]\(2026-11-22-compare\.md\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bench flags: defaults, --quick, values and errors', () => {
  const d = parseBenchArgs(['--compare']);
  assert.equal(d.compare, true);
  assert.equal(d.rounds, 3);
  assert.equal(d.duration, 5);
  const q = parseBenchArgs(['--compare', '--quick']);
  assert.equal(q.rounds, 1);
  assert.equal(q.duration, 2);
  const q2 = parseBenchArgs(['--compare', '--quick', '--rounds', '2']);
  assert.equal(q2.rounds, 2);
  const u = parseBenchArgs([
    '--nats',
    'nats://127.0.0.1:4222',
    '--redis=redis://127.0.0.1:6379',
    '--workloads',
    'pub-16, redis-pub-16',
    '--out',
    'x',
  ]);
  assert.equal(u.nats, 'nats://127.0.0.1:4222');
  assert.equal(u.redis, 'redis://127.0.0.1:6379');
  assert.deepEqual(u.workloads, ['pub-16', 'redis-pub-16']);
  assert.equal(u.out, 'x');
  assert.throws(() => parseBenchArgs(['--rounds', '0']), UsageError);
  assert.throws(() => parseBenchArgs(['--rounds']), UsageError);
  assert.throws(() => parseBenchArgs(['--bogus']), UsageError);
  assert.throws(() => parseBenchArgs(['--compare', '--nats', 'nats://x']), UsageError);
});

test('a missing peer server gets a clear message with the apt-get command', () => {
  const m = missingServersMessage(['nats-server', 'redis-server']);
  assert.match(m, /needs nats-server and redis-server, which are not installed/);
  assert.match(m, /apt-get install -y nats-server redis-server/);
  assert.match(missingServersMessage(['redis-server']), /which is not installed/);
});
