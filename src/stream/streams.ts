/**
 * The set of streams: their creation, update and removal on disk, their recovery at start-up,
 * and the server-wide storage budgets. Protocol-free: the doors (`src/nats/jetstream/` today)
 * turn requests into these calls and these results into their wire format; the stored form of a
 * config and of times in meta.json comes from the codec the door supplies.
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../core/log.js';
import { openFileStore } from '../store/file/index.js';
import { DiskWatch } from '../store/disk-space.js';
import { MemoryStore } from '../store/memory.js';
import type { MessageStore, SyncPolicy } from '../store/store.js';
import {
  checkStreamConfig,
  subjectsOverlap,
  type RawConfig,
  type ReservedSubjects,
  type Storage,
  type StreamConfig,
} from './config.js';
import { Consumer } from './consumer.js';
import { decodeConsumerMeta, encodeConsumerMeta, type ConsumerConfig } from './consumer-config.js';
import type { ConfigError } from './errors.js';
import { META_VERSION, readMeta, removeStreamDir, streamDir, syncDir, writeMeta } from './meta.js';
import { Stream, type HeaderCodec, type StreamHost } from './stream.js';
import { Scheduler } from './timers.js';
import type { BudgetMember, ServerBudget } from './server-budget.js';

/**
 * How stream metadata and stored headers are read and written: meta.json keeps a config and a
 * creation time in the form of the door that defined them (today the JetStream JSON echo and
 * RFC 3339), so existing data directories stay readable. Supplied by the door.
 */
export interface StreamCodec extends HeaderCodec {
  /** The config as meta.json stores it. */
  configToMeta(cfg: StreamConfig): Record<string, unknown>;
  /** A stored config decoded back to raw fields (checked again by the caller); throws with the reason. */
  configFromMeta(stored: Record<string, unknown>): RawConfig;
  /** Subjects streams may capture only with no_ack (checked again on recovery). */
  readonly reserved: readonly ReservedSubjects[];
  /** A time (ns since the epoch) as meta.json stores it, and back (null: does not parse). */
  timeToMeta(ns: bigint): string;
  timeFromMeta(text: string): bigint | null;
}

/** What `Streams.start` needs; the server builds it from ServerOptions. */
export interface StreamsOptions {
  /** Root of durable state: streams live in `<storeDir>/streams/<name>/`. */
  storeDir: string;
  /** Server-wide budgets in bytes for file and memory streams; -1 = unlimited. */
  maxFileStore: number;
  maxMemStore: number;
  /** When a file-store append counts as durable (and a publish is acked). */
  sync: SyncPolicy;
  logger: Logger;
  codec: StreamCodec;
  /** The server's budget shared with other accounts' Streams (absent: this Streams is the server). */
  serverBudget?: ServerBudget;
}

/**
 * Default file budget when max_file_store is unset (or -1): this share of the data volume's
 * available space at start, plus what streams already hold (nats-server disk_avail.go,
 * diskAvailable, estimates 75% of the available storage the same way).
 */
export const DEFAULT_FILE_BUDGET_SHARE = 0.75;
/**
 * Free space on the data volume that appends never use: when appends are refused (10023
 * insufficient resources), purges, deletes, consumer acks and stream metadata still have room to
 * write their small records, so the way out of a full disk never needs space.
 */
export const DISK_RESERVE_BYTES = 8 * 1024 * 1024;
/** Bytes a file-store record adds to a message's accounted size (record header, CRC), rounded up. */
const RECORD_OVERHEAD_GUESS = 64;
/** Fractions of the file budget at which a warning is logged once (re-armed below the first minus 5%). */
const BUDGET_WARN_AT = [0.8, 0.9] as const;

/** Store sub-directory holding a file stream's messages (owned by the file store). */
export const MSGS_DIR = 'msgs';
/** A deleted stream's directory is first renamed to `.deleted-<name>-<ms>` (stream names cannot
 * contain dots, so this never collides), then removed; leftovers are removed at start-up. */
const DELETED_PREFIX = '.deleted-';

/**
 * The running set of streams. Owns every stream and store; `close()` syncs and closes them all.
 * Streams are looked up by name in a Map; budgets are kept as running byte totals so the append
 * path checks them in O(1).
 */
export class Streams implements StreamHost, BudgetMember {
  readonly scheduler = new Scheduler();
  readonly logger: Logger;
  readonly codec: StreamCodec;
  /** Live streams by name. */
  readonly streams = new Map<string, Stream>();
  /** Streams found on disk that recovery refused (reported in /jsz and the ready log, never dropped silently). */
  readonly unrecovered: string[] = [];
  private readonly used: Record<Storage, number> = { file: 0, memory: 0 };
  private closed = false;
  /** Free space of the data volume (null until started). */
  private disk: DiskWatch | null = null;
  /** Effective file budget: max_file_store, or derived from the free space at start. */
  fileBudget = Number.POSITIVE_INFINITY;
  /** How many of BUDGET_WARN_AT thresholds have been warned about. */
  private budgetWarned = 0;

  private constructor(readonly opts: StreamsOptions) {
    this.logger = opts.logger;
    this.codec = opts.codec;
  }

  /** Recovers every stream under `storeDir`. */
  static async start(opts: StreamsOptions): Promise<Streams> {
    const all = new Streams(opts);
    opts.serverBudget?.join(all);
    await all.recover();
    all.watchDisk();
    all.logger.info(
      { storeDir: opts.storeDir, streams: all.streams.size, maxFileStore: opts.maxFileStore, maxMemStore: opts.maxMemStore },
      'JetStream started',
    );
    return all;
  }

  /** The live stream called `name`, or undefined. */
  get(name: string): Stream | undefined {
    return this.streams.get(name);
  }

  // -------------------------------------------------------------------------------------------
  // StreamHost

  budgetAllows(storage: Storage, bytes: number): boolean {
    if (this.opts.serverBudget !== undefined && !this.opts.serverBudget.usageFits(storage, bytes)) return false;
    if (storage === 'memory') return this.opts.maxMemStore < 0 || this.used.memory + bytes <= this.opts.maxMemStore;
    if (this.used.file + bytes > this.fileBudget) return false;
    const disk = this.disk;
    if (disk === null) return true;
    // Refuse before the OS says ENOSPC (nats-server refuses with 10023 the same way), keeping the reserve.
    const need = bytes + RECORD_OVERHEAD_GUESS;
    if (disk.available - need < DISK_RESERVE_BYTES) return false;
    disk.consumed(need);
    return true;
  }

  /** Bytes the streams of `storage` hold now. */
  usedBytes(storage: Storage): number {
    return this.used[storage];
  }

  addUsage(storage: Storage, delta: number): void {
    this.used[storage] += delta;
    if (storage === 'file' && Number.isFinite(this.fileBudget)) this.warnBudget();
  }

  /** Starts watching the data volume and derives the default file budget from its free space. */
  private watchDisk(): void {
    this.disk = new DiskWatch(this.opts.storeDir);
    const avail = this.disk.available;
    if (this.opts.maxFileStore >= 0) this.fileBudget = this.opts.maxFileStore;
    else if (Number.isFinite(avail)) this.fileBudget = this.used.file + Math.floor(avail * DEFAULT_FILE_BUDGET_SHARE);
    this.warnBudget();
  }

  /** Logs once when file usage crosses 80% and 90% of the budget. */
  private warnBudget(): void {
    const share = this.used.file / this.fileBudget;
    let level = 0;
    while (level < BUDGET_WARN_AT.length && share >= BUDGET_WARN_AT[level]) level++;
    if (level > this.budgetWarned) {
      this.logger.warn(
        { used: this.used.file, budget: this.fileBudget, percent: Math.floor(share * 100) },
        `JetStream file storage is over ${BUDGET_WARN_AT[level - 1] * 100}% of its budget (max_file_store)`,
      );
      this.budgetWarned = level;
    } else if (this.budgetWarned > 0 && share < BUDGET_WARN_AT[0] - 0.05) this.budgetWarned = 0;
  }

  /** Estimated free bytes of the data volume (Infinity when unknown). */
  diskAvailable(): number {
    return this.disk?.available ?? Number.POSITIVE_INFINITY;
  }

  // -------------------------------------------------------------------------------------------
  // Budgets at create/update time (nats-server checkBytesLimits, server part).

  /** Sum of max_bytes reserved by streams of `storage`, except `except`. */
  reserved(storage: Storage, except = ''): number {
    let n = 0;
    for (const s of this.streams.values()) {
      if (s.name !== except && s.cfg.storage === storage && s.cfg.max_bytes > 0) n += s.cfg.max_bytes;
    }
    return n;
  }

  /**
   * Would a stream of `storage` reserving `addBytes` more fit the budget? A stream without
   * max_bytes reserves 1 byte, as in nats-server. Null when it fits, else the storage type
   * whose budget it exceeds.
   */
  checkReservation(storage: Storage | null, addBytes: number, except = ''): Storage | null {
    if (storage === null) return null;
    // A new file stream needs its metadata and first segment: refuse when only the reserve is left.
    if (storage === 'file' && except === '') {
      this.disk?.refresh(); // creates are rare: ask the volume, not the estimate
      if (this.diskAvailable() < DISK_RESERVE_BYTES) return storage;
    }
    const add = addBytes < 0 ? 1 : addBytes;
    if (this.opts.serverBudget !== undefined && !this.opts.serverBudget.reservationFits(this, storage, add, except)) return storage;
    const max = storage === 'file' ? this.opts.maxFileStore : this.opts.maxMemStore;
    if (max < 0) return null;
    const reserved = this.reserved(storage, except);
    return reserved > max || add > max - reserved ? storage : null;
  }

  /** True when `subjects` overlap another stream's. */
  overlapsOther(subjects: readonly string[], except = ''): boolean {
    for (const s of this.streams.values()) {
      if (s.name !== except && subjectsOverlap(subjects, s.cfg.subjects)) return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------------------
  // Stream lifecycle

  /** Opens the store for `cfg` (a fresh one on create, the existing one on recovery). */
  private async openStore(cfg: StreamConfig): Promise<MessageStore> {
    if (cfg.storage === 'memory') return new MemoryStore();
    const dir = join(streamDir(this.opts.storeDir, cfg.name), MSGS_DIR);
    // The store logs its own recovery (and any tail it cut off); the child logger names the stream.
    const { store } = await openFileStore(dir, { sync: this.opts.sync, logger: this.logger.child({ stream: cfg.name }) });
    return store;
  }

  /** Creates, persists and starts a stream whose config passed every check. */
  async createStream(cfg: StreamConfig): Promise<Stream> {
    const created = BigInt(Date.now()) * 1_000_000n;
    const dir = streamDir(this.opts.storeDir, cfg.name);
    // A directory without a live stream is one recovery refused: it may hold the only copy of
    // someone's messages, so it is never overwritten.
    if (
      await stat(dir).then(
        () => true,
        () => false,
      )
    ) {
      throw new Error(
        `the stream's directory exists but holds no recovered stream (the start-up log names it); move it away to reuse the name`,
      );
    }
    try {
      await writeMeta(dir, {
        version: META_VERSION,
        created: this.codec.timeToMeta(created),
        config: this.codec.configToMeta(cfg),
      });
    } catch (err) {
      // No create leaves a directory without meta.json behind (ENOSPC, EIO...).
      await removeStreamDir(dir).catch(() => undefined);
      throw err;
    }
    let store: MessageStore;
    try {
      store = await this.openStore(cfg);
    } catch (err) {
      await removeStreamDir(dir).catch(() => undefined);
      throw err;
    }
    let s: Stream;
    try {
      s = Stream.open(this, cfg, store, created);
    } catch (err) {
      // Nothing was acknowledged yet: undo the half-made stream so the name stays usable.
      await store.destroy().catch(() => undefined);
      await removeStreamDir(dir).catch(() => undefined);
      throw err;
    }
    this.streams.set(cfg.name, s);
    this.warnIfUnlimited(cfg);
    return s;
  }

  /** Persists `next` for `s`, then applies it. */
  async updateStream(s: Stream, next: StreamConfig): Promise<void> {
    await writeMeta(streamDir(this.opts.storeDir, s.name), {
      version: META_VERSION,
      created: this.codec.timeToMeta(s.created),
      config: this.codec.configToMeta(next),
    });
    s.applyUpdate(next);
    this.warnIfUnlimited(next);
  }

  /**
   * Stops and removes a stream with all its messages. The directory is renamed away first (one
   * atomic step), so a crash part-way through never leaves a half-deleted stream to recover.
   */
  async deleteStream(s: Stream): Promise<void> {
    this.streams.delete(s.name);
    const root = join(this.opts.storeDir, 'streams');
    const dir = streamDir(this.opts.storeDir, s.name);
    const tomb = join(root, `${DELETED_PREFIX}${s.name}-${Date.now()}`);
    let gone = dir;
    try {
      await rename(dir, tomb);
      await syncDir(root);
      gone = tomb;
    } catch (err) {
      this.logger.warn(
        { stream: s.name, err: (err as Error).message },
        'could not rename the stream directory before removing it',
      );
    }
    await s.destroy();
    await removeStreamDir(gone);
  }

  /** A stream with no limit at all grows until the disk or memory runs out: say so. */
  private warnIfUnlimited(cfg: StreamConfig): void {
    if (isUnlimited(cfg)) {
      this.logger.warn(
        { stream: cfg.name, storage: cfg.storage },
        'stream has no limits (max_msgs, max_bytes, max_age, max_msgs_per_subject): it can grow until the server budget or the disk is full',
      );
    }
  }

  /** Brings back every stream found under `<storeDir>/streams`. A broken one is logged and skipped, never deleted. */
  private async recover(): Promise<void> {
    const root = join(this.opts.storeDir, 'streams');
    let names: string[];
    try {
      names = (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
    } catch {
      return;
    }
    for (const name of names.sort()) {
      const dir = join(root, name);
      if (name.startsWith(DELETED_PREFIX)) {
        await rm(dir, { recursive: true, force: true });
        continue;
      }
      if (name.startsWith('.')) continue;
      if (await isHalfMade(dir)) {
        this.logger.warn(
          { stream: name, dir },
          'removed a stream directory that a failed create left without meta.json or messages',
        );
        await removeStreamDir(dir).catch(() => undefined);
        continue;
      }
      try {
        const meta = await readMeta(dir);
        const checked = checkStreamConfig(this.codec.configFromMeta(meta.config), false, this.codec.reserved);
        if (checked.err !== null) throw new Error(`config is invalid: ${describe(checked.err)}`);
        const cfg = checked.cfg;
        if (cfg.name !== name) throw new Error(`config names stream ${cfg.name}`);
        if (this.overlapsOther(cfg.subjects)) throw new Error('subjects overlap with an already recovered stream');
        const created = this.codec.timeFromMeta(meta.created) ?? BigInt(Date.now()) * 1_000_000n;
        const store = await this.openStore(cfg);
        let stream: Stream;
        try {
          stream = Stream.open(this, cfg, store, created);
        } catch (err) {
          // The store is open (lock, files, writer): close it so the directory is not held.
          await store.close().catch(() => undefined);
          throw err;
        }
        this.streams.set(name, stream);
        this.recoverConsumers(stream);
        this.warnIfUnlimited(cfg);
      } catch (err) {
        this.unrecovered.push(name);
        this.logger.error(
          { stream: name, dir, err: (err as Error).message },
          'stream could not be recovered; its files are left untouched',
        );
      }
    }
  }

  /** Brings back the durable consumers whose state the stream's store kept. A broken one is logged and left on disk. */
  private recoverConsumers(s: Stream): void {
    for (const cname of s.store.consumerNames().sort()) {
      try {
        const cs = s.store.consumer(cname);
        const blob = cs.config();
        if (blob === null) throw new Error('no config was stored');
        const { cfg, created } = decodeConsumerMeta(blob);
        s.consumers.set(cname, Consumer.restore(s, cfg, cs, created));
      } catch (err) {
        this.logger.error(
          { stream: s.name, consumer: cname, err: (err as Error).message },
          'consumer could not be recovered; its state is left untouched',
        );
      }
    }
  }

  /**
   * Creates a consumer on `s` from a checked config. A durable (not mem_storage) on a file stream
   * keeps its config and state in the stream's consumer-state store; the rest live in memory.
   */
  createConsumer(s: Stream, cfg: ConsumerConfig): Consumer {
    const created = BigInt(Date.now()) * 1_000_000n;
    const name = cfg.durable_name !== '' ? cfg.durable_name : cfg.name;
    const durable = cfg.durable_name !== '' && !cfg.mem_storage && s.store.kind === 'file';
    const c = Consumer.create(s, cfg, durable ? s.store.consumer(name) : null, created, encodeConsumerMeta(cfg, created));
    s.consumers.set(name, c);
    return c;
  }

  /** Applies a checked config update to `c`. */
  updateConsumer(c: Consumer, cfg: ConsumerConfig): void {
    c.applyUpdate(cfg, encodeConsumerMeta(cfg, c.created));
  }

  /** Stops `c` and removes its state (CONSUMER.DELETE, inactivity). */
  async deleteConsumer(c: Consumer): Promise<void> {
    if (c.stream.consumers.get(c.name) === c) c.stream.consumers.delete(c.name);
    await c.stop('delete');
  }

  /** Streams sorted by name, optionally only those whose subjects collide with `filter`. */
  sortedStreams(filter = ''): Stream[] {
    const out: Stream[] = [];
    for (const s of this.streams.values()) {
      if (filter === '' || subjectsOverlap([filter], s.cfg.subjects)) out.push(s);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // -------------------------------------------------------------------------------------------
  // Usage (monitoring views are built by the doors from these)

  /** Bytes used by streams of each storage type. */
  usage(): { memory: number; storage: number } {
    return { memory: this.used.memory, storage: this.used.file };
  }

  /** Messages and bytes held by all streams together. */
  totals(): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    for (const s of this.streams.values()) {
      const st = s.state();
      messages += st.messages;
      bytes += st.bytes;
    }
    return { messages, bytes };
  }

  /** Syncs and closes every stream's store (doors detach first). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.serverBudget?.leave(this);
    const all = [...this.streams.values()];
    await Promise.all(
      all.map((s) =>
        s.close().catch((err: Error) => this.logger.error({ stream: s.name, err: err.message }, 'stream close failed')),
      ),
    );
    this.scheduler.close();
    this.disk?.stop();
  }
}

/**
 * A directory a create left unfinished (from before creates cleaned up after themselves): no
 * meta.json (not even its temp file's rename happened) and no message segment, so it holds nothing
 * anyone was ever acknowledged.
 */
async function isHalfMade(dir: string): Promise<boolean> {
  const top = await readdir(dir).catch(() => null);
  if (top === null || top.includes('meta.json')) return false;
  if (!top.includes(MSGS_DIR)) return true;
  const msgs = await readdir(join(dir, MSGS_DIR)).catch(() => null);
  return msgs !== null && !msgs.some((n) => n.startsWith('seg-') || n.includes('.log'));
}

/** No max_msgs, max_bytes, max_age nor max_msgs_per_subject: nothing bounds the stream. */
export function isUnlimited(cfg: StreamConfig): boolean {
  return cfg.max_msgs < 0 && cfg.max_bytes < 0 && cfg.max_age === 0 && cfg.max_msgs_per_subject < 0;
}

/** A config refusal in words, for the recovery log (the wire forms are the doors'). */
function describe(e: ConfigError): string {
  switch (e.kind) {
    case 'invalid':
    case 'pedantic':
      return e.text;
    case 'subjects-overlap':
      return `subject ${JSON.stringify(e.a)} overlaps with ${JSON.stringify(e.b)}`;
    case 'replicas-negative':
      return 'replicas count cannot be negative';
    case 'replicas-unsupported':
      return 'replicas > 1 not supported in non-clustered mode';
  }
}
