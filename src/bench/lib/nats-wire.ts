/**
 * The NATS side of the raw load generator: pre-encoded frames and a minimal byte scanner that
 * counts MSG/HMSG frames and PONGs without building strings or objects per message. It is not a
 * full protocol parser: it finds each control line with `indexOf('\n')`, reads the frame size
 * from the digits just before the CR, and skips the payload. Only roles that need a frame's
 * contents (replier, acks, admin) ask for it through `onMsg`.
 */
import net from 'node:net';
import { parseServerUrl, type ServerAddress } from './address.js';

const LF = 10;
const CR = 13;
const CH_M = 77; // 'M'
const CH_H = 72; // 'H'
const CH_P = 80; // 'P'
const CH_I = 73; // 'I'
const CH_O = 79; // 'O'
const CH_MINUS = 45; // '-'
const CH_0 = 48;
const CH_9 = 57;

/** `PING\r\n`, the protocol's flush barrier: the PONG proves everything before it was processed. */
export const PING = Buffer.from('PING\r\n');
/** `PONG\r\n`, the answer to a server PING (unanswered PINGs get a client dropped). */
export const PONG = Buffer.from('PONG\r\n');

/** Encodes one `PUB subject [reply] size\r\npayload\r\n` frame. */
export function encodePub(subject: string, payload: Buffer, reply?: string): Buffer {
  const head = reply ? `PUB ${subject} ${reply} ${payload.length}\r\n` : `PUB ${subject} ${payload.length}\r\n`;
  return Buffer.concat([Buffer.from(head), payload, Buffer.from('\r\n')]);
}

/** Encodes `SUB subject [queue] sid\r\n`. */
export function encodeSub(subject: string, sid: number, queue?: string): Buffer {
  return Buffer.from(queue ? `SUB ${subject} ${queue} ${sid}\r\n` : `SUB ${subject} ${sid}\r\n`);
}

/** `count` copies of `frame` back to back, optionally followed by `tail` (e.g. a PING). */
export function repeatFrame(frame: Buffer, count: number, tail?: Buffer): Buffer {
  const out = Buffer.allocUnsafe(frame.length * count + (tail ? tail.length : 0));
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  if (tail) tail.copy(out, frame.length * count);
  return out;
}

/** A payload of `size` bytes (printable, so captures are readable). */
export function makePayload(size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + (i % 26);
  return b;
}

/** Callbacks of a scanner; every one is optional except that a PING must be answered. */
export interface NatsHandlers {
  onInfo?(line: Buffer): void;
  onPing?(): void;
  onPong?(): void;
  onErr?(text: string): void;
  /**
   * Called per MSG/HMSG only when set (which costs a copy when a frame spans two reads).
   * `line` is the control line without CRLF; `payload` the headers+payload bytes.
   */
  onMsg?(line: Buffer, payload: Buffer, hasHeaders: boolean): void;
}

/** Counts NATS frames from a byte stream; see the file comment for what it does not do. */
export class NatsScanner {
  /** MSG frames seen. */
  msgs = 0;
  /** HMSG frames seen (JetStream status messages arrive as HMSG). */
  hmsgs = 0;
  pongs = 0;
  errs = 0;
  handlers: NatsHandlers;
  /** Payload + CRLF bytes of the current frame still to come. */
  private skip = 0;
  /** An unfinished control line from the previous read. */
  private carry: Buffer | null = null;
  /** While capturing a split frame for onMsg: its line, its payload parts, and bytes still needed. */
  private capLine: Buffer | null = null;
  private capHeaders = false;
  private capParts: Buffer[] = [];
  private capNeed = 0;

  constructor(handlers: NatsHandlers = {}) {
    this.handlers = handlers;
  }

  /** Feeds one chunk read from the socket. */
  feed(buf: Buffer): void {
    let i = 0;
    const n = buf.length;
    if (this.skip > 0) i = this.skipBytes(buf, 0);
    if (i >= n) return;
    if (this.carry !== null) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, buf.subarray(i)]);
        return;
      }
      const line = Buffer.concat([this.carry, buf.subarray(i, nl + 1)]);
      this.carry = null;
      const after = this.line(line, 0, line.length - 1);
      // `after` is relative to `line`: any payload bytes of this frame start at nl+1 in buf.
      i = nl + 1;
      if (after > line.length) {
        this.skip = after - line.length;
        i = this.skipBytes(buf, i);
      }
    }
    while (i < n) {
      const nl = buf.indexOf(LF, i);
      if (nl < 0) {
        this.carry = Buffer.from(buf.subarray(i));
        return;
      }
      const next = this.line(buf, i, nl);
      if (next <= n) {
        i = next;
      } else {
        this.skip = next - (nl + 1);
        i = this.skipBytes(buf, nl + 1);
      }
    }
  }

  /** Consumes skipped (payload) bytes from buf at i; returns the new index. */
  private skipBytes(buf: Buffer, i: number): number {
    const take = Math.min(this.skip, buf.length - i);
    if (this.capLine !== null && this.capNeed > 0) {
      const part = Math.min(take, this.capNeed);
      this.capParts.push(Buffer.from(buf.subarray(i, i + part)));
      this.capNeed -= part;
    }
    this.skip -= take;
    if (this.skip === 0 && this.capLine !== null) {
      const line = this.capLine;
      this.capLine = null;
      const payload = Buffer.concat(this.capParts);
      this.capParts = [];
      this.handlers.onMsg?.(line, payload, this.capHeaders);
    }
    return i + take;
  }

  /**
   * Handles the control line buf[start..nl] (nl is the LF). Returns the index just past the
   * whole frame, which may lie beyond buf for a payload that has not fully arrived.
   */
  private line(buf: Buffer, start: number, nl: number): number {
    const c0 = buf[start];
    if (c0 === CH_M || c0 === CH_H) {
      // The last token is the total size (payload, or headers+payload for HMSG).
      let j = nl - 1;
      if (buf[j] === CR) j--;
      let size = 0;
      let mul = 1;
      while (j > start) {
        const d = buf[j]!;
        if (d < CH_0 || d > CH_9) break;
        size += (d - CH_0) * mul;
        mul *= 10;
        j--;
      }
      const hasHeaders = c0 === CH_H;
      if (hasHeaders) this.hmsgs++;
      else this.msgs++;
      const end = nl + 1 + size + 2;
      const onMsg = this.handlers.onMsg;
      if (onMsg !== undefined) {
        const lineEnd = buf[nl - 1] === CR ? nl - 1 : nl;
        if (end <= buf.length) {
          onMsg(buf.subarray(start, lineEnd), buf.subarray(nl + 1, nl + 1 + size), hasHeaders);
        } else {
          this.capLine = Buffer.from(buf.subarray(start, lineEnd));
          this.capHeaders = hasHeaders;
          this.capParts = [];
          this.capNeed = size;
        }
      }
      return end;
    }
    if (c0 === CH_P) {
      const c1 = buf[start + 1];
      if (c1 === CH_I) {
        if (this.handlers.onPing) this.handlers.onPing();
      } else if (c1 === CH_O) {
        this.pongs++;
        this.handlers.onPong?.();
      }
      return nl + 1;
    }
    if (c0 === CH_MINUS) {
      this.errs++;
      this.handlers.onErr?.(buf.toString('latin1', start, nl).trim());
      return nl + 1;
    }
    if (c0 === CH_I) {
      this.handlers.onInfo?.(buf.subarray(start, nl));
      return nl + 1;
    }
    return nl + 1; // +OK and anything unknown
  }
}

/** Splits a control line (no CRLF) into its space-separated tokens, as latin1 strings. */
export function lineTokens(line: Buffer): string[] {
  return line
    .toString('latin1')
    .split(' ')
    .filter((t) => t.length > 0);
}

/** Where to connect, from a `nats://[user:pass@]host:port` URL. */
export type NatsAddress = ServerAddress;

/** Parses a NATS URL; the scheme may be omitted (`127.0.0.1:4222`). */
export function parseNatsUrl(url: string): NatsAddress {
  return parseServerUrl(url, 'nats', 4222);
}

/** A connected raw NATS socket, its scanner, and the server's INFO. */
export interface RawNats {
  socket: net.Socket;
  scanner: NatsScanner;
  info: Record<string, unknown>;
}

/**
 * Connects, answers INFO with CONNECT, and resolves after the first PONG (the server has accepted
 * the connection). Server PINGs are answered for the life of the socket. Bounded by `timeoutMs`.
 */
export function connectNats(url: string, name: string, timeoutMs: number): Promise<RawNats> {
  const addr = parseNatsUrl(url);
  return new Promise<RawNats>((resolve, reject) => {
    const socket = net.connect({ host: addr.host, port: addr.port });
    socket.setNoDelay(true);
    let settled = false;
    let info: Record<string, unknown> = {};
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`NATS connect to ${url} timed out after ${timeoutMs} ms`)), timeoutMs);
    const scanner = new NatsScanner();
    const pong = (): void => {
      socket.write(PONG);
    };
    scanner.handlers = {
      onPing: pong,
      onInfo(line) {
        try {
          info = JSON.parse(line.toString('utf8').slice(5)) as Record<string, unknown>;
        } catch {
          info = {};
        }
        const connect: Record<string, unknown> = {
          verbose: false,
          pedantic: false,
          headers: true,
          no_responders: true,
          protocol: 1,
          name,
          lang: 'herald-bench',
          version: '1',
        };
        if (addr.user !== undefined) connect['user'] = addr.user;
        if (addr.pass !== undefined) connect['pass'] = addr.pass;
        socket.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
      },
      onErr(text) {
        fail(new Error(`NATS server refused the connection: ${text}`));
      },
      onPong() {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // The role owns the socket now; a late 'error' (reset) is followed by 'close', which it handles.
        socket.on('error', () => undefined);
        scanner.handlers = { onPing: pong };
        resolve({ socket, scanner, info });
      },
    };
    socket.on('data', (d: Buffer) => scanner.feed(d));
    socket.once('error', (e) => fail(e));
    socket.once('close', () => fail(new Error(`NATS connection to ${url} closed during the handshake`)));
  });
}

/** Resolves on the next PONG after sending a PING: everything written before it was processed. */
export function flushNats(raw: RawNats, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const before = raw.scanner.pongs;
    const prev = raw.scanner.handlers.onPong;
    const timer = setTimeout(() => {
      raw.scanner.handlers.onPong = prev;
      reject(new Error(`no PONG within ${timeoutMs} ms`));
    }, timeoutMs);
    raw.scanner.handlers.onPong = () => {
      prev?.();
      if (raw.scanner.pongs > before) {
        clearTimeout(timer);
        raw.scanner.handlers.onPong = prev;
        resolve();
      }
    };
    raw.socket.write(PING);
  });
}
