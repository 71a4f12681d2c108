/**
 * Redis stream IDs (`ms-seq`, both unsigned 64-bit; Redis t_stream.c streamID) as one packed
 * 128-bit `bigint`: `ms * 2^64 + seq`. Why a bigint: Redis's own tests use 18446744073709551615
 * in both halves, so two JS numbers would need a fallback path anyway; one bigint is exact,
 * compares with one `<`, orders exactly as Redis's big-endian rax key, and makes `id + 1n` the
 * successor. Costs: a V8 BigInt of 128 bits is a heap object of about 32 bytes (measured with
 * `--expose-gc` over 1M ids, docs/redis.md "Streams"); parsing is `BigInt()` of the digits, and
 * formatting splits the halves once per entry (entries cache their text, stream.ts).
 */

/** A stream ID packed as ms * 2^64 + seq. */
export type StreamId = bigint;

export const U64_MAX = (1n << 64n) - 1n;
export const ID_MIN: StreamId = 0n;
/** `18446744073709551615-18446744073709551615`: what `+` means, and the last possible ID. */
export const ID_MAX: StreamId = (1n << 128n) - 1n;

export function makeId(ms: bigint, seq: bigint): StreamId {
  return (ms << 64n) | seq;
}

export function idMs(id: StreamId): bigint {
  return id >> 64n;
}

export function idSeq(id: StreamId): bigint {
  return id & U64_MAX;
}

/** Below this an ID's halves are exact as JS numbers (ms < 2^53, and then seq < 2^64 needs the
 * check below too). */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** The canonical `ms-seq` text Redis replies with. Number formatting when both halves fit 2^53
 * (every clock-made ID), BigInt formatting only above. */
export function formatId(id: StreamId): string {
  const ms = id >> 64n;
  const seq = id & U64_MAX;
  if (ms <= SAFE && seq <= SAFE) return `${Number(ms)}-${Number(seq)}`;
  return `${ms}-${seq}`;
}

/** The ID just after `id` (Redis streamIncrID), or null past the last possible ID. */
export function nextId(id: StreamId): StreamId | null {
  return id === ID_MAX ? null : id + 1n;
}

/** The ID just before `id` (Redis streamDecrID), or null before 0-0. */
export function prevId(id: StreamId): StreamId | null {
  return id === 0n ? null : id - 1n;
}

const SPACE = new Set([0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]);

/**
 * Redis util.c string2ull: a canonical long long, else C's strtoull (leading white space, `+`/`-`
 * sign, decimal digits, nothing after; a `-` wraps modulo 2^64 as strtoull does). Null = invalid.
 */
export function parseU64(s: string): bigint | null {
  if (s.length === 0) return null;
  let i = 0;
  while (i < s.length && SPACE.has(s.charCodeAt(i))) i++;
  let neg = false;
  if (s[i] === '+' || s[i] === '-') {
    neg = s[i] === '-';
    i++;
  }
  const start = i;
  while (i < s.length && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
  if (i === start || i !== s.length) return null;
  const v = BigInt(s.slice(start, i));
  if (v > U64_MAX) return null;
  if (neg) {
    // string2ll accepts a canonical negative number first, and string2ull refuses it.
    if (start === 1 && s[1] !== '0' && v <= 1n << 63n) return null;
    return v === 0n ? 0n : (1n << 64n) - v;
  }
  return v;
}

/** How a parsed ID argument was written (XADD needs to know about `ms-*`). */
export interface ParsedId {
  id: StreamId;
  /** False for `ms-*` (the sequence is to be generated). */
  seqGiven: boolean;
}

/** Longest ID argument Redis reads (its parse buffer is 128 bytes). */
const ID_ARG_MAX = 127;

/**
 * Redis streamGenericParseIDOrReply: `-`, `+` (unless strict), `ms`, `ms-seq`, and `ms-*` when
 * `allowSeqStar`. A missing sequence becomes `missingSeq`. Null = Redis's "Invalid stream ID".
 */
export function parseId(arg: Buffer, missingSeq: bigint, strict: boolean, allowSeqStar = false): ParsedId | null {
  if (arg.length > ID_ARG_MAX) return null;
  let s = arg.toString('latin1');
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (s === '-' || s === '+') {
    if (strict) return null;
    return { id: s === '-' ? ID_MIN : ID_MAX, seqGiven: true };
  }
  const dash = s.indexOf('-');
  const ms = parseU64(dash < 0 ? s : s.slice(0, dash));
  if (ms === null) return null;
  if (dash < 0) return { id: makeId(ms, missingSeq), seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowSeqStar && rest === '*') return { id: makeId(ms, 0n), seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return null;
  return { id: makeId(ms, seq), seqGiven: true };
}
