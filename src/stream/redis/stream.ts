/**
 * One Redis stream's entries, in Redis's node model (t_stream.c): entries live in nodes of at
 * most `stream-node-max-entries` slots (deleted slots included) and `stream-node-max-bytes`
 * listpack bytes; a node goes away only when its last live entry does. The boundaries matter
 * because Redis exposes them: `MAXLEN ~`/`MINID ~` drop whole nodes only, and XINFO reports the
 * node count as `radix-tree-keys`. Protocol-free: ids are packed bigints (id.ts), field/value
 * pairs are Buffers, nothing here knows RESP.
 *
 * Costs (measured with `--expose-gc`, 200k entries of one 5-byte field and a 12-byte value):
 * 233 bytes per entry, data included (208 when the data were latin1 strings): one object with its
 * id and a Buffer view of its packed field/value bytes (`PackedFields`); a node is one object and
 * an array. The bytes live outside the V8 heap (a view
 * of the effect record XADD built, or of a pooled Buffer), so a large stream costs the garbage
 * collector one small object per entry, never a copy of its data. Lookups are two binary
 * searches (node, then slot).
 */
import { ID_MAX, type StreamId } from './id.js';
import { LP_EMPTY_BYTES, lpBigIntSize, lpIntSize, lpStringSize } from './listpack.js';

/**
 * An entry's fields and values, alternating, packed in one Buffer: u32 BE count, then per item
 * u32 BE length and its bytes. The same bytes as the field list of an `add` effect record
 * (effects.ts), so XADD stores a view of the record it logs and replies copy straight from it.
 */
export type PackedFields = Buffer;

/** Items (fields + values) in a packed field list. */
export function packedCount(d: PackedFields): number {
  return d.readUInt32BE(0);
}

/** One entry slot. `data` is null once the entry is deleted (the slot stays, as in a listpack). */
export interface StreamEntry {
  readonly id: StreamId;
  data: PackedFields | null;
}

/** A node: up to `nodeMaxEntries` slots, keyed by its first ID (Redis's rax key / master ID). */
export interface StreamNode {
  readonly master: StreamId;
  readonly entries: StreamEntry[];
  /** The master entry's fields (the first entry's, latin1), for the SAMEFIELDS size rule. */
  readonly masterFields: string[];
  live: number;
  deleted: number;
  /** Listpack bytes except the live/deleted counters, whose size varies with their value. */
  fixedBytes: number;
  /** The master's sequence is within 2^32 of 2^64 (entryBytes' fast path does not apply). */
  readonly seqNearMax: boolean;
}

/** Node limits as CONFIG has them (`stream-node-max-entries`, `stream-node-max-bytes`). */
export interface NodeLimits {
  maxEntries: number;
  maxBytes: number;
}

/** The most a listpack may hold (t_stream.c STREAM_LISTPACK_MAX_SIZE, 1 GB). */
const LISTPACK_MAX = 1 << 30;

/** The trimming strategies of XADD/XTRIM. */
export type TrimStrategy = 'maxlen' | 'minid';

/** The packed field/value pairs of a live entry. */
export function entryFields(e: StreamEntry): PackedFields {
  return e.data as PackedFields;
}

function nodeBytes(n: StreamNode): number {
  return n.fixedBytes + lpIntSize(n.live) + lpIntSize(n.deleted);
}

/** The entries of a Redis stream, its counters, and (in group.ts) its consumer groups. */
export class RStream {
  readonly nodes: StreamNode[] = [];
  length = 0;
  lastId: StreamId = 0n;
  /** First live entry's ID, 0-0 when empty (XINFO `recorded-first-entry-id`). */
  firstId: StreamId = 0n;
  maxDeletedId: StreamId = 0n;
  entriesAdded = 0;

  /** Whether an entry of `fieldBytes` total field+value bytes must open a new node (streamAppendItem). */
  needsNewNode(fieldBytes: number, limits: NodeLimits): boolean {
    const tail = this.nodes[this.nodes.length - 1];
    if (tail === undefined) return true;
    let maxBytes = limits.maxBytes;
    if (maxBytes <= 0 || maxBytes > LISTPACK_MAX) maxBytes = LISTPACK_MAX;
    if (nodeBytes(tail) + fieldBytes >= maxBytes) return true;
    return limits.maxEntries > 0 && tail.live + tail.deleted >= limits.maxEntries;
  }

  /** Appends an entry with an already-validated ID (> lastId); `newNode` as needsNewNode said.
   * `data` is kept as it is (a view the caller must not change). */
  append(id: StreamId, data: PackedFields, newNode: boolean): void {
    let node = this.nodes[this.nodes.length - 1];
    const nf = packedCount(data) / 2;
    if (newNode || node === undefined) {
      const masterFields: string[] = [];
      let fixed = LP_EMPTY_BYTES + lpIntSize(nf) + lpIntSize(0);
      let p = 4;
      for (let i = 0; i < nf; i++) {
        const len = data.readUInt32BE(p);
        masterFields.push(data.toString('latin1', p + 4, p + 4 + len));
        fixed += lpStringSize(data, p + 4, p + 4 + len);
        p += 8 + len + data.readUInt32BE(p + 4 + len); // the field, then its value
      }
      node = { master: id, entries: [], masterFields, live: 0, deleted: 0, fixedBytes: fixed, seqNearMax: nearMax(id) };
      this.nodes.push(node);
    }
    node.fixedBytes += entryBytes(node, id, data);
    node.entries.push({ id, data });
    node.live++;
    this.length++;
    this.entriesAdded++;
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /** Appends a whole node as a snapshot record describes it (deleted slots as null fields). */
  restoreNode(masterFields: string[], slots: readonly { id: StreamId; data: PackedFields | null }[], fixedBytes: number): void {
    const node: StreamNode = {
      master: slots[0].id,
      entries: [],
      masterFields,
      live: 0,
      deleted: 0,
      fixedBytes,
      seqNearMax: nearMax(slots[0].id),
    };
    for (const s of slots) {
      node.entries.push({ id: s.id, data: s.data });
      if (s.data === null) node.deleted++;
      else node.live++;
    }
    this.nodes.push(node);
    this.length += node.live;
    this.lastId = slots[slots.length - 1].id;
    this.refreshFirstId();
  }

  /** Index of the node that would hold `id` (the last whose master ≤ id), or -1. */
  private nodeFor(id: StreamId): number {
    let lo = 0;
    let hi = this.nodes.length - 1;
    let ans = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.nodes[mid].master <= id) {
        ans = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return ans;
  }

  /** The live entry with this ID, if any. */
  get(id: StreamId): StreamEntry | undefined {
    const ni = this.nodeFor(id);
    if (ni < 0) return undefined;
    const es = this.nodes[ni].entries;
    const i = slotAtOrAfter(es, id);
    const e = es[i];
    return e !== undefined && e.id === id && e.data !== null ? e : undefined;
  }

  /** Marks the entry deleted (streamDeleteItem); drops its node once no live entry is left. */
  delete(id: StreamId): boolean {
    const ni = this.nodeFor(id);
    if (ni < 0) return false;
    const node = this.nodes[ni];
    const i = slotAtOrAfter(node.entries, id);
    const e = node.entries[i];
    if (e === undefined || e.id !== id || e.data === null) return false;
    e.data = null;
    node.live--;
    node.deleted++;
    this.length--;
    if (node.live === 0) this.nodes.splice(ni, 1);
    return true;
  }

  /** Re-reads the first live ID after deletions (streamGetEdgeID first, skipping tombstones). */
  refreshFirstId(): void {
    this.firstId = this.length === 0 ? 0n : (this.first()?.id ?? 0n);
  }

  first(): StreamEntry | undefined {
    for (const n of this.nodes) for (const e of n.entries) if (e.data !== null) return e;
    return undefined;
  }

  last(): StreamEntry | undefined {
    for (let ni = this.nodes.length - 1; ni >= 0; ni--) {
      const es = this.nodes[ni].entries;
      for (let i = es.length - 1; i >= 0; i--) if (es[i].data !== null) return es[i];
    }
    return undefined;
  }

  /**
   * Live entries with start ≤ id ≤ end, ascending (or descending with `rev`), at most `count`
   * (0 = all). `visit` returning false stops the walk.
   */
  range(start: StreamId, end: StreamId, rev: boolean, visit: (e: StreamEntry) => boolean | void): void {
    if (start > end || this.nodes.length === 0) return;
    if (!rev) {
      let ni = Math.max(this.nodeFor(start), 0);
      let i = slotAtOrAfter(this.nodes[ni].entries, start);
      for (; ni < this.nodes.length; ni++, i = 0) {
        const es = this.nodes[ni].entries;
        for (; i < es.length; i++) {
          const e = es[i];
          if (e.id > end) return;
          if (e.data !== null && visit(e) === false) return;
        }
      }
    } else {
      let ni = this.nodeFor(end);
      if (ni < 0) return;
      let i = slotAtOrAfter(this.nodes[ni].entries, end);
      const es0 = this.nodes[ni].entries;
      if (i >= es0.length || es0[i].id > end) i--;
      for (; ni >= 0; ni--, i = ni >= 0 ? this.nodes[ni].entries.length - 1 : 0) {
        const es = this.nodes[ni].entries;
        for (; i >= 0; i--) {
          const e = es[i];
          if (e.id < start) return;
          if (e.data !== null && visit(e) === false) return;
        }
      }
    }
  }

  /**
   * Removes entries from the head (streamTrim): whole nodes while allowed, then (exact only)
   * slots inside the next node. `limit` caps the entries removed (0 = none; only with approx).
   * Returns the number removed.
   */
  trim(strategy: TrimStrategy, maxlen: number, minid: StreamId, approx: boolean, limit: number): number {
    let deleted = 0;
    while (this.nodes.length > 0) {
      if (strategy === 'maxlen' && this.length <= maxlen) break;
      const node = this.nodes[0];
      const entries = node.live;
      if (limit > 0 && deleted + entries > limit) break;
      const remove = strategy === 'maxlen' ? this.length - entries >= maxlen : node.entries[node.entries.length - 1].id < minid;
      if (remove) {
        this.nodes.shift();
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      let fromNode = 0;
      for (const e of node.entries) {
        const stop = strategy === 'maxlen' ? this.length <= maxlen : e.id >= minid;
        if (stop) break;
        if (e.data !== null) {
          e.data = null;
          fromNode++;
          this.length--;
        }
      }
      node.live -= fromNode;
      node.deleted += fromNode;
      deleted += fromNode;
      break;
    }
    if (this.length === 0) this.firstId = 0n;
    else if (deleted > 0) this.refreshFirstId();
    return deleted;
  }

  /** Listpack bytes of every node, as this model sizes them (an estimate of Redis's memory for the
   * entries, without its rax and allocator overhead). Costs one pass over the nodes. */
  get listpackBytes(): number {
    let b = 0;
    for (const n of this.nodes) b += nodeBytes(n);
    return b;
  }

  /** `radix-tree-keys`: one rax key per node. */
  get radixTreeKeys(): number {
    return this.nodes.length;
  }

  /**
   * `radix-tree-nodes`: herald keeps no rax; this is the count a rax of `radixTreeKeys` 16-byte
   * keys has in the common case (one chain node plus one leaf per key, and the root), reported so
   * clients that read the field get a plausible number. Not exact.
   */
  get radixTreeNodes(): number {
    const k = this.nodes.length;
    return k === 0 ? 1 : k + 1 + (k > 1 ? 1 : 0);
  }

  /** Whether an XDEL tombstone may lie in [start, end] (streamRangeHasTombstones). */
  hasTombstones(start: StreamId | null, end: StreamId | null): boolean {
    if (this.length === 0 || this.maxDeletedId === 0n) return false;
    if (this.firstId > this.maxDeletedId) return false;
    const s = start ?? 0n;
    const e = end ?? ID_MAX;
    return s <= this.maxDeletedId && this.maxDeletedId <= e;
  }

  /** An entry counter for `id`, or null when unknowable (streamEstimateDistanceFromFirstEverEntry). */
  estimateDistance(id: StreamId): number | null {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && id <= this.lastId) return this.entriesAdded;
    if (id === this.lastId) return this.entriesAdded;
    if (id > this.lastId) return null;
    if (this.maxDeletedId === 0n || this.maxDeletedId < this.firstId) {
      if (id < this.firstId) return this.entriesAdded - this.length;
      if (id === this.firstId) return this.entriesAdded - this.length + 1;
    }
    return null;
  }
}

function nearMax(id: StreamId): boolean {
  return (id & U64) > U64 - SMALL_DIFF;
}

/** First slot index with id ≥ `id` (binary search; slots are ascending). */
function slotAtOrAfter(es: readonly StreamEntry[], id: StreamId): number {
  let lo = 0;
  let hi = es.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (es[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const U64 = (1n << 64n) - 1n;
/** Below this ID difference from the master, an entry has the master's millisecond (unless the
 * master's sequence is within this distance of 2^64, `seqNearMax`). */
const SMALL_DIFF = 1n << 32n;

/** Whether bytes [from, to) of `b` spell the latin1 string `s`. */
function spells(b: Buffer, from: number, to: number, s: string): boolean {
  if (to - from !== s.length) return false;
  for (let i = from; i < to; i++) if (b[i] !== s.charCodeAt(i - from)) return false;
  return true;
}

/** Listpack bytes one entry adds to `node` (streamAppendItem's encoding). */
function entryBytes(node: StreamNode, id: StreamId, data: PackedFields): number {
  const nf = packedCount(data) / 2;
  let same = nf === node.masterFields.length;
  for (let i = 0, p = 4; same && i < nf; i++) {
    const len = data.readUInt32BE(p);
    same = spells(data, p + 4, p + 4 + len, node.masterFields[i]);
    p += 8 + len + data.readUInt32BE(p + 4 + len);
  }
  const flags = same ? 2 : 0;
  let b = lpIntSize(flags);
  const d = id - node.master;
  if (d < SMALL_DIFF && !node.seqNearMax) {
    // Fast path (one BigInt op): same millisecond, small sequence difference.
    b += lpIntSize(0) + lpIntSize(Number(d));
  } else {
    const msDiff = (id >> 64n) - (node.master >> 64n);
    const seqDiff = ((id & U64) - (node.master & U64) + (1n << 64n)) & U64;
    b += lpBigIntSize(msDiff) + lpBigIntSize(seqDiff);
  }
  if (!same) b += lpIntSize(nf);
  for (let i = 0, p = 4; i < nf * 2; i++) {
    const len = data.readUInt32BE(p);
    if (!same || i % 2 === 1) b += lpStringSize(data, p + 4, p + 4 + len);
    p += 4 + len;
  }
  const lpCount = same ? nf + 3 : nf * 2 + 4;
  return b + lpIntSize(lpCount);
}
