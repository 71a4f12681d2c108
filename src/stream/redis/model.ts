/**
 * Redis Streams semantics over a keyspace, protocol-free (Redis t_stream.c is the reference for
 * every rule here; the door in src/resp/commands/streams.ts and groups.ts parses arguments and
 * writes replies). Every state change is first resolved into an Effect (effects.ts: the
 * generated ID, the exact trim, each delivery as a claim with its time and count), then applied
 * by `apply`, the same code `applyEffect` runs on recovery, then handed to the effect sink as a
 * record. The sink's owner (the durable log) treats records as opaque bytes.
 *
 * Counters kept for Redis's observable behaviour: `keys.dirty` as server.dirty, and
 * `keys.touch` for every key Redis signals as modified (the WATCH seam). Costs: see stream.ts
 * and group.ts; nothing is allocated per call beyond the effect records and the results.
 */
import { ID_MAX, U64_MAX, type StreamId } from './id.js';
import { RStream, entryFields, type NodeLimits, type PackedFields, type TrimStrategy } from './stream.js';
import { Consumer, Group } from './group.js';
import { decodeEffect, effectSize, encodeAdd, encodeEffect, type Effect } from './effects.js';

/** The keyspace as the model sees it (src/resp/keyspace.ts implements it). */
export interface StreamKeys {
  get(db: number, key: string): { readonly type: string } | undefined;
  set(db: number, key: string, v: RedisStream): void;
  delete(db: number, key: string): boolean;
  /** Every key with a value, per db (for snapshots). */
  readonly dbs: readonly Map<string, { readonly type: string }>[];
  dirty: number;
  touch(db: number, key: string): void;
}

/** A stream key's value: the entries (RStream) and its consumer groups by name. */
export class RedisStream extends RStream {
  readonly type = 'stream' as const;
  readonly groups = new Map<string, Group>();

  /** Groups in byte order of their names (Redis's rax order). */
  sortedGroups(): Group[] {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Redis 7.0 XINFO lag: null when it cannot be computed (t_stream.c xinfoReplyWithStreamInfo). */
  lag(g: Group): number | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== null && !this.hasTombstones(g.lastId, null)) return this.entriesAdded - g.entriesRead;
    const er = this.estimateDistance(g.lastId);
    return er === null ? null : this.entriesAdded - er;
  }
}

/** Neutral refusals; the door maps each to Redis's text (RedisErrors). */
export type StreamError =
  | 'wrongtype'
  | 'id-too-small'
  | 'id-exhausted'
  | 'no-key'
  | 'setid-below-top'
  | 'setid-entries-added-below-length'
  | 'busygroup'
  | 'xgroup-needs-key'
  | 'no-group';

/** A trim as XADD/XTRIM ask for it. `limit` 0 = none. */
export interface TrimArgs {
  strategy: TrimStrategy;
  maxlen: number;
  minid: StreamId;
  approx: boolean;
  limit: number;
}

/** One entry of a read: its packed fields (stream.ts PackedFields), null for an ID whose entry is
 * gone (a history read of a deleted entry). */
export interface ReadEntry {
  id: StreamId;
  data: PackedFields | null;
}

/** A claim's options (XCLAIM). `time` null = now; `retryCount` null = unchanged rule. */
export interface ClaimOptions {
  minIdle: number;
  time: number | null;
  retryCount: number | null;
  force: boolean;
  justId: boolean;
  lastId: StreamId | null;
}

const isErr = (v: unknown): v is StreamError => typeof v === 'string';

/** XACK batches above this many IDs find duplicates with a Set instead of a scan. */
const ACK_SET_MIN = 8;

export class RedisStreamModel {
  private sink: ((db: number, key: string, rec: Buffer) => void) | null = null;
  /** True while applyEffect runs: a replayed drop must not be logged again. */
  private replaying = false;

  constructor(
    readonly keys: StreamKeys,
    readonly limits: () => NodeLimits,
    private readonly now: () => number = Date.now,
  ) {}

  // ---- the durability contract ----

  /** Where records go; null = nothing is encoded or emitted. */
  setEffectSink(sink: ((db: number, key: string, rec: Buffer) => void) | null): void {
    this.sink = sink;
  }

  /** Re-applies one record (recovery): the same code as the live path, no clock. */
  applyEffect(db: number, key: string, rec: Buffer): void {
    this.replaying = true;
    try {
      this.apply(db, key, decodeEffect(rec));
    } finally {
      this.replaying = false;
    }
  }

  /** Records that rebuild today's whole state from empty. */
  *snapshotEffects(): Iterable<{ db: number; key: string; rec: Buffer }> {
    const dbs = this.keys.dbs;
    for (let db = 0; db < dbs.length; db++) {
      for (const [key, v] of dbs[db]) {
        if (!(v instanceof RedisStream)) continue;
        for (const e of snapshotOf(v)) yield { db, key, rec: encodeEffect(e) };
      }
    }
  }

  /**
   * What `snapshotEffects` would produce, counted without encoding it: records, the key bytes
   * they carry and their body bytes. The log asks this before deciding to compact, so a check that
   * decides against it costs one walk of the state and no allocation per entry.
   */
  snapshotSize(): { records: number; keyBytes: number; recBytes: number } {
    let records = 0;
    let keyBytes = 0;
    let recBytes = 0;
    const dbs = this.keys.dbs;
    for (let db = 0; db < dbs.length; db++) {
      for (const [key, v] of dbs[db]) {
        if (!(v instanceof RedisStream)) continue;
        const r = snapshotSizeOf(v);
        records += r.records;
        keyBytes += r.records * key.length;
        recBytes += r.bytes;
      }
    }
    return { records, keyBytes, recBytes };
  }

  /** A key was deleted or flushed by a generic command: logged as a drop. */
  dropped(db: number, key: string): void {
    if (this.sink !== null && !this.replaying) this.sink(db, key, encodeEffect({ t: 'drop' }));
  }

  /** Applies `e` and logs it; `rec` is its record when the caller already built it. */
  private emit(db: number, key: string, e: Effect, rec?: Buffer): void {
    this.apply(db, key, e);
    if (this.sink !== null) this.sink(db, key, rec ?? encodeEffect(e));
  }

  /** Applies one resolved effect. Everything that changes stream state goes through here. */
  private apply(db: number, key: string, e: Effect): void {
    if (e.t === 'drop') {
      this.keys.delete(db, key);
      return;
    }
    let s = this.keys.get(db, key) as RedisStream | undefined;
    if (s === undefined) {
      s = new RedisStream();
      this.keys.set(db, key, s);
    }
    switch (e.t) {
      case 'create':
        return;
      case 'add':
        s.append(e.id, e.data, e.newNode);
        return;
      case 'trim':
        s.trim(e.strategy, e.maxlen, e.minid, false, 0);
        return;
      case 'xdel': {
        let first = false;
        for (const id of e.ids) {
          if (!s.delete(id)) continue;
          if (id > s.maxDeletedId) s.maxDeletedId = id;
          first ||= id === s.firstId;
        }
        if (first) s.refreshFirstId();
        return;
      }
      case 'setid':
        s.lastId = e.lastId;
        if (e.entriesAdded !== null) s.entriesAdded = e.entriesAdded;
        if (e.maxDeletedId !== null) s.maxDeletedId = e.maxDeletedId;
        return;
      case 'gcreate':
        s.groups.set(e.group, new Group(e.group, e.id, e.entriesRead));
        return;
      case 'gsetid': {
        const g = s.groups.get(e.group) as Group;
        g.lastId = e.id;
        g.entriesRead = e.entriesRead;
        return;
      }
      case 'gdestroy':
        s.groups.delete(e.group);
        return;
      case 'ccreate':
      case 'seen': {
        const g = s.groups.get(e.group) as Group;
        const c = g.consumers.get(e.consumer);
        if (c === undefined) g.consumers.set(e.consumer, new Consumer(e.consumer, e.seen));
        else c.seen = e.seen;
        return;
      }
      case 'cdel':
        (s.groups.get(e.group) as Group).deleteConsumer(e.consumer);
        return;
      case 'claim': {
        const g = s.groups.get(e.group) as Group;
        let c = g.consumers.get(e.consumer);
        if (c === undefined) {
          c = new Consumer(e.consumer, e.time);
          g.consumers.set(e.consumer, c);
        }
        g.pend(e.id, c, e.time, e.count);
        return;
      }
      case 'unpend': {
        const g = s.groups.get(e.group) as Group;
        for (const id of e.ids) g.unpend(id);
        return;
      }
      case 'node':
        s.restoreNode(e.masterFields, e.slots, e.bytes);
        return;
    }
  }

  // ---- lookups ----

  /** The stream at key, undefined if none, 'wrongtype' if another type. */
  lookup(db: number, key: string): RedisStream | undefined | 'wrongtype' {
    const v = this.keys.get(db, key);
    if (v === undefined) return undefined;
    return v instanceof RedisStream ? v : 'wrongtype';
  }

  // ---- data plane ----

  /**
   * XADD (t_stream.c xaddCommand): `id` null = `*`; `seqGiven` false = `ms-*`. Returns the new
   * ID, null for NOMKSTREAM on a missing key, or a refusal. Trims after adding, as Redis does.
   */
  xadd(
    db: number,
    key: string,
    id: StreamId | null,
    seqGiven: boolean,
    noMkStream: boolean,
    trim: TrimArgs | null,
    fields: Buffer[],
  ): StreamId | null | StreamError {
    const found = this.lookup(db, key);
    if (found === 'wrongtype') return found;
    if (found === undefined && noMkStream) return null;
    const last = found?.lastId ?? 0n;
    if (last === ID_MAX) return 'id-exhausted';
    let newId: StreamId;
    if (id === null) {
      const ms = BigInt(this.now());
      newId = ms > last >> 64n ? ms << 64n : last + 1n;
    } else if (!seqGiven) {
      if (id >> 64n === last >> 64n) {
        if ((last & U64_MAX) === U64_MAX) return 'id-too-small';
        newId = last + 1n;
      } else newId = id;
    } else newId = id;
    if (newId <= last) return 'id-too-small';
    let bytes = 0;
    for (const f of fields) bytes += f.length;
    const newNode = found === undefined || found.needsNewNode(bytes, this.limits());
    // The record is the entry's storage too (encodeAdd): one allocation, one copy of the data.
    const { rec, data } = encodeAdd(newId, newNode, fields);
    this.emit(db, key, { t: 'add', id: newId, newNode, data }, rec);
    this.keys.dirty++;
    this.keys.touch(db, key);
    if (trim !== null) this.trim(db, key, this.lookup(db, key) as RedisStream, trim);
    return newId;
  }

  /** XTRIM: entries removed (0 for a missing key). */
  xtrim(db: number, key: string, trim: TrimArgs): number | StreamError {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined) return 0;
    const n = this.trim(db, key, s, trim);
    if (n > 0) {
      this.keys.dirty += n;
      this.keys.touch(db, key);
    }
    return n;
  }

  /** Resolves a trim to an exact one (aof.c: `~` becomes the resulting length) and applies it. */
  private trim(db: number, key: string, s: RedisStream, t: TrimArgs): number {
    if (!t.approx) {
      const before = s.length;
      if (t.strategy === 'maxlen' ? s.length <= t.maxlen : s.length === 0 || s.firstId >= t.minid) return 0;
      this.emit(db, key, { t: 'trim', strategy: t.strategy, maxlen: t.maxlen, minid: t.minid });
      return before - s.length;
    }
    // Decide on a scratch walk of the head nodes, then log the exact length it leaves.
    let removed = 0;
    let length = s.length;
    for (const node of s.nodes) {
      if (t.strategy === 'maxlen' && length <= t.maxlen) break;
      if (t.limit > 0 && removed + node.live > t.limit) break;
      const whole = t.strategy === 'maxlen' ? length - node.live >= t.maxlen : node.entries[node.entries.length - 1].id < t.minid;
      if (!whole) break;
      removed += node.live;
      length -= node.live;
    }
    if (removed === 0) return 0;
    this.emit(db, key, { t: 'trim', strategy: 'maxlen', maxlen: length, minid: 0n });
    return removed;
  }

  /** XDEL: entries deleted; raises max-deleted-entry-id. */
  xdel(db: number, key: string, ids: StreamId[]): number | StreamError {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined) return 0;
    const hit: StreamId[] = [];
    const seen = new Set<StreamId>();
    for (const id of ids) {
      if (seen.has(id) || s.get(id) === undefined) continue;
      seen.add(id);
      hit.push(id);
    }
    if (hit.length === 0) return 0;
    this.emit(db, key, { t: 'xdel', ids: hit });
    this.keys.dirty += hit.length;
    this.keys.touch(db, key);
    return hit.length;
  }

  /** XSETID (checks after argument parsing, t_stream.c xsetidCommand). */
  xsetid(db: number, key: string, id: StreamId, entriesAdded: number | null, maxDeletedId: StreamId | null): StreamError | null {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined) return 'no-key';
    if (s.length > 0) {
      const top = s.last()?.id ?? 0n;
      if (id < top) return 'setid-below-top';
      if (entriesAdded !== null && s.length > entriesAdded) return 'setid-entries-added-below-length';
    }
    this.emit(db, key, { t: 'setid', lastId: id, entriesAdded, maxDeletedId: maxDeletedId === 0n ? null : maxDeletedId });
    this.keys.dirty++;
    return null;
  }

  /** Live entries in [start, end] (XRANGE/XREVRANGE/XREAD), at most `count` (0 = all). */
  range(s: RStream, start: StreamId, end: StreamId, rev: boolean, count: number): ReadEntry[] {
    const out: ReadEntry[] = [];
    s.range(start, end, rev, (e) => {
      out.push({ id: e.id, data: entryFields(e) });
      return count === 0 || out.length < count;
    });
    return out;
  }

  // ---- consumer groups ----

  /** The stream and group, or why not (for XGROUP SETID/CREATECONSUMER/DELCONSUMER). */
  private groupOf(db: number, key: string, group: string): { s: RedisStream; g: Group } | StreamError {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined) return 'xgroup-needs-key';
    const g = s.groups.get(group);
    return g === undefined ? 'no-group' : { s, g };
  }

  /** XGROUP CREATE; `id` null = `$`. */
  groupCreate(
    db: number,
    key: string,
    group: string,
    id: StreamId | null,
    mkstream: boolean,
    entriesRead: number | null,
  ): StreamError | null {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined && !mkstream) return 'xgroup-needs-key';
    if (s !== undefined && s.groups.has(group)) return 'busygroup';
    if (s === undefined) {
      this.emit(db, key, { t: 'create' });
      this.keys.touch(db, key);
    }
    this.emit(db, key, { t: 'gcreate', group, id: id ?? s?.lastId ?? 0n, entriesRead });
    this.keys.dirty++;
    return null;
  }

  /** XGROUP SETID; `id` null = `$`. */
  groupSetId(db: number, key: string, group: string, id: StreamId | null, entriesRead: number | null): StreamError | null {
    const r = this.groupOf(db, key, group);
    if (isErr(r)) return r;
    this.emit(db, key, { t: 'gsetid', group, id: id ?? r.s.lastId, entriesRead });
    this.keys.dirty++;
    return null;
  }

  /** XGROUP DESTROY: 1 if it existed. The caller wakes blocked readers. */
  groupDestroy(db: number, key: string, group: string): number | StreamError {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    if (s === undefined) return 'xgroup-needs-key';
    if (!s.groups.has(group)) return 0;
    this.emit(db, key, { t: 'gdestroy', group });
    this.keys.dirty++;
    return 1;
  }

  /** XGROUP CREATECONSUMER: 1 if created. */
  consumerCreate(db: number, key: string, group: string, consumer: string): number | StreamError {
    const r = this.groupOf(db, key, group);
    if (isErr(r)) return r;
    if (r.g.consumers.has(consumer)) return 0;
    this.emit(db, key, { t: 'ccreate', group, consumer, seen: this.now() });
    this.keys.dirty++;
    return 1;
  }

  /** XGROUP DELCONSUMER: the consumer's pending count (its PEL entries are dropped). */
  consumerDelete(db: number, key: string, group: string, consumer: string): number | StreamError {
    const r = this.groupOf(db, key, group);
    if (isErr(r)) return r;
    const c = r.g.consumers.get(consumer);
    if (c === undefined) return 0;
    const n = c.pel.size;
    this.emit(db, key, { t: 'cdel', group, consumer });
    this.keys.dirty++;
    return n;
  }

  /** Looks a consumer up refreshing its seen-time, creating it if missing (streamLookupConsumer + streamCreateConsumer). */
  private touchConsumer(db: number, key: string, s: RedisStream, g: Group, name: string): Consumer {
    const now = this.now();
    if (!g.consumers.has(name)) this.keys.dirty++;
    this.emit(db, key, { t: 'seen', group: g.name, consumer: name, seen: now });
    return g.consumers.get(name) as Consumer;
  }

  /**
   * XREADGROUP on one stream (streamReplyWithRange with a group): `after` null = `>` (new entries
   * after the group's last ID, each pended to the consumer unless NOACK), else the consumer's own
   * history after `after`. Returns what to reply; the caller has checked there is something to
   * serve for `>`.
   */
  readGroup(
    db: number,
    key: string,
    s: RedisStream,
    g: Group,
    consumer: string,
    after: StreamId | null,
    count: number,
    noack: boolean,
  ): ReadEntry[] {
    const c = this.touchConsumer(db, key, s, g, consumer);
    this.keys.dirty++;
    const out: ReadEntry[] = [];
    const now = this.now();
    if (after !== null) {
      if (after === ID_MAX) return out;
      for (const [id, p] of c.pel.between(after + 1n, ID_MAX, count)) {
        const e = s.get(id);
        if (e === undefined) out.push({ id, data: null });
        else {
          out.push({ id, data: entryFields(e) });
          this.emit(db, key, { t: 'claim', group: g.name, consumer, id, time: now, count: p.count + 1 });
        }
      }
      return out;
    }
    if (g.lastId === ID_MAX) return out;
    let lastId = g.lastId;
    let entriesRead = g.entriesRead;
    const picked: ReadEntry[] = [];
    s.range(g.lastId + 1n, ID_MAX, false, (e) => {
      if (e.id > lastId) {
        if (entriesRead !== null && !s.hasTombstones(e.id, null)) entriesRead++;
        else if (s.entriesAdded > 0) entriesRead = s.estimateDistance(e.id);
        lastId = e.id;
      }
      picked.push({ id: e.id, data: entryFields(e) });
      return count === 0 || picked.length < count;
    });
    for (const p of picked) {
      out.push(p);
      if (!noack) this.emit(db, key, { t: 'claim', group: g.name, consumer, id: p.id, time: now, count: 1 });
    }
    if (picked.length > 0) this.emit(db, key, { t: 'gsetid', group: g.name, id: lastId, entriesRead });
    return out;
  }

  /** XACK: how many of `ids` were pending (0 for a missing key or group). */
  ack(db: number, key: string, group: string, ids: StreamId[]): number | StreamError {
    const s = this.lookup(db, key);
    if (s === 'wrongtype') return s;
    const g = s?.groups.get(group);
    if (g === undefined) return 0;
    const hit: StreamId[] = [];
    // A batch acks each ID once; a Set keeps a large batch linear (XACK of 100 is the bench shape).
    const seen = ids.length > ACK_SET_MIN ? new Set<StreamId>() : null;
    for (const id of ids) {
      if (!g.pel.has(id)) continue;
      if (seen === null ? hit.includes(id) : seen.has(id)) continue;
      seen?.add(id);
      hit.push(id);
    }
    if (hit.length === 0) return 0;
    this.emit(db, key, { t: 'unpend', group, ids: hit });
    this.keys.dirty += hit.length;
    return hit.length;
  }

  /** XCLAIM (t_stream.c xclaimCommand) on a stream and group the caller found. */
  claim(db: number, key: string, s: RedisStream, g: Group, consumer: string, ids: StreamId[], o: ClaimOptions): ReadEntry[] {
    const now = this.now();
    let dirty = 0;
    let lastIdChanged = false;
    if (o.lastId !== null && o.lastId > g.lastId) {
      this.emit(db, key, { t: 'gsetid', group: g.name, id: o.lastId, entriesRead: g.entriesRead });
      lastIdChanged = true;
    }
    let time = o.time ?? now;
    if (time < 0 || time > now) time = now;
    const out: ReadEntry[] = [];
    let c: Consumer | null = null;
    for (const id of ids) {
      const p = g.pel.get(id);
      const e = s.get(id);
      if (e === undefined) {
        if (p !== undefined) {
          this.emit(db, key, { t: 'unpend', group: g.name, ids: [id] });
          dirty++;
          lastIdChanged = false;
        }
        continue;
      }
      if (p === undefined && !o.force) continue;
      if (p !== undefined && o.minIdle > 0 && now - p.time < o.minIdle) continue;
      c ??= this.touchConsumer(db, key, s, g, consumer);
      const count = o.retryCount ?? (p === undefined ? 1 : p.count) + (o.justId ? 0 : 1);
      this.emit(db, key, { t: 'claim', group: g.name, consumer, id, time, count });
      out.push({ id, data: o.justId ? null : entryFields(e) });
      dirty++;
      lastIdChanged = false;
    }
    if (lastIdChanged) dirty++;
    this.keys.dirty += dirty;
    return out;
  }

  /** XAUTOCLAIM: [next cursor, claimed, deleted IDs] (t_stream.c xautoclaimCommand). */
  autoclaim(
    db: number,
    key: string,
    s: RedisStream,
    g: Group,
    consumer: string,
    minIdle: number,
    start: StreamId,
    count: number,
    justId: boolean,
  ): { cursor: StreamId; claimed: ReadEntry[]; deleted: StreamId[] } {
    const now = this.now();
    let attempts = count * 10;
    const claimed: ReadEntry[] = [];
    const deleted: StreamId[] = [];
    let c: Consumer | null = null;
    let cursor: StreamId = 0n;
    const walk = g.pel.between(start, ID_MAX);
    let k = 0;
    while (attempts-- > 0 && count > 0 && k < walk.length) {
      const [id, p] = walk[k++];
      const e = s.get(id);
      if (e === undefined) {
        this.emit(db, key, { t: 'unpend', group: g.name, ids: [id] });
        this.keys.dirty++;
        deleted.push(id);
        count--;
        continue;
      }
      if (minIdle > 0 && now - p.time < minIdle) continue;
      c ??= this.touchConsumer(db, key, s, g, consumer);
      this.emit(db, key, { t: 'claim', group: g.name, consumer, id, time: now, count: p.count + (justId ? 0 : 1) });
      claimed.push({ id, data: justId ? null : entryFields(e) });
      count--;
      this.keys.dirty++;
    }
    if (k < walk.length) cursor = walk[k][0];
    return { cursor, claimed, deleted };
  }
}

/** Record count and body bytes of `snapshotOf(s)`, walking the state without building it. */
function snapshotSizeOf(s: RedisStream): { records: number; bytes: number } {
  let records = 2; // create, setid
  let bytes = effectSize({ t: 'create' });
  bytes += effectSize({ t: 'setid', lastId: 0n, entriesAdded: 0, maxDeletedId: s.maxDeletedId === 0n ? null : 0n });
  // A 'node' record: type, bytes, master fields, slot count, then per slot ID, flag and fields.
  const strs = (v: readonly string[]): number => {
    let n = 4;
    for (const x of v) n += 4 + x.length;
    return n;
  };
  for (const n of s.nodes) {
    records++;
    bytes += 1 + 8 + strs(n.masterFields) + 4;
    for (const e of n.entries) bytes += 16 + 1 + (e.data === null ? 0 : e.data.length);
  }
  for (const g of s.groups.values()) {
    records++;
    bytes += effectSize({ t: 'gcreate', group: g.name, id: 0n, entriesRead: g.entriesRead });
    for (const c of g.consumers.values()) {
      // Its ccreate, then one claim per entry it owns (every pending entry has one owner).
      records += 1 + c.pel.size;
      bytes += effectSize({ t: 'ccreate', group: g.name, consumer: c.name, seen: 0 });
      bytes += c.pel.size * effectSize({ t: 'claim', group: g.name, consumer: c.name, id: 0n, time: 0, count: 0 });
    }
  }
  return { records, bytes };
}

/** The records that rebuild `s` from nothing. */
function snapshotOf(s: RedisStream): Effect[] {
  const out: Effect[] = [{ t: 'create' }];
  for (const n of s.nodes) {
    out.push({
      t: 'node',
      bytes: n.fixedBytes,
      masterFields: n.masterFields,
      slots: n.entries.map((e) => ({ id: e.id, data: e.data })),
    });
  }
  out.push({
    t: 'setid',
    lastId: s.lastId,
    entriesAdded: s.entriesAdded,
    maxDeletedId: s.maxDeletedId === 0n ? null : s.maxDeletedId,
  });
  for (const g of s.groups.values()) {
    out.push({ t: 'gcreate', group: g.name, id: g.lastId, entriesRead: g.entriesRead });
    for (const c of g.consumers.values()) {
      out.push({ t: 'ccreate', group: g.name, consumer: c.name, seen: c.seen });
    }
    for (const [id, p] of g.pel)
      out.push({ t: 'claim', group: g.name, consumer: p.owner.name, id, time: p.time, count: p.count });
  }
  return out;
}
