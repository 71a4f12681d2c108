import type { Socket } from 'node:net';
import type { Client, Message, Subscription } from '../core/message.js';
import { OutletState, type Outlet, type Producer, type Verdict } from '../core/backpressure.js';
import { RedisErrors, redisError } from '../core/errors.js';
import { RespParser, RespParseError, sameBytes } from './parser.js';
import { RespWriter } from './writer.js';
import type { RespDoor } from './server.js';
import { isAdminCommand, type CommandSpec } from './commands/spec.js';
import { NOT_QUEUED, discardTransaction, unwatchAll, type MultiState, type WatchState } from './commands/transactions.js';
import { PermissionChecker, type Permissions } from '../core/auth.js';
import { ReplyBarrier } from './reply-barrier.js';

/**
 * Replies queued for a client past which herald stops reading its requests until half have
 * drained. Redis sets no limit for normal clients (`client-output-buffer-limit normal 0 0 0`), so
 * a client that pipelines without reading grows Redis without bound; herald uses TCP backpressure
 * instead. 16 MB is far above any pipeline a real client keeps in flight.
 */
export const REPLY_PAUSE_BYTES = 16 * 1024 * 1024;
/**
 * While an earlier write still sits in the socket (the kernel buffer was full), new output stays in
 * this connection's Buffer up to this many bytes and leaves in one write when the socket drains:
 * one syscall per drain instead of one queued write per turn, which is what a subscriber that
 * falls behind costs most (measured: docs/redis.md, "Speed"). Far below the pubsub soft limit, so
 * the output-buffer policy sees the same bytes either way (it counts both).
 */
export const COALESCE_BYTES = 1024 * 1024;
/** Longest command or subcommand name echoed in an unknown-command error (Redis `%.128s`). */
const ERR_NAME_MAX = 128;

/**
 * One Redis client connection: parses requests (src/resp/parser.ts), dispatches them through the
 * command table, and queues replies and Pub/Sub messages in one output Buffer that the door writes
 * once per event-loop turn. Implements the router's Client (Pub/Sub delivery), Producer (a
 * publisher the router may hold) and Outlet (a subscriber whose pending bytes the
 * `client-output-buffer-limit pubsub` policy watches).
 *
 * Channel names are carried as latin1 strings (one character per byte), so any byte sequence is a
 * channel and round-trips exactly; ASCII names are the same strings a NATS client uses, which is
 * what makes one subject space (docs/redis.md, "Channels and subjects").
 * Costs: the parser, a 16 KiB output Buffer, and two Maps while subscribed.
 */
export class RespConnection implements Client, Producer, Outlet {
  readonly echo = true;
  readonly writer = new RespWriter();
  /** The output-buffer policy's state; renewed from CONFIG each time the client enters Pub/Sub
   * mode, as Redis applies `client-output-buffer-limit` changes to existing clients. */
  outlet: OutletState;
  /** Pending bytes past which the policy is consulted (the hot path compares one number). */
  private checkAt = Infinity;
  readonly start = Date.now();
  readonly ip: string;
  readonly port: number;
  readonly laddr: string;
  /** Exact channel subscriptions and glob pattern subscriptions, by name (insertion order). */
  readonly channels = new Map<string, Subscription>();
  readonly patterns = new Map<string, Subscription>();
  /** Shard channels (SSUBSCRIBE), door-local: see RespDoor.shardSubs. */
  readonly shardChannels = new Set<string>();
  /** `smessage` frame heads up to the payload, per shard channel, in the current protocol. */
  readonly shardPrefixes = new Map<string, Buffer>();
  name = '';
  libName = '';
  libVer = '';
  db = 0;
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  closed = false;
  /** Set by QUIT and protocol errors: finish this reply, then close (Redis CLOSE_AFTER_REPLY). */
  private closeAfterReply = false;
  private readonly parser: RespParser;
  private dirty = false;
  private socketPending = 0;
  /** While this connection's own command runs, messages it publishes to itself wait here, so
   * their pushes follow the command's reply (Redis 7.2+, specs/redis.md §2.2). */
  private executing = false;
  private deferred: (() => void)[] | null = null;
  /** Set while an XREAD/XREADGROUP BLOCK waits; later pipelined commands are held until it is
   * answered, as Redis processes nothing else for a blocked client (blocked.c). */
  blocked: { cancel(): void } | null = null;
  private held: Buffer[][] = [];
  /** Reading paused because this client's own replies piled up (REPLY_PAUSE_BYTES). */
  private selfPaused = false;
  /** MULTI state (null outside a transaction) and WATCHed keys (null when none): commands/transactions.ts. */
  multi: MultiState | null = null;
  watching: WatchState | null = null;
  /** True while EXEC runs its queue: blocking commands must not block (Redis CLIENT_DENY_BLOCKING). */
  inExec = false;
  /** Logged in (Redis c->authenticated), as whom (CLIENT LIST `user=`), and that user's subject
   * permissions (null: everything allowed). */
  authed = true;
  user = 'default';
  perms: PermissionChecker | null = null;
  /** While an asynchronous step (a bcrypt AUTH) is pending, later commands wait here, copied,
   * and run in order once it settles; `resumeWith` finishes the interrupted step (EXEC's queue). */
  private suspended = false;
  private backlog: Buffer[][] = [];
  /** Aborted when this connection closes: drops its queued bcrypt compare (src/core/bcrypt-pool.ts). */
  readonly closing = new AbortController();
  resumeWith: (() => void) | null = null;
  /** Output waiting for the keyspace log (src/resp/reply-barrier.ts); made on first need. */
  private barrier: ReplyBarrier | null = null;
  /** Command replies queued since the last flush (each becomes one error if the log fails). */
  private replies = 0;
  /** The last command name as sent (a copy) and its table entry (resolve's one-entry cache). */
  private lastName: Buffer | null = null;
  private lastSpec: CommandSpec | null = null;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    readonly door: RespDoor,
  ) {
    this.parser = new RespParser(this);
    this.outlet = new OutletState(door.pubsubPolicy);
    this.ip = socket.remoteAddress ?? '';
    this.port = socket.remotePort ?? 0;
    this.laddr = `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
    this.resetAuth();
    socket.setNoDelay(true);
    socket.on('data', (buf) => this.onData(buf));
    socket.on('error', () => this.close());
    socket.on('drain', this.written);
    socket.on('close', () => this.close());
  }

  get addr(): string {
    return `${this.ip}:${this.port}`;
  }

  /** Called when the first channel or pattern is added: the pubsub output-buffer class applies. */
  enterPubsub(): void {
    const p = this.door.pubsubPolicy;
    this.outlet = new OutletState(p);
    this.checkAt = Math.min(p.hardLimit, p.softLimit);
  }

  /** Called when the last channel or pattern is gone: the normal class (no limit) applies. */
  leavePubsub(): void {
    this.checkAt = Infinity;
  }

  /** Leaves every channel and pattern without events (RESET, close). */
  dropSubscriptions(): void {
    const router = this.door.router;
    for (const sub of this.channels.values()) router.unsubscribe(sub);
    for (const sub of this.patterns.values()) router.unsubscribe(sub);
    this.door.pubsubRemoved([...this.channels.keys()], [...this.patterns.keys()]);
    for (const ch of this.shardChannels) this.door.shardRemoved(this, ch);
    this.channels.clear();
    this.patterns.clear();
    this.shardChannels.clear();
    this.shardPrefixes.clear();
    this.leavePubsub();
  }

  /** Channels + patterns: the count in (un)subscribe and p(un)subscribe events. */
  get subscriptionCount(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Pub/Sub mode (RESP2 subscribed context, the pubsub output-buffer class): any channel,
   * pattern or shard channel. */
  get inPubsub(): boolean {
    return this.channels.size + this.patterns.size + this.shardChannels.size > 0;
  }

  get pendingBytes(): number {
    return this.writer.len + this.socket.writableLength + (this.barrier?.heldBytes ?? 0);
  }

  pauseInput(): void {
    this.socket.pause();
  }

  resumeInput(): void {
    if (!this.closed && !this.selfPaused && !this.suspended && this.blocked === null) this.socket.resume();
  }

  // ---- authentication (src/resp/commands/auth.ts) ----

  /** The state of a new connection (and after RESET): logged in as `default` unless a login is
   * required; herald's `no_auth_user`, when set and no `requirepass`, stands in. */
  resetAuth(): void {
    const d = this.door;
    this.user = 'default';
    this.perms = null;
    this.authed = !d.authRequired;
    this.parser.unauthenticated = !this.authed;
    const nau = d.auth.noAuthUser;
    if (!this.authed && nau !== null && d.requirepass === '') {
      const u = d.auth.users.find((x) => !x.nkey && x.name === nau);
      // Only a `$G` user: the Redis door serves the global account (see commands/auth.ts login).
      if (u !== undefined && (u.account === undefined || u.account === '$G')) this.loggedIn(u.name, u.permissions);
    }
  }

  /** A successful login as `user` with `permissions` (null: all allowed). */
  loggedIn(user: string, permissions: Permissions | null): void {
    this.authed = true;
    this.parser.unauthenticated = false;
    this.user = user;
    this.perms = permissions === null ? null : new PermissionChecker(permissions);
  }

  /**
   * Runs `then` with `r`'s value: at once for a plain value; for a Promise, this client's later
   * commands wait (kept in order, reading paused past SUSPENDED_BACKLOG_MAX) until it settles, as
   * Redis runs one command at a time per client.
   */
  settle<T>(r: T | Promise<T>, then: (v: T) => void): void {
    if (!(r instanceof Promise)) return then(r);
    this.suspended = true;
    r.then(
      (v) => {
        if (this.closed) return;
        then(v);
        this.unsuspend();
      },
      (err: unknown) => {
        if (this.closed) return;
        this.door.log.error({ err, id: this.id }, 'Redis command failed');
        this.error('ERR internal error');
        this.unsuspend();
      },
    );
  }

  /** True while an asynchronous step holds this client's commands (see settle). */
  get suspendedNow(): boolean {
    return this.suspended;
  }

  private unsuspend(): void {
    this.suspended = false;
    const k = this.resumeWith;
    this.resumeWith = null;
    if (k !== null) this.run(k);
    while (!this.suspended && !this.closed && this.backlog.length > 0) this.onCommand(this.backlog.shift() as Buffer[]);
    this.markDirty();
    if (!this.suspended) this.resumeInput();
  }

  private readonly written = (): void => {
    this.socketPending = this.socket.writableLength;
    // Output held back while the socket was busy (see COALESCE_BYTES) leaves now, in one write.
    if (this.socketPending === 0 && this.writer.len > 0 && !this.closed) this.flush();
    const bp = this.door.router.backpressure;
    bp.progressed(this, this.outlet, Date.now());
    if (this.selfPaused && this.socketPending <= REPLY_PAUSE_BYTES / 2) {
      this.selfPaused = false;
      if (!this.closed && !bp.isHeld(this)) this.socket.resume();
    }
  };

  private onData(buf: Buffer): void {
    if (this.closed) return;
    this.lastInteraction = Date.now();
    const bp = this.door.router.backpressure;
    bp.begin(this);
    const err = this.parser.parse(buf);
    bp.end();
    if (err !== RespParseError.None && !this.closed) this.onParseError(err);
  }

  private onParseError(err: RespParseError): void {
    if (err === RespParseError.QueryBufferLimit) {
      this.door.log.warn({ id: this.id, addr: this.addr }, 'closing Redis client that reached the max query buffer length');
      this.close();
      return;
    }
    const texts: Record<number, string> = {
      [RespParseError.TooBigInline]: RedisErrors.ProtoTooBigInline,
      [RespParseError.TooBigMbulkCount]: RedisErrors.ProtoTooBigMbulkCount,
      [RespParseError.TooBigBulkCount]: RedisErrors.ProtoTooBigBulkCount,
      [RespParseError.InvalidMultibulkLength]: RedisErrors.ProtoInvalidMultibulkLength,
      [RespParseError.InvalidBulkLength]: RedisErrors.ProtoInvalidBulkLength,
      [RespParseError.UnbalancedQuotes]: RedisErrors.ProtoUnbalancedQuotes,
      [RespParseError.UnauthMultibulkLength]: RedisErrors.ProtoUnauthMultibulkLength,
      [RespParseError.UnauthBulkLength]: RedisErrors.ProtoUnauthBulkLength,
    };
    const text =
      err === RespParseError.ExpectedDollar
        ? redisError(RedisErrors.ProtoExpectedDollar, { got: String.fromCharCode(this.parser.errorByte) })
        : texts[err];
    // networking.c setProtocolError: reply, then close once the reply is written.
    this.error(text);
    this.closeAfterReply = true;
    this.close();
  }

  // ---- dispatch ----

  /** RespParserHandler: runs one request. Returns false once the connection is closing. */
  onCommand(argv: Buffer[]): boolean {
    if (this.closed || this.closeAfterReply) return false;
    if (this.blocked !== null) {
      this.held.push(argv.map((b) => Buffer.from(b)));
      this.socket.pause();
      return true;
    }
    if (this.suspended) {
      // Reading goes on while a verdict is pending so a client that hangs up is seen (and its
      // bcrypt compare dropped); past SUSPENDED_BACKLOG_MAX commands the socket pauses instead.
      this.backlog.push(argv.map((b) => Buffer.from(b)));
      if (this.backlog.length > SUSPENDED_BACKLOG_MAX) this.socket.pause();
      return true;
    }
    this.replies++;
    let spec = this.resolve(argv);
    // Budget (OOM) or a failed keyspace log (MISCONF), before it runs or is queued.
    const refused = spec === null ? null : this.door.refuse(spec, spec.name === 'exec' ? this.multi?.queue : undefined);
    if (refused !== null) spec = this.reject(spec as CommandSpec, refused);
    if (spec === null) {
      // A rejected command inside MULTI makes EXEC fail (multi.c flagTransaction).
      if (this.multi !== null) this.multi.aborted = true;
    } else if (this.multi !== null && !NOT_QUEUED.has(spec.name)) {
      // Arguments are views of the read Buffer: the queue keeps copies (multi.c queueMultiCommand
      // keeps nothing once the transaction is already aborted).
      if (!this.multi.aborted) this.multi.queue.push({ spec, argv: argv.map((b) => Buffer.from(b)) });
      this.writer.simple('QUEUED');
    } else {
      // run() inlined for the hot path (no closure per command).
      this.executing = true;
      this.call(spec, argv);
      this.executing = false;
      if (this.deferred !== null) this.drainDeferred();
    }
    this.markDirty();
    if (this.closeAfterReply) {
      this.close();
      return false;
    }
    return true;
  }

  /** Runs `f` as this client's command: its own Pub/Sub messages wait until after its reply. */
  private run(f: () => void): void {
    this.executing = true;
    f();
    this.executing = false;
    if (this.deferred !== null) this.drainDeferred();
  }

  /** Runs one resolved command (server.c call): counted in `total_commands_processed`. EXEC calls
   * it for each queued command. */
  call(spec: CommandSpec, argv: Buffer[]): void {
    this.lastCommand = spec.name;
    try {
      (spec.handler as NonNullable<CommandSpec['handler']>)(this, argv);
    } catch (err) {
      // A handler bug must not take the server down: answer as Redis does for internal errors.
      this.door.log.error({ err, id: this.id }, 'Redis command failed');
      this.error(`ERR ${String((err as Error)?.message ?? err).slice(0, 200)}`);
    }
    // Counted after it ran, as server.c call(): CONFIG RESETSTAT counts itself.
    this.door.stats.totalCommands++;
  }

  /** The command to run, or null after writing Redis's error for an unknown command, an unknown
   * subcommand, a wrong arity or the RESP2 subscribed context (server.c processCommand order). */
  private resolve(argv: Buffer[]): CommandSpec | null {
    const table = this.door.commands;
    // A pipeline repeats one name: the last name's bytes and spec answer it without a string.
    let spec: CommandSpec | undefined;
    if (this.lastName !== null && sameBytes(argv[0], this.lastName)) spec = this.lastSpec as CommandSpec;
    else {
      const first = argv[0].toString('latin1');
      // Clients send names in one case or the other: look up as sent, lower-case only on a miss.
      spec = table.get(first) ?? table.get(first.toLowerCase());
      if (spec !== undefined && argv[0].length <= NAME_CACHE_MAX) {
        this.lastName = Buffer.from(argv[0]);
        this.lastSpec = spec;
      }
    }
    if (spec === undefined) {
      this.error(redisError(RedisErrors.UnknownCommand, { name: cString(argv[0], ERR_NAME_MAX), args: argsBeginning(argv) }));
      return null;
    }
    let fullName = spec.name;
    if (spec.subcommands !== undefined && argv.length >= 2) {
      const sub = table.get(`${spec.name}|${lowerName(argv[1])}`);
      if (sub === undefined) {
        this.error(
          redisError(RedisErrors.UnknownSubcommand, {
            sub: cString(argv[1], ERR_NAME_MAX),
            cmd: argv[0].toString('latin1').toUpperCase(),
          }),
        );
        return null;
      }
      spec = sub;
      fullName = sub.name;
    }
    const n = argv.length;
    if ((spec.arity > 0 && n !== spec.arity) || n < -spec.arity || spec.handler === undefined) {
      return this.reject(spec, redisError(RedisErrors.WrongArity, { cmd: fullName }));
    }
    if (!this.authed && !spec.flags.includes('no_auth')) return this.reject(spec, RedisErrors.NoAuth);
    if (this.perms !== null && isAdminCommand(spec)) {
      return this.reject(spec, redisError(RedisErrors.NoPermCommand, { cmd: fullName }));
    }
    if (spec.channels !== undefined && this.perms !== null && !this.channelsAllowed(spec, argv)) {
      return this.reject(spec, RedisErrors.NoPermChannel);
    }
    if (this.writer.proto === 2 && this.inPubsub && spec.inSubscribedContext !== true) {
      return this.reject(spec, redisError(RedisErrors.SubscribedContext, { cmd: fullName }));
    }
    return spec;
  }

  /** Answers a command refused before running; a refused EXEC also ends the transaction, its
   * error wrapped in EXECABORT (server.c rejectCommand → execCommandAbort). */
  private reject(spec: CommandSpec, text: string): null {
    if (spec.name === 'exec') {
      discardTransaction(this);
      this.error(redisError(RedisErrors.ExecAbortBecause, { reason: text.startsWith('ERR ') ? text.slice(4) : text }));
    } else this.error(text);
    return null;
  }

  /** The user's subject permissions for the command's channel arguments: the publish list for
   * PUBLISH/SPUBLISH's channel, the subscribe list for every (P|S)SUBSCRIBE argument (a pattern
   * is checked as the subject text it is). */
  private channelsAllowed(spec: CommandSpec, argv: Buffer[]): boolean {
    const p = this.perms as PermissionChecker;
    if (spec.channels === 'publish') return p.canPublish(argv[1].toString('latin1'), Date.now());
    for (let i = 1; i < argv.length; i++) if (!p.canSubscribe(argv[i].toString('latin1'), null)) return false;
    return true;
  }

  // ---- replies ----

  /** Writes an error reply (a RedisErrors text) and counts it for INFO `total_error_replies`. */
  error(text: string): void {
    this.door.stats.countError(text);
    this.writer.error(text);
  }

  /** The blocking command was answered: run the held commands (until one blocks again). */
  unblocked(): void {
    this.blocked = null;
    this.markDirty();
    while (this.held.length > 0 && this.blocked === null && !this.closed) this.onCommand(this.held.shift() as Buffer[]);
    if (this.blocked === null) this.resumeInput();
  }

  /** QUIT: reply, then close once the reply is written. */
  closeAfterThisReply(): void {
    this.closeAfterReply = true;
  }

  private markDirty(): void {
    if (!this.dirty) {
      this.dirty = true;
      this.door.markDirty(this);
    }
  }

  // ---- Pub/Sub delivery (router Client) ----

  deliver(sub: Subscription, msg: Message): void {
    if (this.closed) return;
    // Subject permissions hold on delivery too: a glob pattern may cover subjects the user may not
    // subscribe to (the NATS door filters deliveries the same way, PermissionChecker.canDeliver).
    if (this.perms !== null && !this.perms.canReceive(msg.subject)) return;
    if (this.executing) {
      (this.deferred ??= []).push(() => {
        if (!sub.closed) this.writeMessage(sub, msg);
      });
      return;
    }
    this.writeMessage(sub, msg);
  }

  /** SPUBLISH delivery: `smessage ch payload` (a push in RESP3). */
  deliverShard(channel: string, payload: Buffer): void {
    if (this.closed) return;
    if (this.perms !== null && !this.perms.canReceive(channel)) return;
    if (this.executing) {
      (this.deferred ??= []).push(() => {
        if (this.shardChannels.has(channel)) this.deliverShard(channel, payload);
      });
      return;
    }
    let prefix = this.shardPrefixes.get(channel);
    if (prefix === undefined) {
      const push = this.writer.proto === 3 ? '>' : '*';
      prefix = Buffer.from(`${push}3\r\n$8\r\nsmessage\r\n$${channel.length}\r\n${channel}\r\n`, 'latin1');
      this.shardPrefixes.set(channel, prefix);
    }
    this.writeFrame(prefix, payload);
  }

  private drainDeferred(): void {
    const list = this.deferred as (() => void)[];
    this.deferred = null;
    for (const d of list) d();
  }

  /** `message ch payload` or `pmessage pattern ch payload`, as a push in RESP3. The frame head up
   * to the payload is cached on the subscription per channel (and protocol). */
  private writeMessage(sub: Subscription, msg: Message): void {
    const w = this.writer;
    let prefix = sub.wirePrefix;
    const key = w.proto === 3 ? `3${msg.subject}` : msg.subject;
    if (prefix === null || sub.wireSubject !== key) {
      const push = w.proto === 3 ? '>' : '*';
      const ch = msg.subject;
      prefix =
        sub.kind === 'glob'
          ? Buffer.from(
              `${push}4\r\n$8\r\npmessage\r\n$${sub.subject.length}\r\n${sub.subject}\r\n$${ch.length}\r\n${ch}\r\n`,
              'latin1',
            )
          : Buffer.from(`${push}3\r\n$7\r\nmessage\r\n$${ch.length}\r\n${ch}\r\n`, 'latin1');
      sub.wirePrefix = prefix;
      sub.wireSubject = key;
    }
    this.writeFrame(prefix, msg.payload);
  }

  /** One Pub/Sub message: its cached head, the payload as a bulk, and the output-buffer check. */
  private writeFrame(prefix: Buffer, payload: Buffer): void {
    const w = this.writer;
    w.raw(prefix);
    w.bulk(payload);
    this.door.stats.outMessages++;
    this.markDirty();
    const pending = w.len + this.socketPending;
    if (pending > this.checkAt) this.overLimit(this.door.router.backpressure.queued(this, this.outlet, pending));
  }

  /** Applies the `client-output-buffer-limit pubsub` verdict: Redis closes at once, no error sent
   * (networking.c checkClientOutputBufferLimits / freeClientAsync). */
  overLimit(v: Verdict): void {
    if (v !== 'close-hard' && v !== 'close-soft') return;
    this.door.stats.outputBufferLimitDisconnections++;
    this.door.log.warn(
      { id: this.id, addr: this.addr, pending: this.pendingBytes, limit: v },
      'Redis client scheduled to be closed ASAP for overcoming of output buffer limits',
    );
    this.writer.len = 0;
    this.close(true);
  }

  /** Writes everything queued this turn in one socket write. Called by the door once per turn;
   * while the socket is still busy, output waits for its drain (COALESCE_BYTES) unless `force`. */
  flush(force = false): void {
    this.dirty = false;
    const w = this.writer;
    if (w.len === 0 || this.closed) return;
    if (!force && this.socketPending > 0 && w.len < COALESCE_BYTES) return;
    const replies = this.replies;
    this.replies = 0;
    const settler = this.door.durability;
    if (settler !== null) {
      this.barrier ??= new ReplyBarrier(settler, (b) => this.socket.write(b, this.written), (t) => errorFrame(t));
      if (this.barrier.hold(w.buf.subarray(0, w.len), replies)) {
        w.len = 0;
        return;
      }
    }
    if (this.socketPending === 0) this.outlet.lastProgress = Date.now();
    const buf = w.buf;
    const chunk = w.take();
    this.socket.write(chunk, this.written);
    this.socketPending = this.socket.writableLength;
    // The kernel took every byte during write(): the Buffer is free to reuse; else the socket
    // holds on to it until written.
    if (this.socketPending > 0 && w.buf === buf) w.detach();
    if (this.socketPending > REPLY_PAUSE_BYTES && !this.selfPaused) {
      this.selfPaused = true;
      this.socket.pause();
    }
  }

  /** Closes: drops subscriptions, writes what is queued (unless `now`), ends the socket. */
  close(now = false): void {
    if (this.closed) return;
    if (!now && this.writer.len > 0) this.flush(true);
    this.closed = true;
    this.closing.abort();
    this.multi = null;
    unwatchAll(this);
    this.blocked?.cancel();
    this.blocked = null;
    this.dropSubscriptions();
    this.door.router.backpressure.outletClosed(this, this.outlet);
    if (now) this.socket.destroy();
    else if (this.barrier?.pending === true) {
      // Replies still wait for the keyspace log: end once they are written.
      this.barrier.onDrained = () => this.socket.end();
      setTimeout(() => this.socket.destroy(), 10_000).unref();
    } else {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
    this.door.onClosed(this);
  }
}

/** Commands a client may pipeline behind a pending verdict (a bcrypt AUTH) before its socket is
 * paused: a pipelined burst fits, and the copies it costs stay small. */
const SUSPENDED_BACKLOG_MAX = 1024;

/** One RESP error frame (`-text\r\n`), for replies the reply barrier turns into errors. */
function errorFrame(text: string): Buffer {
  return Buffer.from(`-${text}\r\n`, 'latin1');
}

/** Longest command name resolve's cache keeps (every Redis command name is shorter). */
const NAME_CACHE_MAX = 32;

/** A command or subcommand name as a lookup key: lower-case latin1. */
function lowerName(b: Buffer): string {
  return b.toString('latin1').toLowerCase();
}

/** `b` as C's `%.Ns` prints it: up to the first NUL, at most `max` bytes. */
function cString(b: Buffer, max: number): string {
  let end = b.indexOf(0);
  if (end < 0) end = b.length;
  return b.toString('latin1', 0, Math.min(end, max));
}

/** server.c processCommand: `'arg' ` per argument while the text is shorter than 128 bytes. */
function argsBeginning(argv: Buffer[]): string {
  let s = '';
  for (let i = 1; i < argv.length && s.length < ERR_NAME_MAX; i++) s += `'${cString(argv[i], ERR_NAME_MAX - s.length)}' `;
  return s;
}
