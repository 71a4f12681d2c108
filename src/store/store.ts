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
  /**
   * One entry per damaged tail that was cut off. Empty when the store was clean. Consumer-state
   * logs are reported here too (`segment` is then the consumer log's file name).
   */
  truncated: { segment: string; offset: number; bytes: number; firstSeqLost: number | null; reason: string }[];
  /**
   * Damaged records in the middle of a segment that recovery stepped over (docs/storage-format.md
   * "Resynchronisation"): each lost only itself. `seq` is the lost message's seq when the damaged
   * header still names it plausibly; the seqs show as deleted either way. `firstSeqLost` ..
   * `lastSeqLost` covers every message seq the stretch may have held (worked out from the seqs
   * around it: never fewer; null when it held none). `deleteMayBeUndone`: it may have held a
   * delete (tombstone or floor) that no later record repeats, so a deleted message may be back.
   */
  skipped: {
    segment: string;
    offset: number;
    bytes: number;
    seq: number | null;
    firstSeqLost: number | null;
    lastSeqLost: number | null;
    deleteMayBeUndone: boolean;
    reason: string;
  }[];
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

  /**
   * Set by the owner to hear of a rollback (file store only): a batch the disk had no room for was
   * undone, its appends dropped from memory (`lost` live messages; their seqs stay used and show
   * as deleted), and every `whenDurable` waiting on it got the error. Called synchronously.
   */
  onRollback?: ((lost: number) => void) | null;

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

  /**
   * The consumer-state store named `name`, opened if it exists (a reopened file store recovered it)
   * or created empty. The same object is returned until it is deleted. Its writes share this
   * store's group commit: `whenDurable` on either covers both.
   */
  consumer(name: string): ConsumerStore;

  /** Names of the consumer-state stores that exist, in no particular order. */
  consumerNames(): string[];

  /** Deletes the named consumer-state store; resolves false when there was none. */
  deleteConsumer(name: string): Promise<boolean>;
}

/** A consumer sequence and the stream sequence it stood for (nats-server store.go `SequencePair`). */
export interface SequencePair {
  consumerSeq: number;
  streamSeq: number;
  /** Time of the last delivery (for `delivered`) or the last ack (for `ackFloor`), ns; 0 = never. */
  lastActive: number;
}

/**
 * One delivered, unacknowledged message. `ts` is the delivery time in ns since the epoch, held as
 * a float64 (exact to 256 ns at present-day dates). `owner` is room for a Redis consumer group's
 * per-consumer PEL (the group member that holds the entry); NATS consumers leave it undefined.
 */
export interface PendingEntry {
  /** Consumer seq of the (last) delivery. */
  dseq: number;
  ts: number;
  /** Deliveries so far (1 on first delivery). */
  dc: number;
  owner?: string;
}

/** Room for Redis consumer groups (XGROUP): the last id handed out and the entries-read counter. */
export interface GroupState {
  lastDeliveredId: string;
  entriesRead: number;
}

/**
 * Everything a consumer-state store keeps, in the shape of nats-server's `ConsumerState`
 * (store.go): delivered and ack-floor pairs, pending (stream seq → delivery) and redelivery counts
 * (stream seq → deliveries − 1; kept until acked, even after the entry left pending).
 */
export interface ConsumerState {
  delivered: SequencePair;
  ackFloor: SequencePair;
  pending: Map<number, PendingEntry>;
  redelivered: Map<number, number>;
  group?: GroupState;
}

/**
 * Persistent state of one consumer (or, later, one Redis consumer group). The store records what
 * it is told and decides nothing: ack policies, max-deliver and the meaning of the config blob
 * belong to the layer above (an ack-none consumer calls `updateAcks` itself). Every mutator is
 * synchronous and O(1) amortised; the file store appends one small checksummed record per call
 * (a delivery 40 bytes, an ack 36) through the stream's group commit. Memory: see
 * docs/storage-format.md "Consumer state" (about 100 bytes per pending entry).
 */
export interface ConsumerStore {
  readonly name: string;

  /** The opaque config blob last set (null before the first `setConfig`). Owned by the store. */
  config(): Buffer | null;

  /** Replaces the config blob (copied). */
  setConfig(config: Buffer): void;

  /**
   * Records a delivery of stream seq `sseq` as consumer seq `dseq`, the `dc`-th delivery, at `ts`
   * (ns). dc = 1 adds a pending entry and moves `delivered`; dc > 1 updates an existing pending
   * entry and the redelivery count (nats-server filestore.go `UpdateDelivered` semantics).
   */
  updateDelivered(dseq: number, sseq: number, dc: number, ts: number): void;

  /**
   * Records the ack of `sseq` (delivered as `dseq`) at `ts` (ns, default now): drops it from
   * pending and redelivered and moves the ack floor. Returns false, and writes nothing, when
   * `sseq` was not pending.
   */
  updateAcks(dseq: number, sseq: number, ts?: number): boolean;

  /** Replaces the whole state (copied): written as one snapshot record. */
  update(state: ConsumerState): void;

  /** A copy of the state. O(pending): not meant for the per-message path. */
  state(): ConsumerState;

  /** Pending entries without copying the state. */
  readonly pendingCount: number;

  /** Calls `cb` once every update made before this call (and every stream append) is durable. */
  whenDurable(cb: (err: Error | null) => void): void;

  /** Deletes this consumer's state (as `MessageStore.deleteConsumer`). */
  delete(): Promise<void>;
}
