/**
 * Resolved effects of Redis stream commands, and their byte records (docs/storage-format.md,
 * "Redis keyspace effects"). As Redis's aof.c logs `XADD` with the generated ID and each
 * XREADGROUP delivery as an XCLAIM with its time and count, every record here is the decided
 * outcome, never the request: replaying one needs no clock, no randomness and no CONFIG.
 *
 * Record: one type byte, then the type's fields in order. IDs are 16 bytes big-endian (ms, seq);
 * strings are u32 length + bytes (latin1 names); numbers are f64 (exact to 2^53); optional
 * numbers are a presence byte + f64; ID lists are u32 count + IDs; field lists u32 count +
 * strings. Costs: one Buffer per record, sized exactly, and no other allocation.
 */
import type { StreamId } from './id.js';
import type { PackedFields } from './stream.js';
import { slabAlloc } from './slab.js';

/** One resolved change to one key. */
export type Effect =
  | { t: 'create' }
  | { t: 'add'; id: StreamId; newNode: boolean; data: PackedFields }
  | { t: 'trim'; strategy: 'maxlen' | 'minid'; maxlen: number; minid: StreamId }
  | { t: 'xdel'; ids: StreamId[] }
  | { t: 'setid'; lastId: StreamId; entriesAdded: number | null; maxDeletedId: StreamId | null }
  | { t: 'gcreate'; group: string; id: StreamId; entriesRead: number | null }
  | { t: 'gsetid'; group: string; id: StreamId; entriesRead: number | null }
  | { t: 'gdestroy'; group: string }
  | { t: 'ccreate'; group: string; consumer: string; seen: number }
  | { t: 'cdel'; group: string; consumer: string }
  | { t: 'seen'; group: string; consumer: string; seen: number }
  | { t: 'claim'; group: string; consumer: string; id: StreamId; time: number; count: number }
  | { t: 'unpend'; group: string; ids: StreamId[] }
  | { t: 'node'; bytes: number; slots: { id: StreamId; data: PackedFields | null }[]; masterFields: string[] }
  | { t: 'drop' };

const TYPES = [
  'create',
  'add',
  'trim',
  'xdel',
  'setid',
  'gcreate',
  'gsetid',
  'gdestroy',
  'ccreate',
  'cdel',
  'seen',
  'claim',
  'unpend',
  'node',
  'drop',
] as const;
const TYPE_CODE = new Map<string, number>(TYPES.map((t, i) => [t, i + 1]));

/**
 * Writes a record into one Buffer of its exact size: `size` sums the field lengths first (no
 * allocation), then the fields are written in place. One allocation per record, where a list of
 * small Buffers and a concat cost one per field (the XADD profile's top allocator).
 */
class Enc {
  private p = 0;
  readonly b: Buffer;
  constructor(size: number, b?: Buffer) {
    this.b = b ?? Buffer.allocUnsafe(size);
  }
  u8(v: number): this {
    this.b[this.p++] = v;
    return this;
  }
  num(v: number): this {
    this.b.writeDoubleBE(v, this.p);
    this.p += 8;
    return this;
  }
  opt(v: number | null): this {
    return v === null ? this.u8(0) : this.u8(1).num(v);
  }
  id(v: StreamId): this {
    this.b.writeBigUInt64BE(v >> 64n, this.p);
    this.b.writeBigUInt64BE(v & U64, this.p + 8);
    this.p += 16;
    return this;
  }
  str(s: string | Buffer): this {
    const b = this.b;
    const n = s.length; // latin1: one byte per character
    b.writeUInt32BE(n, this.p);
    this.p += 4;
    if (typeof s === 'string') this.p += b.write(s, this.p, n, 'latin1');
    else this.p += s.copy(b, this.p);
    return this;
  }
  u32(v: number): this {
    this.b.writeUInt32BE(v, this.p);
    this.p += 4;
    return this;
  }
  /** A packed field list: already in the `strs` layout. */
  raw(v: Buffer): this {
    this.p += v.copy(this.b, this.p);
    return this;
  }
  ids(v: readonly StreamId[]): this {
    this.u32(v.length);
    for (const x of v) this.id(x);
    return this;
  }
  strs(v: readonly (Buffer | string)[]): this {
    this.u32(v.length);
    for (const x of v) this.str(x);
    return this;
  }
  done(): Buffer {
    if (this.p !== this.b.length) throw new Error(`effect record sized ${this.b.length} but wrote ${this.p}`);
    return this.b;
  }
}

const U64 = 0xffffffffffffffffn;
/** Encoded sizes: a u8, a u32, an f64, an ID. */
const U8 = 1;
const U32 = 4;
const F64 = 8;
const ID = 16;

function strsSize(v: readonly (Buffer | string)[]): number {
  let n = U32;
  for (const x of v) n += U32 + x.length;
  return n;
}

/** Bytes of `e`'s record (what encodeEffect allocates). */
export function effectSize(e: Effect): number {
  const str = (s: string): number => U32 + s.length;
  switch (e.t) {
    case 'create':
    case 'drop':
      return U8;
    case 'add':
      return U8 + ID + U8 + e.data.length;
    case 'trim':
      return U8 + U8 + F64 + ID;
    case 'xdel':
      return U8 + U32 + ID * e.ids.length;
    case 'setid':
      return U8 + ID + (e.entriesAdded === null ? U8 : U8 + F64) + U8 + (e.maxDeletedId === null ? 0 : ID);
    case 'gcreate':
    case 'gsetid':
      return U8 + str(e.group) + ID + (e.entriesRead === null ? U8 : U8 + F64);
    case 'gdestroy':
      return U8 + str(e.group);
    case 'ccreate':
    case 'seen':
      return U8 + str(e.group) + str(e.consumer) + F64;
    case 'cdel':
      return U8 + str(e.group) + str(e.consumer);
    case 'claim':
      return U8 + str(e.group) + str(e.consumer) + ID + F64 + F64;
    case 'unpend':
      return U8 + str(e.group) + U32 + ID * e.ids.length;
    case 'node': {
      let n = U8 + F64 + strsSize(e.masterFields) + U32;
      for (const s of e.slots) n += ID + U8 + (s.data === null ? 0 : s.data.length);
      return n;
    }
  }
}

class Dec {
  private p = 0;
  constructor(private readonly b: Buffer) {}
  u8(): number {
    return this.b[this.p++];
  }
  num(): number {
    const v = this.b.readDoubleBE(this.p);
    this.p += 8;
    return v;
  }
  opt(): number | null {
    return this.u8() === 0 ? null : this.num();
  }
  id(): StreamId {
    const v = (this.b.readBigUInt64BE(this.p) << 64n) | this.b.readBigUInt64BE(this.p + 8);
    this.p += 16;
    return v;
  }
  u32(): number {
    const v = this.b.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }
  buf(): Buffer {
    const n = this.u32();
    const v = Buffer.from(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return v;
  }
  str(): string {
    return this.buf().toString('latin1');
  }
  ids(): StreamId[] {
    const n = this.u32();
    const out: StreamId[] = [];
    for (let i = 0; i < n; i++) out.push(this.id());
    return out;
  }
  /** A `strs` field list kept packed (a copy: the record's Buffer may be a large read). */
  packed(): PackedFields {
    const start = this.p;
    const n = this.u32();
    for (let i = 0; i < n; i++) this.p += 4 + this.b.readUInt32BE(this.p);
    const out = slabAlloc(this.p - start);
    this.b.copy(out, 0, start, this.p);
    return out;
  }
  strs(): Buffer[] {
    const n = this.u32();
    const out: Buffer[] = [];
    for (let i = 0; i < n; i++) out.push(this.buf());
    return out;
  }
}

/** The record bytes of `e`. */
export function encodeEffect(e: Effect): Buffer {
  const w = new Enc(effectSize(e)).u8(TYPE_CODE.get(e.t) as number);
  switch (e.t) {
    case 'create':
    case 'drop':
      break;
    case 'add':
      w.id(e.id)
        .u8(e.newNode ? 1 : 0)
        .raw(e.data);
      break;
    case 'trim':
      w.u8(e.strategy === 'maxlen' ? 0 : 1)
        .num(e.maxlen)
        .id(e.minid);
      break;
    case 'xdel':
      w.ids(e.ids);
      break;
    case 'setid':
      w.id(e.lastId)
        .opt(e.entriesAdded)
        .u8(e.maxDeletedId === null ? 0 : 1);
      if (e.maxDeletedId !== null) w.id(e.maxDeletedId);
      break;
    case 'gcreate':
    case 'gsetid':
      w.str(e.group).id(e.id).opt(e.entriesRead);
      break;
    case 'gdestroy':
      w.str(e.group);
      break;
    case 'ccreate':
    case 'seen':
      w.str(e.group).str(e.consumer).num(e.seen);
      break;
    case 'cdel':
      w.str(e.group).str(e.consumer);
      break;
    case 'claim':
      w.str(e.group).str(e.consumer).id(e.id).num(e.time).num(e.count);
      break;
    case 'unpend':
      w.str(e.group).ids(e.ids);
      break;
    case 'node':
      w.num(e.bytes).strs(e.masterFields).u32(e.slots.length);
      for (const s of e.slots) {
        w.id(s.id).u8(s.data === null ? 0 : 1);
        if (s.data !== null) w.raw(s.data);
      }
      break;
  }
  return w.done();
}

/** Offset of the packed field list in an `add` record (type, ID, newNode flag). */
const ADD_DATA_AT = U8 + ID + U8;

/**
 * The `add` record for an XADD of `fields`, and its packed field list as a view of it: the entry
 * keeps the view, the log copies the record, so the data is laid out once (in slab memory,
 * slab.ts). Same bytes as
 * encodeEffect of the equivalent `add` effect.
 */
export function encodeAdd(id: StreamId, newNode: boolean, fields: readonly Buffer[]): { rec: Buffer; data: PackedFields } {
  const size = ADD_DATA_AT + strsSize(fields);
  const w = new Enc(size, slabAlloc(size))
    .u8(TYPE_CODE.get('add') as number)
    .id(id)
    .u8(newNode ? 1 : 0)
    .strs(fields);
  const rec = w.done();
  return { rec, data: rec.subarray(ADD_DATA_AT) };
}

/** The effect a record holds; throws on an unknown type (a corrupt or newer record). */
export function decodeEffect(rec: Buffer): Effect {
  const r = new Dec(rec);
  const t = TYPES[r.u8() - 1];
  switch (t) {
    case 'create':
    case 'drop':
      return { t };
    case 'add':
      return { t, id: r.id(), newNode: r.u8() === 1, data: r.packed() };
    case 'trim':
      return { t, strategy: r.u8() === 0 ? 'maxlen' : 'minid', maxlen: r.num(), minid: r.id() };
    case 'xdel':
      return { t, ids: r.ids() };
    case 'setid': {
      const lastId = r.id();
      const entriesAdded = r.opt();
      const maxDeletedId = r.u8() === 1 ? r.id() : null;
      return { t, lastId, entriesAdded, maxDeletedId };
    }
    case 'gcreate':
    case 'gsetid':
      return { t, group: r.str(), id: r.id(), entriesRead: r.opt() };
    case 'gdestroy':
      return { t, group: r.str() };
    case 'ccreate':
    case 'seen':
      return { t, group: r.str(), consumer: r.str(), seen: r.num() };
    case 'cdel':
      return { t, group: r.str(), consumer: r.str() };
    case 'claim':
      return { t, group: r.str(), consumer: r.str(), id: r.id(), time: r.num(), count: r.num() };
    case 'unpend':
      return { t, group: r.str(), ids: r.ids() };
    case 'node': {
      const bytes = r.num();
      const text = (): string[] => r.strs().map((b) => b.toString('latin1'));
      const masterFields = text();
      const n = r.u32();
      const slots: { id: StreamId; data: PackedFields | null }[] = [];
      for (let i = 0; i < n; i++) {
        const id = r.id();
        slots.push({ id, data: r.u8() === 1 ? r.packed() : null });
      }
      return { t, bytes, slots, masterFields };
    }
    default:
      throw new Error(`unknown Redis stream effect record type ${rec[0]}`);
  }
}
