/**
 * Append rollback (issue 12, "an ENOSPC that still reaches the writer"): a real file store runs
 * over a file layer that, when told the disk is full, fails writes (after writing a random prefix,
 * as a short write on a filling volume does) and syncs with ENOSPC — another program took the
 * space between two free-space polls. The batch is undone: every append of it fails (never
 * durable), memory again equals disk (a failed seq is not served, counts match what is acked),
 * no seq is handed out twice, the store takes appends, deletes and purges again by itself once the
 * space is back, and a reopen finds exactly the acknowledged messages, byte for byte. Consumer
 * state written in an undone batch is written again (a snapshot): no durable ack is lost.
 * Seeded; the seed is in every assertion message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fdatasync, fsync, writev } from 'node:fs';
import { openFileStore } from '../../src/store/file/index.js';
import { nodeFiles, type FileLayer } from '../../src/store/file/fs-layer.js';
import type { ConsumerStore, MessageStore } from '../../src/store/store.js';
import { contentOf } from '../store/crash-content.js';
import { durable, randInt, removeDir, rng, tempDir } from '../store/helpers.js';

const SEEDS = [11, 12, 13, 14];
const TURNS = 50;
/** Small segments and consumer logs: rolls and log switches happen inside undone batches. */
const SEGMENT_BYTES = 8192;
const COMPACT_BYTES = 4096;
/** Bound on waiting for one turn's callbacks. */
const TURN_TIMEOUT_MS = 10_000;

function noSpace(): NodeJS.ErrnoException {
  const e = new Error('ENOSPC: no space left on device (test layer)') as NodeJS.ErrnoException;
  e.code = 'ENOSPC';
  return e;
}

/** node:fs, except that while `full` every write stores a random prefix and fails, and syncs fail. */
class FullDisk implements FileLayer {
  full = false;
  failures = 0;
  constructor(private readonly rand: () => number) {}
  writev(fd: number, bufs: Buffer[], pos: number, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void {
    if (!this.full) return writev(fd, bufs, pos, cb);
    this.failures++;
    const all = Buffer.concat(bufs);
    const part = all.subarray(0, randInt(this.rand, all.length));
    if (part.length === 0) return process.nextTick(cb, noSpace(), 0);
    writev(fd, [part], pos, () => cb(noSpace(), 0));
  }
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.full && this.rand() < 0.3) return process.nextTick(cb, noSpace());
    fdatasync(fd, cb);
  }
  fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    fsync(fd, cb);
  }
  rename = nodeFiles.rename;
  unlink = nodeFiles.unlink;
}

function payloadOf(seq: number): Buffer {
  return Buffer.concat([Buffer.from(`p${seq}:`), contentOf(seq).payload.subarray(0, 400)]);
}

function withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${TURN_TIMEOUT_MS} ms`)), TURN_TIMEOUT_MS);
    }),
  ]);
}

async function runSeed(seed: number): Promise<{ rolledBack: number; acked: number }> {
  const r = rng(seed);
  const dir = tempDir('nospace');
  const disk = new FullDisk(r);
  const tag = `seed ${seed}`;
  let store: MessageStore | null = null;
  try {
    store = (
      await openFileStore(dir, {
        sync: { kind: 'always' },
        segmentBytes: SEGMENT_BYTES,
        consumerCompactBytes: COMPACT_BYTES,
        files: disk,
      })
    ).store;
    const s = store;
    let rollbacks = 0;
    s.onRollback = () => rollbacks++;
    const cons: ConsumerStore = s.consumer('c');
    const acked = new Map<number, Buffer>(); // durable and not deleted
    const failed = new Set<number>();
    const deleted = new Set<number>();
    const durableAcks = new Set<number>();
    let maxSeq = 0;
    let dseq = 0;
    for (let turn = 0; turn < TURNS; turn++) {
      // The disk fills between two polls for a few turns, then is freed again.
      if (!disk.full && r() < 0.12) disk.full = true;
      else if (disk.full && r() < 0.4) disk.full = false;
      const waits: Promise<void>[] = [];
      const n = 1 + randInt(r, 12);
      for (let k = 0; k < n; k++) {
        const seqGuess = maxSeq + 1;
        const c = contentOf(seqGuess);
        const { seq } = s.append(c.subject, c.headers, payloadOf(seqGuess));
        assert.ok(seq > maxSeq, `${tag}: seq ${seq} handed out again (max so far ${maxSeq})`);
        assert.equal(seq, seqGuess, `${tag}: a rolled-back seq is skipped, the next is max + 1`);
        maxSeq = seq;
        cons.updateDelivered(++dseq, seq, 1, Date.now() * 1e6);
        waits.push(
          new Promise((resolve) =>
            s.whenDurable((err) => {
              if (err === null) acked.set(seq, payloadOf(seq));
              else {
                assert.match(err.message, /ENOSPC/, `${tag}: seq ${seq} failed with ${err.message}`);
                failed.add(seq);
              }
              resolve();
            }),
          ),
        );
      }
      // Acks of earlier acked messages, and deletes (their records may be undone: they must hold anyway).
      for (const seq of [...acked.keys()].slice(-3)) {
        if (r() < 0.5 && cons.updateAcks(seq, seq)) {
          waits.push(new Promise((resolve) => cons.whenDurable((err) => (err === null && durableAcks.add(seq), resolve()))));
        }
      }
      if (acked.size > 0 && r() < 0.2) {
        const seq = [...acked.keys()][randInt(r, acked.size)];
        assert.ok(s.delete(seq), `${tag}: delete of acked seq ${seq}`);
        acked.delete(seq);
        deleted.add(seq);
      }
      await withTimeout(Promise.all(waits), `${tag} turn ${turn}`);
      // Memory equals disk: failed seqs are gone, acked ones served byte for byte, counts agree.
      for (const seq of failed) assert.equal(s.get(seq), null, `${tag}: undone seq ${seq} still served`);
      for (const [seq, p] of acked) assert.deepEqual(s.get(seq)?.payload, p, `${tag}: acked seq ${seq} after turn ${turn}`);
      const st = s.state();
      assert.equal(st.messages, acked.size, `${tag}: message count after turn ${turn}`);
      assert.equal(st.lastSeq, maxSeq, `${tag}: last seq after turn ${turn}`);
    }
    disk.full = false;
    // Back in service: appends, a delete and a purge work and become durable.
    const c = contentOf(maxSeq + 1);
    const after = s.append(c.subject, c.headers, payloadOf(maxSeq + 1));
    await durable(s);
    acked.set(after.seq, payloadOf(after.seq));
    maxSeq = after.seq;
    const victim = [...acked.keys()][0];
    assert.ok(s.delete(victim));
    acked.delete(victim);
    const purgeSubj = contentOf(maxSeq).subject;
    const purged = s.purge({ filter: purgeSubj });
    for (const [seq] of acked) if (contentOf(seq).subject === purgeSubj) acked.delete(seq);
    assert.ok(purged >= 1, `${tag}: purge of ${purgeSubj}`);
    await durable(s);
    assert.ok(failed.size > 0 && rollbacks > 0, `${tag}: no write was undone (${disk.failures} failures)`);
    await s.close();
    store = null;

    // Reopen on the plain file system: the disk says what memory said.
    const re = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEGMENT_BYTES });
    store = re.store;
    const st = store.state();
    assert.equal(st.messages, acked.size, `${tag}: messages after reopen (report ${JSON.stringify(re.report.skipped)})`);
    assert.ok(st.lastSeq >= maxSeq, `${tag}: last seq went back from ${maxSeq} to ${st.lastSeq}`);
    for (const [seq, p] of acked) assert.deepEqual(store.get(seq)?.payload, p, `${tag}: acked seq ${seq} after reopen`);
    for (const seq of failed) assert.equal(store.get(seq), null, `${tag}: undone seq ${seq} back after reopen`);
    for (const seq of deleted) assert.equal(store.get(seq), null, `${tag}: deleted seq ${seq} back after reopen`);
    const cs = store.consumer('c').state();
    for (const seq of durableAcks) assert.ok(!cs.pending.has(seq), `${tag}: durable ack of ${seq} lost`);
    const next = store.append('after.reopen', null, Buffer.from('x'));
    assert.ok(next.seq > maxSeq, `${tag}: seq ${next.seq} reused after reopen`);
    await durable(store);
    return { rolledBack: failed.size, acked: acked.size };
  } finally {
    await store?.close().catch(() => undefined);
    removeDir(dir);
  }
}

test('ENOSPC at the writer undoes the batch in memory and the store returns to service by itself', async () => {
  let rolledBack = 0;
  for (const seed of SEEDS) {
    const r = await runSeed(seed);
    rolledBack += r.rolledBack;
  }
  assert.ok(rolledBack > 0);
});
