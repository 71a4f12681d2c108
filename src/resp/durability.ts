/**
 * Durability of the Redis keyspace (docs/redis.md "Durability"): connects the model's resolved
 * effects (src/stream/redis/, `setEffectSink` / `applyEffect` / `snapshotEffects`) to the keyspace
 * log (src/store/redis/keyspace-log.ts), checks a write command against the budgets before it
 * runs, and reports INFO `persistence`. Replies wait for the log in src/resp/reply-barrier.ts.
 *
 * Failure rule (Redis aof.c exits on a failed write under `appendfsync always`; herald must not
 * lie and must not die): when an append or a write of the log fails, the model is rebuilt from
 * what is on disk (what a restart would find), the replies waiting for the failed writes become
 * errors, and every later write command is refused with `-MISCONF` until restart; reads go on.
 *
 * Costs: one record encoding per effect (in the model), one append into the writer's chunk.
 */
import { join } from 'node:path';
import { RedisErrors, redisError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import type { SyncPolicy } from '../store/store.js';
import type { FileLayer } from '../store/file/fs-layer.js';
import { FileKeyspaceLog, MemoryKeyspaceLog, type KeyspaceLog } from '../store/redis/keyspace-log.js';
import { readKeyspace, type KeyspaceRecoveryReport } from '../store/redis/keyspace-recovery.js';

/** The model's side of the contract (names fixed with src/stream/redis/model.ts). */
export interface EffectModel {
  setEffectSink(sink: ((db: number, key: string, rec: Buffer) => void) | null): void;
  applyEffect(db: number, key: string, rec: Buffer): void;
  snapshotEffects(): Iterable<{ db: number; key: string; rec: Buffer }>;
  /** The snapshot's size without encoding it (compaction checks). */
  snapshotSize?(): { records: number; keyBytes: number; recBytes: number };
}

/** Empties the keyspace (the model's values live in it) before a rebuild from disk. */
export interface ResettableKeyspace {
  flush(db: number | 'all'): void;
}

/** How often `used_memory` is re-read for the `maxmemory` check: cheap, and fresh enough for a cap. */
const MEMORY_POLL_MS = 100;

/** Where and how the keyspace is kept. */
export interface DurabilityOptions {
  /** `<data dir>/redis` holds the log; null keeps the keyspace in memory only. */
  dir: string | null;
  sync: SyncPolicy;
  logger: Logger;
  /** The server's file budget (max_file_store) and the other bytes counted against it. */
  maxFileStore?: number;
  otherFileBytes?: () => number;
  /** A fault-injecting file layer (tests). */
  fs?: FileLayer;
  compactBytes?: number;
}

/** The durable (or in-memory) home of one door's keyspace; see the module comment. */
export class RedisDurability {
  /** Set once the log failed: the error text write commands get. */
  private misconf: string | null = null;
  private failReason = '';
  private lastWriteOk = true;
  private memAt = 0;
  private mem = 0;
  /** Between a failed append (inside a command) and the rebuild from disk at the end of the turn. */
  private reloading = false;
  private afterReload: (() => void)[] = [];

  private constructor(
    readonly log: KeyspaceLog,
    readonly report: KeyspaceRecoveryReport | null,
    private readonly model: EffectModel,
    private readonly keyspace: ResettableKeyspace,
    private readonly opts: DurabilityOptions,
  ) {}

  /** Opens the log, replays it into `model`, then routes every new effect to it. */
  static async open(opts: DurabilityOptions, model: EffectModel, keyspace: ResettableKeyspace): Promise<RedisDurability> {
    let log: KeyspaceLog;
    let report: KeyspaceRecoveryReport | null = null;
    if (opts.dir === null) log = new MemoryKeyspaceLog();
    else {
      const f = await FileKeyspaceLog.open(
        {
          dir: opts.dir,
          sync: opts.sync,
          logger: opts.logger,
          fs: opts.fs,
          compactBytes: opts.compactBytes,
          maxBytes: opts.maxFileStore,
          otherBytes: opts.otherFileBytes,
        },
        {
          apply: (db, key, rec) => model.applyEffect(db, key, rec),
          snapshot: () => model.snapshotEffects(),
          snapshotSize: model.snapshotSize === undefined ? undefined : () => (model.snapshotSize as NonNullable<EffectModel['snapshotSize']>)(),
        },
      );
      log = f;
      report = f.report;
    }
    const d = new RedisDurability(log, report, model, keyspace, opts);
    // In memory there is nothing to keep: no sink, so the model encodes no records at all.
    if (opts.dir !== null) model.setEffectSink((db, key, rec) => d.append(db, key, rec));
    return d;
  }

  /** The `<data dir>/redis` directory of a server's data directory. */
  static dirOf(dataDir: string): string {
    return join(dataDir, 'redis');
  }

  /** Error text for a command with these Redis flags before it runs (Redis processCommand order: MISCONF, then OOM), or null. */
  refuse(flags: readonly string[], maxmemory: () => number): string | null {
    if (this.misconf !== null && flags.includes('write')) return this.misconf;
    if (!flags.includes('denyoom')) return null;
    if (this.log.overBudget()) return RedisErrors.Oom;
    const max = maxmemory();
    if (max > 0 && this.usedMemory() > max) return RedisErrors.Oom;
    return null;
  }

  /** True while replies queued now must wait: effects not yet durable, or a rebuild pending. */
  get holding(): boolean {
    return this.reloading || (this.misconf === null && this.log.dirty);
  }

  /**
   * Calls `cb(true)` once everything appended so far is durable, `cb(false)` when it never will
   * be (the log failed; the model has been rebuilt from disk by then). In call order.
   */
  whenSettled(cb: (ok: boolean) => void): void {
    if (this.reloading) {
      this.afterReload.push(() => cb(false));
      return;
    }
    if (this.misconf !== null) {
      process.nextTick(cb, true); // after the rebuild: replies show what is on disk
      return;
    }
    this.log.whenDurable((err) => {
      if (err !== null) this.fail(err, true);
      cb(err === null);
    });
  }

  /** The reply a command gets when the log write its effect waited for failed. */
  failedReply(): string {
    return redisError(RedisErrors.LogWriteLost, { reason: this.failReason });
  }

  /** INFO `persistence` fields this door can state honestly. */
  info(): [string, string | number][] {
    const s = this.log.stats();
    const fields: [string, string | number][] = [
      ['aof_enabled', s.enabled ? 1 : 0],
      ['aof_rewrite_in_progress', 0],
      ['aof_rewrites', s.rewrites],
      ['aof_last_write_status', this.lastWriteOk ? 'ok' : 'err'],
    ];
    if (s.enabled) fields.push(['aof_current_size', s.size], ['aof_base_size', s.baseSize]);
    return fields;
  }

  async close(): Promise<void> {
    this.model.setEffectSink(null);
    await this.log.close();
  }

  /** The sink: one effect of the command now running. A failed append rebuilds from disk. */
  private append(db: number, key: string, rec: Buffer): void {
    if (this.misconf !== null) {
      // A change after the failure (no write should get here): bring the model back to the disk.
      if (!this.reloading) {
        this.reloading = true;
        setImmediate(() => this.reload());
      }
      return;
    }
    try {
      this.log.append(db, key, rec);
    } catch (e) {
      this.fail(e as Error, false);
    }
  }

  /**
   * The log can no longer be written: stop taking effects, rebuild the model from the file (what
   * a restart would find), and refuse writes from now on. Idempotent.
   */
  private fail(err: Error, outsideCommand: boolean): void {
    if (this.misconf !== null) return;
    this.lastWriteOk = false;
    const reason = (err as NodeJS.ErrnoException).code ?? err.message;
    this.failReason = reason;
    this.misconf = redisError(RedisErrors.LogWriteFailed, { reason });
    this.opts.logger.error({ err: err.message }, 'Redis keyspace log write failed: keyspace reloaded from disk, writes refused until restart');
    this.model.setEffectSink(null);
    if (outsideCommand) this.reload();
    else {
      // Inside a command: its model call must finish before the state goes.
      this.reloading = true;
      setImmediate(() => this.reload());
    }
  }

  /** Rebuilds the model from the file, as a restart would. */
  private reload(): void {
    this.keyspace.flush('all');
    if (this.opts.dir !== null) {
      const rep = readKeyspace(this.opts.dir, (db, key, rec) => this.model.applyEffect(db, key, rec));
      this.opts.logger.warn({ records: rep.records, skipped: rep.skipped.length, truncated: rep.truncated.length }, 'Redis keyspace reloaded from its log');
    }
    this.reloading = false;
    const w = this.afterReload;
    this.afterReload = [];
    for (const f of w) f();
  }

  private usedMemory(): number {
    const now = Date.now();
    if (now - this.memAt > MEMORY_POLL_MS) {
      const m = process.memoryUsage();
      this.mem = m.heapUsed + m.external; // INFO used_memory
      this.memAt = now;
    }
    return this.mem;
  }
}
