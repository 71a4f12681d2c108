/**
 * One JetStream-style consumer, protocol-free (specs/nats.md §5 "Delivery semantics", "Pull
 * requests"): where it starts (deliver policies), what it selects (filters), what is pending an
 * ack and when it is due again (ack_wait, backoff, max_deliver, nak delays), the throttle
 * (max_ack_pending), the queue of waiting pull requests (batch, max_bytes, expires, no_wait,
 * heartbeats), and the counters consumer info reports. It is woken by `Stream.observe` on every
 * append and by the one scheduler (`timers.ts`): one deadline per consumer, never one per message.
 * Bytes on the wire are the door's (`ConsumerSink`); a request target is an opaque string to it.
 */
import { subjectMatches } from '../core/subject.js';
import { ConsumerBook } from '../store/consumer-state.js';
import type { ConsumerState, ConsumerStore, StoredMsg } from '../store/store.js';
import { ackWaitFor, consumerFilters, type ConsumerConfig } from './consumer-config.js';
import { DeadlineHeap } from './consumer-heap.js';
import type { Stream } from './stream.js';
import type { TimerOwner } from './timers.js';
import { PushGate } from './consumer-push.js';
import { Pace, sampleFraction } from './consumer-pace.js';

/** Why a pull request ended without filling its batch (the door picks the status it sends). */
export type PullEnd = 'no-messages' | 'timeout' | 'max-bytes' | 'batch-completed' | 'deleted';

/** Why a pull request was refused before it was queued. */
export type PullRefusal =
  | { kind: 'max-waiting' }
  | { kind: 'max-batch'; limit: number }
  | { kind: 'max-expires'; limit: number }
  | { kind: 'max-bytes'; limit: number };

/** A pull request as the door parsed it. Durations in ms; 0 = none. */
export interface PullRequest {
  /** Where messages and statuses go (the door's reply subject). */
  target: string;
  batch: number;
  /** Bytes the request may receive in total; 0 = no limit. */
  maxBytes: number;
  expiresMs: number;
  noWait: boolean;
  heartbeatMs: number;
}

/**
 * What a consumer needs from the door that serves it. Every call is synchronous and must not
 * throw; `deliver` hands one message to a request target with its ack coordinates.
 */
export interface ConsumerSink {
  /** Returns the bytes the delivery took (subject + reply + headers + payload), for flow control. */
  deliver(target: string, m: StoredMsg, dc: number, dseq: number, pending: number): number;
  /** The request ended: `batchLeft` messages and `bytesLeft` bytes were not used. */
  end(target: string, why: PullEnd, batchLeft: number, bytesLeft: number): void;
  /** An idle heartbeat; `stalled` is the reply subject of an unanswered flow-control request. */
  heartbeat(target: string, stalled?: string): void;
  /** Sends a flow-control request to a push target; returns the reply subject it asked on. */
  flowControl(target: string): string;
  /** False when nobody listens on `target` any more (the request is dropped unanswered). */
  hasInterest(target: string): boolean;
  /** Calls `cb` (synchronously, from inside the router) whenever interest in `target` may have
   * changed; returns the function that stops it. */
  watchInterest(target: string, cb: () => void): () => void;
  /** The size a message counts for against a request's max_bytes. */
  size(m: StoredMsg): number;
  /** `sseq` reached max_deliver and will not be delivered again. */
  maxDeliveries(sseq: number, deliveries: number): void;
  /** The consumer went unused for inactive_threshold: the door deletes it. */
  inactive(): void;
  /** A sampled ack (sample_freq): `delayNs` from the delivery to the ack. */
  ackSampled(sseq: number, dseq: number, deliveries: number, delayNs: number): void;
  /** The pause changed (set, cleared, or its deadline passed): `paused` is the state now. */
  pauseChanged(until: bigint | null, paused: boolean): void;
}

/** A pull request waiting in the queue. */
interface Waiting {
  target: string;
  batch: number;
  maxBytes: number;
  bytesLeft: number;
  /** ms since epoch; 0 = never. */
  expiresAt: number;
  noWait: boolean;
  hbMs: number;
  hbAt: number;
  /** Messages delivered to this request so far. */
  sent: number;
}

/** Push deliveries per turn, over all the pumps of that turn (timer, acks, appends); the rest
 * follow on the next timer turn so other clients get the loop and the socket drains between. */
export const PUSH_BATCH = 256;

/** Redeliveries queued ahead of new messages are compacted once this many were consumed. */
const RDQ_COMPACT_AT = 1024;

/** One message chosen for delivery, before it is committed. */
interface Next {
  m: StoredMsg;
  dc: number;
  redelivery: boolean;
  fromLps: boolean;
}

/**
 * A live consumer. Costs per pending message: one ConsumerBook entry (~100 bytes), one deadline
 * Map entry and one heap slot (16 bytes); per delivery one store read, the bookkeeping and, for a
 * durable, one consumer-state record; per append one filter match. Waiting requests are bounded by
 * max_waiting.
 */
export class Consumer implements TimerOwner {
  private readonly book = new ConsumerBook();
  /** Due time (ms) of each pending message's current delivery; the heap may hold stale copies. */
  private readonly deadlines = new Map<number, number>();
  private readonly heap = new DeadlineHeap();
  /** Stream seqs due again, in the order they became due. */
  private rdq: number[] = [];
  private rdqHead = 0;
  private readonly inRdq = new Set<number>();
  /** last_per_subject: the start seqs still to deliver, ascending. */
  private lps: number[] | null = null;
  private lpsHead = 0;
  /** Next stream seq to look at for new messages. */
  private cursor = 1;
  /** Matching messages at or after the cursor (plus lps left), kept incrementally. */
  private npending = 0;
  private waiting: Waiting[] = [];
  /** Push consumers: the deliver subject's interest, heartbeat and flow-control gate. */
  private push: PushGate | null = null;
  private pushMore = false;
  private unwatch: (() => void) | null = null;
  private sink: ConsumerSink | null = null;
  private unobserve: (() => void) | null = null;
  private filters: string[];
  private pumping = false;
  /** replay_policy original and rate_limit_bps; `paceAt` is when the held message may go (ms). */
  private pace: Pace;
  private paceAt = 0;
  /** sample_freq as a fraction: acks reported to the sink with this probability. */
  private sample: number;
  /** Paused as last reported to the sink, so the deadline's passing is reported once. */
  private wasPaused = false;
  private closed = false;
  private lastActive = Date.now();

  private constructor(
    readonly stream: Stream,
    public cfg: ConsumerConfig,
    /** Persistent state (durables), or null: the state lives only here. */
    private readonly store: ConsumerStore | null,
    /** Creation time, ns since the epoch. */
    readonly created: bigint,
  ) {
    this.filters = consumerFilters(cfg);
    this.pace = this.newPace();
    this.sample = sampleFraction(cfg.sample_freq);
  }

  private newPace(): Pace {
    const cfg = this.cfg;
    const last = this.stream.state().lastSeq;
    return new Pace(cfg.replay_policy === 'original', cfg.rate_limit_bps, this.stream.cfg.max_msg_size, last);
  }

  /** The consumer's name (durable_name or name). */
  get name(): string {
    return this.cfg.durable_name !== '' ? this.cfg.durable_name : this.cfg.name;
  }

  /** True when its state is persisted (a durable on a file stream). */
  get persistent(): boolean {
    return this.store !== null;
  }

  /**
   * A new consumer on `stream`, positioned by its deliver policy. With a store, the config blob
   * and the starting state are written (durable once `stream.whenDurable` fires).
   */
  static create(stream: Stream, cfg: ConsumerConfig, store: ConsumerStore | null, created: bigint, blob: Buffer): Consumer {
    const c = new Consumer(stream, cfg, store, created);
    c.position();
    if (store !== null) {
      store.setConfig(blob);
      store.update(c.book.copy());
    }
    c.start();
    return c;
  }

  /** A consumer brought back from its store after a restart: every pending message is due after ack_wait. */
  static restore(stream: Stream, cfg: ConsumerConfig, store: ConsumerStore, created: bigint): Consumer {
    const c = new Consumer(stream, cfg, store, created);
    const st: ConsumerState = store.state();
    c.book.replace(st);
    c.cursor = st.delivered.streamSeq + 1;
    const now = Date.now();
    for (const [sseq, p] of c.book.pending) {
      const at = Math.max(now, Math.floor(p.ts / 1e6) + ackWaitFor(cfg, p.dc) / 1e6);
      c.deadlines.set(sseq, at);
      c.heap.push(at, sseq);
    }
    c.npending = c.countPending();
    c.start();
    return c;
  }

  private start(): void {
    this.unobserve = this.stream.observe((seq, subject) => this.onAppend(seq, subject));
    this.arm();
  }

  /** (Re)builds the push gate from the config and watches the deliver subject's interest. The
   * router's callback only schedules a re-check: it runs inside a SUB or UNSUB. */
  private watchPush(): void {
    this.unwatch?.();
    this.unwatch = null;
    const sink = this.sink;
    const cfg = this.cfg;
    if (cfg.deliver_subject === '') {
      this.push = null;
      return;
    }
    const old = this.push;
    this.push = new PushGate(cfg.deliver_subject, cfg.idle_heartbeat, cfg.flow_control);
    if (old !== null && old.target === this.push.target && cfg.flow_control) this.push.fcid = old.fcid;
    if (sink === null) return;
    const target = cfg.deliver_subject;
    this.unwatch = sink.watchInterest(target, () => queueMicrotask(() => this.interestChanged()));
    this.push.setActive(sink.hasInterest(target), Date.now());
  }

  private interestChanged(): void {
    const p = this.push;
    const sink = this.sink;
    if (p === null || sink === null || this.closed) return;
    const now = Date.now();
    const was = p.active;
    p.setActive(sink.hasInterest(p.target), now);
    if (was && !p.active) this.lastActive = now;
    this.pump();
  }

  /** A client answered flow-control request `id` (the reply subject it was sent with). */
  flowControlAnswered(id: string): void {
    if (this.push !== null && this.push.answered(id)) this.pump();
  }

  /** nats-server consumer.go info: push_bound is a push consumer whose deliver subject has interest. */
  get pushBound(): boolean {
    return this.push !== null && this.push.active;
  }

  /** nats-server consumer.go selectStartingSeqNo: the first seq to deliver, and delivered = it - 1. */
  private position(): void {
    const cfg = this.cfg;
    const st = this.stream.state();
    let start = st.firstSeq > 0 ? st.firstSeq : 1;
    switch (cfg.deliver_policy) {
      case 'all':
        break;
      case 'new':
        start = st.lastSeq + 1;
        break;
      case 'last': {
        let last: StoredMsg | null = null;
        for (const f of this.filters.length === 0 ? ['>'] : this.filters) {
          const m = this.stream.store.lastBySubject(f);
          if (m !== null && (last === null || m.seq > last.seq)) last = m;
        }
        start = last === null ? st.lastSeq + 1 : last.seq;
        break;
      }
      case 'by_start_sequence':
        start = Math.max(cfg.opt_start_seq, 1);
        break;
      case 'by_start_time':
        start = cfg.opt_start_time === null ? start : this.stream.seqFromTime(cfg.opt_start_time);
        if (start === 0) start = st.lastSeq + 1;
        break;
      case 'last_per_subject': {
        const seqs: number[] = [];
        for (const f of this.filters.length === 0 ? ['>'] : this.filters) {
          for (const subj of this.stream.subjectCounts(f).keys()) {
            const m = this.stream.store.lastBySubject(subj);
            if (m !== null) seqs.push(m.seq);
          }
        }
        seqs.sort((a, b) => a - b);
        this.lps = seqs;
        start = seqs.length > 0 ? seqs[0] : st.lastSeq + 1;
        break;
      }
    }
    this.cursor = this.lps !== null ? st.lastSeq + 1 : start;
    this.book.delivered.streamSeq = start - 1;
    this.npending = this.countPending();
  }

  // -------------------------------------------------------------------------------------------
  // Counters (consumer info)

  /** Matching messages not yet delivered (redeliveries not counted), recounted from the store. */
  numPending(): number {
    this.npending = this.countPending();
    return this.npending;
  }

  private countPending(): number {
    let n = this.lps === null ? 0 : this.lps.length - this.lpsHead;
    const store = this.stream.store;
    if (this.filters.length === 0) n += store.countMatching(this.cursor, '>');
    else for (const f of this.filters) n += store.countMatching(this.cursor, f);
    return n;
  }

  get numAckPending(): number {
    return this.cfg.ack_policy === 'none' ? 0 : this.book.pending.size;
  }

  get numRedelivered(): number {
    return this.book.redelivered.size;
  }

  get numWaiting(): number {
    return this.waiting.length;
  }

  get delivered(): { consumerSeq: number; streamSeq: number; lastActive: number } {
    return this.book.delivered;
  }

  get ackFloor(): { consumerSeq: number; streamSeq: number; lastActive: number } {
    return this.book.ackFloor;
  }

  /** True while pause_until lies ahead (nats-server consumer.go loopAndGatherMsgs: no deliveries). */
  isPaused(now: number): boolean {
    const pu = this.cfg.pause_until ?? null;
    return pu !== null && now < Number(pu / 1_000_000n);
  }

  /** ms left of the pause, 0 when not paused. */
  pauseRemainingMs(now: number): number {
    return this.isPaused(now) ? Number(this.cfg.pause_until! / 1_000_000n) - now : 0;
  }

  // -------------------------------------------------------------------------------------------
  // Door side

  /** Connects the door that delivers; deliveries wait until one is attached. */
  attach(sink: ConsumerSink): void {
    this.sink = sink;
    this.watchPush();
    // nats-server consumer.go setLeader: a consumer that starts paused says so.
    this.wasPaused = this.isPaused(Date.now());
    if (this.wasPaused) sink.pauseChanged(this.cfg.pause_until ?? null, true);
    this.pump();
  }

  /** Replaces the config (an update the door checked), persisting `blob` for a durable. */
  applyUpdate(cfg: ConsumerConfig, blob: Buffer): void {
    const pauseBefore = this.cfg.pause_until ?? null;
    if (cfg.rate_limit_bps !== this.cfg.rate_limit_bps) this.pace = this.newPace();
    this.sample = sampleFraction(cfg.sample_freq);
    this.cfg = cfg;
    // nats-server consumer.go updateConfig: a changed pause_until is announced.
    if ((cfg.pause_until ?? null) !== pauseBefore) {
      this.wasPaused = this.isPaused(Date.now());
      this.sink?.pauseChanged(cfg.pause_until ?? null, this.wasPaused);
    }
    this.filters = consumerFilters(cfg);
    this.store?.setConfig(blob);
    this.watchPush();
    this.pump();
  }

  /**
   * Queues a pull request (or refuses it). Requests are served round robin, one message at a
   * time; redeliveries go ahead of new messages.
   */
  pull(req: PullRequest): PullRefusal | null {
    const cfg = this.cfg;
    this.lastActive = Date.now();
    if (cfg.max_batch > 0 && req.batch > cfg.max_batch) return { kind: 'max-batch', limit: cfg.max_batch };
    if (cfg.max_expires > 0 && req.expiresMs * 1e6 > cfg.max_expires) return { kind: 'max-expires', limit: cfg.max_expires };
    if (cfg.max_bytes > 0 && req.maxBytes > cfg.max_bytes) return { kind: 'max-bytes', limit: cfg.max_bytes };
    // nats-server processNextMsgRequest: a full queue refuses, unless the request only waits for heartbeats.
    if (this.waiting.length >= cfg.max_waiting && req.heartbeatMs === 0) return { kind: 'max-waiting' };
    const now = Date.now();
    this.waiting.push({
      target: req.target,
      batch: Math.max(req.batch, 1),
      maxBytes: req.maxBytes,
      bytesLeft: req.maxBytes,
      expiresAt: req.expiresMs > 0 ? now + req.expiresMs : 0,
      // no_wait with expires waits for messages like any request and ends with a timeout.
      noWait: req.noWait && req.expiresMs === 0,
      hbMs: req.heartbeatMs,
      hbAt: req.heartbeatMs > 0 ? now + req.heartbeatMs : 0,
      sent: 0,
    });
    this.pump();
    return null;
  }

  /** `+ACK` (or the ack of ack-all up to `sseq`). Returns true when something was acked. */
  ack(sseq: number, dseq: number): boolean {
    this.lastActive = Date.now();
    const policy = this.cfg.ack_policy;
    if (policy === 'none') return false;
    let done = false;
    if (policy === 'all') {
      const upTo: [number, number][] = [];
      for (const [s, p] of this.book.pending) if (s <= sseq) upTo.push([s, p.dseq]);
      upTo.sort((a, b) => a[0] - b[0]);
      for (const [s, d] of upTo) done = this.ackOne(s, d, s === sseq) || done;
    } else {
      done = this.ackOne(sseq, dseq, true);
    }
    if (done) this.pump();
    return done;
  }

  /** `+TERM`: never delivered again; counts as acked. Returns the deliveries it had, or 0. */
  term(sseq: number, dseq: number): number {
    const p = this.book.pending.get(sseq);
    if (p === undefined) return 0;
    const dc = p.dc;
    this.ackOne(sseq, dseq);
    this.pump();
    return dc;
  }

  /** `-NAK [delay]`: due again now, or after `delayMs`. Returns the deliveries so far, or 0. */
  nak(sseq: number, delayMs: number): number {
    this.lastActive = Date.now();
    const p = this.book.pending.get(sseq);
    if (p === undefined) return 0;
    if (delayMs > 0) {
      const at = Date.now() + delayMs;
      this.deadlines.set(sseq, at);
      this.heap.push(at, sseq);
      this.arm();
    } else {
      this.due(sseq);
      this.pump();
    }
    return p.dc;
  }

  /** `+WPI`: restarts the ack timer of `sseq`. */
  progress(sseq: number): void {
    this.lastActive = Date.now();
    const p = this.book.pending.get(sseq);
    if (p === undefined) return;
    const at = Date.now() + ackWaitFor(this.cfg, p.dc) / 1e6;
    this.deadlines.set(sseq, at);
    this.heap.push(at, sseq);
    this.arm();
  }

  /** Calls `cb` once the consumer's writes so far are durable (at once when nothing persists). */
  whenDurable(cb: () => void): void {
    if (this.store === null) cb();
    else this.store.whenDurable(() => cb());
  }

  /**
   * Stops the consumer: the timer and the append observer go. `shutdown` (server close) keeps
   * everything; `delete` (CONSUMER.DELETE) ends waiting requests with `deleted` and removes the
   * persistent state; `stream-deleted` ends them too and leaves the state to the stream's removal.
   */
  async stop(mode: 'shutdown' | 'delete' | 'stream-deleted'): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unobserve?.();
    this.unobserve = null;
    this.unwatch?.();
    this.unwatch = null;
    this.stream.scheduler.cancel(this);
    const sink = this.sink;
    const waiting = this.waiting;
    this.waiting = [];
    if (sink !== null && mode !== 'shutdown') for (const w of waiting) sink.end(w.target, 'deleted', w.batch, w.bytesLeft);
    if (mode === 'delete' && this.store !== null) await this.store.delete();
  }

  // -------------------------------------------------------------------------------------------
  // Delivery

  private onAppend(seq: number, subject: string): void {
    if (seq < this.cursor || !this.selects(subject)) return;
    this.npending++;
    if (this.waiting.length > 0 || this.push !== null) this.pump();
  }

  /** True when this consumer selects messages on `subject` (its filters). */
  selects(subject: string): boolean {
    const f = this.filters;
    if (f.length === 0) return true;
    for (let i = 0; i < f.length; i++) if (subjectMatches(f[i], subject)) return true;
    return false;
  }

  /** Serves waiting requests while there is something to deliver. */
  private pump(): void {
    const sink = this.sink;
    if (sink === null || this.closed || this.pumping) return;
    this.pumping = true;
    this.paceAt = 0;
    try {
      const p = this.push;
      const paused = this.wasPaused && this.isPaused(Date.now());
      // Once a turn's PUSH_BATCH went out, only the timer continuation delivers more: a pump
      // started by each ack of a read (hundreds per read) must not deliver a batch of its own.
      if (p !== null && p.open && !paused && !this.pushMore) {
        let n = 0;
        const now = Date.now();
        for (let next = this.peek(); next !== null; next = this.peek()) {
          if (++n > PUSH_BATCH) {
            this.pushMore = true;
            break;
          }
          if (!this.pace.idle && this.held(next, now)) break;
          const dseq = this.commit(next);
          const size = sink.deliver(p.target, next.m, next.dc, dseq, this.npending);
          if (!this.pace.idle) this.pace.sent(Number(next.m.ts / 1_000_000n), sink.size(next.m), now);
          if (p.delivered(size, now)) p.requested(sink.flowControl(p.target));
          if (!p.open) break;
        }
      }
      while (this.waiting.length > 0) {
        const w = this.waiting[0];
        if (!sink.hasInterest(w.target)) {
          this.waiting.shift();
          continue;
        }
        // While paused a request waits (and expires); a no_wait one ends as if nothing were there.
        const next = paused ? null : this.peek();
        if (next === null) {
          if (!w.noWait) break;
          // nats-server (seen on 2.9 and in consumer.go processWaiting): no_wait ends with 404
          // when nothing was delivered, with 408 and the pending headers after a partial batch.
          this.waiting.shift();
          sink.end(w.target, w.sent === 0 ? 'no-messages' : 'timeout', w.batch, w.bytesLeft);
          continue;
        }
        const size = w.maxBytes > 0 ? sink.size(next.m) : 0;
        if (w.maxBytes > 0 && size > w.bytesLeft) {
          this.waiting.shift();
          sink.end(w.target, 'max-bytes', w.batch, w.bytesLeft);
          continue;
        }
        const now = Date.now();
        if (!this.pace.idle && this.held(next, now)) break;
        const dseq = this.commit(next);
        sink.deliver(w.target, next.m, next.dc, dseq, this.npending);
        if (!this.pace.idle) this.pace.sent(Number(next.m.ts / 1_000_000n), sink.size(next.m), now);
        w.batch--;
        w.sent++;
        w.bytesLeft -= size;
        if (w.hbMs > 0) w.hbAt = Date.now() + w.hbMs;
        this.waiting.shift();
        if (w.batch > 0) this.waiting.push(w);
        else if (w.maxBytes > 0 && w.bytesLeft > 0) sink.end(w.target, 'batch-completed', 0, w.bytesLeft);
      }
    } finally {
      this.pumping = false;
    }
    this.arm();
  }

  /** True when pacing holds `next` back; the deadline is then armed for when it may go. */
  private held(next: Next, now: number): boolean {
    const at = this.pace.holdUntil(next.m.seq, Number(next.m.ts / 1_000_000n), this.sink!.size(next.m), now);
    this.paceAt = at;
    return at > 0;
  }

  /** The next message to deliver, without taking it: a redelivery first, then a new message
   * unless max_ack_pending is reached. */
  private peek(): Next | null {
    const store = this.stream.store;
    while (this.rdqHead < this.rdq.length) {
      const sseq = this.rdq[this.rdqHead];
      const p = this.book.pending.get(sseq);
      const m = p === undefined ? null : store.get(sseq);
      if (p !== undefined && m !== null) return { m, dc: p.dc + 1, redelivery: true, fromLps: false };
      this.takeRdq();
      if (p !== undefined) this.ackOne(sseq, p.dseq); // the message is gone from the stream
    }
    const cfg = this.cfg;
    if (cfg.ack_policy !== 'none' && cfg.max_ack_pending > 0 && this.book.pending.size >= cfg.max_ack_pending) return null;
    while (this.lps !== null && this.lpsHead < this.lps.length) {
      const m = store.get(this.lps[this.lpsHead]);
      if (m !== null) return { m, dc: 1, redelivery: false, fromLps: true };
      this.lpsHead++;
      this.npending = Math.max(0, this.npending - 1);
    }
    const m = this.nextNew();
    return m === null ? null : { m, dc: 1, redelivery: false, fromLps: false };
  }

  private nextNew(): StoredMsg | null {
    const store = this.stream.store;
    const f = this.filters;
    if (f.length === 0) return store.nextMatching(this.cursor, '>');
    if (f.length === 1) return store.nextMatching(this.cursor, f[0]);
    let best: StoredMsg | null = null;
    for (const x of f) {
      const m = store.nextMatching(this.cursor, x);
      if (m !== null && (best === null || m.seq < best.seq)) best = m;
    }
    return best;
  }

  private takeRdq(): void {
    this.inRdq.delete(this.rdq[this.rdqHead]);
    this.rdqHead++;
    if (this.rdqHead >= RDQ_COMPACT_AT && this.rdqHead * 2 >= this.rdq.length) {
      this.rdq = this.rdq.slice(this.rdqHead);
      this.rdqHead = 0;
    }
  }

  /** Records the delivery of `n`; returns its consumer seq. */
  private commit(n: Next): number {
    const sseq = n.m.seq;
    const dseq = this.book.delivered.consumerSeq + 1;
    const now = Date.now();
    const ts = now * 1e6;
    this.lastActive = now;
    if (n.redelivery) this.takeRdq();
    else {
      if (n.fromLps) this.lpsHead++;
      else this.cursor = sseq + 1;
      this.npending = Math.max(0, this.npending - 1);
    }
    this.book.applyDelivered(dseq, sseq, n.dc, ts);
    this.store?.updateDelivered(dseq, sseq, n.dc, ts);
    if (this.cfg.ack_policy === 'none') {
      this.book.applyAck(dseq, sseq, ts);
      this.store?.updateAcks(dseq, sseq, ts);
    } else {
      const at = now + ackWaitFor(this.cfg, n.dc) / 1e6;
      this.deadlines.set(sseq, at);
      this.heap.push(at, sseq);
    }
    return dseq;
  }

  private ackOne(sseq: number, dseq: number, sampled = false): boolean {
    const p = this.book.pending.get(sseq);
    if (p === undefined) return false;
    const d = p.dseq > 0 ? p.dseq : dseq;
    const ts = Date.now() * 1e6;
    // nats-server consumer.go sampleAck: a share of acks reports how long the ack took.
    if (sampled && this.sample > 0 && (this.sample >= 1 || Math.random() < this.sample))
      this.sink?.ackSampled(sseq, d, p.dc, ts - p.ts);
    this.book.applyAck(d, sseq, ts);
    this.store?.updateAcks(d, sseq, ts);
    this.deadlines.delete(sseq);
    if (this.stream.cfg.retention !== 'limits') this.retire(sseq);
    return true;
  }

  /** Has this consumer acked (or, with ack none, delivered) stream seq `sseq`? */
  hasAcked(sseq: number): boolean {
    // nats-server consumer.go needAck: everything from the next start seq on is still owed; for
    // last_per_subject that is the next last-per-subject seq, not the cursor (past the stream end).
    const next = this.lps !== null && this.lpsHead < this.lps.length ? this.lps[this.lpsHead] : this.cursor;
    if (sseq >= next) return false;
    return this.cfg.ack_policy === 'none' || !this.book.pending.has(sseq);
  }

  /**
   * Retention after an ack (specs/nats.md §4 "Retention"): a workqueue message goes at its ack;
   * an interest message once every consumer that selects it has acked it.
   */
  private retire(sseq: number): void {
    const s = this.stream;
    if (s.cfg.retention === 'workqueue') {
      s.deleteMsg(sseq, false);
      return;
    }
    const m = s.store.get(sseq);
    if (m === null) return;
    for (const c of s.consumers.values()) if (c.selects(m.subject) && !c.hasAcked(sseq)) return;
    s.deleteMsg(sseq, false);
  }

  /** `sseq` is due for redelivery: queue it, or give up on it at max_deliver. */
  private due(sseq: number): void {
    const p = this.book.pending.get(sseq);
    if (p === undefined) return;
    this.deadlines.delete(sseq);
    const max = this.cfg.max_deliver;
    if (max > 0 && p.dc >= max) {
      // specs/nats.md §5: max_deliver reached: advisory once, drop from pending, advance the floor.
      const dc = p.dc;
      this.ackOne(sseq, p.dseq);
      this.sink?.maxDeliveries(sseq, dc);
      return;
    }
    if (this.inRdq.has(sseq)) return;
    this.inRdq.add(sseq);
    this.rdq.push(sseq);
  }

  // -------------------------------------------------------------------------------------------
  // Timer: redelivery deadlines, request expiry, heartbeats, inactivity

  onTimer(now: number): void {
    if (this.closed) return;
    // A new turn: push delivery may take its next PUSH_BATCH (see pump).
    this.pushMore = false;
    const sink = this.sink;
    if (this.waiting.length > 0 && sink !== null) {
      const keep: Waiting[] = [];
      for (const w of this.waiting) {
        if (w.expiresAt > 0 && w.expiresAt <= now) {
          sink.end(w.target, 'timeout', w.batch, w.bytesLeft);
          continue;
        }
        if (w.hbMs > 0 && w.hbAt <= now) {
          sink.heartbeat(w.target);
          w.hbAt = now + w.hbMs;
        }
        keep.push(w);
      }
      this.waiting = keep;
      this.lastActive = now;
    }
    const p = this.push;
    if (p !== null && sink !== null && p.active) {
      this.lastActive = now;
      if (p.hbMs > 0 && p.hbAt <= now) {
        // nats-server consumer.go sendIdleHeartbeat: a stalled consumer names the request to answer.
        sink.heartbeat(p.target, p.fcid === '' ? undefined : p.fcid);
        p.hbAt = now + p.hbMs;
      }
    }
    while (this.heap.size > 0 && this.heap.topAt() <= now) {
      const [at, sseq] = this.heap.pop();
      if (this.deadlines.get(sseq) === at) this.due(sseq);
    }
    const idle = this.inactiveAt();
    if (idle > 0 && idle <= now && sink !== null) {
      sink.inactive();
      return;
    }
    if (this.wasPaused && !this.isPaused(now)) {
      // nats-server consumer.go updatePauseState: the deadline passed; announce and resume.
      this.wasPaused = false;
      sink?.pauseChanged(this.cfg.pause_until ?? null, false);
    }
    this.pump();
  }

  /** When the consumer counts as abandoned (ms), or 0 when it never does. */
  private inactiveAt(): number {
    const t = this.cfg.inactive_threshold;
    if (t <= 0 || this.waiting.length > 0 || (this.push !== null && this.push.active)) return 0;
    return this.lastActive + t / 1e6;
  }

  private arm(): void {
    if (this.closed) return;
    let at = Infinity;
    if (this.heap.size > 0) at = this.heap.topAt();
    for (const w of this.waiting) {
      if (w.expiresAt > 0 && w.expiresAt < at) at = w.expiresAt;
      if (w.hbMs > 0 && w.hbAt < at) at = w.hbAt;
    }
    const idle = this.inactiveAt();
    if (idle > 0 && idle < at) at = idle;
    if (this.wasPaused) at = Math.min(at, Number(this.cfg.pause_until! / 1_000_000n));
    if (this.paceAt > 0) at = Math.min(at, this.paceAt);
    const p = this.push;
    const sched = this.stream.scheduler;
    if (p !== null) {
      if (this.pushMore) {
        // Keep a continuation that is already due rather than moving it on at every re-arm
        // (re-arming from every read could push it back for as long as reads keep coming).
        const now = Date.now();
        const d = sched.deadline(this);
        at = Math.min(at, d !== null && d <= now ? d : now);
      } else if (p.active && p.hbMs > 0 && p.hbAt < at) at = p.hbAt;
    }
    if (at === Infinity) sched.cancel(this);
    else if (sched.deadline(this) !== at) sched.schedule(this, at);
  }
}
