/**
 * The Redis side of the raw load generator: pre-encoded RESP commands, a minimal counter of
 * top-level replies (for publishers and subscribers, which only need counts), and a compact full
 * parser (for XREADGROUP entries and admin commands, which need values). Both find lines with
 * `indexOf('\n')` and skip bulk payloads by length.
 */
import net from 'node:net';
import { parseServerUrl, type ServerAddress } from './address.js';

const LF = 10;
const CR = 13;
const CH_PLUS = 43; // '+'
const CH_MINUS = 45; // '-'
const CH_COLON = 58; // ':'
const CH_DOLLAR = 36; // '$'
const CH_STAR = 42; // '*'
const CH_GT = 62; // '>' RESP3 push
const CH_TILDE = 126; // '~' RESP3 set
const CH_PCT = 37; // '%' RESP3 map
const CH_EQ = 61; // '=' RESP3 verbatim string
const CH_BANG = 33; // '!' RESP3 blob error

/** Encodes one command as a RESP array of bulk strings. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Parses a signed decimal from buf[from..to). */
function parseIntAt(buf: Buffer, from: number, to: number): number {
  let neg = false;
  let i = from;
  if (buf[i] === CH_MINUS) {
    neg = true;
    i++;
  }
  let v = 0;
  for (; i < to; i++) v = v * 10 + (buf[i]! - 48);
  return neg ? -v : v;
}

/**
 * Counts complete top-level replies (and error replies) in a RESP2/RESP3 byte stream. Nested
 * aggregates are tracked with a stack of remaining element counts; bulk payloads are skipped.
 */
export class RespCounter {
  /** Complete top-level values seen. */
  values = 0;
  /** Top-level or nested error replies seen. */
  errors = 0;
  /** The first error text, for the report. */
  firstError: string | null = null;
  private skip = 0;
  private carry: Buffer | null = null;
  private stack: number[] = [];

  /** Feeds one chunk read from the socket. */
  feed(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    if (this.skip > 0) {
      const take = Math.min(this.skip, n);
      this.skip -= take;
      i = take;
    }
    if (this.carry !== null && i < n) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, buf.subarray(i)]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(i, nl + 1)]);
      this.carry = null;
      this.header(line, 0, line.length - 1);
      i = nl + 1;
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
      }
    }
    while (i < n) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.carry = Buffer.from(buf.subarray(i));
        return;
      }
      this.header(buf, i, nl);
      i = nl + 1;
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
      }
    }
  }

  /** Handles one type line buf[start..nl]; sets `skip` for bulk payloads. */
  private header(buf: Buffer, start: number, nl: number): void {
    const t = buf[start];
    const end = buf[nl - 1] === CR ? nl - 1 : nl;
    if (t === CH_DOLLAR || t === CH_EQ || t === CH_BANG) {
      const len = parseIntAt(buf, start + 1, end);
      if (t === CH_BANG) this.noteError(buf, start, end);
      if (len >= 0) this.skip = len + 2;
      this.complete();
      return;
    }
    if (t === CH_STAR || t === CH_GT || t === CH_TILDE || t === CH_PCT) {
      let count = parseIntAt(buf, start + 1, end);
      if (t === CH_PCT) count *= 2;
      if (count <= 0) this.complete();
      else this.stack.push(count);
      return;
    }
    if (t === CH_MINUS) this.noteError(buf, start, end);
    this.complete(); // + : _ # , ( and anything unknown are one-line values
  }

  private noteError(buf: Buffer, start: number, end: number): void {
    this.errors++;
    if (this.firstError === null) this.firstError = buf.toString('utf8', start + 1, end);
  }

  /** One value finished: pop every aggregate it completes; count a finished top-level value. */
  private complete(): void {
    const s = this.stack;
    while (s.length > 0) {
      const top = s.length - 1;
      s[top] = s[top]! - 1;
      if (s[top]! > 0) return;
      s.pop();
    }
    this.values++;
  }
}

/** An error reply, kept as a value (not thrown) so a pipeline's other replies stay usable. */
export class RespError {
  constructor(readonly message: string) {}
}

/** A parsed RESP value: bulk strings stay Buffers; simple strings are strings. */
export type RespValue = Buffer | string | number | null | RespError | RespValue[];

interface Frame {
  items: RespValue[];
  need: number;
}

/** A compact full RESP parser: feeds bytes, emits each complete top-level value. */
export class RespParser {
  private buf: Buffer = Buffer.alloc(0);
  private stack: Frame[] = [];

  constructor(private readonly onValue: (v: RespValue) => void) {}

  /** Feeds one chunk; calls onValue for every top-level value completed by it. */
  feed(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    let i = 0;
    const b = this.buf;
    for (;;) {
      if (i >= b.length) break;
      const nl = b.indexOf(LF, i);
      if (nl < 0) break;
      const t = b[i];
      const end = b[nl - 1] === CR ? nl - 1 : nl;
      let value: RespValue | undefined;
      if (t === CH_DOLLAR || t === CH_EQ || t === CH_BANG) {
        const len = parseIntAt(b, i + 1, end);
        if (len < 0) {
          value = null;
          i = nl + 1;
        } else {
          if (nl + 1 + len + 2 > b.length) break; // payload not here yet: keep from i
          const data = b.subarray(nl + 1, nl + 1 + len);
          value = t === CH_BANG ? new RespError(data.toString('utf8')) : Buffer.from(data);
          i = nl + 1 + len + 2;
        }
      } else if (t === CH_STAR || t === CH_GT || t === CH_TILDE || t === CH_PCT) {
        let count = parseIntAt(b, i + 1, end);
        if (t === CH_PCT) count *= 2;
        i = nl + 1;
        if (count < 0) value = null;
        else if (count === 0) value = [];
        else {
          this.stack.push({ items: [], need: count });
          continue;
        }
      } else if (t === CH_COLON) {
        value = parseIntAt(b, i + 1, end);
        i = nl + 1;
      } else if (t === CH_MINUS) {
        value = new RespError(b.toString('utf8', i + 1, end));
        i = nl + 1;
      } else {
        value = t === CH_PLUS ? b.toString('utf8', i + 1, end) : b.toString('utf8', i, end);
        i = nl + 1;
      }
      this.push(value);
    }
    this.buf = i >= b.length ? Buffer.alloc(0) : Buffer.from(b.subarray(i));
  }

  private push(v: RespValue): void {
    let value = v;
    for (;;) {
      const top = this.stack[this.stack.length - 1];
      if (top === undefined) {
        this.onValue(value);
        return;
      }
      top.items.push(value);
      if (top.items.length < top.need) return;
      this.stack.pop();
      value = top.items;
    }
  }
}

/** Where to connect, from a `redis://[:pass@]host:port[/db]` URL. */
export type RedisAddress = ServerAddress;

/** Parses a Redis URL; the scheme may be omitted. */
export function parseRedisUrl(url: string): RedisAddress {
  return parseServerUrl(url, 'redis', 6379);
}

/** Opens a TCP connection to a Redis URL and sends AUTH when the URL carries a password. */
export function connectRedisSocket(url: string, timeoutMs: number): Promise<net.Socket> {
  const addr = parseRedisUrl(url);
  return new Promise<net.Socket>((resolve, reject) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    socket.setNoDelay(true);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`Redis connect to ${url} timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      if (addr.pass !== undefined) {
        const auth = addr.user !== undefined ? ['AUTH', addr.user, addr.pass] : ['AUTH', addr.pass];
        socket.write(encodeCommand(auth));
      }
      resolve(socket);
    });
    socket.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/**
 * A request/response Redis connection for setup and checks (not the hot path): one promise per
 * command, replies matched in order. AUTH's reply (if any) is consumed first.
 */
export class RespClient {
  private readonly waiting: Array<(v: RespValue) => void> = [];
  private readonly parser: RespParser;
  private closed = false;

  private constructor(
    readonly socket: net.Socket,
    authPending: boolean,
  ) {
    this.parser = new RespParser((v) => this.waiting.shift()?.(v));
    if (authPending) this.waiting.push(() => undefined);
    socket.on('data', (d: Buffer) => this.parser.feed(d));
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiting.splice(0)) w(new RespError('connection closed'));
    });
    socket.on('error', () => undefined);
  }

  /** Connects to `url` (bounded by timeoutMs). */
  static async connect(url: string, timeoutMs: number): Promise<RespClient> {
    const socket = await connectRedisSocket(url, timeoutMs);
    return new RespClient(socket, parseRedisUrl(url).pass !== undefined);
  }

  /** Sends one command and resolves with its reply (errors come back as RespError values). */
  command(args: ReadonlyArray<string | Buffer>, timeoutMs = 10_000): Promise<RespValue> {
    if (this.closed) return Promise.resolve(new RespError('connection closed'));
    return new Promise<RespValue>((resolve) => {
      // A late reply would answer the wrong command, so a timeout ends the connection.
      const timer = setTimeout(() => {
        resolve(new RespError(`no reply within ${timeoutMs} ms`));
        this.socket.destroy();
      }, timeoutMs);
      this.waiting.push((v) => {
        clearTimeout(timer);
        resolve(v);
      });
      this.socket.write(encodeCommand(args));
    });
  }

  /** Closes the connection. */
  close(): void {
    this.socket.destroy();
  }
}

/** A bulk/simple string reply as text, or null. */
export function respText(v: RespValue | undefined): string | null {
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return null;
}
