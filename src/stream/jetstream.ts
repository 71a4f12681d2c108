/**
 * The JetStream service: the set of streams, their recovery from disk, the server-wide storage
 * budgets, and the monitoring views (/jsz, $JS.API.INFO). The JSON API itself lives in
 * `api.ts`; it talks to the world only through the Router (specs/nats.md §3).
 */
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { JsErrors, type JsApiError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { Router } from '../core/router.js';
import { openFileStore } from '../store/file/index.js';
import { MemoryStore } from '../store/memory.js';
import type { MessageStore, SyncPolicy } from '../store/store.js';
import { JsApi } from './api.js';
import {
  checkStreamConfig,
  configJson,
  STREAM_CONFIG_SCHEMA,
  subjectsOverlap,
  type Storage,
  type StreamConfig,
} from './config.js';
import { decodeGoJson } from './gojson.js';
import { goTime, parseGoTime } from './gotime.js';
import { META_VERSION, readMeta, removeStreamDir, streamDir, syncDir, writeMeta } from './meta.js';
import { Stream, type StreamHost } from './stream.js';
import { Scheduler } from './timers.js';

/** What `JetStream.start` needs; the server builds it from ServerOptions. */
export interface JetStreamOptions {
  /** Root of durable state: streams live in `<storeDir>/streams/<name>/`. */
  storeDir: string;
  /** Server-wide budgets in bytes for file and memory streams; -1 = unlimited. */
  maxFileStore: number;
  maxMemStore: number;
  /** When a file-store append counts as durable (and a publish is acked). */
  sync: SyncPolicy;
  logger: Logger;
}

/** The only account herald has; nats-server's default global account. */
export const GLOBAL_ACCOUNT = '$G';
/** The JetStream API level herald reports: 0, the level of the 2.10 servers it advertises. */
export const API_LEVEL = 0;
/** Store sub-directory holding a file stream's messages (owned by the file store). */
export const MSGS_DIR = 'msgs';
/** A deleted stream's directory is first renamed to `.deleted-<name>-<ms>` (stream names cannot
 * contain dots, so this never collides), then removed; leftovers are removed at start-up. */
const DELETED_PREFIX = '.deleted-';

/**
 * A running JetStream. Owns every stream and store; `close()` syncs and closes them all.
 * Streams are looked up by name in a Map; budgets are kept as running byte totals so the
 * publish path checks them in O(1).
 */
export class JetStream implements StreamHost {
  readonly scheduler = new Scheduler();
  readonly logger: Logger;
  /** Live streams by name. */
  readonly streams = new Map<string, Stream>();
  /** API requests answered, and those answered with an error (INFO `api`, /jsz). */
  apiTotal = 0;
  apiErrors = 0;
  /** Streams found on disk that recovery refused (reported in /jsz and the ready log, never dropped silently). */
  readonly unrecovered: string[] = [];
  private readonly used: Record<Storage, number> = { file: 0, memory: 0 };
  private readonly api: JsApi;
  private closed = false;

  private constructor(
    readonly router: Router,
    readonly opts: JetStreamOptions,
  ) {
    this.logger = opts.logger;
    this.api = new JsApi(this);
  }

  /** Recovers every stream under `storeDir`, then subscribes the API. */
  static async start(router: Router, opts: JetStreamOptions): Promise<JetStream> {
    const js = new JetStream(router, opts);
    await js.recover();
    js.api.start();
    js.logger.info(
      { storeDir: opts.storeDir, streams: js.streams.size, maxFileStore: opts.maxFileStore, maxMemStore: opts.maxMemStore },
      'JetStream started',
    );
    return js;
  }

  // -------------------------------------------------------------------------------------------
  // StreamHost

  budgetAllows(storage: Storage, bytes: number): boolean {
    const max = storage === 'file' ? this.opts.maxFileStore : this.opts.maxMemStore;
    return max < 0 || this.used[storage] + bytes <= max;
  }

  addUsage(storage: Storage, delta: number): void {
    this.used[storage] += delta;
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
   * max_bytes reserves 1 byte, as in nats-server. Null when it fits, else 10047 / 10028.
   */
  checkReservation(storage: Storage | null, addBytes: number, except = ''): JsApiError | null {
    if (storage === null) return null;
    const max = storage === 'file' ? this.opts.maxFileStore : this.opts.maxMemStore;
    if (max < 0) return null;
    const add = addBytes < 0 ? 1 : addBytes;
    const reserved = this.reserved(storage, except);
    if (reserved > max || add > max - reserved) {
      return storage === 'file' ? JsErrors.StorageResourcesExceededErr : JsErrors.MemoryResourcesExceededErr;
    }
    return null;
  }

  /** True when `subjects` overlap another stream's (10065). */
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
        `stream directory ${dir} exists but holds no recovered stream (see the start-up log); move it away to reuse the name`,
      );
    }
    await writeMeta(dir, { version: META_VERSION, created: goTime(created), config: configJson(cfg) });
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
      created: goTime(s.created),
      config: configJson(next),
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
      try {
        const meta = await readMeta(dir);
        const decoded = decodeGoJson(Buffer.from(JSON.stringify(meta.config)), STREAM_CONFIG_SCHEMA);
        if (decoded.error !== null) throw new Error(`config does not decode: ${decoded.error}`);
        const checked = checkStreamConfig(decoded.value, false);
        if (checked.err !== null) throw new Error(`config is invalid: ${checked.err.description}`);
        const cfg = checked.cfg;
        if (cfg.name !== name) throw new Error(`config names stream ${cfg.name}`);
        if (this.overlapsOther(cfg.subjects)) throw new Error('subjects overlap with an already recovered stream');
        const created = parseGoTime(meta.created) ?? BigInt(Date.now()) * 1_000_000n;
        const store = await this.openStore(cfg);
        this.streams.set(name, Stream.open(this, cfg, store, created));
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

  /** Streams sorted by name, optionally only those whose subjects collide with `filter`. */
  sortedStreams(filter = ''): Stream[] {
    const out: Stream[] = [];
    for (const s of this.streams.values()) {
      if (filter === '' || subjectsOverlap([filter], s.cfg.subjects)) out.push(s);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  // -------------------------------------------------------------------------------------------
  // Monitoring

  /** Bytes used by streams of each storage type. */
  usage(): { memory: number; storage: number } {
    return { memory: this.used.memory, storage: this.used.file };
  }

  /** $JS.API.INFO body fields (nats-server JetStreamAccountStats for the global account). */
  accountInfo(): object {
    return {
      memory: this.used.memory,
      storage: this.used.file,
      reserved_memory: this.reserved('memory'),
      reserved_storage: this.reserved('file'),
      streams: this.streams.size,
      consumers: 0,
      limits: {
        max_memory: this.opts.maxMemStore,
        max_storage: this.opts.maxFileStore,
        max_streams: -1,
        max_consumers: -1,
        max_ack_pending: -1,
        memory_max_stream_bytes: -1,
        storage_max_stream_bytes: -1,
        max_bytes_required: false,
      },
      api: { level: API_LEVEL, total: this.apiTotal, errors: this.apiErrors },
    };
  }

  /**
   * The /jsz body (nats-server JSInfo), without server_id/now which the server adds. Query:
   * `accounts`, `streams`, `consumers`, `config`, `acc`, `offset`, `limit` as in nats-server.
   * herald adds `unlimited_streams`: names of streams with no limit at all (see docs/jetstream.md).
   */
  jsz(query: URLSearchParams): object {
    const flag = (k: string): boolean => {
      const v = query.get(k);
      return v !== null && v !== '0' && v !== 'false';
    };
    const consumers = flag('consumers');
    const streams = flag('streams') || consumers;
    const acc = query.get('acc') ?? '';
    const accounts = flag('accounts') || (streams && acc === '') || acc !== '';
    const withConfig = flag('config');
    const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
    let messages = 0;
    let bytes = 0;
    for (const s of this.streams.values()) {
      const c = s.counts();
      messages += c.messages;
      bytes += c.bytes;
    }
    const sync = this.opts.sync;
    const config: Record<string, unknown> = {
      max_memory: this.opts.maxMemStore,
      max_storage: this.opts.maxFileStore,
      store_dir: this.opts.storeDir,
    };
    if (sync.kind === 'interval') config.sync_interval = sync.ms * 1_000_000;
    if (sync.kind === 'always') config.sync_always = true;
    const unlimited = this.sortedStreams()
      .filter((s) => isUnlimited(s.cfg))
      .map((s) => s.name);
    const body: Record<string, unknown> = {
      memory: this.used.memory,
      storage: this.used.file,
      reserved_memory: this.reserved('memory'),
      reserved_storage: this.reserved('file'),
      accounts: 1,
      ha_assets: 0,
      api: { level: API_LEVEL, total: this.apiTotal, errors: this.apiErrors },
      config,
      streams: this.streams.size,
      consumers: 0,
      messages,
      bytes,
      unlimited_streams: unlimited,
      unrecovered_streams: this.unrecovered,
    };
    if (accounts && (acc === '' || acc === GLOBAL_ACCOUNT) && offset === 0) {
      const detail: Record<string, unknown> = {
        name: GLOBAL_ACCOUNT,
        id: GLOBAL_ACCOUNT,
        memory: this.used.memory,
        storage: this.used.file,
        // The one account reserves what the top level counts (nats-server prints the account's
        // limit here, -1 as uint64 for "unlimited", which a JSON number cannot carry exactly).
        reserved_memory: this.reserved('memory'),
        reserved_storage: this.reserved('file'),
        accounts: 0,
        ha_assets: 0,
        api: { level: 0, total: this.apiTotal, errors: this.apiErrors },
      };
      if (streams) {
        detail.stream_detail = this.sortedStreams().map((s) => {
          const d: Record<string, unknown> = { name: s.name, created: goTime(s.created) };
          if (withConfig) d.config = configJson(s.cfg);
          d.state = s.stateJson(false);
          if (isUnlimited(s.cfg)) d.unlimited = true;
          return d;
        });
      }
      body.account_details = [detail];
    }
    body.total = 1;
    return body;
  }

  /** Unsubscribes the API, then syncs and closes every stream's store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.api.stop();
    await this.api.idle();
    const all = [...this.streams.values()];
    await Promise.all(
      all.map((s) =>
        s.close().catch((err: Error) => this.logger.error({ stream: s.name, err: err.message }, 'stream close failed')),
      ),
    );
    this.scheduler.close();
  }
}

/** No max_msgs, max_bytes, max_age nor max_msgs_per_subject: nothing bounds the stream. */
export function isUnlimited(cfg: StreamConfig): boolean {
  return cfg.max_msgs < 0 && cfg.max_bytes < 0 && cfg.max_age === 0 && cfg.max_msgs_per_subject < 0;
}
