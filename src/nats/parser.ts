/**
 * The NATS client-protocol parser: a byte-at-a-time state machine over each read Buffer.
 * specs/nats.md §1 "Operations": verbs are case-insensitive, fields are separated by spaces or
 * tabs, lines end with CRLF (a bare LF is accepted, as nats-server does). Every byte is part of an
 * op: a stray CR or LF between ops is an unknown operation, as in nats-server.
 *
 * Cost: verbs are recognised through a precomputed transition table (one array index per byte);
 * argument lines are sliced, not copied, unless they straddle two reads; payloads are `subarray`
 * views of the read Buffer, copied only when a message straddles reads. The only per-message
 * allocations are the subject/reply strings and the view objects.
 */

/** What the parser hands to its owner, one call per complete operation, in order. */
export interface ParserHandler {
  onConnect(json: string): void;
  onPub(subject: string, reply: string, headers: Buffer | null, payload: Buffer): void;
  /** Returns false when the connection may not use headers (HPUB without CONNECT headers:true). */
  headersAllowed(): boolean;
  onSub(subject: string, queue: string | null, sid: string): void;
  onUnsub(sid: string, max: number): void;
  onPing(): void;
  onPong(): void;
  /** Called before a payload is read, so an oversize message is refused without buffering it. */
  maxPayload(): number;
}

/** Why parsing stopped. The connection must close after any of these. */
export const enum ParseError {
  /** Bad verb or framing: nats-server sends -ERR 'Unknown Protocol Operation' then closes. */
  UnknownOperation = 1,
  /** Argument line longer than the limit: -ERR 'maximum control line exceeded', close. */
  MaxControlLine = 2,
  /** Headers + payload over max_payload: -ERR 'Maximum Payload Violation', close. */
  MaxPayload = 3,
  /** Malformed arguments (wrong count, bad size, bad JSON): nats-server closes without -ERR. */
  BadArguments = 4,
  /** The client sent -ERR: nats-server logs it and closes without replying. */
  ClientError = 5,
}

// Verbs the client may send, and what follows each (A = argument line, L = ignore to end of line).
const enum Op {
  None = 0,
  Pub,
  Hpub,
  Sub,
  Unsub,
  Ping,
  Pong,
  Connect,
  Info,
  Ok,
  Err,
}

const VERBS: [string, Op][] = [
  ['PUB', Op.Pub],
  ['HPUB', Op.Hpub],
  ['SUB', Op.Sub],
  ['UNSUB', Op.Unsub],
  ['PING', Op.Ping],
  ['PONG', Op.Pong],
  ['CONNECT', Op.Connect],
  ['INFO', Op.Info],
  ['+OK', Op.Ok],
  ['-ERR', Op.Err],
];

// Transition table for the verb trie: TRANS[state * 256 + byte] = next state (0 = error).
// State 1 is the start state. TERM[state] = the verb completed at that state.
const MAX_STATES = 64;
const TRANS = new Uint8Array(MAX_STATES * 256);
const TERM = new Uint8Array(MAX_STATES);
{
  let next = 2;
  for (const [verb, op] of VERBS) {
    let s = 1;
    for (let i = 0; i < verb.length; i++) {
      const up = verb.charCodeAt(i);
      const lo = up >= 0x41 && up <= 0x5a ? up + 32 : up;
      let t = TRANS[s * 256 + up];
      if (t === 0) {
        t = next++;
        TRANS[s * 256 + up] = t;
        TRANS[s * 256 + lo] = t;
      }
      s = t;
    }
    TERM[s] = op;
  }
}

// Parser states beyond the verb trie.
const S_VERB = 0; // inside the verb trie (vstate holds the trie state)
const S_AFTER_VERB = 1; // verb complete, expecting a separator (or LF for PING/PONG/+OK)
const S_SKIP_SPACE = 2; // spaces before the argument line
const S_ARG = 3; // collecting the argument line up to LF
const S_LINE_TAIL = 4; // PING/PONG/+OK: ignore the rest of the line
const S_PAYLOAD = 5; // collecting `size` payload bytes
const S_END_CR = 6; // expecting CR after the payload
const S_END_LF = 7; // expecting LF after the payload

const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const LF = 0x0a;

/**
 * One parser per connection. `parse(buf)` consumes a whole read Buffer and returns 0, or the
 * ParseError that stopped it (the rest of `buf` is then ignored and the connection must close).
 */
export class Parser {
  private state = S_VERB;
  private vstate = 1;
  private op: Op = Op.None;
  /** Argument bytes carried over from an earlier read (null when the line is in one Buffer). */
  private argBuf: Buffer | null = null;
  private argLen = 0;
  // Pending publish, between its argument line and the end of its payload.
  private subject = '';
  private reply = '';
  private hdrSize = -1;
  private size = 0;
  /** Payload bytes carried over from an earlier read (null when the payload is in one Buffer). */
  private msgBuf: Buffer | null = null;
  /** The last PUB subject's bytes and string: a publisher usually repeats its subject, and
   * comparing a few bytes is cheaper than decoding a new string each time. */
  private readonly lastSubjBytes = Buffer.allocUnsafe(SUBJECT_CACHE_BYTES);
  private lastSubjLen = -1;
  private lastSubj = '';
  private msgLen = 0;
  /** Set by `suspend()` from a handler callback: parse() stops after the current operation. */
  private suspended = false;
  /** The unparsed tail of the Buffer parse() stopped in (a view), for the owner to feed back. */
  private tail: Buffer | null = null;

  constructor(
    private readonly h: ParserHandler,
    private readonly maxControlLine: number,
  ) {}

  /**
   * Called from a handler callback (only onConnect today): parse() returns after the current
   * operation and keeps the unparsed rest of its Buffer; `resume()` hands that rest back.
   */
  suspend(): void {
    this.suspended = true;
  }

  /** Ends a suspension; returns the bytes left unparsed when it began (null when none). */
  resume(): Buffer | null {
    this.suspended = false;
    const t = this.tail;
    this.tail = null;
    return t;
  }

  parse(buf: Buffer): number {
    const n = buf.length;
    let argStart = -1;
    for (let i = 0; i < n; i++) {
      const b = buf[i];
      switch (this.state) {
        case S_VERB: {
          const t = TRANS[this.vstate * 256 + b];
          // nats-server has no blank-line tolerance: CR or LF where a verb should start is an error.
          if (t === 0) return ParseError.UnknownOperation;
          this.vstate = t;
          const op = TERM[t];
          // No verb is a prefix of another, so a completed verb is final.
          if (op !== Op.None) {
            this.op = op;
            this.state = S_AFTER_VERB;
          }
          break;
        }
        case S_AFTER_VERB: {
          const op = this.op;
          if (op === Op.Ping || op === Op.Pong || op === Op.Ok) {
            if (b === LF) this.endLineOp();
            else this.state = S_LINE_TAIL;
          } else if (b === SP || b === TAB) {
            this.state = S_SKIP_SPACE;
          } else if (op === Op.Connect || op === Op.Info) {
            // nats-server takes the argument right after CONNECT even without a separator.
            this.state = S_ARG;
            argStart = i;
            this.argLen = 0;
            i--;
          } else {
            return ParseError.UnknownOperation;
          }
          break;
        }
        case S_SKIP_SPACE:
          if (b === SP || b === TAB) break;
          // This byte starts the argument line: process it again in S_ARG.
          this.state = S_ARG;
          this.argBuf = null;
          this.argLen = 0;
          argStart = i;
          i--;
          break;
        case S_ARG: {
          // Find the line end in one tight loop rather than one switch pass per byte.
          let j = i;
          while (j < n && buf[j] !== LF) j++;
          if (argStart < 0) {
            // Continuing a line that began in an earlier read.
            if (this.argLen + (j - i) > this.maxControlLine + 2) return ParseError.MaxControlLine;
            this.appendArgRange(buf, i, j);
          }
          if (j === n) {
            i = n; // no line end in this read: the tail is kept below
            break;
          }
          let aBuf: Buffer;
          let aStart: number;
          let aEnd: number;
          if (argStart >= 0 && this.argBuf === null) {
            aBuf = buf;
            aStart = argStart;
            aEnd = j;
          } else {
            if (argStart >= 0) this.appendArgRange(buf, argStart, j);
            aBuf = this.argBuf!;
            aStart = 0;
            aEnd = this.argLen;
          }
          if (aEnd > aStart && aBuf[aEnd - 1] === CR) aEnd--;
          this.argBuf = null;
          argStart = -1;
          i = j;
          if (aEnd - aStart > this.maxControlLine) return ParseError.MaxControlLine;
          const err = this.dispatchArg(aBuf, aStart, aEnd);
          if (err !== 0) return err;
          if (this.suspended) {
            // The handler must decide something asynchronously (a bcrypt CONNECT) before any
            // later operation may run: keep the rest of this read for resume().
            this.tail = j + 1 < n ? buf.subarray(j + 1) : null;
            return 0;
          }
          if ((this.state as number) === S_PAYLOAD) {
            // Fast path: the whole payload and its CRLF are in this Buffer.
            const total = this.size;
            if (i + 1 + total + 2 <= n) {
              const start = i + 1;
              if (buf[start + total] !== CR || buf[start + total + 1] !== LF) return ParseError.UnknownOperation;
              this.emitPub(buf, start, total);
              i = start + total + 1;
              this.reset();
            } else {
              this.msgLen = 0;
              this.msgBuf = null;
              if (total === 0) this.state = S_END_CR;
            }
          }
          break;
        }
        case S_LINE_TAIL:
          if (b === LF) this.endLineOp();
          break;
        case S_PAYLOAD: {
          // Copy as much of the payload as this Buffer holds.
          if (this.msgBuf === null) this.msgBuf = Buffer.allocUnsafe(this.size);
          const want = this.size - this.msgLen;
          const avail = n - i;
          const take = want < avail ? want : avail;
          buf.copy(this.msgBuf, this.msgLen, i, i + take);
          this.msgLen += take;
          i += take - 1;
          if (this.msgLen === this.size) this.state = S_END_CR;
          break;
        }
        case S_END_CR:
          if (b !== CR) return ParseError.UnknownOperation;
          this.state = S_END_LF;
          break;
        case S_END_LF: {
          if (b !== LF) return ParseError.UnknownOperation;
          const m = this.msgBuf ?? EMPTY;
          this.msgBuf = null;
          this.emitPub(m, 0, this.size);
          this.reset();
          break;
        }
      }
    }
    if (this.state === S_ARG) {
      // Keep a partial argument line for the next read. nats-server checks the length of what it
      // holds at the end of every read, not only at the LF: a partial line already over the limit
      // is refused at once. A CR at the very end is not counted (it may start the CRLF).
      if (argStart >= 0) this.appendArgRange(buf, argStart, n);
      let held = this.argLen;
      if (held > 0 && this.argBuf![held - 1] === CR) held--;
      if (held > this.maxControlLine) return ParseError.MaxControlLine;
    }
    return 0;
  }

  private reset(): void {
    this.state = S_VERB;
    this.vstate = 1;
    this.op = Op.None;
  }

  private endLineOp(): void {
    const op = this.op;
    this.reset();
    if (op === Op.Ping) this.h.onPing();
    else if (op === Op.Pong) this.h.onPong();
  }

  private appendArg(b: number): void {
    this.ensureArg(1);
    this.argBuf![this.argLen++] = b;
  }

  private appendArgRange(buf: Buffer, from: number, to: number): void {
    this.ensureArg(to - from);
    buf.copy(this.argBuf!, this.argLen, from, to);
    this.argLen += to - from;
  }

  private ensureArg(extra: number): void {
    const need = this.argLen + extra;
    if (this.argBuf === null) {
      this.argBuf = Buffer.allocUnsafe(Math.max(256, need));
    } else if (need > this.argBuf.length) {
      const nb = Buffer.allocUnsafe(Math.max(need, this.argBuf.length * 2));
      this.argBuf.copy(nb, 0, 0, this.argLen);
      this.argBuf = nb;
    }
  }

  /** The subject in `buf[s..e)`, reusing the previous string when the bytes are the same. */
  private subjectOf(buf: Buffer, s: number, e: number): string {
    const len = e - s;
    if (len === this.lastSubjLen) {
      const last = this.lastSubjBytes;
      let k = 0;
      while (k < len && buf[s + k] === last[k]) k++;
      if (k === len) return this.lastSubj;
    }
    const str = buf.toString('utf8', s, e);
    if (len <= SUBJECT_CACHE_BYTES) {
      buf.copy(this.lastSubjBytes, 0, s, e);
      this.lastSubjLen = len;
      this.lastSubj = str;
    }
    return str;
  }

  private emitPub(buf: Buffer, start: number, total: number): void {
    const hs = this.hdrSize;
    if (hs > 0) {
      this.h.onPub(this.subject, this.reply, buf.subarray(start, start + hs), buf.subarray(start + hs, start + total));
    } else {
      this.h.onPub(this.subject, this.reply, null, buf.subarray(start, start + total));
    }
  }

  /** Handles a complete argument line, `arg[start..end)`, for the current verb. */
  private dispatchArg(arg: Buffer, start: number, end: number): number {
    const op = this.op;
    switch (op) {
      case Op.Pub:
      case Op.Hpub: {
        const f = splitFields(arg, start, end, 4);
        let sizeField: number;
        let hdrField = -1;
        if (op === Op.Pub) {
          if (f.count === 2) {
            this.reply = '';
            sizeField = 1;
          } else if (f.count === 3) {
            this.reply = f.str(arg, 1);
            sizeField = 2;
          } else return ParseError.BadArguments;
        } else {
          if (!this.h.headersAllowed()) return ParseError.BadArguments;
          if (f.count === 3) {
            this.reply = '';
            hdrField = 1;
            sizeField = 2;
          } else if (f.count === 4) {
            this.reply = f.str(arg, 1);
            hdrField = 2;
            sizeField = 3;
          } else return ParseError.BadArguments;
        }
        const size = f.int(arg, sizeField);
        if (size < 0) return ParseError.BadArguments;
        let hdr = -1;
        if (hdrField >= 0) {
          hdr = f.int(arg, hdrField);
          if (hdr < 0 || hdr > size) return ParseError.BadArguments;
        }
        if (size > this.h.maxPayload()) return ParseError.MaxPayload;
        this.subject = this.subjectOf(arg, f.starts[0], f.ends[0]);
        this.size = size;
        this.hdrSize = hdr;
        this.state = S_PAYLOAD;
        return 0;
      }
      case Op.Sub: {
        // nats-server splits SUB and UNSUB arguments on CR and LF too (not PUB's).
        const f = splitFields(arg, start, end, 3, true);
        if (f.count === 2) this.h.onSub(f.str(arg, 0), null, f.str(arg, 1));
        else if (f.count === 3) this.h.onSub(f.str(arg, 0), f.str(arg, 1), f.str(arg, 2));
        else return ParseError.BadArguments;
        this.reset();
        return 0;
      }
      case Op.Unsub: {
        const f = splitFields(arg, start, end, 2, true);
        if (f.count === 1) this.h.onUnsub(f.str(arg, 0), 0);
        else if (f.count === 2) this.h.onUnsub(f.str(arg, 0), Math.max(0, f.int(arg, 1)));
        else return ParseError.BadArguments;
        this.reset();
        return 0;
      }
      case Op.Connect: {
        const json = arg.toString('utf8', start, end);
        this.reset();
        this.h.onConnect(json);
        return 0;
      }
      case Op.Info: {
        // nats-server decodes a client's INFO and closes (no -ERR) when that fails; it is otherwise
        // ignored. Go decodes `null` into a struct without error; arrays and scalars are errors.
        this.reset();
        let v: unknown;
        try {
          v = JSON.parse(arg.toString('utf8', start, end));
        } catch {
          return ParseError.BadArguments;
        }
        return v === null || (typeof v === 'object' && !Array.isArray(v)) ? 0 : ParseError.BadArguments;
      }
      default:
        // -ERR from a client: nats-server closes the connection.
        this.reset();
        return ParseError.ClientError;
    }
  }
}

const EMPTY = Buffer.alloc(0);
/** Longest subject the parser's one-entry subject cache holds (longer ones are decoded each time). */
const SUBJECT_CACHE_BYTES = 128;

/** Field boundaries of an argument line, split on spaces and tabs; reused to avoid allocation. */
class Fields {
  count = 0;
  readonly starts = new Int32Array(8);
  readonly ends = new Int32Array(8);
  str(arg: Buffer, k: number): string {
    return arg.toString('utf8', this.starts[k], this.ends[k]);
  }
  /** Decimal value of field k, or -1 when it is not 1–MAX_SIZE_DIGITS plain decimal digits. */
  int(arg: Buffer, k: number): number {
    let v = 0;
    const s = this.starts[k];
    const e = this.ends[k];
    if (e === s || e - s > MAX_SIZE_DIGITS) return -1;
    for (let i = s; i < e; i++) {
      const c = arg[i] - 0x30;
      if (c < 0 || c > 9) return -1;
      v = v * 10 + c;
    }
    return v;
  }
}

const FIELDS = new Fields();

/** nats-server's parseSize reads at most 9 digits ("999M"); a longer size field is malformed. */
const MAX_SIZE_DIGITS = 9;

/**
 * Splits on spaces/tabs (and CR/LF when `lineEnds`); counts up to `max` + 1 fields so "too many" is
 * detectable.
 */
function splitFields(arg: Buffer, from: number, to: number, max: number, lineEnds = false): Fields {
  const f = FIELDS;
  f.count = 0;
  let start = -1;
  for (let i = from; i <= to; i++) {
    const b = i === to ? SP : arg[i];
    if (b === SP || b === TAB || (lineEnds && (b === CR || b === LF))) {
      if (start >= 0) {
        if (f.count > max) return f;
        f.starts[f.count] = start;
        f.ends[f.count] = i;
        f.count++;
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  return f;
}
