// A few seconds of `herald bench --latency` against herald, nats-server and redis-server (compare
// mode, random loopback ports): one short level per row. Asserts only that numbers are produced
// and consistent with each other, never their size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LatencyReport } from '../../src/bench/latency/report.js';
import { runLatencySuite } from '../../src/bench/latency/suite.js';
import { findBinary } from '../../src/bench/servers.js';

/** Servers, 4 rows × (calibration + one level) of about a second each, reports. */
const SMOKE_TIMEOUT_MS = 120_000;

const missing = !findBinary('nats-server') || !findBinary('redis-server');

test(
  'latency smoke: one short level per row on herald, nats-server and redis-server',
  { timeout: SMOKE_TIMEOUT_MS, skip: missing ? 'nats-server or redis-server not installed' : false },
  async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'herald-lat-smoke-'));
    try {
      const res = await runLatencySuite({
        compare: true,
        natsUrl: null,
        redisUrl: null,
        natsMonitor: null,
        workloads: ['lat-pub-1k', 'lat-js-1k', 'lat-redis-pub-1k'],
        levels: [0.5],
        levelS: 0.5,
        warmupS: 0.2,
        calibrateS: 0.5,
        fixedS: 0.5,
        outDir: out,
        heraldSync: null,
        command: 'smoke test',
        stem: 'smoke',
        quietWait: false,
        log: () => undefined,
      });
      const rep = JSON.parse(readFileSync(res.written.json, 'utf8')) as LatencyReport;
      assert.equal(rep.kind, 'latency');
      assert.ok(existsSync(res.written.svg) && existsSync(res.written.markdown));
      const names = new Set(rep.rows.map((r) => `${r.workload}@${r.target}`));
      for (const want of [
        'lat-pub-1k@herald',
        'lat-pub-1k@nats-server',
        'lat-js-1k@nats-server',
        'lat-js-1k@herald',
        'lat-redis-pub-1k@redis-server',
      ])
        assert.ok(names.has(want), `row ${want}`);
      for (const r of rep.rows) {
        if (r.skipped !== null) {
          // herald's JetStream consumers and Redis door may not exist yet: then the row says why.
          assert.ok(r.target === 'herald' && r.skipped.length > 0, `${r.workload}@${r.target} skipped: ${r.skipped}`);
          continue;
        }
        const where = `${r.workload}@${r.target}`;
        assert.ok(r.maxRate !== null && r.maxRate > 0, `${where}: a closed-loop maximum`);
        assert.equal(r.levels.length, 1, where);
        for (const l of [r.calibration!, ...r.levels]) {
          assert.equal(l.error, null, `${where}: ${l.error}`);
          assert.ok(l.published > 0, `${where}: published`);
          assert.equal(l.delivered + l.lost, l.expected, `${where}: delivered + lost = expected`);
          assert.ok(l.lossPct >= 0 && l.lossPct <= 100, `${where}: loss %`);
          const q = l.latency;
          assert.ok(q !== null && q.count > 0, `${where}: latency recorded`);
          assert.ok(q.p50 <= q.p99 && q.p99 <= q.p999 && q.p999 <= q.max, `${where}: percentiles ordered`);
          assert.ok(
            l.cpu !== null && l.cpu.server !== null && l.cpu.pubs.length === 1 && l.cpu.subs.length === 1,
            `${where}: CPU of the server and each generator`,
          );
        }
        const open = r.levels[0]!;
        assert.equal(open.mode, 'open');
        assert.ok(
          open.offered !== null && Math.abs(open.offered - 0.5 * r.maxRate!) < 1e-6 * r.maxRate! + 1,
          `${where}: offered 50% of the maximum`,
        );
        assert.ok(open.lag !== null && open.lag.count > 0, `${where}: publisher schedule lag recorded`);
      }
      assert.match(readFileSync(res.written.markdown, 'utf8'), /## The documents' table/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
