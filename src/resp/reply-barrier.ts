/**
 * Holds a connection's output until the keyspace log has made durable every effect that came
 * before it (specs/redis.md §4: under `appendfsync always` Redis writes and fsyncs the AOF before
 * it sends the replies of that event-loop turn; herald's group commit is the same shape).
 *
 * At each end-of-turn flush the connection asks `hold`: when effects (of any connection) are not
 * yet durable, or when this connection already has output waiting, the turn's bytes are copied
 * out of the writer into an entry that waits for `whenSettled`; entries leave in order, so later
 * replies never overtake a held one (pipelines keep their order) and a reply of a command that
 * changed nothing goes out at once only when nothing is held before it. Holding on *any*
 * undurable effect, not only this connection's, means no client ever reads (XRANGE, XREAD, a
 * blocked XREADGROUP woken by another client's XADD) what a crash could still take away.
 *
 * When the log fails, the waiting entries become one error reply per command they held
 * (`failedReply`), their Pub/Sub pushes are dropped, and the model has been rebuilt from disk.
 *
 * Costs: nothing while the log is clean; otherwise one copy of the turn's output and one
 * `whenSettled` callback per connection per turn.
 */

/** What the barrier needs from the durability side (src/resp/durability.ts). */
export interface Settler {
  readonly holding: boolean;
  whenSettled(cb: (ok: boolean) => void): void;
  failedReply(): string;
}

interface Entry {
  bytes: Buffer;
  /** Command replies in `bytes` (each becomes one error if the log fails). */
  replies: number;
  /** 0 waiting, 1 durable, 2 failed. */
  state: 0 | 1 | 2;
}

/** One connection's held output (see the module comment). */
export class ReplyBarrier {
  private readonly queue: Entry[] = [];
  /** Bytes held (counted in the connection's pending bytes). */
  heldBytes = 0;
  /** Called when the last held entry has left (a closing connection ends its socket then). */
  onDrained: (() => void) | null = null;

  constructor(
    private readonly settler: Settler,
    /** Writes bytes to the socket, in order. */
    private readonly out: (b: Buffer) => void,
    /** Encodes one error reply. */
    private readonly errorReply: (text: string) => Buffer,
  ) {}

  get pending(): boolean {
    return this.queue.length > 0;
  }

  /**
   * Takes `bytes` (the turn's output, `replies` command replies in it) when it must wait; returns
   * false when it may be written now (nothing held, nothing undurable).
   */
  hold(bytes: Buffer, replies: number): boolean {
    const s = this.settler;
    if (this.queue.length === 0 && !s.holding) return false;
    const e: Entry = { bytes: Buffer.from(bytes), replies, state: 0 };
    this.queue.push(e);
    this.heldBytes += e.bytes.length;
    s.whenSettled((ok) => {
      e.state = ok ? 1 : 2;
      this.release();
    });
    return true;
  }

  /** Writes every settled entry at the head of the queue. */
  private release(): void {
    const q = this.queue;
    while (q.length > 0 && q[0].state !== 0) {
      const e = q.shift() as Entry;
      this.heldBytes -= e.bytes.length;
      if (e.state === 1) this.out(e.bytes);
      else if (e.replies > 0) {
        const err = this.errorReply(this.settler.failedReply());
        this.out(e.replies === 1 ? err : Buffer.concat(Array.from({ length: e.replies }, () => err)));
      }
    }
    if (q.length === 0) this.onDrained?.();
  }
}
