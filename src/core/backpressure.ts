/**
 * Backpressure, owned by the router and applied to any door's publishers and subscribers.
 *
 * The walk: a door tells the router which of its connections is being read right now
 * (`begin`/`end` around parsing). When a delivery leaves a subscriber ("outlet") with more bytes
 * pending than its door's policy allows (`stallAt`), the router holds that publisher: the door
 * stops reading its input (`pauseInput`) until the outlet has drained below `stallAt` again. The
 * hold lasts for as long as the outlet keeps draining; if the outlet makes no progress for
 * `STALL_PATIENCE_MS` it is taken for stuck, the publisher is released, and the outlet's own limits
 * (hard pending limit, soft limit, no-progress deadline) close it. A publisher may be its own
 * outlet (a connection publishing to its own subscription): its writes go on while its reads wait.
 *
 * nats-server client.go (2.9): `queueOutbound` marks a consumer stalled past half of max_pending,
 * `deliverMsg` → `stalledWait` blocks the producer's read loop until the consumer's `flushOutbound`
 * drains it (at most `stallClientMaxDuration`, 1 s, per wait), and `handleWriteTimeout` closes a
 * consumer whose write made no progress for the write deadline. Redis networking.c,
 * `checkClientOutputBufferLimits`: a pub/sub client past the hard limit, or past the soft limit
 * for longer than its seconds, is closed; Redis never slows the publisher.
 */
import { totalmem } from 'node:os';

/** How long a held publisher waits for an outlet that makes no progress at all before the outlet
 * is taken for stuck and the publisher goes on (nats-server 2.9 stallClientMaxDuration). */
export const STALL_PATIENCE_MS = 1000;
/** How often held outlets are checked for progress while any publisher is held (one timer). */
export const STALL_CHECK_MS = 50;
/**
 * Default server-wide budget for outbound bytes (all connections' pending bytes together): this
 * share of the machine's memory (os.totalmem). An eighth leaves room for the heap, stream indexes
 * and the page cache the stores need; `max_outbound` overrides it.
 */
export const DEFAULT_OUTBOUND_SHARE = 1 / 8;

/** The outbound budget for a `maxOutbound` option: itself when positive, else the default share of memory. */
export function outboundBudget(maxOutbound: number): number {
  return maxOutbound > 0 ? maxOutbound : Math.floor(totalmem() * DEFAULT_OUTBOUND_SHARE);
}

/** A connection's reading side, as the router sees a publisher. */
export interface Producer {
  readonly closed: boolean;
  /** Stop taking input (a socket pause); bytes already read may still be processed. */
  pauseInput(): void;
  resumeInput(): void;
}

/** A connection's writing side, as the router sees a subscriber. */
export interface Outlet {
  readonly closed: boolean;
  /** Bytes queued for this connection that the OS has not taken yet. */
  readonly pendingBytes: number;
}

/**
 * A door's limit policy for its outlets' pending bytes. Plain data, so a door states its
 * reference server's rule in one object (see `natsLimitPolicy`, `redisPubSubLimitPolicy`).
 * `Infinity` or 0 disable a limit as noted per field.
 */
export interface LimitPolicy {
  readonly name: string;
  /** Past this many pending bytes the current publisher is held (Infinity: never held). */
  readonly stallAt: number;
  /** Past this many pending bytes the outlet is closed at once (Infinity: never). */
  readonly hardLimit: number;
  /** Past this many pending bytes for longer than `softMs` the outlet is closed (Infinity: never). */
  readonly softLimit: number;
  readonly softMs: number;
  /** Bytes pending and none written for this long closes the outlet (0: never). */
  readonly noProgressMs: number;
}

/** NATS: hold the publisher from half of max_pending, close past max_pending, close a consumer
 * whose writes made no progress for the write deadline (nats-server client.go). */
export function natsLimitPolicy(maxPending: number, writeDeadlineMs: number): LimitPolicy {
  return {
    name: 'nats',
    stallAt: maxPending / 2,
    hardLimit: maxPending,
    softLimit: Infinity,
    softMs: 0,
    noProgressMs: writeDeadlineMs,
  };
}

/** Redis `client-output-buffer-limit pubsub 32mb 8mb 60` (redis.conf default): never hold the
 * publisher; close past the hard limit, or past the soft limit for `softSeconds` in a row. */
export function redisPubSubLimitPolicy(hard = 32 * 1024 * 1024, soft = 8 * 1024 * 1024, softSeconds = 60): LimitPolicy {
  return {
    name: 'redis-pubsub',
    stallAt: Infinity,
    hardLimit: hard > 0 ? hard : Infinity,
    softLimit: soft > 0 ? soft : Infinity,
    softMs: softSeconds * 1000,
    noProgressMs: 0,
  };
}

/** What a policy decides about an outlet: go on, hold the current publisher, or close (and why). */
export type Verdict = 'ok' | 'hold' | 'close-hard' | 'close-soft' | 'close-stalled' | 'close-budget';

/**
 * The policy's per-outlet memory; a door's connection owns one. Costs a few numbers per connection.
 */
export class OutletState {
  /** When bytes last left for the OS, or when bytes started to be pending (ms since epoch). */
  lastProgress = Date.now();
  /** Since when pending bytes have been over the soft limit (0 = not over it). */
  softSince = 0;
  /** Set when this outlet made no progress for STALL_PATIENCE_MS while holding a publisher; it
   * then holds no publisher until it makes progress again. */
  stuck = false;
  /** Publishers this outlet holds right now (null = none). */
  held: Producer[] | null = null;
  /** Pending bytes of this outlet counted in the server-wide outbound total. */
  accounted = 0;

  constructor(readonly policy: LimitPolicy) {}
}

/**
 * Decides, after bytes were queued to an outlet, whether the outlet must close or the current
 * publisher must be held. Pure: no clock read unless a soft limit is set.
 */
export function verdictOnQueued(state: OutletState, pending: number): Verdict {
  const p = state.policy;
  if (pending > p.hardLimit) return 'close-hard';
  if (pending > p.softLimit) {
    const now = Date.now();
    if (state.softSince === 0) state.softSince = now;
    else if (now - state.softSince > p.softMs) return 'close-soft';
  } else state.softSince = 0;
  return pending > p.stallAt && !state.stuck ? 'hold' : 'ok';
}

/** Decides, on a periodic check, whether an outlet broke its soft limit or its no-progress deadline. */
export function verdictOnTick(state: OutletState, pending: number, now: number): Verdict {
  const p = state.policy;
  if (pending === 0) {
    state.softSince = 0;
    return 'ok';
  }
  if (p.noProgressMs > 0 && now - state.lastProgress > p.noProgressMs) return 'close-stalled';
  if (pending > p.softLimit) {
    if (state.softSince === 0) state.softSince = now;
    else if (now - state.softSince > p.softMs) return 'close-soft';
  } else state.softSince = 0;
  return 'ok';
}

/**
 * Who holds whom, and the server-wide outbound budget. One per router. Costs on the delivery path
 * one call (`overBudget`, two additions) per queued message; past an outlet's `stallAt` or the
 * budget, a Map update per hold and one timer (every STALL_CHECK_MS) while holds exist.
 *
 * The budget policy: while all connections' pending bytes together exceed `budget`, every
 * delivery holds its publisher (as past an outlet's own `stallAt`, released when that outlet
 * drains), so publishers go at the pace of the subscribers that read; an outlet given up on as stuck (no progress for
 * STALL_PATIENCE_MS while holding a publisher) is closed as a slow consumer on its next delivery
 * while the total is still over the budget ('close-budget'). Memory for outbound data thus stays
 * near the budget however many subscribers stop reading; the per-connection limits still apply.
 */
export class Backpressure {
  /** Times a publisher was held, and outlets given up on as stuck (for monitoring). */
  stalls = 0;
  stuckOutlets = 0;
  /** Outlets closed because the server-wide budget was exceeded (for monitoring). */
  budgetCloses = 0;
  /** Server-wide cap on outbound pending bytes (Infinity: none). */
  budget = Number.POSITIVE_INFINITY;
  /** All outlets' pending bytes as last reported. */
  outboundBytes = 0;
  private current: Producer | null = null;
  /** How many outlets hold each held publisher. */
  private readonly holds = new Map<Producer, number>();
  private readonly holding = new Map<Outlet, OutletState>();
  private timer: NodeJS.Timeout | null = null;

  /** The publisher whose input is being processed right now (null outside a door's parse). */
  get currentProducer(): Producer | null {
    return this.current;
  }

  /** A door calls this before processing a publisher's input, and `end` after. */
  begin(p: Producer): void {
    this.current = p;
  }

  end(): void {
    this.current = null;
  }

  /** True while `p` is held by some outlet. */
  isHeld(p: Producer): boolean {
    return this.holds.has(p);
  }

  /**
   * Called by a door after queuing bytes to `outlet`: applies its policy. Returns the verdict; on
   * a close verdict the caller closes the outlet (and calls `outletClosed`).
   */
  queued(outlet: Outlet, state: OutletState, pending: number): Verdict {
    this.account(state, pending);
    let v = verdictOnQueued(state, pending);
    if (v === 'ok' && this.outboundBytes > this.budget) {
      if (state.stuck) {
        this.budgetCloses++;
        return 'close-budget';
      }
      v = 'hold';
    }
    if (v === 'hold') this.hold(outlet, state);
    return v;
  }

  /**
   * Called by a door after queuing bytes to an outlet below its own `stallAt`: counts them in the
   * outbound total and says whether the total is over the budget (then the door calls `queued`).
   */
  overBudget(state: OutletState, pending: number): boolean {
    this.outboundBytes += pending - state.accounted;
    state.accounted = pending;
    return this.outboundBytes > this.budget;
  }

  /** Called by a door when bytes left for the OS: releases held publishers once drained. */
  progressed(outlet: Outlet, state: OutletState, now: number): void {
    state.lastProgress = now;
    state.stuck = false;
    const pending = outlet.pendingBytes;
    this.account(state, pending);
    if (state.held !== null && pending <= state.policy.stallAt) this.release(outlet, state);
  }

  /** Called by a door when an outlet closes: whatever it held goes on. */
  outletClosed(outlet: Outlet, state: OutletState): void {
    this.account(state, 0);
    if (state.held !== null) this.release(outlet, state);
  }

  private account(state: OutletState, pending: number): void {
    this.outboundBytes += pending - state.accounted;
    state.accounted = pending;
  }

  private hold(outlet: Outlet, state: OutletState): void {
    const p = this.current;
    if (p === null || p.closed) return;
    let held = state.held;
    if (held === null) held = state.held = [];
    else if (held.includes(p)) return;
    held.push(p);
    const n = this.holds.get(p) ?? 0;
    this.holds.set(p, n + 1);
    if (n === 0) {
      this.stalls++;
      p.pauseInput();
    }
    this.holding.set(outlet, state);
    if (this.timer === null) {
      this.timer = setInterval(() => this.check(), STALL_CHECK_MS);
      this.timer.unref();
    }
  }

  private release(outlet: Outlet, state: OutletState): void {
    const held = state.held;
    state.held = null;
    this.holding.delete(outlet);
    if (held !== null) {
      for (const p of held) {
        const n = (this.holds.get(p) ?? 1) - 1;
        if (n > 0) {
          this.holds.set(p, n);
          continue;
        }
        this.holds.delete(p);
        if (!p.closed) p.resumeInput();
      }
    }
    if (this.holding.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Gives up on outlets that made no progress for STALL_PATIENCE_MS, or that closed. */
  private check(): void {
    const now = Date.now();
    for (const [outlet, state] of this.holding) {
      if (outlet.closed) this.release(outlet, state);
      else if (outlet.pendingBytes <= state.policy.stallAt && (this.outboundBytes <= this.budget || outlet.pendingBytes === 0)) {
        // Held for the budget: only its own progress (`progressed`) or the total falling releases it.
        this.release(outlet, state);
      } else if (now - state.lastProgress >= STALL_PATIENCE_MS) {
        state.stuck = true;
        this.stuckOutlets++;
        this.release(outlet, state);
      }
    }
  }
}
