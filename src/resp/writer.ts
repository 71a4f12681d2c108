/**
 * RESP reply encoding into one growable output Buffer per connection, for RESP2 and RESP3
 * (Redis protocol spec, "RESP protocol description"; networking.c `addReply*`). Shapes that differ
 * by protocol are one call each: `nil()` (RESP2 `$-1`, RESP3 `_`), `nilArray()` (`*-1` / `_`),
 * `map(n)` (RESP2 a flat array of 2n, RESP3 `%n`), `push(n)` (`*n` / `>n`), `set(n)`, `verbatim`
 * (a bulk in RESP2, `=` with `txt:` in RESP3), `bool`, `double`.
 *
 * Strings are written as latin1, one byte per character: channel names and arguments travel as
 * latin1 strings inside herald (src/resp/connection.ts says why), everything else is ASCII.
 * Costs: no allocation per reply while the Buffer has room; it doubles when it does not.
 */

/** Initial and steady-state output Buffer size; bigger Buffers are dropped after a flush so one
 * large reply does not pin memory for the connection's life. */
export const OUT_MIN = 16 * 1024;
export const OUT_REUSE_MAX = 1024 * 1024;

const CRLF_LEN = 2;

export class RespWriter {
  /** 2 or 3: set by HELLO, back to 2 by RESET. */
  proto: 2 | 3 = 2;
  buf: Buffer = Buffer.allocUnsafe(OUT_MIN);
  len = 0;

  /** Makes room for `n` more bytes. */
  reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(nb, 0, 0, this.len);
    this.buf = nb;
  }

  /** Hands out the queued bytes as a view of this Buffer and empties the queue. If whoever took
   * them keeps the view (a socket that could not write it all), call `detach()`. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.len);
    this.len = 0;
    if (this.buf.length > OUT_REUSE_MAX) this.detach();
    return out;
  }

  /** Starts a fresh Buffer, leaving the old one to whoever holds a view of it. */
  detach(): void {
    this.buf = Buffer.allocUnsafe(Math.max(OUT_MIN, Math.min(this.buf.length, OUT_REUSE_MAX)));
  }

  raw(b: Buffer): void {
    this.reserve(b.length);
    this.len += b.copy(this.buf, this.len);
  }

  private line(type: number, s: string): void {
    this.reserve(s.length + 1 + CRLF_LEN);
    const b = this.buf;
    b[this.len++] = type;
    this.len += b.write(s, this.len, 'latin1');
    b[this.len++] = 0x0d;
    b[this.len++] = 0x0a;
  }

  private head(type: number, n: number): void {
    this.reserve(24);
    const b = this.buf;
    b[this.len++] = type;
    this.len = writeInt(b, this.len, n);
    b[this.len++] = 0x0d;
    b[this.len++] = 0x0a;
  }

  /** `+s`: s must hold no CR/LF. */
  simple(s: string): void {
    this.line(0x2b, s);
  }

  /** `-text`: the catalogue text, code first (src/core/errors.ts RedisErrors). */
  error(text: string): void {
    this.line(0x2d, text);
  }

  int(n: number): void {
    this.head(0x3a, n);
  }

  bulk(v: Buffer | string): void {
    if (typeof v === 'string') {
      this.head(0x24, v.length); // latin1: one byte per character
      this.reserve(v.length + CRLF_LEN);
      this.len += this.buf.write(v, this.len, 'latin1');
    } else {
      this.head(0x24, v.length);
      this.reserve(v.length + CRLF_LEN);
      this.len += v.copy(this.buf, this.len);
    }
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  /** Bytes [start, end) of `src` as a bulk string, copied straight from `src` (no view made). */
  bulkRange(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.head(0x24, n);
    this.reserve(n + CRLF_LEN);
    this.len += src.copy(this.buf, this.len, start, end);
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  /** The null bulk string: `$-1` in RESP2, `_` in RESP3. */
  nil(): void {
    if (this.proto === 3) this.line(0x5f, '');
    else this.line(0x24, '-1');
  }

  /** The null array: `*-1` in RESP2, `_` in RESP3. */
  nilArray(): void {
    if (this.proto === 3) this.line(0x5f, '');
    else this.line(0x2a, '-1');
  }

  array(n: number): void {
    this.head(0x2a, n);
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (this.proto === 3) this.head(0x25, n);
    else this.head(0x2a, n * 2);
  }

  set(n: number): void {
    this.head(this.proto === 3 ? 0x7e : 0x2a, n);
  }

  /** An out-of-band frame: `>n` in RESP3, an ordinary array in RESP2. */
  push(n: number): void {
    this.head(this.proto === 3 ? 0x3e : 0x2a, n);
  }

  /** Text for humans (INFO, CLIENT LIST): `=len\r\ntxt:…` in RESP3, a bulk in RESP2. */
  verbatim(s: string): void {
    if (this.proto === 2) return this.bulk(s);
    this.head(0x3d, s.length + 4);
    this.reserve(s.length + 4 + CRLF_LEN);
    this.len += this.buf.write('txt:', this.len, 'latin1');
    this.len += this.buf.write(s, this.len, 'latin1');
    this.buf[this.len++] = 0x0d;
    this.buf[this.len++] = 0x0a;
  }

  bool(v: boolean): void {
    if (this.proto === 3) this.line(0x23, v ? 't' : 'f');
    else this.int(v ? 1 : 0);
  }
}

/** Writes the decimal digits of integer `n` at `pos`; returns the new position. */
export function writeInt(b: Buffer, pos: number, n: number): number {
  if (n < 0) {
    b[pos++] = 0x2d;
    n = -n;
  }
  if (n < 10) {
    b[pos++] = 0x30 + n;
    return pos;
  }
  if (n < 0x80000000) {
    // Digits by hand: lengths and counts are small, and a string per number is the alternative.
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
    let end = pos + digits;
    for (let t = n; end > pos; t = (t / 10) | 0) b[--end] = 0x30 + (t % 10);
    return pos + digits;
  }
  const s = String(n);
  return pos + b.write(s, pos, 'latin1');
}
