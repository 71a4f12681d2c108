import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
import type { JetStream } from './nats/jetstream/jetstream.js';
import type { JetStreamDisabled } from './nats/jetstream/disabled.js';
import {
  buildAccounts,
  globalHasJetStream,
  GLOBAL_ACCOUNT,
  UNLIMITED_JETSTREAM,
  type Account,
  type AccountJetStreamLimits,
  type AccountSet,
} from './core/accounts.js';
import { SystemEvents } from './nats/events.js';
import { HERALD_VERSION } from './version.js';
import { runLameDuck } from './lame-duck.js';
import { planReload } from './config/reload.js';
import { reloadRedisAuth } from './resp/reload.js';
import { prepareTlsReload } from './nats/tls.js';
import type { DirLock } from './store/dir-lock.js';
import type { RespDoor } from './resp/server.js';
import type { SysServices } from './nats/sys-services.js';
import type { HttpListenerView } from './http/endpoints.js';
import { DATA_DIR_MODE } from './store/modes.js';
import { ServerBudget } from './stream/server-budget.js';

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
  /** Every account (`$G` routes through `router`); imports are wired between their routers. */
  readonly accounts: AccountSet;
  jetstream: JetStreamService | null = null;
  /** Each JetStream-enabled account's JetStream. */
  readonly jetstreams = new Map<string, JetStream>();
  /** The server's JetStream budget that every account's streams share (null before JetStream starts). */
  private jsBudget: ServerBudget | null = null;
  /** Each JetStream-enabled account's limits, as its JetStream was started (a reload compares them). */
  private readonly jsLimits = new Map<string, AccountJetStreamLimits>();
  /** `$JS.API` answerers of accounts without JetStream (10039), when the server runs JetStream. */
  private readonly jsDisabled = new Map<string, JetStreamDisabled>();
  /** The Redis door, when `redisPort` is set. */
  redis: RespDoor | null = null;
  private monitor: MonitorServer | null = null;
  /** The system account's `$SYS.REQ` services (only when accounts are declared: no one else can reach them). */
  private sysServices: SysServices | null = null;
  /** Held while JetStream owns the data directory; released after the stores close. */
  private dataLock: DirLock | null = null;
  private portsFile: string | null = null;
  private closing: Promise<void> | null = null;
  private lameDuck: Promise<void> | null = null;
  /** The reload in progress (reloads run one after another). */
  private reloading: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly options: ServerOptions,
    logger: Logger | undefined,
  ) {
    this.log = logger ?? createLogger({ level: options.logLevel, format: options.logFormat });
    this.door = new NatsDoor(this.router, options, this.log, this.serverId, () => this.info(), this.connections);
    this.router.backpressure.budget = outboundBudget(options.maxOutbound);
    this.accounts = buildAccounts(options.accounts, this.router);
    this.door.accounts = this.accounts;
    this.door.events = new SystemEvents(
      this.accounts,
      () => ({
        name: options.serverName || this.serverId,
        host: options.host,
        id: this.serverId,
        ver: ADVERTISED_VERSION,
        jetstream: this.jetstream !== null,
      }),
      (account) => this.accountConnections(account),
    );
  }

  /** Open client connections bound to `account`. */
  private accountConnections(account: string): number {
    let n = 0;
    for (const r of this.connections.open.values()) if ((r.conn.account ?? GLOBAL_ACCOUNT) === account) n++;
    return n;
  }

  /** The monitoring listener as `$SYS.REQ.SERVER.*.VARZ` reports it; null when monitoring is off. */
  monitorView(): HttpListenerView | null {
    return this.monitor;
  }

  /** Starts a server. Unset options take DEFAULT_OPTIONS, except that an embedded server's
   * monitoring and Redis door are off unless `httpPort` / `redisPort` are given, and its Redis
   * keyspace is kept in memory unless `redisStore: 'file'` is given. Bad options throw a ConfigError. */
  static async start(opts: StartOptions = {}): Promise<Server> {
    const { logger, ...rest } = opts;
    const options: ServerOptions = { ...DEFAULT_OPTIONS, httpPort: null, redisPort: null, redisStore: 'memory', ...rest };
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
    return this.redis === null || this.options.redisPort === null
      ? null
      : `redis://${urlHost(this.options.host)}:${this.redis.port}`;
  }

  /** `rediss://host:port` of the Redis door's TLS listener, or null when there is none. */
  get redisTlsUrl(): string | null {
    return this.redis === null || this.redis.tlsPort === 0
      ? null
      : `rediss://${urlHost(this.options.host)}:${this.redis.tlsPort}`;
  }

  /** `http://host:port` of monitoring, or null when it is off. */
  get monitorUrl(): string | null {
    if (this.monitor === null) return null;
    return `${this.monitor.secure ? 'https' : 'http'}://${urlHost(this.options.httpHost)}:${this.monitor.port}`;
  }

  private async startServices(): Promise<void> {
    const o = this.options;
    const redisOn = o.redisPort !== null || o.redisTls !== null;
    const redisFile = redisOn && o.redisStore === 'file';
    if (o.jetstream || redisFile) {
      mkdirSync(o.dataDir, { recursive: true, mode: DATA_DIR_MODE });
      // One server per data directory: a second one would find every stream's store taken.
      const { lockDirectory } = await import('./store/dir-lock.js');
      this.dataLock = await lockDirectory(o.dataDir, { what: 'data directory' });
    }
    if (o.jetstream) {
      const storeDir = join(o.dataDir, 'jetstream');
      mkdirSync(storeDir, { recursive: true, mode: DATA_DIR_MODE });
      const [jsModule, disabledModule] = await Promise.all([
        import('./nats/jetstream/jetstream.js'),
        import('./nats/jetstream/disabled.js'),
      ]);
      // One server budget across accounts: N accounts never reserve or store more than max_file_store.
      this.jsBudget = new ServerBudget(o.maxFileStore, o.maxMemStore);
      for (const acc of this.accounts.byName.values()) {
        await this.startAccountJetStream(acc, storeDir, jsModule.JetStream, disabledModule.JetStreamDisabled);
      }
      if (this.jetstreams.size > 0) this.jetstream = new jsModule.JetStreamSet(this.jetstreams);
    }
    await this.door.listen();
    if (redisOn) {
      const appendfsync = o.sync.kind === 'always' ? 'always' : o.sync.kind === 'never' ? 'no' : 'everysec';
      const [{ RespDoor }, { RedisDurability }] = await Promise.all([import('./resp/server.js'), import('./resp/durability.js')]);
      const rt = o.redisTls;
      const tls = rt === null ? null : { port: rt.port, authClients: rt.authClients, secure: redisSecureContext(rt) };
      this.redis = new RespDoor(
        this.router,
        {
          host: o.host,
          port: o.redisPort ?? 0,
          plaintext: o.redisPort !== null,
          tls,
          appendfsync,
          appendonly: redisFile,
          serverStartedAt: this.startedAt,
          auth: o.auth,
          usersByCertificate: o.tls?.map === true,
        },
        this.log,
      );
      // Replay the keyspace log before the first client can connect.
      this.redis.durability = await RedisDurability.open(
        {
          dir: redisFile ? RedisDurability.dirOf(o.dataDir) : null,
          sync: o.sync,
          logger: this.log,
          maxFileStore: o.maxFileStore,
        },
        this.redis.streams,
        this.redis.keyspace,
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
    await this.startSysServices();
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

  /**
   * JetStream for one account: `$G` keeps `<data>/jetstream/streams/…` (so existing data opens),
   * another account gets `<data>/jetstream/<account>/streams/…` and its own budgets; an account
   * without JetStream answers `$JS.API` with 10039 as nats-server does.
   */
  private async startAccountJetStream(
    acc: Account,
    storeDir: string,
    JetStreamClass: typeof JetStream,
    DisabledClass: typeof JetStreamDisabled,
  ): Promise<void> {
    const o = this.options;
    const isGlobal = acc.name === GLOBAL_ACCOUNT;
    const limits = this.jetStreamLimitsOf(acc);
    if (limits === null) {
      const d = new DisabledClass(acc.router);
      d.start();
      this.jsDisabled.set(acc.name, d);
      if (isGlobal) this.warnUnservedGlobalStreams(storeDir);
      return;
    }
    const budget = (server: number, account: number): number =>
      account < 0 ? server : server < 0 ? account : Math.min(server, account);
    const dir = isGlobal ? storeDir : join(storeDir, acc.name);
    const js = await JetStreamClass.start(acc.router, {
      storeDir: dir,
      maxFileStore: budget(o.maxFileStore, limits.maxStorage),
      maxMemStore: budget(o.maxMemStore, limits.maxMemory),
      maxStreams: limits.maxStreams,
      maxConsumers: limits.maxConsumers,
      sync: o.sync,
      logger: isGlobal ? this.log : this.log.child({ account: acc.name }),
      serverBudget: this.jsBudget ?? undefined,
    });
    this.jetstreams.set(acc.name, js);
    this.jsLimits.set(acc.name, limits);
  }

  /** An account's JetStream limits under the running accounts, or null when it has none (`$G` has it only without declared accounts). */
  private jetStreamLimitsOf(acc: Account): AccountJetStreamLimits | null {
    return (
      acc.jetstream ?? (acc.name === GLOBAL_ACCOUNT && globalHasJetStream(this.accounts.config) ? UNLIMITED_JETSTREAM : null)
    );
  }

  /** `$G` has no JetStream once accounts are declared (as nats-server): say so if it left streams on disk. */
  private warnUnservedGlobalStreams(storeDir: string): void {
    const dir = join(storeDir, 'streams');
    if (existsSync(dir) && readdirSync(dir).length > 0) {
      this.log.warn(
        { dir },
        "streams of the global account ($G) are on disk but not served: with accounts declared, $G has no JetStream (as in nats-server); move them under an account's directory or remove the accounts",
      );
    }
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
   * clients are re-checked (closed if no longer authorized or moved to another account,
   * subscriptions they may no longer hold removed). Changed accounts are rewired at once, before
   * the re-check, and their JetStream started or stopped after it (reloadJetStreamAccounts), in
   * nats-server's order. Returns the names of the options that changed.
   */
  reload(next: ServerOptions): Promise<readonly string[]> {
    // One reload at a time: a second SIGHUP waits for the first to finish (JetStream may be starting).
    const run = this.reloading.then(() => this.reloadNow(next));
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private async reloadNow(next: ServerOptions): Promise<readonly string[]> {
    const { changed } = planReload(this.options, next);
    // The NATS door's TLS files are re-read on every reload (a rotated certificate usually keeps
    // its path); a bad file refuses the whole reload before anything changed (src/nats/tls.ts).
    const rotateTls = this.options.tls === null && next.tls === null ? null : prepareTlsReload(this.door.tls, next.tls);
    const o = this.options as unknown as Record<string, unknown>;
    for (const k of changed) o[k] = next[k];
    rotateTls?.();
    if (changed.includes('logLevel')) this.log.level = next.logLevel;
    const accounts = changed.includes('accounts');
    if (accounts) {
      const removed = this.accounts.apply(next.accounts);
      if (removed.length > 0) this.log.info({ removed }, 'accounts removed by config reload');
    }
    if (changed.includes('auth') || accounts) {
      // Redis logins are re-checked as Redis's acl.c does when users change (src/resp/reload.ts).
      if (this.redis !== null) reloadRedisAuth(this.redis, next.auth, next.tls?.map === true);
      await this.door.reloadAuth();
    }
    if (accounts) await this.reloadJetStreamAccounts();
    if (accounts) await this.startSysServices();
    this.log.info(
      { changed },
      changed.length === 0 ? 'Reloaded server configuration: nothing changed' : 'Reloaded server configuration',
    );
    return changed;
  }

  /**
   * The system account's `$SYS.REQ` services, (re)started for the accounts in force: at start, and
   * after a reload that changed the accounts (so a new account gets its system imports and a new
   * system account answers). Only when accounts are declared: without them no one is a system user.
   */
  private async startSysServices(): Promise<void> {
    this.sysServices?.stop();
    this.sysServices = null;
    if (!this.accounts.declared || this.door.events === null || this.closing !== null) return;
    const { SysServices } = await import('./nats/sys-services.js');
    this.sysServices = new SysServices(this, this.door.events);
    this.sysServices.start();
  }

  /**
   * nats-server reload.go reloadAuthorization → enableJetStreamAccounts, once the accounts were
   * rewired (AccountSet.apply) and their clients re-checked: an account that lost JetStream,
   * changed its limits or was removed has its JetStream closed (its streams stay on disk and come
   * back when the account enables JetStream again); one that gained it, or changed limits, starts
   * it from its directory; accounts without it answer `$JS.API` with 10039.
   */
  private async reloadJetStreamAccounts(): Promise<void> {
    // Shutdown and lame duck stop JetStream for good: a reload does not bring it back.
    const stopping = (): boolean => this.closing !== null || this.lameDuck !== null;
    if (!this.options.jetstream || stopping()) return;
    for (const [name, js] of [...this.jetstreams]) {
      const acc = this.accounts.get(name);
      const want = acc === undefined ? null : this.jetStreamLimitsOf(acc);
      if (want !== null && JSON.stringify(want) === JSON.stringify(this.jsLimits.get(name))) continue;
      this.jetstreams.delete(name);
      this.jsLimits.delete(name);
      await js.close();
    }
    for (const [name, d] of [...this.jsDisabled]) {
      const acc = this.accounts.get(name);
      if (acc !== undefined && this.jetStreamLimitsOf(acc) === null) continue;
      d.stop();
      this.jsDisabled.delete(name);
    }
    const [jsModule, disabledModule] = await Promise.all([
      import('./nats/jetstream/jetstream.js'),
      import('./nats/jetstream/disabled.js'),
    ]);
    const storeDir = join(this.options.dataDir, 'jetstream');
    for (const acc of this.accounts.byName.values()) {
      if (stopping()) return;
      if (this.jetstreams.has(acc.name) || this.jsDisabled.has(acc.name)) continue;
      await this.startAccountJetStream(acc, storeDir, jsModule.JetStream, disabledModule.JetStreamDisabled);
    }
    this.jetstream = this.jetstreams.size === 0 ? null : (this.jetstream ?? new jsModule.JetStreamSet(this.jetstreams));
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
        stopAccepting: () => {
          void this.door.stopAccepting();
          void this.redis?.stopAccepting();
        },
        stopJetStream: async () => {
          if (this.jetstream !== null) await this.jetstream.close();
        },
        openClients: () => [
          ...[...this.door.connections.values()].map((c) => ({ close: () => c.close('Server Shutdown') })),
          // Redis clients are closed in the same spread (Redis has no ldm notice; its clients reconnect).
          ...[...(this.redis?.connections.values() ?? [])].map((c) => ({ close: () => c.close() })),
        ],
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
      if (this.redis?.durability != null) await this.redis.durability.close();
      if (this.monitor !== null) await this.monitor.close();
      this.sysServices?.stop();
      for (const d of this.jsDisabled.values()) d.stop();
      this.accounts.close();
      if (this.dataLock !== null) await this.dataLock.release();
      if (this.portsFile !== null) rmSync(this.portsFile, { force: true });
      this.log.info('herald stopped');
    })();
    return this.closing;
  }
}

/** The Redis TLS listener's certificate, key and CA (load.ts filled in certFile/keyFile). */
function redisSecureContext(r: RedisTlsSettings): ReturnType<typeof secureContextOptions> {
  return secureContextOptions({
    certFile: r.certFile!,
    keyFile: r.keyFile!,
    caFile: r.caFile,
    ciphers: null,
    curves: null,
    minVersion: 'TLSv1.2',
  });
}

function urlHost(h: string): string {
  if (h === '0.0.0.0' || h === '::' || h === '') return '127.0.0.1';
  return h.includes(':') ? `[${h}]` : h;
}
