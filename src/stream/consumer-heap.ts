/**
 * A binary min-heap of (deadline ms, stream seq) pairs in two flat arrays: a consumer's ack
 * deadlines. One slot costs 16 bytes and no object; push and pop are O(log n). Entries are never
 * removed early: the owner keeps the current deadline per seq and ignores stale pops, so moving a
 * deadline (+WPI, -NAK with delay) is one push.
 */
export class DeadlineHeap {
  private at: number[] = [];
  private seq: number[] = [];

  get size(): number {
    return this.at.length;
  }

  /** The earliest deadline (the heap must not be empty). */
  topAt(): number {
    return this.at[0];
  }

  push(at: number, seq: number): void {
    const a = this.at;
    const s = this.seq;
    let i = a.length;
    a.push(at);
    s.push(seq);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p] <= at) break;
      a[i] = a[p];
      s[i] = s[p];
      i = p;
    }
    a[i] = at;
    s[i] = seq;
  }

  /** Removes and returns the earliest [at, seq] (the heap must not be empty). */
  pop(): [number, number] {
    const a = this.at;
    const s = this.seq;
    const top: [number, number] = [a[0], s[0]];
    const lastAt = a.pop() as number;
    const lastSeq = s.pop() as number;
    const n = a.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r] < a[l] ? r : l;
        if (a[c] >= lastAt) break;
        a[i] = a[c];
        s[i] = s[c];
        i = c;
      }
      a[i] = lastAt;
      s[i] = lastSeq;
    }
    return top;
  }
}
