// Unit tests of the latency bench's pieces: the rate schedule, the coordinated-omission
// correction, exact loss accounting, the Redis push scanner, and the report rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LatencyHistogram, mergeSummaries } from '../../src/bench/latency/histogram.js';
import { accountLoss, LossCounter } from '../../src/bench/latency/loss.js';
import {
  findKnee,
  renderLatencyMarkdown,
  writeLatencyReport,
  type LatencyReport,
  type LatRow,
} from '../../src/bench/latency/report.js';
import { RespPushScanner } from '../../src/bench/latency/resp-push.js';
import { clientBound, type LevelRecord } from '../../src/bench/latency/run.js';
import { MAX_QUANTA_PER_TAKE, RateScheduler } from '../../src/bench/latency/schedule.js';
import { readStamp, STAMP_BYTES, writeStamp } from '../../src/bench/latency/stamp.js';
import { encodeCommand } from '../../src/bench/lib/resp-wire.js';
import { parseBenchArgs, UsageError } from '../../src/cli/bench/args.js';

test('schedule: a rate is met exactly, quantum by quantum, without drift', () => {
  const s = new RateScheduler(2500, 1000, 1);
  const ticks = [];
  for (let batch = s.take(1999.5); batch.length > 0; batch = s.take(1999.5)) ticks.push(...batch); // quanta 0..999 have started
  assert.equal(
    ticks.reduce((a, t) => a + t.count, 0),
    2500,
  );
  assert.ok(ticks.every((t) => t.count === 2 || t.count === 3));
  assert.deepEqual(
    ticks.slice(0, 2).map((t) => t.intendedMs),
    [1000, 1001],
  );
  assert.equal(s.total, 2500);
});

test('schedule: a late tick is recorded at its intended time', () => {
  const s = new RateScheduler(1000, 0, 1); // one message per ms
  assert.deepEqual(s.take(0.2), [{ intendedMs: 0, count: 1 }]);
  // The caller oversleeps by 5 ms: every missed quantum comes back with its own intended time.
  const late = s.take(5.7);
  assert.deepEqual(
    late.map((t) => t.intendedMs),
    [1, 2, 3, 4, 5],
  );
  assert.ok(late.every((t) => t.count === 1));
  // …and a message stamped with it is charged for the wait when it arrives.
  const h = new LatencyHistogram();
  for (const t of late) h.recordFromIntended(t.intendedMs, 5.7);
  assert.equal(h.summary().max, 4700); // the quantum due at 1 ms waited 4.7 ms
  h.destroy();
  assert.equal(s.nextAt(), 6);
});

test('schedule: catch-up is bounded per take and stops at the end', () => {
  const s = new RateScheduler(1000, 0, 1, 1000);
  assert.equal(s.take(10_000).length, MAX_QUANTA_PER_TAKE);
  while (!s.finished) s.take(10_000);
  assert.equal(s.total, 1000);
  assert.deepEqual(s.take(20_000), []);
  assert.throws(() => new RateScheduler(0, 0), RangeError);
});

test('histogram: latency from the intended time corrects a stall that send-time latency hides', () => {
  // 1 message per ms is due; the server stalls for 100 ms, then delivers everything at once
  // 10 µs after each was *written* — but the writes themselves had to wait for the stall.
  const fromIntended = new LatencyHistogram();
  const fromWrite = new LatencyHistogram();
  for (let i = 0; i < 100; i++) {
    const intended = i;
    const written = 100; // everything went out when the stall ended
    const arrived = written + 0.01;
    fromIntended.recordFromIntended(intended, arrived);
    fromWrite.recordFromIntended(written, arrived);
  }
  assert.equal(fromWrite.summary().p99, 10); // 10 µs: the stall is invisible
  const c = fromIntended.summary();
  assert.ok(c.p50 >= 49_000 && c.p50 <= 51_100, `p50 ${c.p50}`);
  assert.ok(c.max >= 99_900, `max ${c.max}`);
  fromIntended.destroy();
  fromWrite.destroy();
});

test('histogram: closed-loop correction back-fills the samples a stall hid', () => {
  const h = new LatencyHistogram();
  for (let i = 0; i < 99; i++) h.recordCorrected(1_000_000, 1_000_000); // 1 ms each, 1 ms apart
  h.recordCorrected(100_000_000, 1_000_000); // one 100 ms stall
  // Uncorrected, 99% of 100 samples are 1 ms; corrected, the stall adds 99 samples of 1–99 ms.
  assert.equal(h.count, 199);
  assert.ok(h.summary().p50 > 1000, `p50 ${h.summary().p50}`);
  h.destroy();
});

test('histogram: summaries merge across processes through the encoded form', () => {
  const a = new LatencyHistogram();
  const b = new LatencyHistogram();
  for (let i = 1; i <= 500; i++) a.recordNs(i * 1000);
  for (let i = 501; i <= 1000; i++) b.recordNs(i * 1000);
  const s = mergeSummaries([a.encode(), null, b.encode()])!;
  assert.equal(s.count, 1000);
  assert.ok(Math.abs(s.p50 - 500) <= 1, `p50 ${s.p50}`);
  assert.ok(Math.abs(s.max - 1000) <= 1, `max ${s.max}`);
  assert.equal(mergeSummaries([]), null);
  a.destroy();
  b.destroy();
});

test('stamp: round trip', () => {
  const b = Buffer.alloc(40);
  writeStamp(b, 4, 1234.5678, 1235.25, 7, 99, 42, 1);
  assert.deepEqual(readStamp(b, 4), { intendedMs: 1234.5678, writtenMs: 1235.25, pub: 7, seq: 99, tag: 42, flags: 1 });
  assert.equal(readStamp(Buffer.alloc(STAMP_BYTES - 1)), null);
});

test('loss: a subscriber that misses messages is counted exactly', () => {
  const full = new LossCounter();
  const gappy = new LossCounter();
  for (let seq = 1; seq <= 10; seq++) {
    full.see(0, seq);
    if (![3, 4, 7].includes(seq)) gappy.see(0, seq);
  }
  gappy.see(0, 9); // a duplicate is not a delivery
  const other = new LossCounter();
  for (let seq = 1; seq <= 5; seq++) other.see(1, seq); // publisher 1 sent 6; one tail message missing
  const sent = new Map([
    [0, 10],
    [1, 6],
  ]);
  const acc = accountLoss(sent, [full.toJSON(), gappy.toJSON(), other.toJSON()], (i) => (i < 2 ? [0] : [1]));
  assert.deepEqual(acc, { expected: 26, delivered: 22, lost: 4, lostPerSubscriber: [0, 3, 1] });
  assert.equal(gappy.duplicates, 1);
  // A message from a publisher the connection does not listen to is neither lost nor delivered.
  assert.equal(accountLoss(sent, [{ '1': 6 }], () => [0]).lost, 10);
});

test('resp push scanner: hands over each delivery head, across split reads', () => {
  const payload = Buffer.alloc(64, 0x61);
  writeStamp(payload, 0, 1, 2, 3, 4, 5, 0);
  const msg = Buffer.concat([Buffer.from('*3\r\n'), encodeCommand(['message', 'ch', payload]).subarray(4)]);
  const pmsg = Buffer.concat([Buffer.from('*4\r\n'), encodeCommand(['pmessage', 'c*', 'ch', payload]).subarray(4)]);
  const confirm = Buffer.from('*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n');
  const all = Buffer.concat([confirm, msg, pmsg, msg]);
  for (const step of [1, 7, 33, all.length]) {
    const seen: number[] = [];
    const s = new RespPushScanner(STAMP_BYTES, (head) => seen.push(readStamp(head)!.seq));
    for (let i = 0; i < all.length; i += step) s.feed(all.subarray(i, i + step));
    assert.deepEqual(seen, [4, 4, 4], `step ${step}`);
  }
});

function level(over: Partial<LevelRecord>): LevelRecord {
  return {
    fraction: 0.1,
    mode: 'open',
    offered: 1000,
    published: 3000,
    blocked: 0,
    expected: 3000,
    delivered: 3000,
    lost: 0,
    lostPerSubscriber: [0],
    lossPct: 0,
    achieved: 1000,
    latency: { count: 3000, p50: 50, p90: 70, p99: 100, p999: 200, max: 300, mean: 55 },
    service: { count: 3000, p50: 40, p90: 60, p99: 90, p999: 150, max: 250, mean: 45 },
    lag: { count: 3000, p50: 10, p90: 20, p99: 30, p999: 40, max: 50, mean: 12 },
    disconnects: 0,
    slowConsumers: 0,
    errors: 0,
    firstError: null,
    duplicates: 0,
    cpu: { server: 50, pubs: [20], subs: [30], machine: 110, other: 5, windowS: 3 },
    clientBound: null,
    error: null,
    ...over,
  };
}

test('knee and client-bound marks', () => {
  const levels = [
    level({ fraction: 0.1 }),
    level({
      fraction: 1,
      offered: 10_000,
      achieved: 9_900,
      latency: { count: 1, p50: 60, p90: 80, p99: 300, p999: 900, max: 1000, mean: 70 },
    }),
    level({ fraction: 2, offered: 20_000, achieved: 12_000, lossPct: 30 }),
  ];
  assert.equal(findKnee(levels)?.fraction, 2);
  assert.match(findKnee(levels)!.why, /30% lost/);
  assert.equal(findKnee(levels.slice(0, 2)), null);
  assert.equal(
    findKnee([level({}), level({ fraction: 0.5, latency: { count: 1, p50: 1, p90: 1, p99: 1000, p999: 1, max: 1, mean: 1 } })])
      ?.fraction,
    0.5,
  );
  assert.equal(clientBound(level({})), null);
  assert.match(
    clientBound(level({ cpu: { server: 50, pubs: [97], subs: [30], machine: 190, other: 0, windowS: 3 } }))!,
    /pub0 at 97% CPU/,
  );
  assert.match(clientBound(level({ lag: { count: 1, p50: 1, p90: 1, p99: 9000, p999: 1, max: 1, mean: 1 } }))!, /schedule lag/);
});

test("report: Markdown, JSON and SVG in the documents' shape", () => {
  const row = (target: string, rate: number): LatRow => ({
    workload: 'lat-pub-1k',
    title: 'NATS pub/sub 1→1, 1 KB',
    target,
    protocol: 'nats',
    durability: 'nothing stored',
    policy: 'slow consumer closed',
    skipped: null,
    note: null,
    calibration: level({ fraction: null, mode: 'closed', offered: null }),
    maxRate: rate,
    levels: [0.1, 0.8, 2].map((f) =>
      level({
        fraction: f,
        offered: f * rate,
        achieved: Math.min(f, 1) * rate,
        lossPct: f > 1 ? 12.5 : 0,
        disconnects: f > 1 ? 2 : 0,
        clientBound: f > 1 ? 'pub0 at 99% CPU' : null,
      }),
    ),
    knee: null,
  });
  const rows = [row('herald', 400_000), row('nats-server', 300_000)];
  rows[1]!.knee = findKnee(rows[1]!.levels);
  const rep: LatencyReport = {
    schema: 1,
    kind: 'latency',
    date: '2026-12-03T13:00:00.000Z',
    command: 'herald bench --compare --latency',
    wallS: 400,
    quietWaitS: 3,
    machine: {
      hostname: 'h',
      cores: 2,
      cpuModel: 'cpu',
      memoryGiB: 8,
      kernel: 'Linux',
      os: 'Debian',
      node: 'v20',
      loadAtStart: 0.1,
    },
    settings: { levels: [0.1, 0.8, 2], levelS: 3, warmupS: 0.5, calibrateS: 2, fixedS: 5 },
    targets: [{ name: 'herald', protocol: 'nats', version: 'herald 0.1.0', durability: 'sync: always', pidKnown: true }],
    unavailable: [{ name: 'herald', protocol: 'redis', reason: 'no Redis door yet' }],
    workloads: [
      {
        id: 'lat-pub-1k',
        title: 'NATS pub/sub 1→1, 1 KB',
        processes: '1 publisher process(es) × 1 connection(s)',
        payload: 1024,
      },
    ],
    rows: [
      ...rows,
      {
        ...row('herald', 0),
        workload: 'lat-js-1k',
        title: 'JetStream',
        skipped: 'CONSUMER.CREATE answered 10012',
        calibration: null,
        maxRate: null,
        levels: [],
      },
    ],
  };
  const md = renderLatencyMarkdown(rep, 'x.svg');
  assert.match(md, /## Machine/);
  assert.match(md, /\| NATS pub\/sub 1→1, 1 KB \| herald \| nothing stored \| 400k \| 50 \/ 100 \/ 200 \| 12\.5% ⚠ \| 2 \/ 0 \|/);
  assert.match(md, /JetStream on herald: CONSUMER.CREATE answered 10012/);
  assert.match(md, /⚠ client-bound: pub0 at 99% CPU/);
  assert.match(md, /node bin\/herald\.js bench --compare --latency/);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herald-lat-report-'));
  try {
    const w = writeLatencyReport(rep, dir, 'test-latency');
    assert.deepEqual(JSON.parse(readFileSync(w.json, 'utf8')), rep);
    const svg = readFileSync(w.svg, 'utf8');
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<path /g) ?? []).length, 4, 'p50 and p99 per server');
    assert.match(readFileSync(w.latest, 'utf8'), /test-latency\.md/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('args: --latency and --levels', () => {
  const a = parseBenchArgs(['--compare', '--latency', '--levels', '0.5,1,2']);
  assert.equal(a.latency, true);
  assert.deepEqual(a.levels, [0.5, 1, 2]);
  assert.throws(() => parseBenchArgs(['--compare', '--levels', '1']), UsageError);
  assert.throws(() => parseBenchArgs(['--latency', '--levels', '0,1']), UsageError);
});
