/**
 * The record format of the Redis keyspace log (docs/storage-format.md "Redis keyspace log"). Framed
 * like message records (../file/record.ts): length first, CRC-32 last, the CRC seeded with a
 * random per-file key written twice at the head of the file, so a record only checks out in the
 * file it was written for and bytes that were never written as one of its records pass with
 * probability 2^-32. Types 32–34 never occur in a message segment (1–5) or a consumer log (16–19).
 *
 * ```
 *  0  u32  total record length L (this field through the CRC)
 *  4  u8   type (KsRecord)
 *  5  u8   flags (0)
 *  6  u16  db (Redis logical database)
 *  8  u32  seq, low 32 bits      (every record of the log has the next seq; never reused)
 * 12  u32  seq, high bits
 * 16  u32  K: key length in bytes
 * 20  K    key (the keyspace's latin1 string, one byte per character), then the body
 * L-4 u32  CRC-32 (zlib polynomial) of bytes [0, L-4), seeded with the file key
 * ```
 *
 * Bodies: Effect = the model's opaque effect bytes; Head = u32 file key, u32 0, f64 generation,
 * f64 seq of this generation's SnapEnd (the seq field is the generation's first seq); SnapEnd =
 * nothing (K = 0): every record of the snapshot that opens the generation comes before it.
 */
import { crc32 } from 'node:zlib';
import { BAD_CRC, BAD_LENGTH, BAD_TYPE, MAX_RECORD_BYTES, NEED_MORE } from '../file/record.js';

/** Keyspace-log record types. Values are part of the on-disk format; never renumber. */
export const enum KsRecord {
  /** First two records of every file: the file key, generation and where its snapshot ends. */
  Head = 32,
  /** One resolved effect on one key (opaque bytes of the model). */
  Effect = 33,
  /** Closes the snapshot at the start of a generation: the file is a complete state from here. */
  SnapEnd = 34,
}

/** Fixed bytes before the key. */
export const KS_HEADER = 20;
/** Header plus CRC: the smallest record (a SnapEnd). */
export const KS_OVERHEAD = KS_HEADER + 4;
/** Length of a Head record; the two copies take 2 × this at the start of a file. */
export const KS_HEAD_LEN = KS_OVERHEAD + 24;
/** Largest record (shared with the message store: lengths fit 30 bits). */
export const KS_MAX_RECORD = MAX_RECORD_BYTES;

/** What a Head record says. */
export interface KsHead {
  fileKey: number;
  gen: number;
  firstSeq: number;
  snapEndSeq: number;
}

function fixed(b: Buffer, o: number, len: number, type: KsRecord, db: number, seq: number, klen: number): void {
  b.writeUInt32LE(len, o);
  b[o + 4] = type;
  b[o + 5] = 0;
  b.writeUInt16LE(db, o + 6);
  b.writeUInt32LE(seq >>> 0, o + 8);
  b.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), o + 12);
  b.writeUInt32LE(klen, o + 16);
}

function seal(b: Buffer, o: number, len: number, fileKey: number): void {
  b.writeUInt32LE(crc32(b.subarray(o, o + len - 4), fileKey), o + len - 4);
}

/** Length of an Effect record for a key of `keyBytes` bytes and a body of `recBytes`. */
export function effectLen(keyBytes: number, recBytes: number): number {
  return KS_OVERHEAD + keyBytes + recBytes;
}

/** Encodes an Effect record at `o` (the caller reserved `effectLen(key.length, rec.length)` bytes). */
export function encodeEffect(b: Buffer, o: number, seq: number, db: number, key: string, rec: Buffer, fileKey: number): void {
  const len = effectLen(key.length, rec.length);
  fixed(b, o, len, KsRecord.Effect, db, seq, key.length);
  const p = o + KS_HEADER + b.write(key, o + KS_HEADER, key.length, 'latin1');
  rec.copy(b, p);
  seal(b, o, len, fileKey);
}

/** Encodes a Head record (written twice at the start of every file), sealed under the key it carries. */
export function encodeHead(b: Buffer, o: number, h: KsHead): void {
  fixed(b, o, KS_HEAD_LEN, KsRecord.Head, 0, h.firstSeq, 0);
  b.writeUInt32LE(h.fileKey, o + KS_HEADER);
  b.writeUInt32LE(0, o + KS_HEADER + 4);
  b.writeDoubleLE(h.gen, o + KS_HEADER + 8);
  b.writeDoubleLE(h.snapEndSeq, o + KS_HEADER + 16);
  seal(b, o, KS_HEAD_LEN, h.fileKey);
}

/** Encodes the SnapEnd record of a generation. */
export function encodeSnapEnd(b: Buffer, o: number, seq: number, fileKey: number): void {
  fixed(b, o, KS_OVERHEAD, KsRecord.SnapEnd, 0, seq, 0);
  seal(b, o, KS_OVERHEAD, fileKey);
}

/** The seq of the checked record at `o`. */
export function ksSeq(b: Buffer, o: number): number {
  return b.readUInt32LE(o + 8) + b.readUInt32LE(o + 12) * 0x1_0000_0000;
}

/** The Head of a file whose first bytes are `b`: from the first copy, or from the second when the
 * first is damaged; null when neither checks out. */
export function readHead(b: Buffer): KsHead | null {
  for (const o of [0, KS_HEAD_LEN]) {
    if (b.length - o < KS_HEAD_LEN || b.readUInt32LE(o) !== KS_HEAD_LEN || b[o + 4] !== KsRecord.Head) continue;
    const fileKey = b.readUInt32LE(o + KS_HEADER);
    if (checkKsRecord(b, o, KS_HEAD_LEN, fileKey) !== KS_HEAD_LEN) continue;
    return { fileKey, gen: b.readDoubleLE(o + KS_HEADER + 8), firstSeq: ksSeq(b, o), snapEndSeq: b.readDoubleLE(o + KS_HEADER + 16) };
  }
  return null;
}

/** A checked Effect record's parts (views into `b`). */
export function readEffect(b: Buffer, o: number, len: number): { db: number; key: string; rec: Buffer } {
  const klen = b.readUInt32LE(o + 16);
  const key = b.toString('latin1', o + KS_HEADER, o + KS_HEADER + klen);
  return { db: b.readUInt16LE(o + 6), key, rec: b.subarray(o + KS_HEADER + klen, o + len - 4) };
}

/**
 * Validates the record at `o` (`avail` bytes from `o` on are in `b`) under `fileKey` and returns
 * its length, or a negative reason (../file/record.ts: NEED_MORE when it runs past `avail`,
 * BAD_LENGTH, BAD_TYPE, BAD_CRC).
 */
export function checkKsRecord(b: Buffer, o: number, avail: number, fileKey: number): number {
  if (avail < KS_OVERHEAD) return NEED_MORE;
  const len = b.readUInt32LE(o);
  if (len < KS_OVERHEAD || len > KS_MAX_RECORD) return BAD_LENGTH;
  const type = b[o + 4];
  if (type < KsRecord.Head || type > KsRecord.SnapEnd) return BAD_TYPE;
  if (len > avail) return NEED_MORE;
  if (KS_OVERHEAD + b.readUInt32LE(o + 16) > len) return BAD_LENGTH;
  if (crc32(b.subarray(o, o + len - 4), fileKey) !== b.readUInt32LE(o + len - 4)) return BAD_CRC;
  return len;
}
