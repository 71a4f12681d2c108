/**
 * Reading single messages: the STREAM.MSG.GET request shape and its combination rules, and
 * DIRECT.GET, which a stream with allow_direct serves from subscriptions of its own
 * (specs/nats.md §3). Costs one store look-up per request (a binary search for `start_time`).
 */
import type { Logger } from '../../core/log.js';
import type { Client, Message, Subscription } from '../../core/message.js';
import type { Router } from '../../core/router.js';
import type { GetRequest, Stream } from '../../stream/stream.js';
import { decodeGoJson, type Decoded, type GoStruct } from './gojson.js';
import { goTime, parseGoTime } from './gotime.js';
import { appendHeaders, H, statusHeader } from './headers.js';
import { streamClient } from './ingest.js';

/** STREAM.MSG.GET / DIRECT.GET body. Batch and multi-subject gets (2.11) are parsed, then refused. */
export const MSG_GET_REQUEST: GoStruct = {
  name: 'JSApiMsgGetRequest',
  fields: {
    seq: { t: 'int', go: 'uint64' },
    last_by_subj: { t: 'string' },
    next_by_subj: { t: 'string' },
    batch: { t: 'int', go: 'int' },
    max_bytes: { t: 'int', go: 'int' },
    start_time: { t: 'string' },
    multi_last: { t: 'strings' },
    up_to_seq: { t: 'int', go: 'uint64' },
    up_to_time: { t: 'string' },
    no_hdr: { t: 'bool' },
  },
};

/** nats-server's checks on which MSG.GET fields may be combined; null for an invalid
 * combination (10003 / 408). start_time is resolved to ns. */
export function toGetRequest(req: Decoded): GetRequest | null {
  const seq = (req.seq as number | undefined) ?? 0;
  const last = (req.last_by_subj as string | undefined) ?? '';
  const next = (req.next_by_subj as string | undefined) ?? '';
  const start = req.start_time as string | undefined;
  let startTime: bigint | undefined;
  if (start !== undefined && start !== '') {
    const t = parseGoTime(start);
    if (t === null) return null;
    startTime = t;
  }
  if (
    (seq > 0 && last !== '') ||
    (seq === 0 && last === '' && next === '' && startTime === undefined) ||
    (seq > 0 && startTime !== undefined) ||
    (startTime !== undefined && last !== '') ||
    (last !== '' && next !== '')
  ) {
    return null;
  }
  const g: GetRequest = {};
  if (seq > 0) g.seq = seq;
  if (last !== '') g.lastBySubject = last;
  if (next !== '') g.nextBySubject = next;
  if (startTime !== undefined) g.startTime = startTime;
  return g;
}

const DG_EMPTY = statusHeader(408, 'Empty Request');
const DG_MALFORMED = statusHeader(408, 'Malformed Request');
const DG_BAD = statusHeader(408, 'Bad Request');
const DG_NOT_FOUND = statusHeader(404, 'Message Not Found');
const EMPTY = Buffer.alloc(0);
const DIRECT_PREFIX_TOKENS = 5; // $JS.API.DIRECT.GET.<stream>

/**
 * DIRECT.GET for a stream with allow_direct (specs/nats.md §3): the raw message with
 * Nats-Stream / Nats-Subject / Nats-Sequence / Nats-Time-Stamp added to its headers, or a
 * status-only reply (404 Message Not Found, 408 for a bad request). Body forms as nats-server:
 * `$JS.API.DIRECT.GET.<s>` takes a JSON body; `$JS.API.DIRECT.GET.<s>.<subject>` means "last
 * message on that subject" and takes an empty body. Decoding is lenient here, as in nats-server.
 */
export function directGet(r: Router, s: Stream, msg: Message): void {
  const reply = msg.reply;
  const out = (headers: Buffer | null, payload: Buffer): void => {
    r.publish({ subject: reply, reply: '', headers, payload }, null);
  };
  const tokens = msg.subject.split('.');
  let g: GetRequest | null;
  let noHdr = false;
  if (tokens.length === DIRECT_PREFIX_TOKENS) {
    if (msg.payload.length === 0) return out(DG_EMPTY, EMPTY);
    const d = decodeGoJson(msg.payload, MSG_GET_REQUEST, true);
    if (d.error !== null) return out(DG_MALFORMED, EMPTY);
    const req = d.value;
    if (
      ((req.seq as number | undefined) ?? 0) === 0 &&
      ((req.last_by_subj as string | undefined) ?? '') === '' &&
      ((req.next_by_subj as string | undefined) ?? '') === '' &&
      ((req.multi_last as string[] | undefined) ?? []).length === 0 &&
      (req.start_time ?? '') === ''
    ) {
      return out(DG_EMPTY, EMPTY);
    }
    // Batch and multi-subject direct gets are 2.11 features herald does not serve.
    if (
      ((req.batch as number | undefined) ?? 0) > 0 ||
      ((req.multi_last as string[] | undefined) ?? []).length > 0 ||
      (req.up_to_seq ?? 0) !== 0 ||
      (req.up_to_time ?? '') !== ''
    ) {
      return out(DG_BAD, EMPTY);
    }
    g = toGetRequest(req);
    noHdr = req.no_hdr === true;
  } else {
    const key = tokens.slice(DIRECT_PREFIX_TOKENS).join('.');
    let req: Decoded = {};
    if (msg.payload.length > 0) {
      const d = decodeGoJson(msg.payload, MSG_GET_REQUEST, true);
      if (d.error !== null) return out(DG_MALFORMED, EMPTY);
      req = d.value;
    }
    if (
      key === '' ||
      req.last_by_subj !== undefined ||
      req.next_by_subj !== undefined ||
      req.seq !== undefined ||
      req.batch !== undefined ||
      req.start_time !== undefined ||
      req.multi_last !== undefined ||
      req.up_to_seq !== undefined ||
      req.up_to_time !== undefined
    ) {
      return out(DG_BAD, EMPTY);
    }
    g = { lastBySubject: key };
    noHdr = req.no_hdr === true;
  }
  if (g === null) return out(DG_BAD, EMPTY);
  const m = s.getMsg(g);
  if (m === null) return out(DG_NOT_FOUND, EMPTY);
  const headers = noHdr
    ? null
    : appendHeaders(m.headers, [
        [H.Stream, s.name],
        [H.Subject, m.subject],
        [H.Sequence, String(m.seq)],
        [H.TimeStamp, goTime(m.ts)],
      ]);
  out(headers, m.payload);
}

/**
 * The DIRECT.GET subscriptions of one stream: `$JS.API.DIRECT.GET.<stream>` and `….>`, held
 * only while allow_direct is set; without them the request finds no responder (the API
 * catch-all declines it, specs/nats.md §1 trap).
 */
export class DirectGet {
  private readonly subs: Subscription[] = [];
  private readonly client: Client;

  constructor(
    private readonly router: Router,
    private readonly stream: Stream,
    logger: Logger,
  ) {
    this.client = streamClient(stream, logger, 'JetStream direct get failed', (msg) => {
      if (!stream.isClosed && msg.reply !== '') directGet(router, stream, msg);
    });
  }

  /** Subscribes or unsubscribes to match the stream's allow_direct. */
  sync(): void {
    const want = this.stream.cfg.allow_direct;
    if (want && this.subs.length === 0) {
      const base = `$JS.API.DIRECT.GET.${this.stream.name}`;
      this.subs.push(this.router.subscribe(this.client, base, null, `direct:${this.stream.name}`));
      this.subs.push(this.router.subscribe(this.client, `${base}.>`, null, `direct:${this.stream.name}:>`));
    } else if (!want && this.subs.length > 0) {
      this.detach();
    }
  }

  detach(): void {
    for (const s of this.subs) this.router.unsubscribe(s);
    this.subs.length = 0;
  }
}
