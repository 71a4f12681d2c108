/**
 * The on-disk record format of segment files (docs/storage-format.md). Every record is
 * self-describing and checksummed:
 *
 * ```
 *  0  u32  total record length L (this field through the CRC)
 *  4  u8   type (RecordType)
 *  5  u8   flags (bit 0: headers present, even if empty)
 *  6  u16  subject length S
 *  8  u32  header length H
 * 12  u32  seq, low 32 bits
 * 16  u32  seq, high 21 bits
 * 20  i64  timestamp, ns since the Unix epoch
 * 28  S bytes subject (UTF-8), H bytes headers, then the payload (L - 32 - S - H bytes)
 * L-4 u32  CRC-32 (zlib polynomial) of bytes [0, L-4)
 * ```
 *
 * All integers little-endian. The CRC covers the length field, so a torn or shifted length is
 * caught as well as flipped payload bits.
 */
import { crc32 } from 'node:zlib';

/** Fixed part of every record before the subject. */
export const RECORD_HEADER_BYTES = 28;
/** Header plus trailing CRC: the smallest possible record. */
export const RECORD_OVERHEAD = RECORD_HEADER_BYTES + 4;
/** Largest record accepted: lengths live in 30 bits of the in-memory index. */
export const MAX_RECORD_BYTES = 0x3fff_ffff;
/** Subjects are length-prefixed with 16 bits. */
export const MAX_SUBJECT_BYTES = 0xffff;

/** What a record means. Values are part of the on-disk format; never renumber. */
export const enum RecordType {
  /** A stored message. */
  Msg = 1,
  /** `seq` was deleted (an interior delete; the message record lives in this or an older segment). */
  Tombstone = 2,
  /** A message record overwritten in place by `delete(seq, erase)`: body zeroed, seq kept. */
  Erased = 3,
  /** Written first in every segment: the next seq to assign was `seq` (keeps lastSeq across restarts). */
  SeqMark = 4,
  /** Every seq below `seq` is gone (head moved: eviction, purge, whole-segment removal). */
  Floor = 5,
}

/** Record flag: the message has a header block (possibly empty), so reads return a Buffer, not null. */
export const FLAG_HEADERS = 1;

/** The seq field of the record at `o` (two u32 halves; seqs stay below 2^53). */
export function readSeq(b: Buffer, o: number): number {
  return b.readUInt32LE(o + 12) + b.readUInt32LE(o + 16) * 0x1_0000_0000;
}

function writeFixed(
  b: Buffer,
  o: number,
  len: number,
  type: number,
  flags: number,
  sl: number,
  hl: number,
  seq: number,
  ts: bigint,
): void {
  b.writeUInt32LE(len, o);
  b[o + 4] = type;
  b[o + 5] = flags;
  b.writeUInt16LE(sl, o + 6);
  b.writeUInt32LE(hl, o + 8);
  b.writeUInt32LE(seq >>> 0, o + 12);
  b.writeUInt32LE(Math.floor(seq / 0x1_0000_0000), o + 16);
  b.writeBigInt64LE(ts, o + 20);
}

/**
 * Appends the CRC of [o, o+len-4) at o+len-4, seeded with the segment key: a record only checks
 * out under the key of the segment it was written for (key 0 = the plain CRC of older segments).
 */
function seal(b: Buffer, o: number, len: number, key: number): void {
  b.writeUInt32LE(crc32(b.subarray(o, o + len - 4), key), o + len - 4);
}

/** SeqMark flag: the record carries the segment key (u32) as its payload. */
export const FLAG_KEYED = 2;
/** Length of a keyed SeqMark: the two copies that open every keyed segment take 2 × this. */
export const KEYED_MARK_BYTES = RECORD_OVERHEAD + 4;

/** A random non-zero segment key. */
export function newSegmentKey(): number {
  let k = 0;
  while (k === 0) k = (Math.random() * 0x1_0000_0000) >>> 0;
  return k;
}

/**
 * Encodes a keyed SeqMark (the head of every segment, written twice): the next seq to assign and
 * the segment's key, sealed under that key.
 */
export function encodeKeyedMark(b: Buffer, o: number, seq: number, ts: bigint, key: number): void {
  writeFixed(b, o, KEYED_MARK_BYTES, RecordType.SeqMark, FLAG_KEYED, 0, 0, seq, ts);
  b.writeUInt32LE(key, o + RECORD_HEADER_BYTES);
  seal(b, o, KEYED_MARK_BYTES, key);
}

/**
 * The key of the segment whose first bytes are `b[0, avail)`: from the keyed SeqMark at offset 0,
 * or from its copy right after it when the first is damaged. 0 for an older, unkeyed segment
 * (its first record is a valid plain SeqMark); -1 when neither copy checks out.
 */
export function segmentKeyOf(b: Buffer, avail: number): number {
  for (const o of [0, KEYED_MARK_BYTES]) {
    if (avail - o < KEYED_MARK_BYTES || b.readUInt32LE(o) !== KEYED_MARK_BYTES || b[o + 4] !== RecordType.SeqMark) continue;
    const key = b.readUInt32LE(o + RECORD_HEADER_BYTES);
    if ((b[o + 5] & FLAG_KEYED) !== 0 && checkRecord(b, o, KEYED_MARK_BYTES, key) === KEYED_MARK_BYTES) return key;
  }
  return b[4] === RecordType.SeqMark && checkRecord(b, 0, avail, 0) === RECORD_OVERHEAD ? 0 : -1;
}

/**
 * SeqMark flag: the mark closes a group-commit batch and restates the deletes it must not lose
 * (docs/storage-format.md "Deletes survive one damaged record"): its payload is f64 the store's
 * floor (largest `Floor` written so far), then f64 × n the seqs of the batch's tombstones.
 */
export const FLAG_RESTATE = 4;

/** Length of a restating SeqMark carrying `tombs` tombstone seqs: 40 bytes plus 8 per seq. */
export function restatingMarkLen(tombs: number): number {
  return RECORD_OVERHEAD + 8 + 8 * tombs;
}

/** Encodes a restating SeqMark (FLAG_RESTATE) of `restatingMarkLen(tombs.length)` bytes. */
export function encodeRestatingMark(
  b: Buffer,
  o: number,
  seq: number,
  ts: bigint,
  floor: number,
  tombs: readonly number[],
  key: number,
): void {
  const len = restatingMarkLen(tombs.length);
  writeFixed(b, o, len, RecordType.SeqMark, FLAG_RESTATE, 0, 0, seq, ts);
  let p = o + RECORD_HEADER_BYTES;
  b.writeDoubleLE(floor, p);
  for (let k = 0; k < tombs.length; k++) b.writeDoubleLE(tombs[k], (p += 8));
  seal(b, o, len, key);
}

/**
 * The deletes restated by the checked record at `o` of length `len`, or null when it is not a
 * restating SeqMark (older segments, head marks).
 */
export function readRestated(b: Buffer, o: number, len: number): { floor: number; tombs: number[] } | null {
  if (b[o + 4] !== RecordType.SeqMark || (b[o + 5] & FLAG_RESTATE) === 0 || len < RECORD_OVERHEAD + 8) return null;
  const p = o + RECORD_HEADER_BYTES;
  const tombs: number[] = [];
  for (let q = p + 8; q + 8 <= o + len - 4; q += 8) tombs.push(b.readDoubleLE(q));
  return { floor: b.readDoubleLE(p), tombs };
}

/** Length of the message record for these parts. `sl` is the subject's UTF-8 byte length. */
export function msgRecordLen(sl: number, hl: number, pl: number): number {
  return RECORD_OVERHEAD + sl + hl + pl;
}

/**
 * Encodes a message record into `b` at `o` (the caller reserved `len` bytes). One pass over the
 * subject, headers and payload plus one CRC pass; allocates one Buffer view for the CRC.
 */
export function encodeMsg(
  b: Buffer,
  o: number,
  len: number,
  seq: number,
  ts: bigint,
  subject: string,
  sl: number,
  headers: Buffer | null,
  payload: Buffer,
  key: number,
): void {
  const hl = headers === null ? 0 : headers.length;
  writeFixed(b, o, len, RecordType.Msg, headers === null ? 0 : FLAG_HEADERS, sl, hl, seq, ts);
  let p = o + RECORD_HEADER_BYTES;
  p += b.write(subject, p, sl, sl === subject.length ? 'latin1' : 'utf8');
  if (headers !== null) p += headers.copy(b, p);
  payload.copy(b, p);
  seal(b, o, len, key);
}

/** Encodes a body-less control record (Tombstone, SeqMark, Floor) of RECORD_OVERHEAD bytes. */
export function encodeMark(b: Buffer, o: number, type: RecordType, seq: number, ts: bigint, key: number): void {
  writeFixed(b, o, RECORD_OVERHEAD, type, 0, 0, 0, seq, ts);
  seal(b, o, RECORD_OVERHEAD, key);
}

/** An Erased record of `len` bytes for `seq`: same length as the message it replaces, body zeroed. */
export function encodeErased(b: Buffer, o: number, len: number, seq: number, ts: bigint, key: number): void {
  b.fill(0, o, o + len);
  writeFixed(b, o, len, RecordType.Erased, 0, 0, 0, seq, ts);
  seal(b, o, len, key);
}

/**
 * Validates the record at `o` in `b` (which holds `avail` bytes from `o` on) and returns its length,
 * or a negative reason code: NEED_MORE when the record runs past `avail` (torn, or cut by the read
 * window), BAD_LENGTH, BAD_TYPE, BAD_CRC.
 */
export function checkRecord(b: Buffer, o: number, avail: number, key: number): number {
  if (avail < RECORD_OVERHEAD) return NEED_MORE;
  const len = b.readUInt32LE(o);
  if (len < RECORD_OVERHEAD || len > MAX_RECORD_BYTES) return BAD_LENGTH;
  const type = b[o + 4];
  if (type < RecordType.Msg || type > RecordType.Floor) return BAD_TYPE;
  if (len > avail) return NEED_MORE;
  const sl = b.readUInt16LE(o + 6);
  const hl = b.readUInt32LE(o + 8);
  if (RECORD_OVERHEAD + sl + hl > len) return BAD_LENGTH;
  if (crc32(b.subarray(o, o + len - 4), key) !== b.readUInt32LE(o + len - 4)) return BAD_CRC;
  return len;
}

/** `checkRecord` results below zero: why a record was rejected. */
export const NEED_MORE = -1;
/** Length field below the minimum, above MAX_RECORD_BYTES, or too small for its subject and headers. */
export const BAD_LENGTH = -2;
/** Type byte is not a RecordType. */
export const BAD_TYPE = -3;
/** The CRC does not match the bytes. */
export const BAD_CRC = -4;

/** Human-readable reason for a negative `checkRecord` result. */
export function reasonText(code: number): string {
  switch (code) {
    case NEED_MORE:
      return 'torn record (file ends inside it)';
    case BAD_LENGTH:
      return 'implausible record length';
    case BAD_TYPE:
      return 'unknown record type';
    case BAD_CRC:
      return 'checksum mismatch';
    default:
      return `error ${code}`;
  }
}

/** Bytes one message counts for in a file store (specs/nats.md §4 "Byte accounting"). */
export function fileMsgSize(subjectBytes: number, hdrLen: number, payloadLen: number): number {
  return hdrLen === 0 ? 30 + subjectBytes + payloadLen : 34 + subjectBytes + hdrLen + payloadLen;
}

/**
 * `fileMsgSize` from a message record's length alone: record = 32 + S + H + P, accounted bytes =
 * 30 + S + P (+ 4 + H when H > 0).
 */
export function accountedFromRecord(recLen: number, hasHdrBytes: boolean): number {
  return recLen - 2 + (hasHdrBytes ? 4 : 0);
}
