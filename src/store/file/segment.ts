/**
 * One segment: an append-only file of records (record.ts) plus its resident index. The index is
 * three typed arrays with one slot per message record, in seq order:
 *
 * - `offs`  u32: the record's offset in the file;
 * - `sizes` u32: record length (bits 0–29), "has header bytes" (bit 30), dead (bit 31);
 * - `subj`  u32: the subject's id in the store's SubjectIndex.
 *
 * That is 12 bytes per message. Slots are dense (slot i holds seq base+i) for every segment that was
 * written by appends; a compacted segment has gaps and then also keeps `seqOff` (u32 seq - base
 * per slot, 16 bytes per message in all) and is searched by bisection. Nothing else is kept per
 * message: timestamps, headers and payloads are read from the file (or from the not-yet-written
 * chunks) on demand.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { MAX_RECORD_BYTES } from './record.js';

/** `sizes[i]` bits 0–29: the record's length. */
export const SIZE_MASK = MAX_RECORD_BYTES;
/** `sizes[i]` bit 30: the message has header bytes (they count 4 + H in byte accounting). */
export const HDR_BIT = 0x4000_0000;
/** `sizes[i]` bit 31: the message is deleted. */
export const DEAD_BIT = 0x8000_0000;

/** Initial slot capacity of an active segment's arrays; they double as it fills. */
const INITIAL_SLOTS = 1024;

/**
 * Bytes one read-ahead takes from the file when reads walk a segment forward (a consumer catching
 * up, a replay): one `pread` then serves ~120 records of 1 KB instead of one syscall and one
 * allocation each (measured: the per-record `pread` was ~23% of herald's busy time in pull
 * consume). Large enough to amortise the syscall, small enough that a window kept alive by one
 * still-referenced message view costs little.
 */
export const READ_AHEAD_BYTES = 128 * 1024;

/**
 * Largest gap (bytes skipped since the previous read) that still counts as a forward walk. A
 * filtered consumer whose matches lie further apart reads just its records: each window would
 * otherwise copy up to `READ_AHEAD_BYTES` to serve one or two of them. With this cap a window
 * serves at least ~15 records (128 KiB / 8 KiB).
 */
export const READ_AHEAD_MAX_GAP = 8 * 1024;

/**
 * Read-ahead windows one segment keeps: one per reader walking it at once (fan-out to several
 * consumers at different positions), so they do not evict each other's window at every read.
 * Memory: at most this × `READ_AHEAD_BYTES` (384 KiB) per segment with descriptors open.
 */
export const READ_AHEAD_WINDOWS = 3;

/**
 * A file the group-commit writer appends to: a message segment or a consumer-state log. `size` is
 * the logical length (written + pending), `written` what the OS has; `busy` counts I/O in flight on
 * the descriptor `open()` returns; `needsDirSync` asks the writer to fsync the store directory.
 */
export interface WriteTarget {
  readonly name: string;
  size: number;
  written: number;
  readonly pending: Chunk[];
  needsDirSync: boolean;
  busy: number;
  /** Within a batch, files are written in ascending order: 0 message segments, 1 consumer logs. */
  readonly writeOrder: number;
  open(): number;
}

/**
 * Encoded records bound for one file at file offset `off`, not yet (completely) written. Owned by
 * the writer; reads of records in it copy them out.
 */
export interface Chunk {
  seg: WriteTarget;
  buf: Buffer;
  off: number;
  len: number;
  /** Still taking records (no batch has taken it yet). */
  open: boolean;
}

/** Monotonic use counter for least-recently-used descriptor eviction. */
let useClock = 0;

/**
 * Caps the file descriptors one store keeps open for reading sealed segments. Costs one Set entry
 * per open segment; evicting scans the open set (bounded by `max`).
 */
export class FdBudget {
  private readonly open = new Set<Segment>();
  constructor(readonly max: number) {}

  opened(seg: Segment): void {
    this.open.add(seg);
    if (this.open.size > this.max) this.evict();
  }

  closed(seg: Segment): void {
    this.open.delete(seg);
  }

  get size(): number {
    return this.open.size;
  }

  private evict(): void {
    let victim: Segment | null = null;
    for (const s of this.open) {
      if (s.busy > 0 || !s.sealed) continue;
      if (victim === null || s.lastUse < victim.lastUse) victim = s;
    }
    victim?.close();
  }
}

/** Format a segment number as its file-name stem (fixed width, so names sort). */
export function segmentName(id: number): string {
  return `seg-${String(id).padStart(10, '0')}`;
}

/**
 * A segment file and its index. Costs 12 (dense) or 16 (sparse) bytes per message slot plus one
 * file descriptor while open. Reads are synchronous `pread`s of exactly one record.
 */
export class Segment implements WriteTarget {
  readonly name: string;
  fd = -1;
  /** Seq of slot 0 (meaningful once n > 0). */
  base = 0;
  /** Slots in use. */
  n = 0;
  offs: Uint32Array;
  sizes: Uint32Array;
  subj: Uint32Array;
  /** seq - base per slot for a sparse (compacted) segment; null when dense. */
  seqOff: Uint32Array | null = null;
  /** Live slots and the record bytes they occupy. */
  live = 0;
  liveBytes = 0;
  /** Logical file length: written bytes plus bytes waiting in chunks. */
  size = 0;
  /**
   * Bytes whose write completed: records below this are read from the file. Lowering it (a
   * rolled-back batch, a compaction) drops the read-ahead windows, whose bytes may be rewritten.
   */
  get written(): number {
    return this.writtenBytes;
  }
  set written(v: number) {
    if (v < this.writtenBytes) this.dropReadAhead();
    this.writtenBytes = v;
  }
  private writtenBytes = 0;
  /** Read-ahead windows: window k holds file bytes [raOff[k], raOff[k] + raBuf[k].length). */
  private readonly raBuf: (Buffer | null)[] = new Array<Buffer | null>(READ_AHEAD_WINDOWS).fill(null);
  private readonly raOff: number[] = new Array<number>(READ_AHEAD_WINDOWS).fill(0);
  /** Which window a read-ahead that continues no window's walk replaces (round robin). */
  private raNext = 0;
  /** End offset of the last read, to tell a forward walk (read ahead) from random access (don't). */
  private lastReadEnd = 0;
  /** Chunks of this segment not yet written, in file order. */
  readonly pending: Chunk[] = [];
  /** No more appends go here (a newer segment exists). */
  sealed = false;
  /** Removed from the store; the writer deletes its files. */
  retired = false;
  /** A compaction job is queued or running. */
  compacting = false;
  /** Its file was created in this process and the directory entry is not yet fsynced. */
  needsDirSync = false;
  /** Largest seq of any record in the file (messages and control records). */
  maxSeq = 0;
  /** Timestamp field of the last record in the file. */
  lastTs = 0n;
  /** Control-record facts for the index file, kept only while the segment is active. */
  tombs: number[] = [];
  maxFloor = 0;
  seqMark = 0;
  /** Last use, for closing least-recently-used descriptors. */
  lastUse = 0;
  /** Async operations in flight on `fd`; it must not be closed while non-zero. */
  busy = 0;
  readonly writeOrder = 0;
  /** Seed of every record CRC in this file (record.ts `segmentKeyOf`); 0 for older segments. */
  key = 0;

  constructor(
    readonly id: number,
    readonly path: string,
    private readonly budget: FdBudget,
    capacity = INITIAL_SLOTS,
  ) {
    this.name = segmentName(id);
    this.offs = new Uint32Array(capacity);
    this.sizes = new Uint32Array(capacity);
    this.subj = new Uint32Array(capacity);
  }

  /** Seq held by slot i. */
  seqAt(i: number): number {
    return this.seqOff === null ? this.base + i : this.base + this.seqOff[i];
  }

  /** Last slot's seq, or 0 when the segment has no message slots. */
  get lastSlotSeq(): number {
    return this.n === 0 ? 0 : this.seqAt(this.n - 1);
  }

  /** Slot holding `seq`, or -1. */
  slotOf(seq: number): number {
    if (this.n === 0) return -1;
    const d = seq - this.base;
    if (d < 0) return -1;
    const so = this.seqOff;
    if (so === null) return d < this.n ? d : -1;
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = so[mid];
      if (v === d) return mid;
      if (v < d) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** First slot whose seq is >= `seq` (n when none). */
  slotAtOrAfter(seq: number): number {
    if (this.n === 0) return 0;
    const d = seq - this.base;
    if (d <= 0) return 0;
    const so = this.seqOff;
    if (so === null) return Math.min(d, this.n);
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (so[mid] < d) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  isLive(i: number): boolean {
    return (this.sizes[i] & DEAD_BIT) === 0;
  }

  recordLen(i: number): number {
    return this.sizes[i] & SIZE_MASK;
  }

  /**
   * Adds a slot for a message record at `off`. Dense segments need seq = base + n; a sparse one
   * (after `makeSparse`) takes any increasing seq.
   */
  push(seq: number, off: number, sizeBits: number, subjId: number): void {
    if (this.n === 0) this.base = seq;
    const i = this.n;
    if (i === this.offs.length) this.grow(Math.max(16, i * 2));
    if (this.seqOff !== null) this.seqOff[i] = seq - this.base;
    this.offs[i] = off;
    this.sizes[i] = sizeBits;
    this.subj[i] = subjId;
    this.n = i + 1;
    if ((sizeBits & DEAD_BIT) === 0) {
      this.live++;
      this.liveBytes += sizeBits & SIZE_MASK;
    }
  }

  /** Marks slot i dead; returns false when it already was. */
  kill(i: number): boolean {
    const s = this.sizes[i];
    if ((s & DEAD_BIT) !== 0) return false;
    this.sizes[i] = (s | DEAD_BIT) >>> 0;
    this.live--;
    this.liveBytes -= s & SIZE_MASK;
    return true;
  }

  /** Shrinks the arrays to n slots (a sealed segment never grows again). */
  trim(): void {
    if (this.offs.length !== this.n) this.grow(this.n);
  }

  private grow(cap: number): void {
    const o = new Uint32Array(cap);
    o.set(this.offs.subarray(0, this.n));
    this.offs = o;
    const s = new Uint32Array(cap);
    s.set(this.sizes.subarray(0, this.n));
    this.sizes = s;
    const j = new Uint32Array(cap);
    j.set(this.subj.subarray(0, this.n));
    this.subj = j;
    if (this.seqOff !== null) {
      const q = new Uint32Array(cap);
      q.set(this.seqOff.subarray(0, this.n));
      this.seqOff = q;
    }
  }

  /** Switches to explicit seq offsets (a gap in seqs was found while scanning). */
  makeSparse(): void {
    if (this.seqOff !== null) return;
    const q = new Uint32Array(this.offs.length);
    for (let i = 0; i < this.n; i++) q[i] = i;
    this.seqOff = q;
  }

  /** Resident bytes of the index arrays. */
  get indexBytes(): number {
    return this.offs.byteLength + this.sizes.byteLength + this.subj.byteLength + (this.seqOff?.byteLength ?? 0);
  }

  /** Opens the file read-write if it is closed. */
  open(): number {
    this.lastUse = ++useClock;
    if (this.fd < 0) {
      this.fd = openSync(this.path, 'r+');
      this.budget.opened(this);
    }
    return this.fd;
  }

  /** Adopts an already open descriptor (a freshly created file). */
  adopt(fd: number): void {
    this.close();
    this.fd = fd;
    this.lastUse = ++useClock;
    this.budget.opened(this);
  }

  /** Forgets the read-ahead windows: their bytes are about to change (erase, compaction, rollback). */
  dropReadAhead(): void {
    this.raBuf.fill(null);
  }

  close(): void {
    this.dropReadAhead();
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.budget.closed(this);
      closeSync(fd);
    }
  }

  /**
   * The bytes of the record at `off` (`len` long). Written records come from a read-ahead window
   * when one holds them (a view into it: callers must not write into the result), else from one
   * `pread`: of `READ_AHEAD_BYTES` when this read continues a forward walk, of just the record
   * otherwise, so random access (direct get) pays no read-ahead. Pending records are copied out of
   * their chunk. File bytes below `written` only change by an erase, a compaction or a rollback,
   * and each of those drops the windows first, so a window never serves stale bytes; the caller
   * CRC-checks every record it gets either way.
   */
  read(off: number, len: number): Buffer {
    const end = off + len;
    if (end <= this.writtenBytes) {
      const prev = this.lastReadEnd;
      this.lastReadEnd = end;
      // A record just past a window's end continues that window's walk, whoever read last.
      let forward = off >= prev && off - prev <= READ_AHEAD_MAX_GAP;
      let slot = -1;
      for (let k = 0; k < READ_AHEAD_WINDOWS; k++) {
        const ra = this.raBuf[k];
        if (ra === null) continue;
        const o = this.raOff[k];
        if (off >= o && end <= o + ra.length) return ra.subarray(off - o, end - o);
        if (off >= o && off <= o + ra.length + READ_AHEAD_MAX_GAP) slot = k;
      }
      if (slot >= 0) forward = true;
      const want = forward ? Math.min(Math.max(len, READ_AHEAD_BYTES), this.writtenBytes - off) : len;
      const out = Buffer.allocUnsafe(want);
      const fd = this.open();
      let got = 0;
      while (got < len) {
        const r = readSync(fd, out, got, want - got, off + got);
        if (r === 0) throw new Error(`${this.name}: short read at ${off + got}`);
        got += r;
      }
      if (want === len) return out;
      // The walk's own window is done with; a new walk takes the next one round robin.
      let k = slot;
      if (k < 0) {
        k = this.raNext;
        this.raNext = (k + 1) % READ_AHEAD_WINDOWS;
      }
      this.raBuf[k] = got === want ? out : out.subarray(0, got);
      this.raOff[k] = off;
      return out.subarray(0, len);
    }
    const out = Buffer.allocUnsafe(len);
    for (let k = 0; k < this.pending.length; k++) {
      const c = this.pending[k];
      if (off >= c.off && end <= c.off + c.len) {
        c.buf.copy(out, 0, off - c.off, off - c.off + len);
        return out;
      }
    }
    throw new Error(`${this.name}: record at ${off} is neither written nor pending`);
  }
}
