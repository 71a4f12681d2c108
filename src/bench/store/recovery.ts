/**
 * Recovery benchmark for the file store: fills a store with COUNT messages of PAYLOAD bytes
 * (sync: never, so the fill is disk-bandwidth bound), closes it, then times `openFileStore` and
 * measures the memory the recovered store keeps resident per message. Then repeats the open with
 * every index file deleted, to show the cost of a full rescan.
 *
 * Run: npx tsc -p tsconfig.json --outDir .build-store && \
 *      node --expose-gc .build-store/bench/store/recovery.js [count=10000000] [dir]
 */
import { readdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFileStore } from '../../store/file/index.js';
import type { MessageStore } from '../../store/store.js';

/** Payload size the brief's target is stated for. */
const PAYLOAD = 128;
/** Distinct subjects written round-robin (a realistic small stream, not one subject per message). */
const SUBJECTS = 100;
/** Appends per event-loop turn during the fill; the writer drains between turns. */
const FILL_BURST = 20_000;

const gc = (globalThis as { gc?: () => void }).gc;

function resident(): { heap: number; external: number; rss: number } {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, external: m.arrayBuffers, rss: m.rss };
}

function durable(s: MessageStore): Promise<void> {
  return new Promise((res, rej) => s.whenDurable((e) => (e === null ? res() : rej(e))));
}

function dirBytes(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  return n;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 10_000_000);
  const dir = process.argv[3] ?? join(tmpdir(), `herald-recovery-bench-${process.pid}`);
  if (gc === undefined) console.warn('run with --expose-gc for meaningful memory numbers');
  rmSync(dir, { recursive: true, force: true });
  const subjects = Array.from({ length: SUBJECTS }, (_, i) => `bench.recovery.${i}`);
  const payload = Buffer.alloc(PAYLOAD, 0x61);

  let t = performance.now();
  const { store: w } = await openFileStore(dir, { sync: { kind: 'never' } });
  for (let i = 0; i < count;) {
    const end = Math.min(count, i + FILL_BURST);
    for (; i < end; i++) w.append(subjects[i % SUBJECTS], null, payload);
    await durable(w);
  }
  await w.close();
  const fillMs = performance.now() - t;
  console.log(
    `fill: ${count} x ${PAYLOAD} B in ${(fillMs / 1000).toFixed(1)} s (${Math.round(count / (fillMs / 1000))} msg/s), ${(dirBytes(dir) / 2 ** 20).toFixed(0)} MiB on disk`,
  );

  for (const mode of ['index files', 'full rescan (index files deleted)']) {
    if (mode.startsWith('full')) for (const f of readdirSync(dir)) if (f.endsWith('.idx')) unlinkSync(join(dir, f));
    const before = resident();
    t = performance.now();
    const { store, report } = await openFileStore(dir, { sync: { kind: 'always' } });
    const ms = performance.now() - t;
    const after = resident();
    const st = store.state();
    const perMsg = (after.heap + after.external - before.heap - before.external) / st.messages;
    const rssPerMsg = (after.rss - before.rss) / st.messages;
    console.log(
      `recovery (${mode}): ${ms.toFixed(0)} ms for ${st.messages} messages (report ${report.durationMs.toFixed(0)} ms); ` +
        `resident ${perMsg.toFixed(1)} B/msg (heap+arrayBuffers), rss ${rssPerMsg.toFixed(1)} B/msg`,
    );
    if (st.messages !== count) throw new Error(`recovered ${st.messages} of ${count}`);
    await store.close();
  }
  rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
