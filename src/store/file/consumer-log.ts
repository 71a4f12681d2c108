/**
 * Consumer-state stores of a file store: one small append-only log per consumer in the store's
 * directory, `cons-<name>.<generation>.log`, written through the store's own group-commit writer
 * (writer.ts), so a message and the ack that follows it in one event-loop turn are written in one
 * batch, fdatasynced together, and `whenDurable` on either covers both.
 *
 * A log starts with a Snapshot record (consumer-record.ts) and continues with one delta record per
 * call. When it grows past COMPACT_RATIO × the size a snapshot would have (and past
 * COMPACT_MIN_BYTES), the consumer switches to the next generation: a new file whose first record
 * is a fresh snapshot, written in the same batch as everything else. A writer job then fdatasyncs
 * the new file, fsyncs the directory and only then unlinks the old one. Recovery takes the newest
 * generation whose first record is a valid snapshot, so a crash at any point finds either the old
 * or the new file complete (docs/storage-format.md "Consumer state").
 */
import { closeSync, openSync, readdirSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { checkSeqs, checkState, ConsumerBook, nowTs } from '../consumer-state.js';
import type { ConsumerState, ConsumerStore, RecoveryReport } from '../store.js';
import {
  ACK_LEN,
  applyConsumerRecord,
  checkConsumerRecord,
  configLen,
  consumerLogKey,
  ConsumerRecord,
  DELIVERED_LEN,
  encodeAck,
  encodeConfig,
  encodeDelivered,
  encodeHead,
  encodeSnapshot,
  HEAD_LEN,
  snapshotLen,
} from './consumer-record.js';
import { MAX_RECORD_BYTES, newSegmentKey, reasonText } from './record.js';
import type { Chunk, WriteTarget } from './segment.js';
import { fdatasyncP, fsyncP, type Writer } from './writer.js';
import { DATA_FILE_MODE } from '../modes.js';

/** A log is compacted once it is this many times the size of the snapshot that would replace it. */
export const COMPACT_RATIO = 4;
/** …and at least this long: below it a rewrite costs more than the replay it saves. */
export const COMPACT_MIN_BYTES = 1024 * 1024;
/** Longest escaped name in a file name (Linux allows 255 bytes per name; the rest is the suffix). */
const MAX_ESCAPED_NAME = 220;

const LOG_RE = /^cons-([A-Za-z0-9_%-]+)\.(\d{10})\.log$/;

/** File-name form of a consumer name: bytes outside [A-Za-z0-9_-] become %XX (reversible). */
export function escapeName(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function logName(name: string, gen: number): string {
  return `cons-${escapeName(name)}.${String(gen).padStart(10, '0')}.log`;
}

/** One generation of a consumer's log: a write target for the group-commit writer. */
export class ConsumerFile implements WriteTarget {
  fd = -1;
  size = 0;
  written = 0;
  readonly pending: Chunk[] = [];
  needsDirSync = false;
  busy = 0;
  /** Written after the message segments of the same batch (writer.ts `takeInWriteOrder`). */
  readonly writeOrder = 1;
  /** Seed of every record CRC in this file (its two Head records carry it); 0 for older logs. */
  key = 0;

  constructor(
    readonly name: string,
    readonly path: string,
  ) {}

  open(): number {
    if (this.fd < 0) this.fd = openSync(this.path, 'r+');
    return this.fd;
  }

  close(): void {
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      closeSync(fd);
    }
  }
}

/** What recovery found for one consumer. */
export interface RecoveredConsumer {
  book: ConsumerBook;
  file: ConsumerFile;
  gen: number;
  /** Damaged records were stepped over: the log is rewritten (a fresh snapshot) once opened. */
  resynced: boolean;
}

/** Consumers found in a store directory, the highest generation seen per name, and the cuts made. */
export interface RecoveredConsumers {
  consumers: Map<string, RecoveredConsumer>;
  gens: Map<string, number>;
  truncated: RecoveryReport['truncated'];
  skipped: RecoveryReport['skipped'];
}

/** Logger shape (pino-compatible). */
interface Logger {
  info(o: object, m: string): void;
  warn(o: object, m: string): void;
}

/**
 * Reads every consumer log in `dir`: per consumer the newest generation that starts with a valid
 * snapshot, replayed up to its first bad record (the file is cut there and the cut reported). Newer
 * generations without a valid snapshot and older generations are removed.
 */
export function recoverConsumers(dir: string, logger: Logger | undefined): RecoveredConsumers {
  const byName = new Map<string, { gen: number; file: string }[]>();
  for (const f of readdirSync(dir)) {
    const m = LOG_RE.exec(f);
    if (m === null) continue;
    let name: string;
    try {
      name = decodeURIComponent(m[1]);
    } catch {
      continue; // not a name escapeName wrote: not ours
    }
    let l = byName.get(name);
    if (l === undefined) byName.set(name, (l = []));
    l.push({ gen: Number(m[2]), file: f });
  }
  const out: RecoveredConsumers = { consumers: new Map(), gens: new Map(), truncated: [], skipped: [] };
  const cut = (file: string, offset: number, bytes: number, reason: string): void => {
    const c = { segment: file, offset, bytes, firstSeqLost: null, reason };
    out.truncated.push(c);
    logger?.warn({ dir, ...c }, 'file store: damaged consumer-state log cut');
  };
  for (const [name, files] of byName) {
    files.sort((a, b) => b.gen - a.gen);
    out.gens.set(name, files[0].gen);
    let found = false;
    for (const { gen, file } of files) {
      const path = join(dir, file);
      if (found) {
        unlinkSync(path);
        continue;
      }
      const b = readFileSync(path);
      const r = replayLog(b);
      const { book, o, reason } = r;
      for (const sk of r.skipped) {
        const e = { segment: file, ...sk, seq: null, firstSeqLost: null, lastSeqLost: null, deleteMayBeUndone: false };
        out.skipped.push(e);
        logger?.warn({ dir, ...e }, 'file store: damaged consumer-state record stepped over');
      }
      if (!r.snapshot) {
        // No valid snapshot: an unfinished switch to this generation (an older one follows) or a
        // consumer whose first write never completed. Nothing in it can be applied.
        if (b.length > 0) cut(file, 0, b.length, `${reason}; no valid snapshot, file removed`);
        unlinkSync(path);
        continue;
      }
      if (o < b.length) {
        cut(file, o, b.length - o, reason);
        truncateSync(path, o);
      }
      const cf = new ConsumerFile(file, path);
      cf.size = cf.written = o;
      cf.key = r.key;
      out.consumers.set(name, { book, file: cf, gen, resynced: r.skipped.length > 0 });
      found = true;
    }
  }
  return out;
}

/** What replaying one log file gave: the state, where the intact part ends, and what was skipped. */
interface Replay {
  book: ConsumerBook;
  key: number;
  /** A valid Snapshot was applied (else nothing in the file can be). */
  snapshot: boolean;
  /** End of the last record applied: the file is cut here when shorter than it. */
  o: number;
  /** Why the replay stopped before the end ('' when it reached it). */
  reason: string;
  skipped: { offset: number; bytes: number; reason: string }[];
}

/**
 * Replays a consumer log (docs/storage-format.md "Consumer state", "Resynchronisation"). In a keyed
 * log a damaged record after the snapshot is stepped over when a valid record follows it
 * (`resyncConsumerLog`); only it is lost. Which way that errs:
 *
 * - a lost Ack leaves its message pending: it is delivered again after ack_wait (a duplicate);
 * - a lost Delivered record is the dangerous one: later records move `delivered` past its message,
 *   which is then neither pending nor acked and would count as done (lost). Consumer seqs grow by
 *   one per delivery, so a lost delivery shows as a jump in them across the damaged stretch; only
 *   then `delivered.streamSeq` (and an ack floor above it) go back to where they were before the
 *   stretch, and the consumer offers every later message again. Acks recorded after the damage
 *   are kept; a message acked after it may be offered once more (the price of the lost delivery).
 *
 * A log without a key (written before keys) stops at the first damage, as unkeyed segments do.
 */
function replayLog(b: Buffer): Replay {
  const key = consumerLogKey(b);
  const book = new ConsumerBook();
  const out: Replay = { book, key, snapshot: false, o: 0, reason: '', skipped: [] };
  type Mark = { streamSeq: number; floor: ConsumerState['ackFloor']; dseq: number };
  /** Where things stood before the first damaged stretch not yet followed by a delivery record. */
  let gap: Mark | null = null;
  let rewind: Mark | null = null;
  let o = 0;
  while (o < b.length) {
    const n = checkConsumerRecord(b, o, b.length - o, key);
    let why = n < 0 ? reasonText(n) : '';
    if (n > 0) {
      const type = b[o + 4];
      if (!out.snapshot && type !== ConsumerRecord.Head && type !== ConsumerRecord.Snapshot) {
        out.reason = 'log does not start with a snapshot';
        break;
      }
      try {
        if (type === ConsumerRecord.Delivered && gap !== null) {
          // The first delivery after damage: a jump in consumer seqs means deliveries were lost.
          if (b.readDoubleLE(o + 8) > gap.dseq + 1) rewind ??= gap;
          gap = null;
        }
        applyConsumerRecord(b, o, book);
        if (type === ConsumerRecord.Snapshot) {
          // A snapshot restates everything: damage before it cost nothing.
          out.snapshot = true;
          rewind = gap = null;
        }
        o += n;
        out.o = o;
        continue;
      } catch (e) {
        why = (e as Error).message;
      }
    }
    // Past the snapshot, or inside the two Head copies (one damaged copy loses nothing).
    const next = key !== 0 && (out.snapshot || o < 2 * HEAD_LEN) ? resyncConsumerLog(b, o, key) : -1;
    if (next < 0) {
      out.reason = why;
      break;
    }
    gap ??= { streamSeq: book.delivered.streamSeq, floor: { ...book.ackFloor }, dseq: book.delivered.consumerSeq };
    out.skipped.push({ offset: o, bytes: next - o, reason: why });
    o = next;
  }
  if (rewind !== null) {
    if (book.delivered.streamSeq > rewind.streamSeq) book.delivered.streamSeq = rewind.streamSeq;
    if (book.ackFloor.streamSeq > rewind.streamSeq) Object.assign(book.ackFloor, rewind.floor);
  }
  return out;
}

/**
 * The next offset after a damaged record at `from` where a record checks out under `key` and is
 * confirmed: the file ends right after it, or the record after it checks out too. -1: none (a torn
 * tail). The key makes bytes of another file, or a record-shaped payload, fail (record.ts).
 */
function resyncConsumerLog(b: Buffer, from: number, key: number): number {
  for (let p = from + 1; p + HEAD_LEN <= b.length; p++) {
    const n = checkConsumerRecord(b, p, b.length - p, key);
    if (n <= 0) continue;
    const q = p + n;
    if (q === b.length || checkConsumerRecord(b, q, b.length - q, key) > 0) return p;
  }
  return -1;
}

/** A file store's consumer-state store: the shared book plus a log written through the writer. */
class FileConsumer implements ConsumerStore {
  deleted = false;
  /** File length right after its last snapshot: compaction needs the log to at least double it. */
  private baseLen = 0;

  constructor(
    readonly name: string,
    readonly book: ConsumerBook,
    public file: ConsumerFile,
    private readonly owner: ConsumerFiles,
  ) {
    this.baseLen = file.size;
  }

  config(): Buffer | null {
    return this.book.config;
  }

  setConfig(config: Buffer): void {
    this.live();
    if (configLen(config) > MAX_RECORD_BYTES) throw new RangeError('consumer config too large for one record');
    this.book.config = Buffer.from(config);
    const len = configLen(config);
    const w = this.owner.writer;
    w.reserve(this.file, len);
    encodeConfig(w.buf, w.pos, config, this.file.key);
    this.grew();
  }

  updateDelivered(dseq: number, sseq: number, dc: number, ts: number): void {
    this.live();
    checkSeqs(dseq, sseq);
    if (!(Number.isInteger(dc) && dc >= 1 && dc <= 0xffff_ffff)) throw new RangeError(`delivery count ${dc}`);
    this.book.applyDelivered(dseq, sseq, dc, ts);
    const w = this.owner.writer;
    w.reserve(this.file, DELIVERED_LEN);
    encodeDelivered(w.buf, w.pos, dseq, sseq, dc, ts, this.file.key);
    this.grew();
  }

  updateAcks(dseq: number, sseq: number, ts?: number): boolean {
    this.live();
    const t = ts ?? nowTs();
    if (!this.book.applyAck(dseq, sseq, t)) return false;
    const w = this.owner.writer;
    w.reserve(this.file, ACK_LEN);
    encodeAck(w.buf, w.pos, dseq, sseq, t, this.file.key);
    this.grew();
    return true;
  }

  update(state: ConsumerState): void {
    this.live();
    checkState(state);
    if (snapshotLen(this.book.config, state) > MAX_RECORD_BYTES) throw new RangeError('consumer state too large for one record');
    this.book.replace(state);
    this.writeSnapshot();
  }

  state(): ConsumerState {
    return this.book.copy();
  }

  get pendingCount(): number {
    return this.book.pending.size;
  }

  whenDurable(cb: (err: Error | null) => void): void {
    this.owner.writer.whenDurable(cb);
  }

  async delete(): Promise<void> {
    await this.owner.delete(this.name);
  }

  /** Appends a snapshot of the whole state to the current file (after its two Head records when
   * the file is empty: a new generation, or one a rollback cut back to nothing). */
  writeSnapshot(): void {
    const len = snapshotLen(this.book.config, this.book);
    const w = this.owner.writer;
    const f = this.file;
    if (f.size === 0) {
      f.key = newSegmentKey();
      for (let k = 0; k < 2; k++) {
        w.reserve(f, HEAD_LEN);
        encodeHead(w.buf, w.pos, f.key);
      }
    }
    w.reserve(f, len);
    encodeSnapshot(w.buf, w.pos, len, this.book, f.key);
    this.baseLen = this.file.size;
  }

  private live(): void {
    if (this.deleted) throw new Error(`consumer state ${this.name} was deleted`);
  }

  /** Compacts when the log is COMPACT_RATIO × its snapshot (and twice its size after the last one). */
  private grew(): void {
    const size = this.file.size;
    if (size < this.owner.compactBytes || size < 2 * this.baseLen) return;
    const est = this.book.snapshotEstimate();
    // A state too big for one record stays in its log (it still replays; only compaction waits).
    if (size < COMPACT_RATIO * est || est > MAX_RECORD_BYTES) return;
    this.owner.switchFile(this);
  }
}

/**
 * The consumer-state stores of one file store. Costs per consumer: one open descriptor, one small
 * object and its book; per write, one record in the writer's pending chunk.
 */
export class ConsumerFiles {
  private readonly byName = new Map<string, FileConsumer>();
  /** Highest generation used per name (kept after a delete, so a re-create never reuses a path). */
  private readonly gens: Map<string, number>;
  /** Consumer-log switches (compactions) since open, for tests and monitoring. */
  switches = 0;

  constructor(
    private readonly dir: string,
    private readonly dirFd: number,
    readonly writer: Writer,
    rec: RecoveredConsumers,
    readonly compactBytes: number,
    private readonly logger: Logger | undefined,
  ) {
    this.gens = rec.gens;
    for (const [name, r] of rec.consumers) {
      const c = new FileConsumer(name, r.book, r.file, this);
      this.byName.set(name, c);
      // A log that was stepped over restarts from a snapshot of what was recovered, so the next
      // recovery neither meets the damage again nor repeats the rewind (replayLog).
      if (r.resynced) this.switchFile(c);
    }
  }

  open(name: string): ConsumerStore {
    let c = this.byName.get(name);
    if (c !== undefined) return c;
    if (name.length === 0) throw new RangeError('consumer name must not be empty');
    if (escapeName(name).length > MAX_ESCAPED_NAME) throw new RangeError('consumer name too long for a file name');
    c = new FileConsumer(name, new ConsumerBook(), this.newFile(name), this);
    c.writeSnapshot();
    this.byName.set(name, c);
    return c;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Resolves once the consumer's files are unlinked and the directory is synced. */
  delete(name: string): Promise<boolean> {
    const c = this.byName.get(name);
    if (c === undefined) return Promise.resolve(false);
    this.byName.delete(name);
    c.deleted = true;
    const file = c.file;
    return new Promise((resolve, reject) => {
      this.writer.addJob(async () => {
        try {
          await this.remove(file);
          await fsyncP(this.dirFd, this.writer.fs);
          resolve(true);
        } catch (e) {
          reject(e as Error);
          throw e;
        }
      });
      this.writer.whenDurable((err) => {
        if (err !== null) reject(err);
      });
    });
  }

  /** Starts the consumer's next generation with a snapshot; the old file goes once that is durable. */
  switchFile(c: FileConsumer): void {
    const old = c.file;
    const next = this.newFile(c.name);
    c.file = next;
    c.writeSnapshot();
    this.switches++;
    this.writer.addJob(async () => {
      // The batch wrote the snapshot; make it durable whatever the sync policy before the old file
      // (the only other complete copy) goes.
      next.busy++;
      try {
        await fdatasyncP(next.open(), this.writer.fs);
      } finally {
        next.busy--;
      }
      await fsyncP(this.dirFd, this.writer.fs);
      next.needsDirSync = false;
      await this.remove(old);
      this.logger?.info({ consumer: c.name, bytes: old.size, now: next.size }, 'file store: compacted consumer-state log');
    });
  }

  /**
   * After a rollback (writer.ts): every consumer whose current log was cut back writes a snapshot
   * of its state, so the disk catches up with memory. Memory is kept, not rewound: the records that
   * were lost were not yet confirmed to anyone, and the snapshot re-records each of them (an ack
   * stays an ack, a delivery stays pending), so the log never ends up behind an answered ack.
   */
  rolledBack(targets: Set<WriteTarget>): void {
    for (const c of this.byName.values()) if (targets.has(c.file)) c.writeSnapshot();
  }

  /** Closes every log (after the writer drained). */
  closeAll(): void {
    for (const c of this.byName.values()) c.file.close();
    this.byName.clear();
  }

  private newFile(name: string): ConsumerFile {
    const gen = (this.gens.get(name) ?? 0) + 1;
    this.gens.set(name, gen);
    const base = logName(name, gen);
    const f = new ConsumerFile(base, join(this.dir, base));
    f.fd = openSync(f.path, 'wx+', DATA_FILE_MODE);
    f.needsDirSync = true;
    return f;
  }

  private async remove(f: ConsumerFile): Promise<void> {
    this.writer.forget(f);
    f.close();
    try {
      await this.writer.fs.unlink(f.path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}
