/**
 * The open-loop rate schedule: when each message *should* be sent, independent of when the
 * generator or the server gets round to it. Time is cut into quanta; quantum k starts at
 * `start + k·quantum` and owns the messages whose cumulative count falls in it, so a rate of
 * 2,500/s with 1 ms quanta sends 2 or 3 messages per quantum and exactly 2,500 per second.
 * A caller that wakes up late gets every quantum it missed, each with its own intended time:
 * that intended time is what goes into the message, so a late tick (a stalled generator, a
 * blocked event loop) shows up as latency instead of silently thinning the load — the
 * coordinated-omission rule of wrk2 and HdrHistogram (Gil Tene, "How NOT to measure latency").
 */

/** One quantum's worth of messages, stamped with the quantum's intended start (ms). */
export interface Tick {
  intendedMs: number;
  count: number;
}

/**
 * Most quanta handed out by one `take`: a generator that fell far behind catches up over several
 * calls (each still stamped with its intended time) rather than building one huge buffer.
 */
export const MAX_QUANTA_PER_TAKE = 200;

/**
 * A fixed-rate schedule. Pure: time comes from the caller, so tests drive it with any clock.
 * Cost: O(quanta elapsed) per `take`, no allocation beyond the returned ticks.
 */
export class RateScheduler {
  /** Index of the next quantum not yet handed out. */
  private next = 0;
  /** Messages handed out so far. */
  private issued = 0;

  /**
   * @param ratePerS messages per second (> 0)
   * @param startMs intended time of the first quantum
   * @param quantumMs length of a quantum
   * @param endMs no quantum starts at or after this (Infinity: runs until the caller stops)
   */
  constructor(
    readonly ratePerS: number,
    readonly startMs: number,
    readonly quantumMs = 1,
    readonly endMs = Number.POSITIVE_INFINITY,
  ) {
    if (!(ratePerS > 0) || !(quantumMs > 0)) throw new RangeError('rate and quantum must be positive');
  }

  /** Messages due by the end of quantum k (cumulative, so rounding never drifts). */
  private dueBy(k: number): number {
    return Math.floor((this.ratePerS * (k + 1) * this.quantumMs) / 1000);
  }

  /** Every quantum that has started by `nowMs` and was not handed out yet (empty ones skipped). */
  take(nowMs: number): Tick[] {
    const out: Tick[] = [];
    let quanta = 0;
    while (quanta < MAX_QUANTA_PER_TAKE) {
      const at = this.startMs + this.next * this.quantumMs;
      if (at > nowMs || at >= this.endMs) break;
      const due = this.dueBy(this.next);
      const count = due - this.issued;
      this.issued = due;
      this.next++;
      quanta++;
      if (count > 0) out.push({ intendedMs: at, count });
    }
    return out;
  }

  /** Messages handed out so far. */
  get total(): number {
    return this.issued;
  }

  /** When the next quantum starts (ms), for the caller's timer; Infinity once past `endMs`. */
  nextAt(): number {
    const at = this.startMs + this.next * this.quantumMs;
    return at >= this.endMs ? Number.POSITIVE_INFINITY : at;
  }

  /** True when every quantum before `endMs` was handed out. */
  get finished(): boolean {
    return this.nextAt() === Number.POSITIVE_INFINITY;
  }
}
