import { TurnFlush } from '../core/turn-flush.js';
import net from 'node:net';
import tls from 'node:tls';
import type { Router } from '../core/router.js';
import type { Logger } from '../core/log.js';
import { redisPubSubLimitPolicy, verdictOnTick, type LimitPolicy } from '../core/backpressure.js';
import { RedisErrors } from '../core/errors.js';
import { LOOPBACK, NO_AUTH, authRequired, type AuthSettings } from '../core/auth.js';
import { RespConnection } from './connection.js';
import { buildCommandTable } from './commands/table.js';
import type { CommandSpec } from './commands/spec.js';
import { RedisConfig } from './config.js';
import { Keyspace } from './keyspace.js';
import type { RedisDurability } from './durability.js';
import { parseMemory } from './config.js';
import { buildRedisz } from './redisz.js';
import { RedisStreamModel } from '../stream/redis/model.js';
import { StreamBlocking } from '../stream/redis/blocking.js';

/** How often subscribers' soft output-buffer limits are checked (Redis checks in its cron, 10 Hz). */
const HOUSEKEEPING_MS = 100;
/** Connections accepted at once: Redis's `maxclients` default (config.c). */
export const REDIS_MAX_CLIENTS = 10_000;

/** What the door needs to know about the server it belongs to. */
export interface RespDoorOptions {
  readonly host: string;
  readonly port: number;
  /** `appendfsync` as clients read it: herald's sync policy in Redis words (docs/redis.md). */
  readonly appendfsync: 'always' | 'everysec' | 'no';
  /** The keyspace is kept in a log on disk (CONFIG GET appendonly answers `yes`). */
  readonly appendonly?: boolean;
  readonly serverStartedAt: Date;
  /** Listen on `port` in plaintext (false: only the TLS listener, as Redis with `port 0`). */
  readonly plaintext?: boolean;
  /** A TLS listener beside the plaintext one (Redis `tls-port`); TLS from the first byte. */
  readonly tls?: RespTlsListener | null;
  /** herald's users, token or single user (the NATS door's settings): Redis clients log in with
   * AUTH against them (src/resp/commands/auth.ts). Default: none. */
  readonly auth?: AuthSettings;
  /** `tls { verify_and_map }` on the NATS door: herald's users log in by certificate only. */
  readonly usersByCertificate?: boolean;
}

/** Redis `tls-port` and what `tls-auth-clients` asks of client certificates. */
export interface RespTlsListener {
  readonly port: number;
  /** Certificate, key and CA, as `tls.createServer` takes them. */
  readonly secure: tls.SecureContextOptions;
  readonly authClients: 'yes' | 'no' | 'optional';
}

/** A TLS client that has not finished its handshake by then is dropped: without a bound, idle
 * half-open handshakes would hold sockets forever (Node's default is 120 s). */
const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Distinct error codes INFO `errorstats` keeps (Redis's ERROR_STATS_NUMBER): past it new codes
 * are not tracked, so a client inventing codes cannot grow the table. */
export const ERROR_STATS_MAX = 128;

/**
 * Counters INFO `stats`/`errorstats` and /varz `redis` report (Redis field names in comments).
 * Plain fields, bumped on the command path; reset together by CONFIG RESETSTAT.
 */
export class RespStats {
  totalConnections = 0; // total_connections_received
  totalCommands = 0; // total_commands_processed
  totalErrorReplies = 0; // total_error_replies
  rejectedConnections = 0; // rejected_connections
  outMessages = 0; // herald's own: Pub/Sub messages written to Redis clients
  outputBufferLimitDisconnections = 0; // client_output_buffer_limit_disconnections
  /** Error replies per code (`ERR`, `WRONGPASS`…): INFO `errorstat_<code>:count=N`. */
  readonly errors = new Map<string, number>();

  /** Counts one error reply whose text starts with its code (server.c afterErrorReply). */
  countError(text: string): void {
    this.totalErrorReplies++;
    const sp = text.indexOf(' ');
    const code = sp < 0 ? text : text.slice(0, sp);
    const n = this.errors.get(code);
    if (n !== undefined) this.errors.set(code, n + 1);
    else if (this.errors.size < ERROR_STATS_MAX) this.errors.set(code, 1);
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.totalConnections = 0;
    this.totalCommands = 0;
    this.totalErrorReplies = 0;
    this.rejectedConnections = 0;
    this.outMessages = 0;
    this.outputBufferLimitDisconnections = 0;
    this.errors.clear();
  }
}

/**
 * The Redis door: accepts RESP connections on its own port, owns the command table, the per-db
 * keyspace, CONFIG values, INFO counters and the count of Redis subscribers per channel and
 * pattern (PUBSUB CHANNELS/NUMSUB/NUMPAT). Writes every connection that queued output once per
 * event-loop turn (process.nextTick), so pipelined replies and fan-out go out in one write.
 */
export class RespDoor {
  readonly connections = new Map<number, RespConnection>();
  readonly commands: ReadonlyMap<string, CommandSpec> = buildCommandTable();
  readonly stats = new RespStats();
  readonly config: RedisConfig;
  readonly keyspace = new Keyspace();
  /** Redis Streams over the keyspace; `streams.setEffectSink` is the durable log's hook. */
  readonly streams: RedisStreamModel;
  /** Clients blocked in XREAD/XREADGROUP BLOCK. */
  readonly blocking = new StreamBlocking();
  /** Redis subscribers per channel and per pattern (this door's clients only). */
  readonly channelSubs = new Map<string, number>();
  readonly patternSubs = new Map<string, number>();
  /** Sharded Pub/Sub (SSUBSCRIBE/SPUBLISH): channel → its subscribers. Door-local, not in the
   * router: a shard channel is a namespace of its own (docs/redis.md, "Sharded Pub/Sub"). */
  readonly shardSubs = new Map<string, Set<RespConnection>>();
  /** Users AUTH checks against; replaced by a config reload (src/resp/reload.ts, which re-checks logged-in clients). */
  auth: AuthSettings;
  /**
   * True when the NATS door maps client certificates to users (`tls { verify_and_map }`): those
   * users have no password, so no password login over this door may become one (nats-server
   * refuses them without a certificate). Set from the config at start and on reload.
   */
  usersByCertificate: boolean;
  port = 0;
  /** Port of the TLS listener once listening; 0 when there is none. */
  tlsPort = 0;
  private tlsServer: tls.Server | null = null;
  /** Set once stopAccepting() ran: resolves when both listeners are closed. */
  private accepting: Promise<void> | null = null;
  /** Where the keyspace's effects go and when replies may leave (set by the server before listen). */
  durability: RedisDurability | null = null;
  private nextId = 1;
  private readonly turnFlush = new TurnFlush<RespConnection>();
  private readonly server: net.Server;
  private ticker: NodeJS.Timeout | null = null;

  constructor(
    readonly router: Router,
    readonly opts: RespDoorOptions,
    readonly log: Logger,
  ) {
    this.config = new RedisConfig(opts);
    this.auth = opts.auth ?? NO_AUTH;
    this.usersByCertificate = opts.usersByCertificate === true;
    // Read per XADD: one Map lookup each (config.get matches globs).
    const num = (k: string): number => Number(this.config.value(k) || 0);
    this.streams = new RedisStreamModel(this.keyspace, () => ({
      maxEntries: num('stream-node-max-entries'),
      maxBytes: num('stream-node-max-bytes'),
    }));
    this.keyspace.onDrop = (db, key) => {
      this.streams.dropped(db, key);
      // A deleted key wakes its XREADGROUP waiters with NOGROUP (Redis 7.0 signalDeletedKeyAsReady),
      // served once the deleting command is over.
      if (this.blocking.signal(db, key)) queueMicrotask(() => this.blocking.serveReady());
    };
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** New connections must log in (AUTH / HELLO AUTH): `requirepass` is set or herald has users. */
  get authRequired(): boolean {
    return authRequired(this.auth) || this.config.value('requirepass') !== '';
  }

  /** `requirepass` (the `default` user's password); '' = none. */
  get requirepass(): string {
    return this.config.value('requirepass');
  }

  /** `client-output-buffer-limit pubsub`, read from CONFIG at each new subscriber's creation. */
  get pubsubPolicy(): LimitPolicy {
    const l = this.config.pubsubLimit;
    return redisPubSubLimitPolicy(l.hard, l.soft, l.seconds);
  }

  /** The error a command gets before it runs (OOM over a budget, MISCONF after a log failure), or null. */
  refuse(spec: CommandSpec, queued?: readonly { spec: CommandSpec }[]): string | null {
    const d = this.durability;
    if (d === null) return null;
    // EXEC counts as a write (or denyoom) command when its queue holds one (server.c processCommand).
    const flags =
      queued === undefined || queued.length === 0 ? spec.flags : [...spec.flags, ...queued.flatMap((q) => q.spec.flags)];
    return d.refuse(flags, this.maxmemory);
  }

  /** CONFIG `maxmemory` in bytes, parsed once per distinct value (every write command asks). */
  private readonly maxmemory = (): number => {
    const v = this.config.value('maxmemory') || '0';
    if (v !== this.maxmemoryText) {
      this.maxmemoryText = v;
      this.maxmemoryBytes = parseMemory(v) ?? 0;
    }
    return this.maxmemoryBytes;
  };
  private maxmemoryText = '0';
  private maxmemoryBytes = 0;

  /** Listens on host:port (0 = any free port) and on the TLS port when set; resolves with the plaintext port. */
  async listen(): Promise<number> {
    if (this.opts.tls != null) this.tlsPort = await this.listenTls(this.opts.tls);
    if (this.opts.plaintext === false) {
      this.startHousekeeping();
    } else await this.listenPlain();
    this.warnIfOpen();
    return this.port;
  }

  /**
   * The safe-defaults warning of the NATS door (src/nats/server.ts), for this door: listening on a
   * non-loopback interface with no login required lets anyone who reaches the port read every
   * channel and publish anywhere. Redis 7 refuses such clients outright (protected-mode); herald
   * warns loudly instead and names what fixes it.
   */
  private warnIfOpen(): void {
    const host = this.opts.host;
    if (LOOPBACK.test(host) || this.authRequired) return;
    const ports = [this.port, this.tlsPort].filter((p) => p !== 0);
    this.log.warn(
      { host, ports },
      'SECURITY WARNING: the Redis door listens on a non-loopback interface WITHOUT authentication: anyone who can reach this port can subscribe to every channel and publish anywhere. Set --user/--pass or --auth (or an authorization block, docs/security.md), or listen on 127.0.0.1',
    );
  }

  private startHousekeeping(): void {
    this.ticker = setInterval(() => this.housekeeping(), HOUSEKEEPING_MS);
    this.ticker.unref();
  }

  /**
   * Redis tls-port: `auth_clients` yes requires a certificate signed by the CA, optional checks
   * one if sent (redis.conf tls-auth-clients), no asks for none.
   */
  private listenTls(t: RespTlsListener): Promise<number> {
    const srv = tls.createServer(
      {
        ...t.secure,
        requestCert: t.authClients !== 'no',
        rejectUnauthorized: t.authClients === 'yes',
        handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS,
      },
      (socket) => {
        if (t.authClients === 'optional' && !socket.authorized && socket.getPeerCertificate().raw !== undefined) {
          this.log.debug(
            { ip: socket.remoteAddress, err: String(socket.authorizationError) },
            'Redis TLS client certificate refused',
          );
          socket.destroy();
          return;
        }
        this.accept(socket);
      },
    );
    srv.on('tlsClientError', (err) => this.log.debug({ err: err.message }, 'Redis TLS handshake error'));
    this.tlsServer = srv;
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ host: this.opts.host, port: t.port, backlog: 511 }, () => {
        srv.off('error', reject);
        srv.on('error', (err) => this.log.error({ err }, 'Redis TLS listener error'));
        resolve((srv.address() as net.AddressInfo).port);
      });
    });
  }

  private listenPlain(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.opts.host, port: this.opts.port, backlog: 511 }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.error({ err }, 'Redis listener error'));
        this.port = (this.server.address() as net.AddressInfo).port;
        this.startHousekeeping();
        resolve(this.port);
      });
    });
  }

  /**
   * Stops accepting on the plain and TLS ports (lame duck, shutdown); existing connections go on.
   * Resolves once both listeners are closed and every connection has gone.
   */
  stopAccepting(): Promise<void> {
    this.accepting ??= Promise.all([
      new Promise<void>((resolve) => (this.server.listening ? this.server.close(() => resolve()) : resolve())),
      new Promise<void>((resolve) => (this.tlsServer?.listening === true ? this.tlsServer.close(() => resolve()) : resolve())),
    ]).then(() => undefined);
    return this.accepting;
  }

  /** Stops accepting and closes every connection (writing what is queued). */
  async close(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.blocking.close();
    const closing = this.stopAccepting();
    for (const c of [...this.connections.values()]) c.close();
    for (const c of this.connections.values()) c.socket.destroy();
    await closing;
  }

  private accept(socket: net.Socket): void {
    if (this.connections.size >= REDIS_MAX_CLIENTS) {
      // networking.c acceptCommonHandler: the error is written and the socket closed.
      this.stats.rejectedConnections++;
      socket.on('error', () => undefined);
      socket.end(`-${RedisErrors.MaxClients}\r\n`);
      return;
    }
    const id = this.nextId++;
    const conn = new RespConnection(id, socket, this);
    this.stats.totalConnections++;
    this.connections.set(id, conn);
  }

  /** Called by a connection the first time it queues output in a turn. */
  markDirty(conn: RespConnection): void {
    this.turnFlush.mark(conn);
  }

  onClosed(conn: RespConnection): void {
    this.connections.delete(conn.id);
  }

  /** Keeps PUBSUB counts: a connection subscribed to `channels`/`patterns`. */
  pubsubAdded(channel: string | null, pattern: string | null): void {
    if (channel !== null) this.channelSubs.set(channel, (this.channelSubs.get(channel) ?? 0) + 1);
    if (pattern !== null) this.patternSubs.set(pattern, (this.patternSubs.get(pattern) ?? 0) + 1);
  }

  /** Keeps PUBSUB counts: a connection left these channels and patterns. */
  pubsubRemoved(channels: readonly string[], patterns: readonly string[]): void {
    for (const ch of channels) decrement(this.channelSubs, ch);
    for (const p of patterns) decrement(this.patternSubs, p);
  }

  /** `conn` subscribed to shard channel `ch` (SSUBSCRIBE). */
  shardAdded(conn: RespConnection, ch: string): void {
    let set = this.shardSubs.get(ch);
    if (set === undefined) this.shardSubs.set(ch, (set = new Set()));
    set.add(conn);
  }

  /** `conn` left shard channel `ch`. */
  shardRemoved(conn: RespConnection, ch: string): void {
    const set = this.shardSubs.get(ch);
    if (set === undefined) return;
    set.delete(conn);
    if (set.size === 0) this.shardSubs.delete(ch);
  }

  /** /redisz (src/http/stats.ts RedisVarzSource): the keyspace's streams, paged (redisz.ts). */
  redisz(query: URLSearchParams): object {
    return buildRedisz(this.keyspace, this.durability, query);
  }

  /** /varz `redis` (src/http/stats.ts RedisVarzSource): INFO's counters under INFO's names. */
  varz(): Record<string, number> {
    const s = this.stats;
    let keys = 0;
    for (const m of this.keyspace.dbs) keys += m.size;
    return {
      port: this.port,
      tls_port: this.tlsPort,
      connected_clients: this.connections.size,
      pubsub_clients: this.pubsubClients,
      total_connections_received: s.totalConnections,
      rejected_connections: s.rejectedConnections,
      total_commands_processed: s.totalCommands,
      total_error_replies: s.totalErrorReplies,
      pubsub_channels: this.channelSubs.size,
      pubsub_patterns: this.patternSubs.size,
      pubsubshard_channels: this.shardSubs.size,
      pubsub_messages_sent: s.outMessages,
      client_output_buffer_limit_disconnections: s.outputBufferLimitDisconnections,
      keys,
    };
  }

  /** Clients in Pub/Sub mode (INFO `pubsub_clients`). */
  get pubsubClients(): number {
    let n = 0;
    for (const c of this.connections.values()) if (c.inPubsub) n++;
    return n;
  }

  /** The soft limit needs a clock: subscribers over it are checked here (Redis clientsCron). */
  private housekeeping(): void {
    const now = Date.now();
    for (const c of this.connections.values()) {
      if (!c.inPubsub) continue;
      const pending = c.pendingBytes;
      if (pending === 0) continue;
      c.overLimit(verdictOnTick(c.outlet, pending, now));
    }
  }
}

function decrement(m: Map<string, number>, k: string): void {
  const n = (m.get(k) ?? 0) - 1;
  if (n > 0) m.set(k, n);
  else m.delete(k);
}
