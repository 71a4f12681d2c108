/**
 * Full scan of one segment file: reads it front to back in windows, verifies every record's
 * length, type and CRC, and rebuilds the slot index. Stops at the first damaged record and says
 * where and why; the caller decides to truncate there.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  checkRecord,
  NEED_MORE,
  readSeq,
  reasonText,
  RECORD_HEADER_BYTES,
  RECORD_OVERHEAD,
  RecordType,
  MAX_RECORD_BYTES,
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

/** What a full scan found: the segment facts, plus where it had to stop, if anywhere. */
export interface ScanResult extends SegmentFacts {
  /** Null when every byte of the file formed valid records. */
  damage: Damage | null;
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

    while (pos < fileLen) {
      let o = pos - winStart;
      let avail = winStart + winLen - pos;
      let len = checkRecord(buf, o, avail);
      const want = Math.max(avail >= 4 ? Math.min(buf.readUInt32LE(o), MAX_RECORD_BYTES) : RECORD_OVERHEAD, RECORD_OVERHEAD);
      // Refill only when the record can fit in what is left of the file: a damaged length must
      // not make us allocate up to 1 GiB for a record that is torn anyway.
      if (len === NEED_MORE && winStart + winLen < fileLen && pos + want <= fileLen) {
        fill(want);
        o = 0;
        avail = winLen;
        prevSubjStart = -1;
        len = checkRecord(buf, o, avail);
      }
      if (len < 0) {
        let firstSeqLost: number | null = null;
        if (avail >= RECORD_HEADER_BYTES && buf[o + 4] === RecordType.Msg) {
          const s = readSeq(buf, o);
          if (s > seg.maxSeq && s <= seg.maxSeq + 1_000_000) firstSeqLost = s;
        }
        damage = { offset: pos, reason: reasonText(len), firstSeqLost };
        break;
      }
      const type = buf[o + 4];
      const seq = readSeq(buf, o);
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
      }
      if (type !== RecordType.Floor && type !== RecordType.SeqMark && seq > seg.maxSeq) seg.maxSeq = seq;
      // Kept as two numbers: a BigInt per record would dominate the scan's allocations.
      tsLo = buf.readUInt32LE(o + 20);
      tsHi = buf.readInt32LE(o + 24);
      pos += len;
    }
    if (pos > 0) seg.lastTs = (BigInt(tsHi) << 32n) + BigInt(tsLo);
    seg.size = pos;
    seg.written = pos;
    seg.trim();
    return { subjects, tombs, damage, fileLen };
  } finally {
    closeSync(fd);
  }
}
