/**
 * Group commit. Every record appended during one event-loop turn is encoded straight into a
 * pending chunk; at the end of the turn (setImmediate) one batch takes every pending chunk, writes
 * each file's run of chunks with one `pwritev` (message segments and consumer-state logs alike),
 * then — under `sync: always` — one `fdatasync` per touched file, and only then fires the `whenDurable` callbacks of that batch. While a batch is
 * in flight the next one accumulates, so a slow disk makes batches bigger, not queues longer.
 * Writes and syncs go through libuv's thread pool; the event loop never blocks on the disk.
 *
 * Between batches the same loop runs maintenance jobs (index files for sealed segments,
 * compaction, removal of dead segments), so no job ever races a write to the same file.
 *
 * Costs: chunks are CHUNK_BYTES each, reused from a small pool; pending bytes are capped at
 * MAX_PENDING_BYTES (appends past it are refused rather than growing memory without bound).
 *
 * No space: when a write or sync of a batch fails with ENOSPC/EDQUOT, everything not yet durable
 * (that batch and whatever queued behind it) is undone: each file is cut back to where the batch
 * began, the pending chunks are dropped, `onRollback` lets the owner undo the same records in
 * memory (synchronously, before anything else runs), and every waiting `whenDurable` callback gets
 * the error. The writer then waits NO_SPACE_RETRY_MS and carries on: no restart needed once space
 * is freed (docs/storage-format.md "Disk full").
 */
import { nodeFiles, type FileLayer } from './fs-layer.js';
import type { SyncPolicy } from '../store.js';
import type { Chunk, Segment, WriteTarget } from './segment.js';

/** Size of a pending chunk: big enough that one turn's burst needs few, small enough to pool. */
export const CHUNK_BYTES = 1 << 20;
/** Chunks kept for reuse once written; beyond this they are left to the GC. */
const CHUNK_POOL_MAX = 8;
/** Bytes accepted but not yet written before append refuses: bounds memory when the disk stalls. */
export const MAX_PENDING_BYTES = 512 * 1024 * 1024;
/** Buffers handed to one pwritev call (IOV_MAX on Linux is 1024). */
const MAX_IOV = 1024;
/** After a batch was undone for want of space, the next one waits this long: a disk that stays
 * full costs one failed write per interval, not a busy loop (the free-space poll's period). */
export const NO_SPACE_RETRY_MS = 250;

/** True for the errors that mean "the volume has no room" (ENOSPC, EDQUOT): such a batch is
 * undone (`Writer.onRollback`) and the store stays in service; any other error fails the store. */
export function isNoSpace(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** An in-place overwrite the loop performs after the data writes of its batch. */
export interface EraseOp {
  seg: Segment;
  seq: number;
}

/** A maintenance step, run between batches once every record appended before it is written. */
export interface Job {
  gen: number;
  run(): Promise<void>;
}

/** Where the writer reports failures (pino-compatible). */
export interface WriterLogger {
  warn(o: object, m: string): void;
  info(o: object, m: string): void;
}

/**
 * Marks `open` chunks taken and orders them by file: message segments first, then consumer logs
 * (`writeOrder`), each file's chunks together and in offset order. A process killed between two
 * writes of a batch thus never keeps an ack whose message it lost.
 */
function takeInWriteOrder(open: Chunk[]): Chunk[] {
  const groups = new Map<WriteTarget, Chunk[]>();
  for (const c of open) {
    c.open = false;
    const g = groups.get(c.seg);
    if (g === undefined) groups.set(c.seg, [c]);
    else g.push(c);
  }
  if (groups.size === 1) return open;
  const ordered = [...groups.values()].sort((a, b) => a[0].seg.writeOrder - b[0].seg.writeOrder);
  return ordered.flat();
}

function writevAll(fs: FileLayer, fd: number, bufs: Buffer[], pos: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let i = 0;
    let p = pos;
    const step = (): void => {
      const slice = bufs.length - i > MAX_IOV ? bufs.slice(i, i + MAX_IOV) : i === 0 ? bufs : bufs.slice(i);
      fs.writev(fd, slice, p, (err, n) => {
        if (err !== null) return reject(err);
        p += n;
        // Skip fully written buffers; re-slice a partly written one.
        while (i < bufs.length && n >= bufs[i].length) {
          n -= bufs[i].length;
          i++;
        }
        if (i === bufs.length) return resolve();
        if (n > 0) bufs[i] = bufs[i].subarray(n);
        step();
      });
    };
    step();
  });
}

/** Writes all of `buf` at `pos`. */
export function writeAll(fd: number, buf: Buffer, pos: number, fs: FileLayer = nodeFiles): Promise<void> {
  return writevAll(fs, fd, [buf], pos);
}

/** `fdatasync` as a promise (libuv thread pool). */
export function fdatasyncP(fd: number, fs: FileLayer = nodeFiles): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (err) => (err === null ? resolve() : reject(err))));
}

/** `ftruncate` as a promise, through the layer when it has one. */
function ftruncateP(fs: FileLayer, fd: number, len: number): Promise<void> {
  const f = fs.ftruncate ?? nodeFiles.ftruncate;
  return new Promise((resolve, reject) =>
    (f as NonNullable<FileLayer['ftruncate']>)(fd, len, (err) => (err === null ? resolve() : reject(err))),
  );
}

/** `fsync` as a promise (used on the directory after creating or renaming a segment). */
export function fsyncP(fd: number, fs: FileLayer = nodeFiles): Promise<void> {
  return new Promise((resolve, reject) => fs.fsync(fd, (err) => (err === null ? resolve() : reject(err))));
}

/**
 * The group-commit writer of one file store. `reserve` is the only hot-path call: it returns the
 * file offset of `len` bytes and leaves `buf`/`pos` pointing at where the caller encodes them.
 */
export class Writer {
  /** Where the caller of `reserve` must encode its record. */
  buf: Buffer = Buffer.alloc(0);
  pos = 0;

  /** The chunk of the last reserve (the hot path when one file takes a burst). */
  private cur: Chunk | null = null;
  /** Every open chunk (not yet taken by a batch), in creation order. */
  private queued: Chunk[] = [];
  private erases: EraseOp[] = [];
  private jobs: Job[] = [];
  private readonly pool: Buffer[] = [];
  /** Increments on every reserve; `doneGen` is the highest gen known written (and synced). */
  private gen = 0;
  private doneGen = 0;
  private waitGens: number[] = [];
  private waitCbs: ((err: Error | null) => void)[] = [];
  private pendingBytes = 0;
  private running = false;
  private scheduled = false;
  private syncDue = false;
  private readonly unsynced = new Set<WriteTarget>();
  private timer: NodeJS.Timeout | null = null;
  private idleWaiters: (() => void)[] = [];
  failed: Error | null = null;
  /** Called as a batch starts, before it takes the pending chunks: a last record may join it. */
  onBatch: (() => void) | null = null;
  /**
   * Called when a batch is undone for want of space, with every file that was cut back (its `size`
   * and `written` already lowered, its pending chunks dropped). It must drop, in memory, whatever
   * pointed into the bytes that are gone; records it reserves form the next batch.
   */
  onRollback: ((targets: Set<WriteTarget>) => void) | null = null;
  /** Chunks and erases of the batch in flight (the first files a rollback cuts back). */
  private inflight: Chunk[] = [];
  private inflightErases: EraseOp[] = [];
  /** No batch starts before this time (ms epoch): set by a rollback. */
  private pausedUntil = 0;
  /** Counters for monitoring and benchmarks. */
  batches = 0;
  syncs = 0;
  /** Batches undone because the volume was full. */
  rollbacks = 0;

  constructor(
    private readonly policy: SyncPolicy,
    private readonly dirFd: number,
    private readonly eraseFn: (op: EraseOp) => Promise<WriteTarget | null>,
    private readonly logger: WriterLogger | undefined,
    /** The file layer every write, sync, rename and unlink of this store goes through. */
    readonly fs: FileLayer = nodeFiles,
  ) {
    if (policy.kind === 'interval') {
      this.timer = setInterval(
        () => {
          if (this.unsynced.size === 0 && this.queued.length === 0) return;
          this.syncDue = true;
          this.kick();
        },
        Math.max(1, policy.ms),
      );
      this.timer.unref();
    }
  }

  /** Bytes accepted and not yet written. */
  get backlog(): number {
    return this.pendingBytes;
  }

  /** Increments on every reserve: a record reserved now belongs to generation `generation`. */
  get generation(): number {
    return this.gen;
  }

  /** Every record of a generation at or below this is durable. */
  get durableGeneration(): number {
    return this.doneGen;
  }

  /**
   * Reserves `len` bytes at the end of `seg` and returns their file offset; the caller encodes the
   * record at `this.buf[this.pos]` before doing anything else. Throws when the store failed or the
   * backlog is full.
   */
  reserve(seg: WriteTarget, len: number): number {
    if (this.failed !== null) throw this.failed;
    if (this.pendingBytes + len > MAX_PENDING_BYTES) {
      throw new Error(`store write backlog over ${MAX_PENDING_BYTES} bytes; disk too slow`);
    }
    let c = this.cur;
    if (c === null || c.seg !== seg || c.len + len > c.buf.length) {
      // Each file keeps filling its own open chunk, so records for several files interleaved in
      // one turn (a message, its ack, the next message) still cost one chunk per file.
      const last = seg.pending.length > 0 ? seg.pending[seg.pending.length - 1] : null;
      if (last !== null && last.open && last.len + len <= last.buf.length) c = last;
      else {
        const buf = len > CHUNK_BYTES ? Buffer.allocUnsafeSlow(len) : (this.pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES));
        c = { seg, buf, off: seg.size, len: 0, open: true };
        seg.pending.push(c);
        this.queued.push(c);
      }
      this.cur = c;
    }
    const off = c.off + c.len;
    this.buf = c.buf;
    this.pos = c.len;
    c.len += len;
    seg.size += len;
    this.pendingBytes += len;
    this.gen++;
    this.kick();
    return off;
  }

  /** Queues an in-place overwrite of `seq`'s record (after the batch's data writes). */
  erase(op: EraseOp): void {
    this.erases.push(op);
    this.kick();
  }

  /** Queues a maintenance job; it runs after everything reserved so far is written. */
  addJob(run: () => Promise<void>): void {
    this.jobs.push({ gen: this.gen, run });
    this.kick();
  }

  /** Calls `cb` once every record reserved so far is durable under the policy. */
  whenDurable(cb: (err: Error | null) => void): void {
    if (this.failed !== null) {
      process.nextTick(cb, this.failed);
      return;
    }
    if (this.doneGen >= this.gen) {
      process.nextTick(cb, null);
      return;
    }
    this.waitGens.push(this.gen);
    this.waitCbs.push(cb);
    this.kick();
  }

  /** Resolves once nothing is pending or running. With `sync`, also fsyncs what was written. */
  async drain(sync: boolean): Promise<void> {
    if (sync) this.syncDue = true;
    const rollbacks = this.rollbacks;
    this.kick();
    while (this.running || this.scheduled || this.hasWork()) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
      if (this.failed !== null) throw this.failed;
      // A full disk would make this wait for free space forever: give up, as a close must.
      if (this.rollbacks !== rollbacks) throw new Error('ENOSPC: no space left on device; unwritten records dropped');
    }
    if (this.failed !== null) throw this.failed;
  }

  /** Drops a file that is being removed from the set awaiting sync (a writer job only). */
  forget(seg: WriteTarget): void {
    this.unsynced.delete(seg);
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  private hasWork(): boolean {
    return (
      this.queued.length > 0 ||
      this.erases.length > 0 ||
      this.jobs.length > 0 ||
      this.waitCbs.length > 0 ||
      (this.syncDue && this.unsynced.size > 0)
    );
  }

  private appendsWaiting(): boolean {
    return this.queued.length > 0 || this.waitCbs.length > 0;
  }

  private kick(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    const go = (): void => {
      this.scheduled = false;
      void this.loop();
    };
    const wait = this.pausedUntil - Date.now();
    if (wait > 0) setTimeout(go, wait);
    else setImmediate(go);
  }

  private release(c: Chunk): void {
    if (c.buf.length === CHUNK_BYTES && this.pool.length < CHUNK_POOL_MAX) this.pool.push(c.buf);
  }

  private async loop(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.failed === null && this.hasWork()) await this.batch();
    } catch (err) {
      if (isNoSpace(err) && this.onRollback !== null) await this.rollback(err as Error);
      else this.fail(err as Error);
    } finally {
      this.running = false;
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
      // Work queued by a rollback (or during it) waits out the pause, then goes.
      if (this.failed === null && this.hasWork()) this.kick();
    }
  }

  private async batch(): Promise<void> {
    this.onBatch?.();
    const chunks = takeInWriteOrder(this.queued);
    this.queued = [];
    this.cur = null;
    const erases = this.erases;
    this.erases = [];
    this.inflight = chunks;
    this.inflightErases = erases;
    const gen = this.gen;
    this.batches++;

    // Data: one pwritev per run of chunks of the same segment.
    const touched: WriteTarget[] = [];
    let i = 0;
    while (i < chunks.length) {
      const seg = chunks[i].seg;
      let j = i;
      const bufs: Buffer[] = [];
      let expect = chunks[i].off;
      while (j < chunks.length && chunks[j].seg === seg && chunks[j].off === expect) {
        bufs.push(chunks[j].buf.subarray(0, chunks[j].len));
        expect += chunks[j].len;
        j++;
      }
      // Written even when the segment was retired meanwhile: its file lives until its removal
      // job (queued after this chunk, so it runs after this batch), and the records in the chunk
      // (tombstones, the data behind a SeqMark) were promised durable to callers of this batch.
      seg.busy++;
      try {
        await writevAll(this.fs, seg.open(), bufs, chunks[i].off);
      } finally {
        seg.busy--;
      }
      touched.push(seg);
      seg.written = expect;
      for (let k = i; k < j; k++) {
        const c = chunks[k];
        const at = seg.pending.indexOf(c);
        if (at >= 0) seg.pending.splice(at, 1);
        this.pendingBytes -= c.len;
        this.release(c);
      }
      i = j;
    }
    for (const op of erases) {
      const seg = await this.eraseFn(op);
      if (seg !== null) touched.push(seg);
    }
    for (const s of touched) this.unsynced.add(s);

    if (this.policy.kind === 'always' || this.syncDue) {
      this.syncDue = false;
      let dir = false;
      for (const s of this.unsynced) {
        s.busy++;
        try {
          await fdatasyncP(s.open(), this.fs);
        } finally {
          s.busy--;
        }
        if (s.needsDirSync) {
          dir = true;
          s.needsDirSync = false;
        }
      }
      this.unsynced.clear();
      if (dir) await fsyncP(this.dirFd, this.fs);
      this.syncs++;
    }

    this.doneGen = gen;
    this.inflight = [];
    this.inflightErases = [];
    this.fire(gen, null);

    // Maintenance that waited for these records. While appends are waiting, only one job runs
    // between two batches, so a burst of compactions delays acks by one job, not by all of them.
    let ran = 0;
    while (this.jobs.length > 0 && this.jobs[0].gen <= gen && this.failed === null) {
      if (ran > 0 && this.appendsWaiting()) break;
      const job = this.jobs.shift() as Job;
      try {
        await job.run();
      } catch (err) {
        // Index files and compactions are optional work: without room they are skipped, not fatal.
        if (!isNoSpace(err)) throw err;
        this.logger?.warn({ err: (err as Error).message }, 'file store: maintenance job skipped, no space');
      }
      ran++;
    }
  }

  /**
   * Undoes everything not yet durable after `err` (ENOSPC) hit the batch in flight: see the class
   * comment. Synchronous up to the callbacks, so no read sees a dropped chunk; then cuts the files.
   */
  private async rollback(err: Error): Promise<void> {
    const gen = this.gen;
    const base = new Map<WriteTarget, number>();
    for (const c of this.inflight.concat(this.queued)) {
      const b = base.get(c.seg);
      if (b === undefined || c.off < b) base.set(c.seg, c.off);
    }
    for (const [t, off] of base) {
      for (const c of t.pending) this.release(c);
      t.pending.length = 0;
      t.size = off;
      if (t.written > off) t.written = off;
    }
    // Erases of the failed batch run again later (their records' bytes may be back).
    this.erases = this.inflightErases.concat(this.erases);
    this.inflight = [];
    this.inflightErases = [];
    this.queued = [];
    this.cur = null;
    this.pendingBytes = 0;
    this.rollbacks++;
    this.pausedUntil = Date.now() + NO_SPACE_RETRY_MS;
    this.logger?.warn(
      { err: err.message, files: [...base.keys()].map((t) => t.name) },
      'file store: no space to write a batch; its records were undone, retrying',
    );
    try {
      (this.onRollback as (targets: Set<WriteTarget>) => void)(new Set(base.keys()));
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.doneGen = gen;
    this.fire(gen, err);
    try {
      for (const [t, off] of base) {
        t.busy++;
        try {
          await ftruncateP(this.fs, t.open(), off);
        } finally {
          t.busy--;
        }
        this.unsynced.add(t);
      }
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private fire(gen: number, err: Error | null): void {
    let k = 0;
    const n = this.waitGens.length;
    while (k < n && this.waitGens[k] <= gen) k++;
    if (k === 0) return;
    const cbs = this.waitCbs.splice(0, k);
    this.waitGens.splice(0, k);
    for (const cb of cbs) {
      try {
        cb(err);
      } catch (e) {
        this.logger?.warn({ err: e }, 'whenDurable callback threw');
      }
    }
  }

  private fail(err: Error): void {
    if (this.failed === null) {
      this.failed = err;
      this.logger?.warn({ err: err.message }, 'file store write failed; store is now read-only');
    }
    this.fire(Number.MAX_SAFE_INTEGER, err);
  }
}
