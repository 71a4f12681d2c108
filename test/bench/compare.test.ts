// `herald bench --compare` end to end, short (issue 13, part 6): herald, nats-server and
// redis-server started by the bench itself, one workload of every family that exists today (NATS
// core pub/sub and queue group, request/reply, JetStream async and sync publish and pull consume,
// the nats.js client row, and the Redis rows). herald's Redis door has Pub/Sub but no Streams yet,
// so its stream rows must be skipped with that reason. Asserts that the counts are
// consistent (they add up, nothing failed, every durable write is stored and every consumed
// message acked), never how large any number is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchReport } from '../../src/bench/report.js';
import type { RunRecord } from '../../src/bench/runner.js';
import { findPeer } from '../../src/bench/servers.js';
import { runSuite } from '../../src/bench/suite.js';

/** 16 runs of 1 s plus set-up, prefills and drains (about a minute on a busy 2-core machine). */
const COMPARE_TIMEOUT_MS = 300_000;
/** One workload per family: core pub/sub, latency, the three JetStream rows, the nats.js client row. */
const NATS_ROWS = ['pub-16', 'reqrep-16', 'js-pub-1k', 'js-sync-1k', 'js-consume-1k', 'client-pub-16'];
/** Rows herald cannot run yet, with the reason the report must give (todo: require them when the feature lands). */
const HERALD_NOT_YET: Record<string, RegExp> = {};
const REDIS_ROWS = ['redis-pub-16', 'redis-xadd-1k', 'redis-xreadgroup-1k', 'redis-xadd-sync-1k'];

const skip =
  findPeer('nats-server') === null || findPeer('redis-server') === null ? 'nats-server or redis-server not installed' : false;

/** The count identities every run must satisfy, by what the workload is. */
function checkCounts(r: RunRecord): void {
  const at = `${r.workload} on ${r.target}`;
  const notYet = r.target === 'herald' ? HERALD_NOT_YET[r.workload] : undefined;
  if (notYet !== undefined) {
    assert.match(r.skipped ?? r.error ?? '', notYet, `${at}: expected to be skipped for a known reason`);
    return;
  }
  assert.equal(r.error, null, `${at}: ${r.error}`);
  assert.equal(r.skipped, null, `${at} skipped`);
  assert.equal(r.errors, 0, `${at}: ${r.firstError}`);
  assert.equal(r.failed ?? null, null, `${at} failed its counts`);
  assert.equal(r.misrouted ?? 0, 0, at);
  assert.ok(r.published > 0, `${at}: nothing was published`);
  if (r.expected > 0) {
    // Pub/sub: what arrived, plus what was lost, minus duplicates, is what was expected.
    assert.equal(r.delivered + (r.lost ?? 0) - (r.duplicates ?? 0), r.expected, at);
    assert.equal(r.duplicates, 0, at);
    assert.equal(r.lost, 0, `${at}: a 1→1 run with a subscriber that reads everything loses nothing`);
    if (r.perConnection.length > 0)
      assert.equal(
        r.perConnection.reduce((a, b) => a + b, 0),
        r.delivered,
        `${at}: per-connection counts`,
      );
  }
  if (r.latency !== null) assert.equal(r.latency.count, r.delivered, `${at}: one latency sample per counted round trip`);
  const c = r.checks;
  if (r.workload === 'js-consume-1k' && r.delivered < Number(c['backlog'])) {
    // Ended by the clock before the backlog was drained (a loaded machine): messages of the pulls
    // still outstanding were delivered and never acked, so `all_acked` cannot hold. What must:
    // nothing left the stream, and the server's ack floor never passes what the consumer acked.
    assert.equal(c['stream_messages'], c['backlog'], `${at}: ${JSON.stringify(c)}`);
    assert.ok(Number(c['ack_floor']) <= r.delivered, `${at}: ack floor past the messages acked (${JSON.stringify(c)})`);
    return;
  }
  for (const [k, v] of Object.entries(c)) assert.notEqual(v, false, `${at}: check ${k} failed (${JSON.stringify(c)})`);
}

test(
  'bench --compare: every workload family, counts consistent on herald and the peers',
  { timeout: COMPARE_TIMEOUT_MS, skip },
  async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-compare-'));
    try {
      const res = await runSuite({
        compare: true,
        natsUrl: null,
        redisUrl: null,
        natsMonitor: null,
        natsPid: null,
        redisPid: null,
        rounds: 1,
        durationS: 1,
        workloads: [...NATS_ROWS, ...REDIS_ROWS],
        outDir: out,
        quick: true,
        progress: false,
        command: 'compare smoke test',
        stem: 'compare-smoke',
        quietBudgetMs: 0,
      });
      const rep = JSON.parse(readFileSync(res.written.json, 'utf8')) as BenchReport;
      assert.equal(rep.mode, 'compare');
      assert.match(rep.commit ?? '', /^[0-9a-f]{7,}(\+dirty)?$/, 'the report names the commit it ran on');
      // The peers are the peers, with their paths; herald's Redis door is reported missing.
      const ns = rep.targets.find((t) => t.name === 'nats-server')!;
      assert.match(ns.version, /^nats-server: v\d/);
      assert.ok(ns.path && !/herald|shim/.test(ns.path), ns.path ?? 'no path');
      const rs = rep.targets.find((t) => t.name === 'redis-server')!;
      assert.match(rs.version, /^Redis server v=/);
      assert.ok(rs.path, 'redis-server path');
      assert.ok(rep.targets.some((t) => t.name === 'herald' && t.protocol === 'nats'));
      assert.ok(
        rep.targets.some((t) => t.name === 'herald' && t.protocol === 'redis'),
        "herald's Redis door is a target",
      );

      assert.equal(rep.runs.length, (NATS_ROWS.length + REDIS_ROWS.length) * 2);
      for (const id of NATS_ROWS)
        for (const t of ['herald', 'nats-server'])
          assert.ok(
            rep.runs.some((r) => r.workload === id && r.target === t),
            `${id} on ${t}`,
          );
      for (const id of REDIS_ROWS)
        for (const t of ['herald', 'redis-server'])
          assert.ok(
            rep.runs.some((r) => r.workload === id && r.target === t),
            `${id} on ${t}`,
          );
      for (const r of rep.runs) checkCounts(r);
      const consume = rep.runs.filter((r) => r.workload === 'js-consume-1k' && r.skipped === null);
      assert.ok(consume.length > 0, 'js-consume-1k ran somewhere');
      for (const r of consume)
        assert.ok(
          r.delivered > 0 && r.delivered <= Number(r.checks['backlog']),
          `${r.target}: consumed ${r.delivered} of the backlog`,
        );

      // Every row has a herald/peer comparison with both numbers; the markdown says nothing failed.
      for (const id of [...NATS_ROWS, ...REDIS_ROWS]) {
        const c = rep.comparisons.find((x) => x.workload === id);
        assert.ok(c && c.peerValue !== null && !c.failed, `comparison for ${id}`);
        if (HERALD_NOT_YET[id] === undefined) assert.ok(c.herald !== null, `herald's number for ${id}`);
        else assert.match(c.heraldNote ?? '', HERALD_NOT_YET[id]!);
      }
      const md = readFileSync(res.written.markdown, 'utf8');
      assert.doesNotMatch(md, /FAILED/);
      assert.match(md, /Commit: /);
      assert.match(md, new RegExp(`nats-server: v[^|]* — ${ns.path!.replace(/[/.]/g, '\\$&')}`));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
