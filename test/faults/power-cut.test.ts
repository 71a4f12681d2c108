/**
 * "Acked means fsynced" (issue 12 item 7): a real file store runs over the fault layer
 * (fault-fs.ts), which loses everything not covered by a sync when it simulates a power cut at a
 * seeded random file operation (inside a batch's writes or syncs, a segment roll, a compaction's
 * rename, a consumer-log switch, a segment removal). After every cut the store is reopened on the
 * real file system and must hold every message whose `whenDurable` fired, byte for byte, every
 * consumer delivery and ack whose `whenDurable` fired, and hand out no acknowledged sequence again.
 * Under `sync: <interval>` the same check holds for everything acknowledged before the last
 * completed interval sync (docs/storage-format.md, "Sync policies": a machine crash loses at most
 * the last interval). A store whose fdatasync does nothing fails this test (checked below).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openFileStore } from '../../src/store/file/index.js';
import type { FileLayer } from '../../src/store/file/fs-layer.js';
import type { MessageStore, SyncPolicy } from '../../src/store/store.js';
import { contentOf } from '../store/crash-content.js';
import { randInt, removeDir, rng, tempDir } from '../store/helpers.js';
import { FaultFs } from './fault-fs.js';

/**
 * Seeds × rounds = power cuts per policy; each round is a few hundred small appends.
 * `POWER_CUT_SEEDS=4,5,6` runs other seeds (to hunt a rare failure in a loop).
 */
const SEEDS = (process.env.POWER_CUT_SEEDS ?? '1,2,3').split(',').map(Number);
const ROUNDS = 5;
/** A round ends at the latest after this many turns (the cut then comes by hand). */
const MAX_TURNS = 250;
/** Small segments and consumer logs, so rolls, compactions and log switches happen under the cuts. */
const SEGMENT_BYTES = 8192;
const COMPACT_BYTES = 4096;
const CONSUMER = 'c';
/** An odd seq is acked this many seqs after its delivery (even ones in the same turn). */
const ACK_LAG = 9;

/** What was promised durable, across the rounds of one seed. */
interface Promised {
  /** seq → payload of every message whose whenDurable fired (and that was not deleted since). */
  msgs: Map<number, Buffer>;
  /** Stream seqs whose delivery was durable and whose ack was durable. */
  acked: Set<number>;
  /** Stream seqs whose delivery was durable and that were never acked. */
  delivered: Set<number>;
  /** Stream seqs whose ack was made (durable or not): their entry may or may not be pending. */
  ackMade: Set<number>;
  maxSeq: number;
}

function payloadOf(round: number, seq: number): Buffer {
  return Buffer.concat([Buffer.from(`r${round}:`), contentOf(seq).payload]);
}

/** A layer that behaves like a store whose fdatasync is a no-op (the mutant this test must catch). */
function noSync(inner: FaultFs): FileLayer {
  return {
    writev: (fd, b, p, cb) => inner.writev(fd, b, p, cb),
    fdatasync: (_fd, cb) => process.nextTick(cb, null),
    fsync: (fd, cb) => inner.fsync(fd, cb),
    rename: (a, b) => inner.rename(a, b),
    unlink: (p) => inner.unlink(p),
  };
}

/**
 * One round: open over a fault layer, write until the cut, close what is left. Returns the
 * messages acknowledged only under `interval` that the bound does not cover.
 */
/** What the rounds exercised, for the test's diagnostics and coverage checks. */
interface Seen {
  cutsInside: number;
  switches: number;
  renames: number;
  /** Under `interval`: durable acks of a seq the bound covers, written after the bound (not promised). */
  lateAcks: number;
}

async function round(
  dir: string,
  seed: number,
  k: number,
  policy: SyncPolicy,
  p: Promised,
  mutant: boolean,
  seen: Seen,
): Promise<void> {
  const r = rng(seed * 1000 + k);
  const fault = new FaultFs(dir);
  fault.cutAtOp = 1 + randInt(r, 700);
  fault.cutOptions = { tear: r() < 0.5, rand: r };
  const { store } = await openFileStore(dir, {
    sync: policy,
    segmentBytes: SEGMENT_BYTES,
    consumerCompactBytes: COMPACT_BYTES,
    files: mutant ? noSync(fault) : fault,
  });
  const c = store.consumer(CONSUMER);
  const st = c.state();
  let dseq = st.delivered.consumerSeq;
  const lagging = new Map<number, number>();
  for (const [sseq, e] of st.pending) if (!p.acked.has(sseq)) lagging.set(sseq, e.dseq);
  // Under `interval`, (syncs seen, highest seq acked then, last turn acked then) per turn: see
  // `guaranteed` below. An ack is guaranteed by when it was written (its turn), not by its seq: a
  // lagging ack of an old seq is written turns after the message.
  const seenSyncs: [number, number, number][] = [];
  let acked = 0;
  let durableTurn = -1;
  const ackTurn = new Map<number, number>();
  // Everything on disk at the start of a round was synced by the previous verify's close.
  const before = store.state().lastSeq;
  const fs = store as MessageStore & { stats(): { syncs: number; consumerSwitches: number } };
  for (let turn = 0; turn < MAX_TURNS && !fault.cut; turn++) {
    const burst = 1 + randInt(r, 12);
    const msgs: [number, Buffer][] = [];
    const delivered: number[] = [];
    const acks: number[] = [];
    for (let i = 0; i < burst; i++) {
      const seq0 = store.state().lastSeq + 1;
      const m = contentOf(seq0);
      const payload = payloadOf(k, seq0);
      const { seq } = store.append(m.subject, m.headers, payload);
      assert.equal(seq, seq0);
      msgs.push([seq, payload]);
      c.updateDelivered(++dseq, seq, 1, Date.now() * 1e6);
      delivered.push(seq);
      if (seq % 2 === 0) {
        c.updateAcks(dseq, seq);
        acks.push(seq);
        ackTurn.set(seq, turn);
        p.ackMade.add(seq);
      } else lagging.set(seq, dseq);
      for (const [q, d] of lagging) {
        if (q > seq - ACK_LAG) break;
        c.updateAcks(d, q);
        lagging.delete(q);
        acks.push(q);
        ackTurn.set(q, turn);
        p.ackMade.add(q);
      }
    }
    // Deletes make sealed segments worth compacting; a deleted message may or may not come back.
    if (r() < 0.3 && p.msgs.size > 0) {
      const keys = [...p.msgs.keys()];
      for (let i = 0; i < 4; i++) {
        const q = keys[randInt(r, keys.length)];
        store.delete(q);
        p.msgs.delete(q);
      }
    }
    store.whenDurable((err) => {
      if (err !== null) return;
      durableTurn = turn;
      for (const [seq, payload] of msgs) {
        p.msgs.set(seq, payload);
        if (seq > p.maxSeq) p.maxSeq = seq;
        if (seq > acked) acked = seq;
      }
      for (const q of delivered) p.delivered.add(q);
      for (const q of acks) {
        p.delivered.delete(q);
        p.acked.add(q);
      }
    });
    // Mostly wait for the ack (one batch per turn, many batches per round), sometimes not (turns pile up in one batch).
    await new Promise<void>((res) => (r() < 0.7 ? store.whenDurable(() => res()) : setImmediate(res)));
    if (policy.kind === 'interval') {
      seenSyncs.push([fs.stats().syncs, acked, durableTurn]);
      // Let the interval timer fire now and then.
      if (r() < 0.1) await new Promise((res) => setTimeout(res, policy.ms));
    }
  }
  const syncs = fs.stats().syncs;
  if (fault.cut) seen.cutsInside++;
  seen.switches += fs.stats().consumerSwitches;
  seen.renames += fault.renames;
  fault.powerCut();
  await store.close().catch(() => undefined);
  if (policy.kind === 'interval') {
    // A batch that completes sync number s + 2 started after sync s + 1 completed, so after any
    // moment at which s syncs were seen; it synced everything acknowledged (written) by then.
    let guaranteed = before;
    let guaranteedTurn = -1;
    for (const [s, a, t] of seenSyncs) {
      if (s > syncs - 2) continue;
      if (a > guaranteed) guaranteed = a;
      if (t > guaranteedTurn) guaranteedTurn = t;
    }
    for (const q of [...p.msgs.keys()]) if (q > guaranteed) p.msgs.delete(q);
    for (const [q, t] of ackTurn) {
      if (t <= guaranteedTurn || !p.acked.has(q)) continue;
      p.acked.delete(q);
      if (q <= guaranteed) seen.lateAcks++;
    }
    for (const q of [...p.delivered]) if (q > guaranteed) p.delivered.delete(q);
    if (p.maxSeq > guaranteed) p.maxSeq = guaranteed;
  }
}

/** Reopens on the real file system and checks every promise; returns the first broken one. */
async function verify(dir: string, p: Promised, ctx: string): Promise<string | null> {
  const { store } = await openFileStore(dir, {
    sync: { kind: 'always' },
    segmentBytes: SEGMENT_BYTES,
    consumerCompactBytes: COMPACT_BYTES,
  });
  try {
    const last = store.state().lastSeq;
    if (last < p.maxSeq) return `${ctx}: lastSeq ${last} below acknowledged ${p.maxSeq}`;
    for (const [seq, payload] of p.msgs) {
      const m = store.get(seq);
      if (m === null) return `${ctx}: acknowledged message ${seq} lost`;
      const want = contentOf(seq);
      if (!m.payload.equals(payload) || m.subject !== want.subject) return `${ctx}: acknowledged message ${seq} changed`;
    }
    const st = store.consumer(CONSUMER).state();
    for (const q of p.acked) if (st.pending.has(q)) return `${ctx}: acknowledged ack of ${q} lost (pending again)`;
    for (const q of p.delivered)
      if (!p.ackMade.has(q) && !st.pending.has(q)) return `${ctx}: acknowledged delivery of ${q} not pending`;
    const next = store.append('after.cut', null, Buffer.from('x')).seq;
    if (next <= p.maxSeq) return `${ctx}: seq ${next} handed out again`;
    await new Promise<void>((res, rej) => store.whenDurable((e) => (e === null ? res() : rej(e))));
    store.delete(next);
    return null;
  } finally {
    await store.close();
  }
}

async function cuts(policy: SyncPolicy, mutant: boolean): Promise<{ failures: string[]; promised: number; seen: Seen }> {
  const failures: string[] = [];
  let promised = 0;
  const seen: Seen = { cutsInside: 0, switches: 0, renames: 0, lateAcks: 0 };
  for (const seed of SEEDS) {
    const dir = tempDir(`powercut-${seed}`);
    const p: Promised = { msgs: new Map(), acked: new Set(), delivered: new Set(), ackMade: new Set(), maxSeq: 0 };
    try {
      for (let k = 0; k < ROUNDS; k++) {
        await round(dir, seed, k, policy, p, mutant, seen);
        promised += p.msgs.size;
        const bad = await verify(dir, p, `seed ${seed} round ${k} (${policy.kind})`);
        if (bad !== null) {
          failures.push(bad);
          break;
        }
      }
    } finally {
      removeDir(dir);
    }
  }
  return { failures, promised, seen };
}

test('sync: always — every acknowledged message, delivery and ack survives seeded power cuts', async (t) => {
  const { failures, promised, seen } = await cuts({ kind: 'always' }, false);
  t.diagnostic(
    `${SEEDS.length * ROUNDS} cuts (${seen.cutsInside} at a random file operation), ${seen.switches} consumer-log switches, ` +
      `${seen.renames} compaction renames before the cuts`,
  );
  assert.deepEqual(failures, []);
  assert.ok(promised > 0, 'no message was ever acknowledged before a cut');
  assert.ok(seen.switches > 0, 'no consumer-log switch happened under the cuts');
  assert.ok(seen.renames > 0, 'no segment compaction happened under the cuts');
});

test('sync: interval — what was acknowledged before the last completed interval sync survives', async (t) => {
  const { failures, promised, seen } = await cuts({ kind: 'interval', ms: 5 }, false);
  t.diagnostic(`${seen.lateAcks} durable acks of covered seqs written after the last covering sync (not promised)`);
  assert.deepEqual(failures, []);
  assert.ok(promised > 0, 'no interval sync ever covered an acknowledged message');
});

test('the check catches a store whose fdatasync does nothing', async () => {
  const { failures } = await cuts({ kind: 'always' }, true);
  assert.ok(failures.length > 0, 'acknowledged data survived power cuts without a single fdatasync');
});
