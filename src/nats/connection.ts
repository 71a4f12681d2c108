import type { Socket } from 'node:net';
import type { Client, Message, Subscription } from '../core/message.js';
import { NatsErrors, natsErrLine, type NatsProtocolError } from '../core/errors.js';
import { isValidLiteralSubject, isValidSubject } from '../core/subject.js';
import { ParseError, Parser, type ParserHandler } from './parser.js';
import type { NatsDoor } from './server.js';

/** Smallest outbound buffer a connection allocates; grown to fit larger messages. */
const OUT_MIN = 16 * 1024;
/** nats-server stalls a fast producer once a consumer has half its pending limit queued. */
const STALL_FRACTION = 0.5;
/** How long a producer is paused per stall (nats-server: 2–5 ms). */
export const STALL_MS = 5;

const CRLF = Buffer.from('\r\n');
const PONG = Buffer.from('PONG\r\n');
const PING = Buffer.from('PING\r\n');
const OK = Buffer.from('+OK\r\n');
/** Header block of a no-responders status, as nats-server 2.9/2.10 sends it (specs/nats.md §1). */
const NO_RESPONDERS_HDR = Buffer.from('NATS/1.0 503\r\n\r\n');

/** CONNECT fields herald reads (specs/nats.md §1 "Handshake"). Missing booleans default to true. */
interface ConnectOptions {
  verbose?: boolean;
  pedantic?: boolean;
  echo?: boolean;
  headers?: boolean;
  no_responders?: boolean;
  protocol?: number;
  name?: string;
  lang?: string;
  version?: string;
  user?: string;
  pass?: string;
  auth_token?: string;
}

/** Why a connection was closed, as /connz reports it (nats-server's closed-state reasons). */
export type CloseReason =
  | 'Client Closed'
  | 'Server Shutdown'
  | 'Parse Error'
  | 'Protocol Violation'
  | 'Maximum Payload Exceeded'
  | 'Maximum Control Line Exceeded'
  | 'Slow Consumer (Pending Bytes)'
  | 'Slow Consumer (Write Deadline)'
  | 'Stale Connection'
  | 'Authentication Timeout'
  | 'Maximum Connections Exceeded'
  | 'Bad Client Protocol Version'
  | 'No Responders Requires Headers'
  | 'Read Error'
  | 'Write Error';

/**
 * One NATS client connection: parses its bytes, applies each operation to the router, and queues
 * deliveries into one outbound Buffer that is written once per event-loop turn. Guarantees: ops
 * are applied in order, so a PONG is queued only after every earlier op's deliveries (the flush
 * contract); outbound bytes are bounded by `maxPending` (past it the connection is closed as a
 * slow consumer). Costs one Buffer copy of each delivered payload into the outbound buffer.
 */
export class NatsConnection implements Client, ParserHandler {
  readonly internal = false;
  echo = true;
  verbose = true;
  pedantic = true;
  headers = false;
  noResponders = false;
  connectReceived = false;
  name = '';
  lang = '';
  version = '';
  readonly start = Date.now();
  lastActivity = Date.now();
  pingsOut = 0;
  /** When the server last sent this connection a PING. */
  lastPingAt = 0;
  /** When the oldest unwritten outbound byte was queued (0 = nothing pending), for write deadlines. */
  pendingSince = 0;
  closed = false;
  closeReason: CloseReason | null = null;
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  readonly subs = new Map<string, Subscription>();
  readonly ip: string;
  readonly port: number;

  private readonly parser: Parser;
  private out: Buffer = Buffer.allocUnsafe(OUT_MIN);
  private outLen = 0;
  private dirty = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly door: NatsDoor,
  ) {
    this.parser = new Parser(this, door.opts.maxControlLine);
    this.ip = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (buf) => this.onData(buf));
    socket.on('error', () => this.close('Read Error'));
    socket.on('close', () => this.close('Client Closed'));
  }

  /** Bytes queued for this connection and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.outLen + (this.socket.writableLength ?? 0);
  }

  private onData(buf: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    const door = this.door;
    door.currentPublisher = this;
    const err = this.parser.parse(buf);
    door.currentPublisher = null;
    if (err !== 0 && !this.closed) this.onParseError(err);
  }

  private onParseError(err: number): void {
    switch (err) {
      case ParseError.UnknownOperation:
        this.fatal(NatsErrors.UnknownProtocolOperation, 'Parse Error');
        break;
      case ParseError.MaxControlLine:
        this.fatal(NatsErrors.MaxControlLineExceeded, 'Maximum Control Line Exceeded');
        break;
      case ParseError.MaxPayload:
        this.fatal(NatsErrors.MaximumPayloadViolation, 'Maximum Payload Exceeded');
        break;
      default:
        // nats-server closes on malformed arguments without an -ERR.
        this.door.log.debug({ cid: this.id }, 'protocol violation: malformed arguments');
        this.close('Protocol Violation');
    }
  }

  // ---- ParserHandler ----

  onConnect(json: string): void {
    let o: ConnectOptions;
    try {
      o = JSON.parse(json) as ConnectOptions;
      if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new Error('not an object');
    } catch {
      this.close('Protocol Violation');
      return;
    }
    this.verbose = o.verbose !== false;
    this.pedantic = o.pedantic !== false;
    this.echo = o.echo !== false;
    this.headers = o.headers === true;
    this.noResponders = o.no_responders === true;
    this.name = typeof o.name === 'string' ? o.name : '';
    this.lang = typeof o.lang === 'string' ? o.lang : '';
    this.version = typeof o.version === 'string' ? o.version : '';
    // The seam for authentication (a later issue): credentials in `o` are checked here, and a
    // failure sends -ERR 'Authorization Violation' and closes.
    if (typeof o.protocol === 'number' && (o.protocol < 0 || o.protocol > 1)) {
      this.fatalText('client protocol not supported', 'Bad Client Protocol Version');
      return;
    }
    if (this.noResponders && !this.headers) {
      this.fatal(NatsErrors.NoRespondersRequiresHeaders, 'No Responders Requires Headers');
      return;
    }
    this.connectReceived = true;
    if (this.verbose) this.queue(OK);
  }

  headersAllowed(): boolean {
    return this.headers;
  }

  maxPayload(): number {
    return this.door.opts.maxPayload;
  }

  onPub(subject: string, reply: string, headers: Buffer | null, payload: Buffer): void {
    if (this.closed) return;
    const size = payload.length + (headers === null ? 0 : headers.length);
    this.inMsgs++;
    this.inBytes += size;
    if (this.pedantic && !isValidLiteralSubject(subject)) this.err(NatsErrors.InvalidPublishSubject);
    if (this.verbose) this.queue(OK);
    const msg: Message = { subject, reply, headers, payload };
    const n = this.door.router.publish(msg, this);
    if (n === 0 && reply !== '' && this.noResponders) this.sendNoResponders(reply);
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    if (!isValidSubject(subject) || (queue !== null && !isValidQueue(queue))) {
      this.err(NatsErrors.InvalidSubject);
      return;
    }
    if (!this.subs.has(sid)) {
      // specs/nats.md §1: a repeated sid is ignored.
      this.subs.set(sid, this.door.router.subscribe(this, subject, queue, sid));
    }
    if (this.verbose) this.queue(OK);
  }

  onUnsub(sid: string, max: number): void {
    const sub = this.subs.get(sid);
    if (sub !== undefined) {
      if (max > 0 && max > sub.delivered) {
        sub.max = max;
      } else {
        this.subs.delete(sid);
        this.door.router.unsubscribe(sub);
      }
    }
    if (this.verbose) this.queue(OK);
  }

  onPing(): void {
    this.queue(PONG);
  }

  onPong(): void {
    this.pingsOut = 0;
  }

  // ---- Client (delivery) ----

  deliver(sub: Subscription, msg: Message): boolean {
    if (this.closed) return false;
    const hdr = msg.headers;
    const plen = msg.payload.length;
    const hlen = hdr === null ? 0 : hdr.length;
    const total = plen + hlen;
    let line: string;
    if (hdr === null) {
      line = msg.reply === '' ? `MSG ${msg.subject} ${sub.sid} ${total}\r\n` : `MSG ${msg.subject} ${sub.sid} ${msg.reply} ${total}\r\n`;
    } else if (this.headers) {
      line =
        msg.reply === ''
          ? `HMSG ${msg.subject} ${sub.sid} ${hlen} ${total}\r\n`
          : `HMSG ${msg.subject} ${sub.sid} ${msg.reply} ${hlen} ${total}\r\n`;
    } else {
      // A client without header support gets the payload only, as nats-server does.
      line = msg.reply === '' ? `MSG ${msg.subject} ${sub.sid} ${plen}\r\n` : `MSG ${msg.subject} ${sub.sid} ${msg.reply} ${plen}\r\n`;
    }
    const withHdr = hdr !== null && this.headers;
    const need = line.length * 3 + (withHdr ? total : plen) + 2;
    this.reserve(need);
    const out = this.out;
    let pos = this.outLen;
    pos += out.write(line, pos, 'utf8');
    if (withHdr) pos += hdr.copy(out, pos);
    pos += msg.payload.copy(out, pos);
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
    this.outLen = pos;
    this.outMsgs++;
    this.outBytes += withHdr ? total : plen;
    this.afterQueue();
    return true;
  }

  // ---- output ----

  /** Queues raw protocol bytes. */
  queue(b: Buffer): void {
    if (this.closed) return;
    this.reserve(b.length);
    this.outLen += b.copy(this.out, this.outLen);
    this.afterQueue();
  }

  sendPing(): void {
    this.pingsOut++;
    this.queue(PING);
  }

  private sendNoResponders(reply: string): void {
    // specs/nats.md §1 "No-responders": the status goes to the publisher's own subscription that
    // matches the reply subject (e.g. the mux inbox `_INBOX.<nuid>.*`).
    const r = this.door.router.sublist.match(reply);
    let sub: Subscription | undefined;
    for (const s of r.plain) if (s.client === this && !s.closed) sub = s;
    if (sub === undefined) {
      for (const g of r.queues) for (const s of g) if (s.client === this && !s.closed) sub = s;
    }
    if (sub === undefined) return;
    this.deliver(sub, { subject: reply, reply: '', headers: NO_RESPONDERS_HDR, payload: Buffer.alloc(0) });
    if (sub.max > 0 && ++sub.delivered >= sub.max) {
      this.subs.delete(sub.sid);
      this.door.router.unsubscribe(sub);
    }
  }

  private reserve(n: number): void {
    if (this.outLen + n <= this.out.length) return;
    const nb = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.outLen + n, OUT_MIN));
    this.out.copy(nb, 0, 0, this.outLen);
    this.out = nb;
  }

  private afterQueue(): void {
    if (!this.dirty) {
      this.dirty = true;
      this.door.markDirty(this);
    }
    const pending = this.pendingBytes;
    const max = this.door.opts.maxPending;
    if (pending > max) {
      // specs/nats.md §1 "Slow consumer": close the socket; no -ERR is sent.
      this.door.slowConsumers++;
      this.door.log.warn({ cid: this.id, name: this.name, pending }, 'slow consumer detected, closing connection');
      this.outLen = 0;
      this.close('Slow Consumer (Pending Bytes)');
    } else if (pending > max * STALL_FRACTION) {
      this.door.stallPublisher(this);
    }
  }

  /** Writes everything queued this turn in one socket write. Called by the door once per turn. */
  flush(): void {
    this.dirty = false;
    if (this.outLen === 0 || this.closed) return;
    const chunk = this.out.subarray(0, this.outLen);
    // The written Buffer now belongs to the socket; start a fresh one for the next turn.
    this.out = Buffer.allocUnsafe(Math.max(OUT_MIN, Math.min(this.out.length, 1 << 20)));
    this.outLen = 0;
    if (this.pendingSince === 0) this.pendingSince = Date.now();
    this.socket.write(chunk);
    if (this.socket.writableLength === 0) this.pendingSince = 0;
  }

  /** Sends -ERR for a non-fatal error. */
  err(e: NatsProtocolError): void {
    this.queue(Buffer.from(natsErrLine(e)));
  }

  /** Sends -ERR, flushes, and closes. */
  fatal(e: NatsProtocolError, reason: CloseReason): void {
    this.fatalText(e.text, reason);
  }

  private fatalText(text: string, reason: CloseReason): void {
    if (this.closed) return;
    this.queue(Buffer.from(`-ERR '${text}'\r\n`));
    this.close(reason);
  }

  /** Closes the connection: removes its subscriptions, flushes what is queued, ends the socket. */
  close(reason: CloseReason): void {
    if (this.closed) return;
    if (this.outLen > 0) this.flush();
    this.closed = true;
    this.closeReason = reason;
    for (const sub of this.subs.values()) this.door.router.unsubscribe(sub);
    this.subs.clear();
    if (reason.startsWith('Slow Consumer')) {
      // Its queued bytes will never be read in time: drop them and the socket now.
      this.socket.destroy();
    } else {
      this.socket.end();
      // Do not wait forever for a peer that stopped reading.
      if (reason !== 'Client Closed') setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.door.onClosed(this);
  }
}

/** A queue group name: one token, no whitespace (nats-server treats it as a plain string). */
function isValidQueue(q: string): boolean {
  for (let i = 0; i < q.length; i++) {
    const c = q.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return false;
  }
  return q.length > 0;
}
