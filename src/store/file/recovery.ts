/**
 * Opening a store directory: find the segments, load each sealed one from its index file (or scan
 * it when the index is missing or stale), scan the last one record by record, cut off a torn or
 * corrupt tail, then replay floors and tombstones so the slots say exactly which messages live.
 *
 * What is verified (docs/storage-format.md "Recovery"): every record of the last segment, and
 * every record of any segment without a valid index file, has its length, type and CRC checked.
 * Sealed segments with a valid index are trusted for layout; their records are CRC-checked when
 * read. Nothing that fails a check is ever served.
 */
import { ftruncateSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { RecoveryReport } from '../store.js';
import { loadIndexFile, type SegmentFacts } from './idxfile.js';
import { scanSegment } from './scan.js';
import { DEAD_BIT, FdBudget, Segment, segmentName } from './segment.js';
import { openSync, closeSync, readSync } from 'node:fs';
import { KEYED_MARK_BYTES, segmentKeyOf } from './record.js';

const SEGMENT_RE = /^seg-(\d{10})\.log$/;

/** The logger shape recovery reports through (pino-compatible). */
export interface RecoveryLogger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/** Segments as found on disk, with what the store needs to rebuild its counters. */
export interface RecoveredSegments {
  segs: Segment[];
  facts: SegmentFacts[];
  /** Segments that were scanned (not loaded from an index file) and are sealed: their index is due. */
  needIndex: Segment[];
  /** Largest floor found: every seq below it is gone. */
  floor: number;
  lastSeq: number;
  lastTs: bigint;
  truncated: RecoveryReport['truncated'];
  skipped: RecoveryReport['skipped'];
  nextId: number;
}

/** The key of the segment at `path` (record.ts `segmentKeyOf`): one read of its first bytes. */
function readHeadKey(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2 * KEYED_MARK_BYTES);
    const n = readSync(fd, b, 0, b.length, 0);
    return segmentKeyOf(b, n);
  } finally {
    closeSync(fd);
  }
}

/** Path of segment `id` in `dir`. */
export function segmentPath(dir: string, id: number): string {
  return join(dir, segmentName(id) + '.log');
}

/** Path of segment `id`'s index file in `dir`. */
export function indexPath(dir: string, id: number): string {
  return join(dir, segmentName(id) + '.idx');
}

/** Reads every segment in `dir` (see the module comment). Truncates damaged tails in place. */
export function recoverSegments(dir: string, budget: FdBudget, logger: RecoveryLogger | undefined): RecoveredSegments {
  const ids: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m !== null) ids.push(Number(m[1]));
    else if (name.endsWith('.tmp') || name.endsWith('.compact')) unlinkSync(join(dir, name));
  }
  ids.sort((a, b) => a - b);
  const segs: Segment[] = [];
  const facts: SegmentFacts[] = [];
  const needIndex: Segment[] = [];
  const truncated: RecoveryReport['truncated'] = [];
  const skipped: RecoveryReport['skipped'] = [];
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    const path = segmentPath(dir, id);
    const seg = new Segment(id, path, budget, 16);
    const last = k === ids.length - 1;
    let f: SegmentFacts | null = null;
    if (!last) f = loadIndexFile(indexPath(dir, id), seg, statSync(path).size);
    if (f !== null) {
      // The index gives the layout; the key for checking reads comes from the segment's head.
      const key = readHeadKey(path);
      if (key >= 0) seg.key = key;
      else f = null; // both head copies damaged: scan, exactly as without an index file
    }
    if (f === null) {
      const r = scanSegment(seg);
      for (const sk of r.skipped) skipped.push({ segment: seg.name + '.log', ...sk });
      if (r.damage !== null) {
        const cut = {
          segment: seg.name + '.log',
          offset: r.damage.offset,
          bytes: r.fileLen - r.damage.offset,
          // A cut through a sealed segment whose damaged header names no seq: it may have held
          // the seq after the last one kept (later segments prove that seq was handed out).
          firstSeqLost: r.damage.firstSeqLost ?? (last ? null : Math.max(seg.lastSlotSeq, seg.seqMark - 1) + 1),
          reason: r.damage.reason,
        };
        truncated.push(cut);
        logger?.warn(cut, 'store recovery: cut off a damaged segment tail');
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, r.damage.offset);
        } finally {
          closeSync(fd);
        }
      }
      if (!last) needIndex.push(seg);
      f = r;
    }
    seg.sealed = !last;
    segs.push(seg);
    facts.push(f);
  }
  let floor = 0;
  let lastSeq = 0;
  let lastTs = 0n;
  for (const s of segs) {
    if (s.maxFloor > floor) floor = s.maxFloor;
    lastSeq = Math.max(lastSeq, s.maxSeq, s.seqMark - 1, s.maxFloor - 1);
    if (s.size > 0) lastTs = s.lastTs;
  }
  for (const sk of skipped) {
    // A gap no later record of its segment bounds ends at the last seq recovered (never fewer).
    if (sk.firstSeqLost !== null && sk.lastSeqLost === null) {
      if (lastSeq >= sk.firstSeqLost) sk.lastSeqLost = lastSeq;
      else sk.firstSeqLost = null;
    }
    logger?.warn(sk, 'store recovery: skipped a damaged record');
    if (sk.deleteMayBeUndone) {
      logger?.warn(sk, 'store recovery: a damaged record may have been a delete; deleted messages may be served again');
    }
  }
  // Replay deletes: the floor kills every older slot, each tombstone kills its seq.
  for (const s of segs) {
    if (s.n === 0 || s.base >= floor) continue;
    for (let i = 0; i < s.n && s.seqAt(i) < floor; i++) s.sizes[i] = (s.sizes[i] | DEAD_BIT) >>> 0;
  }
  for (const f of facts) {
    const t = f.tombs;
    for (let j = 0; j < t.length; j++) {
      const seq = t[j];
      const s = findSegment(segs, seq);
      if (s === null) continue;
      const i = s.slotOf(seq);
      if (i >= 0) s.sizes[i] = (s.sizes[i] | DEAD_BIT) >>> 0;
    }
  }
  return {
    segs,
    facts,
    needIndex,
    floor,
    lastSeq,
    lastTs,
    truncated,
    skipped,
    nextId: ids.length > 0 ? ids[ids.length - 1] + 1 : 1,
  };
}

/**
 * Index in `segs` of the segment that holds `seq` or, when none does, of the first segment past it
 * (segs.length when none). Segments without slots are skipped over. O(log segments).
 */
export function segmentIndexFor(segs: readonly Segment[], seq: number): number {
  let lo = 0;
  let hi = segs.length - 1;
  let ans = segs.length;
  // Find the first segment whose last slot seq is >= seq.
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    let m = mid;
    while (m < segs.length && segs[m].n === 0) m++;
    if (m === segs.length) {
      hi = mid - 1;
      continue;
    }
    if (segs[m].lastSlotSeq >= seq) {
      ans = m;
      hi = mid - 1;
    } else lo = m + 1;
  }
  return ans;
}

/** The segment whose slots cover `seq` (it may still lack that exact seq), or null. */
export function findSegment(segs: readonly Segment[], seq: number): Segment | null {
  const k = segmentIndexFor(segs, seq);
  if (k === segs.length) return null;
  const s = segs[k];
  return s.base <= seq ? s : null;
}
