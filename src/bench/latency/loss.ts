/**
 * Loss accounting. Every message names its publisher and sequence number; each subscriber
 * connection counts what it got per publisher. After the drain the orchestrator knows what each
 * publisher sent and which publishers each subscriber connection listens to, so the loss is
 * exact: for every (subscriber, publisher) pair, sent − received (duplicates are counted apart,
 * never as a negative loss). Messages a publisher could not even write (the server stopped
 * reading and the generator's bounded send buffer filled) are counted separately as "blocked".
 */

/** Per-connection tally of what one subscriber connection received. Cost: one map entry per publisher heard. */
export class LossCounter {
  /** Distinct messages received per publisher id. */
  readonly byPub = new Map<number, number>();
  /** Messages seen again (same publisher and sequence number as before). */
  duplicates = 0;
  private readonly highest = new Map<number, number>();

  /**
   * Counts one message. A sequence at or below the highest seen from that publisher is a
   * duplicate (the bench's publishers send in order on one connection, and NATS and Redis keep
   * per-connection order), so only increasing sequences add to the count.
   */
  see(pub: number, seq: number): void {
    const hi = this.highest.get(pub);
    if (hi !== undefined && seq <= hi) {
      this.duplicates++;
      return;
    }
    this.highest.set(pub, seq);
    this.byPub.set(pub, (this.byPub.get(pub) ?? 0) + 1);
  }

  /** Plain-object form for IPC. */
  toJSON(): Record<string, number> {
    const o: Record<string, number> = {};
    for (const [k, v] of this.byPub) o[String(k)] = v;
    return o;
  }
}

/** What the orchestrator concludes about one run's deliveries. */
export interface LossAccount {
  /** Σ over subscriber connections of the messages their publishers sent. */
  expected: number;
  /** Σ of distinct messages received from the publishers each connection listens to. */
  delivered: number;
  /** expected − delivered. */
  lost: number;
  /** Per subscriber connection: how many it missed. */
  lostPerSubscriber: number[];
}

/**
 * Exact loss: `sent[pub]` messages went out from each publisher; subscriber connection i listens
 * to `listensTo(i)` (publisher ids) and reported `received[i]` (publisher id → distinct count).
 * Messages from publishers a connection does not listen to are ignored (they cannot be "lost").
 */
export function accountLoss(
  sent: ReadonlyMap<number, number>,
  received: readonly Record<string, number>[],
  listensTo: (sub: number) => Iterable<number>,
): LossAccount {
  let expected = 0;
  let delivered = 0;
  const lostPerSubscriber: number[] = [];
  received.forEach((got, i) => {
    let exp = 0;
    let del = 0;
    for (const pub of listensTo(i)) {
      const s = sent.get(pub) ?? 0;
      exp += s;
      del += Math.min(s, got[String(pub)] ?? 0);
    }
    expected += exp;
    delivered += del;
    lostPerSubscriber.push(exp - del);
  });
  return { expected, delivered, lost: expected - delivered, lostPerSubscriber };
}
