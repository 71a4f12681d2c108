/**
 * Consumer groups of a Redis stream (t_stream.c streamCG, streamConsumer, streamNACK):
 * last-delivered-id, entries-read (for lag as Redis 7.0 computes it), the group's pending
 * entries list (PEL) and each consumer's share of it. Protocol-free.
 *
 * Costs (docs/redis.md "Streams", measured): a pending entry is one object referenced from the
 * group's and its owner's sorted maps, about 190 bytes in all. Sorted maps keep an ascending
 * array of IDs beside a Map, so appends at the end (the usual XREADGROUP `>`) are O(1) and an
 * XACK in the middle is one binary search and a splice.
 */
import type { StreamId } from './id.js';

/** A Map from stream ID to V that also iterates in ID order. */
export class IdMap<V> {
  private readonly keys: StreamId[] = [];
  private readonly map = new Map<StreamId, V>();

  get size(): number {
    return this.keys.length;
  }

  get(id: StreamId): V | undefined {
    return this.map.get(id);
  }

  has(id: StreamId): boolean {
    return this.map.has(id);
  }

  /** Inserts or replaces. */
  set(id: StreamId, v: V): void {
    if (!this.map.has(id)) {
      const n = this.keys.length;
      if (n === 0 || this.keys[n - 1] < id) this.keys.push(id);
      else this.keys.splice(this.lowerBound(id), 0, id);
    }
    this.map.set(id, v);
  }

  delete(id: StreamId): boolean {
    if (!this.map.delete(id)) return false;
    const n = this.keys.length;
    if (this.keys[0] === id) this.keys.shift();
    else if (this.keys[n - 1] === id) this.keys.pop();
    else this.keys.splice(this.lowerBound(id), 1);
    return true;
  }

  /** Index of the first key ≥ id. */
  lowerBound(id: StreamId): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.keys[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  firstKey(): StreamId | undefined {
    return this.keys[0];
  }

  lastKey(): StreamId | undefined {
    return this.keys[this.keys.length - 1];
  }

  /** Entries with start ≤ id ≤ end in ascending order; a snapshot, safe to mutate while walking. */
  between(start: StreamId, end: StreamId, max = 0): [StreamId, V][] {
    const out: [StreamId, V][] = [];
    for (let i = this.lowerBound(start); i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k > end || (max > 0 && out.length >= max)) break;
      out.push([k, this.map.get(k) as V]);
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<[StreamId, V]> {
    for (const k of [...this.keys]) {
      const v = this.map.get(k);
      if (v !== undefined) yield [k, v];
    }
  }
}

/** One pending entry: delivered to `owner`, not yet acknowledged (streamNACK). */
export interface Pending {
  owner: Consumer;
  /** Last delivery time, ms since epoch. */
  time: number;
  count: number;
}

/** A consumer of a group (streamConsumer). Redis 7.0 keeps only seen-time. */
export class Consumer {
  readonly pel = new IdMap<Pending>();
  constructor(
    readonly name: string,
    public seen: number,
  ) {}
}

/** A consumer group (streamCG). `entriesRead` null = unknown (SCG_INVALID_ENTRIES_READ). */
export class Group {
  readonly pel = new IdMap<Pending>();
  readonly consumers = new Map<string, Consumer>();
  constructor(
    readonly name: string,
    public lastId: StreamId,
    public entriesRead: number | null,
  ) {}

  /** Adds or moves the pending entry `id` to `owner` with this time and count. */
  pend(id: StreamId, owner: Consumer, time: number, count: number): void {
    const p = this.pel.get(id);
    if (p !== undefined) {
      if (p.owner !== owner) {
        p.owner.pel.delete(id);
        owner.pel.set(id, p);
        p.owner = owner;
      }
      p.time = time;
      p.count = count;
      return;
    }
    const np: Pending = { owner, time, count };
    this.pel.set(id, np);
    owner.pel.set(id, np);
  }

  /** Removes `id` from the PEL (XACK); true if it was pending. */
  unpend(id: StreamId): boolean {
    const p = this.pel.get(id);
    if (p === undefined) return false;
    this.pel.delete(id);
    p.owner.pel.delete(id);
    return true;
  }

  /** Removes a consumer and its pending entries; returns how many it had (XGROUP DELCONSUMER). */
  deleteConsumer(name: string): number {
    const c = this.consumers.get(name);
    if (c === undefined) return 0;
    const n = c.pel.size;
    for (const [id] of c.pel) this.pel.delete(id);
    this.consumers.delete(name);
    return n;
  }

  /** Consumers in byte order of their names (how Redis's rax lists them). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
}
