/**
 * Entry point of the file store: `openFileStore(dir, opts)` creates or reopens a store directory,
 * recovers it (recovery.ts) and returns the store with a report of what recovery found. The
 * directory belongs to the store alone. A directory lock (../dir-lock.ts) keeps two live
 * processes (or two opens in one process) from writing the same directory.
 */
import { closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { MessageStore, RecoveryReport, SyncPolicy } from '../store.js';
import { DEFAULT_SEGMENT_BYTES, FileStore, MAX_OPEN_SEGMENTS, MAX_SEGMENT_BYTES } from './file-store.js';
import { COMPACT_MIN_BYTES, recoverConsumers } from './consumer-log.js';
import { recoverSegments } from './recovery.js';
import { FdBudget } from './segment.js';
import { lockDirectory, type DirLock } from '../dir-lock.js';
import { nodeFiles, type FileLayer } from './fs-layer.js';
import { DATA_DIR_MODE } from '../modes.js';

/** The store class (for `stats()`) and its default segment size. */
export { FileStore, DEFAULT_SEGMENT_BYTES } from './file-store.js';

/** Options of `openFileStore`. */
export interface FileStoreOptions {
  sync: SyncPolicy;
  /** Target segment file size; defaults to DEFAULT_SEGMENT_BYTES (16 MiB). */
  segmentBytes?: number;
  logger?: { info(o: object, m: string): void; warn(o: object, m: string): void };
  /** Smallest consumer-state log that is compacted (default COMPACT_MIN_BYTES); tests lower it. */
  consumerCompactBytes?: number;
  /** File layer of the write path (fs-layer.ts); defaults to node:fs. Tests inject faults here. */
  files?: FileLayer;
}

/** Segments smaller than this would make per-segment overhead dominate. */
const MIN_SEGMENT_BYTES = 4096;

/** Paths of stores open in this process, so a second open of the same directory fails too. */
const openHere = new Set<string>();

/** Locks `dir` against other processes (dir-lock.ts: dies with the holder, unlike a pid file). */
async function takeLock(dir: string): Promise<DirLock> {
  if (openHere.has(dir)) throw new Error(`store directory ${dir} is already open in this process`);
  const lock = await lockDirectory(dir, { waitMs: 0, what: 'store directory' });
  openHere.add(dir);
  return lock;
}

/**
 * Opens (creating if needed) the file store in `dir`. Never refuses to start over a torn or corrupt
 * tail: the damage is cut off, logged through `opts.logger.warn` and listed in
 * `report.truncated`. Costs one read of every sealed segment's index file and one full scan of the
 * last segment (and of any segment whose index file is missing).
 */
export async function openFileStore(
  dir: string,
  opts: FileStoreOptions,
): Promise<{ store: MessageStore; report: RecoveryReport }> {
  const t0 = performance.now();
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!(segmentBytes >= MIN_SEGMENT_BYTES && segmentBytes <= MAX_SEGMENT_BYTES)) {
    throw new RangeError(`segmentBytes must be within [${MIN_SEGMENT_BYTES}, ${MAX_SEGMENT_BYTES}]`);
  }
  if (opts.sync.kind === 'interval' && !(opts.sync.ms > 0)) throw new RangeError('sync interval must be > 0 ms');
  dir = resolve(dir);
  const created = mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE });
  // A new directory is only durable once its parent's entry is: sync each parent up to the first
  // directory mkdir created.
  if (created !== undefined) syncParents(dir, created);
  const lock = await takeLock(dir);
  // Stores written before the directory lock kept the owner's pid in LOCK; the store removes it on close.
  const lockPath = join(dir, 'LOCK');
  let dirFd = -1;
  try {
    dirFd = openSync(dir, 'r');
    const budget = new FdBudget(MAX_OPEN_SEGMENTS);
    const rec = recoverSegments(dir, budget, opts.logger);
    const crec = recoverConsumers(dir, opts.logger);
    const store = new FileStore(
      {
        dir,
        dirFd,
        sync: opts.sync,
        segmentBytes,
        logger: opts.logger,
        lockPath,
        onClose: () => release(dir, lock),
        consumerCompactBytes: opts.consumerCompactBytes ?? COMPACT_MIN_BYTES,
        files: opts.files ?? nodeFiles,
      },
      rec,
      budget,
      crec,
    );
    const st = store.state();
    const report: RecoveryReport = {
      messages: st.messages,
      lastSeq: st.lastSeq,
      truncated: [...rec.truncated, ...crec.truncated],
      skipped: [...rec.skipped, ...crec.skipped],
      durationMs: performance.now() - t0,
    };
    opts.logger?.info(
      {
        dir,
        messages: st.messages,
        lastSeq: st.lastSeq,
        segments: rec.segs.length,
        truncated: rec.truncated.length + crec.truncated.length,
        skipped: rec.skipped.length + crec.skipped.length,
        consumers: crec.consumers.size,
        ms: Math.round(report.durationMs),
      },
      'file store recovered',
    );
    return { store, report };
  } catch (e) {
    release(dir, lock);
    if (dirFd >= 0) closeSync(dirFd);
    throw e;
  }
}

function release(dir: string, lock: DirLock): void {
  openHere.delete(dir);
  void lock.release();
}

/** fsyncs the parent of every directory from `dir` up to `firstCreated` (which mkdir made). */
function syncParents(dir: string, firstCreated: string): void {
  const stop = dirname(firstCreated);
  for (let d = dirname(dir); ; d = dirname(d)) {
    const fd = openSync(d, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (d === stop || d === dirname(d)) break;
  }
}
