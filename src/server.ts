import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from './core/router.js';
import { outboundBudget } from './core/backpressure.js';
import { createLogger, type Logger } from './core/log.js';
import { DEFAULT_OPTIONS, type ServerOptions } from './config/options.js';
import { validateOptions } from './config/load.js';
import { ADVERTISED_VERSION, NatsDoor, newServerId } from './nats/server.js';
import { ConnectionRegistry } from './core/connections.js';
// JetStream, the Redis door, monitoring and the data-directory lock are loaded only when enabled
// (dynamic import in startServices): a drop-in nats-server for a test harness starts a server per
// test under a 1 s deadline, and each of these costs 20–60 ms of module loading.
import type { MonitorServer } from './http/monitor.js';
import type { MonitoredServer } from './http/stats.js';
import { HERALD_VERSION } from './version.js';
import { runLameDuck } from './lame-duck.js';
import { planReload } from './config/reload.js';
import type { DirLock } from './store/dir-lock.js';
import type { RespDoor } from './resp/server.js';

/** The JetStream service as the server sees it (implemented in src/nats/jetstream/jetstream.ts). */
export interface JetStreamService {
  close(): Promise<void>;
  jsz(query: URLSearchParams): object;
  accountInfo(): object;
}

/** Options for `Server.start`: any ServerOptions field, plus a logger of your own. */
export type StartOptions = Partial<ServerOptions> & { logger?: Logger };

/**
 * A running herald server: the router, the NATS door, monitoring, and JetStream when enabled.
 * `Server.start` resolves once every listener is bound (and the ports file, if asked for, is
 * written); `close()` stops accepting, flushes and closes connections, syncs and closes stores.
 * Several servers can run in one process: they share nothing.
 */
export class Server implements MonitoredServer {
  readonly router = new Router();
  /** Open and recently closed connections of every door. */
  readonly connections = new ConnectionRegistry();
  readonly serverId = newServerId();
  readonly startedAt = new Date();
  readonly log: Logger;
  readonly door: NatsDoor;
  jetstream: JetStreamService | null = null;
  /** The Redis door, when `redisPort` is set. */
  redis: RespDoor | null = null;
  private monitor: MonitorServer | null = null;
  /** Held while JetStream owns the data directory; released after the stores close. */
  private dataLock: DirLock | null = null;
  private portsFile: string | null = null;
  private closing: Promise<void> | null = null;
  private lameDuck: Promise<void> | null = null;

  private constructor(
    readonly options: ServerOptions,
    logger: Logger | undefined,
  ) {
    this.log = logger ?? createLogger({ level: options.logLevel, format: options.logFormat });
    this.door = new NatsDoor(this.router, options, this.log, this.serverId, () => this.info(), this.connections);
    this.router.backpressure.budget = outboundBudget(options.maxOutbound);
  }

  /** Starts a server. Unset options take DEFAULT_OPTIONS, except that an embedded server's
   * monitoring and Redis door are off unless `httpPort` / `redisPort` are given. Bad options throw a ConfigError. */
  static async start(opts: StartOptions = {}): Promise<Server> {
    const { logger, ...rest } = opts;
    const options: ServerOptions = { ...DEFAULT_OPTIONS, httpPort: null, redisPort: null, ...rest };
    // Throws ConfigError naming the field, the value and what is allowed.
    const warnings = validateOptions(options);
    const s = new Server(options, logger);
    for (const w of warnings) s.log.warn(w);
    try {
      await s.startServices();
    } catch (err) {
      await s.close().catch(() => undefined);
      throw err;
    }
    return s;
  }

  /** The NATS port actually bound. */
  get port(): number {
    return this.door.port;
  }

  /** Connections closed as slow consumers, all doors together. */
  get slowConsumers(): number {
    return this.door.slowConsumers;
  }

  /** `nats://host:port` for clients. */
  get url(): string {
    return `nats://${urlHost(this.options.host)}:${this.port}`;
  }

  /** `redis://host:port` of the Redis door, or null when it is off. */
  get redisUrl(): string | null {
    return this.redis === null ? null : `redis://${urlHost(this.options.host)}:${this.redis.port}`;
  }

  /** `http://host:port` of monitoring, or null when it is off. */
  get monitorUrl(): string | null {
    return this.monitor === null ? null : `http://${urlHost(this.options.httpHost)}:${this.monitor.port}`;
  }

  private async startServices(): Promise<void> {
    const o = this.options;
    if (o.jetstream) {
      const storeDir = join(o.dataDir, 'jetstream');
      mkdirSync(storeDir, { recursive: true });
      // One server per data directory: a second one would find every stream's store taken.
      const [{ lockDirectory }, { JetStream }] = await Promise.all([
        import('./store/dir-lock.js'),
        import('./nats/jetstream/jetstream.js'),
      ]);
      this.dataLock = await lockDirectory(o.dataDir, { what: 'data directory' });
      this.jetstream = await JetStream.start(this.router, {
        storeDir,
        maxFileStore: o.maxFileStore,
        maxMemStore: o.maxMemStore,
        sync: o.sync,
        logger: this.log,
      });
    }
    await this.door.listen();
    if (o.redisPort !== null) {
      const appendfsync = o.sync.kind === 'always' ? 'always' : o.sync.kind === 'never' ? 'no' : 'everysec';
      const { RespDoor } = await import('./resp/server.js');
      this.redis = new RespDoor(
        this.router,
        { host: o.host, port: o.redisPort, appendfsync, serverStartedAt: this.startedAt },
        this.log,
      );
      await this.redis.listen();
    }
    if (o.httpPort !== null) {
      const { mountMonitoring } = await import('./http/routes.js');
      this.monitor = await mountMonitoring(this, this.log, o.httpHost, o.httpPort);
    }
    if (o.portsFileDir !== null) this.writePortsFile(o.portsFileDir);
    const ready: Record<string, unknown> = {
      url: this.url,
      redis: this.redisUrl,
      monitor: this.monitorUrl,
      jetstream: o.jetstream,
      data: o.dataDir,
    };
    if (this.jetstream !== null) {
      // Name what recovery refused, so "ready" never hides a missing stream.
      const js = this.jetstream.jsz(new URLSearchParams()) as { streams?: number; unrecovered_streams?: string[] };
      ready.streams = js.streams;
      if ((js.unrecovered_streams ?? []).length > 0) {
        ready.unrecovered_streams = js.unrecovered_streams;
        this.log.warn(
          { unrecovered_streams: js.unrecovered_streams, data: o.dataDir },
          'streams found on disk were NOT recovered and are not served (see the errors above); their files are untouched',
        );
      }
    }
    this.log.info(ready, 'herald is ready');
  }

  /** specs/nats.md §8: `<dir>/nats-server_<pid>.ports`, written atomically once listening. */
  private writePortsFile(dir: string): void {
    const body = JSON.stringify({
      nats: [this.url],
      monitoring: this.monitorUrl === null ? [] : [this.monitorUrl],
    });
    const file = join(dir, `nats-server_${process.pid}.ports`);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, file);
    this.portsFile = file;
  }

  /** The INFO object sent to every new connection (client_id/client_ip are added per connection). */
  info(): Record<string, unknown> {
    const o = this.options;
    const info: Record<string, unknown> = {
      server_id: this.serverId,
      server_name: o.serverName || this.serverId,
      version: ADVERTISED_VERSION,
      proto: 1,
      go: `herald ${HERALD_VERSION} (node ${process.version})`,
      host: o.host,
      port: this.port,
      headers: true,
      max_payload: o.maxPayload,
    };
    if (this.jetstream !== null) info.jetstream = true;
    return info;
  }

  /**
   * Applies a reloaded configuration (SIGHUP, `herald reload`; nats-server Server.Reload): `next`
   * is the whole new option set, loaded and validated by the caller. Throws a ConfigError, and
   * changes nothing, when `next` changes an option that needs a restart (src/config/reload.ts).
   * New users, passwords, tokens and permissions apply to new connections at once; connected
   * clients are re-checked (closed if no longer authorized, subscriptions they may no longer hold
   * removed). Returns the names of the options that changed.
   */
  async reload(next: ServerOptions): Promise<readonly string[]> {
    const { changed } = planReload(this.options, next);
    const o = this.options as unknown as Record<string, unknown>;
    for (const k of changed) o[k] = next[k];
    if (changed.includes('logLevel')) this.log.level = next.logLevel;
    if (changed.includes('auth')) await this.door.reloadAuth();
    this.log.info({ changed }, changed.length === 0 ? 'Reloaded server configuration: nothing changed' : 'Reloaded server configuration');
    return changed;
  }

  /** True once lame-duck mode has begun (it ends with close()). */
  get inLameDuckMode(): boolean {
    return this.lameDuck !== null;
  }

  /**
   * Lame-duck mode (SIGUSR2, `herald lame-duck`; nats-server lameDuckMode): stops accepting,
   * stops JetStream, sends every client INFO `"ldm": true`, waits `lameDuckGracePeriodMs`, closes
   * clients one by one over the rest of `lameDuckDurationMs`, then closes the server. Resolves
   * when the server is closed; calling it again returns the same promise.
   */
  enterLameDuckMode(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.lameDuck ??= runLameDuck(
      {
        log: this.log,
        lameDuckDurationMs: this.options.lameDuckDurationMs,
        lameDuckGracePeriodMs: this.options.lameDuckGracePeriodMs,
        stopAccepting: () => void this.door.stopAccepting(),
        stopJetStream: async () => {
          if (this.jetstream !== null) await this.jetstream.close();
        },
        openClients: () => [...this.door.connections.values()].map((c) => ({ close: () => c.close('Server Shutdown') })),
        announce: () => this.door.sendAsyncInfo({ ldm: true }),
        close: () => this.close(),
      },
      () => this.closing !== null,
    );
    return this.lameDuck;
  }

  /**
   * Stops everything, gracefully; safe to call more than once. New connections are refused
   * first; JetStream then finishes what it holds (queued API requests answered, appends synced,
   * consumer state written) while clients are still connected to receive those replies; then
   * every connection is flushed and closed, and the stores' directory lock released.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      void this.door.stopAccepting();
      if (this.jetstream !== null) await this.jetstream.close();
      await this.door.close();
      if (this.redis !== null) await this.redis.close();
      if (this.monitor !== null) await this.monitor.close();
      if (this.dataLock !== null) await this.dataLock.release();
      if (this.portsFile !== null) rmSync(this.portsFile, { force: true });
      this.log.info('herald stopped');
    })();
    return this.closing;
  }
}

function urlHost(h: string): string {
  if (h === '0.0.0.0' || h === '::' || h === '') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}
