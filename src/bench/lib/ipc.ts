/**
 * The messages between the bench orchestrator and its load-generator processes (forked, JSON
 * over the IPC channel). A worker is told its role once (`init`), reports `ready` when connected
 * and subscribed, starts on `start`, answers `poll` with progress, and ends with one result:
 * `done` when it finishes by itself (publishers, latency loops), `result` when told to `stop`.
 */
import type { LatencySummary } from './hdr.js';

/** Every role a worker process can play. */
export type RoleName =
  | 'nats-pub'
  | 'nats-sub'
  | 'nats-requester'
  | 'nats-replier'
  | 'js-pub'
  | 'js-sync'
  | 'js-consume'
  | 'js-consume-fan'
  | 'redis-pub'
  | 'redis-sub'
  | 'redis-xadd'
  | 'redis-xadd-sync'
  | 'redis-xreadgroup'
  | 'client-pub'
  | 'client-sub';

/** One worker's instructions. Fields a role does not use are ignored. */
export interface RoleConfig {
  role: RoleName;
  /** Name in the report and in the server's connection list. */
  label: string;
  /** Server URL (nats:// or redis://). */
  url: string;
  /** Subject, channel or stream key to publish to / read from. */
  subject: string;
  /** Payload size, bytes. */
  payload: number;
  /** Subscriber connections opened by this process. */
  connections: number;
  /** NATS queue group for subscribers, if any. */
  queue?: string;
  /** Messages per pre-encoded batch (publishers), or per pull/read (consumers). */
  batch: number;
  /** Batches in flight (core, Redis) or messages awaiting an ack (JetStream). */
  window: number;
  /** The measured phase stops after this long... */
  durationMs: number;
  /** ...or after this many messages, whichever comes first. */
  maxMessages: number;
  /** Latency loops: requests sent and discarded before measuring. */
  warmup: number;
  /** Requester: how long to measure the protocol PING floor before the requests. */
  floorMs: number;
  /** JetStream stream and durable consumer; Redis consumer group. */
  stream?: string;
  consumer?: string;
  group?: string;
  /** JetStream push consumer: the deliver subject the consumer role subscribes to (no pulls). */
  deliver?: string;
  /** Connecting and subscribing must finish within this. */
  connectTimeoutMs: number;
}

/** Counts so far, for the progress display and the drain. */
export interface Progress {
  sent: number;
  received: number;
  disconnects: number;
}

/** What a worker reports at the end. Times are monotonic ms (comparable across processes). */
export interface RoleResult {
  label: string;
  role: RoleName;
  /** Messages published, requests sent. */
  sent: number;
  /** Messages delivered to subscribers, acks, replies, entries consumed. */
  received: number;
  /** Error replies (-ERR, JetStream error acks, RESP errors, no-responders). */
  errors: number;
  firstError: string | null;
  /** Answers that were not for this role's request or stream (see accounting.ts); absent = 0. */
  misrouted?: number;
  /** Connections the server closed during the run (each is reconnected, bounded). */
  disconnects: number;
  /** Start and end of the measured phase (publisher: first write to last PONG/ack). */
  startAt: number | null;
  endAt: number | null;
  /** First and last delivery seen (subscribers), at read-chunk granularity. */
  firstRecvAt: number | null;
  lastRecvAt: number | null;
  /** Messages received per connection (queue-group distribution). */
  perConnection: number[];
  latency?: LatencySummary;
  /** Requester: the protocol PING round trip, the floor under request/reply. */
  floor?: LatencySummary;
}

/** Orchestrator → worker. */
export type ParentMsg = { t: 'init'; cfg: RoleConfig } | { t: 'start' } | { t: 'poll' } | { t: 'stop' };

/** Worker → orchestrator. */
export type ChildMsg =
  | { t: 'ready' }
  | { t: 'measuring'; at: number }
  | { t: 'progress'; p: Progress }
  | { t: 'done'; result: RoleResult }
  | { t: 'result'; result: RoleResult }
  | { t: 'error'; message: string };

/** A fresh result with nothing counted yet. */
export function emptyResult(cfg: RoleConfig): RoleResult {
  return {
    label: cfg.label,
    role: cfg.role,
    sent: 0,
    received: 0,
    errors: 0,
    firstError: null,
    disconnects: 0,
    startAt: null,
    endAt: null,
    firstRecvAt: null,
    lastRecvAt: null,
    perConnection: [],
  };
}
