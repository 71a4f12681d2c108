/**
 * A fault-injecting file layer for the file store (src/store/file/fs-layer.ts), in the spirit of
 * RocksDB's FaultInjectionTestFS (utilities/fault_injection_fs.h): data written to a file stays
 * volatile until an fdatasync/fsync of that file covers it, and a directory entry (a created,
 * renamed or unlinked file) stays volatile until an fsync of the directory. `powerCut()` then does
 * to the real files what losing the page cache would: every file goes back to its last synced
 * length and content (in-place overwrites undone), files created since the last directory sync
 * disappear, unlinked or renamed-over files come back. With `tear`, a random prefix of each file's
 * unsynced tail survives instead (writeback may have happened) and bytes of its last page are
 * scrambled: a torn write.
 *
 * Writes really go to the files (so the store reads what it wrote, as from the page cache); the
 * layer keeps, per file, its synced length and the pre-images of unsynced overwrites below it.
 * After a cut every call fails with EIO, so the store that was running can write nothing more.
 * `cutAtOp` cuts at the n-th write, sync, rename or unlink, before performing it: a power cut at a
 * random moment inside a batch, a compaction or a segment removal.
 */
import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  fsync,
  ftruncateSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
  writev,
} from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { FileLayer } from '../../src/store/file/fs-layer.js';

interface FileState {
  /** Bytes [0, synced) are durable (as they were at the last sync, see `undo`). */
  synced: number;
  /** Pre-images of unsynced overwrites below `synced`, oldest first. */
  undo: { off: number; bytes: Buffer }[];
}

/** Options of a power cut. */
export interface CutOptions {
  /** Keep a random prefix of each unsynced tail and scramble bytes of its last page. */
  tear?: boolean;
  /** Randomness for `tear` (a seeded PRNG returning [0, 1)). */
  rand?: () => number;
}

const PAGE = 4096;

function eio(): NodeJS.ErrnoException {
  const e = new Error('EIO: power cut (fault-fs)') as NodeJS.ErrnoException;
  e.code = 'EIO';
  return e;
}

/** The fault layer of one store directory (see the module comment). */
export class FaultFs implements FileLayer {
  private readonly files = new Map<string, FileState>();
  /** Directory entries as of the last directory fsync. */
  private listing: Set<string>;
  /** Durable content of entries unlinked or renamed over since the last directory fsync. */
  private readonly graveyard = new Map<string, Buffer>();
  cut = false;
  ops = 0;
  syncs = 0;
  renames = 0;
  /** Cut before performing operation number `cutAtOp` (1-based); 0 = never. */
  cutAtOp = 0;
  cutOptions: CutOptions = {};
  /** Called after each successful data sync (tests snapshot what is guaranteed from here). */
  onSync: (() => void) | null = null;

  constructor(readonly dir: string) {
    this.listing = new Set(readdirSync(dir));
  }

  writev(fd: number, bufs: Buffer[], pos: number, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void {
    if (this.step()) return process.nextTick(cb, eio(), 0);
    const path = this.pathOf(fd);
    const st = this.stateOf(path);
    let len = 0;
    for (const b of bufs) len += b.length;
    const end = Math.min(pos + len, st.synced);
    if (pos < end) st.undo.push({ off: pos, bytes: this.readRange(path, pos, end) });
    writev(fd, bufs, pos, (err, n) => (this.cut ? cb(eio(), 0) : cb(err, n)));
  }

  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.sync(fd, cb, fdatasync);
  }

  fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void {
    this.sync(fd, cb, fsync);
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.step()) throw eio();
    this.bury(from);
    this.bury(to);
    const st = this.files.get(from) ?? { synced: 0, undo: [] };
    await rename(from, to);
    this.renames++;
    this.files.delete(from);
    this.files.set(to, st);
  }

  async unlink(path: string): Promise<void> {
    if (this.step()) throw eio();
    this.bury(path);
    await unlink(path);
    this.files.delete(path);
  }

  /** Drops everything not synced from the real files (see the module comment). Idempotent. */
  powerCut(opts: CutOptions = this.cutOptions): { filesReverted: number; bytesDropped: number } {
    if (this.cut) return { filesReverted: 0, bytesDropped: 0 };
    this.cut = true;
    const rand = opts.rand ?? Math.random;
    let filesReverted = 0;
    let bytesDropped = 0;
    for (const [path, st] of this.files) {
      if (!existsSync(path)) continue;
      const size = statSync(path).size;
      if (size === st.synced && st.undo.length === 0) continue;
      filesReverted++;
      const fd = openSync(path, 'r+');
      try {
        for (let k = st.undo.length - 1; k >= 0; k--) writeSync(fd, st.undo[k].bytes, 0, st.undo[k].bytes.length, st.undo[k].off);
        let keep = st.synced;
        if (opts.tear === true && size > st.synced) {
          keep = st.synced + Math.floor(rand() * (size - st.synced + 1));
          // Scramble a few bytes of the kept unsynced tail's last page (never synced bytes).
          const from = Math.max(st.synced, keep - PAGE);
          for (let k = 0; k < 4 && keep > from; k++) {
            const at = from + Math.floor(rand() * (keep - from));
            writeSync(fd, Buffer.of(Math.floor(rand() * 256)), 0, 1, at);
          }
        }
        if (keep < size) ftruncateSync(fd, keep);
        bytesDropped += size - keep;
      } finally {
        closeSync(fd);
      }
    }
    for (const name of readdirSync(this.dir)) {
      if (!this.listing.has(name)) {
        bytesDropped += statSync(`${this.dir}/${name}`).size;
        unlinkSync(`${this.dir}/${name}`);
      }
    }
    for (const [path, content] of this.graveyard) writeFileSync(path, content);
    return { filesReverted, bytesDropped };
  }

  private step(): boolean {
    if (this.cut) return true;
    this.ops++;
    if (this.ops === this.cutAtOp) {
      this.powerCut();
      return true;
    }
    return false;
  }

  private sync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void, real: typeof fsync): void {
    if (this.step()) return process.nextTick(cb, eio());
    const path = this.pathOf(fd);
    const isDir = path === this.dir;
    real(fd, (err) => {
      if (this.cut) return cb(eio());
      if (err !== null) return cb(err);
      if (isDir) {
        this.listing = new Set(readdirSync(this.dir));
        this.graveyard.clear();
      } else {
        const st = this.stateOf(path);
        st.synced = fstatSync(fd).size;
        st.undo = [];
        this.syncs++;
        this.onSync?.();
      }
      cb(null);
    });
  }

  private pathOf(fd: number): string {
    return readlinkSync(`/proc/self/fd/${fd}`);
  }

  /** A file first seen: durable as it is when the directory entry is (it predates the layer). */
  private stateOf(path: string): FileState {
    let st = this.files.get(path);
    if (st === undefined) {
      const known = dirname(path) === this.dir && this.listing.has(basename(path));
      st = { synced: known ? statSync(path).size : 0, undo: [] };
      this.files.set(path, st);
    }
    return st;
  }

  /** Keeps the durable content of a durable directory entry that is about to go. */
  private bury(path: string): void {
    if (this.graveyard.has(path) || !this.listing.has(basename(path)) || !existsSync(path)) return;
    const st = this.stateOf(path);
    const buf = readFileSync(path);
    for (let k = st.undo.length - 1; k >= 0; k--) st.undo[k].bytes.copy(buf, st.undo[k].off);
    this.graveyard.set(path, buf.subarray(0, Math.min(st.synced, buf.length)));
  }

  private readRange(path: string, from: number, to: number): Buffer {
    const buf = Buffer.alloc(to - from);
    const fd = openSync(path, 'r');
    try {
      readSync(fd, buf, 0, buf.length, from);
    } finally {
      closeSync(fd);
    }
    return buf;
  }
}
