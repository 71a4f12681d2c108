/**
 * Full scan of one segment file: reads it front to back in windows, verifies every record's
 * length, type and CRC, and rebuilds the slot index. In a keyed segment (record.ts
 * `segmentKeyOf`) a damaged record is skipped when a valid record follows it somewhere in the
 * file (`resyncPoint`): only that record is lost and the skip is reported, with the seqs it may
 * have held (from the seqs around it) and whether it may have held a delete that no restating
 * SeqMark repeats (record.ts `FLAG_RESTATE`). A damaged record with
 * no valid record after it is a torn tail: the scan stops there and says where and why; the
 * caller truncates. Older, unkeyed segments stop at the first damage (a resync there could land
 * inside a payload, see docs/storage-format.md "Resynchronisation").
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  checkRecord,
  segmentKeyOf,
  NEED_MORE,
  readSeq,
  reasonText,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD,
  RecordType,
  MAX_RECORD_BYTES,
  FLAG_RESTATE,
  KEYED_MARK_BYTES,
  readRestated,
} from './record.js';
import { DEAD_BIT, HDR_BIT, Segment } from './segment.js';
import { NO_SUBJECT, type SegmentFacts } from './idxfile.js';

/** Bytes read per window while scanning: large enough to amortise syscalls, small enough to hold. */
const SCAN_WINDOW_BYTES = 8 * 1024 * 1024;

/** Where a scan stopped early. */
export interface Damage {
  offset: number;
  reason: string;
  /** Seq named by the damaged record's header when it looks like a message record, else null. */
  firstSeqLost: number | null;
}

/** A damaged stretch the scan stepped over: it lost only the record(s) in it. */
export interface Skip {
  offset: number;
  bytes: number;
  reason: string;
  /** Seq named by the damaged record's header when it plausibly is a lost message, else null. */
  seq: number | null;
  /**
   * Every message seq the stretch may have held: after the last good record's, below the next
   * message or SeqMark after it (a superset, never fewer). Null/null when none; a null
   * `lastSeqLost` with a first means no later record of this segment bounds it (recovery does).
   */
  firstSeqLost: number | null;
  lastSeqLost: number | null;
  /** The stretch may have held a Tombstone or Floor that no restating SeqMark after it repeats. */
  deleteMayBeUndone: boolean;
}

/** What a full scan found: the segment facts, plus where it had to stop, if anywhere. */
export interface ScanResult extends SegmentFacts {
  /** Null when the file ends in valid records. */
  damage: Damage | null;
  /** Damaged stretches in the middle of the file, stepped over. */
  skipped: Skip[];
  /** File length before any truncation. */
  fileLen: number;
}

/** Scans `seg.path` into `seg` (slots with local subject ids). Sets size/written to the valid length. */
export function scanSegment(seg: Segment): ScanResult {
  const fd = openSync(seg.path, 'r');
  try {
    const fileLen = fstatSync(fd).size;
    const subjects: string[] = [];
    const local = new Map<string, number>();
    const tombs: number[] = [];
    let buf = Buffer.allocUnsafe(Math.min(SCAN_WINDOW_BYTES, Math.max(fileLen, RECORD_OVERHEAD)));
    let winStart = 0; // file offset of buf[0]
    let winLen = 0;
    let pos = 0; // file offset of the next record
    let damage: Damage | null = null;
    let prevSubjStart = -1;
    let prevSubjLen = 0;
    let prevLocal = 0;
    let tsLo = 0;
    let tsHi = 0;
    const skipped: Skip[] = [];
    // Skips whose lost-seq range (`open`) or delete coverage (`uncovered`) waits for a later record.
    let open: Skip[] = [];
    let uncovered: Skip[] = [];

    const fill = (need: number): void => {
      // Slide the window so `pos` is at its start and it holds at least `need` bytes if the file does.
      const keep = winStart + winLen - pos;
      if (need > buf.length) {
        const nb = Buffer.allocUnsafe(need);
        buf.copy(nb, 0, pos - winStart, pos - winStart + keep);
        buf = nb;
      } else if (keep > 0 && pos !== winStart) {
        buf.copy(buf, 0, pos - winStart, pos - winStart + keep);
      }
      winStart = pos;
      winLen = keep;
      while (winLen < buf.length && winStart + winLen < fileLen) {
        const r = readSync(fd, buf, winLen, buf.length - winLen, winStart + winLen);
        if (r === 0) break;
        winLen += r;
      }
    };

    if (fileLen > 0) fill(RECORD_OVERHEAD);
    const key = segmentKeyOf(buf, winLen);
    seg.key = key > 0 ? key : 0;
    while (pos < fileLen) {
      let o = pos - winStart;
      let avail = winStart + winLen - pos;
      let len = checkRecord(buf, o, avail, seg.key);
      const want = Math.max(avail >= 4 ? Math.min(buf.readUInt32LE(o), MAX_RECORD_BYTES) : RECORD_OVERHEAD, RECORD_OVERHEAD);
      // Refill only when the record can fit in what is left of the file: a damaged length must
      // not make us allocate up to 1 GiB for a record that is torn anyway.
      if (len === NEED_MORE && winStart + winLen < fileLen && pos + want <= fileLen) {
        fill(want);
        o = 0;
        avail = winLen;
        prevSubjStart = -1;
        len = checkRecord(buf, o, avail, seg.key);
      }
      if (len < 0) {
        let firstSeqLost: number | null = null;
        if (avail >= RECORD_HEADER_BYTES && buf[o + 4] === RecordType.Msg) {
          const s = readSeq(buf, o);
          if (s > seg.maxSeq && s <= seg.maxSeq + 1_000_000) firstSeqLost = s;
        }
        const after = Math.max(seg.n > 0 ? seg.seqAt(seg.n - 1) : 0, seg.seqMark - 1);
        const next = seg.key !== 0 ? resyncPoint(fd, pos, fileLen, seg.key, after) : -1;
        if (next < 0) {
          damage = { offset: pos, reason: reasonText(len), firstSeqLost };
          break;
        }
        // The first head copy alone (its twin gave the key) holds no message and no delete.
        const head = pos === 0 && next === KEYED_MARK_BYTES;
        const sk: Skip = {
          offset: pos,
          bytes: next - pos,
          reason: reasonText(len),
          seq: firstSeqLost,
          firstSeqLost: head ? null : after + 1,
          lastSeqLost: null,
          deleteMayBeUndone: !head && mayHoldDelete(buf, o, avail, next - pos),
        };
        skipped.push(sk);
        if (!head) open.push(sk);
        if (sk.deleteMayBeUndone) uncovered.push(sk);
        pos = next;
        winStart = pos;
        winLen = 0;
        prevSubjStart = -1;
        continue;
      }
      const type = buf[o + 4];
      const seq = readSeq(buf, o);
      if (open.length > 0 && type !== RecordType.Tombstone && type !== RecordType.Floor) {
        for (const sk of open) sk.lastSeqLost = seq - 1; // the next message or SeqMark bounds the gap
        open = [];
      }
      if (type === RecordType.Msg || type === RecordType.Erased) {
        let l = NO_SUBJECT;
        let bits = len;
        if (type === RecordType.Msg) {
          const sl = buf.readUInt16LE(o + 6);
          const hl = buf.readUInt32LE(o + 8);
          const ss = o + RECORD_HEADER_BYTES;
          // Consecutive records usually share a subject: compare bytes before decoding.
          if (
            prevSubjStart >= 0 &&
            prevSubjLen === sl &&
            buf.compare(buf, prevSubjStart, prevSubjStart + sl, ss, ss + sl) === 0
          ) {
            l = prevLocal;
          } else {
            const name = buf.toString('utf8', ss, ss + sl);
            const got = local.get(name);
            if (got === undefined) {
              l = subjects.length;
              subjects.push(name);
              local.set(name, l);
            } else l = got;
          }
          prevSubjStart = ss;
          prevSubjLen = sl;
          prevLocal = l;
          if (hl > 0) bits |= HDR_BIT;
        } else {
          bits = (bits | DEAD_BIT) >>> 0;
        }
        if (seg.n > 0) {
          const prev = seg.seqAt(seg.n - 1);
          if (seq <= prev) {
            damage = { offset: pos, reason: `seq ${seq} after ${prev}`, firstSeqLost: null };
            break;
          }
          if (seq !== prev + 1) seg.makeSparse();
        }
        seg.push(seq, pos, bits, l);
      } else if (type === RecordType.Tombstone) {
        tombs.push(seq);
      } else if (type === RecordType.Floor) {
        if (seq > seg.maxFloor) seg.maxFloor = seq;
      } else if (type === RecordType.SeqMark) {
        if (seq > seg.seqMark) seg.seqMark = seq;
        const re = readRestated(buf, o, len);
        if (re !== null) {
          if (re.floor > seg.maxFloor) seg.maxFloor = re.floor;
          for (const t of re.tombs) tombs.push(t);
        }
        // The first SeqMark after a skip closes its batch: a restating one repeats its deletes.
        for (const sk of uncovered) sk.deleteMayBeUndone = re === null;
        uncovered = [];
      }
      if (type !== RecordType.Floor && type !== RecordType.SeqMark && seq > seg.maxSeq) seg.maxSeq = seq;
      // Kept as two numbers: a BigInt per record would dominate the scan's allocations.
      tsLo = buf.readUInt32LE(o + 20);
      tsHi = buf.readInt32LE(o + 24);
      pos += len;
    }
    for (const sk of skipped) {
      if (sk.firstSeqLost !== null && sk.lastSeqLost !== null && sk.lastSeqLost < sk.firstSeqLost) {
        sk.firstSeqLost = sk.lastSeqLost = null;
      }
    }
    if (pos > 0) seg.lastTs = (BigInt(tsHi) << 32n) + BigInt(tsLo);
    seg.size = pos;
    seg.written = pos;
    seg.trim();
    return { subjects, tombs, damage, skipped, fileLen };
  } finally {
    closeSync(fd);
  }
}

/**
 * Whether the damaged stretch of `bytes` at `o` (header readable in `avail` bytes) may have held a
 * Tombstone or Floor: not when its header says it is one message record (or one restating
 * SeqMark, which only repeats deletes) and its length field spans exactly the stretch.
 */
function mayHoldDelete(b: Buffer, o: number, avail: number, bytes: number): boolean {
  if (avail < 8) return true;
  const single = bytes === RECORD_OVERHEAD || b.readUInt32LE(o) === bytes;
  const type = b[o + 4];
  if (!single) return true;
  if ((type === RecordType.Msg || type === RecordType.Erased) && bytes > RECORD_OVERHEAD) return false;
  return !(type === RecordType.SeqMark && (b[o + 5] & FLAG_RESTATE) !== 0 && bytes > RECORD_OVERHEAD);
}

/**
 * The exclusive upper bound on the seqs of messages before the valid record at `p` of `rest`: the
 * seq of the first message or SeqMark from `p` on (a SeqMark states the next seq to assign), or
 * Infinity when the valid records from `p` end before one.
 */
function boundAt(rest: Buffer, p: number, got: number, key: number): number {
  while (p < got) {
    const n = checkRecord(rest, p, got - p, key);
    if (n < 0) return Infinity;
    const t = rest[p + 4];
    if (t === RecordType.Msg || t === RecordType.Erased || t === RecordType.SeqMark) return readSeq(rest, p);
    p += n;
  }
  return Infinity;
}

/** Whether a lone record of `type` and `seq` fits between the last good seq `after` and `bound`. */
function fitsGap(type: number, seq: number, after: number, bound: number): boolean {
  if (bound === Infinity) return false;
  if (type === RecordType.Msg || type === RecordType.Erased) return seq > after && seq < bound;
  if (type === RecordType.SeqMark) return seq > after && seq <= bound;
  return type === RecordType.Tombstone ? seq < bound : seq <= bound;
}

/**
 * The offset of the first record after the damaged one at `from` that checks out under `key` and
 * is followed by another that does (or by the end of the file, or by a torn last record), or -1.
 * Before that point, a lone record (one that checks out but is followed by damage again) is taken
 * instead when it lies wholly before it and its seq fits the gap (`fitsGap`: above `after`, the
 * last good seq, and below the bound the confirmed point gives): a valid record between two
 * damaged ones is kept (docs/storage-format.md "Resynchronisation").
 * Reads the rest of the file once; tries every byte offset (checkRecord rejects almost all of
 * them on the length and type fields before computing a CRC).
 */
export function resyncPoint(fd: number, from: number, fileLen: number, key: number, after = Infinity): number {
  const rest = Buffer.allocUnsafe(fileLen - from);
  let got = 0;
  while (got < rest.length) {
    const r = readSync(fd, rest, got, rest.length - got, from + got);
    if (r === 0) break;
    got += r;
  }
  const lone: number[] = [];
  let p = -1;
  for (let q = 1; q + RECORD_OVERHEAD <= got; q++) {
    const n = checkRecord(rest, q, got - q, key);
    if (n < 0) continue;
    if (q + n === got) {
      p = q;
      break;
    }
    const m = checkRecord(rest, q + n, got - q - n, key);
    if (m > 0 || m === NEED_MORE) {
      p = q;
      break;
    }
    lone.push(q, n);
  }
  if (p < 0) return -1;
  if (lone.length > 0 && after !== Infinity) {
    const bound = boundAt(rest, p, got, key);
    for (let k = 0; k < lone.length; k += 2) {
      const q = lone[k];
      if (q + lone[k + 1] <= p && fitsGap(rest[q + 4], readSeq(rest, q), after, bound)) return from + q;
    }
  }
  return from + p;
}
