import type { SyncPolicy } from '../store/store.js';
import { NO_AUTH, type AuthSettings } from '../core/auth.js';
import type { RedisTlsSettings, TlsSettings } from './tls-conf.js';
import { NO_ACCOUNTS, type AccountsConfig } from '../core/accounts.js';

/**
 * Everything a herald server can be told, after flags, config files and defaults are merged.
 * Each field has a flag, a config key and a default (docs/configuration.md lists all three).
 */
export interface ServerOptions {
  /** Interface the NATS door listens on. */
  host: string;
  /** NATS door port; 0 (or -1 in a nats conf) picks a free port. */
  port: number;
  /** Monitoring HTTP host and port; port 0/-1 picks a free port, null disables monitoring. */
  httpHost: string;
  httpPort: number | null;
  /** Where durable state lives (streams under `<dataDir>/jetstream`). */
  dataDir: string;
  /** JetStream (streams) enabled. */
  jetstream: boolean;
  /** Largest headers+payload a client may publish, bytes. */
  maxPayload: number;
  /** Bytes queued to one connection before it is a slow consumer. */
  maxPending: number;
  /**
   * Server-wide cap on bytes queued to all connections together (src/core/backpressure.ts): past
   * it publishers are held and stuck subscribers closed. -1: an eighth of the machine's memory.
   */
  maxOutbound: number;
  /**
   * Connections accepted at once; the next gets -ERR 'maximum connections exceeded'.
   * 0 (`UNLIMITED_CONNECTIONS`) means no limit, as in nats-server.
   */
  maxConnections: number;
  /** Subscriptions one connection may hold; the next SUB gets -ERR 'maximum subscriptions
   * exceeded' (not fatal). 0 = unlimited. */
  maxSubs: number;
  /** Longest protocol control line, bytes. */
  maxControlLine: number;
  /** Server PING interval, ms, and unanswered PINGs before 'Stale Connection'. */
  pingIntervalMs: number;
  maxPingsOut: number;
  /** A connection must send CONNECT within this many ms. */
  authTimeoutMs: number;
  /** How long a write may stall before the connection is closed as a slow consumer, ms. */
  writeDeadlineMs: number;
  /** When a stream append counts as durable (see SyncPolicy). */
  sync: SyncPolicy;
  /** Server-wide budgets for stream storage, bytes; -1 = unlimited. */
  maxFileStore: number;
  maxMemStore: number;
  /** When set, write `nats-server_<pid>.ports` here once listening (nats-server drop-in). */
  portsFileDir: string | null;
  serverName: string;
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
  logFormat: 'pretty' | 'json';
  /** Redis (RESP) door port on `host`; null disables it. On at 6379 for `herald serve`, off in
   * nats-server mode and for an embedded `Server.start` unless given. */
  redisPort: number | null;
  /** Where the Redis keyspace (streams, groups, PELs) lives: `file` = a log in `<dataDir>/redis`
   * with the `sync` policy's durability; `memory` = nothing survives a restart. `file` for
   * `herald serve`, `memory` for an embedded `Server.start` unless given (docs/redis.md "Durability"). */
  redisStore: 'file' | 'memory';
  /** Who may connect and what each user may do (docs/security.md); `NO_AUTH` lets everyone in. */
  auth: AuthSettings;
  /** TLS of the NATS door (docs/security.md); null = plaintext only. */
  tls: TlsSettings | null;
  /** Monitoring over HTTPS on `httpHost` with the NATS door's certificate (nats-server
   * `https_port`); null = off. Exclusive with `httpPort`. */
  httpsPort: number | null;
  /** A TLS listener for the Redis door (Redis `tls-port`); null = none. */
  redisTls: RedisTlsSettings | null;
  /** Declared accounts (users are in `auth`, tagged with their account); `NO_ACCOUNTS` = everyone in `$G`. */
  accounts: AccountsConfig;
  /** Lame-duck mode (SIGUSR2): client closes are spread over this many ms, after the grace period. */
  lameDuckDurationMs: number;
  /** Lame-duck mode waits this long after telling clients before it closes the first one. */
  lameDuckGracePeriodMs: number;
}

/**
 * `maxConnections` meaning "no limit", as `max_connections: 0` means in nats-server; the NATS
 * door enforces the limit only when it is above 0.
 */
export const UNLIMITED_CONNECTIONS = 0;

/** The defaults, chosen to be safe on a developer machine (durable acks, loopback only). */
export const DEFAULT_OPTIONS: Readonly<ServerOptions> = Object.freeze<ServerOptions>({
  host: '127.0.0.1',
  port: 4222,
  httpHost: '127.0.0.1',
  httpPort: 8222,
  dataDir: './data',
  jetstream: true,
  maxPayload: 1024 * 1024, // nats-server MAX_PAYLOAD_SIZE
  maxPending: 64 * 1024 * 1024, // nats-server MAX_PENDING_SIZE
  maxOutbound: -1, // derived: os.totalmem() × DEFAULT_OUTBOUND_SHARE
  maxConnections: 64 * 1024, // nats-server DEFAULT_MAX_CONNECTIONS
  maxControlLine: 4096, // nats-server MAX_CONTROL_LINE_SIZE
  // nats-server defaults to unlimited; a Node heap (~4 GB) dies near 6M subscriptions, so one
  // connection gets a bound far above any real client's needs.
  maxSubs: 100_000,
  pingIntervalMs: 2 * 60 * 1000, // nats-server DEFAULT_PING_INTERVAL
  maxPingsOut: 2, // nats-server DEFAULT_PING_MAX_OUT
  authTimeoutMs: 2000, // nats-server AUTH_TIMEOUT
  writeDeadlineMs: 10_000, // nats-server DEFAULT_FLUSH_DEADLINE
  sync: { kind: 'always' },
  maxFileStore: -1,
  maxMemStore: -1,
  portsFileDir: null,
  serverName: '',
  logLevel: 'info',
  logFormat: 'pretty',
  redisPort: 6379, // Redis's default port: the seeds' Redis code connects to localhost:6379
  redisStore: 'file', // acked = fsynced, as JetStream streams
  auth: NO_AUTH,
  tls: null,
  httpsPort: null,
  redisTls: null,
  accounts: NO_ACCOUNTS,
  lameDuckDurationMs: 2 * 60 * 1000, // nats-server DEFAULT_LAME_DUCK_DURATION
  lameDuckGracePeriodMs: 10 * 1000, // nats-server DEFAULT_LAME_DUCK_GRACE_PERIOD
});
