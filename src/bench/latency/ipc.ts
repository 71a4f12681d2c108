/**
 * The messages between the latency orchestrator and its generator processes (JSON over the IPC
 * channel): `init` → `ready`; `start` (with the common schedule start) → publishers say
 * `finished` when their schedule ran out; `poll` → `progress`; `stop` → `result`.
 */

/** The wire a role speaks: NATS core, JetStream (publish with acks / pull consumer), Redis pub/sub. */
export type LatProtocol = 'nats' | 'js' | 'redis';

/** One generator process's instructions. */
export interface LatRoleConfig {
  kind: 'pub' | 'sub';
  protocol: LatProtocol;
  /** For errors and connection names. */
  label: string;
  url: string;
  /** Publishers: one global publisher id per connection. */
  pubIds: number[];
  /** Publishers: the subject/channel per connection. Subscribers: what each connection subscribes to. */
  subjects: string[];
  /** Subscribers: the subjects are patterns (Redis PSUBSCRIBE; NATS wildcards need nothing). */
  pattern: boolean;
  /** Payload bytes (at least STAMP_BYTES). */
  payload: number;
  /** Publishers: `open` follows the rate schedule; `closed` sends as fast as acks allow (calibration). */
  mode: 'open' | 'closed';
  /** Open mode: messages per second for this whole process (spread round-robin over its connections). */
  rate: number;
  /** Unrecorded warm-up before the measured window, ms (messages still count for loss). */
  warmupMs: number;
  /** Measured window, ms. */
  durationMs: number;
  /** Run tag in every stamp; other tags are ignored by subscribers. */
  tag: number;
  /** Closed mode: messages per batch and batches (or acks) in flight, per connection. */
  batch: number;
  window: number;
  /** JetStream consumer: stream, durable, pull size. */
  stream?: string;
  consumer?: string;
  /** Connecting (all connections) must finish within this, ms. */
  connectTimeoutMs: number;
}

/** A publisher process's outcome. */
export interface PubResult {
  kind: 'pub';
  /** Messages written per publisher id (warm-up included). */
  sent: Record<string, number>;
  /** Messages the schedule asked for that could not be written: the connection's bounded send buffer was full. */
  blocked: number;
  /** Replies/acks counted (Redis replies, JetStream acks). */
  acks: number;
  errors: number;
  firstError: string | null;
  disconnects: number;
  /** Schedule lag (write time − intended time), encoded histogram, measured window only. */
  lag: string | null;
  /** Monotonic ms: schedule start (after warm-up) and last write. */
  startAt: number | null;
  endAt: number | null;
}

/** A subscriber process's outcome. */
export interface SubResult {
  kind: 'sub';
  /** Per connection: distinct messages received per publisher id. */
  received: Record<string, number>[];
  duplicates: number;
  /** Messages with another run's tag or no stamp. */
  foreign: number;
  /** Latency from the intended send time (coordinated-omission corrected), encoded histogram. */
  latency: string | null;
  /** Latency from the actual write, for comparison (what a closed-loop generator would report). */
  service: string | null;
  errors: number;
  firstError: string | null;
  disconnects: number;
  firstRecvAt: number | null;
  lastRecvAt: number | null;
}

export type LatResult = PubResult | SubResult;

/** Orchestrator → generator. */
export type LatParentMsg = { t: 'init'; cfg: LatRoleConfig } | { t: 'start'; atMs: number } | { t: 'poll' } | { t: 'stop' };

/** Generator → orchestrator. */
export type LatChildMsg =
  | { t: 'ready' }
  | { t: 'finished'; at: number }
  | { t: 'progress'; sent: number; received: number; disconnects: number }
  | { t: 'result'; result: LatResult }
  | { t: 'error'; message: string };

/** A generator role inside its process. */
export interface LatRole {
  start(atMs: number): void;
  progress(): { sent: number; received: number; disconnects: number };
  stop(): Promise<LatResult>;
}
