/**
 * The record format of consumer-state logs (docs/storage-format.md "Consumer state"). Framed and
 * checksummed like message records (record.ts): a length first, a type byte, a CRC-32 of everything
 * before it last. Types 16–20 never occur in a segment and types 1–5 never in a consumer log, so a
 * record of one kind can never pass for the other.
 *
 * ```
 *  0  u32  total record length L (this field through the CRC)
 *  4  u8   type (ConsumerRecord)
 *  5  u8   flags (Snapshot: bit 0 config present, bit 1 group present)
 *  6  u16  0 (reserved)
 *  8  …    body (below)
 * L-4 u32  CRC-32 (zlib polynomial) of bytes [0, L-4)
 * ```
 *
 * Bodies: Delivered = f64 dseq, f64 sseq, f64 ts, u32 dc (L = 40); Ack = f64 dseq, f64 sseq, f64 ts
 * (L = 36) — the doubles 8-byte aligned within the record, so the hot path encodes them through a
 * typed-array view (little-endian hosts only, as index files already require); Config = the blob; Snapshot = 6 × f64 (delivered consumer, stream, last active; ack
 * floor the same), [u32 config length + bytes], u32 n + n × (f64 sseq, f64 dseq, f64 ts, u32 dc,
 * u16 owner length or 0xFFFF + owner bytes), u32 m + m × (f64 sseq, u32 count),
 * [u16 id length + id, f64 entries read].
 */
import { crc32 } from 'node:zlib';
import type { ConsumerBook } from '../consumer-state.js';
import type { ConsumerState, PendingEntry } from '../store.js';
import { BAD_CRC, BAD_LENGTH, BAD_TYPE, MAX_RECORD_BYTES, NEED_MORE } from './record.js';

/** Consumer-log record types. Values are part of the on-disk format; never renumber. */
export const enum ConsumerRecord {
  /** The whole state (first record of every log file; also written by a bulk `update`). */
  Snapshot = 16,
  /** One `updateDelivered` call. */
  Delivered = 17,
  /** One `updateAcks` call that found its entry pending. */
  Ack = 18,
  /** A new config blob. */
  Config = 19,
  /** The log's CRC key (u32), sealed under it: the first two records of a keyed log. */
  Head = 20,
}

/** Length field, type, flags and reserved bytes before the body. */
export const CREC_HEADER = 8;
/** Header plus CRC: the smallest consumer record. */
export const CREC_OVERHEAD = CREC_HEADER + 4;
/** Length of a Delivered record. */
export const DELIVERED_LEN = CREC_OVERHEAD + 28;
/** Length of an Ack record. */
export const ACK_LEN = CREC_OVERHEAD + 24;
/** Length of a Head record; a keyed log opens with two. */
export const HEAD_LEN = CREC_OVERHEAD + 4;
/** Snapshot flag: a config blob follows the sequence pairs. */
const SNAP_CONFIG = 1;
/** Snapshot flag: Redis consumer-group fields close the record. */
const SNAP_GROUP = 2;
/** Owner-length value meaning "no owner". */
const NO_OWNER = 0xffff;

function head(b: Buffer, o: number, len: number, type: ConsumerRecord, flags: number): void {
  b.writeUInt32LE(len, o);
  b[o + 4] = type;
  b[o + 5] = flags;
  b.writeUInt16LE(0, o + 6);
}

/** Seals the record with a CRC seeded with the log's key (0: the plain CRC of unkeyed logs). */
function seal(b: Buffer, o: number, len: number, key: number): void {
  b.writeUInt32LE(crc32(b.subarray(o, o + len - 4), key), o + len - 4);
}

/** Encodes a Head record: the log's key, sealed under it (record.ts `encodeKeyedMark`'s twin). */
export function encodeHead(b: Buffer, o: number, key: number): void {
  head(b, o, HEAD_LEN, ConsumerRecord.Head, 0);
  b.writeUInt32LE(key, o + CREC_HEADER);
  seal(b, o, HEAD_LEN, key);
}

/**
 * The key of the log whose bytes are `b`: from the Head record at 0, or from its copy right after
 * it when the first is damaged; 0 for a log written before keys (it starts with its Snapshot).
 */
export function consumerLogKey(b: Buffer): number {
  for (const o of [0, HEAD_LEN]) {
    if (b.length < o + HEAD_LEN || b.readUInt32LE(o) !== HEAD_LEN || b[o + 4] !== ConsumerRecord.Head) continue;
    const key = b.readUInt32LE(o + CREC_HEADER);
    if (crc32(b.subarray(o, o + HEAD_LEN - 4), key) === b.readUInt32LE(o + HEAD_LEN - 4)) return key;
  }
  return 0;
}

/** CRC-32 (zlib polynomial) lookup table for the small fixed records. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/**
 * Scratch record for the per-ack path: fields are set through aligned typed-array views and the
 * CRC computed in JS, which for 32–36 bytes is several times cheaper than Buffer writes plus a
 * call into zlib on a fresh subarray (bench/store/consumer.ts).
 */
const SCRATCH = new ArrayBuffer(DELIVERED_LEN);
const S8 = new Uint8Array(SCRATCH);
const S32 = new Uint32Array(SCRATCH);
const S64 = new Float64Array(SCRATCH);
/** The scratch record's bytes by length, for one `TypedArray.set` (a memcpy) into the chunk. */
const VIEWS: Record<number, Uint8Array> = { [DELIVERED_LEN]: S8, [ACK_LEN]: new Uint8Array(SCRATCH, 0, ACK_LEN) };

/** Seals the scratch record of `len` bytes (CRC seeded with `key`, as zlib's crc32(data, key)) and
 * copies it to `b` at `o`. */
function emitScratch(b: Buffer, o: number, len: number, key: number): void {
  let c = key ^ -1;
  const n = len - 4;
  for (let i = 0; i < n; i++) c = CRC_TABLE[(c ^ S8[i]) & 0xff] ^ (c >>> 8);
  S32[n >>> 2] = (c ^ -1) >>> 0;
  b.set(VIEWS[len], o);
}

export function encodeDelivered(b: Buffer, o: number, dseq: number, sseq: number, dc: number, ts: number, key: number): void {
  S32[0] = DELIVERED_LEN;
  S32[1] = ConsumerRecord.Delivered;
  S64[1] = dseq;
  S64[2] = sseq;
  S64[3] = ts;
  S32[8] = dc;
  emitScratch(b, o, DELIVERED_LEN, key);
}

export function encodeAck(b: Buffer, o: number, dseq: number, sseq: number, ts: number, key: number): void {
  S32[0] = ACK_LEN;
  S32[1] = ConsumerRecord.Ack;
  S64[1] = dseq;
  S64[2] = sseq;
  S64[3] = ts;
  emitScratch(b, o, ACK_LEN, key);
}

export function configLen(config: Buffer): number {
  return CREC_OVERHEAD + config.length;
}

export function encodeConfig(b: Buffer, o: number, config: Buffer, key: number): void {
  const len = configLen(config);
  head(b, o, len, ConsumerRecord.Config, 0);
  config.copy(b, o + CREC_HEADER);
  seal(b, o, len, key);
}

/** Exact length of the snapshot record of `config` + `book`. O(pending) when entries have owners. */
export function snapshotLen(config: Buffer | null, book: Pick<ConsumerState, 'pending' | 'redelivered' | 'group'>): number {
  let n = CREC_OVERHEAD + 48 + 4 + 4;
  if (config !== null) n += 4 + config.length;
  n += book.pending.size * 30;
  for (const p of book.pending.values()) if (p.owner !== undefined) n += Buffer.byteLength(p.owner);
  n += book.redelivered.size * 12;
  if (book.group !== undefined) n += 2 + Buffer.byteLength(book.group.lastDeliveredId) + 8;
  return n;
}

/** Encodes `book` as a Snapshot record of `len` (= snapshotLen(book)) bytes at `o`. */
export function encodeSnapshot(b: Buffer, o: number, len: number, book: ConsumerBook, key: number): void {
  const flags = (book.config !== null ? SNAP_CONFIG : 0) | (book.group !== undefined ? SNAP_GROUP : 0);
  head(b, o, len, ConsumerRecord.Snapshot, flags);
  let p = o + CREC_HEADER;
  for (const sp of [book.delivered, book.ackFloor]) {
    p = b.writeDoubleLE(sp.consumerSeq, p);
    p = b.writeDoubleLE(sp.streamSeq, p);
    p = b.writeDoubleLE(sp.lastActive, p);
  }
  if (book.config !== null) {
    p = b.writeUInt32LE(book.config.length, p);
    p += book.config.copy(b, p);
  }
  p = b.writeUInt32LE(book.pending.size, p);
  for (const [sseq, e] of book.pending) {
    p = b.writeDoubleLE(sseq, p);
    p = b.writeDoubleLE(e.dseq, p);
    p = b.writeDoubleLE(e.ts, p);
    p = b.writeUInt32LE(e.dc, p);
    if (e.owner === undefined) p = b.writeUInt16LE(NO_OWNER, p);
    else {
      const ol = Buffer.byteLength(e.owner);
      p = b.writeUInt16LE(ol, p);
      p += b.write(e.owner, p, ol, 'utf8');
    }
  }
  p = b.writeUInt32LE(book.redelivered.size, p);
  for (const [sseq, n] of book.redelivered) {
    p = b.writeDoubleLE(sseq, p);
    p = b.writeUInt32LE(n, p);
  }
  if (book.group !== undefined) {
    const il = Buffer.byteLength(book.group.lastDeliveredId);
    p = b.writeUInt16LE(il, p);
    p += b.write(book.group.lastDeliveredId, p, il, 'utf8');
    p = b.writeDoubleLE(book.group.entriesRead, p);
  }
  if (p !== o + len - 4) throw new Error(`snapshot encoded ${p - o + 4} bytes, expected ${len}`);
  seal(b, o, len, key);
}

/**
 * Validates the consumer record at `o` (with `avail` bytes from `o` on) under the log's `key`: its
 * length, or NEED_MORE, BAD_LENGTH, BAD_TYPE or BAD_CRC (record.ts codes).
 */
export function checkConsumerRecord(b: Buffer, o: number, avail: number, key: number): number {
  if (avail < CREC_OVERHEAD) return NEED_MORE;
  const len = b.readUInt32LE(o);
  if (len < CREC_OVERHEAD || len > MAX_RECORD_BYTES) return BAD_LENGTH;
  const type = b[o + 4];
  if (type < ConsumerRecord.Snapshot || type > ConsumerRecord.Head) return BAD_TYPE;
  if (
    (type === ConsumerRecord.Delivered && len !== DELIVERED_LEN) ||
    (type === ConsumerRecord.Ack && len !== ACK_LEN) ||
    (type === ConsumerRecord.Head && len !== HEAD_LEN)
  ) {
    return BAD_LENGTH;
  }
  if (len > avail) return NEED_MORE;
  if (crc32(b.subarray(o, o + len - 4), key) !== b.readUInt32LE(o + len - 4)) return BAD_CRC;
  return len;
}

/**
 * Applies the (already checked) record at `o` to `book`. Throws when a snapshot's body does not
 * fit its length (a record whose CRC matched but whose contents are not ours).
 */
export function applyConsumerRecord(b: Buffer, o: number, book: ConsumerBook): void {
  const len = b.readUInt32LE(o);
  switch (b[o + 4]) {
    case ConsumerRecord.Delivered:
      book.applyDelivered(b.readDoubleLE(o + 8), b.readDoubleLE(o + 16), b.readUInt32LE(o + 32), b.readDoubleLE(o + 24));
      return;
    case ConsumerRecord.Ack:
      book.applyAck(b.readDoubleLE(o + 8), b.readDoubleLE(o + 16), b.readDoubleLE(o + 24));
      return;
    case ConsumerRecord.Config:
      book.config = Buffer.from(b.subarray(o + CREC_HEADER, o + len - 4));
      return;
    case ConsumerRecord.Head:
      return;
    default:
      applySnapshot(b.subarray(o, o + len), book);
  }
}

function applySnapshot(r: Buffer, book: ConsumerBook): void {
  const end = r.length - 4;
  let p = CREC_HEADER;
  const need = (n: number): void => {
    if (p + n > end) throw new RangeError('snapshot body shorter than its contents');
  };
  const f64 = (): number => {
    need(8);
    const v = r.readDoubleLE(p);
    p += 8;
    return v;
  };
  const u32 = (): number => {
    need(4);
    const v = r.readUInt32LE(p);
    p += 4;
    return v;
  };
  const u16 = (): number => {
    need(2);
    const v = r.readUInt16LE(p);
    p += 2;
    return v;
  };
  const str = (n: number): string => {
    need(n);
    const v = r.toString('utf8', p, p + n);
    p += n;
    return v;
  };
  const flags = r[5];
  const st: ConsumerState = {
    delivered: { consumerSeq: f64(), streamSeq: f64(), lastActive: f64() },
    ackFloor: { consumerSeq: f64(), streamSeq: f64(), lastActive: f64() },
    pending: new Map(),
    redelivered: new Map(),
  };
  let config: Buffer | null = null;
  if ((flags & SNAP_CONFIG) !== 0) {
    const cl = u32();
    need(cl);
    config = Buffer.from(r.subarray(p, p + cl));
    p += cl;
  }
  for (let n = u32(); n > 0; n--) {
    const sseq = f64();
    const e: PendingEntry = { dseq: f64(), ts: f64(), dc: u32() };
    const ol = u16();
    if (ol !== NO_OWNER) e.owner = str(ol);
    st.pending.set(sseq, e);
  }
  for (let n = u32(); n > 0; n--) {
    const sseq = f64();
    st.redelivered.set(sseq, u32());
  }
  if ((flags & SNAP_GROUP) !== 0) {
    const id = str(u16());
    st.group = { lastDeliveredId: id, entriesRead: f64() };
  }
  if (p !== end) throw new RangeError('snapshot body longer than its contents');
  book.replace(st);
  book.config = config;
}
