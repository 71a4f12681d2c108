import { TurnFlush } from '../core/turn-flush.js';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import type { Router } from '../core/router.js';
import type { Logger } from '../core/log.js';
import type { ServerOptions } from '../config/options.js';
import type { ConnectionRegistry } from '../core/connections.js';
import { NatsErrors } from '../core/errors.js';
import { natsLimitPolicy, verdictOnTick, type LimitPolicy } from '../core/backpressure.js';
import { NatsConnection } from './connection.js';
import { LOOPBACK, authRequired, newNonce, nonceRequired } from '../core/auth.js';
import { NatsTls, tlsInfoFields } from './tls.js';
import type { AccountSet } from '../core/accounts.js';
import type { SystemEvents } from './events.js';

/** The version herald advertises in INFO. specs/nats.md §0: clients gate features on it; 2.10.x
 * enables everything herald serves (consumers API, filter_subjects) and nothing newer. */
export const ADVERTISED_VERSION = '2.10.24';
/** Longest gap between housekeeping passes (pings, auth timeouts, write deadlines). */
const MAX_TICK_MS = 1000;
const MIN_TICK_MS = 10;

/** A server id in nats-server's shape: 'N' + 55 base32 characters. */
export function newServerId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(55);
  let s = 'N';
  for (let i = 0; i < 55; i++) s += alphabet[bytes[i] & 31];
  return s;
}

/**
 * The NATS door: accepts TCP connections, greets them with INFO, and runs their housekeeping
 * (server PINGs and stale detection, the CONNECT deadline, write deadlines) from one timer for
 * all connections. Flushes every connection that queued output once per event-loop turn. Its
 * connections are registered in the server's ConnectionRegistry (ids, /connz, closed ring).
 */
export class NatsDoor {
  readonly connections = new Map<number, NatsConnection>();
  /** The NATS limit policy for every connection's output: the router holds publishers and
   * closes slow consumers by it (src/core/backpressure.ts). */
  readonly limitPolicy: LimitPolicy;
  slowConsumers = 0;
  port = 0;
  /** Where CONNECT binds a client (by its user's account); null = everyone in `router` ($G). */
  accounts: AccountSet | null = null;
  /** The system account's connect/disconnect events; null = none. */
  events: SystemEvents | null = null;
  /** Clients must authenticate (INFO `auth_required`); changes only through reloadAuth(). */
  authRequired: boolean;
  /** Bumped by every reloadAuth: a credential verdict computed under an older value is stale. */
  authGeneration = 0;
  /** INFO carries a per-connection nonce for nkey users to sign. */
  private sendNonce: boolean;
  /** TLS of this door (src/nats/tls.ts); null when it speaks plaintext only. */
  readonly tls: NatsTls | null;
  private readonly turnFlush = new TurnFlush<NatsConnection>();
  private readonly server: net.Server;
  private ticker: NodeJS.Timeout | null = null;
  /** Set once the listener is closing (stopAccepting). */
  private accepting: Promise<void> | null = null;

  constructor(
    readonly router: Router,
    readonly opts: ServerOptions,
    readonly log: Logger,
    readonly serverId: string,
    private readonly info: () => Record<string, unknown>,
    private readonly registry: ConnectionRegistry,
  ) {
    this.limitPolicy = natsLimitPolicy(opts.maxPending, opts.writeDeadlineMs);
    this.authRequired = authRequired(opts.auth);
    this.sendNonce = nonceRequired(opts.auth);
    this.tls = opts.tls === null ? null : new NatsTls(opts.tls, log);
    this.server = net.createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Listens on opts.host:opts.port (0 = any free port); resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(err);
      this.server.once('error', onError);
      this.server.listen({ host: this.opts.host, port: this.opts.port, backlog: 1024 }, () => {
        this.server.off('error', onError);
        this.server.on('error', (err) => this.log.error({ err }, 'NATS listener error'));
        const addr = this.server.address() as net.AddressInfo;
        this.port = addr.port;
        this.logExposure();
        const tick = Math.max(MIN_TICK_MS, Math.min(MAX_TICK_MS, this.opts.pingIntervalMs / 4, this.opts.authTimeoutMs / 4));
        this.ticker = setInterval(() => this.housekeeping(), tick);
        this.ticker.unref();
        resolve(this.port);
      });
    });
  }

  /**
   * Safe defaults (docs/security.md): say where the door listens, and warn loudly when it is
   * reachable from other machines while anyone may connect.
   */
  private logExposure(): void {
    const host = this.opts.host;
    const loopback = LOOPBACK.test(host);
    const auth = this.authRequired ? 'required' : 'none';
    const tls = this.opts.tls === null ? 'off' : this.opts.tls.allowNonTls ? 'available' : 'required';
    this.log.info(
      { host, port: this.port, loopback, auth, tls },
      loopback
        ? 'NATS door listening on loopback only (other machines cannot connect; --host changes this)'
        : 'NATS door listening',
    );
    if (!loopback && !this.authRequired) {
      this.log.warn(
        { host, port: this.port },
        'SECURITY WARNING: the NATS door listens on a non-loopback interface WITHOUT authentication: anyone who can reach this port can publish, subscribe and delete streams. Set --user/--pass or --auth (or an authorization block, docs/security.md), or listen on 127.0.0.1',
      );
    }
  }

  /**
   * Applies `opts.auth` after a config reload: new connections see it at once; every connected
   * client is re-checked (NatsConnection.reauthorize). Resolves when all verdicts are in.
   */
  async reloadAuth(): Promise<void> {
    this.authGeneration++;
    this.authRequired = authRequired(this.opts.auth);
    this.sendNonce = nonceRequired(this.opts.auth);
    await Promise.all([...this.connections.values()].map((c) => c.reauthorize()));
  }

  /**
   * Stops accepting new connections (lame duck, shutdown); existing ones go on. Resolves once
   * the listener is closed and every connection has gone.
   */
  stopAccepting(): Promise<void> {
    this.accepting ??= new Promise<void>((resolve) => this.server.close(() => resolve()));
    return this.accepting;
  }

  /**
   * nats-server route.go sendAsyncInfoToClients: an INFO with `extra` (e.g. `ldm: true`) to every
   * connection that finished CONNECT with protocol ≥ 1 (clients that understand async INFO).
   */
  sendAsyncInfo(extra: Record<string, unknown>): void {
    for (const c of this.connections.values()) {
      if (!c.connectReceived || !c.supportsAsyncInfo) continue;
      const info: Record<string, unknown> = { ...this.info(), ...extra };
      if (this.authRequired) info.auth_required = true;
      info.client_id = c.id;
      info.client_ip = c.ip;
      c.queue(Buffer.from(`INFO ${JSON.stringify(info)} \r\n`));
    }
  }

  /** Stops accepting, closes every connection (flushing what is queued), and the listener. */
  async close(): Promise<void> {
    if (this.ticker !== null) clearInterval(this.ticker);
    const closing = this.stopAccepting();
    this.tls?.closeAll();
    for (const c of [...this.connections.values()]) c.close('Server Shutdown');
    for (const c of this.connections.values()) c.socket.destroy();
    await closing;
  }

  private accept(socket: net.Socket): void {
    const cid = this.registry.nextId();
    const nonce = this.sendNonce ? newNonce() : '';
    const info = (): Buffer => {
      const o: Record<string, unknown> = { ...this.info() };
      if (this.authRequired) o.auth_required = true;
      if (this.opts.tls !== null) Object.assign(o, tlsInfoFields(this.opts.tls));
      if (nonce !== '') o.nonce = nonce;
      o.client_id = cid;
      o.client_ip = socket.remoteAddress ?? '';
      // nats-server writes `INFO <json> \r\n` (note the space before CRLF).
      return Buffer.from(`INFO ${JSON.stringify(o)} \r\n`);
    };
    if (this.tls === null) this.open(cid, socket, nonce, info());
    else this.tls.accept(socket, cid, info, (s, infoSent) => this.open(cid, s, nonce, infoSent ? null : info()));
  }

  /** Starts the NATS session on `socket` (plain, or TLS once its handshake is done); queues INFO unless it was sent. */
  private open(cid: number, socket: net.Socket, nonce: string, info: Buffer | null): void {
    const conn = new NatsConnection(cid, socket, this);
    conn.nonce = nonce;
    this.connections.set(cid, conn);
    this.registry.add('nats', conn);
    if (info !== null) conn.queue(info);
    if (this.opts.maxConnections > 0 && this.connections.size > this.opts.maxConnections) {
      conn.fatal(NatsErrors.MaxConnectionsExceeded, 'Maximum Connections Exceeded');
    }
  }

  /** Called by a connection the first time it queues output in a turn. */
  markDirty(conn: NatsConnection): void {
    this.turnFlush.mark(conn);
  }

  onClosed(conn: NatsConnection): void {
    if (!this.connections.delete(conn.id)) return;
    this.registry.remove(conn, conn.closeReason ?? '');
  }

  private housekeeping(): void {
    const now = Date.now();
    const o = this.opts;
    for (const c of this.connections.values()) {
      if (!c.connectReceived && now - c.start > o.authTimeoutMs) {
        c.fatal(NatsErrors.AuthenticationTimeout, 'Authentication Timeout');
        continue;
      }
      // The write deadline (and any soft limit) is the router's policy; the door only asks.
      const pending = c.socket.writableLength;
      const v = verdictOnTick(c.outlet, pending, now);
      if (v !== 'ok') {
        c.overLimit(v, pending);
        continue;
      }
      if (now - c.lastActivity >= o.pingIntervalMs && now - c.lastPingAt >= o.pingIntervalMs) {
        // specs/nats.md §1: 2 unanswered server PINGs → 'Stale Connection'.
        if (c.pingsOut + 1 > o.maxPingsOut) {
          c.fatal(NatsErrors.StaleConnection, 'Stale Connection');
          continue;
        }
        c.lastPingAt = now;
        c.sendPing();
      }
    }
  }
}
