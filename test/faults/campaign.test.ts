/**
 * The byte-damage fault campaign (issue 12, "hundreds of cases, seeded and reproducible"): one
 * golden store (several sealed segments with index files, an active one, deletes, a purge, a
 * compaction) is copied per case and damaged — N random bytes flipped at random offsets of random
 * segments (active and sealed; with the segment's `.idx` kept or deleted), a segment truncated at a
 * random offset, index files deleted or flipped — then reopened. After every case:
 *
 * - every acknowledged message whose record bytes are intact is served byte for byte;
 * - no damaged record is served, and nothing is served that was never stored;
 * - every lost message is named by the recovery report or the log (seq, range or cut);
 * - a deleted message comes back only when the report says a delete may be undone, or a tail was cut;
 * - no sequence is reused: the next append gets a seq past every acknowledged one, and is served.
 *
 * Process kills and power cuts at random moments (writes, purges, compactions, segment rolls) are
 * the other half of the campaign: test/store/crash.test.ts, test/store/consumer-crash.test.ts and
 * test/faults/power-cut.test.ts. Each case's seed is in every assertion message;
 * `HERALD_CAMPAIGN_SEED=<n>` reruns one case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FileStore } from '../../src/store/file/file-store.js';
import { openFileStore } from '../../src/store/file/index.js';
import { readSeq, RecordType } from '../../src/store/file/record.js';
import { contentOf } from '../store/crash-content.js';
import { CaptureLogger, durable, randInt, removeDir, rng, tempDir } from '../store/helpers.js';

const CASES = 300;
const BASE_SEED = 1000;
const SEG = 8192;
/** Bound on the background check of index-loaded segments, per case. */
const VERIFY_TIMEOUT_MS = 10_000;

interface Rec {
  file: string;
  off: number;
  end: number;
  type: number;
  seq: number;
}

interface Golden {
  dir: string;
  live: Set<number>;
  deleted: Set<number>;
  lastSeq: number;
  recs: Rec[];
  files: string[];
}

/** Cases run on a memory file system when there is one: the campaign is about bytes, not syncs,
 * and 300 reopens with fsyncs on a shared disk would take minutes. */
function caseDir(prefix: string): string {
  return existsSync('/dev/shm') ? mkdtempSync(join('/dev/shm', `herald-${prefix}-`)) : tempDir(prefix);
}

const segFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.startsWith('seg-') && f.endsWith('.log'))
    .sort();

async function writeGolden(): Promise<Golden> {
  const dir = caseDir('campaign');
  const s = (await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG })).store;
  const live = new Set<number>();
  const deleted = new Set<number>();
  const r = rng(BASE_SEED);
  for (let i = 1; i <= 700; i++) {
    const c = contentOf(i);
    const { seq } = s.append(c.subject, c.headers, c.payload.subarray(0, 300));
    live.add(seq);
    if (i % 50 === 0) await durable(s);
    if (i > 20 && r() < 0.08) {
      const victim = [...live][randInt(r, live.size)];
      s.delete(victim, r() < 0.3);
      live.delete(victim);
      deleted.add(victim);
    }
  }
  // A purge of one subject over the first half: many deletes, and compaction of mostly dead segments.
  const purgeSubj = contentOf(1).subject;
  for (const seq of [...live]) if (seq < 350 && contentOf(seq).subject === purgeSubj) (live.delete(seq), deleted.add(seq));
  s.purge({ filter: purgeSubj, seq: 350 });
  await durable(s);
  const lastSeq = s.state().lastSeq;
  await s.close();
  const recs: Rec[] = [];
  const files = segFiles(dir);
  for (const f of files) {
    const b = readFileSync(join(dir, f));
    for (let o = 0; o + 32 <= b.length;) {
      const len = b.readUInt32LE(o);
      recs.push({ file: f, off: o, end: o + len, type: b[o + 4], seq: readSeq(b, o) });
      o += len;
    }
  }
  assert.ok(files.length >= 4, `golden has ${files.length} segments`);
  return { dir, live, deleted, lastSeq, recs, files };
}

function payloadOf(seq: number): { subject: string; headers: Buffer | null; payload: Buffer } {
  const c = contentOf(seq);
  return { subject: c.subject, headers: c.headers, payload: c.payload.subarray(0, 300) };
}

/** Damages the copy in `dir`; returns the damaged byte ranges per segment file and a description. */
function damage(
  dir: string,
  g: Golden,
  r: () => number,
): { hit: Map<string, number[]>; cutAt: Map<string, number>; what: string } {
  const hit = new Map<string, number[]>();
  const cutAt = new Map<string, number>();
  const kind = randInt(r, 4);
  const pickFile = (): string => g.files[randInt(r, g.files.length)];
  const idxOf = (f: string): string => join(dir, f.replace(/\.log$/, '.idx'));
  if (kind <= 1) {
    const n = 1 + randInt(r, 4);
    const dropIdx = kind === 1;
    const parts: string[] = [];
    for (let k = 0; k < n; k++) {
      const f = pickFile();
      const p = join(dir, f);
      const b = readFileSync(p);
      const at = randInt(r, b.length);
      b[at] ^= 1 << randInt(r, 8);
      writeFileSync(p, b);
      if (!hit.has(f)) hit.set(f, []);
      (hit.get(f) as number[]).push(at);
      if (dropIdx && existsSync(idxOf(f))) unlinkSync(idxOf(f));
      parts.push(`${f}@${at}`);
    }
    return { hit, cutAt, what: `flip ${parts.join(' ')}${dropIdx ? ' (idx deleted)' : ''}` };
  }
  if (kind === 2) {
    const f = pickFile();
    const p = join(dir, f);
    const len = readFileSync(p).length;
    const at = randInt(r, len);
    truncateSync(p, at);
    cutAt.set(f, at);
    if (r() < 0.5 && existsSync(idxOf(f))) unlinkSync(idxOf(f));
    return { hit, cutAt, what: `truncate ${f} at ${at} of ${len}` };
  }
  // Index files only: deleted or flipped; the store must come out the same.
  const parts: string[] = [];
  for (const f of g.files) {
    const ip = idxOf(f);
    if (!existsSync(ip) || r() < 0.5) continue;
    if (r() < 0.5) {
      unlinkSync(ip);
      parts.push(`rm ${f}.idx`);
    } else {
      const b = readFileSync(ip);
      b[randInt(r, b.length)] ^= 0xff;
      writeFileSync(ip, b);
      parts.push(`flip ${f}.idx`);
    }
  }
  return { hit, cutAt, what: `index files: ${parts.join(', ') || 'none'}` };
}

async function runCase(g: Golden, seed: number): Promise<{ lost: number; kept: number }> {
  const r = rng(seed);
  const dir = caseDir('campaign-case');
  try {
    cpSync(g.dir, dir, { recursive: true, filter: (src) => !src.endsWith('LOCK') });
    const d = damage(dir, g, r);
    const tag = `seed ${seed} (${d.what})`;
    const damaged = (rec: Rec): boolean => {
      const cut = d.cutAt.get(rec.file);
      if (cut !== undefined && rec.end > cut) return true;
      return (d.hit.get(rec.file) ?? []).some((at) => at >= rec.off && at < rec.end);
    };
    const log = new CaptureLogger();
    const { store, report } = await openFileStore(dir, { sync: { kind: 'always' }, segmentBytes: SEG, logger: log });
    try {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        (store as FileStore).verified(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${tag}: index check not done in time`)), VERIFY_TIMEOUT_MS);
        }),
      ]).finally(() => clearTimeout(timer));
      const msgRec = new Map<number, Rec>();
      for (const rec of g.recs) if (rec.type === RecordType.Msg) msgRec.set(rec.seq, rec);
      // What recovery and the checks behind index files named as lost (by seq, seq range or cut offset).
      const named = (seq: number): boolean =>
        report.truncated.some((t) => t.segment === (msgRec.get(seq) as Rec).file && t.offset <= (msgRec.get(seq) as Rec).off) ||
        report.skipped.some(
          (s) =>
            s.seq === seq || (s.firstSeqLost !== null && s.lastSeqLost !== null && seq >= s.firstSeqLost && seq <= s.lastSeqLost),
        ) ||
        report.truncated.some((t) => t.firstSeqLost !== null && seq >= t.firstSeqLost) ||
        log.warns.some((w) => (w.o as { seq?: number }).seq === seq);
      const mayUndoDelete =
        report.skipped.some((s) => s.deleteMayBeUndone) ||
        report.truncated.length > 0 ||
        log.warns.some((w) => /delete/.test(w.m));
      let lost = 0;
      let kept = 0;
      for (const seq of g.live) {
        const rec = msgRec.get(seq) as Rec;
        const m = store.get(seq);
        const want = payloadOf(seq);
        if (damaged(rec)) {
          assert.equal(m, null, `${tag}: damaged seq ${seq} served`);
          assert.ok(named(seq), `${tag}: lost seq ${seq} not named (report ${JSON.stringify(report)})`);
          lost++;
        } else {
          assert.ok(m !== null, `${tag}: intact acked seq ${seq} lost`);
          assert.equal(m.subject, want.subject, `${tag}: seq ${seq} subject`);
          assert.deepEqual(m.headers, want.headers, `${tag}: seq ${seq} headers`);
          assert.deepEqual(m.payload, want.payload, `${tag}: seq ${seq} payload`);
          kept++;
        }
      }
      for (const seq of g.deleted) {
        const m = store.get(seq);
        if (m !== null) {
          assert.ok(mayUndoDelete, `${tag}: deleted seq ${seq} served without a report saying a delete may be undone`);
          assert.deepEqual(m.payload, payloadOf(seq).payload, `${tag}: deleted seq ${seq} came back changed`);
        }
      }
      const st = store.state();
      assert.ok(st.messages <= kept + g.deleted.size, `${tag}: ${st.messages} messages, more than were stored`);
      for (let q = g.lastSeq + 1; q <= g.lastSeq + 5; q++) assert.equal(store.get(q), null, `${tag}: invented seq ${q}`);
      // No seq reused; new publishes are accepted and durable.
      // A cut through the newest segment takes the record of the highest seq with it (a file system
      // that loses synced bytes; a torn write loses only unacknowledged ones): then no seq of an
      // intact record is reused. Everywhere else nothing is.
      const lastFile = g.files[g.files.length - 1];
      let floor = g.lastSeq;
      if (d.cutAt.has(lastFile)) {
        floor = 0;
        for (const rec of g.recs) if (rec.type === RecordType.Msg && !damaged(rec)) floor = Math.max(floor, rec.seq);
      }
      assert.ok(st.lastSeq >= floor, `${tag}: last seq went back from ${floor} to ${st.lastSeq}`);
      const next = store.append('campaign.after', null, Buffer.from(`after ${seed}`));
      assert.ok(next.seq > floor, `${tag}: seq ${next.seq} reused`);
      await durable(store);
      assert.equal(store.get(next.seq)?.payload.toString(), `after ${seed}`, tag);
      return { lost, kept };
    } finally {
      await store.close();
    }
  } finally {
    removeDir(dir);
  }
}

test(`fault campaign: ${CASES} seeded cases of flipped bytes, truncations and index damage`, async () => {
  const g = await writeGolden();
  try {
    const only = process.env.HERALD_CAMPAIGN_SEED;
    const seeds = only !== undefined ? [Number(only)] : Array.from({ length: CASES }, (_, i) => BASE_SEED + 1 + i);
    let lost = 0;
    for (const seed of seeds) lost += (await runCase(g, seed)).lost;
    assert.ok(lost > 0, 'no case lost a message: the damage missed every record');
  } finally {
    removeDir(g.dir);
  }
});
