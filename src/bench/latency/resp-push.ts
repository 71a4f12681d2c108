/**
 * A minimal scanner for Redis pub/sub deliveries (RESP2 `*3 message chan payload`, `*4 pmessage
 * pattern chan payload`, RESP3 `>` pushes): it hands the first bytes of the *last* bulk string of
 * every top-level aggregate to a callback and skips everything else by length, so a 1 KB payload
 * costs one small copy at most (only when the stamp straddles two reads).
 */

const LF = 10;
const CR = 13;

/** Bytes of a delivered payload handed to the callback. */
export type PushHandler = (head: Buffer) => void;

/** See the file comment. Cost: O(bytes) with no allocation except for stamps split across reads. */
export class RespPushScanner {
  private carry: Buffer | null = null;
  /** Elements left in the current top-level aggregate (0: none open). */
  private left = 0;
  /** Bulk bytes (+CRLF) still to skip. */
  private skip = 0;
  /** While capturing the head of a last element: bytes wanted, and parts so far. */
  private want = 0;
  private parts: Buffer[] = [];
  errors = 0;
  firstError: string | null = null;

  constructor(
    private readonly headBytes: number,
    private readonly onPush: PushHandler,
  ) {}

  feed(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    if (this.carry !== null) {
      const nl = buf.indexOf(LF);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, buf]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(0, nl + 1)]);
      this.carry = null;
      this.header(line, 0, line.length - 1);
      i = nl + 1;
    }
    for (;;) {
      if (this.skip > 0) i = this.skipBytes(buf, i);
      if (i >= n) return;
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.carry = Buffer.from(buf.subarray(i));
        return;
      }
      this.header(buf, i, nl);
      i = nl + 1;
    }
  }

  private skipBytes(buf: Buffer, i: number): number {
    const take = Math.min(this.skip, buf.length - i);
    if (this.want > 0) {
      const part = Math.min(take, this.want);
      this.parts.push(
        this.parts.length === 0 && part === this.want ? buf.subarray(i, i + part) : Buffer.from(buf.subarray(i, i + part)),
      );
      this.want -= part;
      if (this.want === 0) {
        const head = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
        this.parts = [];
        this.onPush(head);
      }
    }
    this.skip -= take;
    return i + take;
  }

  private header(buf: Buffer, start: number, nl: number): void {
    const t = buf[start];
    const end = buf[nl - 1] === CR ? nl - 1 : nl;
    if (t === 42 /* * */ || t === 62 /* > */) {
      const count = Number(buf.toString('latin1', start + 1, end));
      if (this.left === 0) {
        this.left = count;
        return;
      }
      // A nested aggregate (not produced by pub/sub): count it as one element, skip nothing.
      this.left--;
      return;
    }
    if (t === 36 /* $ */) {
      const len = Number(buf.toString('latin1', start + 1, end));
      const last = this.left === 1;
      if (this.left > 0) this.left--;
      if (len < 0) return;
      this.skip = len + 2;
      if (last && len >= this.headBytes) {
        this.want = this.headBytes;
        this.parts = [];
      }
      return;
    }
    if (t === 45 /* - */) {
      this.errors++;
      this.firstError ??= buf.toString('utf8', start + 1, end);
    }
    if (this.left > 0) this.left--; // :int, +simple, and the like
  }
}
