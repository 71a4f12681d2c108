/**
 * Consumer state in memory: the bookkeeping both stores share (`ConsumerBook`), and the memory
 * store's consumer-state stores (`MemoryConsumers`). The rules follow nats-server's
 * `consumerFileStore` (filestore.go, `UpdateDelivered` / `UpdateAcks`): a first delivery adds a
 * pending entry and moves `delivered`; a redelivery updates the entry and the redelivery count; an
 * ack removes both and moves the ack floor to just below the oldest delivery still pending.
 * The file store replays the same operations from its log, so applying a record and applying the
 * call that wrote it must stay the same function.
 */
import type { ConsumerState, ConsumerStore, GroupState, PendingEntry, SequencePair } from './store.js';

/** One pending delivery. A class so every entry shares one hidden class (3 unboxed doubles). */
class Pending implements PendingEntry {
  owner?: string;
  constructor(
    public dseq: number,
    public ts: number,
    public dc: number,
  ) {}
}

function pair(): SequencePair {
  return { consumerSeq: 0, streamSeq: 0, lastActive: 0 };
}

/** Rejects what no consumer could mean: seqs must be positive integers below 2^53. */
export function checkSeqs(dseq: number, sseq: number): void {
  if (!(Number.isSafeInteger(dseq) && dseq > 0 && Number.isSafeInteger(sseq) && sseq > 0)) {
    throw new RangeError(`consumer seqs must be positive integers (got ${dseq}, ${sseq})`);
  }
}

/** Default ack time when the caller gives none: wall clock in ns (ms resolution). */
export function nowTs(): number {
  return Date.now() * 1e6;
}

/** Encoded size of one pending entry in a snapshot record without owner (file/consumer-record.ts). */
export const SNAPSHOT_PENDING_BYTES = 30;
/** Encoded size of one redelivery count in a snapshot record. */
export const SNAPSHOT_REDELIVERED_BYTES = 12;

/**
 * The state of one consumer and the operations on it. Costs per pending entry one `Pending` object
 * and one Map entry (about 100 bytes, docs/storage-format.md "Consumer state"); per redelivered
 * message one more Map entry. Every operation is O(1) except an in-order ack, which walks stream
 * seqs up to the next pending one (as nats-server does).
 */
export class ConsumerBook {
  config: Buffer | null = null;
  delivered = pair();
  ackFloor = pair();
  pending = new Map<number, Pending>();
  redelivered = new Map<number, number>();
  group: GroupState | undefined = undefined;

  applyDelivered(dseq: number, sseq: number, dc: number, ts: number): void {
    const d = this.delivered;
    d.lastActive = ts;
    if (dseq > d.consumerSeq) d.consumerSeq = dseq;
    if (dc > 1) {
      const p = this.pending.get(sseq);
      if (p !== undefined) {
        p.dseq = dseq;
        p.ts = ts;
        p.dc = dc;
      }
      if ((this.redelivered.get(sseq) ?? 0) < dc - 1) this.redelivered.set(sseq, dc - 1);
      return;
    }
    if (sseq > d.streamSeq) d.streamSeq = sseq;
    this.pending.set(sseq, new Pending(dseq, ts, 1));
  }

  /** False (and no change) when `sseq` is not pending. */
  applyAck(dseq: number, sseq: number, ts: number): boolean {
    if (!this.pending.delete(sseq)) return false;
    this.redelivered.delete(sseq);
    const f = this.ackFloor;
    const d = this.delivered;
    f.lastActive = ts;
    if (this.pending.size === 0) {
      f.consumerSeq = d.consumerSeq;
      f.streamSeq = d.streamSeq;
    } else if (dseq === f.consumerSeq + 1) {
      f.consumerSeq = dseq;
      f.streamSeq = sseq;
      // The floor stops just below the next delivery still pending.
      for (let s = sseq + 1; s <= d.streamSeq; s++) {
        const p = this.pending.get(s);
        if (p !== undefined) {
          f.consumerSeq = p.dseq - 1;
          f.streamSeq = s - 1;
          break;
        }
      }
    }
    return true;
  }

  /** Replaces everything but the config with a copy of `st`. */
  replace(st: ConsumerState): void {
    this.delivered = { ...st.delivered };
    this.ackFloor = { ...st.ackFloor };
    this.pending = new Map();
    for (const [sseq, p] of st.pending) {
      const e = new Pending(p.dseq, p.ts, p.dc);
      if (p.owner !== undefined) e.owner = p.owner;
      this.pending.set(sseq, e);
    }
    this.redelivered = new Map(st.redelivered);
    this.group = st.group === undefined ? undefined : { ...st.group };
  }

  /** A deep copy of the state. */
  copy(): ConsumerState {
    const pending = new Map<number, PendingEntry>();
    for (const [sseq, p] of this.pending) {
      const e: PendingEntry = { dseq: p.dseq, ts: p.ts, dc: p.dc };
      if (p.owner !== undefined) e.owner = p.owner;
      pending.set(sseq, e);
    }
    const st: ConsumerState = {
      delivered: { ...this.delivered },
      ackFloor: { ...this.ackFloor },
      pending,
      redelivered: new Map(this.redelivered),
    };
    if (this.group !== undefined) st.group = { ...this.group };
    return st;
  }

  /** A lower bound of the snapshot record's size in O(1) (owners are not counted). */
  snapshotEstimate(): number {
    return (
      64 +
      (this.config?.length ?? 0) +
      this.pending.size * SNAPSHOT_PENDING_BYTES +
      this.redelivered.size * SNAPSHOT_REDELIVERED_BYTES
    );
  }
}

/** Validates a whole state handed to `update` (seqs are integers, counts at least 1). */
export function checkState(st: ConsumerState): void {
  for (const sp of [st.delivered, st.ackFloor]) {
    if (!(
      Number.isSafeInteger(sp.consumerSeq) &&
      sp.consumerSeq >= 0 &&
      Number.isSafeInteger(sp.streamSeq) &&
      sp.streamSeq >= 0
    )) {
      throw new RangeError('consumer state: sequence pairs must hold non-negative integers');
    }
  }
  for (const [sseq, p] of st.pending) {
    checkSeqs(p.dseq, sseq);
    if (!(Number.isSafeInteger(p.dc) && p.dc >= 1)) throw new RangeError(`consumer state: delivery count of ${sseq}`);
  }
}

/** A memory store's consumer-state store: the book plus a durability that is immediate. */
class MemoryConsumer implements ConsumerStore {
  readonly book = new ConsumerBook();
  deleted = false;

  constructor(
    readonly name: string,
    private readonly owner: MemoryConsumers,
  ) {}

  config(): Buffer | null {
    return this.book.config;
  }

  setConfig(config: Buffer): void {
    this.live();
    this.book.config = Buffer.from(config);
  }

  updateDelivered(dseq: number, sseq: number, dc: number, ts: number): void {
    this.live();
    checkSeqs(dseq, sseq);
    this.book.applyDelivered(dseq, sseq, dc, ts);
  }

  updateAcks(dseq: number, sseq: number, ts?: number): boolean {
    this.live();
    return this.book.applyAck(dseq, sseq, ts ?? nowTs());
  }

  update(state: ConsumerState): void {
    this.live();
    checkState(state);
    this.book.replace(state);
  }

  state(): ConsumerState {
    return this.book.copy();
  }

  get pendingCount(): number {
    return this.book.pending.size;
  }

  whenDurable(cb: (err: Error | null) => void): void {
    process.nextTick(cb, null);
  }

  async delete(): Promise<void> {
    await this.owner.delete(this.name);
  }

  private live(): void {
    if (this.deleted) throw new Error(`consumer state ${this.name} was deleted`);
  }
}

/** The memory store's named consumer-state stores. One Map entry per consumer. */
export class MemoryConsumers {
  private readonly byName = new Map<string, MemoryConsumer>();

  open(name: string): ConsumerStore {
    if (name.length === 0) throw new RangeError('consumer name must not be empty');
    let c = this.byName.get(name);
    if (c === undefined) {
      c = new MemoryConsumer(name, this);
      this.byName.set(name, c);
    }
    return c;
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  async delete(name: string): Promise<boolean> {
    const c = this.byName.get(name);
    if (c === undefined) return false;
    c.deleted = true;
    this.byName.delete(name);
    return true;
  }

  clear(): void {
    for (const c of this.byName.values()) c.deleted = true;
    this.byName.clear();
  }
}
