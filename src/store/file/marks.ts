/**
 * The file store's control records (record.ts): the SeqMark that opens a segment, Floor and
 * Tombstone records for deletes, and the restating high-water SeqMark that closes each batch
 * (lastSeq + 1, the floor and the batch's tombstones), moved out of file-store.ts. It also keeps the
 * tombstones whose records are not durable yet, so that a batch undone for want of space
 * (writer.ts `rollback`) restates them in the next one.
 */
import {
  encodeKeyedMark,
  encodeMark,
  encodeRestatingMark,
  KEYED_MARK_BYTES,
  newSegmentKey,
  RECORD_OVERHEAD,
  RecordType,
  restatingMarkLen,
} from './record.js';
import type { Segment } from './segment.js';
import { MAX_PENDING_BYTES, type Writer } from './writer.js';

/** The two keyed SeqMarks that open a segment: a segment no longer than this holds no data yet. */
export const HEAD_BYTES = 2 * KEYED_MARK_BYTES;

/** What the marks read of their store (the store owns these; the marks never change them). */
export interface MarkHost {
  active(): Segment;
  /** Seals the active segment and starts a new one (whose SeqMark comes back through `mark`). */
  rotate(): Segment;
  lastSeq(): number;
  lastTs(): bigint;
  /** True once the store is closed with no segment left: nothing more may be written. */
  gone(): boolean;
}

/**
 * The control-record writer of one file store. Guarantees: every batch with appends, deletes or a
 * floor change ends with a mark that restates them, so one damaged record never makes recovery
 * reuse an acknowledged seq or undo a delete. Costs: 40 + 8n bytes per such batch (n tombstones),
 * and 16 bytes resident per tombstone until its batch is durable.
 */
export class Marks {
  /** lastSeq as of the last high-water SeqMark written (highWater). */
  private markedSeq: number;
  /** Largest Floor written or recovered, the one the last restating mark carried, and the
   * tombstone seqs written since it (highWater repeats them). */
  private floorMark: number;
  private markedFloor: number;
  private batchTombs: number[] = [];
  /** Tombstone seqs whose records are not durable yet, and the writer generation of each: a
   * rollback restates them (`forgetWritten`). Pruned as batches complete. */
  private unsureTombs: number[] = [];
  private unsureGens: number[] = [];

  constructor(
    private readonly host: MarkHost,
    private readonly writer: Writer,
    private readonly segmentBytes: number,
    lastSeq: number,
    floor: number,
  ) {
    this.markedSeq = lastSeq;
    this.floorMark = this.markedFloor = floor;
  }

  /**
   * Appends a body-less control record to the active segment. A SeqMark that opens a segment is
   * written twice, keyed (record.ts `encodeKeyedMark`): it gives the segment its CRC key.
   */
  mark(type: RecordType, seq: number): void {
    let seg = this.host.active();
    if (type !== RecordType.SeqMark && seg.size > HEAD_BYTES && seg.size + RECORD_OVERHEAD > this.segmentBytes)
      seg = this.host.rotate();
    const w = this.writer;
    const lastTs = this.host.lastTs();
    if (type === RecordType.SeqMark && seg.size === 0) {
      seg.key = newSegmentKey();
      for (let k = 0; k < 2; k++) {
        w.reserve(seg, KEYED_MARK_BYTES);
        encodeKeyedMark(w.buf, w.pos, seq, lastTs, seg.key);
      }
    } else {
      w.reserve(seg, RECORD_OVERHEAD);
      encodeMark(w.buf, w.pos, type, seq, lastTs, seg.key);
    }
    seg.lastTs = lastTs;
    if (type === RecordType.Tombstone) {
      seg.tombs.push(seq);
      this.batchTombs.push(seq);
      this.unsure(seq);
      if (seq > seg.maxSeq) seg.maxSeq = seq;
    } else if (type === RecordType.Floor) {
      if (seq > seg.maxFloor) seg.maxFloor = seq;
      if (seq > this.floorMark) this.floorMark = seq;
    } else if (seq > seg.seqMark) seg.seqMark = seq;
  }

  /**
   * Writer hook, once per batch with appends or deletes: a restating SeqMark (lastSeq + 1, the
   * floor, the batch's tombstones; 40 + 8n bytes) closes it, so no one damaged record makes recovery
   * reuse an acknowledged seq or undo a delete. Past the write backlog (~13M tombstones in a turn)
   * it falls back to a plain mark: such a damaged delete is then reported, not restored.
   */
  highWater(): void {
    if (this.host.gone()) return;
    this.pruneUnsure();
    const lastSeq = this.host.lastSeq();
    if (lastSeq <= this.markedSeq && this.batchTombs.length === 0 && this.floorMark <= this.markedFloor) return;
    this.markedSeq = lastSeq;
    this.markedFloor = this.floorMark;
    const seg = this.host.active();
    const seq = lastSeq + 1;
    const lastTs = this.host.lastTs();
    const len = restatingMarkLen(this.batchTombs.length);
    this.batchTombs = this.writer.backlog + len > MAX_PENDING_BYTES ? [] : this.batchTombs;
    if (this.batchTombs.length === 0 && len > restatingMarkLen(0)) return this.mark(RecordType.SeqMark, seq);
    this.writer.reserve(seg, len);
    encodeRestatingMark(this.writer.buf, this.writer.pos, seq, lastTs, this.floorMark, this.batchTombs, seg.key);
    for (const t of this.batchTombs) this.unsure(t);
    this.batchTombs = [];
    seg.lastTs = lastTs;
    if (seq > seg.seqMark) seg.seqMark = seq;
  }

  /**
   * After a rollback: every tombstone not known durable goes into the next restating mark, and the
   * next `highWater` restates lastSeq and the floor whatever was marked before.
   */
  forgetWritten(): void {
    const tombs = new Set([...this.unsureTombs, ...this.batchTombs]);
    this.unsureTombs = [];
    this.unsureGens = [];
    this.batchTombs = [...tombs];
    this.markedSeq = 0;
    this.markedFloor = 0;
  }

  private unsure(seq: number): void {
    this.unsureTombs.push(seq);
    this.unsureGens.push(this.writer.generation);
  }

  private pruneUnsure(): void {
    const done = this.writer.durableGeneration;
    let k = 0;
    while (k < this.unsureGens.length && this.unsureGens[k] <= done) k++;
    if (k === 0) return;
    this.unsureTombs.splice(0, k);
    this.unsureGens.splice(0, k);
  }
}
