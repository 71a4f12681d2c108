/**
 * Free space of the volume that holds a store directory, as the append path needs it: a cached
 * estimate, refreshed from `statfs` every DISK_POLL_MS and lowered by every byte appended in
 * between, so checking it costs one subtraction per append and a full disk that is cleared (by a
 * purge, a delete, or another program) is seen within one poll. Measures only; the caller
 * (stream/streams.ts) decides what to refuse.
 *
 * Costs: one `statfs` per DISK_POLL_MS per watched directory, on an unref'd timer.
 */
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Re-read the volume's free space this often: short enough that freed space returns service quickly. */
export const DISK_POLL_MS = 250;

/**
 * Bytes an unprivileged writer may still use on the volume of `dir` (statfs f_bavail × f_bsize),
 * asked of its nearest existing ancestor when `dir` is not made yet; null when unknown.
 */
export function availableBytes(dir: string): number | null {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = statfsSync(d);
      return s.bavail * s.bsize;
    } catch {
      if (d === dirname(d)) return null;
    }
  }
}

/** A cached free-space estimate for one directory (see the module comment). */
export class DiskWatch {
  private free: number;
  private readonly timer: NodeJS.Timeout;

  constructor(readonly dir: string) {
    this.free = availableBytes(dir) ?? Number.POSITIVE_INFINITY;
    this.timer = setInterval(() => this.refresh(), DISK_POLL_MS);
    this.timer.unref();
  }

  /** Estimated free bytes now. */
  get available(): number {
    return this.free;
  }

  /** Lowers the estimate by bytes just accepted for writing. */
  consumed(bytes: number): void {
    if (bytes > 0) this.free -= bytes;
  }

  /** Re-reads the volume's free space. */
  refresh(): void {
    const a = availableBytes(this.dir);
    if (a !== null) this.free = a;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
