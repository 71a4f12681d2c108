/**
 * Consumer-state log recovery under damage. A golden log is written with one record per call and
 * the state after every call is kept; then copies are cut at random offsets (torn tails) or get a
 * byte flipped at a random offset. A torn tail gives exactly the state after the last intact
 * record before it, with the cut reported (file, offset, bytes). A flipped byte loses only the
 * damaged record (resynchronisation, consumer-log.ts `replayLog`): every ack in another record
 * holds, every message delivered and not acked is pending or offered again, and the skip is
 * reported; a damaged record is never applied.
 * Also the two half-finished compaction switches: a newer generation with a torn snapshot is
 * removed in favour of the older complete file, a complete newer one wins over the older.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkConsumerRecord, consumerLogKey, ConsumerRecord } from '../../src/store/file/consumer-record.js';
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
  /** Record index (as in `states`) → stream seq it acked. */
  acks: Map<number, number>;
}

/** With `compacted`, the log switches generations (small compaction threshold) before it is damaged. */
async function writeGolden(compacted = false): Promise<Golden> {
  const dir = tempDir('cgolden');
  const { store } = await openFileStore(dir, { sync: { kind: 'always' }, ...(compacted ? { consumerCompactBytes: 2048 } : {}) });
  const c = store.consumer('golden');
  const states: ConsumerState[] = [c.state()];
  const r = rng(11);
  let dseq = 0;
  const acks = new Map<number, number>();
  for (let k = 0; k < (compacted ? 300 : 120); k++) {
    const pend = [...c.state().pending.entries()];
    if (k === 3) c.setConfig(Buffer.from('{"ack_wait":30}'));
    else if (pend.length > 0 && r() < 0.35) {
      // Not always the oldest: the ack floor then lags behind, as with real consumers.
      const [sseq, e] = pend[randInt(r, Math.min(2, pend.length))];
      assert.ok(c.updateAcks(e.dseq, sseq, 1000 + k));
      acks.set(k + 1, sseq);
    } else if (pend.length > 0 && r() < 0.15) c.updateDelivered(++dseq, pend[0][0], pend[0][1].dc + 1, 1000 + k);
    else c.updateDelivered(++dseq, dseq * 2, 1, 1000 + k);
    states.push(c.state());
  }
  await durable(store);
  await store.close();
  const log = readdirSync(dir).find((f) => f.startsWith('cons-')) as string;
  const b = readFileSync(join(dir, log));
  const key = consumerLogKey(b);
  assert.notEqual(key, 0, 'a new log is keyed');
  const ends: number[] = [];
  for (let o = 0; o < b.length;) {
    const n = checkConsumerRecord(b, o, b.length - o, key);
    assert.ok(n > 0, `golden record at ${o}`);
    if (b[o + 4] !== ConsumerRecord.Head) ends.push(o + n);
    o += n;
  }
  // After a switch the file starts with a snapshot of the state after record `skip`.
  const skip = states.length - ends.length;
  assert.equal(skip > 0, compacted, `the log ${compacted ? 'was' : 'was not'} compacted (${log})`);
  const shifted = new Map<number, number>();
  for (const [k, sseq] of acks) if (k > skip) shifted.set(k - skip, sseq);
  return { dir, log, states: states.slice(skip), ends, acks: shifted };
}

/** Copies the golden store, lets `damage` change the log, reopens, returns state + report. */
async function reopenDamaged(
  g: Golden,
  damage: (b: Buffer) => Buffer,
): Promise<{
  state: ConsumerState | null;
  truncated: { segment: string; offset: number; bytes: number }[];
  skipped: { segment: string; offset: number; bytes: number }[];
  warned: boolean;
  again: ConsumerState | null;
}> {
  const dir = tempDir('cdamaged');
  try {
    for (const f of readdirSync(g.dir)) if (f !== 'LOCK') copyFileSync(join(g.dir, f), join(dir, f));
    writeFileSync(join(dir, g.log), damage(readFileSync(join(g.dir, g.log))));
    const log = new CaptureLogger();
    const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, logger: log });
    const state = store.consumerNames().includes('golden') ? store.consumer('golden').state() : null;
    await store.close();
    // A second recovery meets no damage and changes nothing (the log was rewritten from a snapshot).
    const re = await openFileStore(dir, { sync: { kind: 'always' } });
    const again = re.store.consumerNames().includes('golden') ? re.store.consumer('golden').state() : null;
    assert.deepEqual([re.report.truncated, re.report.skipped], [[], []], 'second recovery');
    await re.store.close();
    return { state, truncated: report.truncated, skipped: report.skipped, warned: log.warns.length > 0, again };
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

for (const compacted of [false, true]) {
  const variant = compacted ? ' (after compaction)' : '';

  test(`consumer log: a torn tail at a random offset is cut, and the state is the intact prefix${variant}`, async () => {
    const g = await writeGolden(compacted);
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

  test(`consumer log: a flipped byte loses only the damaged record, errs toward redelivery${variant}`, async () => {
    const g = await writeGolden(compacted);
    try {
      const r = rng(5);
      const total = g.ends[g.ends.length - 1];
      const last = g.states[g.states.length - 1];
      let resynced = 0;
      for (let i = 0; i < CASES * 2; i++) {
        const at = randInt(r, total);
        const got = await reopenDamaged(g, (b) => {
          const c = Buffer.from(b);
          c[at] ^= 1 << randInt(r, 8);
          return c;
        });
        const rec = intactBefore(g, at) + 1; // the record holding the flipped byte (0: heads or snapshot)
        const tag = `flip at ${at} in record ${rec}`;
        assert.deepEqual(got.again, got.state, `${tag}: recovery is stable`);
        if (rec === 0) {
          // A damaged Head copy costs nothing (its twin holds the key); a damaged snapshot, everything.
          if (got.state !== null) assert.deepEqual(got.state, last, tag);
          continue;
        }
        const st = got.state as ConsumerState;
        if (rec === g.ends.length - 1) {
          assert.deepEqual(st, g.states[rec - 1], `${tag}: last record, a torn tail`);
          assert.equal(got.truncated.length, 1, tag);
          continue;
        }
        resynced++;
        assert.deepEqual(
          got.skipped.map((s) => [s.offset, s.bytes]),
          [[g.ends[rec - 1], g.ends[rec] - g.ends[rec - 1]]],
          `${tag}: only the damaged record is stepped over`,
        );
        assert.equal(got.truncated.length, 0, tag);
        // Every answered ack in another record holds.
        for (const [k, sseq] of g.acks)
          if (k !== rec) assert.ok(!st.pending.has(sseq), `${tag}: ack of ${sseq} (record ${k}) undone`);
        // Every delivered, unacked message is pending or will be offered again (never counted as done).
        for (const sseq of last.pending.keys())
          assert.ok(st.pending.has(sseq) || sseq > st.delivered.streamSeq, `${tag}: delivery of ${sseq} lost`);
        assert.ok(st.ackFloor.streamSeq <= st.delivered.streamSeq, tag);
      }
      assert.ok(resynced > CASES / 2, `only ${resynced} flips hit a middle record`);
    } finally {
      removeDir(g.dir);
    }
  });
}

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
