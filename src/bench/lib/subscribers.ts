/**
 * What the NATS and Redis subscriber roles share: a counting connection that reconnects (and
 * re-subscribes) when the server drops it, and the role that runs `connections` of them.
 */
import type net from 'node:net';
import type { Role } from '../workers/role.js';
import { nowMs } from './cpu.js';
import { emptyResult, type RoleConfig } from './ipc.js';

/** Reconnects per subscriber connection before giving up on it (keeps a flapping run bounded). */
const MAX_RECONNECTS = 1000;
/** Pause before a reconnect, ms: enough for the server to finish closing the old one. */
const RECONNECT_DELAY_MS = 20;

/**
 * One subscriber connection. A subclass's `open()` connects and subscribes, reports messages with
 * `counted()`, and hands its ready socket to `adopt()`; a drop reopens it after a short pause.
 */
export abstract class ReconnectingSub {
  count = 0;
  disconnects = 0;
  firstAt: number | null = null;
  lastAt: number | null = null;
  private socket: net.Socket | null = null;
  private stopped = false;

  /** Connects and subscribes; resolves once messages can arrive. */
  abstract open(): Promise<void>;

  /** Adds `got` messages that just arrived (zero is ignored). */
  protected counted(got: number): void {
    if (got <= 0) return;
    this.count += got;
    const t = nowMs();
    this.firstAt ??= t;
    this.lastAt = t;
  }

  /** Takes over the subscribed socket: its close triggers a reconnect. */
  protected adopt(socket: net.Socket): void {
    socket.on('close', () => this.onClose());
    this.socket = socket;
  }

  private onClose(): void {
    if (this.stopped) return;
    this.disconnects++;
    if (this.disconnects > MAX_RECONNECTS) return;
    setTimeout(() => {
      if (this.stopped) return;
      this.open().catch(() => this.onClose());
    }, RECONNECT_DELAY_MS);
  }

  /** Stops for good: no reconnects after this. */
  close(): void {
    this.stopped = true;
    this.socket?.destroy();
  }
}

/**
 * A subscriber role: opens `cfg.connections` subscribers made by `make` (one at a time), counts
 * what they receive with no backpressure, and on stop reports totals, per-connection counts and
 * the first and last arrival across them.
 */
export async function subscriberRole(cfg: RoleConfig, make: (index: number) => ReconnectingSub): Promise<Role> {
  const subs: ReconnectingSub[] = [];
  for (let i = 0; i < cfg.connections; i++) {
    const s = make(i);
    await s.open();
    subs.push(s);
  }
  const res = emptyResult(cfg);
  const total = (): number => subs.reduce((a, s) => a + s.count, 0);
  const disc = (): number => subs.reduce((a, s) => a + s.disconnects, 0);
  return {
    start() {
      res.startAt = nowMs();
    },
    progress: () => ({ sent: 0, received: total(), disconnects: disc() }),
    async stop() {
      for (const s of subs) s.close();
      res.endAt = nowMs();
      res.received = total();
      res.disconnects = disc();
      res.perConnection = subs.map((s) => s.count);
      const firsts = subs.map((s) => s.firstAt).filter((x): x is number => x !== null);
      const lasts = subs.map((s) => s.lastAt).filter((x): x is number => x !== null);
      res.firstRecvAt = firsts.length ? Math.min(...firsts) : null;
      res.lastRecvAt = lasts.length ? Math.max(...lasts) : null;
      return res;
    },
  };
}
