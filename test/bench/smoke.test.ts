// A short real run of the bench against nats-server and redis-server on random loopback ports:
// checks the result JSON's shape and that small 1→1 runs lose nothing. No timing assertions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchReport } from '../../src/bench/report.js';
import { findBinary, startNatsServer, startRedisServer, type ManagedServer } from '../../src/bench/servers.js';
import { runSuite } from '../../src/bench/suite.js';

/** The whole smoke run must end within this (servers, 3 runs of 1 s, drains, report). */
const SMOKE_TIMEOUT_MS = 60_000;

const natsBin = findBinary('nats-server');
const redisBin = findBinary('redis-server');

test(
  'bench smoke: pub-16, reqrep-16 and redis-pub-16 against the reference servers',
  { timeout: SMOKE_TIMEOUT_MS, skip: !natsBin || !redisBin ? 'nats-server or redis-server not installed' : false },
  async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'herald-bench-smoke-'));
    const servers: ManagedServer[] = [];
    try {
      const nats = await startNatsServer(natsBin!);
      servers.push(nats);
      const redis = await startRedisServer(redisBin!);
      servers.push(redis);
      const res = await runSuite({
        compare: false,
        natsUrl: nats.targets[0]!.url,
        redisUrl: redis.targets[0]!.url,
        natsMonitor: nats.targets[0]!.monitorUrl,
        natsPid: nats.targets[0]!.pid,
        redisPid: redis.targets[0]!.pid,
        rounds: 1,
        durationS: 1,
        workloads: ['pub-16', 'reqrep-16', 'redis-pub-16'],
        outDir: out,
        quick: true,
        progress: false,
        command: 'smoke test',
        stem: 'smoke',
      });
      const rep = JSON.parse(readFileSync(res.written.json, 'utf8')) as BenchReport;
      assert.equal(rep.schema, 1);
      assert.equal(rep.mode, 'run');
      assert.ok(rep.machine.cores >= 1);
      assert.equal(rep.targets.length, 2);
      assert.equal(rep.runs.length, 3);
      for (const r of rep.runs) {
        assert.equal(r.error, null, `${r.workload}: ${r.error}`);
        assert.equal(r.skipped, null);
        assert.equal(r.errors, 0, `${r.workload}: ${r.firstError}`);
        assert.ok(r.cpu !== null && r.cpu.server !== null, 'server CPU measured (pid known)');
        assert.ok(r.serverUsPerMsg !== null && r.serverUsPerMsg > 0);
      }
      for (const id of ['pub-16', 'redis-pub-16']) {
        const r = rep.runs.find((x) => x.workload === id)!;
        assert.ok(r.published > 0, `${id} published`);
        assert.equal(r.lost, 0, `${id} lost nothing`);
        assert.equal(r.delivered, r.published);
        assert.equal(r.disconnects, 0);
        assert.ok(r.rate > 0);
      }
      const pub = rep.runs.find((x) => x.workload === 'pub-16')!;
      assert.equal(pub.slowConsumers, 0, '/varz read through the monitor URL');
      const rr = rep.runs.find((x) => x.workload === 'reqrep-16')!;
      assert.ok(rr.latency && rr.latency.count > 0 && rr.latency.p50 > 0 && rr.latency.p99 >= rr.latency.p50);
      assert.ok(rr.floor && rr.floor.count > 0);
      assert.equal(rep.summary.length, 3);
      assert.match(readFileSync(res.written.markdown, 'utf8'), /## Machine/);
    } finally {
      for (const s of servers) await s.stop();
      rmSync(out, { recursive: true, force: true });
    }
  },
);
