/**
 * The message-id duplicate window of one stream (specs/nats.md §3 "Special headers"): id →
 * (seq, stored time) for messages stored within the last `duplicate_window`. A Map kept in
 * insertion order doubles as the expiry queue, because ids are added in stored-time order, so
 * expiring is a walk from the front that stops at the first live entry. Costs one Map entry per
 * id published within the window; look-ups and adds are O(1).
 */

import { createHash } from 'node:crypto';

/** Hard cap on remembered ids per stream, so a flood of unique ids cannot exhaust memory; past it
 * the oldest ids are forgotten early (their duplicates would then be stored) and a warning logged. */
export const DEDUPE_MAX_ENTRIES = 1_000_000;
/** Ids longer than this are remembered by their SHA-256: bounds memory per entry, and V8 hashes
 * every string over 16 KiB by its length alone, which would make look-ups quadratic. */
export const DEDUPE_KEY_MAX = 64;

/** The map key for `id`: the id itself, or a digest of a long one. */
function keyOf(id: string): string {
  return id.length <= DEDUPE_KEY_MAX ? id : '\u0000sha256:' + createHash('sha256').update(id).digest('base64');
}

interface Entry {
  seq: number;
  ts: bigint;
}

/** One stream's remembered message ids. Times are ns since the epoch. */
export class DedupeWindow {
  private readonly ids = new Map<string, Entry>();
  /** Ids forgotten because the cap was hit (reported once by the stream). */
  evictedEarly = 0;

  constructor(private windowNs: bigint) {}

  get size(): number {
    return this.ids.size;
  }

  /** Changes the window (stream update); entries already older than it go on the next expire. */
  setWindow(windowNs: bigint): void {
    this.windowNs = windowNs;
    if (windowNs <= 0n) this.ids.clear();
  }

  /** The seq stored under `id` if it is still inside the window at `nowNs`, else 0. */
  lookup(id: string, nowNs: bigint): number {
    const e = this.ids.get(keyOf(id));
    if (e === undefined) return 0;
    return nowNs - e.ts < this.windowNs ? e.seq : 0;
  }

  /** Stored time (ns) of the message remembered under `id`, 0n when none. */
  storedAt(id: string): bigint {
    return this.ids.get(keyOf(id))?.ts ?? 0n;
  }

  /** Remembers `id` for the message stored at `seq` / `ts`. No-op when the window is 0. */
  add(id: string, seq: number, ts: bigint): void {
    if (this.windowNs <= 0n) return;
    const key = keyOf(id);
    if (this.ids.has(key)) this.ids.delete(key); // keep insertion order == time order
    this.ids.set(key, { seq, ts });
    if (this.ids.size > DEDUPE_MAX_ENTRIES) {
      const oldest = this.ids.keys().next().value as string;
      this.ids.delete(oldest);
      this.evictedEarly++;
    }
  }

  /** Forgets ids older than the window; returns when the oldest remaining one expires (ns), or null. */
  expire(nowNs: bigint): bigint | null {
    for (const [id, e] of this.ids) {
      if (nowNs - e.ts >= this.windowNs) this.ids.delete(id);
      else return e.ts + this.windowNs;
    }
    return null;
  }

  clear(): void {
    this.ids.clear();
  }
}
