/**
 * Consumer-state log recovery under damage. A golden log is written with one record per call and
 * the state after every call is kept; then copies are cut at random offsets (torn tails) or get a
 * byte flipped at a random offset. Recovery must give exactly the state after the last intact
 * record before the damage, report the cut (file, offset, bytes) and never apply a damaged record.
 * Also the two half-finished compaction switches: a newer generation with a torn snapshot is
 * removed in favour of the older complete file, a complete newer one wins over the older.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConsumerRecord } from '../../src/store/file/consumer-record.js';
import { openFileStore } from '../../src/store/file/index.js';
import type { ConsumerState } from '../../src/store/store.js';
import { CaptureLogger, durable, randInt, removeDir, rng, tempDir } from './helpers.js';

/** Random damage cases per kind; each reopens a small store. */
const CASES = 40;

interface Golden {
  dir: string;
  log: string;
  /** states[k]: the state after the first k records following the snapshot. */
  states: ConsumerState[];
  /** ends[k]: the file offset where record k ends (ends[0] = end of the snapshot). */
  ends: number[];
}

async function writeGolden(): Promise<Golden> {
  const dir = tempDir('cgolden');
  const { store } = await openFileStore(dir, { sync: { kind: 'always' } });
  const c = store.consumer('golden');
  const states: ConsumerState[] = [c.state()];
  const r = rng(11);
  let dseq = 0;
  for (let k = 0; k < 120; k++) {
    const pend = [...c.state().pending.entries()];
    if (k === 3) c.setConfig(Buffer.from('{"ack_wait":30}'));
    else if (pend.length > 0 && r() < 0.35) assert.ok(c.updateAcks(pend[0][1].dseq, pend[0][0], 1000 + k));
    else if (pend.length > 0 && r() < 0.15) c.updateDelivered(++dseq, pend[0][0], pend[0][1].dc + 1, 1000 + k);
    else c.updateDelivered(++dseq, dseq * 2, 1, 1000 + k);
    states.push(c.state());
  }
  await durable(store);
  await store.close();
  const log = readdirSync(dir).find((f) => f.startsWith('cons-')) as string;
  const b = readFileSync(join(dir, log));
  const ends: number[] = [];
  for (let o = 0; o < b.length;) {
    const n = checkConsumerRecord(b, o, b.length - o);
    assert.ok(n > 0, `golden record at ${o}`);
    o += n;
    ends.push(o);
  }
  assert.equal(ends.length, states.length);
  return { dir, log, states, ends };
}

/** Copies the golden store, lets `damage` change the log, reopens, returns state + report. */
async function reopenDamaged(
  g: Golden,
  damage: (b: Buffer) => Buffer,
): Promise<{ state: ConsumerState | null; truncated: { segment: string; offset: number; bytes: number }[]; warned: boolean }> {
  const dir = tempDir('cdamaged');
  try {
    for (const f of readdirSync(g.dir)) if (f !== 'LOCK') copyFileSync(join(g.dir, f), join(dir, f));
    writeFileSync(join(dir, g.log), damage(readFileSync(join(g.dir, g.log))));
    const log = new CaptureLogger();
    const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, logger: log });
    const state = store.consumerNames().includes('golden') ? store.consumer('golden').state() : null;
    await store.close();
    return { state, truncated: report.truncated, warned: log.warns.length > 0 };
  } finally {
    removeDir(dir);
  }
}

/** Records wholly inside the first `len` bytes, after the snapshot. */
function intactBefore(g: Golden, len: number): number {
  let k = -1;
  while (k + 1 < g.ends.length && g.ends[k + 1] <= len) k++;
  return k;
}

test('consumer log: a torn tail at a random offset is cut, and the state is the intact prefix', async () => {
  const g = await writeGolden();
  try {
    const r = rng(3);
    const total = g.ends[g.ends.length - 1];
    for (let i = 0; i < CASES; i++) {
      const at = i === 0 ? g.ends[0] - 1 : randInt(r, total);
      const got = await reopenDamaged(g, (b) => b.subarray(0, at));
      const k = intactBefore(g, at);
      if (k < 0) {
        // Not even the snapshot survived: the consumer's creation never completed.
        assert.equal(got.state, null, `cut at ${at}`);
        if (at > 0) assert.equal(got.truncated.length, 1);
        continue;
      }
      assert.deepEqual(got.state, g.states[k], `cut at ${at}: state after ${k} records`);
      const clean = at === g.ends[k];
      assert.equal(got.truncated.length, clean ? 0 : 1, `cut at ${at}`);
      if (!clean) {
        assert.deepEqual(
          [got.truncated[0].segment, got.truncated[0].offset, got.truncated[0].bytes],
          [g.log, g.ends[k], at - g.ends[k]],
        );
        assert.ok(got.warned);
      }
    }
  } finally {
    removeDir(g.dir);
  }
});

test('consumer log: a flipped byte loses the damaged record and what follows it, never applies it', async () => {
  const g = await writeGolden();
  try {
    const r = rng(5);
    const total = g.ends[g.ends.length - 1];
    for (let i = 0; i < CASES; i++) {
      const at = randInt(r, total);
      const got = await reopenDamaged(g, (b) => {
        const c = Buffer.from(b);
        c[at] ^= 1 << randInt(r, 8);
        return c;
      });
      const rec = intactBefore(g, at) + 1; // the record holding the flipped byte
      if (rec === 0) {
        assert.equal(got.state, null, `flip at ${at} (snapshot)`);
      } else {
        assert.deepEqual(got.state, g.states[rec - 1], `flip at ${at} in record ${rec}`);
      }
      assert.equal(got.truncated.length, 1, `flip at ${at}`);
      assert.equal(got.truncated[0].offset, rec === 0 ? 0 : g.ends[rec - 1]);
    }
  } finally {
    removeDir(g.dir);
  }
});

test('consumer log: an unfinished compaction switch falls back to the older complete file', async () => {
  const g = await writeGolden();
  try {
    const last = g.states[g.states.length - 1];
    const newer = g.log.replace(/\.(\d{10})\.log$/, (_m, n: string) => `.${String(Number(n) + 1).padStart(10, '0')}.log`);
    const b = readFileSync(join(g.dir, g.log));
    // The newer generation got only half its snapshot: the older file is used and the newer removed.
    writeFileSync(join(g.dir, newer), b.subarray(0, g.ends[0] >> 1));
    let { store, report } = await openFileStore(g.dir, { sync: { kind: 'always' } });
    assert.deepEqual(store.consumer('golden').state(), last);
    assert.equal(report.truncated.length, 1);
    assert.equal(report.truncated[0].segment, newer);
    await store.close();
    assert.deepEqual(
      readdirSync(g.dir).filter((f) => f.startsWith('cons-')),
      [g.log],
    );
    // A complete newer generation (snapshot of the first state only) wins; the older one goes.
    writeFileSync(join(g.dir, newer), b.subarray(0, g.ends[0]));
    ({ store, report } = await openFileStore(g.dir, { sync: { kind: 'always' } }));
    assert.deepEqual(store.consumer('golden').state(), g.states[0]);
    assert.equal(report.truncated.length, 0);
    await store.close();
    assert.deepEqual(
      readdirSync(g.dir).filter((f) => f.startsWith('cons-')),
      [newer],
    );
  } finally {
    removeDir(g.dir);
  }
});
