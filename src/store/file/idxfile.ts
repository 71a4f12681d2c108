/**
 * Index files (`seg-N.idx`): a sealed segment's resident index saved next to it, so opening a store
 * reads 12–16 bytes per message instead of re-parsing every record. An index file is only a cache:
 * it carries the segment's length and a CRC over itself, and when either does not match (missing,
 * torn, stale after a crash mid-compaction) recovery re-scans the segment and writes a new one.
 *
 * Layout (little-endian):
 * ```
 *  0  8   magic "HRLDIDX1"
 *  8  u32 slots n          12 u32 flags (bit 0: sparse, seqOff present)
 * 16  u32 local subjects   20 u32 tombstones t
 * 24  f64 base seq         32 f64 max seq of any record
 * 40  f64 max floor        48 f64 seq mark
 * 56  i64 ts of the last record
 * 64  f64 segment length the index describes
 * 72  u32 offs[n], u32 sizes[n], u32 local subject ids[n], (u32 seqOff[n]), f64 tombstones[t],
 *     then per local subject: u16 byte length + UTF-8 bytes
 *  …  u32 CRC-32 of everything before it
 * ```
 * Slot sizes carry the dead bit for messages already deleted when the file was written (a delete
 * is permanent, so that is always safe); dead slots have subject id 0xFFFFFFFF.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { writeFile, rename } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { DEAD_BIT, Segment } from './segment.js';
import { DATA_FILE_MODE } from '../modes.js';

const MAGIC = 'HRLDIDX1';
const HEAD_BYTES = 72;
/** Local subject id of a dead slot. */
export const NO_SUBJECT = 0xffff_ffff;

/** What loading a segment (from its index file or by scanning it) yields besides the slots. */
export interface SegmentFacts {
  /** Local subject table: `seg.subj` holds indexes into it until the store maps them to global ids. */
  subjects: string[];
  /** Seqs deleted by tombstones stored in this segment. */
  tombs: ArrayLike<number>;
}

/** Serialises `seg` (whose `subj` holds global ids resolved by `subjectOf`) to index-file bytes. */
export function encodeIndex(seg: Segment, tombs: ArrayLike<number>, subjectOf: (id: number) => string): Buffer {
  const n = seg.n;
  const local = new Map<number, number>();
  const names: Buffer[] = [];
  const lsubj = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    if ((seg.sizes[i] & DEAD_BIT) !== 0) {
      lsubj[i] = NO_SUBJECT;
      continue;
    }
    const g = seg.subj[i];
    let l = local.get(g);
    if (l === undefined) {
      l = names.length;
      local.set(g, l);
      names.push(Buffer.from(subjectOf(g), 'utf8'));
    }
    lsubj[i] = l;
  }
  const sparse = seg.seqOff !== null;
  let namesLen = 0;
  for (const b of names) namesLen += 2 + b.length;
  const total = HEAD_BYTES + n * 4 * (sparse ? 4 : 3) + tombs.length * 8 + namesLen + 4;
  const out = Buffer.alloc(total);
  out.write(MAGIC, 0, 'latin1');
  out.writeUInt32LE(n, 8);
  out.writeUInt32LE(sparse ? 1 : 0, 12);
  out.writeUInt32LE(names.length, 16);
  out.writeUInt32LE(tombs.length, 20);
  out.writeDoubleLE(seg.base, 24);
  out.writeDoubleLE(seg.maxSeq, 32);
  out.writeDoubleLE(seg.maxFloor, 40);
  out.writeDoubleLE(seg.seqMark, 48);
  out.writeBigInt64LE(seg.lastTs, 56);
  out.writeDoubleLE(seg.size, 64);
  let p = HEAD_BYTES;
  const put = (a: Uint32Array): void => {
    Buffer.from(a.buffer, a.byteOffset, n * 4).copy(out, p);
    p += n * 4;
  };
  put(seg.offs);
  put(seg.sizes);
  put(lsubj);
  if (seg.seqOff !== null) put(seg.seqOff);
  for (let i = 0; i < tombs.length; i++, p += 8) out.writeDoubleLE(tombs[i], p);
  for (const b of names) {
    out.writeUInt16LE(b.length, p);
    b.copy(out, p + 2);
    p += 2 + b.length;
  }
  out.writeUInt32LE(crc32(out.subarray(0, p)), p);
  return out;
}

/** Writes an index file atomically enough: temp file, then rename (no fsync; the CRC guards it). */
export async function writeIndexFile(path: string, bytes: Buffer): Promise<void> {
  await writeFile(path + '.tmp', bytes, { mode: DATA_FILE_MODE });
  await rename(path + '.tmp', path);
}

/** Synchronous twin of `writeIndexFile`, for recovery. */
export function writeIndexFileSync(path: string, bytes: Buffer): void {
  writeFileSync(path + '.tmp', bytes, { mode: DATA_FILE_MODE });
  renameSync(path + '.tmp', path);
}

function readU32s(b: Buffer, p: number, n: number): Uint32Array {
  const a = new Uint32Array(n);
  b.copy(Buffer.from(a.buffer), 0, p, p + n * 4);
  return a;
}

/**
 * Loads `seg`'s index from `path` when it is intact and describes a segment file of exactly
 * `fileLen` bytes; returns null otherwise (the caller then scans the segment).
 */
export function loadIndexFile(path: string, seg: Segment, fileLen: number): SegmentFacts | null {
  let b: Buffer;
  try {
    b = readFileSync(path);
  } catch {
    return null;
  }
  if (b.length < HEAD_BYTES + 4 || b.toString('latin1', 0, 8) !== MAGIC) return null;
  const end = b.length - 4;
  if (crc32(b.subarray(0, end)) !== b.readUInt32LE(end)) return null;
  if (b.readDoubleLE(64) !== fileLen) return null;
  const n = b.readUInt32LE(8);
  const sparse = (b.readUInt32LE(12) & 1) === 1;
  const nsub = b.readUInt32LE(16);
  const nt = b.readUInt32LE(20);
  let p = HEAD_BYTES;
  if (p + n * 4 * (sparse ? 4 : 3) + nt * 8 > end) return null;
  seg.n = n;
  seg.base = b.readDoubleLE(24);
  seg.maxSeq = b.readDoubleLE(32);
  seg.maxFloor = b.readDoubleLE(40);
  seg.seqMark = b.readDoubleLE(48);
  seg.lastTs = b.readBigInt64LE(56);
  seg.offs = readU32s(b, p, n);
  p += n * 4;
  seg.sizes = readU32s(b, p, n);
  p += n * 4;
  seg.subj = readU32s(b, p, n);
  p += n * 4;
  if (sparse) {
    seg.seqOff = readU32s(b, p, n);
    p += n * 4;
  }
  const tombs = new Float64Array(nt);
  for (let i = 0; i < nt; i++, p += 8) tombs[i] = b.readDoubleLE(p);
  const subjects: string[] = new Array(nsub);
  for (let i = 0; i < nsub; i++) {
    if (p + 2 > end) return null;
    const l = b.readUInt16LE(p);
    if (p + 2 + l > end) return null;
    subjects[i] = b.toString('utf8', p + 2, p + 2 + l);
    p += 2 + l;
  }
  if (p !== end) return null;
  seg.size = fileLen;
  seg.written = fileLen;
  return { subjects, tombs };
}
