/**
 * Consumer-state costs. Not a test: numbers depend on the machine and the disk.
 *
 * - `memory`: heap bytes per pending entry — 1,000,000 first deliveries recorded on one consumer,
 *   `process.memoryUsage()` before and after a forced GC (needs --expose-gc), for the memory and
 *   the file store (same in-memory book; the file store also holds the log's pending chunks until
 *   written, so it is measured after whenDurable).
 * - `ack`: the cost of an ack. CPU per call (memory store, and file store with `sync: never` so the
 *   disk wait is out of it) for updateDelivered + updateAcks pairs, then end-to-end throughput under
 *   `sync: always` of "append a message, record its delivery and its ack in the same turn" against
 *   "append only", with the same outstanding window (so the difference is what the consumer log adds
 *   to each group-commit batch).
 *
 * Run: npx tsc -p tsconfig.json --outDir .build-store && \
 *      node --expose-gc .build-store/bench/store/consumer.js [memory|ack|all] [seconds=3] [dir]
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '../../store/file/index.js';
import type { FileStore } from '../../store/file/file-store.js';
import { MemoryStore } from '../../store/memory.js';
import type { MessageStore, SyncPolicy } from '../../store/store.js';
import { runWindow } from './window.js';

/** Pending entries for the memory measurement: the brief's 1,000,000. */
const PENDING = 1_000_000;
/** Appends in flight before the producer waits (as bench/store/append.ts). */
const MAX_OUTSTANDING = 1000;
const PAYLOAD = Buffer.alloc(128, 0x61);
const NS = 1_700_000_000_000_000_000;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

function durable(s: MessageStore): Promise<void> {
  return new Promise((resolve, reject) => s.whenDurable((e) => (e === null ? resolve() : reject(e))));
}

async function memoryPerPending(kind: 'memory' | 'file', base: string): Promise<void> {
  const dir = join(base, 'mem');
  rmSync(dir, { recursive: true, force: true });
  const store = kind === 'memory' ? new MemoryStore() : (await openFileStore(dir, { sync: { kind: 'never' } })).store;
  const c = store.consumer('mem');
  await durable(store);
  gc();
  const m0 = process.memoryUsage();
  for (let q = 1; q <= PENDING; q++) c.updateDelivered(q, q, 1, NS + q);
  await durable(store);
  gc();
  const m1 = process.memoryUsage();
  const per = (a: number, b: number): string => ((b - a) / PENDING).toFixed(1);
  console.log(
    `${kind.padEnd(6)} ${PENDING} pending: heapUsed +${((m1.heapUsed - m0.heapUsed) / 2 ** 20).toFixed(1)} MiB ` +
      `(${per(m0.heapUsed, m1.heapUsed)} B/entry), rss +${((m1.rss - m0.rss) / 2 ** 20).toFixed(1)} MiB ` +
      `(${per(m0.rss, m1.rss)} B/entry), pendingCount ${c.pendingCount}`,
  );
  await store.destroy();
}

/** ns per deliver+ack pair, CPU only (no waiting for the disk). */
async function ackCpu(kind: 'memory' | 'file', base: string): Promise<void> {
  const dir = join(base, 'cpu');
  rmSync(dir, { recursive: true, force: true });
  const store = kind === 'memory' ? new MemoryStore() : (await openFileStore(dir, { sync: { kind: 'never' } })).store;
  const c = store.consumer('cpu');
  const n = 2_000_000;
  for (let q = 1; q <= 100_000; q++) c.updateDelivered(q, q, 1, NS); // warm-up
  for (let q = 1; q <= 100_000; q++) c.updateAcks(q, q, NS);
  // CPU time of this process, not wall time: the numbers hold on a machine shared with others.
  const t0 = process.cpuUsage();
  for (let q = 100_001; q <= 100_000 + n; q++) {
    c.updateDelivered(q, q, 1, NS + q);
    c.updateAcks(q, q, NS + q);
  }
  const used = process.cpuUsage(t0);
  const ns = ((used.user + used.system) * 1000) / n;
  await durable(store); // 152 MB of log at most, under the writer's backlog cap
  console.log(`${kind.padEnd(6)} updateDelivered + updateAcks: ${ns.toFixed(0)} ns CPU per pair (sync: never)`);
  await store.destroy();
}

/** Messages per second when each append is (or is not) followed by a delivery and an ack. */
async function throughput(withAcks: boolean, seconds: number, base: string): Promise<void> {
  const dir = join(base, withAcks ? 'acks' : 'plain');
  rmSync(dir, { recursive: true, force: true });
  const policy: SyncPolicy = { kind: 'always' };
  const { store } = await openFileStore(dir, { sync: policy });
  const c = store.consumer('tp');
  let dseq = 0;
  const { acked: done, secs } = await runWindow(store, seconds, MAX_OUTSTANDING, () => {
    const { seq } = store.append('bench.consumer', null, PAYLOAD);
    if (withAcks) {
      c.updateDelivered(++dseq, seq, 1, NS + seq);
      c.updateAcks(dseq, seq, NS + seq);
    }
  });
  const st = (store as FileStore).stats();
  console.log(
    `sync always, ${withAcks ? 'append + deliver + ack' : 'append only         '}: ${Math.round(done / secs)
      .toString()
      .padStart(7)} msgs/s  batches ${st.batches}  sync rounds ${st.syncs}  consumer log switches ${st.consumerSwitches}`,
  );
  await store.destroy();
}

async function main(): Promise<void> {
  const mode = process.argv[2] ?? 'all';
  const seconds = Number(process.argv[3] ?? 3);
  const base = process.argv[4] ?? join(tmpdir(), `herald-consumer-bench-${process.pid}`);
  if (mode === 'memory' || mode === 'all') {
    await memoryPerPending('memory', base);
    await memoryPerPending('file', base);
  }
  if (mode === 'ack' || mode === 'all') {
    await ackCpu('memory', base);
    await ackCpu('file', base);
    await throughput(false, seconds, base);
    await throughput(true, seconds, base);
  }
  rmSync(base, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
