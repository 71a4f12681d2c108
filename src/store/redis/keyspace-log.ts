/**
 * The Redis keyspace log: one append-only log of resolved effects `(db, key, rec)` for the whole
 * Redis keyspace, in `<data dir>/redis/` (docs/storage-format.md "Redis keyspace log"). It
 * persists and decides nothing: the records are the model's opaque bytes (src/stream/redis/), the
 * door decides when a reply may leave (src/resp/reply-barrier.ts).
 *
 * Writes go through the file store's group-commit writer (../file/writer.ts): every record of one
 * event-loop turn is one `pwritev` and, under `sync: always`, one `fdatasync` before `whenDurable`
 * fires. Compaction is a generation switch, as consumer-state logs do (../file/consumer-log.ts):
 * once the file is COMPACT_RATIO × the snapshot that would replace it, a new file
 * `keyspace.<G+1>.log` starts with the model's snapshot and a SnapEnd record, written by the same
 * batch as everything else; a writer job then fdatasyncs it, fsyncs the directory and only then
 * unlinks the old file, so a crash at any point leaves one complete generation.
 *
 * `MemoryKeyspaceLog` is the variant for a server without a Redis data directory: it keeps
 * nothing and everything is "durable" at once (the promise of `store: memory`: none across a
 * restart).
 */
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { SyncPolicy } from '../store.js';
import { DiskWatch } from '../disk-space.js';
import { nodeFiles, type FileLayer } from '../file/fs-layer.js';
import { ConsumerFile } from '../file/consumer-log.js';
import { fdatasyncP, fsyncP, MAX_PENDING_BYTES, Writer } from '../file/writer.js';
import { newSegmentKey } from '../file/record.js';
import {
  effectLen,
  encodeEffect,
  encodeHead,
  encodeSnapEnd,
  KS_HEAD_LEN,
  KS_MAX_RECORD,
  KS_OVERHEAD,
} from './keyspace-record.js';
import { ksFileName, recoverKeyspace, type ApplyEffect, type KeyspaceRecoveryReport, type KsLogger } from './keyspace-recovery.js';
import { DATA_DIR_MODE, DATA_FILE_MODE } from '../modes.js';

/** A log switches generation once it is this many times the size of the snapshot replacing it. */
export const KS_COMPACT_RATIO = 4;
/** …and at least this long: below it a rewrite costs more than the replay it saves. */
export const KS_COMPACT_MIN_BYTES = 4 * 1024 * 1024;
/**
 * Free bytes of the data volume that Redis writes never use (the JetStream reserve's value,
 * src/stream/streams.ts DISK_RESERVE_BYTES): XACK, XDEL, DEL and compaction still find room.
 */
export const KS_DISK_RESERVE_BYTES = 8 * 1024 * 1024;

/** One record of the keyspace: the model's resolved effect on `key` of database `db`. */
export interface EffectRecord {
  db: number;
  key: string;
  rec: Buffer;
}

/** What the log needs from the model: replay on open and a snapshot for compaction. */
export interface KeyspaceSource {
  apply: ApplyEffect;
  snapshot(): Iterable<EffectRecord>;
  /** The snapshot's record count, key bytes and body bytes, counted without building it; when
   * given, a compaction check that decides against switching allocates nothing per record. */
  snapshotSize?(): { records: number; keyBytes: number; recBytes: number };
}

/**
 * The keyspace log as the door sees it. Guarantees: `whenDurable(cb)` calls `cb(null)` only once
 * every record appended before the call is durable under the sync policy, in call order, and
 * `cb(err)` for all of them once a write failed (the log then refuses appends for good).
 * Costs: one record encoding per effect; no I/O on the calling path.
 */
export interface KeyspaceLog {
  /** True while some appended record is not yet known durable. */
  readonly dirty: boolean;
  /** Set once a write or sync failed: the log is read-only from then on. */
  readonly failed: Error | null;
  /** True when a write of `bytes` more would go past the file budget or into the disk reserve. */
  overBudget(bytes?: number): boolean;
  /** Appends one effect record. Throws once the log failed or when the record is too large. */
  append(db: number, key: string, rec: Buffer): void;
  whenDurable(cb: (err: Error | null) => void): void;
  /** Counters for INFO persistence (Redis field names where one exists). */
  stats(): { enabled: boolean; size: number; baseSize: number; records: number; rewrites: number; generation: number; syncs: number };
  close(): Promise<void>;
}

/** Options of the file-backed log. */
export interface FileKeyspaceOptions {
  /** The log's own directory (`<data dir>/redis`), created when missing. */
  dir: string;
  sync: SyncPolicy;
  logger?: KsLogger;
  /** The file layer of every write, sync and unlink (a fault-injecting one in tests). */
  fs?: FileLayer;
  /** Minimum size before compaction is considered (tests lower it). */
  compactBytes?: number;
  /** Byte budget of the log (the server's max_file_store); -1 = none besides the disk reserve. */
  maxBytes?: number;
  /** Other durable bytes counted against `maxBytes` (JetStream's file usage). */
  otherBytes?: () => number;
}

/** One generation file: a write target of the group-commit writer (a consumer log's file, plus
 * its generation and CRC key). */
class KsFile extends ConsumerFile {
  constructor(
    name: string,
    path: string,
    readonly gen: number,
    readonly fileKey: number,
  ) {
    super(name, path);
  }
}

/** The file-backed keyspace log (see the module comment). */
export class FileKeyspaceLog implements KeyspaceLog {
  private readonly writer: Writer;
  private file!: KsFile;
  private nextSeq: number;
  private readonly dirFd: number;
  private readonly disk: DiskWatch;
  private readonly fs: FileLayer;
  private appended = 0;
  private durableUpTo = 0;
  /** File length right after its snapshot, and the size that makes compaction worth a look. */
  private baseSize = 0;
  private compactAt: number;
  private compactDue = false;
  private rewrites = 0;
  private records = 0;
  private closed = false;
  /** Highest generation number ever seen in the directory (a new one is always above it). */
  private highestGen: number;

  private constructor(
    private readonly opts: FileKeyspaceOptions,
    private readonly source: KeyspaceSource,
    readonly report: KeyspaceRecoveryReport,
    found: { gen: number; size: number; highestGen: number; fileKey: number; baseSize: number },
  ) {
    this.fs = opts.fs ?? nodeFiles;
    this.dirFd = openSync(opts.dir, 'r');
    this.disk = new DiskWatch(opts.dir);
    this.writer = new Writer(opts.sync, this.dirFd, async () => null, opts.logger, this.fs);
    this.writer.onBatch = () => {
      if (this.compactDue && this.writer.failed === null) this.compact();
    };
    this.nextSeq = report.lastSeq + 1;
    this.compactAt = opts.compactBytes ?? KS_COMPACT_MIN_BYTES;
    if (found.gen > 0) {
      const f = new KsFile(ksFileName(found.gen), join(opts.dir, ksFileName(found.gen)), found.gen, found.fileKey);
      f.size = f.written = found.size;
      this.file = f;
      this.baseSize = found.baseSize;
    }
    this.highestGen = found.highestGen;
  }

  /**
   * Opens (or creates) the log in `opts.dir`, replaying every record into `source.apply` first.
   * After damage (a skipped stretch, a refused record, an incomplete snapshot), or on a fresh
   * directory, a new generation is written from `source.snapshot()` before it resolves, so the
   * damage is reported once and the file on disk is whole again.
   */
  static async open(opts: FileKeyspaceOptions, source: KeyspaceSource): Promise<FileKeyspaceLog> {
    mkdirSync(opts.dir, { recursive: true, mode: DATA_DIR_MODE });
    const found = recoverKeyspace(opts.dir, source.apply, opts.logger);
    const log = new FileKeyspaceLog(opts, source, found.report, found);
    const r = found.report;
    if (found.gen === 0 || r.skipped.length > 0 || r.refused.length > 0 || r.notes.some((n) => n.includes('incomplete'))) {
      log.switchGeneration(true);
    }
    await log.writer.drain(true);
    log.records = r.records;
    if (r.records > 0 || found.gen > 0) {
      opts.logger?.info({ dir: opts.dir, generation: log.file.gen, records: r.records, bytes: log.file.size }, 'Redis keyspace log recovered');
    }
    return log;
  }

  get dirty(): boolean {
    return this.appended > this.durableUpTo;
  }

  get failed(): Error | null {
    return this.writer.failed;
  }

  overBudget(bytes = 0): boolean {
    if (this.disk.available - bytes - KS_OVERHEAD < KS_DISK_RESERVE_BYTES) return true;
    const max = this.opts.maxBytes ?? -1;
    if (max < 0) return false;
    return this.file.size + (this.opts.otherBytes?.() ?? 0) + bytes > max;
  }

  append(db: number, key: string, rec: Buffer): void {
    if (this.closed) throw new Error('Redis keyspace log is closed');
    const len = effectLen(key.length, rec.length);
    if (len > KS_MAX_RECORD) throw new RangeError(`effect record of ${len} bytes is too large for the keyspace log`);
    const w = this.writer;
    w.reserve(this.file, len); // throws once the writer failed or its backlog is full
    encodeEffect(w.buf, w.pos, this.nextSeq++, db, key, rec, this.file.fileKey);
    this.appended++;
    this.records++;
    this.disk.consumed(len);
    if (!this.compactDue && this.file.size >= this.compactAt) this.compactDue = true;
  }

  whenDurable(cb: (err: Error | null) => void): void {
    const upTo = this.appended;
    this.writer.whenDurable((err) => {
      if (err === null && upTo > this.durableUpTo) this.durableUpTo = upTo;
      cb(err);
    });
  }

  stats(): ReturnType<KeyspaceLog['stats']> {
    return {
      enabled: true,
      size: this.file.size,
      baseSize: this.baseSize,
      records: this.records,
      rewrites: this.rewrites,
      generation: this.file.gen,
      syncs: this.writer.syncs,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.disk.stop();
    try {
      await this.writer.drain(true);
    } finally {
      this.writer.stop();
      this.file.close();
      closeSync(this.dirFd);
    }
  }

  /** Runs at the start of a batch (no command is half-way): switch if the snapshot is small enough. */
  private compact(): void {
    this.compactDue = false;
    this.switchGeneration(false);
  }

  /**
   * Starts generation G+1 with the model's snapshot. Unless `force`, only when the current file
   * is KS_COMPACT_RATIO × the snapshot; otherwise the next look waits until the file has grown
   * that much over the snapshot's size (so snapshots cost O(state) at most once per that growth).
   */
  private switchGeneration(force: boolean): void {
    const old = this.file as KsFile | undefined;
    const sized = this.source.snapshotSize?.();
    let snap: EffectRecord[] | null = null;
    let bytes = 2 * KS_HEAD_LEN + KS_OVERHEAD;
    if (sized !== undefined) bytes += sized.records * KS_OVERHEAD + sized.keyBytes + sized.recBytes;
    else {
      snap = [...this.source.snapshot()];
      for (const e of snap) bytes += effectLen(e.key.length, e.rec.length);
    }
    if (!force && old !== undefined && old.size < KS_COMPACT_RATIO * bytes) {
      this.compactAt = Math.max(this.compactAt, KS_COMPACT_RATIO * bytes);
      return;
    }
    if (!force && this.writer.backlog + bytes > MAX_PENDING_BYTES) {
      // Too big for the writer's backlog in one batch: keep the current file (it still replays).
      this.compactAt = Math.max(this.compactAt, 2 * old!.size);
      this.opts.logger?.warn({ bytes }, 'Redis keyspace snapshot too large to compact in one batch; log kept');
      return;
    }
    snap ??= [...this.source.snapshot()];
    const gen = this.highestGen + 1;
    this.highestGen = gen;
    const name = ksFileName(gen);
    const next = new KsFile(name, join(this.opts.dir, name), gen, newSegmentKey());
    closeSync(openSync(next.path, 'wx', DATA_FILE_MODE));
    next.needsDirSync = true;
    const w = this.writer;
    const first = this.nextSeq;
    const head = { fileKey: next.fileKey, gen, firstSeq: first, snapEndSeq: first + snap.length };
    for (let k = 0; k < 2; k++) {
      w.reserve(next, KS_HEAD_LEN);
      encodeHead(w.buf, w.pos, head);
    }
    for (const e of snap) {
      w.reserve(next, effectLen(e.key.length, e.rec.length));
      encodeEffect(w.buf, w.pos, this.nextSeq++, e.db, e.key, e.rec, next.fileKey);
    }
    w.reserve(next, KS_OVERHEAD);
    encodeSnapEnd(w.buf, w.pos, this.nextSeq++, next.fileKey);
    this.file = next;
    this.baseSize = next.size;
    this.compactAt = Math.max(this.opts.compactBytes ?? KS_COMPACT_MIN_BYTES, KS_COMPACT_RATIO * next.size);
    if (old === undefined) return;
    this.rewrites++;
    w.addJob(async () => {
      // The new file must be durable, whatever the sync policy, before the old one goes.
      next.busy++;
      try {
        await fdatasyncP(next.open(), this.fs);
      } finally {
        next.busy--;
      }
      await fsyncP(this.dirFd, this.fs);
      next.needsDirSync = false;
      w.forget(old);
      old.close();
      try {
        await this.fs.unlink(old.path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await fsyncP(this.dirFd, this.fs);
      this.opts.logger?.info({ generation: gen, bytes: old.size, now: next.size }, 'Redis keyspace log compacted');
    });
  }

}

/**
 * The keyspace log of a server without a Redis data directory: keeps nothing, so every record is
 * "durable" at once and a restart starts empty (docs/redis.md "Durability", `store: memory`).
 */
export class MemoryKeyspaceLog implements KeyspaceLog {
  readonly dirty = false;
  readonly failed = null;
  private records = 0;

  overBudget(): boolean {
    return false;
  }

  append(): void {
    this.records++;
  }

  whenDurable(cb: (err: Error | null) => void): void {
    process.nextTick(cb, null);
  }

  stats(): ReturnType<KeyspaceLog['stats']> {
    return { enabled: false, size: 0, baseSize: 0, records: this.records, rewrites: 0, generation: 0, syncs: 0 };
  }

  async close(): Promise<void> {}
}
