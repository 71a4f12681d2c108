import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Router } from './core/router.js';
import { outboundBudget } from './core/backpressure.js';
import { createLogger, type Logger } from './core/log.js';
import { DEFAULT_OPTIONS, type ServerOptions } from './config/options.js';
import { validateOptions } from './config/load.js';
import { secureContextOptions, type RedisTlsSettings } from './config/tls-conf.js';
import { ADVERTISED_VERSION, NatsDoor, newServerId } from './nats/server.js';
import { ConnectionRegistry } from './core/connections.js';
// JetStream, the Redis door, monitoring and the data-directory lock are loaded only when enabled
// (dynamic import in startServices): a drop-in nats-server for a test harness starts a server per
// test under a 1 s deadline, and each of these costs 20–60 ms of module loading.
import type { MonitorServer } from './http/monitor.js';
import type { MonitoredServer } from './http/stats.js';
import { HERALD_VERSION } from './version.js';
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
    return this.redis === null || this.options.redisPort === null ? null : `redis://${urlHost(this.options.host)}:${this.redis.port}`;
  }

  /** `rediss://host:port` of the Redis door's TLS listener, or null when there is none. */
  get redisTlsUrl(): string | null {
    return this.redis === null || this.redis.tlsPort === 0 ? null : `rediss://${urlHost(this.options.host)}:${this.redis.tlsPort}`;
  }

  /** `http://host:port` of monitoring, or null when it is off. */
  get monitorUrl(): string | null {
    if (this.monitor === null) return null;
    return `${this.monitor.secure ? 'https' : 'http'}://${urlHost(this.options.httpHost)}:${this.monitor.port}`;
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
    if (o.redisPort !== null || o.redisTls !== null) {
      const appendfsync = o.sync.kind === 'always' ? 'always' : o.sync.kind === 'never' ? 'no' : 'everysec';
      const { RespDoor } = await import('./resp/server.js');
      const rt = o.redisTls;
      const tls = rt === null ? null : { port: rt.port, authClients: rt.authClients, secure: redisSecureContext(rt) };
      this.redis = new RespDoor(
        this.router,
        { host: o.host, port: o.redisPort ?? 0, plaintext: o.redisPort !== null, tls, appendfsync, serverStartedAt: this.startedAt, auth: o.auth },
        this.log,
      );
      await this.redis.listen();
    }
    if (o.httpPort !== null) {
      const { mountMonitoring } = await import('./http/routes.js');
      this.monitor = await mountMonitoring(this, this.log, o.httpHost, o.httpPort);
    } else if (o.httpsPort !== null && o.tls !== null) {
      const { mountMonitoring } = await import('./http/routes.js');
      this.monitor = await mountMonitoring(this, this.log, o.httpHost, o.httpsPort, secureContextOptions(o.tls));
    }
    if (o.portsFileDir !== null) this.writePortsFile(o.portsFileDir);
    const ready: Record<string, unknown> = {
      url: this.url,
      redis: this.redisUrl,
      ...(this.redisTlsUrl === null ? {} : { redis_tls: this.redisTlsUrl }),
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

  /** Stops everything; safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.door.close();
      if (this.redis !== null) await this.redis.close();
      if (this.monitor !== null) await this.monitor.close();
      if (this.jetstream !== null) await this.jetstream.close();
      if (this.dataLock !== null) await this.dataLock.release();
      if (this.portsFile !== null) rmSync(this.portsFile, { force: true });
      this.log.info('herald stopped');
    })();
    return this.closing;
  }
}

/** The Redis TLS listener's certificate, key and CA (load.ts filled in certFile/keyFile). */
function redisSecureContext(r: RedisTlsSettings): ReturnType<typeof secureContextOptions> {
  return secureContextOptions({ certFile: r.certFile!, keyFile: r.keyFile!, caFile: r.caFile, ciphers: null, curves: null, minVersion: 'TLSv1.2' });
}

function urlHost(h: string): string {
  if (h === '0.0.0.0' || h === '::' || h === '') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}
