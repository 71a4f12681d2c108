/** Helpers shared by the store tests: a seeded PRNG, temp directories, a quiet capturing logger. */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** mulberry32: small, fast, deterministic; the seed is printed by failing tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randInt(r: () => number, n: number): number {
  return Math.floor(r() * n);
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `herald-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** A logger that records what it was told, for assertions on warnings. */
export class CaptureLogger {
  readonly infos: { o: object; m: string }[] = [];
  readonly warns: { o: object; m: string }[] = [];
  info(o: object, m: string): void {
    this.infos.push({ o, m });
  }
  warn(o: object, m: string): void {
    this.warns.push({ o, m });
  }
}

export function durable(s: { whenDurable(cb: (err: Error | null) => void): void }): Promise<void> {
  return new Promise((resolve, reject) => s.whenDurable((err) => (err === null ? resolve() : reject(err))));
}

/** The segment files of a file store directory, oldest first. */
export function segmentFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('seg-') && f.endsWith('.log'))
    .sort()
    .map((f) => join(dir, f));
}

/** Offsets of the records of segment bytes `b` whose type byte is `type` (walks the length fields). */
export function recordOffsets(b: Buffer, type: number): number[] {
  const out: number[] = [];
  for (let o = 0; o + 32 <= b.length; o += b.readUInt32LE(o)) if (b[o + 4] === type) out.push(o);
  return out;
}
