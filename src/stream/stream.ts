/**
 * One stream, protocol-free: the append path (expectations, dedupe, limits, rollups, durable
 * completion), expiry, the append observers, and the read and admin operations doors call.
 * It knows no wire format: headers are opaque bytes stored as given, expectations arrive parsed,
 * refusals leave as neutral kinds (`errors.ts`). specs/nats.md §3 "Publishing into streams" and
 * §4 "Streams" are the contract the NATS door holds it to.
 */
import type { Logger } from '../core/log.js';
import { nowNs } from '../store/clock.js';
import type { MessageStore, PurgeOptions, StoredMsg, StoreState } from '../store/store.js';
import type { StreamConfig, Storage } from './config.js';
import type { Consumer } from './consumer.js';
import { DedupeWindow } from './dedupe.js';
import { AppendErrors, type AppendError } from './errors.js';
import type { Scheduler, TimerOwner } from './timers.js';

/** nats-server refuses header blocks above 64 KiB (JSStreamHeaderExceedsMaximumErr). */
export const MAX_HEADER_BYTES = 65535;
/** Messages expired per timer wake-up; the rest go on the next turn so the loop stays responsive. */
export const EXPIRE_BATCH = 10_000;
/** Dedupe sweeps at most this often: look-ups check the window themselves, sweeps only free memory. */
export const DEDUPE_SWEEP_MS = 1000;
/** Completed appends kept at the head of the FIFO before it is compacted (amortised O(1)). */
const FIFO_COMPACT_AT = 1024;
/** Appends (duplicates included) waiting for durability before new ones are refused with
 * `insufficient-resources`: duplicates add no bytes to the store's write backlog, so without this a
 * stalled disk would let them queue without bound. ~1M × ~40 B of queue slots. */
export const MAX_PENDING_COMPLETIONS = 1_000_000;

/**
 * What a stream must read back out of the opaque header bytes a door stored: the dedupe id, when
 * the window is rebuilt on recovery. The door that wrote the headers supplies it.
 */
export interface HeaderCodec {
  /** The message id in `headers` ('' when none). */
  msgId(headers: Buffer | null): string;
}

/** What a stream needs from the set of streams that owns it. */
export interface StreamHost {
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  readonly codec: HeaderCodec;
  /** True when `bytes` more of `storage` fit the server budget (`maxFileStore` / `maxMemStore`). */
  budgetAllows(storage: Storage, bytes: number): boolean;
  /** Reports a change of this stream's stored bytes to the server-wide usage. */
  addUsage(storage: Storage, delta: number): void;
}

/**
 * A publisher's conditions on an append, already parsed from whatever the door received. Strings
 * are '' and sequences null when absent; a negative sequence (a value that did not parse) never
 * matches. Checked in nats-server's order (server/stream.go processJetStreamMsg).
 */
export interface Expectations {
  /** Dedupe id: an append whose id was stored within duplicate_window is acknowledged, not stored. */
  msgId: string;
  /** The stream the publisher means. */
  stream: string;
  /** The stream's last seq must be this. */
  lastSeq: number | null;
  /** The last seq on `lastSubjectSeqSubject` (or on the appended subject when that is '') must be this. */
  lastSubjectSeq: number | null;
  lastSubjectSeqSubject: string;
  /** The last stored message's id must be this. */
  lastMsgId: string;
  /** 'sub' keeps only this message on its subject, 'all' only this message in the stream; any
   * other non-empty value is refused (`rollup-invalid`). */
  rollup: string;
}

/** No expectation at all (what a door passes when the publisher stated none). */
export const NO_EXPECTATIONS: Readonly<Expectations> = Object.freeze({
  msgId: '',
  stream: '',
  lastSeq: null,
  lastSubjectSeq: null,
  lastSubjectSeqSubject: '',
  lastMsgId: '',
  rollup: '',
});

/** A stored (or deduplicated) append: its seq and stored time; `duplicate` when the msg id was
 * already stored and nothing new was written (seq and ts are the original's). */
export interface AppendAck {
  readonly seq: number;
  readonly ts: bigint;
  readonly duplicate: boolean;
}

/**
 * Completion of one append, called exactly once: with an error right away (nothing stored), or
 * with the ack once the record is durable per the sync policy (or the store's error if it could
 * not make it so). `ctx` is handed back as given, so a caller needs no closure per append.
 */
export type AppendDone<C> = (ctx: C, err: AppendError | null, ack: AppendAck | null) => void;

/** Told of every stored append, synchronously, before it is durable (reads already see it). */
export type AppendObserver = (seq: number, subject: string) => void;

/** What a single-message read asks for: one of seq / lastBySubject / nextBySubject, optionally
 * from the first message stored at or after `startTime` (ns). */
export interface GetRequest {
  seq?: number;
  lastBySubject?: string;
  nextBySubject?: string;
  startTime?: bigint;
}

const enum Rollup {
  None = 0,
  Subject = 1,
  All = 2,
}

/** Minimum gap between two per-publish failure log lines of one stream. */
const LOG_EVERY_MS = 10_000;

/**
 * A live stream. Owns its store (closing the stream closes it). `append` is synchronous up to
 * the store append; completion waits for the store's `whenDurable`. Costs per append: the
 * expectation checks asked for, one store append, one `state()` read when limits or budgets
 * apply, one FIFO entry and one ack object; no timers, no parsing, no JSON.
 */
export class Stream implements TimerOwner {
  private dedupe: DedupeWindow;
  private lastMsgId = '';
  private reportedBytes = 0;
  private closed = false;
  /** Appends waiting for durability, FIFO; each whenDurable callback completes the oldest. */
  private pendCtx: unknown[] = [];
  private pendDone: AppendDone<unknown>[] = [];
  private pendAck: AppendAck[] = [];
  private pendHead = 0;
  private readonly onDurable = (err: Error | null): void => this.completeOldest(err);
  private observers: AppendObserver[] | null = null;
  private warnedDedupeCap = false;
  private lastFailureLog = 0;
  /** Live consumers by name (created by a door or recovered by `Streams`). */
  readonly consumers = new Map<string, Consumer>();

  private constructor(
    private readonly host: StreamHost,
    public cfg: StreamConfig,
    readonly store: MessageStore,
    /** Creation time, ns since the epoch. */
    readonly created: bigint,
  ) {
    this.dedupe = new DedupeWindow(BigInt(cfg.duplicate_window));
  }

  /**
   * Brings a stream up on `store`: applies `first_seq` to a store that never held a message,
   * rebuilds the dedupe window and last msg id from stored messages (recovery), expires what aged
   * out while the server was down, and enforces the limits. Doors attach themselves afterwards.
   */
  static open(host: StreamHost, cfg: StreamConfig, store: MessageStore, created: bigint): Stream {
    const s = new Stream(host, cfg, store, created);
    const st = store.state();
    if (st.lastSeq === 0 && cfg.first_seq > 1) store.setNextSeq(cfg.first_seq);
    if (st.messages > 0) s.rebuildDedupe();
    store.onRollback = (lost) => s.rolledBack(lost);
    s.enforceAllLimits();
    s.expireAged();
    s.syncUsage();
    s.armTimer();
    return s;
  }

  get name(): string {
    return this.cfg.name;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The one scheduler consumers share with the stream. */
  get scheduler(): Scheduler {
    return this.host.scheduler;
  }

  /** Stored bytes as last reported to the server-wide usage. */
  get bytes(): number {
    return this.reportedBytes;
  }

  // -------------------------------------------------------------------------------------------
  // Observers

  /** Calls `fn` after every stored append until the returned function is called. Costs nothing
   * per append while nobody observes. */
  observe(fn: AppendObserver): () => void {
    (this.observers ??= []).push(fn);
    return () => {
      if (this.observers === null) return;
      const i = this.observers.indexOf(fn);
      if (i >= 0) this.observers.splice(i, 1);
      if (this.observers.length === 0) this.observers = null;
    };
  }

  // -------------------------------------------------------------------------------------------
  // Append (specs/nats.md §3 "Publishing into streams")

  /**
   * Appends one message. `headers` are opaque bytes, stored and returned as given; `exp` holds
   * the publisher's conditions (null: none). `done` (null: nobody waits) is called exactly once,
   * see AppendDone. Never throws: a failing store is reported as `store-failed`.
   */
  append<C>(
    subject: string,
    headers: Buffer | null,
    payload: Buffer,
    exp: Expectations | null,
    ctx: C,
    done: AppendDone<C> | null,
  ): void {
    let err: AppendError | null;
    try {
      err = this.tryAppend(subject, headers, payload, exp, ctx, done as AppendDone<unknown> | null);
    } catch (e) {
      this.host.logger.error({ stream: this.cfg.name, err: (e as Error).message }, 'stream append failed');
      err = { kind: 'store-failed', message: (e as Error).message };
    }
    if (err !== null && done !== null) done(ctx, err, null);
  }

  /** The append itself: null when stored (or deduplicated) and queued for completion, else why not. */
  private tryAppend(
    subject: string,
    hdr: Buffer | null,
    payload: Buffer,
    exp: Expectations | null,
    ctx: unknown,
    done: AppendDone<unknown> | null,
  ): AppendError | null {
    if (this.closed) return { kind: 'store-failed', message: 'stream is closed' };
    const cfg = this.cfg;
    if (cfg.sealed) return AppendErrors.sealed;
    if (done !== null && this.pendDone.length - this.pendHead >= MAX_PENDING_COMPLETIONS)
      return AppendErrors.insufficientResources;

    let msgId = '';
    let rollup = Rollup.None;
    let rollupAsked = false;
    if (exp !== null) {
      if (exp.stream !== '' && exp.stream !== cfg.name) return AppendErrors.wrongStream;

      // nats-server's order (server/stream.go processJetStreamMsg): expected stream, then the
      // duplicate check, then the expected-last checks, so a retried publish whose first attempt
      // was stored gets its duplicate ack rather than a wrong-last-sequence error.
      if (exp.msgId !== '') {
        msgId = exp.msgId;
        const dupSeq = this.dedupe.lookup(msgId, nowNs());
        if (dupSeq > 0) {
          // A duplicate completes with the original seq once that one is durable; nothing stored.
          if (done !== null) this.queue(ctx, done, { seq: dupSeq, ts: this.dedupe.storedAt(msgId), duplicate: true });
          return null;
        }
      }

      if (exp.lastSubjectSeq !== null) {
        const seqSubj = exp.lastSubjectSeqSubject !== '' ? exp.lastSubjectSeqSubject : subject;
        const last = this.store.lastBySubject(seqSubj);
        const have = last === null ? 0 : last.seq;
        if (have !== exp.lastSubjectSeq) return { kind: 'wrong-last-sequence', lastSeq: have };
      } else if (exp.lastSubjectSeqSubject !== '') {
        return AppendErrors.missingLastSubjectSequence;
      }

      if (exp.lastSeq !== null) {
        const have = this.store.state().lastSeq;
        if (exp.lastSeq !== have) return { kind: 'wrong-last-sequence', lastSeq: have };
      }

      if (exp.lastMsgId !== '' && exp.lastMsgId !== this.lastMsgId) {
        return { kind: 'wrong-last-msg-id', lastMsgId: this.lastMsgId };
      }

      if (exp.rollup !== '') {
        rollupAsked = true;
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) return AppendErrors.rollupNotPermitted;
        if (exp.rollup === 'sub') rollup = Rollup.Subject;
        else if (exp.rollup === 'all') rollup = Rollup.All;
        else return { kind: 'rollup-invalid', value: exp.rollup };
      }
    }

    const hl = hdr === null ? 0 : hdr.length;
    if (cfg.max_msg_size >= 0 && (hl > cfg.max_msg_size || payload.length > cfg.max_msg_size - hl)) {
      return AppendErrors.msgTooLarge;
    }
    if (hl > MAX_HEADER_BYTES) return AppendErrors.headersTooLarge;

    const size = this.store.msgSize(subject, hdr, payload);
    if (!this.host.budgetAllows(cfg.storage, size)) {
      if (this.logAllowed())
        this.host.logger.warn({ stream: cfg.name, storage: cfg.storage }, 'JetStream resource limits exceeded for server');
      return AppendErrors.insufficientResources;
    }
    if (cfg.discard === 'new') {
      const why = this.discardNewCheck(subject, size, rollupAsked);
      if (why !== null) return why;
    }

    let stored: { seq: number; ts: bigint };
    try {
      stored = this.store.append(subject, hdr, payload);
    } catch (err) {
      if (this.logAllowed())
        this.host.logger.error({ stream: cfg.name, err: (err as Error).message }, 'JetStream failed to store a msg');
      return { kind: 'store-failed', message: (err as Error).message };
    }
    const seq = stored.seq;
    this.lastMsgId = msgId;
    if (msgId !== '') {
      this.dedupe.add(msgId, seq, stored.ts);
      if (this.dedupe.evictedEarly > 0 && !this.warnedDedupeCap) {
        this.warnedDedupeCap = true;
        this.host.logger.warn({ stream: cfg.name }, 'dedupe window holds too many ids; the oldest are forgotten early');
      }
    }
    try {
      if (rollup === Rollup.Subject) this.store.purge({ filter: subject, keep: 1 });
      else if (rollup === Rollup.All) this.store.purge({ keep: 1 });
      this.enforceLimitsAfter(subject);
      this.syncUsage();
      this.armTimer();
    } catch (err) {
      // The message is stored; trimming it back under the limits failed (a store that cannot
      // write its delete records). The next publish or the expiry timer tries again.
      this.host.logger.error(
        { stream: cfg.name, err: (err as Error).message },
        'JetStream could not apply limits after a publish',
      );
    }
    if (this.observers !== null) this.notify(seq, subject);
    if (this.cfg.retention === 'interest' && !this.interested(subject)) this.store.delete(seq, false);
    if (done !== null) this.queue(ctx, done, { seq, ts: stored.ts, duplicate: false });
    return null;
  }

  /** nats-server: an interest stream keeps a message only while some consumer selects it. */
  private interested(subject: string): boolean {
    for (const c of this.consumers.values()) if (c.selects(subject)) return true;
    return false;
  }

  private notify(seq: number, subject: string): void {
    for (const fn of (this.observers as AppendObserver[]).slice()) {
      try {
        fn(seq, subject);
      } catch (err) {
        this.host.logger.error({ stream: this.cfg.name, err: (err as Error).message }, 'stream observer failed');
      }
    }
  }

  /** Rate limit for per-publish failure logs: at most one line per LOG_EVERY_MS per stream, as
   * nats-server does for "resource limits exceeded" (a refused flood must not become a log flood). */
  private logAllowed(): boolean {
    const now = Date.now();
    if (now - this.lastFailureLog < LOG_EVERY_MS) return false;
    this.lastFailureLog = now;
    return true;
  }

  /** memstore/filestore discard-new rules: which limit refuses the message, or null. */
  private discardNewCheck(subject: string, size: number, rollupAsked: boolean): AppendError | null {
    const cfg = this.cfg;
    const maxp = cfg.max_msgs_per_subject;
    const atSubjLimit = maxp > 0 && this.store.subjectCount(subject) >= maxp;
    // A rollup is let through: it purges the subject right after, restoring the limit.
    if (atSubjLimit && cfg.discard_new_per_subject && !rollupAsked) return AppendErrors.maxMsgsPerSubject;
    if (cfg.max_msgs <= 0 && cfg.max_bytes <= 0) return null;
    const st = this.store.state();
    // At the per-subject limit the new message replaces the subject's oldest, so the totals hold.
    if (cfg.max_msgs > 0 && st.messages >= cfg.max_msgs && !atSubjLimit) return AppendErrors.maxMsgs;
    if (cfg.max_bytes > 0 && st.bytes + size > cfg.max_bytes) {
      if (!atSubjLimit) return AppendErrors.maxBytes;
      const first = this.store.get(this.store.firstSeqOfSubject(subject));
      if (first === null || this.store.msgSize(first.subject, first.headers, first.payload) < size) return AppendErrors.maxBytes;
    }
    return null;
  }

  /** Per-subject limit for `subject`, then the stream-wide discard-old limits. */
  private enforceLimitsAfter(subject: string): void {
    const maxp = this.cfg.max_msgs_per_subject;
    if (maxp > 0) {
      while (this.store.subjectCount(subject) > maxp) {
        if (!this.store.delete(this.store.firstSeqOfSubject(subject))) break;
      }
    }
    this.enforceTotals();
  }

  private enforceTotals(): void {
    const cfg = this.cfg;
    if (cfg.discard !== 'old' || (cfg.max_msgs <= 0 && cfg.max_bytes <= 0)) return;
    let st = this.store.state();
    while (
      st.messages > 0 &&
      ((cfg.max_msgs > 0 && st.messages > cfg.max_msgs) || (cfg.max_bytes > 0 && st.bytes > cfg.max_bytes))
    ) {
      if (!this.store.delete(st.firstSeq)) break;
      st = this.store.state();
    }
  }

  /** Every limit over the whole stream: after recovery and after a config update. */
  private enforceAllLimits(): void {
    const maxp = this.cfg.max_msgs_per_subject;
    if (maxp > 0) {
      for (const [subj, n] of this.store.subjectCounts('>')) {
        for (let k = n; k > maxp; k--) if (!this.store.delete(this.store.firstSeqOfSubject(subj))) break;
      }
    }
    this.enforceTotals();
  }

  private syncUsage(): void {
    const b = this.store.usedBytes();
    if (b !== this.reportedBytes) {
      this.host.addUsage(this.cfg.storage, b - this.reportedBytes);
      this.reportedBytes = b;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Completion (specs/nats.md §3: an ack means durable)

  /** Queues a completion released by the next whenDurable callback. */
  private queue(ctx: unknown, done: AppendDone<unknown>, ack: AppendAck): void {
    this.pendCtx.push(ctx);
    this.pendDone.push(done);
    this.pendAck.push(ack);
    this.store.whenDurable(this.onDurable);
  }

  /**
   * One whenDurable callback fired: everything appended before its registration is durable, and
   * that includes the oldest queued append, so completing exactly that one is always safe.
   */
  private completeOldest(err: Error | null): void {
    const i = this.pendHead;
    if (i >= this.pendDone.length) return;
    const ctx = this.pendCtx[i];
    const done = this.pendDone[i];
    const ack = this.pendAck[i];
    this.pendCtx[i] = undefined;
    this.pendHead = i + 1;
    if (this.pendHead > FIFO_COMPACT_AT && this.pendHead * 2 > this.pendDone.length) {
      this.pendCtx = this.pendCtx.slice(this.pendHead);
      this.pendDone = this.pendDone.slice(this.pendHead);
      this.pendAck = this.pendAck.slice(this.pendHead);
      this.pendHead = 0;
    }
    if (err !== null) {
      this.host.logger.error({ stream: this.cfg.name, err: err.message }, 'JetStream store failed to make a message durable');
      done(ctx, { kind: 'store-failed', message: err.message }, null);
    } else {
      done(ctx, null, ack);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Expiry: one deadline per stream on the shared scheduler.

  private armTimer(): void {
    if (this.closed) return;
    const sched = this.host.scheduler;
    const cur = sched.deadline(this);
    const now = Date.now();
    // An armed deadline is never later than needed: the oldest message only gets younger as
    // messages go, so the publish path usually returns here without reading the store.
    if (cur !== null && (this.dedupe.size === 0 || cur <= now + DEDUPE_SWEEP_MS)) return;
    let at = Infinity;
    if (this.cfg.max_age > 0) {
      const st = this.store.state();
      if (st.messages > 0) at = Number((st.firstTs + BigInt(this.cfg.max_age)) / 1_000_000n) + 1;
    }
    if (this.dedupe.size > 0) at = Math.min(at, now + DEDUPE_SWEEP_MS);
    if (at === Infinity) {
      if (cur !== null) sched.cancel(this);
    } else if (cur === null || cur > at) {
      sched.schedule(this, at);
    }
  }

  onTimer(): void {
    if (this.closed) return;
    this.dedupe.expire(nowNs());
    const more = this.expireAged();
    this.syncUsage();
    if (more) this.host.scheduler.schedule(this, Date.now());
    else this.armTimer();
  }

  /** Removes messages older than max_age; true when a batch limit left some for the next turn. */
  private expireAged(): boolean {
    const maxAge = this.cfg.max_age;
    if (maxAge <= 0) return false;
    const minTs = nowNs() - BigInt(maxAge);
    const st = this.store.state();
    if (st.messages === 0 || st.firstTs > minTs) return false;
    // Stored times grow with seqs, so the first message young enough is found by binary search
    // (O(log n) reads) instead of reading every expiring record.
    let boundary = this.seqFromTime(minTs + 1n);
    const more = boundary - st.firstSeq > EXPIRE_BATCH;
    if (more) boundary = st.firstSeq + EXPIRE_BATCH;
    if (boundary > st.lastSeq) this.store.purge({});
    else this.store.purge({ seq: boundary });
    return more;
  }

  /**
   * The store undid appends the disk had no room for (their publishers get the store's error, never
   * an ack): what was derived from them goes too, so a retry with the same msg id is stored, not
   * acknowledged as a duplicate of a message that does not exist.
   */
  private rolledBack(lost: number): void {
    this.host.logger.warn({ stream: this.cfg.name, lost }, 'JetStream store had no space: unacknowledged appends undone');
    this.dedupe = new DedupeWindow(BigInt(this.cfg.duplicate_window));
    this.rebuildDedupe();
    this.syncUsage();
    this.armTimer();
  }

  /** nats-server rebuildDedupe: ids of messages stored within the window, and the last msg id. */
  private rebuildDedupe(): void {
    const st = this.store.state();
    const last = this.store.get(st.lastSeq);
    const codec = this.host.codec;
    this.lastMsgId = last === null ? '' : codec.msgId(last.headers);
    const window = BigInt(this.cfg.duplicate_window);
    if (window <= 0n) return;
    const from = this.seqFromTime(nowNs() - window);
    for (let m = this.store.nextMatching(from, '>'); m !== null; m = this.store.nextMatching(m.seq + 1, '>')) {
      const id = codec.msgId(m.headers);
      if (id !== '') this.dedupe.add(id, m.seq, m.ts);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Admin and reads, as doors ask for them

  /** Applies an already validated and checked config (STREAM.UPDATE). Doors re-attach after. */
  applyUpdate(next: StreamConfig): void {
    const old = this.cfg;
    this.cfg = next;
    if (next.duplicate_window !== old.duplicate_window) this.dedupe.setWindow(BigInt(next.duplicate_window));
    this.enforceAllLimits();
    this.expireAged();
    this.syncUsage();
    this.host.scheduler.cancel(this);
    this.armTimer();
  }

  /** STREAM.PURGE; returns how many messages were removed. */
  purge(opts: PurgeOptions | null): number {
    const n = this.store.purge(opts ?? {});
    this.syncUsage();
    this.armTimer();
    return n;
  }

  /** STREAM.MSG.DELETE: true when the message was there. */
  deleteMsg(seq: number, erase: boolean): boolean {
    const ok = this.store.delete(seq, erase);
    if (ok) {
      this.syncUsage();
      this.armTimer();
    }
    return ok;
  }

  /** The message a get request names, or null (a store look-up; a binary search for startTime). */
  getMsg(req: GetRequest): StoredMsg | null {
    let seq = req.seq ?? 0;
    if (req.startTime !== undefined) {
      seq = this.seqFromTime(req.startTime);
      if (req.nextBySubject === undefined) return seq === 0 ? null : this.store.get(seq);
    }
    if (req.nextBySubject !== undefined && req.nextBySubject !== '') return this.store.nextMatching(seq, req.nextBySubject);
    if (seq > 0) return this.store.get(seq);
    if (req.lastBySubject !== undefined && req.lastBySubject !== '') return this.store.lastBySubject(req.lastBySubject);
    return null;
  }

  /** The store's counters (messages, bytes, first/last seq and time, subjects, deletes). */
  state(): StoreState {
    return this.store.state();
  }

  /** Live message count per subject matching `filter`. */
  subjectCounts(filter: string): Map<string, number> {
    return this.store.subjectCounts(filter);
  }

  /** Interior deleted seqs, ascending. */
  deletedSeqs(): number[] {
    return this.store.deletedSeqs();
  }

  /**
   * nats-server GetSeqFromTime: the first seq stored at or after `ts` (ns); lastSeq + 1 when
   * every message is older, 0 for an empty stream. Binary search: stored times grow with seq.
   */
  seqFromTime(ts: bigint): number {
    const st = this.store.state();
    if (st.messages === 0) return 0;
    let lo = st.firstSeq;
    let hi = st.lastSeq + 1;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      const m = this.store.nextMatching(mid, '>');
      if (m === null || m.ts >= ts) hi = mid;
      else lo = m.seq + 1;
    }
    return lo;
  }

  /** Calls `cb` once earlier writes are durable (purges and deletes reply after this), with the
   * store's error when they could not be made durable. */
  whenDurable(cb: (err: Error | null) => void): void {
    this.store.whenDurable(cb);
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /** Syncs and closes the store (doors detach first). Queued completions run once it syncs. */
  async close(): Promise<void> {
    if (this.closed) return;
    for (const c of this.consumers.values()) await c.stop('shutdown');
    this.consumers.clear();
    this.host.scheduler.cancel(this);
    await new Promise<void>((resolve) => this.store.whenDurable(() => resolve()));
    this.closed = true;
    await this.store.close();
  }

  /** Stops and removes the stream's messages (STREAM.DELETE). */
  async destroy(): Promise<void> {
    for (const c of this.consumers.values()) await c.stop('stream-deleted');
    this.consumers.clear();
    this.host.scheduler.cancel(this);
    this.closed = true;
    this.host.addUsage(this.cfg.storage, -this.reportedBytes);
    this.reportedBytes = 0;
    await this.store.destroy();
  }
}
