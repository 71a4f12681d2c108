/**
 * Clients blocked in XREAD/XREADGROUP BLOCK, protocol-free (Redis blocked.c blockForKeys,
 * signalKeyAsReady, handleClientsBlockedOnKeys). Waiters queue FIFO per key; a write signals
 * its key, and once the writing command has finished the door calls `serveReady()`, which offers
 * each signalled key to its waiters in order; a waiter that takes it is unblocked everywhere.
 * Timeouts share one Scheduler (src/stream/timers.ts): one heap entry per waiter, one Node timer
 * for all of them. Costs: one object per waiter, an array slot per key it waits on.
 */
import { Scheduler, type TimerOwner } from '../timers.js';

/** One blocked client. The door supplies what to do when a key is ready or time runs out. */
export class Waiter implements TimerOwner {
  /** Set once unblocked (served, timed out, or cancelled). */
  done = false;
  constructor(
    readonly db: number,
    readonly keys: readonly string[],
    /** Try to serve from `key`; true = served (the waiter is then removed). */
    readonly onReady: (key: string) => boolean,
    readonly onTimeout: () => void,
    /** Runs after a successful onReady, once the waiter is out of the registry. */
    readonly afterServe: () => void,
  ) {}

  onTimer(): void {
    // Set by StreamBlocking.block: the registry removes the waiter, then the door replies.
  }
}

const keyOf = (db: number, key: string): string => `${db}\u0000${key}`;

/** The blocked-client registry of one Redis door. */
export class StreamBlocking {
  private readonly byKey = new Map<string, Waiter[]>();
  private readonly ready = new Set<string>();
  private readonly scheduler = new Scheduler();
  private blocked = 0;

  /** INFO `blocked_clients`. */
  get blockedClients(): number {
    return this.blocked;
  }

  /** INFO `total_blocking_keys`: distinct keys with at least one waiter. */
  get totalBlockingKeys(): number {
    return this.byKey.size;
  }

  /** Blocks `w` on its keys until served, cancelled, or `deadlineMs` (0 = forever). */
  block(w: Waiter, deadlineMs: number): void {
    for (const k of new Set(w.keys)) {
      const id = keyOf(w.db, k);
      let list = this.byKey.get(id);
      if (list === undefined) this.byKey.set(id, (list = []));
      list.push(w);
    }
    this.blocked++;
    if (deadlineMs > 0) {
      (w as { onTimer: () => void }).onTimer = () => {
        if (w.done) return;
        this.remove(w);
        w.onTimeout();
      };
      this.scheduler.schedule(w, deadlineMs);
    }
  }

  /** Removes `w` without replying (client gone). */
  cancel(w: Waiter): void {
    if (!w.done) this.remove(w);
  }

  private remove(w: Waiter): void {
    w.done = true;
    this.blocked--;
    this.scheduler.cancel(w);
    for (const k of new Set(w.keys)) {
      const id = keyOf(w.db, k);
      const list = this.byKey.get(id);
      if (list === undefined) continue;
      const i = list.indexOf(w);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.byKey.delete(id);
    }
  }

  /** A write made `key` ready (XADD, XGROUP DESTROY, DEL); served by the next `serveReady()`.
   * Returns whether anyone waits on it. */
  signal(db: number, key: string): boolean {
    if (this.byKey.size === 0) return false; // nobody blocked: no key string to build
    const id = keyOf(db, key);
    if (!this.byKey.has(id)) return false;
    this.ready.add(id);
    return true;
  }

  /** Offers every signalled key to its waiters, FIFO. Call after the writing command completes. */
  serveReady(): void {
    while (this.ready.size > 0) {
      const ids = [...this.ready];
      this.ready.clear();
      for (const id of ids) {
        const list = this.byKey.get(id);
        if (list === undefined) continue;
        const key = id.slice(id.indexOf('\u0000') + 1);
        for (const w of [...list]) {
          if (w.done) continue;
          if (w.onReady(key)) {
            this.remove(w);
            w.afterServe();
          }
        }
      }
    }
  }

  close(): void {
    this.scheduler.close();
  }
}
