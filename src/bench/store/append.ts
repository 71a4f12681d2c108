/**
 * Append throughput of the file store for 1 KiB messages under each sync policy: `always`
 * (group commit, fdatasync before ack, at most MAX_OUTSTANDING appends waiting for durability),
 * `interval` (10 ms) and `never`. Prints appends/s, fdatasyncs, average batch and the
 * append→durable latency per burst (p50/p99). Not a test: numbers depend on the disk.
 *
 * Run: npx tsc -p tsconfig.json --outDir .build-store && \
 *      node .build-store/bench/store/append.js [seconds-per-policy=5] [dir]
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '../../store/file/index.js';
import type { FileStore } from '../../store/file/file-store.js';
import type { SyncPolicy } from '../../store/store.js';
import { runWindow } from './window.js';

/** Appends allowed in flight before the producer waits: what a publisher window would allow. */
const MAX_OUTSTANDING = 1000;
const PAYLOAD = 1024;

async function run(policy: SyncPolicy, seconds: number, base: string): Promise<void> {
  const dir = join(base, policy.kind);
  rmSync(dir, { recursive: true, force: true });
  const { store } = await openFileStore(dir, { sync: policy });
  const payload = Buffer.alloc(PAYLOAD, 0x62);
  const subjects = Array.from({ length: 16 }, (_, i) => `bench.append.${i}`);
  let appended = 0;
  const { acked, secs, lat } = await runWindow(store, seconds, MAX_OUTSTANDING, () => {
    store.append(subjects[appended++ & 15], null, payload);
  });
  const st = (store as FileStore).stats();
  lat.sort((a, b) => a - b);
  const pct = (p: number): string =>
    lat.length === 0 ? '-' : lat[Math.min(lat.length - 1, Math.floor(lat.length * p))].toFixed(2);
  const name = policy.kind === 'interval' ? `interval ${policy.ms}ms` : policy.kind;
  console.log(
    `${name.padEnd(14)} ${Math.round(acked / secs)
      .toString()
      .padStart(9)} appends/s  ${((acked * PAYLOAD) / secs / 2 ** 20).toFixed(0).padStart(5)} MiB/s  ` +
      `batches ${st.batches}  fdatasyncs ${st.syncs}  avg batch ${(acked / Math.max(1, st.batches)).toFixed(0)}  ` +
      `durable latency p50 ${pct(0.5)} ms p99 ${pct(0.99)} ms`,
  );
  await store.destroy();
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const base = process.argv[3] ?? join(tmpdir(), `herald-append-bench-${process.pid}`);
  for (const p of [{ kind: 'always' }, { kind: 'interval', ms: 10 }, { kind: 'never' }] as SyncPolicy[])
    await run(p, seconds, base);
  rmSync(base, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
