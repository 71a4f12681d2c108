/**
 * The file layer: the few calls the write path of the file store makes (writes, syncs, renames,
 * unlinks), behind one interface so a test can put a fault-injecting file system under a real
 * store (test/faults/fault-fs.ts, in the spirit of RocksDB's FaultInjectionTestFS,
 * utilities/fault_injection_fs.h). Reads, recovery and directory creation call node:fs directly:
 * they see what the OS shows, which is what a read after a crash sees too.
 *
 * Guarantees: `nodeFiles` is a thin pass-through (no buffering, no retries). Costs: one indirect
 * call per write or sync.
 */
import { fdatasync, fsync, ftruncate, writev } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';

/** What the write path needs from the file system; callbacks follow node:fs conventions. */
export interface FileLayer {
  /** pwritev: writes `bufs` at `pos`, reports the bytes written (may be short). */
  writev(fd: number, bufs: Buffer[], pos: number, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  /** fsync (the store uses it on its directory after creating, renaming or unlinking files). */
  fsync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Cuts the file to `len` bytes (the writer undoes a batch the disk had no room for). Optional:
   * a layer without it gets node:fs `ftruncate`. */
  ftruncate?(fd: number, len: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
}

/** The real file system (node:fs). */
export const nodeFiles: FileLayer = {
  writev: (fd, bufs, pos, cb) => writev(fd, bufs, pos, cb),
  fdatasync: (fd, cb) => fdatasync(fd, cb),
  fsync: (fd, cb) => fsync(fd, cb),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  ftruncate: (fd, len, cb) => ftruncate(fd, len, cb),
};
