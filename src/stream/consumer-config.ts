/**
 * Consumer configuration, protocol-free: the normalized config a consumer runs with (every
 * default applied, durations in ns, field names the JetStream wire names so the door's echo is a
 * copy) and the small rules the semantics need (is it durable, its filters, the wait before a
 * redelivery). Validation with nats-server's error texts is the door's
 * (`src/nats/jetstream/consumer-config.ts`). specs/nats.md §5 "Config fields".
 */

export type DeliverPolicy = 'all' | 'last' | 'new' | 'by_start_sequence' | 'by_start_time' | 'last_per_subject';
export type AckPolicy = 'none' | 'all' | 'explicit';
export type ReplayPolicy = 'instant' | 'original';

/** nats-server JsAckWaitDefault: 30 s. */
export const DEFAULT_ACK_WAIT_NS = 30_000_000_000;
/** nats-server JsDefaultMaxAckPending: how many unacked messages a consumer may hold. */
export const DEFAULT_MAX_ACK_PENDING = 1000;
/** nats-server JSWaitQueueDefaultMax: waiting pull requests per consumer. */
export const DEFAULT_MAX_WAITING = 512;
/** nats-server JsDeleteWaitTimeDefault: an ephemeral with no activity goes after 5 s. */
export const DEFAULT_INACTIVE_THRESHOLD_NS = 5_000_000_000;

/**
 * A normalized consumer config. Immutable once a consumer holds it (updates replace the object).
 * `opt_start_time` is ns since the epoch (null when unset); durations are ns.
 */
export interface ConsumerConfig {
  name: string;
  durable_name: string;
  description: string;
  deliver_policy: DeliverPolicy;
  opt_start_seq: number;
  opt_start_time: bigint | null;
  ack_policy: AckPolicy;
  ack_wait: number;
  max_deliver: number;
  backoff: number[];
  filter_subject: string;
  filter_subjects: string[];
  replay_policy: ReplayPolicy;
  rate_limit_bps: number;
  sample_freq: string;
  max_waiting: number;
  max_ack_pending: number;
  headers_only: boolean;
  max_batch: number;
  max_expires: number;
  max_bytes: number;
  inactive_threshold: number;
  num_replicas: number;
  mem_storage: boolean;
  metadata: Record<string, string> | null;
  deliver_subject: string;
  deliver_group: string;
  flow_control: boolean;
  idle_heartbeat: number;
  /** Deliveries wait until this time (ns since the epoch); null = not paused (nats-server 2.11). */
  pause_until?: bigint | null;
}

/** The subjects a consumer selects: filter_subjects, or [filter_subject], or [] for all. */
export function consumerFilters(c: ConsumerConfig): string[] {
  if (c.filter_subjects.length > 0) return c.filter_subjects;
  return c.filter_subject === '' ? [] : [c.filter_subject];
}

/** Pull consumers have no deliver subject. */
export function isPull(c: ConsumerConfig): boolean {
  return c.deliver_subject === '';
}

/** How long (ns) the `dc`-th delivery waits for its ack: backoff[min(dc-1, len-1)] or ack_wait. */
export function ackWaitFor(c: ConsumerConfig, dc: number): number {
  const b = c.backoff;
  if (b.length === 0) return c.ack_wait;
  return b[Math.min(Math.max(dc - 1, 0), b.length - 1)];
}

/**
 * The blob a durable consumer's config is persisted as in its consumer-state store: JSON of the
 * normalized config (opt_start_time as a decimal ns string) and the creation time. Read back by
 * recovery without a door.
 */
export function encodeConsumerMeta(cfg: ConsumerConfig, created: bigint): Buffer {
  const pu = cfg.pause_until ?? null;
  const c = {
    ...cfg,
    opt_start_time: cfg.opt_start_time === null ? null : cfg.opt_start_time.toString(),
    pause_until: pu === null ? null : pu.toString(),
  };
  return Buffer.from(JSON.stringify({ version: 1, created: created.toString(), config: c }));
}

/** The config and creation time in a blob `encodeConsumerMeta` wrote; throws when it is not one. */
export function decodeConsumerMeta(blob: Buffer): { cfg: ConsumerConfig; created: bigint } {
  const o = JSON.parse(blob.toString('utf8')) as { version: number; created: string; config: Record<string, unknown> };
  if (o.version !== 1 || typeof o.config !== 'object' || o.config === null) throw new Error('unknown consumer config blob');
  const t = o.config.opt_start_time;
  const pu = o.config.pause_until;
  const cfg = {
    ...o.config,
    opt_start_time: typeof t === 'string' ? BigInt(t) : null,
    pause_until: typeof pu === 'string' ? BigInt(pu) : null,
  } as unknown as ConsumerConfig;
  return { cfg, created: BigInt(o.created) };
}
