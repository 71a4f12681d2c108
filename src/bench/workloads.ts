/**
 * The bench suite: what each workload runs (roles, process layout, batch and window), what it
 * sets up and checks, and the durability each server offers on it. Settings follow
 * /work/shared/bench/anchors.md so the numbers stay comparable with the reference runs.
 */
import { consumerState, createConsumer, createStream, deleteStream, NatsAdmin, streamMessages } from './admin.js';
import type { RoleConfig, RoleName, RoleResult } from './lib/ipc.js';
import { RespClient, RespError, type RespValue } from './lib/resp-wire.js';
import type { Target } from './servers.js';

/** Messages per pre-encoded batch, each batch followed by a PING (anchors: BATCH=1000). */
export const CORE_BATCH = 1000;
/** Batches without a PONG/reply (anchors: WINDOW=4; the best of the scanned settings). */
export const CORE_WINDOW = 4;
/** JetStream publishes per write while acks are outstanding. */
export const JS_BATCH = 100;
/** JetStream publishes without an ack (anchors: ≤1000 outstanding). */
export const JS_WINDOW = 1000;
/** Messages requested from a pull consumer at once (anchors: consume max_messages 1000). */
export const PULL_WINDOW = 1000;
/** XREADGROUP COUNT (anchors: COUNT 100, one read in flight). */
export const XREAD_COUNT = 100;
/** Latency loops discard this many round trips first (anchors: 1,000 warm-ups). */
export const WARMUP = 1000;
/** How long the requester measures the PING floor before the requests, ms. */
export const FLOOR_MS = 1000;
/** Backlog the consumers drain (anchors: 200k). Quick runs use a quarter. */
export const BACKLOG = 200_000;
/** Longest a backlog prefill may take, ms (a slow server gets a smaller backlog, not a hang). */
export const PREFILL_MAX_MS = 30_000;
/** Cap on messages of one measured phase, whatever the duration (bounds memory and disk). */
export const MAX_MESSAGES = 50_000_000;
/** Connecting and subscribing must finish within this, ms. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** What a plan's setup and checks may use. */
export interface PlanContext {
  target: Target;
  durationMs: number;
  quick: boolean;
  /** A token unique to this run, for subjects, streams and keys. */
  runId: string;
  /** Runs one worker to completion (unmeasured), e.g. to fill a backlog. */
  prefill(cfg: RoleConfig): Promise<RoleResult | null>;
}

/** Checks made after a run, shown in the report (e.g. stream count == acks). */
export type Checks = Record<string, number | string | boolean>;

/** One run of a workload against one target. */
export interface Plan {
  /** The role whose end ends the run: publisher, latency loop or consumer. */
  main: RoleConfig;
  /** Roles started before it and stopped after the drain: subscribers, replier. */
  others: RoleConfig[];
  /** Deliveries expected per published message (0 when the workload is not pub/sub). */
  fanout: number;
  /** Prepares the server; returns why the run cannot happen here, or null. */
  setup?(): Promise<string | null>;
  /** Adjusts `main` after setup (e.g. the backlog size actually stored). */
  adjust?(main: RoleConfig): void;
  /** Checks the server's state after the run. */
  verify?(main: RoleResult): Promise<Checks>;
  teardown?(): Promise<void>;
}

/** A workload of the suite. */
export interface Workload {
  id: string;
  title: string;
  protocol: 'nats' | 'redis';
  group: 'core' | 'latency' | 'jetstream' | 'redis' | 'client';
  kind: 'throughput' | 'latency';
  /** Persists messages (the durability column matters). */
  durable: boolean;
  payload: number;
  /** One line for docs and the report: what is measured, how. */
  describe: string;
  plan(ctx: PlanContext): Plan;
}

function role(ctx: PlanContext, r: RoleName, label: string, extra: Partial<RoleConfig>): RoleConfig {
  return {
    role: r,
    label,
    url: ctx.target.url,
    subject: `bench.${ctx.runId}`,
    payload: 16,
    connections: 1,
    batch: CORE_BATCH,
    window: CORE_WINDOW,
    durationMs: ctx.durationMs,
    maxMessages: MAX_MESSAGES,
    warmup: WARMUP,
    floorMs: 0,
    connectTimeoutMs: CONNECT_TIMEOUT_MS,
    ...extra,
  };
}

/** Core pub/sub: 1 publisher process, `procs` subscriber processes of `conns` connections each. */
function corePubSub(ctx: PlanContext, payload: number, procs: number, conns: number, queue?: string): Plan {
  const others: RoleConfig[] = [];
  for (let i = 0; i < procs; i++) {
    others.push(role(ctx, 'nats-sub', `sub${i}`, { payload, connections: conns, ...(queue ? { queue } : {}) }));
  }
  const fanout = queue ? 1 : procs * conns;
  return { main: role(ctx, 'nats-pub', 'pub', { payload }), others, fanout };
}

function redisPubSub(ctx: PlanContext, payload: number, procs: number, conns: number): Plan {
  const others: RoleConfig[] = [];
  for (let i = 0; i < procs; i++) others.push(role(ctx, 'redis-sub', `sub${i}`, { payload, connections: conns }));
  return { main: role(ctx, 'redis-pub', 'pub', { payload }), others, fanout: procs * conns };
}

/**
 * A JetStream plan's stream: created in setup, counted in verify, deleted in teardown. With a
 * backlog, the durable consumer(s) are created after the prefill: `C`, or `C1…Cn` for a fan-out
 * of `consumers`, push consumers on a deliver subject when `push`.
 */
function jsPlan(ctx: PlanContext, main: RoleConfig, opts: { backlog?: boolean; consumers?: number; push?: boolean }): Plan {
  const stream = `BENCH_${ctx.runId.replace(/[^A-Za-z0-9]/g, '_')}`;
  const subject = `bench.js.${ctx.runId}`;
  main.subject = subject;
  main.stream = stream;
  main.consumer = 'C';
  const names = opts.consumers === undefined ? ['C'] : Array.from({ length: opts.consumers }, (_, i) => `C${i + 1}`);
  if (opts.consumers !== undefined) main.connections = opts.consumers;
  if (opts.push) main.deliver = `bench.push.${ctx.runId}`;
  let admin: NatsAdmin | null = null;
  let stored = 0;
  return {
    main,
    others: [],
    fanout: 0,
    async setup() {
      admin = await NatsAdmin.connect(ctx.target.url);
      const err = await createStream(admin, stream, [subject]);
      if (err !== null) return `JetStream stream create failed: ${err}`;
      if (opts.backlog) {
        const want = ctx.quick ? BACKLOG / 4 : BACKLOG;
        const r = await ctx.prefill(
          role(ctx, 'js-pub', 'prefill', {
            subject,
            payload: main.payload,
            batch: JS_BATCH,
            window: JS_WINDOW,
            durationMs: PREFILL_MAX_MS,
            maxMessages: want,
          }),
        );
        stored = (await streamMessages(admin, stream)) ?? 0;
        if (!r || stored === 0) return `backlog prefill failed (${r?.firstError ?? 'no result'})`;
        for (const name of names) {
          const cerr = await createConsumer(admin, stream, name, main.deliver);
          if (cerr !== null) return `consumer create failed: ${cerr}`;
        }
      }
      return null;
    },
    adjust(m) {
      if (opts.backlog) m.maxMessages = stored;
    },
    async verify(r) {
      const checks: Checks = {};
      if (!admin) return checks;
      const n = await streamMessages(admin, stream);
      if (n !== null) checks['stream_messages'] = n;
      if (opts.backlog) {
        checks['backlog'] = stored;
        let floor = 0;
        let pending = 0;
        let all = true;
        for (const name of names) {
          const st = await consumerState(admin, stream, name);
          if (!st) continue;
          floor += st.ackFloor;
          pending += st.ackPending;
          all &&= st.ackPending === 0;
        }
        checks['ack_floor'] = floor;
        checks['ack_pending'] = pending;
        checks['all_acked'] = all && floor === r.received;
      } else if (n !== null) {
        // Every publish (warm-ups included) that did not get an error must be stored.
        checks['stored_equals_sent'] = n === r.sent - r.errors;
      }
      return checks;
    },
    async teardown() {
      if (!admin) return;
      await deleteStream(admin, stream);
      admin.close();
    },
  };
}

function isErr(v: RespValue): boolean {
  return v instanceof RespError;
}

/** A Redis stream plan: the key is deleted before and after; XLEN/XPENDING checked after. */
function redisStreamPlan(ctx: PlanContext, main: RoleConfig, opts: { backlog?: boolean }): Plan {
  const key = `bench:${ctx.runId}`;
  main.subject = key;
  main.group = 'g';
  main.consumer = 'c1';
  let client: RespClient | null = null;
  let stored = 0;
  return {
    main,
    others: [],
    fanout: 0,
    async setup() {
      client = await RespClient.connect(ctx.target.url, CONNECT_TIMEOUT_MS);
      // A server without Redis Streams (herald before its Streams land) is skipped, not failed.
      const probe = await client.command(['XLEN', key]);
      if (isErr(probe) && /unknown command/i.test((probe as RespError).message))
        return `no Redis Streams on this server (${(probe as RespError).message})`;
      await client.command(['DEL', key]);
      if (opts.backlog) {
        const want = ctx.quick ? BACKLOG / 4 : BACKLOG;
        const r = await ctx.prefill(
          role(ctx, 'redis-xadd', 'prefill', {
            subject: key,
            payload: main.payload,
            durationMs: PREFILL_MAX_MS,
            maxMessages: want,
          }),
        );
        const len = await client.command(['XLEN', key]);
        stored = typeof len === 'number' ? len : 0;
        if (!r || stored === 0) return `backlog prefill failed (${r?.firstError ?? 'no result'})`;
        const g = await client.command(['XGROUP', 'CREATE', key, 'g', '0']);
        if (isErr(g)) return `XGROUP CREATE failed: ${(g as RespError).message}`;
      }
      return null;
    },
    adjust(m) {
      if (opts.backlog) m.maxMessages = stored;
    },
    async verify(r) {
      const checks: Checks = {};
      if (!client) return checks;
      const len = await client.command(['XLEN', key]);
      if (typeof len === 'number') checks['xlen'] = len;
      if (opts.backlog) {
        checks['backlog'] = stored;
        const p = await client.command(['XPENDING', key, 'g']);
        if (Array.isArray(p) && typeof p[0] === 'number') {
          checks['xpending'] = p[0];
          checks['all_acked'] = p[0] === 0;
        }
      } else if (typeof len === 'number') {
        checks['stored_equals_sent'] = len === r.sent - r.errors;
      }
      return checks;
    },
    async teardown() {
      if (!client) return;
      await client.command(['DEL', key], 60_000);
      client.close();
    },
  };
}

/** Every workload, in report order. */
export const WORKLOADS: readonly Workload[] = [
  {
    id: 'pub-16',
    title: 'NATS pub/sub 1→1, 16 B',
    protocol: 'nats',
    group: 'core',
    kind: 'throughput',
    durable: false,
    payload: 16,
    describe: 'One publisher process (batches of 1000 PUB + PING, ≤4 batches without PONG) and one subscriber process.',
    plan: (ctx) => corePubSub(ctx, 16, 1, 1),
  },
  {
    id: 'pub-1k',
    title: 'NATS pub/sub 1→1, 1 KB',
    protocol: 'nats',
    group: 'core',
    kind: 'throughput',
    durable: false,
    payload: 1024,
    describe: 'As pub-16 with 1024-byte payloads.',
    plan: (ctx) => corePubSub(ctx, 1024, 1, 1),
  },
  {
    id: 'fanout-1k',
    title: 'NATS fan-out 1→10, 1 KB',
    protocol: 'nats',
    group: 'core',
    kind: 'throughput',
    durable: false,
    payload: 1024,
    describe:
      'One publisher, 10 subscriber connections in 2 processes (5 each); delivered = 10 × published when nothing is lost.',
    plan: (ctx) => corePubSub(ctx, 1024, 2, 5),
  },
  {
    id: 'queue-1k',
    title: 'NATS queue group 1→3, 1 KB',
    protocol: 'nats',
    group: 'core',
    kind: 'throughput',
    durable: false,
    payload: 1024,
    describe: 'One publisher, 3 queue-group members (one process); each message goes to one member.',
    plan: (ctx) => corePubSub(ctx, 1024, 1, 3, 'q'),
  },
  {
    id: 'reqrep-16',
    title: 'NATS request/reply, 16 B',
    protocol: 'nats',
    group: 'latency',
    kind: 'latency',
    durable: false,
    payload: 16,
    describe:
      'Closed loop, one request in flight, 1000 warm-ups; requester and replier in separate processes. Also the PING/PONG floor.',
    plan: (ctx) => ({
      main: role(ctx, 'nats-requester', 'requester', {
        subject: `svc.${ctx.runId}`,
        floorMs: ctx.quick ? FLOOR_MS / 2 : FLOOR_MS,
      }),
      others: [role(ctx, 'nats-replier', 'replier', { subject: `svc.${ctx.runId}` })],
      fanout: 0,
    }),
  },
  {
    id: 'js-pub-1k',
    title: 'JetStream async publish, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe:
      'PUB with a reply inbox into a file stream, ≤1000 acks outstanding, writes of 100; acks counted and checked for errors.',
    plan: (ctx) => jsPlan(ctx, role(ctx, 'js-pub', 'publisher', { payload: 1024, batch: JS_BATCH, window: JS_WINDOW }), {}),
  },
  {
    id: 'js-sync-1k',
    title: 'JetStream sync publish latency, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'latency',
    durable: true,
    payload: 1024,
    describe: 'One publish in flight, each awaiting its ack; 1000 warm-ups.',
    plan: (ctx) => jsPlan(ctx, role(ctx, 'js-sync', 'publisher', { payload: 1024 }), {}),
  },
  {
    id: 'js-consume-1k',
    title: 'JetStream pull consume + ack, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe: 'Durable pull consumer on a 200k backlog, 1000 messages requested at a time (pulls of 500), every message acked.',
    plan: (ctx) =>
      jsPlan(ctx, role(ctx, 'js-consume', 'consumer', { payload: 1024, batch: PULL_WINDOW, window: PULL_WINDOW }), {
        backlog: true,
      }),
  },
  {
    id: 'js-consume-b100-1k',
    title: 'JetStream pull consume + ack, batch 100, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe: 'As the consume row, with 100 messages requested at a time (pulls of 50), as consume({ max_messages: 100 }).',
    plan: (ctx) =>
      jsPlan(ctx, role(ctx, 'js-consume', 'consumer', { payload: 1024, batch: 100, window: 100 }), { backlog: true }),
  },
  {
    id: 'js-push-1k',
    title: 'JetStream push consume + ack, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe: 'Durable push consumer (max_ack_pending 20,000) on a 200k backlog, one subscriber on its deliver subject, every message acked.',
    plan: (ctx) => jsPlan(ctx, role(ctx, 'js-consume', 'consumer', { payload: 1024, batch: PULL_WINDOW, window: PULL_WINDOW }), { backlog: true, push: true }),
  },
  {
    id: 'js-fanout3-1k',
    title: 'JetStream durable fan-out to 3 consumers, 1 KB',
    protocol: 'nats',
    group: 'jetstream',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe: 'Three durable pull consumers on one 200k backlog, each on its own connection (1000 requested, pulls of 500), every delivery acked; msgs/s counts deliveries.',
    plan: (ctx) =>
      jsPlan(ctx, role(ctx, 'js-consume-fan', 'consumer', { payload: 1024, batch: PULL_WINDOW, window: PULL_WINDOW }), {
        backlog: true,
        consumers: 3,
      }),
  },
  {
    id: 'redis-pub-16',
    title: 'Redis PUBLISH/SUBSCRIBE 1→1, 16 B',
    protocol: 'redis',
    group: 'redis',
    kind: 'throughput',
    durable: false,
    payload: 16,
    describe: 'Pipelined PUBLISH (batches of 1000, ≤4 without replies), one SUBSCRIBE process.',
    plan: (ctx) => redisPubSub(ctx, 16, 1, 1),
  },
  {
    id: 'redis-pub-1k',
    title: 'Redis PUBLISH/SUBSCRIBE 1→1, 1 KB',
    protocol: 'redis',
    group: 'redis',
    kind: 'throughput',
    durable: false,
    payload: 1024,
    describe: 'As redis-pub-16 with 1024-byte payloads.',
    plan: (ctx) => redisPubSub(ctx, 1024, 1, 1),
  },
  {
    id: 'redis-fanout-1k',
    title: 'Redis fan-out 1→10, 1 KB',
    protocol: 'redis',
    group: 'redis',
    kind: 'throughput',
    durable: false,
    payload: 1024,
    describe:
      '10 SUBSCRIBE connections in 2 processes; Redis disconnects subscribers past its output-buffer limit (loss and disconnects are the point).',
    plan: (ctx) => redisPubSub(ctx, 1024, 2, 5),
  },
  {
    id: 'redis-xadd-1k',
    title: 'Redis XADD pipelined, 1 KB',
    protocol: 'redis',
    group: 'redis',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe: 'XADD key * d <1 KB>, batches of 1000, ≤4 batches without replies.',
    plan: (ctx) => redisStreamPlan(ctx, role(ctx, 'redis-xadd', 'publisher', { payload: 1024 }), {}),
  },
  {
    id: 'redis-xreadgroup-1k',
    title: 'Redis XREADGROUP + XACK, 1 KB',
    protocol: 'redis',
    group: 'redis',
    kind: 'throughput',
    durable: true,
    payload: 1024,
    describe:
      'Consumer group on a 200k backlog: XREADGROUP COUNT 100, one read in flight, XACK of each batch pipelined with the next read.',
    plan: (ctx) =>
      redisStreamPlan(ctx, role(ctx, 'redis-xreadgroup', 'consumer', { payload: 1024, batch: XREAD_COUNT }), { backlog: true }),
  },
  {
    id: 'redis-xadd-sync-1k',
    title: 'Redis sync XADD latency, 1 KB',
    protocol: 'redis',
    group: 'redis',
    kind: 'latency',
    durable: true,
    payload: 1024,
    describe: 'One XADD in flight, 1000 warm-ups.',
    plan: (ctx) => redisStreamPlan(ctx, role(ctx, 'redis-xadd-sync', 'publisher', { payload: 1024 }), {}),
  },
  {
    id: 'client-pub-16',
    title: 'NATS pub/sub 1→1, 16 B, nats.js client',
    protocol: 'nats',
    group: 'client',
    kind: 'throughput',
    durable: false,
    payload: 16,
    describe:
      'pub-16 driven by the nats.js 2.x client (publish ×1000, flush, ≤4 flushes outstanding): how much the client library costs.',
    plan: (ctx) => ({
      main: role(ctx, 'client-pub', 'pub', { payload: 16 }),
      others: [role(ctx, 'client-sub', 'sub0', { payload: 16 })],
      fanout: 1,
    }),
  },
];

/** Looks workloads up by id; throws on an unknown id with the list of known ones. */
export function selectWorkloads(ids: readonly string[] | null): Workload[] {
  if (ids === null || ids.length === 0) return [...WORKLOADS];
  const out: Workload[] = [];
  for (const id of ids) {
    const w = WORKLOADS.find((x) => x.id === id);
    if (!w) throw new Error(`unknown workload "${id}"; known: ${WORKLOADS.map((x) => x.id).join(', ')}`);
    out.push(w);
  }
  return out;
}
