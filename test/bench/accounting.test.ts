// The bench's counts add up (issue 13, part 3): error acks, duplicates and misroutes are counted
// apart, kept out of rates and latency samples, and fail the run in the report. The pure rules
// (bench/lib/accounting.ts) are tested on hand-made role results; the roles themselves are run
// in-process against real servers (herald, and nats-server when installed) in situations that
// produce error acks, duplicates and misroutes on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Server } from '../../src/index.js';
import { account } from '../../src/bench/lib/accounting.js';
import { emptyResult, type RoleConfig, type RoleName, type RoleResult } from '../../src/bench/lib/ipc.js';
import { NatsAdmin, apiError } from '../../src/bench/admin.js';
import { findPeer } from '../../src/bench/servers.js';
import { RespClient } from '../../src/bench/lib/resp-wire.js';
import { redisPipe, redisXaddSync } from '../../src/bench/workers/redis-roles.js';
import { jsPub, jsSync, natsPub, natsSub } from '../../src/bench/workers/nats-roles.js';
import type { Role, RoleFactory } from '../../src/bench/workers/role.js';
import { renderMarkdown, type BenchReport } from '../../src/bench/report.js';
import { summarise, compare } from '../../src/bench/summary.js';
import { WORKLOADS } from '../../src/bench/workloads.js';
import type { RunRecord } from '../../src/bench/runner.js';
import { startNatsServer } from '../helpers/nats-server.js';
import { startRedisServer } from '../helpers/redis-server.js';

/** A role run here must report within this. */
const ROLE_TIMEOUT_MS = 20_000;
/** Whole test bound (servers, a few roles). */
const TEST_TIMEOUT_MS = 60_000;

function result(role: RoleName, over: Partial<RoleResult>): RoleResult {
  return { ...emptyResult(cfg(role, 'nats://127.0.0.1:1', {})), startAt: 0, endAt: 1000, ...over };
}

function cfg(role: RoleName, url: string, over: Partial<RoleConfig>): RoleConfig {
  return {
    role,
    label: role,
    url,
    subject: 'acct.test',
    payload: 16,
    connections: 1,
    batch: 10,
    window: 100,
    durationMs: 10_000,
    maxMessages: 100,
    warmup: 0,
    floorMs: 0,
    connectTimeoutMs: 5_000,
    ...over,
  };
}

test('pub/sub: exact delivery passes; a queue group delivering to every member is flagged as duplicates', () => {
  const pub = result('nats-pub', { sent: 1000, received: 1000 });
  const ok = account({ kind: 'throughput', fanout: 1 }, pub, [result('nats-sub', { received: 1000, lastRecvAt: 2000 })]);
  assert.equal(ok.failed, null);
  assert.equal(ok.expected, 1000);
  assert.equal(ok.lost, 0);
  assert.equal(ok.duplicates, 0);
  assert.equal(ok.rate, 500);
  // Three members each got every message: delivered 3000 for 1000 expected.
  const all = account({ kind: 'throughput', fanout: 1 }, pub, [
    result('nats-sub', { received: 3000, lastRecvAt: 2000, perConnection: [1000, 1000, 1000] }),
  ]);
  assert.equal(all.duplicates, 2000);
  assert.equal(all.lost, 0);
  assert.equal(all.rate, 500, 'duplicates are not in the rate');
  assert.match(all.failed ?? '', /2000 deliveries above published × 1 \(duplicates\)/);
  // Loss alone does not fail a run (Redis drops slow subscribers by design).
  const lossy = account({ kind: 'throughput', fanout: 10 }, pub, [result('redis-sub', { received: 9000, lastRecvAt: 2000 })]);
  assert.equal(lossy.lost, 1000);
  assert.equal(lossy.failed, null);
});

test('stream publishes: ok + errors + lost = sent; error acks are out of the rate and fail the run', () => {
  const m = result('js-pub', { sent: 1000, received: 700, errors: 200 });
  const c = account({ kind: 'throughput', fanout: 0 }, m, []);
  assert.equal(c.delivered, 700);
  assert.equal(c.errors, 200);
  assert.equal(c.lost, 100, 'no answer at all');
  assert.equal(c.delivered + c.errors + (c.lost ?? 0), m.sent);
  assert.equal(c.rate, 700, 'OK acks per second only');
  assert.match(c.failed ?? '', /200 error replies/);
  const clean = account({ kind: 'throughput', fanout: 0 }, result('redis-xadd', { sent: 1000, received: 1000 }), []);
  assert.equal(clean.failed, null);
  assert.equal(clean.lost, 0);
});

test('latency and consumers: errors and misroutes fail the run; other roles add theirs', () => {
  const c = account({ kind: 'latency', fanout: 0 }, result('nats-requester', { sent: 10, received: 10, misrouted: 1 }), [
    result('nats-replier', { errors: 1 }),
  ]);
  assert.equal(c.lost, null);
  assert.equal(c.errors, 1);
  assert.equal(c.misrouted, 1);
  assert.match(c.failed ?? '', /1 error reply, 1 misrouted/);
});

function record(over: Partial<RunRecord>): RunRecord {
  return {
    workload: 'queue-1k',
    target: 'herald',
    round: 1,
    skipped: null,
    error: null,
    seconds: 1,
    published: 10,
    delivered: 10,
    expected: 10,
    lost: 0,
    rate: 10,
    publishRate: 10,
    disconnects: 0,
    slowConsumers: 0,
    errors: 0,
    firstError: null,
    cpu: null,
    serverUsPerMsg: null,
    latency: null,
    floor: null,
    perConnection: [],
    checks: {},
    ...over,
  };
}

test('the report marks failed runs: ✗ on the number, a warning on top, a Failed runs section, the comparison flagged', () => {
  const runs = [
    record({ duplicates: 20, delivered: 30, failed: '20 deliveries above published × 1 (duplicates)' }),
    record({ target: 'nats-server', duplicates: 0 }),
  ];
  const rows = [summarise('queue-1k', 'herald', runs), summarise('queue-1k', 'nats-server', runs)];
  assert.deepEqual(rows[0]!.failed, ['round 1: 20 deliveries above published × 1 (duplicates)']);
  assert.deepEqual(rows[1]!.failed, []);
  const cmp = compare('queue-1k', 'throughput', rows[0]!, rows[1]!, null);
  assert.equal(cmp.failed, true);
  const rep = {
    schema: 1,
    createdAt: '2026-12-03T00:00:00Z',
    command: 'test',
    commit: 'abc1234',
    mode: 'compare',
    machine: { cores: 2, cpuModel: 'x', memoryGiB: 1, kernel: 'k', os: 'o', node: 'v20', loadAtStart: 0 },
    settings: {
      rounds: 1,
      durationS: 1,
      quick: true,
      workloads: ['queue-1k'],
      coreBatch: 1,
      coreWindow: 1,
      jsBatch: 1,
      jsWindow: 1,
      pullWindow: 1,
      xreadCount: 1,
      warmup: 1,
      wallSeconds: 1,
      quietWaitSeconds: 0,
    },
    targets: [
      {
        name: 'herald',
        protocol: 'nats',
        version: 'herald 0.1.0',
        path: '/x/bin/herald.js',
        durability: 'd',
        pidKnown: true,
        managed: true,
      },
      {
        name: 'nats-server',
        protocol: 'nats',
        version: 'nats-server: v2.9.10',
        path: '/usr/sbin/nats-server',
        durability: 'd',
        pidKnown: true,
        managed: true,
      },
    ],
    unavailable: [],
    runs,
    summary: rows,
    comparisons: [cmp],
    clientVsRaw: [],
  } as unknown as BenchReport;
  const md = renderMarkdown(rep, WORKLOADS, null);
  assert.match(md, /Commit: abc1234/);
  assert.match(md, /nats-server: v2\.9\.10 — \/usr\/sbin\/nats-server/);
  assert.match(md, /1 row\(s\) FAILED their counts/);
  assert.match(md, /## Failed runs\n\n.*\n\n- queue-1k on herald: round 1: 20 deliveries above/);
  assert.match(md, /✗ failed run — /);
  assert.match(md, /\+ \*\*20 duplicates\*\*/);
  assert.match(md, /\| ✗ FAILED \(round 1: 20 deliveries/);
});

/** Runs a role in this process until it reports (itself, or after `stopAfter`). */
async function runRole(factory: RoleFactory, c: RoleConfig, stopAfter?: Promise<unknown>): Promise<RoleResult> {
  let done!: (r: RoleResult) => void;
  const finished = new Promise<RoleResult>((r) => (done = r));
  const role: Role = await factory(c, { done: (r) => done(r), measuring: () => undefined });
  role.start();
  if (stopAfter) void stopAfter.then(async () => done(await role.stop()));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${c.role} did not report within ${ROLE_TIMEOUT_MS} ms`)), ROLE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([finished, timeout]);
  } finally {
    clearTimeout(timer);
    await role.stop();
  }
}

/** Creates stream `name` on `subject` holding at most `max` messages, refusing more (discard new). */
async function boundedStream(url: string, name: string, subject: string, max: number): Promise<void> {
  const admin = await NatsAdmin.connect(url);
  try {
    const body = {
      name,
      subjects: [subject],
      storage: 'memory',
      retention: 'limits',
      discard: 'new',
      max_msgs: max,
      num_replicas: 1,
    };
    assert.equal(apiError(await admin.request(`$JS.API.STREAM.CREATE.${name}`, body)), null);
  } finally {
    admin.close();
  }
}

/** The servers the roles are run against: herald in-process, and nats-server when installed. */
async function eachServer(fn: (url: string, name: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-acct-'));
  const h = await Server.start({ port: 0, dataDir: dir, logLevel: 'silent' });
  try {
    await fn(h.url, 'herald');
  } finally {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  }
  if (findPeer('nats-server') === null) return;
  const ns = await startNatsServer({ jetstream: true });
  try {
    await fn(ns.url, 'nats-server');
  } finally {
    await ns.stop();
  }
}

test(
  'js-pub and js-sync roles: error acks (stream full, discard new) are errors, not acks or latency samples',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    await eachServer(async (url, name) => {
      await boundedStream(url, 'FULL', 'full.x', 10);
      const r = await runRole(jsPub, cfg('js-pub', url, { subject: 'full.x', stream: 'FULL', maxMessages: 200 }));
      assert.equal(r.sent, 200, name);
      assert.equal(r.received, 10, `${name}: only the 10 stored publishes are acks`);
      assert.equal(r.errors, 190, `${name}: ${r.firstError}`);
      const c = account({ kind: 'throughput', fanout: 0 }, r, []);
      assert.equal(c.lost, 0);
      assert.match(c.failed ?? '', /190 error replies/, name);
      // An ack naming another stream is misrouted, not an ack.
      await boundedStream(url, 'ROOMY', 'roomy.x', 1000);
      const m = await runRole(jsPub, cfg('js-pub', url, { subject: 'roomy.x', stream: 'NOT_ROOMY', maxMessages: 20 }));
      assert.equal(m.received, 0, name);
      assert.equal(m.misrouted, 20, name);
      assert.match(account({ kind: 'throughput', fanout: 0 }, m, []).failed ?? '', /20 misrouted/);
      // The sync loop: the stream is full, so every answer is an error: no latency sample at all.
      const s = await runRole(jsSync, cfg('js-sync', url, { subject: 'full.x', stream: 'FULL', maxMessages: 50 }));
      assert.ok(s.errors > 0, name);
      assert.equal(s.latency?.count ?? 0, 0, `${name}: error acks are not latency samples`);
      assert.equal(s.received, 0, name);
    });
  },
);

test(
  'core roles: three plain subscribers where a queue group was meant are duplicates and fail the run',
  { timeout: TEST_TIMEOUT_MS },
  async () => {
    await eachServer(async (url, name) => {
      const subCfg = cfg('nats-sub', url, { subject: `dup.${name}`, connections: 3 });
      const sub = await natsSub(subCfg, { done: () => undefined, measuring: () => undefined });
      sub.start();
      const pub = await runRole(
        natsPub,
        cfg('nats-pub', url, { subject: `dup.${name}`, batch: 100, window: 2, maxMessages: 1000 }),
      );
      assert.equal(pub.received, 1000, `${name}: every batch answered by PONG`);
      // Bounded wait until the deliveries stop growing (they are flushed before the PONG, so this is short).
      const deadline = Date.now() + ROLE_TIMEOUT_MS;
      while (sub.progress().received < 3000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const subs = await sub.stop();
      assert.equal(subs.received, 3000, `${name}: each of the 3 got every message`);
      const c = account({ kind: 'throughput', fanout: 1 }, pub, [subs]);
      assert.equal(c.duplicates, 2000);
      assert.match(c.failed ?? '', /duplicates/);
      // The same counts with the right fanout (3 plain subscribers) pass.
      assert.equal(account({ kind: 'throughput', fanout: 3 }, pub, [subs]).failed, null);
    });
  },
);

test(
  'redis-xadd and redis-xadd-sync roles: error replies (WRONGTYPE) are errors, not acks or latency samples (redis-server only: herald has no Redis door yet)',
  { timeout: TEST_TIMEOUT_MS, skip: findPeer('redis-server') === null ? 'redis-server not installed' : false },
  async () => {
    const rs = await startRedisServer();
    try {
      const c = await RespClient.connect(rs.url, 5_000);
      await c.command(['SET', 'notastream', 'x']);
      c.close();
      const r = await runRole(
        redisPipe,
        cfg('redis-xadd', rs.url, { subject: 'notastream', batch: 10, window: 2, maxMessages: 50 }),
      );
      assert.equal(r.sent, 50);
      assert.equal(r.received, 0, 'no OK reply');
      assert.equal(r.errors, 50, String(r.firstError));
      assert.match(account({ kind: 'throughput', fanout: 0 }, r, []).failed ?? '', /50 error replies/);
      const s = await runRole(redisXaddSync, cfg('redis-xadd-sync', rs.url, { subject: 'notastream', maxMessages: 50 }));
      assert.ok(s.errors > 0);
      assert.equal(s.latency?.count ?? 0, 0, 'error replies are not latency samples');
    } finally {
      await rs.stop();
    }
  },
);
