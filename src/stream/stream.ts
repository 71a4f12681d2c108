/**
 * One stream: its subscriptions on the router, the publish path (expected-* headers, dedupe,
 * limits, rollups, durable acks), expiry, and the read and admin operations the API calls.
 * specs/nats.md §3 "Publishing into streams" and §4 "Streams" are the contract.
 */
import type { Logger } from '../core/log.js';
import { JsErrors, jsError, type JsApiError } from '../core/errors.js';
import type { Client, Message, Subscription } from '../core/message.js';
import type { Router } from '../core/router.js';
import { nowNs } from '../store/clock.js';
import type { MessageStore, PurgeOptions, StoredMsg } from '../store/store.js';
import type { StreamConfig, Storage } from './config.js';
import { configJson } from './config.js';
import { DedupeWindow } from './dedupe.js';
import { goQuote } from './gojson.js';
import { goNow, goTime } from './gotime.js';
import { H, headerValue, stripStatus } from './headers.js';
import type { Scheduler, TimerOwner } from './timers.js';

/** nats-server refuses header blocks above 64 KiB (JSStreamHeaderExceedsMaximumErr). */
export const MAX_HEADER_BYTES = 65535;
/** Messages expired per timer wake-up; the rest go on the next turn so the loop stays responsive. */
export const EXPIRE_BATCH = 10_000;
/** Dedupe sweeps at most this often: look-ups check the window themselves, sweeps only free memory. */
export const DEDUPE_SWEEP_MS = 1000;

/** What a stream needs from the JetStream that owns it. */
export interface StreamHost {
  readonly router: Router;
  readonly scheduler: Scheduler;
  readonly logger: Logger;
  /** True when `bytes` more of `storage` fit the server budget (`maxFileStore` / `maxMemStore`). */
  budgetAllows(storage: Storage, bytes: number): boolean;
  /** Reports a change of this stream's stored bytes to the server-wide usage. */
  addUsage(storage: Storage, delta: number): void;
}

/** What STREAM.MSG.GET and DIRECT.GET ask for (one of seq / last_by_subj / next_by_subj). */
export interface GetRequest {
  seq?: number;
  last_by_subj?: string;
  next_by_subj?: string;
}

const enum Rollup {
  None = 0,
  Subject = 1,
  All = 2,
}

/** Minimum gap between two per-publish failure log lines of one stream. */
const LOG_EVERY_MS = 10_000;

/**
 * A live stream. Owns its store (closing the stream closes it). Publish processing is
 * synchronous up to the append; the ack waits for the store's `whenDurable`. Costs per publish:
 * one header scan when headers are present, one append, one `state()` read when limits or
 * budgets apply, and one queued ack; no timers, no JSON.
 */
export class Stream implements TimerOwner {
  private readonly subs: Subscription[] = [];
  private readonly directSubs: Subscription[] = [];
  private readonly dedupe: DedupeWindow;
  private lastMsgId = '';
  private reportedBytes = 0;
  private closed = false;
  private ackPrefix: string;
  /** Acks waiting for durability, FIFO; each whenDurable callback releases the oldest. */
  private ackReplies: string[] = [];
  private ackBodies: string[] = [];
  private ackHead = 0;
  private readonly onDurable = (err: Error | null): void => this.releaseAck(err);
  private readonly pubClient: Client;
  private readonly directClient: Client;
  private warnedDedupeCap = false;
  private lastFailureLog = 0;

  private constructor(
    private readonly host: StreamHost,
    public cfg: StreamConfig,
    readonly store: MessageStore,
    /** Creation time, ns since the epoch. */
    readonly created: bigint,
  ) {
    this.dedupe = new DedupeWindow(BigInt(cfg.duplicate_window));
    this.ackPrefix = `{"stream":${JSON.stringify(cfg.name)},"seq":`;
    this.pubClient = {
      id: 0,
      echo: true,
      internal: true,
      deliver: (_sub: Subscription, msg: Message): boolean => {
        // Client contract: deliver never throws into the publisher's read loop.
        try {
          this.onPublish(msg);
        } catch (err) {
          this.host.logger.error({ stream: this.cfg.name, err: (err as Error).message }, 'JetStream publish failed');
          this.errorAck(msg.reply, jsError(JsErrors.StreamStoreFailedF, { err: (err as Error).message }));
        }
        return true;
      },
    };
    this.directClient = {
      id: 0,
      echo: true,
      internal: true,
      deliver: (_sub: Subscription, msg: Message): boolean => {
        try {
          this.onDirectGet(msg);
        } catch (err) {
          this.host.logger.error({ stream: this.cfg.name, err: (err as Error).message }, 'JetStream direct get failed');
        }
        return true;
      },
    };
  }

  /**
   * Brings a stream up on `store`: applies `first_seq` to a store that never held a message,
   * rebuilds the dedupe window and last msg id from stored messages (recovery), expires what aged
   * out while the server was down, enforces the limits, and subscribes its subjects.
   */
  static open(host: StreamHost, cfg: StreamConfig, store: MessageStore, created: bigint): Stream {
    const s = new Stream(host, cfg, store, created);
    const st = store.state();
    if (st.lastSeq === 0 && cfg.first_seq > 1) store.setNextSeq(cfg.first_seq);
    if (st.messages > 0) s.rebuildDedupe();
    s.enforceAllLimits();
    s.expireAged();
    s.syncUsage();
    s.armTimer();
    s.subscribe();
    return s;
  }

  get name(): string {
    return this.cfg.name;
  }

  /** The router replies go through (DIRECT.GET answers from the API module). */
  get router(): Router {
    return this.host.router;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Stored bytes as last reported to the server-wide usage. */
  get bytes(): number {
    return this.reportedBytes;
  }

  // -------------------------------------------------------------------------------------------
  // Subscriptions

  private subscribe(): void {
    const r = this.host.router;
    for (const subj of this.cfg.subjects)
      this.subs.push(r.subscribe(this.pubClient, subj, null, `stream:${this.cfg.name}:${subj}`));
    if (this.cfg.allow_direct) this.subscribeDirect();
  }

  private subscribeDirect(): void {
    // specs/nats.md §3: DIRECT.GET is served only when allow_direct is set; without these
    // subscriptions the request finds no responder (the API catch-all declines it, §1 trap).
    const r = this.host.router;
    const base = `$JS.API.DIRECT.GET.${this.cfg.name}`;
    this.directSubs.push(r.subscribe(this.directClient, base, null, `direct:${this.cfg.name}`));
    this.directSubs.push(r.subscribe(this.directClient, `${base}.>`, null, `direct:${this.cfg.name}:>`));
  }

  private unsubscribeAll(): void {
    const r = this.host.router;
    for (const s of this.subs) r.unsubscribe(s);
    for (const s of this.directSubs) r.unsubscribe(s);
    this.subs.length = 0;
    this.directSubs.length = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Publish path (specs/nats.md §3 "Publishing into streams")

  private onPublish(msg: Message): void {
    if (this.closed) return;
    const cfg = this.cfg;
    const reply = cfg.no_ack ? '' : msg.reply;
    const subject = msg.subject;
    const payload = msg.payload;
    const hdr = msg.headers === null ? null : stripStatus(msg.headers);

    if (cfg.sealed) return this.errorAck(reply, JsErrors.StreamSealedErr);

    let msgId = '';
    let rollup = Rollup.None;
    let rollupHdr = false;
    if (hdr !== null) {
      const es = headerValue(hdr, H.ExpectedStream);
      if (es !== null && es !== '' && es !== cfg.name) return this.errorAck(reply, JsErrors.StreamNotMatchErr);

      // nats-server's order (server/stream.go processJetStreamMsg): expected stream, then the
      // duplicate check, then the expected-last headers, so a retried publish whose first attempt
      // was stored gets its duplicate ack rather than a wrong-last-sequence error.
      const id = headerValue(hdr, H.MsgId);
      if (id !== null && id !== '') {
        msgId = id;
        const dupSeq = this.dedupe.lookup(id, nowNs());
        if (dupSeq > 0) {
          // A duplicate is acked with the original seq once that one is durable; nothing stored.
          if (reply !== '') this.queueAck(reply, `${this.ackPrefix}${dupSeq},"duplicate": true}`);
          return;
        }
      }

      const elss = headerValue(hdr, H.ExpectedLastSubjSeq);
      const elssSubj = headerValue(hdr, H.ExpectedLastSubjSeqSubj);
      if (elss !== null && elss !== '') {
        const want = parseSeq(elss);
        const seqSubj = elssSubj !== null && elssSubj !== '' ? elssSubj : subject;
        const last = this.store.lastBySubject(seqSubj);
        const have = last === null ? 0 : last.seq;
        if (want === null || have !== want)
          return this.errorAck(reply, jsError(JsErrors.StreamWrongLastSequenceErrF, { seq: have }));
      } else if (elssSubj !== null && elssSubj !== '') {
        return this.errorAck(reply, JsErrors.StreamExpectedLastSeqPerSubjectInvalid);
      }

      const els = headerValue(hdr, H.ExpectedLastSeq);
      if (els !== null && els !== '') {
        const want = parseSeq(els);
        const have = this.store.state().lastSeq;
        if (want === null || want !== have)
          return this.errorAck(reply, jsError(JsErrors.StreamWrongLastSequenceErrF, { seq: have }));
      }

      const elm = headerValue(hdr, H.ExpectedLastMsgId);
      if (elm !== null && elm !== '' && elm !== this.lastMsgId) {
        return this.errorAck(reply, jsError(JsErrors.StreamWrongLastMsgIDErrF, { id: this.lastMsgId }));
      }

      const ru = headerValue(hdr, H.Rollup);
      if (ru !== null && ru !== '') {
        rollupHdr = true;
        if (!cfg.allow_rollup_hdrs || cfg.deny_purge) {
          return this.errorAck(reply, jsError(JsErrors.StreamRollupFailedF, { err: 'rollup not permitted' }));
        }
        if (ru === 'sub') rollup = Rollup.Subject;
        else if (ru === 'all') rollup = Rollup.All;
        else return this.errorAck(reply, jsError(JsErrors.StreamRollupFailedF, { err: `rollup value invalid: ${goQuote(ru)}` }));
      }
    }

    const hl = hdr === null ? 0 : hdr.length;
    if (cfg.max_msg_size >= 0 && (hl > cfg.max_msg_size || payload.length > cfg.max_msg_size - hl)) {
      return this.errorAck(reply, JsErrors.StreamMessageExceedsMaximumErr);
    }
    if (hl > MAX_HEADER_BYTES) return this.errorAck(reply, JsErrors.StreamHeaderExceedsMaximumErr);

    const size = this.store.msgSize(subject, hdr, payload);
    if (!this.host.budgetAllows(cfg.storage, size)) {
      if (this.logAllowed())
        this.host.logger.warn({ stream: cfg.name, storage: cfg.storage }, 'JetStream resource limits exceeded for server');
      return this.errorAck(reply, JsErrors.InsufficientResourcesErr);
    }
    if (cfg.discard === 'new') {
      const why = this.discardNewCheck(subject, size, rollupHdr);
      if (why !== null) return this.errorAck(reply, jsError(JsErrors.StreamStoreFailedF, { err: why }));
    }

    let seq: number;
    let ts: bigint;
    try {
      ({ seq, ts } = this.store.append(subject, hdr, payload));
    } catch (err) {
      if (this.logAllowed())
        this.host.logger.error({ stream: cfg.name, err: (err as Error).message }, 'JetStream failed to store a msg');
      return this.errorAck(reply, jsError(JsErrors.StreamStoreFailedF, { err: (err as Error).message }));
    }
    this.lastMsgId = msgId;
    if (msgId !== '') {
      this.dedupe.add(msgId, seq, ts);
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
    if (reply !== '') this.queueAck(reply, `${this.ackPrefix}${seq}}`);
  }

  /** Rate limit for per-publish failure logs: at most one line per LOG_EVERY_MS per stream, as
   * nats-server does for "resource limits exceeded" (a refused flood must not become a log flood). */
  private logAllowed(): boolean {
    const now = Date.now();
    if (now - this.lastFailureLog < LOG_EVERY_MS) return false;
    this.lastFailureLog = now;
    return true;
  }

  /** memstore/filestore discard-new rules: why the message is refused, or null. */
  private discardNewCheck(subject: string, size: number, rollupHdr: boolean): string | null {
    const cfg = this.cfg;
    const maxp = cfg.max_msgs_per_subject;
    const atSubjLimit = maxp > 0 && this.store.subjectCount(subject) >= maxp;
    // A rollup is let through: it purges the subject right after, restoring the limit.
    if (atSubjLimit && cfg.discard_new_per_subject && !rollupHdr) return 'maximum messages per subject exceeded';
    if (cfg.max_msgs <= 0 && cfg.max_bytes <= 0) return null;
    const st = this.store.state();
    // At the per-subject limit the new message replaces the subject's oldest, so the totals hold.
    if (cfg.max_msgs > 0 && st.messages >= cfg.max_msgs && !atSubjLimit) return 'maximum messages exceeded';
    if (cfg.max_bytes > 0 && st.bytes + size > cfg.max_bytes) {
      if (!atSubjLimit) return 'maximum bytes exceeded';
      const first = this.store.get(this.store.firstSeqOfSubject(subject));
      if (first === null || this.store.msgSize(first.subject, first.headers, first.payload) < size)
        return 'maximum bytes exceeded';
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
  // Acks

  private errorAck(reply: string, e: JsApiError): void {
    if (reply === '') return;
    const body = JSON.stringify({ error: e, stream: this.cfg.name, seq: 0 });
    this.host.router.publish({ subject: reply, reply: '', headers: null, payload: Buffer.from(body) }, null);
  }

  /** Queues an ack released by the next whenDurable callback (specs/nats.md §3: acks mean durable). */
  private queueAck(reply: string, body: string): void {
    this.ackReplies.push(reply);
    this.ackBodies.push(body);
    this.store.whenDurable(this.onDurable);
  }

  /**
   * One whenDurable callback fired: everything appended before its registration is durable, and
   * that includes the oldest queued ack, so releasing exactly that one is always safe.
   */
  private releaseAck(err: Error | null): void {
    if (this.ackHead >= this.ackReplies.length) return;
    const reply = this.ackReplies[this.ackHead];
    let body = this.ackBodies[this.ackHead];
    this.ackHead++;
    if (this.ackHead > 1024 && this.ackHead * 2 > this.ackReplies.length) {
      this.ackReplies = this.ackReplies.slice(this.ackHead);
      this.ackBodies = this.ackBodies.slice(this.ackHead);
      this.ackHead = 0;
    }
    if (err !== null) {
      this.host.logger.error({ stream: this.cfg.name, err: err.message }, 'JetStream store failed to make a message durable');
      body = JSON.stringify({ error: jsError(JsErrors.StreamStoreFailedF, { err: err.message }), stream: this.cfg.name, seq: 0 });
    }
    this.host.router.publish({ subject: reply, reply: '', headers: null, payload: Buffer.from(body) }, null);
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

  /** nats-server rebuildDedupe: ids of messages stored within the window, and the last msg id. */
  private rebuildDedupe(): void {
    const st = this.store.state();
    const last = this.store.get(st.lastSeq);
    this.lastMsgId = last === null ? '' : (headerValue(last.headers, H.MsgId) ?? '');
    const window = BigInt(this.cfg.duplicate_window);
    if (window <= 0n) return;
    const from = this.seqFromTime(nowNs() - window);
    for (let m = this.store.nextMatching(from, '>'); m !== null; m = this.store.nextMatching(m.seq + 1, '>')) {
      const id = headerValue(m.headers, H.MsgId);
      if (id !== null && id !== '') this.dedupe.add(id, m.seq, m.ts);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Admin and reads used by the API

  /** Applies an already validated and checked config (STREAM.UPDATE). */
  applyUpdate(next: StreamConfig): void {
    const old = this.cfg;
    this.cfg = next;
    const r = this.host.router;
    const keep = new Set(next.subjects);
    const had = new Set(old.subjects);
    for (let i = this.subs.length - 1; i >= 0; i--) {
      const s = this.subs[i];
      if (!keep.has(s.subject)) {
        r.unsubscribe(s);
        this.subs.splice(i, 1);
      }
    }
    for (const subj of next.subjects) {
      if (!had.has(subj)) this.subs.push(r.subscribe(this.pubClient, subj, null, `stream:${next.name}:${subj}`));
    }
    if (next.allow_direct && !old.allow_direct) this.subscribeDirect();
    if (!next.allow_direct && old.allow_direct) {
      for (const s of this.directSubs) r.unsubscribe(s);
      this.directSubs.length = 0;
    }
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

  /** Resolves a MSG.GET / DIRECT.GET request to a stored message, or null. */
  getMsg(req: GetRequest): StoredMsg | null {
    const seq = req.seq ?? 0;
    if (req.next_by_subj !== undefined && req.next_by_subj !== '') return this.store.nextMatching(seq, req.next_by_subj);
    if (seq > 0) return this.store.get(seq);
    if (req.last_by_subj !== undefined && req.last_by_subj !== '') return this.store.lastBySubject(req.last_by_subj);
    return null;
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

  /** Calls `cb` once earlier writes are durable (purges and deletes reply after this). */
  whenDurable(cb: () => void): void {
    this.store.whenDurable(() => cb());
  }

  /** `state` as STREAM.INFO reports it; `subjects` is spliced in at nats-server's position. */
  stateJson(deletedDetails: boolean, subjects?: Record<string, number>): Record<string, unknown> {
    const st = this.store.state();
    const o: Record<string, unknown> = {
      messages: st.messages,
      bytes: st.bytes,
      first_seq: st.firstSeq,
      first_ts: goTime(st.firstTs),
      last_seq: st.lastSeq,
      last_ts: goTime(st.lastTs),
    };
    if (st.numSubjects > 0) o.num_subjects = st.numSubjects;
    if (subjects !== undefined && Object.keys(subjects).length > 0) o.subjects = subjects;
    if (st.numDeleted > 0) o.num_deleted = st.numDeleted;
    if (deletedDetails && st.numDeleted > 0) o.deleted = this.store.deletedSeqs();
    o.consumer_count = 0;
    return o;
  }

  /** StreamInfo: config, created, state, ts (specs/nats.md §4 "STREAM.INFO"). */
  info(deletedDetails = false, subjects?: Record<string, number>): Record<string, unknown> {
    return {
      config: configJson(this.cfg),
      created: goTime(this.created),
      state: this.stateJson(deletedDetails, subjects),
      ts: goNow(),
    };
  }

  /** Messages and bytes, for /jsz and INFO totals. */
  counts(): { messages: number; bytes: number } {
    const st = this.store.state();
    return { messages: st.messages, bytes: st.bytes };
  }

  // -------------------------------------------------------------------------------------------
  // DIRECT.GET (specs/nats.md §3), served from this stream's own subscriptions.

  private directHandler: ((s: Stream, msg: Message) => void) | null = null;

  /** Installs the DIRECT.GET request handler (kept in the API module with the other endpoints). */
  setDirectHandler(h: (s: Stream, msg: Message) => void): void {
    this.directHandler = h;
  }

  private onDirectGet(msg: Message): void {
    if (this.closed || msg.reply === '' || this.directHandler === null) return;
    this.directHandler(this, msg);
  }

  // -------------------------------------------------------------------------------------------
  // Shutdown

  /** Stops taking messages, syncs and closes the store. Pending acks are sent if it syncs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.unsubscribeAll();
    this.host.scheduler.cancel(this);
    await new Promise<void>((resolve) => this.store.whenDurable(() => resolve()));
    this.closed = true;
    await this.store.close();
  }

  /** Stops and removes the stream's messages (STREAM.DELETE). */
  async destroy(): Promise<void> {
    this.unsubscribeAll();
    this.host.scheduler.cancel(this);
    this.closed = true;
    this.host.addUsage(this.cfg.storage, -this.reportedBytes);
    this.reportedBytes = 0;
    await this.store.destroy();
  }
}

/** A sequence header value as Go's strconv.ParseUint would take it; null when it does not parse. */
function parseSeq(s: string): number | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}
