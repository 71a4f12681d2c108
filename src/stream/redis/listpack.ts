/**
 * The byte size a Redis listpack would have for a stream node (Redis listpack.c lpEncode*,
 * t_stream.c streamAppendItem). herald does not store listpacks; it only needs their size,
 * because `stream-node-max-bytes` decides when a node closes and the node boundaries are
 * observable (`MAXLEN ~`, XINFO `radix-tree-keys`). Pure arithmetic, no allocation.
 */

/** Listpack header (total bytes u32 + count u16) and end byte. */
export const LP_EMPTY_BYTES = 7;

/** Bytes of the back-length field for an element whose encoding + data is `l` bytes (lpEncodeBacklen). */
function backlen(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Bytes of an integer element (lpEncodeIntegerGetType), back-length included. */
export function lpIntSize(v: number): number {
  if (v >= 0 && v <= 127) return 2;
  if (v >= -4096 && v <= 4095) return 3;
  if (v >= -32768 && v <= 32767) return 4;
  if (v >= -8388608 && v <= 8388607) return 5;
  if (v >= -2147483648 && v <= 2147483647) return 6;
  return 10;
}

/** lpAppendInteger of an unsigned 64-bit difference, seen as the int64 listpack stores. */
export function lpBigIntSize(v: bigint): number {
  const s = v >= 1n << 63n ? v - (1n << 64n) : v;
  return s >= -2147483648n && s <= 2147483647n ? lpIntSize(Number(s)) : 10;
}

/** Longest string listpack.c lpStringToInt64 tries as an integer (LONG_STR_SIZE - 1). */
const INT_STR_MAX = 20;

/** The integer bytes [s, e) of `b` spell in canonical form (listpack.c lpStringToInt64), or null. */
function canonicalInt(b: Buffer, s: number, e: number): number | bigint | null {
  const n = e - s;
  if (n === 0 || n > INT_STR_MAX) return null;
  let i = s;
  if (b[s] === 0x2d) {
    if (n === 1) return null;
    i = s + 1;
  }
  if (b[i] === 0x30) return n === 1 ? 0 : null;
  for (let j = i; j < e; j++) if (b[j] < 0x30 || b[j] > 0x39) return null;
  if (b[i] < 0x31) return null;
  // Up to 15 digits a Number is exact: no BigInt needed.
  if (e - i <= 15) return Number(b.toString('latin1', s, e));
  const v = BigInt(b.toString('latin1', s, e));
  if (v > (1n << 63n) - 1n || v < -(1n << 63n)) return null;
  return v >= -2147483648n && v <= 2147483647n ? Number(v) : v;
}

/** Bytes of lpAppend of bytes [s, e) of `b` (all of it by default): an integer element when
 * they spell one, else a string element. */
export function lpStringSize(b: Buffer, s = 0, e = b.length): number {
  const iv = canonicalInt(b, s, e);
  if (iv !== null) return typeof iv === 'number' ? lpIntSize(iv) : 10;
  const len = e - s;
  const enc = len < 64 ? 1 : len < 4096 ? 2 : 5;
  return enc + len + backlen(enc + len);
}
