/**
 * One timer for the whole JetStream layer (DESIGN.md "No timer per message"): owners (streams
 * today, consumers later) each hold at most one deadline in a binary min-heap, and a single Node
 * timer is armed for the earliest. Scheduling or cancelling costs O(log n) in the number of
 * owners, never anything per message; a stream re-arms once per expiry batch.
 */

/** Anything that wants a callback at a wall-clock time (ms since epoch). */
export interface TimerOwner {
  /** Called once the owner's deadline has passed; the owner re-schedules itself if needed. */
  onTimer(nowMs: number): void;
}

interface Entry {
  owner: TimerOwner;
  at: number;
  pos: number;
}

/** Deadlines closer together than this fire in one wake-up: expiry is not latency critical. */
export const TIMER_SLACK_MS = 1;
/** Node caps setTimeout at 2^31-1 ms; longer deadlines re-arm when that fires. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** A heap of per-owner deadlines served by one `setTimeout`. Not thread-safe (no need in Node). */
export class Scheduler {
  private readonly heap: Entry[] = [];
  private readonly byOwner = new Map<TimerOwner, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private closed = false;

  /** Sets (or moves) `owner`'s single deadline to `atMs`. */
  schedule(owner: TimerOwner, atMs: number): void {
    if (this.closed) return;
    const e = this.byOwner.get(owner);
    if (e === undefined) {
      const n: Entry = { owner, at: atMs, pos: this.heap.length };
      this.heap.push(n);
      this.byOwner.set(owner, n);
      this.up(n.pos);
    } else {
      const before = e.at;
      e.at = atMs;
      if (atMs < before) this.up(e.pos);
      else this.down(e.pos);
    }
    this.arm();
  }

  /** Removes `owner`'s deadline, if any. */
  cancel(owner: TimerOwner): void {
    const e = this.byOwner.get(owner);
    if (e === undefined) return;
    this.byOwner.delete(owner);
    const last = this.heap.pop() as Entry;
    if (last !== e) {
      this.heap[e.pos] = last;
      last.pos = e.pos;
      this.up(last.pos);
      this.down(last.pos);
    }
    this.arm();
  }

  /** The owner's pending deadline, or null. */
  deadline(owner: TimerOwner): number | null {
    return this.byOwner.get(owner)?.at ?? null;
  }

  get size(): number {
    return this.heap.length;
  }

  /** Drops every deadline and the Node timer. */
  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.heap.length = 0;
    this.byOwner.clear();
  }

  private arm(): void {
    const next = this.heap.length === 0 ? Infinity : this.heap[0].at;
    if (next === this.armedAt && this.timer !== null) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedAt = next;
    if (next === Infinity) return;
    const delay = Math.min(Math.max(next - Date.now(), 0), MAX_TIMEOUT_MS);
    this.timer = setTimeout(() => this.fire(), delay);
    this.timer.unref();
  }

  private fire(): void {
    this.timer = null;
    this.armedAt = Infinity;
    const now = Date.now();
    const due: TimerOwner[] = [];
    while (this.heap.length > 0 && this.heap[0].at <= now + TIMER_SLACK_MS) {
      const e = this.heap[0];
      due.push(e.owner);
      this.cancel(e.owner);
    }
    for (const owner of due) {
      try {
        owner.onTimer(now);
      } catch {
        // An owner's failure must not stop the others' expiry; owners log their own errors.
      }
    }
    this.arm();
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p].at <= h[i].at) break;
      this.swap(i, p);
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l].at < h[m].at) m = l;
      if (r < h.length && h[r].at < h[m].at) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const t = h[a];
    h[a] = h[b];
    h[b] = t;
    h[a].pos = a;
    h[b].pos = b;
  }
}
