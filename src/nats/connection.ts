import type { Socket } from 'node:net';
import type { Client, Message, Subscription } from '../core/message.js';
import { OutletState, type Outlet, type Producer, type Verdict } from '../core/backpressure.js';
import { NatsErrors, natsErrLine, type NatsProtocolError } from '../core/errors.js';
import { isValidLiteralSubject, isValidSubject } from '../core/subject.js';
import { PermissionChecker, type Authenticated, type Permissions } from '../core/auth.js';
import { reauthorize, verifyCurrent, type ConnectOptions } from './connection-auth.js';
import { goQuote } from './jetstream/gojson.js';
import { ParseError, Parser, type ParserHandler } from './parser.js';
import type { NatsDoor } from './server.js';
import { tlsDetails } from './tls.js';
import type { Router } from '../core/router.js';
import { GLOBAL_ACCOUNT } from '../core/accounts.js';

/** Smallest outbound buffer a connection allocates; grown to fit larger messages. */
const OUT_MIN = 16 * 1024;
/** Largest outbound buffer kept for the next turn once it has grown (bounds idle memory). */
const OUT_REUSE_MAX = 1 << 20;

const CRLF = Buffer.from('\r\n');
const PONG = Buffer.from('PONG\r\n');
const PING = Buffer.from('PING\r\n');
const OK = Buffer.from('+OK\r\n');
/** Header block of a no-responders status, as nats-server 2.9/2.10 sends it (specs/nats.md §1). */
const NO_RESPONDERS_HDR = Buffer.from('NATS/1.0 503\r\n\r\n');

/**
 * The JSON type of every field of nats-server's ClientOpts. nats-server decodes CONNECT with Go's
 * encoding/json into the connection's options: keys match case-insensitively, unknown keys are
 * ignored, `null` leaves a field as it was, and a value of the wrong type fails the decode (the
 * connection is closed without -ERR).
 */
const CONNECT_FIELDS: Readonly<Record<string, 'bool' | 'string' | 'int' | 'perm'>> = {
  echo: 'bool',
  verbose: 'bool',
  pedantic: 'bool',
  tls_required: 'bool',
  nkey: 'string',
  jwt: 'string',
  sig: 'string',
  auth_token: 'string',
  user: 'string',
  pass: 'string',
  name: 'string',
  lang: 'string',
  version: 'string',
  protocol: 'int',
  account: 'string',
  new_account: 'bool',
  headers: 'bool',
  no_responders: 'bool',
  import: 'perm',
  export: 'perm',
};

/** True when `v` decodes into nats-server's SubjectPermission: {allow, deny: []string}. */
function isSubjectPermission(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  for (const [key, list] of Object.entries(v as Record<string, unknown>)) {
    const name = key.toLowerCase();
    if ((name !== 'allow' && name !== 'deny') || list === null) continue;
    if (!Array.isArray(list) || !list.every((e) => e === null || typeof e === 'string')) return false;
  }
  return true;
}

/**
 * Merges one CONNECT argument into `into` as Go's json.Unmarshal would; returns false when Go
 * would report an error (not JSON, not an object or null, or a field of the wrong type).
 */
function mergeConnect(json: string, into: Record<string, unknown>): boolean {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return false;
  }
  if (v === null) return true;
  if (typeof v !== 'object' || Array.isArray(v)) return false;
  let ok = true;
  for (const [key, value] of Object.entries(v as Record<string, unknown>)) {
    const name = key.toLowerCase();
    // Own keys only: `constructor` or `__proto__` in CONNECT are unknown fields, not Object's.
    const kind = Object.hasOwn(CONNECT_FIELDS, name) ? CONNECT_FIELDS[name] : undefined;
    if (kind === undefined || value === null) continue;
    const fits =
      kind === 'bool'
        ? typeof value === 'boolean'
        : kind === 'string'
          ? typeof value === 'string'
          : kind === 'int'
            ? Number.isInteger(value)
            : isSubjectPermission(value);
    // Go keeps decoding after a type error and reports it at the end; the connection closes anyway.
    if (fits) into[name] = value;
    else ok = false;
  }
  return ok;
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
  | 'Authentication Failure'
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
export class NatsConnection implements Client, ParserHandler, Producer, Outlet {
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
  /** Round-trip time in ms: first estimated as accept → CONNECT, then server PING → PONG (nats-server client.go, processPong). */
  rttMs = 0;
  private rttStart = 0;
  /** What the router's backpressure keeps about this connection's output (src/core/backpressure.ts). */
  readonly outlet: OutletState;
  closed = false;
  closeReason: CloseReason | null = null;
  inMsgs = 0;
  inBytes = 0;
  outMsgs = 0;
  outBytes = 0;
  readonly subs = new Map<string, Subscription>();
  readonly ip: string;
  readonly port: number;
  /** The nonce this connection's INFO carried (nkey users sign it); '' when none was sent. */
  nonce = '';
  /** The authenticated user (/connz `authorized_user`); '' without authentication or for a token. */
  authUser = '';
  /** The user's permissions; null when it may do everything. */
  private perms: PermissionChecker | null = null;
  /** The account this connection is bound to (at its first accepted CONNECT) and that account's router. */
  account = GLOBAL_ACCOUNT;
  private router: Router;

  private readonly parser: Parser;
  /** Every CONNECT merges into these, as nats-server's do (so a later CONNECT {} changes nothing). */
  readonly connectOpts: ConnectOptions = { verbose: true, pedantic: true, echo: true };
  private out: Buffer = Buffer.allocUnsafe(OUT_MIN);
  /** Bytes the socket still held after the last flush (refreshed each flush and on 'drain'). */
  private socketPending = 0;
  /** Pending bytes past which the policy is consulted (the hot path compares one number). */
  private readonly stallAt: number;
  private outLen = 0;
  private dirty = false;
  /** True while the router holds this publisher's reads (pauseInput). */
  private heldByRouter = false;
  /** While a CONNECT's credentials are being checked (asynchronously: bcrypt runs on a worker),
   * reads that arrive are kept here in order and parsed after the verdict; null otherwise. */
  private authPending: Buffer[] | null = null;
  private authPendingBytes = 0;
  /** Aborted when this connection closes: drops its queued bcrypt compare (src/core/bcrypt-pool.ts). */
  readonly closing = new AbortController();

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly door: NatsDoor,
  ) {
    this.router = door.router;
    this.parser = new Parser(this, door.opts.maxControlLine);
    this.outlet = new OutletState(door.limitPolicy);
    this.stallAt = Math.min(door.limitPolicy.stallAt, door.limitPolicy.hardLimit, door.limitPolicy.softLimit);
    this.ip = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.rttStart = performance.now();
    socket.setNoDelay(true);
    socket.on('data', (buf) => this.onData(buf));
    socket.on('error', () => this.close('Read Error'));
    socket.on('drain', this.written);
    socket.on('close', () => this.close('Client Closed'));
  }

  /** The client said CONNECT `protocol: 1` or more: it understands INFO sent after the first (nats-server ClientProtoInfo). */
  get supportsAsyncInfo(): boolean {
    return (this.connectOpts.protocol ?? 0) >= 1;
  }

  /** TLS version and cipher for /connz (src/nats/tls.ts); null for a plaintext connection. */
  get tls(): { version: string; cipher: string } | null {
    return tlsDetails(this.socket);
  }

  /** Bytes queued for this connection and not yet taken by the kernel. */
  get pendingBytes(): number {
    return this.outLen + (this.socket.writableLength ?? 0);
  }

  /** True while a CONNECT waits for its credential verdict (reads are held, not parsed). */
  get verdictPending(): boolean {
    return this.authPending !== null;
  }

  /** Producer: the router holds this publisher by pausing its socket's reads (writes go on). */
  pauseInput(): void {
    this.heldByRouter = true;
    this.socket.pause();
  }

  resumeInput(): void {
    this.heldByRouter = false;
    if (!this.closed && this.authPending === null) this.socket.resume();
  }

  /** A socket write completed (or the socket drained): bytes made progress toward the peer. */
  private readonly written = (): void => {
    this.socketPending = this.socket.writableLength;
    this.door.router.backpressure.progressed(this, this.outlet, Date.now());
  };

  private onData(buf: Buffer): void {
    if (this.closed) return;
    if (this.authPending !== null) {
      // Reading goes on during the verdict so a client that hangs up is seen (and its compare
      // dropped); past AUTH_HOLD_BYTES the socket pauses instead.
      this.authPending.push(buf);
      this.authPendingBytes += buf.length;
      if (this.authPendingBytes > AUTH_HOLD_BYTES) this.socket.pause();
      return;
    }
    this.lastActivity = Date.now();
    const bp = this.door.router.backpressure;
    bp.begin(this);
    const err = this.parser.parse(buf);
    bp.end();
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
      case ParseError.ClientError:
        // nats-server logs a client's -ERR and closes without replying.
        this.close('Parse Error');
        break;
      default:
        // nats-server closes on malformed arguments without an -ERR.
        this.door.log.debug({ cid: this.id }, 'protocol violation: malformed arguments');
        this.close('Protocol Violation');
    }
  }

  // ---- ParserHandler ----

  onConnect(json: string): void {
    // Once closed (by an earlier op of this same read), the rest of the read is ignored, as
    // nats-server stops parsing at the first error.
    if (this.closed) return;
    const o = this.connectOpts;
    if (!mergeConnect(json, o as Record<string, unknown>)) {
      this.close('Protocol Violation');
      return;
    }
    this.verbose = o.verbose !== false;
    this.pedantic = o.pedantic !== false;
    this.echo = o.echo !== false;
    this.headers = o.headers === true;
    this.noResponders = o.no_responders === true;
    this.name = o.name ?? '';
    this.lang = o.lang ?? '';
    this.version = o.version ?? '';
    if (this.door.authRequired) {
      this.checkAuth(o);
      return;
    }
    this.finishConnect(o);
  }

  /** The rest of CONNECT, once authenticated: account, protocol and header checks, then +OK. */
  private finishConnect(o: ConnectOptions): void {
    // Naming an account in CONNECT is always refused by nats-server, with the same error.
    if ((o.account !== undefined && o.account !== '') || o.new_account === true) {
      this.fatal(NatsErrors.AuthorizationViolation, 'Authentication Failure');
      return;
    }
    if (o.protocol !== undefined && (o.protocol < 0 || o.protocol > 1)) {
      this.fatal(NatsErrors.BadClientProtocol, 'Bad Client Protocol Version');
      return;
    }
    if (this.noResponders && !this.headers) {
      this.fatal(NatsErrors.NoRespondersRequiresHeaders, 'No Responders Requires Headers');
      return;
    }
    const first = !this.connectReceived;
    this.connectReceived = true;
    if (this.rttMs === 0) this.rttMs = Math.max(performance.now() - this.rttStart, 1e-6);
    if (this.verbose) this.queue(OK);
    if (first) this.door.events?.connected(this);
  }

  /**
   * nats-server client.go processConnect → checkAuthentication: credentials are checked on every
   * CONNECT; a failure sends -ERR 'Authorization Violation' and closes (authViolation). The
   * secrets themselves are never logged. The check is asynchronous (a bcrypt compare runs on a
   * worker thread), so the parser is suspended and reads are held until the verdict: the client's
   * later operations run after it, in order, exactly as if the check had been synchronous. The
   * auth timeout still applies while the verdict is pending, as it does in nats-server. A reload
   * that lands meanwhile makes the check run again against the new settings (verifyCurrent).
   */
  private checkAuth(o: ConnectOptions): void {
    this.parser.suspend();
    this.authPending = [];
    this.authPendingBytes = 0;
    verifyCurrent(this, o).then(
      (who) => this.authVerdict(o, who),
      () => this.authVerdict(o, null),
    );
  }

  private authVerdict(o: ConnectOptions, who: Authenticated | null): void {
    const held = this.authPending ?? [];
    this.authPending = null;
    const rest = this.parser.resume();
    if (this.closed) return;
    if (who === null) {
      this.door.log.warn({ cid: this.id, ip: this.ip, user: o.user ?? o.nkey ?? '' }, 'authorization violation');
      this.fatal(NatsErrors.AuthorizationViolation, 'Authentication Failure');
      return;
    }
    // A client is bound to its user's account at its first CONNECT. A later CONNECT as a user of
    // another account is refused and closed, so permissions never change without the account
    // matching. nats-server re-binds the connection instead (client.go processConnect →
    // registerWithAccount); herald closes, which is the safe side (docs/security.md).
    const account = this.door.accounts?.get(who.account ?? GLOBAL_ACCOUNT);
    if (this.connectReceived && this.door.accounts !== null && (who.account ?? GLOBAL_ACCOUNT) !== this.account) {
      this.door.log.warn(
        { cid: this.id, ip: this.ip, user: who.user },
        'authorization violation: second CONNECT as a user of another account',
      );
      this.fatal(NatsErrors.AuthorizationViolation, 'Authentication Failure');
      return;
    }
    this.authUser = who.user;
    this.perms = who.permissions === null ? null : new PermissionChecker(who.permissions);
    // A repeated CONNECT keeps the subscriptions: the new checker must see them, or a wildcard SUB
    // that overlaps its deny list would stop being filtered (nats-server checks the deny list of
    // the permissions in force at every delivery). Second security review, R2-3.
    if (this.connectReceived && this.perms !== null)
      for (const sub of this.subs.values()) this.perms.canSubscribe(sub.subject, sub.queue);
    if (!this.connectReceived && account !== undefined) {
      this.account = account.name;
      this.router = account.router;
    }
    this.finishConnect(o);
    if (rest !== null) held.unshift(rest);
    for (const buf of held) {
      // A later CONNECT in the held bytes suspends again: keep the remainder for its verdict.
      const pending = this.authPending as Buffer[] | null;
      if (pending !== null) pending.push(buf);
      else this.onData(buf);
    }
    if (!this.closed && this.authPending === null && !this.heldByRouter) this.socket.resume();
  }

  /** Re-checks this connection against reloaded settings (src/nats/connection-auth.ts, reauthorize). */
  reauthorize(): Promise<void> {
    return reauthorize(this);
  }

  /** Applies a user's permissions (null = may do everything); returns the checker now in force. */
  setPermissions(p: Permissions | null): PermissionChecker | null {
    this.perms = p === null ? null : new PermissionChecker(p);
    return this.perms;
  }

  /** Removes one subscription (a reload took the permission to hold it away). */
  dropSubscription(sid: string, sub: Subscription): void {
    this.subs.delete(sid);
    this.router.unsubscribe(sub);
  }

  /**
   * nats-server parser.go: while authentication is pending, any operation other than CONNECT is
   * an authorization violation (sent, then the connection is closed). True when this closed it.
   */
  private awaitingAuth(): boolean {
    if (this.connectReceived || !this.door.authRequired) return false;
    this.fatal(NatsErrors.AuthorizationViolation, 'Authentication Failure');
    return true;
  }

  headersAllowed(): boolean {
    return this.headers;
  }

  maxPayload(): number {
    return this.door.opts.maxPayload;
  }

  onPub(subject: string, reply: string, headers: Buffer | null, payload: Buffer): void {
    if (this.closed || this.awaitingAuth()) return;
    const size = payload.length + (headers === null ? 0 : headers.length);
    this.inMsgs++;
    this.inBytes += size;
    if (this.pedantic && !isValidLiteralSubject(subject)) this.err(NatsErrors.InvalidPublishSubject);
    // nats-server reserves gateway-routed subjects and internal reply prefixes: the message is
    // dropped with a (non-fatal) permissions -ERR and no +OK.
    if (subject.length > GW_REPLY_PREFIX.length && subject.startsWith(GW_REPLY_PREFIX)) {
      this.queue(Buffer.from(natsErrLine(NatsErrors.PublishPermissionViolation, { subject: goQuote(subject) })));
      return;
    }
    if (reply !== '' && isReservedReply(reply)) {
      this.queue(Buffer.from(natsErrLine(NatsErrors.ReplyPermissionViolation, { reply: goQuote(reply) })));
      return;
    }
    // The account's mappings apply first, and the permission is the destination's (review 3, R3-5).
    const to = this.router.mapPublish(subject);
    if (to !== null && this.perms !== null && !this.perms.canPublish(to, Date.now())) {
      // nats-server client.go pubPermissionViolation: not fatal, the message is dropped, no +OK.
      this.door.log.debug({ cid: this.id, user: this.authUser, subject: to }, 'publish permission violation');
      this.queue(Buffer.from(natsErrLine(NatsErrors.PublishPermissionViolation, { subject: goQuote(to) })));
      return;
    }
    if (this.verbose) this.queue(OK);
    const n = to === null ? 0 : this.router.publish({ subject: to, reply, headers, payload }, this);
    if (n === 0 && reply !== '' && this.noResponders) this.sendNoResponders(reply);
  }

  onSub(subject: string, queue: string | null, sid: string): void {
    // A subscription made after close() would never be removed from the router.
    if (this.closed || this.awaitingAuth()) return;
    // specs/nats.md §1: a repeated sid is ignored, before any check of the subject (nats-server
    // validates only when it inserts). A sid whose subscription is gone (auto-unsubscribed) is free.
    const es = this.subs.get(sid);
    if (es === undefined || es.closed) {
      if (!isValidSubject(subject) || (queue !== null && !isValidQueue(queue))) {
        this.err(NatsErrors.InvalidSubject);
        return;
      }
      if (this.perms !== null && !this.perms.canSubscribe(subject, queue)) {
        // nats-server client.go subPermissionViolation: not fatal, no +OK.
        this.door.log.debug({ cid: this.id, user: this.authUser, subject, queue }, 'subscription permission violation');
        const e = queue === null ? NatsErrors.SubscribePermissionViolation : NatsErrors.QueueSubscribePermissionViolation;
        this.queue(Buffer.from(natsErrLine(e, { subject: goQuote(subject), queue: goQuote(queue ?? '') })));
        return;
      }
      const maxSubs = this.door.opts.maxSubs;
      if (maxSubs > 0 && this.subs.size >= maxSubs) {
        // nats-server's policy when max_subs is set: refuse this SUB, keep the connection.
        this.err(NatsErrors.MaxSubscriptionsExceeded);
        return;
      }
      this.subs.set(sid, this.router.subscribe(this, subject, queue, sid));
    }
    if (this.verbose) this.queue(OK);
  }

  onUnsub(sid: string, max: number): void {
    if (this.closed || this.awaitingAuth()) return;
    let sub = this.subs.get(sid);
    if (sub !== undefined && sub.closed) {
      this.subs.delete(sid);
      sub = undefined;
    }
    if (sub !== undefined) {
      if (max > 0 && max > sub.delivered) {
        sub.max = max;
      } else {
        this.subs.delete(sid);
        this.router.unsubscribe(sub);
      }
    }
    if (this.verbose) this.queue(OK);
  }

  onPing(): void {
    if (this.awaitingAuth()) return;
    this.queue(PONG);
  }

  onPong(): void {
    if (this.awaitingAuth()) return;
    this.pingsOut = 0;
    this.rttMs = Math.max(performance.now() - this.rttStart, 1e-6);
  }

  // ---- Client (delivery) ----

  deliver(sub: Subscription, msg: Message): boolean {
    if (this.closed) return false;
    const perms = this.perms;
    if (perms !== null) {
      // nats-server deliverMsg: the subscribe deny list filters wildcard subscriptions, and a
      // reply subject seen here may be answered under allow_responses.
      if (!perms.canDeliver(msg.subject)) return false;
      if (msg.reply !== '' && perms.tracksReplies) perms.sawReply(msg.reply, Date.now());
    }
    // The router auto-unsubscribes once `delivered` (counted after this returns) reaches `max`:
    // free the sid now, as nats-server does, so it can be reused and /connz does not count it.
    if (sub.max > 0 && sub.delivered + 1 >= sub.max && this.subs.get(sub.sid) === sub) this.subs.delete(sub.sid);
    this.writeMsg(sub, msg);
    return true;
  }

  /**
   * Queues one MSG/HMSG for `sub` (headers dropped for a client without header support). The
   * ` <subject> <sid> ` part is cached on the subscription; the rest is written byte by byte.
   */
  private writeMsg(sub: Subscription, msg: Message): void {
    const hdr = this.headers ? msg.headers : null;
    const payload = msg.payload;
    const plen = payload.length;
    const hlen = hdr === null ? 0 : hdr.length;
    const total = plen + hlen;
    let prefix = sub.wirePrefix;
    if (sub.wireSubject !== msg.subject || prefix === null) {
      prefix = Buffer.from(` ${msg.subject} ${sub.sid} `);
      sub.wirePrefix = prefix;
      sub.wireSubject = msg.subject;
    }
    const reply = msg.reply;
    // verb + prefix + reply (≤ 3 bytes per UTF-16 unit) + two sizes + CRLFs
    this.reserve(5 + prefix.length + reply.length * 3 + 24 + total + 4);
    const out = this.out;
    let pos = this.outLen;
    if (hdr !== null) out[pos++] = 0x48; // H
    out[pos++] = 0x4d; // M
    out[pos++] = 0x53; // S
    out[pos++] = 0x47; // G
    pos = copySmall(prefix, out, pos);
    if (reply !== '') {
      pos += out.write(reply, pos, 'utf8');
      out[pos++] = 0x20;
    }
    if (hdr !== null) {
      pos = writeDecimal(out, pos, hlen);
      out[pos++] = 0x20;
    }
    pos = writeDecimal(out, pos, total);
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
    if (hdr !== null) pos = copySmall(hdr, out, pos);
    pos = copySmall(payload, out, pos);
    out[pos++] = 0x0d;
    out[pos++] = 0x0a;
    this.outLen = pos;
    this.outMsgs++;
    this.outBytes += total;
    this.afterQueue();
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
    this.rttStart = performance.now();
    this.pingsOut++;
    this.queue(PING);
  }

  private sendNoResponders(reply: string): void {
    // specs/nats.md §1 "No-responders": the status goes to the publisher's own subscription that
    // matches the reply subject (e.g. the mux inbox `_INBOX.<nuid>.*`). As in nats-server: only
    // plain subscriptions count, the first in nats-server's match order wins, and the status is
    // queued outside delivery accounting (it does not count toward an UNSUB max).
    const r = this.router.sublist.match(reply);
    const lastToken = countTokens(reply) - 1;
    let sub: Subscription | undefined;
    for (const s of r.plain) {
      if (s.client !== this || s.closed) continue;
      if (sub === undefined || natsMatchesFirst(s.subject, sub.subject, lastToken)) sub = s;
    }
    if (sub === undefined) return;
    this.writeMsg(sub, { subject: reply, reply: '', headers: NO_RESPONDERS_HDR, payload: Buffer.alloc(0) });
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
    const pending = this.outLen + this.socketPending;
    const bp = this.door.router.backpressure;
    if (pending > this.stallAt || bp.overBudget(this.outlet, pending))
      this.overLimit(bp.queued(this, this.outlet, pending), pending);
  }

  /** Applies the router's verdict on this connection's pending bytes (src/core/backpressure.ts). */
  overLimit(v: Verdict, pending: number): void {
    if (v === 'ok' || v === 'hold') return;
    // specs/nats.md §1 "Slow consumer": close the socket; no -ERR is sent.
    this.door.slowConsumers++;
    if (v === 'close-stalled') {
      this.door.log.warn(
        { cid: this.id, name: this.name, pending },
        'slow consumer: write deadline exceeded, closing connection',
      );
      this.close('Slow Consumer (Write Deadline)');
    } else {
      this.door.log.warn({ cid: this.id, name: this.name, pending }, 'slow consumer detected, closing connection');
      this.outLen = 0;
      this.close('Slow Consumer (Pending Bytes)');
    }
  }

  /** Writes everything queued this turn in one socket write. Called by the door once per turn. */
  flush(): void {
    this.dirty = false;
    if (this.outLen === 0 || this.closed) return;
    const out = this.out;
    const chunk = out.subarray(0, this.outLen);
    this.outLen = 0;
    // Bytes start to be pending now: the no-progress clock of the write deadline starts here.
    if (this.socketPending === 0) this.outlet.lastProgress = Date.now();
    this.socket.write(chunk, this.written);
    const queued = this.socket.writableLength;
    this.socketPending = queued;
    if (queued === 0) {
      // The kernel took every byte during write(): the Buffer is free to reuse (unless it grew big).
      if (out.length > OUT_REUSE_MAX) this.out = Buffer.allocUnsafe(OUT_REUSE_MAX);
    } else {
      // The socket holds on to `chunk` until it is written: start a fresh Buffer.
      this.out = Buffer.allocUnsafe(Math.max(OUT_MIN, Math.min(out.length, OUT_REUSE_MAX)));
    }
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
    this.closing.abort();
    for (const sub of this.subs.values()) this.router.unsubscribe(sub);
    this.subs.clear();
    this.door.router.backpressure.outletClosed(this, this.outlet);
    if (reason.startsWith('Slow Consumer')) {
      // Its queued bytes will never be read in time: drop them and the socket now.
      this.socket.destroy();
    } else {
      this.socket.end();
      // Read on (and ignore) until the peer's end: a socket paused for an auth verdict or by
      // backpressure would otherwise never see it and hold the listener's close().
      this.socket.resume();
      // Do not wait forever for a peer that stopped reading.
      if (reason !== 'Client Closed') setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.door.onClosed(this);
    if (this.connectReceived) this.door.events?.disconnected(this);
  }
}

/** Bytes a client may send while its CONNECT verdict is pending before its socket is paused:
 * enough for a pipelined burst, small enough that a slow bcrypt check cannot be made to buffer much. */
const AUTH_HOLD_BYTES = 64 * 1024;

/** Subjects with this prefix are nats-server's gateway-routed replies; clients may not publish to them. */
const GW_REPLY_PREFIX = '_GR_.';

/**
 * nats-server's isReservedReply: service-import replies (`_R_.`), JetStream acks (`$JS.ACK.`) and
 * gateway-routed replies may not be used as a client's reply subject.
 */
function isReservedReply(reply: string): boolean {
  if (reply.startsWith('_R_.')) return true;
  if (reply.length > 8 && reply.startsWith('$JS.ACK.')) return true;
  return reply.length > GW_REPLY_PREFIX.length && reply.startsWith(GW_REPLY_PREFIX);
}

/** Below this many bytes a JS loop copies faster than a native Buffer.copy call. */
const SMALL_COPY = 64;

/** Copies `src` into `dst` at `pos`; returns the position after it. */
function copySmall(src: Buffer, dst: Buffer, pos: number): number {
  const n = src.length;
  if (n >= SMALL_COPY) return pos + src.copy(dst, pos);
  for (let i = 0; i < n; i++) dst[pos + i] = src[i];
  return pos + n;
}

/** Writes the decimal digits of a non-negative integer `v`; returns the position after them. */
function writeDecimal(out: Buffer, pos: number, v: number): number {
  if (v < 10) {
    out[pos] = 0x30 + v;
    return pos + 1;
  }
  let digits = 1;
  for (let t = v; t >= 10; t = Math.floor(t / 10)) digits++;
  let end = pos + digits;
  for (let t = v; end > pos; t = Math.floor(t / 10)) out[--end] = 0x30 + (t % 10);
  return pos + digits;
}

/** Number of `.`-separated tokens in a subject. */
function countTokens(subject: string): number {
  let n = 1;
  for (let i = 0; i < subject.length; i++) if (subject.charCodeAt(i) === 0x2e) n++;
  return n;
}

/**
 * True when nats-server's sublist lists pattern `a` before pattern `b` in the match result of a
 * subject whose last token has index `lastToken` (both patterns match it). Its trie walk adds, at
 * each level, the `>` node first, then what lies under `*`, then follows the literal token; at the
 * last level the literal node comes before `*`. Identical patterns keep the earlier one.
 */
function natsMatchesFirst(a: string, b: string, lastToken: number): boolean {
  const at = a.split('.');
  const bt = b.split('.');
  for (let j = 0; j < at.length && j < bt.length; j++) {
    const x = at[j];
    const y = bt[j];
    if (x === y) continue;
    if (x === '>') return true;
    if (y === '>') return false;
    // One is `*`, the other the literal token.
    return j === lastToken ? y === '*' : x === '*';
  }
  return false;
}

/** A queue group name: one token, no whitespace (nats-server treats it as a plain string). */
function isValidQueue(q: string): boolean {
  for (let i = 0; i < q.length; i++) {
    const c = q.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a) return false;
  }
  return q.length > 0;
}
