/**
 * Compaction: rewrites a sealed segment that is mostly dead so only its live messages (and the
 * control records still needed) remain, then swaps it in. Runs as a writer job, between batches,
 * so it never races a write to the same file; reads keep using the old file until the synchronous
 * swap at the end. Deletes that land while the copy is being written are carried over at the swap
 * (their tombstones are in the active segment anyway).
 *
 * Kept: live message records, tombstones for seqs in older segments at or past the store's first
 * seq, the segment's SeqMark, one fresh Floor record (the current first seq) and a restating
 * SeqMark repeating that floor and the kept tombstones. Dropped: dead and
 * erased messages, other tombstones and floors. Cost: one read of the segment, one write of its live
 * part, one fdatasync of it and one of the directory.
 */
import { open, readFile } from 'node:fs/promises';
import type { FileLayer } from './fs-layer.js';
import { encodeIndex, writeIndexFile } from './idxfile.js';
import {
  checkRecord,
  encodeMark,
  encodeRestatingMark,
  KEYED_MARK_BYTES,
  readSeq,
  reasonText,
  RecordType,
  restatingMarkLen,
} from './record.js';
import { DEAD_BIT, Segment, SIZE_MASK } from './segment.js';
import { fdatasyncP, fsyncP, writeAll } from './writer.js';
import { DATA_FILE_MODE } from '../modes.js';

/** Compact a sealed segment once live records fill less than this share of its file. */
export const COMPACT_LIVE_RATIO = 0.5;
/** ...and at least this much (or a quarter of a segment, if smaller) would be reclaimed: rewriting
 * a segment to win a few bytes is not worth the I/O. */
export const COMPACT_MIN_RECLAIM_BYTES = 1024 * 1024;

/** What compaction needs from its store, passed in so compact.ts does not depend on the store class. */
export interface CompactContext {
  /** The store's first live seq right now. */
  firstSeq(): number;
  subjectOf(id: number): string;
  indexPath(seg: Segment): string;
  dirFd: number;
  /** The store's file layer (fs-layer.ts). */
  fs: FileLayer;
  logger?: { warn(o: object, m: string): void; info(o: object, m: string): void };
}

/** True when `seg` (of a store with `segmentBytes` segments) is worth compacting now. */
export function wantsCompaction(seg: Segment, segmentBytes: number): boolean {
  return (
    seg.sealed &&
    !seg.retired &&
    !seg.compacting &&
    seg.size - seg.liveBytes >= Math.min(COMPACT_MIN_RECLAIM_BYTES, segmentBytes / 4) &&
    seg.liveBytes < seg.size * COMPACT_LIVE_RATIO
  );
}

async function unlinkQuiet(fs: FileLayer, path: string): Promise<void> {
  try {
    await fs.unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Rewrites `seg` in place (see module comment). Returns the bytes reclaimed (0 when skipped). */
export async function compactSegment(seg: Segment, ctx: CompactContext): Promise<number> {
  if (seg.retired || !seg.sealed || seg.written !== seg.size || seg.pending.length > 0) {
    seg.compacting = false;
    return 0;
  }
  seg.busy++;
  try {
    seg.open(); // keep the old file open for readers until the swap
    const src = await readFile(seg.path);
    if (seg.retired) return 0;
    // The output never exceeds the input plus the Floor and the restating mark appended (8 bytes
    // per kept 32-byte tombstone).
    const out = Buffer.allocUnsafe(src.length + 32 + restatingMarkLen(0) + (src.length >>> 2));
    let outLen = 0;
    const offs: number[] = [];
    const sizes: number[] = [];
    const subj: number[] = [];
    const seqs: number[] = [];
    const tombs: number[] = [];
    const first = ctx.firstSeq();
    let maxSeq = 0;
    let seqMark = 0;
    for (let p = 0; p < src.length;) {
      const len = checkRecord(src, p, src.length - p, seg.key);
      if (len < 0) {
        ctx.logger?.warn({ segment: seg.name, offset: p, reason: reasonText(len) }, 'compaction skipped: damaged record');
        return 0;
      }
      const type = src[p + 4];
      const seq = readSeq(src, p);
      let keep = false;
      if (type === RecordType.Msg) {
        const i = seg.slotOf(seq);
        if (i >= 0 && (seg.sizes[i] & DEAD_BIT) === 0) {
          keep = true;
          offs.push(outLen);
          sizes.push(seg.sizes[i]);
          subj.push(seg.subj[i]);
          seqs.push(seq);
          if (seq > maxSeq) maxSeq = seq;
        }
      } else if (type === RecordType.Tombstone) {
        keep = seq >= first && seg.slotOf(seq) < 0 && (seg.n === 0 || seq < seg.base);
        if (keep) {
          tombs.push(seq);
          if (seq > maxSeq) maxSeq = seq;
        }
      } else if (type === RecordType.SeqMark) {
        // The head copies carry the key; later per-batch marks are restated by newer segments.
        keep = p < 2 * KEYED_MARK_BYTES;
        if (seq > seqMark) seqMark = seq;
      }
      if (keep) {
        src.copy(out, outLen, p, p + len);
        outLen += len;
      }
      p += len;
    }
    encodeMark(out, outLen, RecordType.Floor, first, seg.lastTs, seg.key);
    outLen += 32;
    // The kept tombstones and the floor, restated: one damaged record does not undo a delete.
    encodeRestatingMark(out, outLen, Math.max(seqMark, 1), seg.lastTs, first, tombs, seg.key);
    outLen += restatingMarkLen(tombs.length);
    const reclaimed = seg.size - outLen;
    if (reclaimed <= 0) return 0;

    const tmp = seg.path + '.compact';
    const fh = await open(tmp, 'w', DATA_FILE_MODE);
    try {
      await writeAll(fh.fd, out.subarray(0, outLen), 0, ctx.fs);
      await fdatasyncP(fh.fd, ctx.fs);
    } finally {
      await fh.close();
    }
    if (seg.retired) {
      await unlinkQuiet(ctx.fs, tmp);
      return 0;
    }
    // The old index no longer describes the file: drop it before the rename so a crash in
    // between leaves "no index" (rescan), never a wrong one.
    await unlinkQuiet(ctx.fs, ctx.indexPath(seg));
    await ctx.fs.rename(tmp, seg.path);
    await fsyncP(ctx.dirFd, ctx.fs);

    // Swap (synchronous): carry over deletes made meanwhile, then adopt the new layout.
    const n = seqs.length;
    const nOffs = new Uint32Array(n);
    const nSizes = new Uint32Array(n);
    const nSubj = new Uint32Array(n);
    const nSeqOff = new Uint32Array(n);
    const base = n > 0 ? seqs[0] : 0;
    let live = 0;
    let liveBytes = 0;
    for (let k = 0; k < n; k++) {
      const i = seg.slotOf(seqs[k]);
      let bits = sizes[k];
      if (i < 0 || (seg.sizes[i] & DEAD_BIT) !== 0) bits = (bits | DEAD_BIT) >>> 0;
      else {
        live++;
        liveBytes += bits & SIZE_MASK;
      }
      nOffs[k] = offs[k];
      nSizes[k] = bits;
      nSubj[k] = subj[k];
      nSeqOff[k] = seqs[k] - base;
    }
    seg.close();
    seg.offs = nOffs;
    seg.sizes = nSizes;
    seg.subj = nSubj;
    seg.seqOff = nSeqOff;
    seg.base = base;
    seg.n = n;
    seg.live = live;
    seg.liveBytes = liveBytes;
    seg.size = outLen;
    seg.written = outLen;
    seg.maxSeq = Math.max(maxSeq, seg.maxSeq);
    seg.maxFloor = first;
    seg.seqMark = seqMark;
    await writeIndexFile(ctx.indexPath(seg), encodeIndex(seg, tombs, ctx.subjectOf));
    return reclaimed;
  } finally {
    seg.busy--;
    seg.compacting = false;
  }
}
