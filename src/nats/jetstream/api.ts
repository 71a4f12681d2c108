/**
 * The JetStream JSON API on `$JS.API.>` (specs/nats.md §3): request routing, the response
 * envelope, and the stream endpoints. One internal client subscribes the whole API; requests
 * are handled in arrival order, one at a time (a create or update that waits on disk holds the
 * queue, so a later request never overtakes it). DIRECT.GET and CONSUMER.MSG.NEXT are declined
 * here so they count toward no-responders unless something really serves them (§1 trap).
 */
import { JsErrors, jsError, type JsApiError } from '../../core/errors.js';
import { retainMessage, type Client, type Message, type Subscription } from '../../core/message.js';
import { isValidSubject } from '../../core/subject.js';
import type { Storage } from '../../stream/config.js';
import type { Stream } from '../../stream/stream.js';
import { checkStreamConfig, checkStreamUpdate, sameConfig, STREAM_CONFIG_REQUEST, unsupportedRetention } from './config.js';
import { consumerRequest } from './consumer-api.js';
import { MSG_GET_REQUEST, toGetRequest } from './direct-get.js';
import { decodeGoJson, isEmptyRequest, isJsonObjectOrArray, type Decoded, type GoStruct } from './gojson.js';
import { goTime } from './gotime.js';
import { streamInfo } from './info.js';
import type { JetStream } from './jetstream.js';

/** nats-server jetstream_api.go errStreamStoreFailed: what a client hears when the store could not be made. */
const STREAM_STORE_FAILED = 'error creating store for stream';

/** Requests waiting behind a slow (disk-bound) one; past this new requests are dropped and
 * logged, as nats-server does at JSDefaultRequestQueueLimit. */
export const API_QUEUE_LIMIT = 10_000;
/** Bytes those waiting requests may hold: the count limit alone allows ~10 GB of 1 MB bodies. */
export const API_QUEUE_MAX_BYTES = 64 * 1024 * 1024;
/** nats-server JSApiNamesLimit / JSApiListLimit: page sizes of NAMES and LIST. */
export const NAMES_LIMIT = 1024;
export const LIST_LIMIT = 256;
/** nats-server JSMaxSubjectDetails: subjects per STREAM.INFO page. */
export const MAX_SUBJECT_DETAILS = 100_000;

const T = 'io.nats.jetstream.api.v1.';
/** Response `type` strings, exactly as nats-server sends them. */
export const TYPES = {
  system: `${T}system_response`,
  accountInfo: `${T}account_info_response`,
  streamCreate: `${T}stream_create_response`,
  streamUpdate: `${T}stream_update_response`,
  streamInfo: `${T}stream_info_response`,
  streamNames: `${T}stream_names_response`,
  streamList: `${T}stream_list_response`,
  streamDelete: `${T}stream_delete_response`,
  streamPurge: `${T}stream_purge_response`,
  msgGet: `${T}stream_msg_get_response`,
  msgDelete: `${T}stream_msg_delete_response`,
} as const;

const PAGED: GoStruct['fields'] = { offset: { t: 'int', go: 'int' } };
const STREAM_INFO_REQUEST: GoStruct = {
  name: 'JSApiStreamInfoRequest',
  fields: { ...PAGED, deleted_details: { t: 'bool' }, subjects_filter: { t: 'string' } },
};
const STREAM_NAMES_REQUEST: GoStruct = { name: 'JSApiStreamNamesRequest', fields: { ...PAGED, subject: { t: 'string' } } };
const STREAM_LIST_REQUEST: GoStruct = { name: 'JSApiStreamListRequest', fields: { ...PAGED, subject: { t: 'string' } } };
const PURGE_REQUEST: GoStruct = {
  name: 'JSApiStreamPurgeRequest',
  fields: { seq: { t: 'int', go: 'uint64' }, filter: { t: 'string' }, keep: { t: 'int', go: 'uint64' } },
};
const MSG_DELETE_REQUEST: GoStruct = {
  name: 'JSApiMsgDeleteRequest',
  fields: { seq: { t: 'int', go: 'uint64' }, no_erase: { t: 'bool' } },
};
type Handler = (msg: Message, tokens: string[]) => void | Promise<void>;

/**
 * The API service. Owns one internal subscription on `$JS.API.>`; each request is answered on
 * its reply subject (requests without one are ignored, §3 "Envelope").
 */
export class JsApi {
  private sub: Subscription | null = null;
  private busy: Promise<void> | null = null;
  private readonly queue: Message[] = [];
  private queuedBytes = 0;
  private droppedWarned = false;
  private readonly client: Client;

  constructor(readonly js: JetStream) {
    this.client = {
      id: 0,
      echo: true,
      internal: true,
      deliver: (_sub: Subscription, msg: Message): boolean => this.onRequest(msg),
    };
  }

  /** Subscribes `$JS.API.>`. */
  start(): void {
    this.sub = this.js.router.subscribe(this.client, '$JS.API.>', null, 'jsapi');
  }

  stop(): void {
    if (this.sub !== null) this.js.router.unsubscribe(this.sub);
    this.sub = null;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  /** Resolves once no request is in progress. */
  async idle(): Promise<void> {
    while (this.busy !== null) await this.busy;
  }

  private onRequest(msg: Message): boolean {
    const subject = msg.subject;
    // specs/nats.md §1 trap: these are served by stream (and later consumer) subscriptions of
    // their own; the catch-all must not count as a responder for them.
    if (subject.startsWith('$JS.API.DIRECT.GET.') || subject === '$JS.API.DIRECT.GET') return false;
    if (subject.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return false;
    if (msg.reply === '') return true; // §3: requests without a reply are ignored
    if (this.busy !== null) {
      const size = msg.payload.length + (msg.headers === null ? 0 : msg.headers.length);
      if (this.queue.length >= API_QUEUE_LIMIT || this.queuedBytes + size > API_QUEUE_MAX_BYTES) {
        if (!this.droppedWarned) {
          this.droppedWarned = true;
          this.js.logger.warn(
            { limit: API_QUEUE_LIMIT, maxBytes: API_QUEUE_MAX_BYTES },
            'JetStream API queue limit reached, dropping requests',
          );
        }
        return true;
      }
      this.queuedBytes += size;
      this.queue.push(retainMessage(msg));
      return true;
    }
    this.run(msg);
    return true;
  }

  /** Handles `msg`; if the handler waits on I/O, later requests queue until it is done. */
  private run(msg: Message): void {
    let r: void | Promise<void>;
    try {
      r = this.dispatch(msg);
    } catch (err) {
      this.internalError(msg, err);
      return;
    }
    if (r instanceof Promise) {
      this.busy = r
        .catch((err: unknown) => this.internalError(msg, err))
        .then(() => {
          this.busy = null;
          this.drain();
        });
    }
  }

  private drain(): void {
    this.droppedWarned = false;
    while (this.busy === null && this.queue.length > 0) {
      const m = this.queue.shift() as Message;
      this.queuedBytes -= m.payload.length + (m.headers === null ? 0 : m.headers.length);
      this.run(m);
    }
  }

  private internalError(msg: Message, err: unknown): void {
    this.js.logger.error({ subject: msg.subject, err: (err as Error).message }, 'JetStream API request failed');
    this.send(msg.reply, { type: TYPES.system, error: jsError(JsErrors.StreamGeneralErrorF, { err: (err as Error).message }) });
  }

  private dispatch(msg: Message): void | Promise<void> {
    const t = msg.subject.split('.');
    // t[0] = '$JS', t[1] = 'API'
    const h = this.route(t);
    if (h === null) {
      // nats-server ignores account/meta/server directives from clients; anything else unknown
      // gets a bad request on the system response type.
      if (t[2] === 'ACCOUNT' || t[2] === 'META' || t[2] === 'SERVER') return;
      this.error(msg.reply, TYPES.system, JsErrors.BadRequestErr);
      return;
    }
    return h(msg, t);
  }

  private route(t: string[]): Handler | null {
    const n = t.length;
    if (n === 3 && t[2] === 'INFO') return (m) => this.accountInfo(m);
    if (t[2] === 'STREAM') {
      if (n === 4 && t[3] === 'NAMES') return (m) => this.streamNames(m);
      if (n === 4 && t[3] === 'LIST') return (m) => this.streamList(m);
      if (n === 5) {
        switch (t[3]) {
          case 'CREATE':
            return (m) => this.streamCreate(m, t[4]);
          case 'UPDATE':
            return (m) => this.streamUpdate(m, t[4]);
          case 'INFO':
            return (m) => this.streamInfo(m, t[4]);
          case 'DELETE':
            return (m) => this.streamDelete(m, t[4]);
          case 'PURGE':
            return (m) => this.streamPurge(m, t[4]);
        }
      }
      if (n === 6 && t[3] === 'MSG' && t[4] === 'GET') return (m) => this.msgGet(m, t[5]);
      if (n === 6 && t[3] === 'MSG' && t[4] === 'DELETE') return (m) => this.msgDelete(m, t[5]);
      return null;
    }
    if (t[2] === 'CONSUMER') {
      return (m) => consumerRequest(this, m, t);
    }
    return null;
  }

  // -------------------------------------------------------------------------------------------
  // Envelope

  /** Sends a response and counts it for INFO `api`. */
  send(reply: string, body: Record<string, unknown>): void {
    this.js.apiTotal++;
    if (body.error !== undefined) this.js.apiErrors++;
    this.js.router.publish({ subject: reply, reply: '', headers: null, payload: Buffer.from(JSON.stringify(body)) }, null);
  }

  /** `{type, error, ...extra}`: the error envelope (extra holds fields Go always emits). */
  error(reply: string, type: string, e: JsApiError, extra?: Record<string, unknown>): void {
    this.send(reply, { type, error: e, ...extra });
  }

  /** Looks a stream up; sends 10059 with `type` and returns null when it does not exist. */
  lookup(reply: string, type: string, name: string, extra?: Record<string, unknown>): Stream | null {
    const s = this.js.streams.get(name);
    if (s === undefined) {
      this.error(reply, type, JsErrors.StreamNotFoundErr, extra);
      return null;
    }
    return s;
  }

  /** Strictly decodes a request body; sends 10025 and returns null on failure. */
  decode(msg: Message, schema: GoStruct, type: string, extra?: Record<string, unknown>): Decoded | null {
    const r = decodeGoJson(msg.payload, schema);
    if (r.error !== null) {
      this.error(msg.reply, type, jsError(JsErrors.InvalidJSONErr, { err: r.error }), extra);
      return null;
    }
    return r.value;
  }

  // -------------------------------------------------------------------------------------------
  // Endpoints

  private accountInfo(msg: Message): void {
    this.send(msg.reply, { type: TYPES.accountInfo, ...this.js.accountInfo() });
  }

  private async streamCreate(msg: Message, name: string): Promise<void> {
    const type = TYPES.streamCreate;
    const reply = msg.reply;
    const raw = this.decode(msg, STREAM_CONFIG_REQUEST, type);
    if (raw === null) return;
    if (name !== (raw.name ?? '')) return this.error(reply, type, JsErrors.StreamMismatchErr);
    if (/[\\/]/.test(name)) return this.error(reply, type, JsErrors.StreamNameContainsPathSeparatorsErr);
    if (raw.sealed === true)
      return this.error(
        reply,
        type,
        jsError(JsErrors.StreamInvalidConfigF, { err: 'stream configuration for create can not be sealed' }),
      );
    if (raw.mirror_direct === true && (raw.mirror === undefined || raw.mirror === null)) {
      return this.error(
        reply,
        type,
        jsError(JsErrors.StreamInvalidConfigF, { err: 'stream has no mirror but does have mirror direct' }),
      );
    }
    // nats-server checks the budget on the request as sent (unset storage or max_bytes reserve nothing) ...
    const rawStorage = (raw.storage as Storage | undefined) ?? null;
    const pre = this.js.checkReservation(rawStorage, typeof raw.max_bytes === 'number' ? raw.max_bytes : 0);
    if (pre !== null) return this.error(reply, type, pre);
    const checked = checkStreamConfig(raw, raw.pedantic === true);
    if (checked.err !== null) return this.error(reply, type, checked.err);
    const cfg = checked.cfg;
    if (cfg.num_replicas > 1) return this.error(reply, type, JsErrors.StreamReplicasNotSupportedErr);
    const existing = this.js.streams.get(cfg.name);
    if (existing !== undefined) {
      // specs/nats.md §3: the same config again is fine; a different one is 10058.
      if (!sameConfig(existing.cfg, cfg)) return this.error(reply, type, JsErrors.StreamNameExistErr);
      this.send(reply, { type, ...streamInfo(existing), did_create: true });
      return;
    }
    const unsupported = unsupportedRetention(cfg);
    if (unsupported !== null) return this.error(reply, type, unsupported);
    if (this.js.streamLimitReached()) return this.error(reply, type, JsErrors.MaximumStreamsLimitErr);
    // ... and again on the normalized config.
    const res = this.js.checkReservation(cfg.storage, cfg.max_bytes);
    if (res !== null) return this.error(reply, type, res);
    if (this.js.all.overlapsOther(cfg.subjects)) return this.error(reply, type, JsErrors.StreamSubjectOverlapErr);
    let s: Stream;
    try {
      s = await this.js.createStream(cfg);
    } catch (err) {
      this.js.logger.error({ stream: cfg.name, err: (err as Error).message }, 'stream create failed');
      // A system error names server paths: the client gets nats-server's errStreamStoreFailed text,
      // the log keeps the detail.
      const sys = (err as NodeJS.ErrnoException).code !== undefined;
      return this.error(reply, type, jsError(JsErrors.StreamCreateErrF, { err: sys ? STREAM_STORE_FAILED : (err as Error).message }));
    }
    this.send(reply, { type, ...streamInfo(s), did_create: true });
  }

  private async streamUpdate(msg: Message, name: string): Promise<void> {
    const type = TYPES.streamUpdate;
    const reply = msg.reply;
    const raw = this.decode(msg, STREAM_CONFIG_REQUEST, type);
    if (raw === null) return;
    const checked = checkStreamConfig(raw, raw.pedantic === true);
    if (checked.err !== null) return this.error(reply, type, checked.err);
    if (name !== checked.cfg.name) return this.error(reply, type, JsErrors.StreamMismatchErr);
    const s = this.lookup(reply, type, name);
    if (s === null) return;
    const upd = checkStreamUpdate(s.cfg, checked.cfg);
    if (upd.err !== null) return this.error(reply, type, upd.err);
    const next = upd.cfg;
    const unsupported = unsupportedRetention(next);
    if (unsupported !== null) return this.error(reply, type, unsupported);
    // Only a larger max_bytes needs more budget (nats-server configUpdateCheck).
    if (Math.max(next.max_bytes, 0) > Math.max(s.cfg.max_bytes, 0)) {
      const res = this.js.checkReservation(next.storage, next.max_bytes, s.name);
      if (res !== null) return this.error(reply, type, res);
    }
    if (this.js.all.overlapsOther(next.subjects, s.name)) return this.error(reply, type, JsErrors.StreamSubjectOverlapErr);
    if (!sameConfig(s.cfg, next)) {
      try {
        await this.js.updateStream(s, next);
      } catch (err) {
        return this.error(reply, type, jsError(JsErrors.StreamUpdateErrF, { err: (err as Error).message }));
      }
    }
    this.send(reply, { type, ...streamInfo(s) });
  }

  private streamInfo(msg: Message, name: string): void {
    const type = TYPES.streamInfo;
    const reply = msg.reply;
    const paged = { total: 0, offset: 0, limit: 0 };
    let details = false;
    let filter = '';
    let offset = 0;
    if (isJsonObjectOrArray(msg.payload)) {
      const req = this.decode(msg, STREAM_INFO_REQUEST, type, paged);
      if (req === null) return;
      details = req.deleted_details === true;
      filter = (req.subjects_filter as string | undefined) ?? '';
      offset = Math.max(0, (req.offset as number | undefined) ?? 0);
    }
    const s = this.lookup(reply, type, name, paged);
    if (s === null) return;
    let subjects: Record<string, number> | undefined;
    if (filter !== '') {
      const counts = s.subjectCounts(filter);
      if (counts.size > 0) {
        paged.total = counts.size;
        paged.offset = offset;
        paged.limit = MAX_SUBJECT_DETAILS;
        const keys = [...counts.keys()];
        if (offset > 0 || keys.length > MAX_SUBJECT_DETAILS) keys.sort();
        const start = Math.min(offset, keys.length);
        subjects = {};
        for (const k of keys.slice(start, start + MAX_SUBJECT_DETAILS)) subjects[k] = counts.get(k) as number;
      }
    }
    this.send(reply, { type, ...paged, ...streamInfo(s, details, subjects) });
  }

  private streamNames(msg: Message): void {
    const type = TYPES.streamNames;
    let offset = 0;
    let filter = '';
    if (isJsonObjectOrArray(msg.payload)) {
      const req = this.decode(msg, STREAM_NAMES_REQUEST, type, { total: 0, offset: 0, limit: 0, streams: null });
      if (req === null) return;
      offset = Math.max(0, (req.offset as number | undefined) ?? 0);
      filter = (req.subject as string | undefined) ?? '';
    }
    const all = this.js.all.sortedStreams(filter).map((s) => s.name);
    offset = Math.min(offset, all.length);
    const page = all.slice(offset, offset + NAMES_LIMIT);
    // nats-server leaves the slice nil when nothing matches: `"streams":null`.
    this.send(msg.reply, { type, total: all.length, offset, limit: NAMES_LIMIT, streams: page.length === 0 ? null : page });
  }

  private streamList(msg: Message): void {
    const type = TYPES.streamList;
    let offset = 0;
    let filter = '';
    if (isJsonObjectOrArray(msg.payload)) {
      const req = this.decode(msg, STREAM_LIST_REQUEST, type, { total: 0, offset: 0, limit: 0, streams: [] });
      if (req === null) return;
      offset = Math.max(0, (req.offset as number | undefined) ?? 0);
      filter = (req.subject as string | undefined) ?? '';
    }
    const all = this.js.all.sortedStreams(filter);
    offset = Math.min(offset, all.length);
    const page = all.slice(offset, offset + LIST_LIMIT).map((s) => streamInfo(s));
    this.send(msg.reply, { type, total: all.length, offset, limit: LIST_LIMIT, streams: page });
  }

  private async streamDelete(msg: Message, name: string): Promise<void> {
    const type = TYPES.streamDelete;
    const reply = msg.reply;
    if (!isEmptyRequest(msg.payload)) return this.error(reply, type, JsErrors.NotEmptyRequestErr);
    const s = this.lookup(reply, type, name);
    if (s === null) return;
    try {
      await this.js.deleteStream(s);
    } catch (err) {
      return this.error(reply, type, jsError(JsErrors.StreamDeleteErrF, { err: (err as Error).message }));
    }
    this.send(reply, { type, success: true });
  }

  private streamPurge(msg: Message, name: string): void | Promise<void> {
    const type = TYPES.streamPurge;
    const reply = msg.reply;
    const extra = { purged: 0 };
    let opts: { filter?: string; seq?: number; keep?: number } | null = null;
    if (isJsonObjectOrArray(msg.payload)) {
      const req = this.decode(msg, PURGE_REQUEST, type, extra);
      if (req === null) return;
      const seq = (req.seq as number | undefined) ?? 0;
      const keep = (req.keep as number | undefined) ?? 0;
      if (seq > 0 && keep > 0) return this.error(reply, type, JsErrors.BadRequestErr, extra);
      // Sequences live in JS numbers: past 2^53 - 1 they would stop increasing. Refused rather
      // than corrupting the stream (nats-server's uint64 range is wider; documented).
      if (seq > Number.MAX_SAFE_INTEGER) return this.error(reply, type, JsErrors.BadRequestErr, extra);
      opts = {};
      const filter = (req.filter as string | undefined) ?? '';
      if (filter !== '') {
        if (!isValidSubject(filter)) return this.error(reply, type, JsErrors.BadRequestErr, extra);
        opts.filter = filter;
      }
      if (seq > 0) opts.seq = seq;
      if (keep > 0) opts.keep = keep;
    }
    const s = this.lookup(reply, type, name, extra);
    if (s === null) return;
    if (s.cfg.sealed) return this.error(reply, type, JsErrors.StreamSealedErr, extra);
    if (s.cfg.deny_purge)
      return this.error(reply, type, jsError(JsErrors.StreamPurgeFailedF, { err: 'stream purge not permitted' }), extra);
    const purged = s.purge(opts);
    return new Promise<void>((resolve) =>
      s.whenDurable((err) => {
        // The purge is applied in memory but its record did not reach the disk: say so.
        if (err !== null) this.error(reply, type, jsError(JsErrors.StreamPurgeFailedF, { err: err.message }), extra);
        else this.send(reply, { type, success: true, purged });
        resolve();
      }),
    );
  }

  private msgDelete(msg: Message, name: string): void | Promise<void> {
    const type = TYPES.msgDelete;
    const reply = msg.reply;
    if (isEmptyRequest(msg.payload)) return this.error(reply, type, JsErrors.BadRequestErr);
    const req = this.decode(msg, MSG_DELETE_REQUEST, type);
    if (req === null) return;
    const s = this.lookup(reply, type, name);
    if (s === null) return;
    if (s.cfg.sealed) return this.error(reply, type, JsErrors.StreamSealedErr);
    if (s.cfg.deny_delete)
      return this.error(reply, type, jsError(JsErrors.StreamMsgDeleteFailedF, { err: 'message delete not permitted' }));
    const seq = (req.seq as number | undefined) ?? 0;
    const st = s.state();
    if (!s.deleteMsg(seq, req.no_erase !== true)) {
      // nats-server's file store tells "never there" apart from "already gone"; its memory store does not.
      if (s.cfg.storage === 'file' && (seq === 0 || seq < st.firstSeq)) {
        return this.error(reply, type, jsError(JsErrors.StreamMsgDeleteFailedF, { err: 'no message found' }));
      }
      if (s.cfg.storage === 'file' && seq > st.lastSeq) {
        return this.error(reply, type, jsError(JsErrors.StreamMsgDeleteFailedF, { err: 'stream store EOF' }));
      }
      return this.error(reply, type, jsError(JsErrors.SequenceNotFoundErrF, { seq }));
    }
    return new Promise<void>((resolve) =>
      s.whenDurable((err) => {
        if (err !== null) this.error(reply, type, jsError(JsErrors.StreamMsgDeleteFailedF, { err: err.message }));
        else this.send(reply, { type, success: true });
        resolve();
      }),
    );
  }

  private msgGet(msg: Message, name: string): void {
    const type = TYPES.msgGet;
    const reply = msg.reply;
    if (isEmptyRequest(msg.payload)) return this.error(reply, type, JsErrors.BadRequestErr);
    const req = this.decode(msg, MSG_GET_REQUEST, type);
    if (req === null) return;
    const g = toGetRequest(req);
    if (g === null || ((req.batch as number | undefined) ?? 0) > 0 || ((req.max_bytes as number | undefined) ?? 0) > 0) {
      return this.error(reply, type, JsErrors.BadRequestErr);
    }
    const s = this.lookup(reply, type, name);
    if (s === null) return;
    const m = s.getMsg(g);
    if (m === null) return this.error(reply, type, JsErrors.NoMessageFoundErr);
    const message: Record<string, unknown> = { subject: m.subject, seq: m.seq };
    if (req.no_hdr !== true && m.headers !== null && m.headers.length > 0) message.hdrs = m.headers.toString('base64');
    if (m.payload.length > 0) message.data = m.payload.toString('base64');
    message.time = goTime(m.ts);
    this.send(reply, { type, message });
  }
}
