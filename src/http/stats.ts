/**
 * The narrow views monitoring reads. HTTP never imports the server or a door: whatever runs the
 * monitor hands it an object of this shape (src/server.ts's Server is one).
 */
import type { ServerOptions } from '../config/options.js';
import type { ConnectionRegistry } from '../core/connections.js';
import type { Subscription } from '../core/message.js';
import type { AccountSet } from '../core/accounts.js';

/** Sublist counters and listing, as /subsz reports them. */
export interface SublistStats {
  readonly count: number;
  readonly cacheSize: number;
  readonly cacheHits: number;
  readonly matches: number;
  readonly inserts: number;
  readonly removes: number;
  /** Largest and mean fan-out over the cached match results (nats-server sublist.go, Stats). */
  fanout(): { max: number; avg: number };
  /** Every subscription. */
  all(): Subscription[];
}

/** Router counters for /varz. */
export interface RouterStats {
  readonly inMsgs: number;
  readonly outMsgs: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly sublist: SublistStats;
}

/** The JetStream service as /jsz and /varz see it. */
export interface JszSource {
  /** The /jsz body without server_id/now. */
  jsz(query: URLSearchParams): object;
}

/**
 * The Redis door as /varz's `redis` object sees it: Redis's own counter names (INFO `stats`), so
 * a dashboard reads the same numbers as `redis-cli INFO`. Built per request from plain fields.
 */
export interface RedisVarzSource {
  varz(): Record<string, number>;
  /** The /redisz body without server_id/now: every stream key with its size and groups, paged by
   * `offset`/`limit`, plus totals and the keyspace log's state. Costs a pass over the keyspace. */
  redisz(query: URLSearchParams): object;
}

/**
 * Everything monitoring reads of a running server. Reading costs nothing on the message path:
 * counters are plain fields, lists are built per request.
 */
export interface MonitoredServer {
  readonly serverId: string;
  readonly startedAt: Date;
  readonly options: ServerOptions;
  /** The NATS port actually bound. */
  readonly port: number;
  /** The INFO object a client receives (version, go…). */
  info(): Record<string, unknown>;
  readonly router: RouterStats;
  /** Open and recently closed connections of every door. */
  readonly connections: ConnectionRegistry;
  /** Connections closed as slow consumers, all doors together. */
  readonly slowConsumers: number;
  readonly jetstream: JszSource | null;
  /** Every account (for /accountz); absent = only `$G`. */
  readonly accounts?: AccountSet;
  /** Accounts that run JetStream. */
  readonly jetstreams?: ReadonlyMap<string, unknown>;
  /** The Redis door, when it is on (/varz `redis`; absent when off). */
  readonly redis?: RedisVarzSource | null;
}
