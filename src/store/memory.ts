/**
 * The memory store: every message lives in a JS array slot indexed by `seq - base`, nothing
 * survives a restart. Reads are O(1) by seq; filtered scans walk the array. Costs one object plus
 * one Buffer (headers and payload copied together, so no socket read buffer is kept alive) per
 * message, around 150 bytes of overhead each.
 */
import { nowNs } from './clock.js';
import { FilterKind, filterKind, filterMatches } from './filter.js';
import { planPurge } from './purge.js';
import { MemoryConsumers } from './consumer-state.js';
import type { ConsumerStore, MessageStore, PurgeOptions, StoredMsg, StoreState } from './store.js';
import { checkNextSeq, SubjectEntry, SubjectIndex, type SubjectScanner } from './subjects.js';

/** Leading empty slots tolerated before the array is re-based; amortises the O(n) slice. */
const REBASE_MIN_SLOTS = 1024;

/** One stored message; the subject entry rides along so a delete needs no Map look-up. */
class MemMsg implements StoredMsg {
  constructor(
    readonly seq: number,
    readonly subject: string,
    readonly headers: Buffer | null,
    readonly payload: Buffer,
    readonly ts: bigint,
    readonly entry: SubjectEntry,
  ) {}
}

/** Bytes a message counts for in a memory store (specs/nats.md §4 "Byte accounting"). */
export function memoryMsgSize(subject: string, headers: Buffer | null, payload: Buffer): number {
  return Buffer.byteLength(subject) + (headers === null ? 0 : headers.length) + payload.length + 16;
}

/**
 * A `MessageStore` held entirely in memory. `whenDurable` calls back on the next tick (there is no
 * disk to wait for). Buffers returned by reads are the store's own copy: callers must not mutate
 * them. Everything else is as the interface states.
 */
export class MemoryStore implements MessageStore, SubjectScanner {
  readonly kind = 'memory' as const;
  private msgs: (MemMsg | undefined)[] = [];
  /** Seq of msgs[0]. */
  private base = 1;
  /** Index of the first live slot (or msgs.length when empty). */
  private head = 0;
  private lastSeq = 0;
  private lastTs = 0n;
  private count = 0;
  private bytes = 0;
  private closed = false;
  private readonly subjects = new SubjectIndex(this);
  private readonly consumers = new MemoryConsumers();

  append(subject: string, headers: Buffer | null, payload: Buffer, ts?: bigint): { seq: number; ts: bigint } {
    if (this.closed) throw new Error('store closed');
    const seq = this.lastSeq + 1;
    const t = ts ?? nowNs();
    const hl = headers === null ? 0 : headers.length;
    const buf = Buffer.allocUnsafe(hl + payload.length);
    if (headers !== null) headers.copy(buf, 0);
    payload.copy(buf, hl);
    const entry = this.subjects.add(subject, seq);
    const m = new MemMsg(seq, subject, headers === null ? null : buf.subarray(0, hl), buf.subarray(hl), t, entry);
    if (this.count === 0) {
      this.msgs.length = 0;
      this.base = seq;
      this.head = 0;
    }
    this.msgs.push(m);
    this.lastSeq = seq;
    this.lastTs = t;
    this.count++;
    this.bytes += memoryMsgSize(subject, headers, payload);
    return { seq, ts: t };
  }

  whenDurable(cb: (err: Error | null) => void): void {
    process.nextTick(cb, null);
  }

  get(seq: number): StoredMsg | null {
    const i = seq - this.base;
    if (i < this.head || i >= this.msgs.length) return null;
    return this.msgs[i] ?? null;
  }

  lastBySubject(filter: string): StoredMsg | null {
    const kind = filterKind(filter);
    if (kind === FilterKind.All) {
      for (let i = this.msgs.length - 1; i >= this.head; i--) {
        const m = this.msgs[i];
        if (m !== undefined) return m;
      }
      return null;
    }
    let best = 0;
    for (const e of this.subjects.matching(filter)) {
      const l = this.subjects.lastOf(e);
      if (l > best) best = l;
    }
    return best === 0 ? null : this.get(best);
  }

  nextMatching(fromSeq: number, filter: string): StoredMsg | null {
    const kind = filterKind(filter);
    let from = Math.max(fromSeq, this.base + this.head);
    let to = this.lastSeq;
    if (kind === FilterKind.Literal) {
      const e = this.subjects.get(filter);
      if (e === undefined) return null;
      from = Math.max(from, this.subjects.firstOf(e));
      to = this.subjects.lastOf(e);
    }
    for (let i = from - this.base; i <= to - this.base; i++) {
      const m = this.msgs[i];
      if (m !== undefined && filterMatches(kind, filter, m.subject)) return m;
    }
    return null;
  }

  countMatching(fromSeq: number, filter: string): number {
    if (this.count === 0) return 0;
    const kind = filterKind(filter);
    const first = this.base + this.head;
    if (fromSeq <= first) {
      if (kind === FilterKind.All) return this.count;
      let n = 0;
      for (const e of this.subjects.matching(filter)) n += e.count;
      return n;
    }
    let from = fromSeq;
    let to = this.lastSeq;
    if (kind === FilterKind.Literal) {
      const e = this.subjects.get(filter);
      if (e === undefined) return 0;
      if (fromSeq <= this.subjects.firstOf(e)) return e.count;
      to = this.subjects.lastOf(e);
      from = Math.max(from, e.first);
    }
    let n = 0;
    for (let i = from - this.base; i <= to - this.base; i++) {
      const m = this.msgs[i];
      if (m !== undefined && filterMatches(kind, filter, m.subject)) n++;
    }
    return n;
  }

  delete(seq: number, erase?: boolean): boolean {
    const m = this.get(seq) as MemMsg | null;
    if (m === null) return false;
    if (erase === true) {
      m.payload.fill(0);
      if (m.headers !== null) m.headers.fill(0);
    }
    this.removeAt(seq - this.base, m);
    this.advanceHead();
    return true;
  }

  purge(opts?: PurgeOptions): number {
    const plan = planPurge(opts, this.lastSeq, (f) => this.countMatching(0, f));
    if (plan.op === 'none') return 0;
    if (plan.op === 'all') return this.purgeAll(plan.nextSeq);
    const { filter, kind, max, upTo } = plan;
    let purged = 0;
    for (let i = this.head; i < this.msgs.length && purged < max; i++) {
      const m = this.msgs[i];
      if (m === undefined) continue;
      if (m.seq > upTo) break;
      if (!filterMatches(kind, filter, m.subject)) continue;
      this.removeAt(i, m);
      purged++;
    }
    this.advanceHead();
    return purged;
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
    for (let i = this.head; i < this.msgs.length; i++) if (this.msgs[i] === undefined) out.push(this.base + i);
    return out;
  }

  msgSize(subject: string, headers: Buffer | null, payload: Buffer): number {
    return memoryMsgSize(subject, headers, payload);
  }

  usedBytes(): number {
    return this.bytes;
  }

  state(): StoreState {
    const empty = this.count === 0;
    const firstSeq = empty ? (this.lastSeq === 0 ? 0 : this.lastSeq + 1) : this.base + this.head;
    return {
      messages: this.count,
      bytes: this.bytes,
      firstSeq,
      firstTs: empty ? 0n : (this.msgs[this.head] as MemMsg).ts,
      lastSeq: this.lastSeq,
      lastTs: this.lastTs,
      numSubjects: this.subjects.size,
      numDeleted: empty ? 0 : this.lastSeq - firstSeq + 1 - this.count,
    };
  }

  setNextSeq(seq: number): void {
    checkNextSeq(seq, this.lastSeq, this.count);
    if (seq === this.lastSeq + 1) return;
    this.lastSeq = seq - 1;
    this.base = seq;
    this.msgs.length = 0;
    this.head = 0;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  consumer(name: string): ConsumerStore {
    if (this.closed) throw new Error('store closed');
    return this.consumers.open(name);
  }

  consumerNames(): string[] {
    return this.consumers.names();
  }

  deleteConsumer(name: string): Promise<boolean> {
    return this.consumers.delete(name);
  }

  async destroy(): Promise<void> {
    this.closed = true;
    this.consumers.clear();
    this.msgs = [];
    this.subjects.clear();
    this.count = 0;
    this.bytes = 0;
  }

  scanFirst(e: SubjectEntry, from: number, to: number): number {
    const lo = Math.max(from - this.base, this.head);
    const hi = Math.min(to - this.base, this.msgs.length - 1);
    for (let i = lo; i <= hi; i++) if (this.msgs[i]?.entry === e) return this.base + i;
    return 0;
  }

  scanLast(e: SubjectEntry, from: number, to: number): number {
    const lo = Math.max(from - this.base, this.head);
    const hi = Math.min(to - this.base, this.msgs.length - 1);
    for (let i = hi; i >= lo; i--) if (this.msgs[i]?.entry === e) return this.base + i;
    return 0;
  }

  private removeAt(i: number, m: MemMsg): void {
    this.msgs[i] = undefined;
    this.subjects.remove(m.entry, m.seq);
    this.count--;
    this.bytes -= memoryMsgSize(m.subject, m.headers, m.payload);
  }

  private purgeAll(nextSeq: number): number {
    const purged = this.count;
    this.msgs = [];
    this.subjects.clear();
    this.count = 0;
    this.bytes = 0;
    this.head = 0;
    if (nextSeq > this.lastSeq + 1) this.lastSeq = nextSeq - 1;
    this.base = this.lastSeq + 1;
    return purged;
  }

  /** Moves `head` past deleted slots and re-bases the array once enough of its front is empty. */
  private advanceHead(): void {
    if (this.count === 0) {
      this.msgs = [];
      this.head = 0;
      this.base = this.lastSeq + 1;
      return;
    }
    while (this.msgs[this.head] === undefined) this.head++;
    if (this.head >= REBASE_MIN_SLOTS && this.head * 2 >= this.msgs.length) {
      this.msgs = this.msgs.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
  }
}
