/**
 * The file store: a `MessageStore` over a directory of segment files (segment.ts), with group
 * commit (writer.ts), control records (marks.ts), index files for sealed segments (idxfile.ts),
 * compaction (compact.ts) and crash recovery (recovery.ts). Built by `openFileStore` (index.ts).
 *
 * Guarantees: an append is visible to reads at once (served from the pending chunk until written);
 * `whenDurable` fires only after the record is written and, under `sync: always`, fdatasynced;
 * deletes and purges are persisted by tombstone / floor records in the same group commit; every
 * record read from disk is CRC-checked and a bad one is reported and never served.
 * Costs: 12 bytes resident per message (16 in compacted segments), one small object per distinct
 * subject, one file descriptor per recently read segment (at most MAX_OPEN_SEGMENTS).
 */
import { closeSync, openSync, rmSync } from 'node:fs';
import { nowNs } from '../clock.js';
import { FilterKind, filterKind } from '../filter.js';
import { planPurge } from '../purge.js';
import type { ConsumerStore, MessageStore, PurgeOptions, StoredMsg, StoreState, SyncPolicy } from '../store.js';
import { checkNextSeq, SubjectEntry, SubjectIndex, type SubjectScanner } from '../subjects.js';
import { subjectMatches } from '../../core/subject.js';
import { ConsumerFiles, type RecoveredConsumers } from './consumer-log.js';
import { compactSegment, wantsCompaction, type CompactContext } from './compact.js';
import { encodeIndex, writeIndexFile, type SegmentFacts } from './idxfile.js';
import {
  accountedFromRecord,
  checkRecord,
  encodeErased,
  encodeMsg,
  FLAG_HEADERS,
  MAX_RECORD_BYTES,
  MAX_SUBJECT_BYTES,
  msgRecordLen,
  readSeq,
  reasonText,
  RECORD_HEADER_BYTES,
  RecordType,
} from './record.js';
import { HEAD_BYTES, Marks } from './marks.js';
import { findSegment, indexPath, segmentIndexFor, segmentPath, type RecoveredSegments } from './recovery.js';
import { DEAD_BIT, FdBudget, HDR_BIT, Segment, SIZE_MASK, type WriteTarget } from './segment.js';
import { damagedSlots } from './verify.js';
import { writeAll, Writer, type EraseOp } from './writer.js';
import type { FileLayer } from './fs-layer.js';
import { DATA_FILE_MODE } from '../modes.js';

/** Default segment size: small enough that compaction and recovery scans stay short (tens of ms). */
export const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;
/** Largest segment size accepted: offsets are 32-bit and records must fit under MAX_RECORD_BYTES. */
export const MAX_SEGMENT_BYTES = 1024 * 1024 * 1024;
/** Sealed-segment descriptors kept open for reads; older ones are closed and reopened on demand. */
export const MAX_OPEN_SEGMENTS = 64;

/** Settings of one open file store. */
export interface FileStoreConfig {
  dir: string;
  dirFd: number;
  sync: SyncPolicy;
  segmentBytes: number;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  lockPath: string;
  /** Called once the store has closed (releases the in-process open guard). */
  onClose(): void;
  /** Smallest consumer-state log that is compacted (consumer-log.ts COMPACT_MIN_BYTES). */
  consumerCompactBytes: number;
  /** The file layer of the write path (fs-layer.ts); tests inject faults through it. */
  files: FileLayer;
}

/** A file-backed `MessageStore` (see the module comment for guarantees and costs). */
export class FileStore implements MessageStore, SubjectScanner {
  readonly kind = 'file' as const;
  private segs: Segment[];
  private active!: Segment;
  private readonly subjects = new SubjectIndex(this);
  private readonly writer: Writer;
  private readonly budget: FdBudget;
  private count = 0;
  private bytes = 0;
  private firstSeq = 0;
  private lastSeq = 0;
  private lastTs = 0n;
  private nextId: number;
  private closed = false;
  private firstTsCache = { seq: 0, ts: 0n };
  /** Control records: segment-opening and high-water SeqMarks, floors, tombstones (marks.ts). */
  private readonly marks: Marks;
  /** Told how many live messages a rollback dropped (the stream rebuilds what it derives). */
  onRollback: ((lost: number) => void) | null = null;
  private readonly cctx: CompactContext;
  private readonly consumers: ConsumerFiles;
  /** Records that failed their CRC when read (never served). */
  corruptReads = 0;
  /** Damaged records found by checking segments loaded from index files (dropped as deletes). */
  corruptDropped = 0;
  private verifying: Promise<void> = Promise.resolve();

  constructor(
    private readonly cfg: FileStoreConfig,
    rec: RecoveredSegments,
    budget: FdBudget,
    consumers: RecoveredConsumers,
  ) {
    this.budget = budget;
    this.writer = new Writer(cfg.sync, cfg.dirFd, (op) => this.runErase(op), cfg.logger, cfg.files);
    this.marks = new Marks(
      {
        active: () => this.active,
        rotate: () => this.rotate(),
        lastSeq: () => this.lastSeq,
        lastTs: () => this.lastTs,
        gone: () => this.closed && this.segs.length === 0,
      },
      this.writer,
      cfg.segmentBytes,
      rec.lastSeq,
      rec.floor,
    );
    this.writer.onBatch = () => this.marks.highWater();
    this.writer.onRollback = (targets) => this.rolledBack(targets);
    this.consumers = new ConsumerFiles(cfg.dir, cfg.dirFd, this.writer, consumers, cfg.consumerCompactBytes, cfg.logger);
    this.cctx = {
      firstSeq: () => this.firstSeq,
      subjectOf: (id) => this.subjectOf(id),
      indexPath: (seg) => indexPath(cfg.dir, seg.id),
      dirFd: cfg.dirFd,
      fs: cfg.files,
      logger: cfg.logger,
    };
    this.segs = rec.segs;
    this.nextId = rec.nextId;
    this.lastSeq = rec.lastSeq;
    this.lastTs = rec.lastTs;
    for (let k = 0; k < this.segs.length; k++) this.adoptRecovered(this.segs[k], rec.facts[k]);
    const needIndex = new Map<Segment, ArrayLike<number>>();
    for (const s of rec.needIndex) needIndex.set(s, rec.facts[rec.segs.indexOf(s)].tombs);
    if (this.segs.length === 0) this.createSegment();
    else {
      // The recovered last segment stays active: its tombstones must reach its index file later.
      this.active = this.segs[this.segs.length - 1];
      this.active.tombs = Array.from(rec.facts[this.segs.length - 1].tombs);
    }
    if (this.active.size === 0) this.marks.mark(RecordType.SeqMark, this.lastSeq + 1);
    this.firstSeq = this.count === 0 ? this.lastSeq + 1 : this.findLiveFrom(this.firstSlotSeq());
    // Leading segments with nothing live are gone for good; the Floor keeps that true on disk.
    if (this.segs.length > 1 && this.segs[0].live === 0) {
      this.marks.mark(RecordType.Floor, this.firstSeq);
      this.retireFront();
    }
    for (const [s, tombs] of needIndex) if (!s.retired) this.queueIndex(s, tombs);
    const loaded = this.segs.filter((s) => s.sealed && !needIndex.has(s));
    this.verifying = Promise.all(loaded.map((s) => this.queueVerify(s))).then(() => undefined);
  }

  /** Resolves once every segment loaded from an index file was checked (verify.ts). */
  verified(): Promise<void> {
    return this.verifying;
  }

  private queueVerify(seg: Segment): Promise<void> {
    return new Promise((resolve) =>
      this.writer.addJob(async () => {
        try {
          for (const d of await damagedSlots(seg)) {
            if (this.closed) break;
            this.cfg.logger?.warn({ segment: seg.name, ...d }, 'file store: damaged record behind an index file dropped');
            this.corruptDropped++;
            this.delete(d.seq);
          }
        } finally {
          resolve();
        }
      }),
    );
  }

  // ---------------------------------------------------------------- appends

  append(subject: string, headers: Buffer | null, payload: Buffer, ts?: bigint): { seq: number; ts: bigint } {
    if (this.closed) throw new Error('store closed');
    const sl = Buffer.byteLength(subject);
    if (sl === 0 || sl > MAX_SUBJECT_BYTES) throw new RangeError(`subject length ${sl} out of range`);
    const hl = headers === null ? 0 : headers.length;
    const len = msgRecordLen(sl, hl, payload.length);
    if (len > MAX_RECORD_BYTES) throw new RangeError(`message of ${len} bytes too large`);
    const seq = this.lastSeq + 1;
    const t = ts ?? nowNs();
    let seg = this.active;
    if (
      seg.n > 0
        ? seg.size + len > this.cfg.segmentBytes || seg.seqOff !== null || seq !== seg.base + seg.n
        : seg.size > HEAD_BYTES && seg.size + len > this.cfg.segmentBytes
    ) {
      seg = this.rotate();
    }
    const w = this.writer;
    const off = w.reserve(seg, len);
    encodeMsg(w.buf, w.pos, len, seq, t, subject, sl, headers, payload, seg.key);
    const e = this.subjects.add(subject, seq);
    seg.push(seq, off, hl > 0 ? (len | HDR_BIT) >>> 0 : len, e.id);
    seg.maxSeq = seq;
    seg.lastTs = t;
    this.lastSeq = seq;
    this.lastTs = t;
    if (this.count === 0) this.firstSeq = seq;
    this.count++;
    this.bytes += accountedFromRecord(len, hl > 0);
    return { seq, ts: t };
  }

  whenDurable(cb: (err: Error | null) => void): void {
    this.writer.whenDurable(cb);
  }

  // ---------------------------------------------------------------- reads

  get(seq: number): StoredMsg | null {
    const seg = findSegment(this.segs, seq);
    if (seg === null) return null;
    const i = seg.slotOf(seq);
    if (i < 0 || (seg.sizes[i] & DEAD_BIT) !== 0) return null;
    return this.readSlot(seg, i, seq);
  }

  lastBySubject(filter: string): StoredMsg | null {
    const kind = filterKind(filter);
    if (kind === FilterKind.All) return this.count === 0 ? null : this.prevLive(this.lastSeq);
    let best = 0;
    for (const e of this.subjects.matching(filter)) {
      const l = this.subjects.lastOf(e);
      if (l > best) best = l;
    }
    return best === 0 ? null : this.get(best);
  }

  nextMatching(fromSeq: number, filter: string): StoredMsg | null {
    if (this.count === 0) return null;
    const kind = filterKind(filter);
    let from = Math.max(fromSeq, this.firstSeq);
    let to = this.lastSeq;
    let id = -1;
    if (kind === FilterKind.Literal) {
      const e = this.subjects.get(filter);
      if (e === undefined) return null;
      from = Math.max(from, this.subjects.firstOf(e));
      to = this.subjects.lastOf(e);
      id = e.id;
    }
    let memoId = -1;
    let memo = false;
    for (let k = segmentIndexFor(this.segs, from); k < this.segs.length; k++) {
      const seg = this.segs[k];
      for (let i = seg.slotAtOrAfter(from); i < seg.n; i++) {
        if ((seg.sizes[i] & DEAD_BIT) !== 0) continue;
        const seq = seg.seqAt(i);
        if (seq > to) return null;
        const sid = seg.subj[i];
        let hit: boolean;
        if (kind === FilterKind.All) hit = true;
        else if (kind === FilterKind.Literal) hit = sid === id;
        else {
          if (sid !== memoId) {
            memoId = sid;
            memo = subjectMatches(filter, this.subjectOf(sid));
          }
          hit = memo;
        }
        if (hit) {
          const m = this.readSlot(seg, i, seq);
          if (m !== null) return m;
        }
      }
    }
    return null;
  }

  countMatching(fromSeq: number, filter: string): number {
    if (this.count === 0) return 0;
    const kind = filterKind(filter);
    if (fromSeq <= this.firstSeq) {
      if (kind === FilterKind.All) return this.count;
      let n = 0;
      for (const e of this.subjects.matching(filter)) n += e.count;
      return n;
    }
    let id = -1;
    let to = this.lastSeq;
    let from = fromSeq;
    if (kind === FilterKind.Literal) {
      const e = this.subjects.get(filter);
      if (e === undefined) return 0;
      if (fromSeq <= this.subjects.firstOf(e)) return e.count;
      to = this.subjects.lastOf(e);
      id = e.id;
    }
    let n = 0;
    let memoId = -1;
    let memo = false;
    for (let k = segmentIndexFor(this.segs, from); k < this.segs.length; k++) {
      const seg = this.segs[k];
      for (let i = seg.slotAtOrAfter(from); i < seg.n; i++) {
        if ((seg.sizes[i] & DEAD_BIT) !== 0) continue;
        if (seg.seqAt(i) > to) return n;
        const sid = seg.subj[i];
        if (kind === FilterKind.All) n++;
        else if (kind === FilterKind.Literal) {
          if (sid === id) n++;
        } else {
          if (sid !== memoId) {
            memoId = sid;
            memo = subjectMatches(filter, this.subjectOf(sid));
          }
          if (memo) n++;
        }
      }
      from = 0;
    }
    return n;
  }

  subjectCounts(filter: string): Map<string, number> {
    return this.subjects.counts(filter);
  }

  subjectCount(subject: string): number {
    return this.subjects.countOf(subject);
  }

  firstSeqOfSubject(subject: string): number {
    return this.subjects.firstSeqOf(subject);
  }

  deletedSeqs(): number[] {
    const out: number[] = [];
    if (this.count === 0) return out;
    let prev = this.firstSeq - 1;
    for (let k = segmentIndexFor(this.segs, this.firstSeq); k < this.segs.length; k++) {
      const seg = this.segs[k];
      for (let i = 0; i < seg.n; i++) {
        if ((seg.sizes[i] & DEAD_BIT) !== 0) continue;
        const seq = seg.seqAt(i);
        if (seq < this.firstSeq) continue;
        for (let s = prev + 1; s < seq; s++) out.push(s);
        prev = seq;
      }
    }
    for (let s = prev + 1; s <= this.lastSeq; s++) out.push(s);
    return out;
  }

  msgSize(subject: string, headers: Buffer | null, payload: Buffer): number {
    const hl = headers === null ? 0 : headers.length;
    return accountedFromRecord(msgRecordLen(Buffer.byteLength(subject), hl, payload.length), hl > 0);
  }

  usedBytes(): number {
    return this.bytes;
  }

  /**
   * Counters in O(1). `firstTs` needs the first message's record, so it is a getter read on access
   * (and cached per first seq): limit checks that call state() per publish never touch the disk.
   */
  state(): StoreState {
    const empty = this.count === 0;
    const firstSeq = empty ? (this.lastSeq === 0 ? 0 : this.lastSeq + 1) : this.firstSeq;
    const store = this;
    return {
      messages: this.count,
      bytes: this.bytes,
      firstSeq,
      get firstTs(): bigint {
        return empty ? 0n : store.firstTsOf(firstSeq);
      },
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      numSubjects: this.subjects.size,
      numDeleted: empty ? 0 : this.lastSeq - firstSeq + 1 - this.count,
    };
  }

  private firstTsOf(seq: number): bigint {
    if (this.firstTsCache.seq !== seq) {
      const m = this.get(seq);
      this.firstTsCache = { seq, ts: m === null ? 0n : m.ts };
    }
    return this.firstTsCache.ts;
  }

  // ---------------------------------------------------------------- deletes

  delete(seq: number, erase?: boolean): boolean {
    if (this.closed) throw new Error('store closed');
    const seg = findSegment(this.segs, seq);
    if (seg === null) return false;
    const i = seg.slotOf(seq);
    if (i < 0 || !this.killSlot(seg, i, seq)) return false;
    if (erase === true) this.writer.erase({ seg, seq });
    if (seq === this.firstSeq) this.headMoved();
    else {
      this.marks.mark(RecordType.Tombstone, seq);
      if (wantsCompaction(seg, this.cfg.segmentBytes)) this.queueCompaction(seg);
    }
    return true;
  }

  purge(opts?: PurgeOptions): number {
    if (this.closed) throw new Error('store closed');
    const plan = planPurge(opts, this.lastSeq, (f) => this.countMatching(0, f));
    if (plan.op === 'none') return 0;
    if (plan.op === 'all') return this.purgeAll(plan.nextSeq);
    const { filter, kind, max, upTo } = plan;
    let id = -1;
    if (kind === FilterKind.Literal) id = (this.subjects.get(filter) as SubjectEntry).id;
    let purged = 0;
    // Kills that form an unbroken run from the first live seq are covered by one Floor record;
    // every later kill gets a tombstone, written as we go (no list of millions of seqs).
    let headRun = true;
    let headKilled = false;
    const touched = new Set<Segment>();
    outer: for (let k = segmentIndexFor(this.segs, this.firstSeq); k < this.segs.length; k++) {
      const seg = this.segs[k];
      for (let i = 0; i < seg.n; i++) {
        if (purged >= max) break outer;
        if ((seg.sizes[i] & DEAD_BIT) !== 0) continue;
        const seq = seg.seqAt(i);
        if (seq > upTo) break outer;
        const sid = seg.subj[i];
        const hit =
          kind === FilterKind.All || (kind === FilterKind.Literal ? sid === id : subjectMatches(filter, this.subjectOf(sid)));
        if (!hit) {
          headRun = false;
          continue;
        }
        this.killSlot(seg, i, seq);
        if (headRun) headKilled = true;
        else this.marks.mark(RecordType.Tombstone, seq);
        touched.add(seg);
        purged++;
      }
    }
    if (headKilled) this.headMoved();
    for (const seg of touched) if (wantsCompaction(seg, this.cfg.segmentBytes)) this.queueCompaction(seg);
    return purged;
  }

  setNextSeq(seq: number): void {
    if (this.closed) throw new Error('store closed');
    checkNextSeq(seq, this.lastSeq, this.count);
    if (seq === this.lastSeq + 1) return;
    this.lastSeq = seq - 1;
    this.firstSeq = seq;
    this.marks.mark(RecordType.Floor, seq);
    this.retireFront();
  }

  // ---------------------------------------------------------------- consumer state

  consumer(name: string): ConsumerStore {
    if (this.closed) throw new Error('store closed');
    return this.consumers.open(name);
  }

  consumerNames(): string[] {
    return this.consumers.names();
  }

  deleteConsumer(name: string): Promise<boolean> {
    if (this.closed) return Promise.reject(new Error('store closed'));
    return this.consumers.delete(name);
  }

  // ---------------------------------------------------------------- lifecycle

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.writer.drain(true);
    } finally {
      this.writer.stop();
      for (const s of this.segs) s.close();
      this.consumers.closeAll();
      // Unusable from here on: let the index arrays go even if the caller keeps the object.
      this.segs = [];
      this.subjects.clear();
      closeSync(this.cfg.dirFd);
      try {
        rmSync(this.cfg.lockPath, { force: true });
      } catch {
        /* already gone */
      }
      this.cfg.onClose();
    }
  }

  async destroy(): Promise<void> {
    if (!this.closed) {
      try {
        await this.close();
      } catch {
        /* the files go anyway */
      }
    }
    rmSync(this.cfg.dir, { recursive: true, force: true });
  }

  /** Counters for monitoring and benchmarks: batches, syncs, backlog, segments, resident index. */
  stats(): {
    batches: number;
    syncs: number;
    backlog: number;
    segments: number;
    indexBytes: number;
    corruptReads: number;
    consumerSwitches: number;
  } {
    let indexBytes = 0;
    for (const s of this.segs) indexBytes += s.indexBytes;
    return {
      batches: this.writer.batches,
      syncs: this.writer.syncs,
      backlog: this.writer.backlog,
      segments: this.segs.length,
      indexBytes,
      corruptReads: this.corruptReads,
      consumerSwitches: this.consumers.switches,
    };
  }

  // ---------------------------------------------------------------- SubjectScanner

  scanFirst(e: SubjectEntry, from: number, to: number): number {
    for (let k = segmentIndexFor(this.segs, from); k < this.segs.length; k++) {
      const seg = this.segs[k];
      for (let i = seg.slotAtOrAfter(from); i < seg.n; i++) {
        const seq = seg.seqAt(i);
        if (seq > to) return 0;
        if (seg.subj[i] === e.id && (seg.sizes[i] & DEAD_BIT) === 0) return seq;
      }
    }
    return 0;
  }

  scanLast(e: SubjectEntry, from: number, to: number): number {
    let k = segmentIndexFor(this.segs, to);
    if (k === this.segs.length) k--;
    for (; k >= 0; k--) {
      const seg = this.segs[k];
      let i = seg.slotAtOrAfter(to + 1) - 1;
      for (; i >= 0; i--) {
        const seq = seg.seqAt(i);
        if (seq < from) return 0;
        if (seg.subj[i] === e.id && (seg.sizes[i] & DEAD_BIT) === 0) return seq;
      }
    }
    return 0;
  }

  // ---------------------------------------------------------------- internals

  private subjectOf(id: number): string {
    const e = this.subjects.entryById(id);
    if (e === undefined) throw new Error(`no subject with id ${id}`);
    return e.subject;
  }

  /** Reads, checks and decodes slot i of `seg` (which holds `seq`). Null when the record is bad. */
  private readSlot(seg: Segment, i: number, seq: number): StoredMsg | null {
    const len = seg.sizes[i] & SIZE_MASK;
    const off = seg.offs[i];
    const b = seg.read(off, len);
    const ok = checkRecord(b, 0, len, seg.key);
    if (ok !== len || b[4] !== RecordType.Msg || readSeq(b, 0) !== seq) {
      this.corruptReads++;
      this.cfg.logger?.warn(
        { segment: seg.name, offset: off, seq, reason: ok < 0 ? reasonText(ok) : 'record does not match index' },
        'file store: corrupt record not served',
      );
      return null;
    }
    const sl = b.readUInt16LE(6);
    const hl = b.readUInt32LE(8);
    const hs = RECORD_HEADER_BYTES + sl;
    return {
      seq,
      subject: this.subjectOf(seg.subj[i]),
      headers: (b[5] & FLAG_HEADERS) !== 0 ? b.subarray(hs, hs + hl) : null,
      payload: b.subarray(hs + hl, len - 4),
      ts: b.readBigInt64LE(20),
    };
  }

  /** Newest live message at or below `seq`. */
  private prevLive(seq: number): StoredMsg | null {
    let k = segmentIndexFor(this.segs, seq);
    if (k === this.segs.length) k--;
    for (; k >= 0; k--) {
      const seg = this.segs[k];
      for (let i = seg.slotAtOrAfter(seq + 1) - 1; i >= 0; i--) {
        if ((seg.sizes[i] & DEAD_BIT) !== 0) continue;
        const m = this.readSlot(seg, i, seg.seqAt(i));
        if (m !== null) return m;
      }
    }
    return null;
  }

  /** Marks a live slot dead and updates every counter. False when it was dead already. */
  private killSlot(seg: Segment, i: number, seq: number): boolean {
    const bits = seg.sizes[i];
    if (!seg.kill(i)) return false;
    const e = this.subjects.entryById(seg.subj[i]);
    if (e !== undefined) this.subjects.remove(e, seq);
    this.count--;
    this.bytes -= accountedFromRecord(bits & SIZE_MASK, (bits & HDR_BIT) !== 0);
    return true;
  }

  /** First live seq at or after `seq`, or lastSeq + 1. */
  private findLiveFrom(seq: number): number {
    for (let k = segmentIndexFor(this.segs, seq); k < this.segs.length; k++) {
      const seg = this.segs[k];
      if (seg.live === 0) continue;
      for (let i = seg.slotAtOrAfter(seq); i < seg.n; i++) if ((seg.sizes[i] & DEAD_BIT) === 0) return seg.seqAt(i);
    }
    return this.lastSeq + 1;
  }

  private firstSlotSeq(): number {
    for (const s of this.segs) if (s.n > 0) return s.base;
    return this.lastSeq + 1;
  }

  /** The first live message went away: find the new one, persist the floor, drop dead segments. */
  private headMoved(): void {
    this.firstSeq = this.count === 0 ? this.lastSeq + 1 : this.findLiveFrom(this.firstSeq);
    this.marks.mark(RecordType.Floor, this.firstSeq);
    this.retireFront();
  }

  /** Retires leading sealed segments that hold nothing live (a Floor record was written first). */
  private retireFront(): void {
    while (this.segs.length > 1 && this.segs[0].live === 0 && this.segs[0] !== this.active) {
      const s = this.segs.shift() as Segment;
      this.retire(s);
      this.writer.addJob(() => this.removeFiles(s));
    }
  }

  private retire(s: Segment): void {
    s.retired = true;
  }

  /** Writer job: runs after every chunk reserved before the retirement was written and synced. */
  private async removeFiles(s: Segment): Promise<void> {
    this.writer.forget(s);
    s.close();
    for (const p of [s.path, indexPath(this.cfg.dir, s.id)]) {
      try {
        await this.cfg.files.unlink(p);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
  }

  private purgeAll(nextSeq: number): number {
    const purged = this.count;
    const old = this.segs;
    for (const s of old) this.retire(s);
    this.subjects.clear();
    this.count = 0;
    this.bytes = 0;
    if (nextSeq > this.lastSeq + 1) this.lastSeq = nextSeq - 1;
    this.firstSeq = this.lastSeq + 1;
    this.segs = [];
    this.active = this.createSegment();
    this.marks.mark(RecordType.Floor, this.firstSeq);
    for (const s of old) this.writer.addJob(() => this.removeFiles(s));
    return purged;
  }

  /** Creates the next segment file, makes it active and writes its SeqMark. */
  private createSegment(): Segment {
    const id = this.nextId++;
    const seg = new Segment(id, segmentPath(this.cfg.dir, id), this.budget);
    seg.adopt(openSync(seg.path, 'wx+', DATA_FILE_MODE));
    seg.needsDirSync = true;
    this.segs.push(seg);
    this.active = seg;
    this.marks.mark(RecordType.SeqMark, this.lastSeq + 1);
    return seg;
  }

  /** Seals the active segment (its index file is written once its data is) and starts a new one. */
  private rotate(): Segment {
    const old = this.active;
    old.sealed = true;
    old.trim();
    const tombs = old.tombs;
    old.tombs = [];
    this.queueIndex(old, tombs);
    return this.createSegment();
  }

  private queueIndex(seg: Segment, tombs: ArrayLike<number>): void {
    this.writer.addJob(async () => {
      if (seg.retired) return;
      await writeIndexFile(
        indexPath(this.cfg.dir, seg.id),
        encodeIndex(seg, tombs, (id) => this.subjectOf(id)),
      );
    });
  }

  private queueCompaction(seg: Segment): void {
    seg.compacting = true;
    this.writer.addJob(async () => {
      const reclaimed = await compactSegment(seg, this.cctx);
      if (reclaimed > 0) this.cfg.logger?.info({ segment: seg.name, reclaimed }, 'file store: compacted segment');
    });
  }

  /**
   * Writer callback after a batch failed for want of space (writer.ts `rollback`): the files in
   * `targets` were cut back. Message slots that pointed past the cut go (their seqs stay used: they
   * show as deleted and are never handed out again), segments left without their head are rewritten
   * or dropped, and deletes, the floor and the last seq whose records were lost are restated at
   * once in a new batch. Consumer logs write a fresh snapshot of their state (consumer-log.ts).
   */
  private rolledBack(targets: Set<WriteTarget>): void {
    let lost = 0;
    for (let k = this.segs.length - 1; k >= 0; k--) {
      const seg = this.segs[k];
      if (!targets.has(seg)) continue;
      while (seg.n > 0 && seg.offs[seg.n - 1] >= seg.size) {
        const i = seg.n - 1;
        if (this.killSlot(seg, i, seg.seqAt(i))) lost++;
        seg.n = i;
      }
      if (seg.size === 0 && seg !== this.active) {
        // Made and sealed inside the undone batch: nothing of it reached the disk.
        this.segs.splice(k, 1);
        this.retire(seg);
        this.writer.addJob(() => this.removeFiles(seg));
      }
    }
    this.firstSeq = this.count === 0 ? this.lastSeq + 1 : this.findLiveFrom(this.firstSeq);
    this.firstTsCache = { seq: 0, ts: 0n };
    this.marks.forgetWritten();
    if (this.active.size === 0) this.marks.mark(RecordType.SeqMark, this.lastSeq + 1);
    this.consumers.rolledBack(targets);
    this.marks.highWater();
    if (lost > 0) this.cfg.logger?.warn({ dir: this.cfg.dir, lost }, 'file store: appends undone for want of space');
    this.onRollback?.(lost);
  }

  /** Writer callback: overwrites `op.seq`'s record with an Erased one. Returns the segment written. */
  private async runErase(op: EraseOp): Promise<WriteTarget | null> {
    const seg = op.seg;
    if (seg.retired) return null;
    const i = seg.slotOf(op.seq);
    if (i < 0) return null;
    const len = seg.sizes[i] & SIZE_MASK;
    const off = seg.offs[i];
    if (off + len > seg.written) return null;
    const b = Buffer.allocUnsafe(len);
    encodeErased(b, 0, len, op.seq, this.lastTs, seg.key);
    seg.busy++;
    try {
      await writeAll(seg.open(), b, off, this.cfg.files);
    } finally {
      seg.busy--;
      // The slot is dead so the old bytes were never served, but they should not linger in memory.
      seg.dropReadAhead();
    }
    return seg;
  }

  /** Turns a recovered segment's local subject ids into global ones and counts what lives. */
  private adoptRecovered(seg: Segment, f: SegmentFacts): void {
    const nloc = f.subjects.length;
    const cnt = new Uint32Array(nloc);
    const first = new Float64Array(nloc);
    const last = new Float64Array(nloc);
    let live = 0;
    let liveBytes = 0;
    for (let i = 0; i < seg.n; i++) {
      const bits = seg.sizes[i];
      if ((bits & DEAD_BIT) !== 0) continue;
      const l = seg.subj[i];
      const seq = seg.seqAt(i);
      if (cnt[l] === 0) first[l] = seq;
      last[l] = seq;
      cnt[l]++;
      live++;
      liveBytes += bits & SIZE_MASK;
      this.bytes += accountedFromRecord(bits & SIZE_MASK, (bits & HDR_BIT) !== 0);
    }
    const g = new Uint32Array(nloc);
    for (let l = 0; l < nloc; l++) if (cnt[l] > 0) g[l] = this.subjects.addBulk(f.subjects[l], cnt[l], first[l], last[l]).id;
    for (let i = 0; i < seg.n; i++) if ((seg.sizes[i] & DEAD_BIT) === 0) seg.subj[i] = g[seg.subj[i]];
    seg.live = live;
    seg.liveBytes = liveBytes;
    this.count += live;
  }
}
