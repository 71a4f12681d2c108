/**
 * The message-store interface that streams are built on, with two implementations behind it:
 * `memory.ts` (nothing survives a restart) and `file/` (segments on disk, checksummed records,
 * group commit). Sequences start at 1 (or the stream's first_seq), grow by one per append and are
 * never reused; deletes leave gaps. All reads are synchronous and served from memory indexes or
 * the OS page cache; only durability is asynchronous (`whenDurable`).
 */

/** One stored message. `ts` is nanoseconds since the Unix epoch. Buffers are owned by the caller. */
export interface StoredMsg {
  readonly seq: number;
  readonly subject: string;
  readonly headers: Buffer | null;
  readonly payload: Buffer;
  readonly ts: bigint;
}

/** A store's counters, as STREAM.INFO `state` reports them (specs/nats.md §4 "STREAM.INFO"). */
export interface StoreState {
  messages: number;
  /** Sum of `msgSize` over live messages (the reference accounting, see `msgSize`). */
  bytes: number;
  /** Oldest live seq; when empty, lastSeq + 1 (0 for a store that never held anything). */
  firstSeq: number;
  /** Stored time of firstSeq, ns; 0n when empty. */
  firstTs: bigint;
  lastSeq: number;
  lastTs: bigint;
  /** Distinct subjects among live messages. */
  numSubjects: number;
  /** Interior deletes: seqs between firstSeq and lastSeq that are gone. */
  numDeleted: number;
}

/**
 * When an append counts as durable. `always`: after a write + fdatasync (group-committed per
 * event-loop turn) — survives process kill and machine crash. `interval`: written at once, synced
 * every `ms` — survives process kill, may lose the last interval on a machine crash. `never`:
 * written at once, synced by the OS when it likes — survives process kill only.
 */
export type SyncPolicy = { kind: 'always' } | { kind: 'interval'; ms: number } | { kind: 'never' };

/** What recovery found and did when a file store opened. */
export interface RecoveryReport {
  messages: number;
  lastSeq: number;
  /** One entry per damaged tail that was cut off. Empty when the store was clean. */
  truncated: { segment: string; offset: number; bytes: number; firstSeqLost: number | null; reason: string }[];
  durationMs: number;
}

/** Options to `purge`, as STREAM.PURGE's request body (specs/nats.md §3). */
export interface PurgeOptions {
  /** Only messages whose subject matches this (may hold wildcards). */
  filter?: string;
  /** Remove messages with seq < this. */
  seq?: number;
  /** Keep this many newest (per the filter when one is given). */
  keep?: number;
}

/**
 * What a stream needs from storage. Implementations: `MemoryStore` (memory.ts) and the file store
 * (file/index.ts). Not safe for use by two owners at once; every method but `whenDurable`, `close`
 * and `destroy` completes synchronously.
 */
export interface MessageStore {
  readonly kind: 'file' | 'memory';

  /**
   * Appends one message and returns its seq (last + 1) and stored time. Synchronous: reads see it
   * at once. The caller must not ack it to a publisher before `whenDurable` fires.
   */
  append(subject: string, headers: Buffer | null, payload: Buffer, ts?: bigint): { seq: number; ts: bigint };

  /** Calls `cb` once every append made before this call is durable under the sync policy. */
  whenDurable(cb: (err: Error | null) => void): void;

  /** The message at `seq`, or null when absent (never stored, deleted or purged). */
  get(seq: number): StoredMsg | null;

  /** The newest message whose subject matches `filter` (wildcards allowed), or null. */
  lastBySubject(filter: string): StoredMsg | null;

  /** The first message with seq >= `fromSeq` whose subject matches `filter` ('' or '>' = any). */
  nextMatching(fromSeq: number, filter: string): StoredMsg | null;

  /** Live messages with seq >= `fromSeq` whose subject matches `filter`. */
  countMatching(fromSeq: number, filter: string): number;

  /** Removes one message. Returns false when it was not there. `erase` overwrites its bytes. */
  delete(seq: number, erase?: boolean): boolean;

  /** Removes messages as STREAM.PURGE does; returns how many were removed. */
  purge(opts?: PurgeOptions): number;

  /** Live message count per subject, for subjects matching `filter` (STREAM.INFO subjects_filter). */
  subjectCounts(filter: string): Map<string, number>;

  /** Live messages on exactly `subject` (for max_msgs_per_subject). */
  subjectCount(subject: string): number;

  /** Oldest live seq on exactly `subject`, or 0. */
  firstSeqOfSubject(subject: string): number;

  /** Interior deleted seqs in ascending order (STREAM.INFO deleted_details). */
  deletedSeqs(): number[];

  /** Bytes one message counts for in `state().bytes` (specs/nats.md §4 "Byte accounting"). */
  msgSize(subject: string, headers: Buffer | null, payload: Buffer): number;

  state(): StoreState;

  /** `state().bytes` without building the state: the stream's per-publish budget bookkeeping. */
  usedBytes(): number;

  /** Makes the next appended seq `seq` (first_seq config, or an empty store after purge). */
  setNextSeq(seq: number): void;

  /** Flushes and syncs pending writes, closes files. The store is unusable afterwards. */
  close(): Promise<void>;

  /** Closes and removes everything the store holds on disk. */
  destroy(): Promise<void>;
}
