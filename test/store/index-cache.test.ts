/**
 * Index files are a cache (issue 12 item 3): for the same segment bytes, with bytes flipped in
 * sealed segments, opening with the `.idx` files and opening without them end in the same store —
 * same counters, same deleted seqs, same message behind every seq — once the segments loaded from
 * index files were checked (`FileStore.verified`). A damaged index file is ignored like a missing
 * one. Seeded and bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileStore } from '../../src/store/file/file-store.js';
import { openFileStore } from '../../src/store/file/index.js';
import type { MessageStore } from '../../src/store/store.js';
import { CaptureLogger, durable, randInt, removeDir, rng, tempDir } from './helpers.js';

const SEG = 8192;
const N = 500;
const TRIALS = 12;
/** Bound on waiting for the background check of index-loaded segments. */
const VERIFY_TIMEOUT_MS = 10_000;

const segFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-') && f.endsWith('.log'))
    .sort();

async function openChecked(dir: string): Promise<{ s: MessageStore; skipped: number }> {
  const { store, report } = await openFileStore(dir, {
    sync: { kind: 'always' },
    segmentBytes: SEG,
    logger: new CaptureLogger(),
  });
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    (store as FileStore).verified(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`index check not done within ${VERIFY_TIMEOUT_MS} ms`)), VERIFY_TIMEOUT_MS);
    }),
  ]);
  clearTimeout(timer);
  await durable(store);
  return { s: store, skipped: report.skipped.length };
}

/** Everything a reader can see: counters, deleted seqs, and the message (or null) at every seq. */
function view(s: MessageStore): unknown {
  const st = s.state();
  const msgs: (string | null)[] = [];
  for (let q = 1; q <= N + 1; q++) {
    const m = s.get(q);
    msgs.push(m === null ? null : `${m.subject}|${m.headers?.toString('hex') ?? '-'}|${m.payload.toString('hex')}`);
  }
  return {
    messages: st.messages,
    bytes: st.bytes,
    firstSeq: st.firstSeq,
    lastSeq: st.lastSeq,
    numSubjects: st.numSubjects,
    numDeleted: st.numDeleted,
    deleted: s.deletedSeqs(),
    msgs,
  };
}

test('with or without index files, the same damaged bytes recover to the same store', async () => {
  const golden = tempDir('idxc-golden');
  try {
    const g = (await openFileStore(golden, { sync: { kind: 'always' }, segmentBytes: SEG })).store;
    for (let i = 1; i <= N; i++)
      g.append(`c.${i % 7}`, i % 4 === 0 ? Buffer.from(`NATS/1.0\r\nI: ${i}\r\n\r\n`) : null, Buffer.alloc(40 + (i % 50), i));
    await durable(g);
    await g.close();
    const sealed = segFiles(golden).slice(0, -1);
    assert.ok(sealed.length >= 4, 'enough sealed segments');
    for (const f of sealed) assert.ok(readdirSync(golden).includes(f.replace('.log', '.idx')), `${f} has an index file`);
    const r = rng(31);
    let lostTotal = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const withIdx = tempDir('idxc-with');
      const without = tempDir('idxc-without');
      try {
        cpSync(golden, withIdx, { recursive: true });
        // Flip one byte in each of 1–3 distinct sealed segments.
        const victims = new Set<string>();
        const want = 1 + randInt(r, 3);
        while (victims.size < want) victims.add(sealed[randInt(r, sealed.length)]);
        for (const f of victims) {
          const b = readFileSync(join(withIdx, f));
          b[randInt(r, b.length)] ^= 1 << randInt(r, 8);
          writeFileSync(join(withIdx, f), b);
        }
        if (trial % 4 === 3) {
          // A damaged index file is no index file.
          const idx = join(withIdx, sealed[0].replace('.log', '.idx'));
          const b = readFileSync(idx);
          b[randInt(r, b.length)] ^= 0x10;
          writeFileSync(idx, b);
        }
        cpSync(withIdx, without, { recursive: true });
        for (const f of readdirSync(without)) if (f.endsWith('.idx')) unlinkSync(join(without, f));
        const a = await openChecked(withIdx);
        const b = await openChecked(without);
        const ctx = `trial ${trial}, flipped ${[...victims].join(', ')}`;
        const va = view(a.s) as { messages: number; lastSeq: number };
        assert.deepEqual(va, view(b.s), ctx);
        assert.equal(va.lastSeq, N, `${ctx}: no seq goes back`);
        lostTotal += N - va.messages;
        await a.s.close();
        await b.s.close();
        // Reopened (index files now rewritten from what recovery found): still the same.
        const a2 = await openChecked(withIdx);
        assert.deepEqual(view(a2.s), va, `${ctx}: after a second open`);
        await a2.s.close();
      } finally {
        removeDir(withIdx);
        removeDir(without);
      }
    }
    assert.ok(lostTotal > 0, 'some flips hit messages');
  } finally {
    removeDir(golden);
  }
});
