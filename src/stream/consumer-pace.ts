/**
 * How fast a consumer may deliver new messages (specs/nats.md §5 config fields), protocol-free:
 * `replay_policy: original` spaces deliveries as the messages were spaced when stored, until the
 * consumer has caught up with the stream's end as it was when the replay began;
 * `rate_limit_bps` is a token bucket of bytes. Both answer "not before time T", which the
 * consumer turns into its one scheduler deadline (no timer per message).
 */

/** nats-server consumer.go setRateLimit: the bucket holds one maximum-size message when the
 * stream sets no max_msg_size (the server's max_payload, 1 MiB by default). */
export const RATE_LIMIT_DEFAULT_BURST = 1024 * 1024;
/** nats-server consumer.go loopAndGatherMsgs: replay gaps of 1 ms or less are not waited for. */
const REPLAY_MIN_GAP_MS = 1;

/**
 * One consumer's pacing state. Costs a few numbers and, per delivery, a little arithmetic; with
 * neither option set `holdUntil` returns 0 at once.
 */
export class Pace {
  private replay: boolean;
  /** Stream seq up to which replay_policy original applies (the stream's last seq at start). */
  private replayUntilSeq: number;
  /** Stored time (ms) of the last message delivered and when it went out. */
  private lastTsMs = 0;
  private lastSentAt = 0;
  /** Bytes per ms, the bucket size, its content and when it was last filled. */
  private readonly rate: number;
  private readonly burst: number;
  private tokens: number;
  private filledAt = 0;

  constructor(replayOriginal: boolean, rateLimitBps: number, maxMsgSize: number, lastSeq: number) {
    this.replay = replayOriginal;
    this.replayUntilSeq = lastSeq;
    this.rate = rateLimitBps > 0 ? rateLimitBps / 8 / 1000 : 0;
    this.burst = maxMsgSize > 0 ? maxMsgSize : RATE_LIMIT_DEFAULT_BURST;
    this.tokens = this.burst;
  }

  /** True when neither option is in force (the common case: one branch per delivery). */
  get idle(): boolean {
    return !this.replay && this.rate === 0;
  }

  /**
   * When a new message (stored at `tsMs`, `size` bytes, stream seq `seq`) may go: 0 for now,
   * otherwise the ms time to wait for.
   */
  holdUntil(seq: number, tsMs: number, size: number, now: number): number {
    let at = 0;
    if (this.replay) {
      if (seq > this.replayUntilSeq) this.replay = false;
      else if (this.lastSentAt > 0) {
        const gap = tsMs - this.lastTsMs;
        if (gap > REPLAY_MIN_GAP_MS && this.lastSentAt + gap > now) at = this.lastSentAt + gap;
      }
    }
    if (this.rate > 0) {
      this.refill(now);
      const need = Math.min(size, this.burst);
      if (this.tokens < need) at = Math.max(at, now + Math.ceil((need - this.tokens) / this.rate));
    }
    return at;
  }

  /** A new message went out now. */
  sent(tsMs: number, size: number, now: number): void {
    this.lastTsMs = tsMs;
    this.lastSentAt = now;
    if (this.rate > 0) {
      this.refill(now);
      this.tokens -= Math.min(size, this.burst);
    }
  }

  private refill(now: number): void {
    if (this.filledAt > 0) this.tokens = Math.min(this.burst, this.tokens + (now - this.filledAt) * this.rate);
    this.filledAt = now;
  }
}

/** nats-server consumer.go: sample_freq is "N" or "N%", 0–100; anything else samples nothing. */
export function sampleFraction(freq: string): number {
  const t = freq.endsWith('%') ? freq.slice(0, -1) : freq;
  if (!/^[0-9]+$/.test(t)) return 0;
  return Math.min(Number(t), 100) / 100;
}
