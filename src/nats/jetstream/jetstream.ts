/**
 * JetStream, the NATS door onto streams: it starts the protocol-free set of streams
 * (`src/stream/streams.ts`) with the NATS codec, attaches to every stream an ingest (its
 * subjects → `Stream.append` → JSON ack) and, with allow_direct, its DIRECT.GET
 * subscriptions, serves the `$JS.API` (api.ts), and builds the monitoring bodies (info.ts).
 * The server sees it as a JetStreamService (close, jsz, accountInfo).
 */
import { JsErrors, type JsApiError } from '../../core/errors.js';
import type { Logger } from '../../core/log.js';
import type { Router } from '../../core/router.js';
import type { SyncPolicy } from '../../store/store.js';
import type { Storage, StreamConfig } from '../../stream/config.js';
import type { Stream } from '../../stream/stream.js';
import { Streams, type StreamCodec } from '../../stream/streams.js';
import type { Scheduler } from '../../stream/timers.js';
import type { ConsumerConfig } from '../../stream/consumer-config.js';
import type { Consumer } from '../../stream/consumer.js';
import { JsApi } from './api.js';
import { ConsumerService, ConsumerWire } from './consumer-wire.js';
import { consumerAction, streamAction } from './advisories.js';
import { configJson, NATS_RESERVED_SUBJECTS, STREAM_CONFIG_SCHEMA } from './config.js';
import { DirectGet } from './direct-get.js';
import { decodeGoJson } from './gojson.js';
import { goTime, parseGoTime } from './gotime.js';
import { H, headerValue } from './headers.js';
import { accountInfo, jsz, type ApiCounters } from './info.js';
import { StreamIngest } from './ingest.js';
import type { ServerBudget } from '../../stream/server-budget.js';

/** What `JetStream.start` needs; the server builds it from ServerOptions. */
export interface JetStreamOptions {
  /** Root of durable state: streams live in `<storeDir>/streams/<name>/`. */
  storeDir: string;
  /** Server-wide budgets in bytes for file and memory streams; -1 = unlimited. */
  maxFileStore: number;
  maxMemStore: number;
  /** When a file-store append counts as durable (and a publish is acked). */
  sync: SyncPolicy;
  logger: Logger;
  /** Per-account counts (`accounts { A: { jetstream { max_streams, max_consumers } } }`); absent or -1 = unlimited. */
  maxStreams?: number;
  maxConsumers?: number;
  /** The server's budget shared by every account's JetStream (absent: one account, the server's own limits). */
  serverBudget?: ServerBudget;
}

/**
 * How streams read and write what the NATS door defined: the msg id in a stored header block,
 * and meta.json's config (the JetStream echo, decoded strictly) and times (Go RFC 3339).
 */
export const NATS_STREAM_CODEC: StreamCodec = {
  msgId: (headers) => headerValue(headers, H.MsgId) ?? '',
  configToMeta: configJson,
  configFromMeta(stored) {
    const d = decodeGoJson(Buffer.from(JSON.stringify(stored)), STREAM_CONFIG_SCHEMA);
    if (d.error !== null) throw new Error(`config does not decode: ${d.error}`);
    return d.value;
  },
  reserved: NATS_RESERVED_SUBJECTS,
  timeToMeta: goTime,
  timeFromMeta: parseGoTime,
};

/** The door's per-stream attachments. */
interface Attached {
  ingest: StreamIngest;
  direct: DirectGet;
}

/**
 * A running JetStream. Owns the set of streams and the API; `close()` detaches the door, then
 * syncs and closes every store. Per publish it costs what the ingest costs; everything else
 * runs per API request.
 */
export class JetStream implements ApiCounters {
  apiTotal = 0;
  apiErrors = 0;
  private readonly api: JsApi;
  private readonly attached = new Map<string, Attached>();
  private readonly wires = new WeakMap<Consumer, ConsumerWire>();
  private readonly consumerService: ConsumerService;
  private closed = false;

  private constructor(
    readonly router: Router,
    readonly all: Streams,
    private readonly maxStreams = -1,
    private readonly maxConsumers = -1,
  ) {
    this.api = new JsApi(this);
    this.consumerService = new ConsumerService(router, all, (c) => this.wires.get(c));
  }

  /** Recovers every stream under `storeDir`, attaches the door to each, then subscribes the API. */
  static async start(router: Router, opts: JetStreamOptions): Promise<JetStream> {
    const all = await Streams.start({ ...opts, codec: NATS_STREAM_CODEC });
    const js = new JetStream(router, all, opts.maxStreams ?? -1, opts.maxConsumers ?? -1);
    for (const s of all.streams.values()) js.attach(s);
    js.consumerService.start();
    js.api.start();
    return js;
  }

  /** Live streams by name. */
  get streams(): ReadonlyMap<string, Stream> {
    return this.all.streams;
  }

  get scheduler(): Scheduler {
    return this.all.scheduler;
  }

  get logger(): Logger {
    return this.all.logger;
  }

  private attach(s: Stream): void {
    const a: Attached = {
      ingest: new StreamIngest(this.router, s, this.logger),
      direct: new DirectGet(this.router, s, this.logger),
    };
    a.ingest.attach();
    a.direct.sync();
    this.attached.set(s.name, a);
    for (const c of s.consumers.values()) this.wire(c);
  }

  /** Connects a consumer to the wire: deliveries, statuses, advisories. */
  private wire(c: Consumer): void {
    const w = new ConsumerWire(this.router, this.all, c);
    this.wires.set(c, w);
    c.attach(w);
  }

  /** Creates a consumer from a checked config and connects it to the wire. */
  createConsumer(s: Stream, cfg: ConsumerConfig): Consumer {
    const c = this.all.createConsumer(s, cfg);
    this.wire(c);
    return c;
  }

  private detach(name: string): void {
    const a = this.attached.get(name);
    if (a === undefined) return;
    a.ingest.detach();
    a.direct.detach();
    this.attached.delete(name);
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle, as the API asks for it

  /** Creates, persists, starts and attaches a stream whose config passed every check. */
  async createStream(cfg: StreamConfig): Promise<Stream> {
    const s = await this.all.createStream(cfg);
    this.attach(s);
    streamAction(this.router, s.name, 'create');
    return s;
  }

  /** Persists and applies `next`, then follows its subjects and allow_direct. */
  async updateStream(s: Stream, next: StreamConfig): Promise<void> {
    await this.all.updateStream(s, next);
    const a = this.attached.get(s.name);
    if (a !== undefined) {
      a.ingest.sync();
      a.direct.sync();
    }
    streamAction(this.router, s.name, 'modify');
  }

  /** Detaches, then stops and removes a stream with all its messages. */
  async deleteStream(s: Stream): Promise<void> {
    this.detach(s.name);
    const consumers = [...s.consumers.keys()];
    await this.all.deleteStream(s);
    // nats-server stream.go stop: each consumer's DELETED, then the stream's.
    for (const c of consumers) consumerAction(this.router, s.name, c, 'delete');
    streamAction(this.router, s.name, 'delete');
  }

  /** The budget check of `Streams.checkReservation` as the API error (10047 / 10028), or null. */
  checkReservation(storage: Storage | null, addBytes: number, except = ''): JsApiError | null {
    const over = this.all.checkReservation(storage, addBytes, except);
    if (over === null) return null;
    return over === 'file' ? JsErrors.StorageResourcesExceededErr : JsErrors.MemoryResourcesExceededErr;
  }

  /** True when the account may not add a stream (nats-server 10027, `max_streams`). */
  streamLimitReached(): boolean {
    return this.maxStreams >= 0 && this.all.streams.size >= this.maxStreams;
  }

  /** True when the account may not add a consumer (nats-server 10026, account `max_consumers`). */
  consumerLimitReached(): boolean {
    if (this.maxConsumers < 0) return false;
    let n = 0;
    for (const s of this.all.streams.values()) n += s.consumers.size;
    return n >= this.maxConsumers;
  }

  // -------------------------------------------------------------------------------------------
  // JetStreamService

  accountInfo(): object {
    const body = accountInfo(this.all, this) as { limits: Record<string, unknown> };
    body.limits.max_streams = this.maxStreams;
    body.limits.max_consumers = this.maxConsumers;
    return body;
  }

  jsz(query: URLSearchParams): object {
    return jsz(this.all, this, query);
  }

  /** Unsubscribes the API and every stream's subscriptions, then syncs and closes the streams. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.api.stop();
    this.consumerService.stop();
    await this.api.idle();
    for (const name of [...this.attached.keys()]) this.detach(name);
    await this.all.close();
  }
}

/**
 * The JetStreams of every JetStream-enabled account, seen by the server and monitoring as one
 * service: `/jsz` sums the accounts' totals and names each account in `account_details`;
 * `accountInfo` is `$G`'s (or the first account's). Costs nothing on the message path.
 */
export class JetStreamSet {
  constructor(readonly byAccount: ReadonlyMap<string, JetStream>) {}

  accountInfo(): object {
    const js = this.byAccount.get('$G') ?? this.byAccount.values().next().value;
    return js === undefined ? {} : js.accountInfo();
  }

  jsz(query: URLSearchParams): object {
    const only = [...this.byAccount];
    if (only.length === 1 && only[0]![0] === '$G') return only[0]![1].jsz(query);
    const acc = query.get('acc') ?? '';
    let merged: Record<string, unknown> | null = null;
    for (const [name, js] of only) {
      const q = new URLSearchParams(query);
      // info.ts details the account it is asked for as `$G`; ask for it under that name, or for none.
      if (acc !== '') q.set('acc', acc === name ? '$G' : '\u0000');
      const body = js.jsz(q) as Record<string, unknown>;
      const details = (body.account_details as Record<string, unknown>[] | undefined)?.map((d) => ({ ...d, name, id: name }));
      if (details !== undefined) body.account_details = details;
      merged = merged === null ? { ...body } : mergeJsz(merged, body);
    }
    if (merged === null) return {};
    merged.accounts = only.length;
    return merged;
  }

  async close(): Promise<void> {
    await Promise.all([...this.byAccount.values()].map((js) => js.close()));
  }
}

/** Sums numbers, concatenates lists and adds `api` counters of two /jsz bodies; the rest is `a`'s. */
function mergeJsz(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(b)) {
    const prev = a[k];
    if (typeof v === 'number' && typeof prev === 'number') a[k] = prev + v;
    else if (Array.isArray(v)) a[k] = [...((prev as unknown[] | undefined) ?? []), ...v];
    else if (k === 'api' && prev !== undefined) {
      const p = prev as { total: number; errors: number };
      const q = v as { total: number; errors: number };
      a[k] = { ...p, total: p.total + q.total, errors: p.errors + q.errors };
    } else if (prev === undefined) a[k] = v;
  }
  return a;
}
