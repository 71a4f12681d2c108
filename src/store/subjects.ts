/**
 * Per-subject bookkeeping shared by both stores: for every subject with live messages, its count and
 * its first and last live seq. That is what `max_msgs_per_subject`, `lastBySubject`,
 * `subjectCounts` and filtered counts need, at one small object per distinct subject (never per
 * message). First/last are maintained lazily: removing a subject's first (or last) message only
 * marks the bound stale, and the owning store rescans its own index the next time it is asked,
 * so a run of deletes costs O(1) each.
 */
import { hasWildcard, subjectMatches } from '../core/subject.js';

/** One subject's live-message summary. `id` is a small integer the file store keeps per message. */
export class SubjectEntry {
  count = 0;
  /** First live seq; when `firstStale`, only a lower bound. */
  first = 0;
  /** Last live seq; when `lastStale`, only an upper bound. */
  last = 0;
  firstStale = false;
  lastStale = false;
  constructor(
    readonly subject: string,
    readonly id: number,
  ) {}
}

/**
 * How a store resolves a stale bound: the smallest (largest) live seq in [from, to] whose subject is
 * `e`, or 0 when there is none. Called at most once per stale bound.
 */
export interface SubjectScanner {
  scanFirst(e: SubjectEntry, from: number, to: number): number;
  scanLast(e: SubjectEntry, from: number, to: number): number;
}

/** True when `filter` selects every subject ('' and '>' both mean "all"). */
export function isAllFilter(filter: string): boolean {
  return filter === '' || filter === '>';
}

/**
 * Validates `setNextSeq(seq)` for both stores: seqs are never reused, so `seq` must lie past the last
 * seq ever assigned, and a store holding messages can only continue at lastSeq + 1 (a jump would
 * invent interior deletes). Throws RangeError otherwise.
 */
export function checkNextSeq(seq: number, lastSeq: number, messages: number): void {
  if (!Number.isSafeInteger(seq) || seq < 1) throw new RangeError(`invalid next seq ${seq}`);
  if (seq <= lastSeq) throw new RangeError(`next seq ${seq} would reuse seqs up to ${lastSeq}`);
  if (messages > 0 && seq !== lastSeq + 1) {
    throw new RangeError(`next seq ${seq} on a store holding messages up to ${lastSeq}`);
  }
}

/**
 * Subject → entry map with id allocation. Add and remove cost one Map look-up; ids of subjects that
 * run out of messages are recycled, so the id space stays as small as the live subject count.
 */
export class SubjectIndex {
  private readonly map = new Map<string, SubjectEntry>();
  private byId: (SubjectEntry | undefined)[] = [];
  private freeIds: number[] = [];

  constructor(private readonly scanner: SubjectScanner) {}

  /** Distinct subjects with live messages. */
  get size(): number {
    return this.map.size;
  }

  /** One past the largest id ever handed out (bound for id-indexed scratch arrays). */
  get idLimit(): number {
    return this.byId.length;
  }

  get(subject: string): SubjectEntry | undefined {
    return this.map.get(subject);
  }

  entryById(id: number): SubjectEntry | undefined {
    return this.byId[id];
  }

  /**
   * Records `count` live messages of `subject` whose seqs span [first, last] (recovery loads a whole
   * segment's summary at once). Bounds widen; they stay exact when the input bounds are.
   */
  addBulk(subject: string, count: number, first: number, last: number): SubjectEntry {
    const e = this.add(subject, first);
    if (count > 1) {
      e.count += count - 1;
      if (last > e.last) {
        e.last = last;
        e.lastStale = false;
      }
    }
    return e;
  }

  /** Records a live message on `subject` at `seq` and returns the subject's entry. */
  add(subject: string, seq: number): SubjectEntry {
    let e = this.map.get(subject);
    if (e === undefined) {
      const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.byId.length;
      e = new SubjectEntry(subject, id);
      this.byId[id] = e;
      this.map.set(subject, e);
    }
    if (e.count === 0) {
      e.first = seq;
      e.last = seq;
      e.firstStale = false;
      e.lastStale = false;
    } else {
      if (seq < e.first) e.first = seq; // a lower bound stays a valid lower bound
      if (seq > e.last) {
        e.last = seq;
        e.lastStale = false;
      }
    }
    e.count++;
    return e;
  }

  /** Forgets one live message `seq` of entry `e`. */
  remove(e: SubjectEntry, seq: number): void {
    if (--e.count <= 0) {
      e.count = 0;
      this.map.delete(e.subject);
      this.byId[e.id] = undefined;
      this.freeIds.push(e.id);
      return;
    }
    if (seq === e.first) {
      e.first = seq + 1;
      e.firstStale = true;
    }
    if (seq === e.last) {
      e.last = seq - 1;
      e.lastStale = true;
    }
  }

  /** Exact first live seq of `e`. */
  firstOf(e: SubjectEntry): number {
    if (e.firstStale && e.count === 1 && !e.lastStale) {
      // One message left (KV with history 1): first is last, no scan.
      e.first = e.last;
      e.firstStale = false;
    }
    if (e.firstStale) {
      e.first = this.scanner.scanFirst(e, e.first, e.last);
      e.firstStale = false;
    }
    return e.first;
  }

  /** Exact last live seq of `e`. */
  lastOf(e: SubjectEntry): number {
    if (e.lastStale && e.count === 1 && !e.firstStale) {
      e.last = e.first;
      e.lastStale = false;
    }
    if (e.lastStale) {
      e.last = this.scanner.scanLast(e, e.first, e.last);
      e.lastStale = false;
    }
    return e.last;
  }

  /** Entries whose subject matches `filter` (all of them for '' / '>'). */
  *matching(filter: string): IterableIterator<SubjectEntry> {
    if (isAllFilter(filter)) {
      yield* this.map.values();
    } else if (!hasWildcard(filter)) {
      const e = this.map.get(filter);
      if (e !== undefined) yield e;
    } else {
      for (const e of this.map.values()) if (subjectMatches(filter, e.subject)) yield e;
    }
  }

  /** Drops every entry (after a full purge). */
  /** Live count per subject matching `filter` (MessageStore.subjectCounts). */
  counts(filter: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.matching(filter)) out.set(e.subject, e.count);
    return out;
  }

  /** Live messages on exactly `subject`. */
  countOf(subject: string): number {
    return this.get(subject)?.count ?? 0;
  }

  /** Oldest live seq on exactly `subject`, or 0. */
  firstSeqOf(subject: string): number {
    const e = this.get(subject);
    return e === undefined ? 0 : this.firstOf(e);
  }

  clear(): void {
    this.map.clear();
    this.byId = [];
    this.freeIds = [];
  }
}
