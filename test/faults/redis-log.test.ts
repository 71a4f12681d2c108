/**
 * The Redis keyspace log (src/store/redis/) under faults, with a synthetic model (the records are
 * opaque to the log): seeded power cuts through the fault file layer (every effect whose
 * `whenDurable` fired survives under `sync: always`; under `interval`, everything acknowledged
 * before the last completed interval sync), a torn tail cut and reported, a bit flip in the middle
 * of the log losing only the damaged record, and compaction (generation switches) under the cuts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileKeyspaceLog, type EffectRecord, type KeyspaceSource } from '../../src/store/redis/keyspace-log.js';
import type { FileLayer } from '../../src/store/file/fs-layer.js';
import type { SyncPolicy } from '../../src/store/store.js';
import { randInt, removeDir, rng, tempDir } from '../store/helpers.js';
import { FaultFs } from './fault-fs.js';

/**
 * A toy model: per (db, key) a set of ids. Effects are `+id` (add) and `-id` (remove); a snapshot
 * is one `=id,id,…` per key. Stands in for src/stream/redis/ until its effects are wired.
 */
class SetModel implements KeyspaceSource {
  readonly sets = new Map<string, Set<string>>();
  readonly apply = (db: number, key: string, rec: Buffer): void => {
    const k = `${db}/${key}`;
    const s = rec.toString('latin1');
    let set = this.sets.get(k);
    if (set === undefined) this.sets.set(k, (set = new Set()));
    if (s[0] === '+') set.add(s.slice(1));
    else if (s[0] === '-') set.delete(s.slice(1));
    else if (s[0] === '=') {
      set.clear();
      for (const id of s.slice(1).split(',')) if (id !== '') set.add(id);
    } else throw new Error(`bad effect ${s}`);
    if (set.size === 0) this.sets.delete(k);
  };
  *snapshot(): Iterable<EffectRecord> {
    for (const [k, set] of this.sets) {
      const i = k.indexOf('/');
      yield { db: Number(k.slice(0, i)), key: k.slice(i + 1), rec: Buffer.from(`=${[...set].join(',')}`, 'latin1') };
    }
  }
  has(db: number, key: string, id: string): boolean {
    return this.sets.get(`${db}/${key}`)?.has(id) ?? false;
  }
}

const KEYS = ['orders', 'jobs', 'k\u00ff\u0000bin', 'x'];
const ALWAYS: SyncPolicy = { kind: 'always' };

function durable(log: FileKeyspaceLog): Promise<void> {
  return new Promise((res, rej) => log.whenDurable((e) => (e === null ? res() : rej(e))));
}

async function openLog(dir: string, model: SetModel, extra: Partial<Parameters<typeof FileKeyspaceLog.open>[0]> = {}): Promise<FileKeyspaceLog> {
  return FileKeyspaceLog.open({ dir, sync: ALWAYS, ...extra }, model);
}

/** Does `op` to both the model and the log, as the door's sink does. */
function effect(model: SetModel, log: FileKeyspaceLog, db: number, key: string, s: string): void {
  const rec = Buffer.from(s, 'latin1');
  model.apply(db, key, rec);
  log.append(db, key, rec);
}

test('restart replays every effect in order; compaction switches generations and keeps the state', async () => {
  const dir = tempDir('ks-roundtrip');
  try {
    const m = new SetModel();
    const log = await openLog(dir, m, { compactBytes: 4096 });
    for (let i = 0; i < 3000; i++) {
      const key = KEYS[i % KEYS.length];
      effect(m, log, i % 3, key, `+${i}`);
      if (i % 4 === 1) effect(m, log, i % 3, key, `-${i}`); // removed again: compaction can drop both
      if (i % 100 === 99) await durable(log);
    }
    await durable(log);
    const st = log.stats();
    assert.ok(st.rewrites > 0, 'the log never compacted');
    await log.close();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.log')).length, 1, 'old generations left behind');
    const m2 = new SetModel();
    const log2 = await openLog(dir, m2);
    assert.deepEqual(log2.report.truncated, []);
    assert.deepEqual(log2.report.skipped, []);
    assert.deepEqual(m2.sets, m.sets);
    await log2.close();
  } finally {
    removeDir(dir);
  }
});

test('a torn tail is cut and reported; everything before it replays', async () => {
  const dir = tempDir('ks-torn');
  try {
    const m = new SetModel();
    const log = await openLog(dir, m);
    for (let i = 0; i < 50; i++) effect(m, log, 0, 'orders', `+${i}`);
    await durable(log);
    await log.close();
    const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.log')) as string);
    const size = statSync(file).size;
    truncateSync(file, size - 3); // the last record loses its last 3 bytes
    appendFileSync(file, Buffer.from([9, 9])); // and garbage follows
    const m2 = new SetModel();
    const log2 = await openLog(dir, m2);
    assert.equal(log2.report.truncated.length, 1, 'the torn tail was not reported');
    assert.equal(log2.report.skipped.length, 0);
    for (let i = 0; i < 49; i++) assert.ok(m2.has(0, 'orders', String(i)), `entry ${i} lost`);
    assert.ok(!m2.has(0, 'orders', '49'), 'a torn record was applied');
    effect(m2, log2, 0, 'orders', '+after');
    await durable(log2);
    await log2.close();
    const m3 = new SetModel();
    const log3 = await openLog(dir, m3);
    assert.deepEqual(log3.report.truncated, [], 'the cut was reported again');
    assert.deepEqual(m3.sets, m2.sets);
    await log3.close();
  } finally {
    removeDir(dir);
  }
});

test('bit flips in the middle of the log lose only the damaged records, reported, once', async () => {
  for (let trial = 0; trial < 20; trial++) {
    const dir = tempDir('ks-flip');
    const r = rng(trial + 77);
    try {
      const m = new SetModel();
      const log = await openLog(dir, m);
      const N = 400;
      for (let i = 0; i < N; i++) effect(m, log, 0, KEYS[i % 2], `+${i}:${'p'.repeat(randInt(r, 40))}`);
      await durable(log);
      await log.close();
      const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.log')) as string);
      const b = readFileSync(file);
      // Flip bytes inside one or two records past the head, never in the last record.
      const flips = 1 + randInt(r, 2);
      for (let k = 0; k < flips; k++) {
        const at = 200 + randInt(r, b.length - 400);
        b[at] ^= 1 << randInt(r, 8);
      }
      writeFileSync(file, b);
      const m2 = new SetModel();
      const log2 = await openLog(dir, m2);
      const rep = log2.report;
      const lost = rep.skipped.reduce((n, s) => n + s.recordsLost, 0);
      assert.equal(rep.truncated.length, 0, `trial ${trial}: damage mid-log was cut as a tail`);
      assert.ok(rep.skipped.length >= 1, `trial ${trial}: the damage was not reported`);
      assert.ok(lost <= flips, `trial ${trial}: ${lost} records lost for ${flips} flipped bytes`);
      let present = 0;
      for (let i = 0; i < N; i++) {
        const key = KEYS[i % 2];
        const set = m2.sets.get(`0/${key}`);
        if ([...(set ?? [])].some((id) => id.startsWith(`${i}:`))) present++;
      }
      assert.equal(present, N - lost, `trial ${trial}: ${N - present} entries missing, ${lost} reported lost`);
      await log2.close();
      // Recovery rewrote the damaged file as a new generation: the next start is clean.
      const m3 = new SetModel();
      const log3 = await openLog(dir, m3);
      assert.deepEqual(log3.report.skipped, []);
      assert.deepEqual(m3.sets, m2.sets);
      await log3.close();
    } finally {
      removeDir(dir);
    }
  }
});

// ---- power cuts ----

/** What was promised durable across the rounds of one seed: id → key, and ids removed durably. */
interface Promised {
  added: Map<string, string>;
  removed: Set<string>;
  /** Ids whose remove was made (durable or not): they may or may not be present. */
  removing: Set<string>;
}

function noSync(inner: FaultFs): FileLayer {
  return {
    writev: (fd, b, p, cb) => inner.writev(fd, b, p, cb),
    fdatasync: (_fd, cb) => process.nextTick(cb, null),
    fsync: (fd, cb) => inner.fsync(fd, cb),
    rename: (a, b) => inner.rename(a, b),
    unlink: (p) => inner.unlink(p),
  };
}

async function cutRound(dir: string, seed: number, k: number, policy: SyncPolicy, p: Promised, mutant: boolean): Promise<number> {
  const r = rng(seed * 1000 + k);
  const fault = new FaultFs(dir);
  fault.cutAtOp = 1 + randInt(r, 400);
  fault.cutOptions = { tear: r() < 0.5, rand: r };
  const m = new SetModel();
  const log = await FileKeyspaceLog.open({ dir, sync: policy, compactBytes: 2048, fs: mutant ? noSync(fault) : fault }, m);
  const acked: [string, string, boolean][] = []; // id, key, add?
  const marks: [number, number][] = []; // (syncs seen, acked count then)
  let rewrites = 0;
  for (let turn = 0; turn < 300 && !fault.cut; turn++) {
    const ops: [string, string, boolean][] = [];
    try {
      for (let i = 0, n = 1 + randInt(r, 10); i < n; i++) {
        const key = KEYS[randInt(r, KEYS.length)];
        const id = `${seed}.${k}.${turn}.${i}`;
        effect(m, log, 0, key, `+${id}`);
        ops.push([id, key, true]);
        if (r() < 0.3) {
          const have = [...(m.sets.get(`0/${key}`) ?? [])];
          const victim = have[randInt(r, have.length)];
          effect(m, log, 0, key, `-${victim}`);
          p.removing.add(victim);
          ops.push([victim, key, false]);
        }
      }
    } catch {
      break; // the log failed (the cut): nothing more is acknowledged
    }
    log.whenDurable((err) => {
      if (err === null) acked.push(...ops);
    });
    await new Promise<void>((res) => (r() < 0.7 ? log.whenDurable(() => res()) : setImmediate(res)));
    if (policy.kind === 'interval') {
      marks.push([log.stats().syncs, acked.length]);
      if (r() < 0.1) await new Promise((res) => setTimeout(res, policy.ms));
    }
  }
  rewrites = log.stats().rewrites;
  const syncs = log.stats().syncs;
  fault.powerCut();
  await log.close().catch(() => undefined);
  let upTo = acked.length;
  if (policy.kind === 'interval') {
    // A batch completing sync s + 2 started after sync s + 1 completed: it synced what was acked at s.
    upTo = 0;
    for (const [s, a] of marks) if (s <= syncs - 2 && a > upTo) upTo = a;
  }
  for (const [id, key, add] of acked.slice(0, upTo)) {
    if (add) p.added.set(id, key);
    else {
      p.removed.add(id);
      p.added.delete(id);
    }
  }
  return rewrites;
}

async function verifyCut(dir: string, p: Promised, ctx: string): Promise<string | null> {
  const m = new SetModel();
  const log = await FileKeyspaceLog.open({ dir, sync: ALWAYS }, m);
  try {
    for (const [id, key] of p.added) if (!p.removing.has(id) && !m.has(0, key, id)) return `${ctx}: acknowledged add ${id} lost`;
    for (const id of p.removed) for (const set of m.sets.values()) if (set.has(id)) return `${ctx}: acknowledged remove of ${id} undone`;
    // A torn write may scramble bytes inside the unsynced tail with intact records after them:
    // recovery steps over that stretch (never acknowledged) like any damage, and says so.
    for (const s of log.report.skipped) if (s.recordsLost < 1) return `${ctx}: a skip that lost nothing was reported`;
    return null;
  } finally {
    await log.close();
  }
}

async function cuts(policy: SyncPolicy, mutant: boolean): Promise<{ failures: string[]; promised: number; rewrites: number }> {
  const failures: string[] = [];
  let promised = 0;
  let rewrites = 0;
  for (const seed of [1, 2, 3]) {
    const dir = tempDir(`ks-cut-${seed}`);
    const p: Promised = { added: new Map(), removed: new Set(), removing: new Set() };
    try {
      for (let k = 0; k < 6; k++) {
        rewrites += await cutRound(dir, seed, k, policy, p, mutant);
        promised += p.added.size;
        const bad = await verifyCut(dir, p, `seed ${seed} round ${k} (${policy.kind})`);
        if (bad !== null) {
          failures.push(bad);
          break;
        }
      }
    } finally {
      removeDir(dir);
    }
  }
  return { failures, promised, rewrites };
}

test('sync: always — every acknowledged effect survives seeded power cuts (compactions included)', async (t) => {
  const { failures, promised, rewrites } = await cuts(ALWAYS, false);
  t.diagnostic(`18 cuts, ${promised} acknowledged adds checked, ${rewrites} generation switches before the cuts`);
  assert.deepEqual(failures, []);
  assert.ok(promised > 0, 'nothing was ever acknowledged before a cut');
  assert.ok(rewrites > 0, 'no generation switch happened under the cuts');
});

test('sync: interval — what was acknowledged before the last completed interval sync survives', async () => {
  const { failures, promised } = await cuts({ kind: 'interval', ms: 5 }, false);
  assert.deepEqual(failures, []);
  assert.ok(promised > 0, 'no interval sync ever covered an acknowledged effect');
});

test('the power-cut check catches a log whose fdatasync does nothing', async () => {
  const { failures } = await cuts(ALWAYS, true);
  assert.ok(failures.length > 0, 'acknowledged effects survived power cuts without a single fdatasync');
});
