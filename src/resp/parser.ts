/**
 * The RESP request parser: a byte state machine over each read Buffer, for multibulk requests
 * (`*<n>\r\n` then n × `$<len>\r\n<bytes>\r\n`) and inline requests (one line split on
 * whitespace with Redis's quoting), pipelined, in order. Redis networking.c,
 * `processMultibulkBuffer` / `processInlineBuffer`, and sds.c `sdssplitargs` are the reference.
 *
 * Arguments are `subarray` views of the read Buffer when a bulk arrives whole (the common case),
 * else one copy. Views are valid until the handler returns: a handler that keeps an
 * argument past the call must copy it.
 *
 * Bounded as Redis is: an inline line or an unterminated count line past 64 KiB, a multibulk
 * count past 2^31−1, or a bulk length past 512 MB is a protocol error; after one the parser stops
 * for good (Redis replies with the error and closes the connection).
 */

/** Longest inline request, and longest `*`/`$` count line, Redis's PROTO_INLINE_MAX_SIZE (server.h). */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Largest bulk argument, Redis's `proto-max-bulk-len` default (config.c). */
export const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;
/** Largest request (sum of its bulks) before the connection is closed: Redis's
 * `client-query-buffer-limit` default (config.c), 1 GB. */
export const MAX_REQUEST_BYTES = 1024 * 1024 * 1024;
/** Largest multibulk count Redis accepts (networking.c: `ll > INT_MAX` is invalid). */
export const PROTO_MAX_MULTIBULK = 0x7fffffff;
/** Before AUTH, when a login is required: most arguments in a request and longest bulk, so an
 * unauthenticated client cannot make the server buffer much (Redis 7 networking.c,
 * processMultibulkBuffer: `ll > 10` / `ll > 16384` while authRequired). */
export const UNAUTH_MAX_MULTIBULK = 10;
export const UNAUTH_MAX_BULK_LEN = 16 * 1024;

/** The protocol errors, as the text after `ERR ` that Redis sends before closing. */
export const enum RespParseError {
  None = 0,
  TooBigInline,
  TooBigMbulkCount,
  TooBigBulkCount,
  InvalidMultibulkLength,
  InvalidBulkLength,
  ExpectedDollar,
  UnbalancedQuotes,
  /** Not a reply: Redis closes silently a client whose query buffer passes the limit. */
  QueryBufferLimit,
  UnauthMultibulkLength,
  UnauthBulkLength,
}

/** Receives each complete request, in order. Returning false stops parsing this read (the
 * connection closed while handling it); the rest of the read is dropped. */
export interface RespParserHandler {
  onCommand(argv: Buffer[], inline: boolean): boolean | void;
}

const enum S {
  Start, // expecting the first byte of a request
  Count, // inside `*<digits>` (the digits are gathered in `line`)
  BulkHead, // expecting `$`
  BulkLen, // inside `$<digits>`
  BulkData, // reading `bulkLen` bytes then 2 terminator bytes
  Inline, // inside an inline line
  Dead, // after a protocol error
}

const CR = 0x0d;
const LF = 0x0a;
const STAR = 0x2a;
const DOLLAR = 0x24;

/**
 * One per connection. Costs a few fields; partial lines (a count or an inline request split across
 * reads) are gathered in a small list, a bulk split across reads is copied once into a Buffer of
 * its exact size.
 */
export class RespParser {
  /** Set after a protocol error: which one, and the offending byte for ExpectedDollar. */
  error: RespParseError = RespParseError.None;
  errorByte = 0;
  /** Set by the connection while a login is required and not yet made: the UNAUTH_* limits apply. */
  unauthenticated = false;
  private state = S.Start;
  /** Bytes of a count line or inline line seen in earlier reads. */
  private partial: Buffer[] = [];
  private partialLen = 0;
  /** After `\r` of a count line, the next byte (normally `\n`) is skipped whatever it is, as Redis does. */
  private skipOne = false;
  private remaining = 0; // bulks still expected in this request
  private argv: Buffer[] = [];
  private bulkLen = 0;
  private bulk: Buffer | null = null; // a bulk that arrived whole, as a view
  /** A bulk arriving across reads: its pieces, joined once complete. Memory grows with the bytes
   * that arrived, never with the length a header claims. */
  private pieces: Buffer[] = [];
  private bulkFill = 0;
  /** Bytes of bulk data in the request so far (bounded by MAX_REQUEST_BYTES). */
  private requestBytes = 0;
  private tailSkip = 0; // terminator bytes still to skip after a bulk

  constructor(private readonly handler: RespParserHandler) {}

  /** Parses one read. Returns the error (None when all is well); stops at the first error. */
  parse(buf: Buffer): RespParseError {
    let i = 0;
    const n = buf.length;
    while (i < n) {
      switch (this.state) {
        case S.Start: {
          if (this.skipOne) {
            this.skipOne = false;
            i++;
            continue;
          }
          if (buf[i] === STAR) {
            this.state = S.Count;
            i++;
          } else this.state = S.Inline;
          continue;
        }
        case S.Count:
        case S.BulkLen: {
          const cr = this.partialLen === 0 ? findCR(buf, i, n) : buf.indexOf(CR, i);
          if (cr < 0) {
            this.keepPartial(buf, i, n);
            if (this.partialLen > PROTO_INLINE_MAX_SIZE)
              return this.fail(this.state === S.Count ? RespParseError.TooBigMbulkCount : RespParseError.TooBigBulkCount);
            return RespParseError.None;
          }
          const v = this.number(buf, i, cr);
          // The byte after `\r` is skipped whatever it is; when it is in this read, at once.
          if (cr + 1 < n) i = cr + 2;
          else {
            i = cr + 1;
            this.skipOne = true;
          }
          if (this.state === S.Count) {
            if (v === null || v > PROTO_MAX_MULTIBULK) return this.fail(RespParseError.InvalidMultibulkLength);
            if (v > UNAUTH_MAX_MULTIBULK && this.unauthenticated) return this.fail(RespParseError.UnauthMultibulkLength);
            if (v <= 0) {
              this.state = S.Start; // `*0`, `*-1`: nothing to do, as Redis
              continue;
            }
            this.remaining = v;
            this.requestBytes = 0;
            // Arguments are pushed as they arrive: a huge `*n` costs nothing until its bulks do.
            this.argv = [];
            this.state = S.BulkHead;
          } else {
            if (v === null || v < 0 || v > PROTO_MAX_BULK_LEN) return this.fail(RespParseError.InvalidBulkLength);
            if (v > UNAUTH_MAX_BULK_LEN && this.unauthenticated) return this.fail(RespParseError.UnauthBulkLength);
            this.requestBytes += v;
            if (this.requestBytes > MAX_REQUEST_BYTES) return this.fail(RespParseError.QueryBufferLimit);
            this.bulkLen = v;
            this.bulk = null;
            this.bulkFill = 0;
            this.state = S.BulkData;
          }
          continue;
        }
        case S.BulkHead: {
          if (this.skipOne) {
            this.skipOne = false;
            i++;
            continue;
          }
          if (buf[i] !== DOLLAR) {
            this.errorByte = buf[i];
            return this.fail(RespParseError.ExpectedDollar);
          }
          i++;
          this.state = S.BulkLen;
          continue;
        }
        case S.BulkData: {
          if (this.skipOne) {
            this.skipOne = false;
            i++;
            continue;
          }
          if (this.tailSkip > 0) {
            // Redis skips the 2 bytes after a bulk without looking at them.
            const k = Math.min(this.tailSkip, n - i);
            this.tailSkip -= k;
            i += k;
            if (this.tailSkip === 0 && this.finishBulk() === false) return RespParseError.None;
            continue;
          }
          const want = this.bulkLen - this.bulkFill;
          if (this.bulkFill === 0 && n - i >= want + 2) {
            // The common case: the whole bulk and its 2 terminator bytes are in this read.
            this.bulk = buf.subarray(i, i + want);
            this.bulkFill = want;
            i += want + 2;
            if (this.finishBulk() === false) return RespParseError.None;
            continue;
          }
          if (this.bulkFill === 0 && n - i >= want) {
            this.bulk = buf.subarray(i, i + want);
            this.bulkFill = want;
            i += want;
          } else {
            const k = Math.min(want, n - i);
            // Copy: the read Buffer may be reused by the caller.
            this.pieces.push(Buffer.from(buf.subarray(i, i + k)));
            this.bulkFill += k;
            i += k;
            if (this.bulkFill === this.bulkLen) {
              this.bulk = Buffer.concat(this.pieces, this.bulkLen);
              this.pieces = [];
            }
          }
          if (this.bulkFill === this.bulkLen) this.tailSkip = 2;
          continue;
        }
        case S.Inline: {
          const lf = buf.indexOf(LF, i);
          if (lf < 0) {
            this.keepPartial(buf, i, n);
            if (this.partialLen > PROTO_INLINE_MAX_SIZE) return this.fail(RespParseError.TooBigInline);
            return RespParseError.None;
          }
          let line: Buffer;
          if (this.partialLen > 0) {
            this.partial.push(buf.subarray(i, lf));
            line = Buffer.concat(this.partial);
            this.partial = [];
            this.partialLen = 0;
          } else line = buf.subarray(i, lf);
          i = lf + 1;
          this.state = S.Start;
          let end = line.length;
          if (end > 0 && line[end - 1] === CR) end--;
          const argv = splitArgs(line, end);
          if (argv === null) return this.fail(RespParseError.UnbalancedQuotes);
          if (argv.length > 0 && this.handler.onCommand(argv, true) === false) return RespParseError.None;
          continue;
        }
        case S.Dead:
          return this.error;
      }
    }
    return RespParseError.None;
  }

  /** A bulk is complete (terminator skipped): store it; run the request when it was the last. */
  private finishBulk(): boolean {
    this.argv.push(this.bulk as Buffer);
    this.bulk = null;
    if (--this.remaining > 0) {
      this.state = S.BulkHead;
      return true;
    }
    this.state = S.Start;
    const argv = this.argv;
    this.argv = [];
    return this.handler.onCommand(argv, false) !== false;
  }

  private keepPartial(buf: Buffer, from: number, to: number): void {
    if (to > from) {
      // Copy: the read Buffer may be reused by the caller.
      this.partial.push(Buffer.from(buf.subarray(from, to)));
      this.partialLen += to - from;
    }
  }

  /** The integer of a count line ending at `end` (Redis string2ll: no `+`, no leading zeros). */
  private number(buf: Buffer, from: number, end: number): number | null {
    let b = buf;
    let s = from;
    let e = end;
    if (this.partialLen > 0) {
      this.partial.push(buf.subarray(from, end));
      b = Buffer.concat(this.partial);
      s = 0;
      e = b.length;
      this.partial = [];
      this.partialLen = 0;
    }
    return parseLongLong(b, s, e);
  }

  private fail(e: RespParseError): RespParseError {
    this.state = S.Dead;
    this.error = e;
    this.partial = [];
    this.argv = [];
    this.bulk = null;
    this.pieces = [];
    return e;
  }
}

/** Bytes a count line is scanned in JS before handing the search to the native indexOf: a
 * `*`/`$` count is at most 20 digits, and a short loop beats a native call at that length. */
const SHORT_SCAN = 24;

/** `buf.indexOf(CR, from)`, scanning the first SHORT_SCAN bytes in JS. */
function findCR(buf: Buffer, from: number, n: number): number {
  const lim = Math.min(n, from + SHORT_SCAN);
  for (let k = from; k < lim; k++) if (buf[k] === CR) return k;
  return lim < n ? buf.indexOf(CR, lim) : -1;
}

/**
 * Redis util.c `string2ll` over bytes: optional `-`, then `0` alone or a digit 1–9 and digits;
 * at most 20 characters; null when not an integer or out of the safe range (herald's counts and
 * lengths never need more than 2^53).
 */
export function parseLongLong(b: Buffer, s: number, e: number): number | null {
  const len = e - s;
  if (len <= 0 || len > 20) return null;
  let i = s;
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
    if (i === e) return null;
  }
  if (b[i] === 0x30) return len === 1 ? 0 : null;
  let v = 0;
  for (; i < e; i++) {
    const c = b[i] - 0x30;
    if (c < 0 || c > 9) return null;
    v = v * 10 + c;
  }
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return neg ? -v : v;
}

/** Byte equality of two short Buffers (a loop beats a native call at these lengths). */
export function sameBytes(a: Buffer, b: Buffer): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isSpace(c: number): boolean {
  // C isspace: space, \t, \n, \v, \f, \r
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Redis sds.c `sdssplitargs` over `line[0, end)`: whitespace-separated tokens; `"…"` with
 * `\xHH \n \r \t \b \a` and `\c` escapes, `'…'` with only `\'`; a closing quote must be followed by
 * whitespace or the end. A NUL byte ends the line (it is a C string there). Null when quotes are
 * unbalanced. Costs one small Buffer per token.
 */
export function splitArgs(line: Buffer, end: number): Buffer[] | null {
  const fast = splitPlain(line, end);
  if (fast !== null) return fast;
  const out: Buffer[] = [];
  let p = 0;
  const at = (k: number): number => (k < end ? line[k] : 0);
  for (;;) {
    while (p < end && line[p] !== 0 && isSpace(line[p])) p++;
    if (at(p) === 0) return out;
    const tok: number[] = [];
    let inq = false;
    let insq = false;
    let done = false;
    while (!done) {
      const c = at(p);
      if (inq) {
        if (c === 0x5c && at(p + 1) === 0x78 && hexVal(at(p + 2)) >= 0 && hexVal(at(p + 3)) >= 0) {
          tok.push(hexVal(at(p + 2)) * 16 + hexVal(at(p + 3)));
          p += 3;
        } else if (c === 0x5c && at(p + 1) !== 0) {
          p++;
          const e = at(p);
          tok.push(e === 0x6e ? 0x0a : e === 0x72 ? 0x0d : e === 0x74 ? 0x09 : e === 0x62 ? 0x08 : e === 0x61 ? 0x07 : e);
        } else if (c === 0x22) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) return null;
        else tok.push(c);
      } else if (insq) {
        if (c === 0x5c && at(p + 1) === 0x27) {
          p++;
          tok.push(0x27);
        } else if (c === 0x27) {
          if (at(p + 1) !== 0 && !isSpace(at(p + 1))) return null;
          done = true;
        } else if (c === 0) return null;
        else tok.push(c);
      } else {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0) done = true;
        else if (c === 0x22) inq = true;
        else if (c === 0x27) insq = true;
        else tok.push(c);
      }
      if (at(p) !== 0) p++;
    }
    out.push(Buffer.from(tok));
  }
}

/**
 * The common inline case (`PING`, `ECHO x`): no quote, backslash or NUL, so tokens are views
 * split on whitespace. Null when the line needs `splitArgs`'s full rules.
 */
function splitPlain(line: Buffer, end: number): Buffer[] | null {
  const out: Buffer[] = [];
  let start = -1;
  for (let i = 0; i < end; i++) {
    const c = line[i];
    if (c === 0x22 || c === 0x27 || c === 0x5c || c === 0) return null;
    if (isSpace(c)) {
      // A token ends only at space, \t, \n or \r (sdssplitargs); \v and \f only separate tokens.
      if (c === 0x0b || c === 0x0c) {
        if (start >= 0) return null;
        continue;
      }
      if (start >= 0) {
        out.push(line.subarray(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(line.subarray(start, end));
  return out;
}
