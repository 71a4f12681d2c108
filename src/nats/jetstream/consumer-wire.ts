/**
 * Consumers on the NATS wire (specs/nats.md §5 "Pull requests", "Acks"): the pull-request
 * subscription `$JS.API.CONSUMER.MSG.NEXT.<s>.<c>` (body: empty, a batch number or JSON), the ack
 * subscription `$JS.ACK.>` (+ACK, -NAK [delay], +WPI, +TERM [reason], +NXT [request], ackAck
 * replies once the ack is durable), and per consumer the sink that turns deliveries into messages
 * with `$JS.ACK.<stream>.<consumer>.<dc>.<sseq>.<dseq>.<ts>.<pending>` replies and statuses
 * (404 / 408 / 409 with Nats-Pending-Messages and Nats-Pending-Bytes, 100 Idle Heartbeat).
 * A delivery costs one ack-subject string and one sublist look-up of the request's inbox.
 */
import type { Client, Message, Subscription } from '../../core/message.js';
import type { Router } from '../../core/router.js';
import type { StoredMsg } from '../../store/store.js';
import type { Consumer, ConsumerSink, PullEnd, PullRefusal, PullRequest } from '../../stream/consumer.js';
import type { Streams } from '../../stream/streams.js';
import { decodeGoJson, isJsonObjectOrArray, type GoStruct } from './gojson.js';
import { ACK_METRIC_TYPE, CONSUMER_ADVISORY, CONSUMER_METRIC, consumerAction, consumerEvent, consumerPause } from './advisories.js';
import { appendHeaders, statusHeader } from './headers.js';

const PULL_REQUEST: GoStruct = {
  name: 'JSApiConsumerGetNextRequest',
  fields: {
    expires: { t: 'int', go: 'time.Duration' },
    batch: { t: 'int', go: 'int' },
    max_bytes: { t: 'int', go: 'int' },
    no_wait: { t: 'bool' },
    idle_heartbeat: { t: 'int', go: 'time.Duration' },
    group: { t: 'opaque' },
    min_pending: { t: 'opaque' },
    min_ack_pending: { t: 'opaque' },
    id: { t: 'opaque' },
    priority: { t: 'opaque' },
  },
};

const NS_PER_MS = 1_000_000;
const EMPTY = Buffer.alloc(0);
const FC_REQUEST = statusHeader(100, 'FlowControl Request');
/** nats-server's `digits` alphabet for the random token of a flow-control reply. */
const FC_DIGITS = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Delivers `msg` to the subscriptions of `target` only (one member per queue group), keeping
 * `msg.subject` (a pull delivery's MSG line names the stream subject, not the inbox). */
function deliverTo(router: Router, target: string, msg: Message): void {
  const r = router.sublist.match(target);
  const give = (sub: Subscription): void => {
    if (sub.closed || sub.client.deliver(sub, msg) === false) return;
    sub.delivered++;
    if (sub.max > 0 && sub.delivered >= sub.max) router.unsubscribe(sub);
  };
  for (const sub of r.plain) give(sub);
  for (const q of r.queues) {
    const live = q.filter((s) => !s.closed);
    if (live.length > 0) give(live[(Math.random() * live.length) | 0]);
  }
}

function hasInterest(router: Router, subject: string): boolean {
  const r = router.sublist.match(subject);
  for (const s of r.plain) if (!s.closed) return true;
  for (const q of r.queues) for (const s of q) if (!s.closed) return true;
  return false;
}

/** A status-only message with optional extra headers. */
function status(code: number, text: string, pairs: [string, string][] = []): Buffer {
  const h = statusHeader(code, text);
  return pairs.length === 0 ? h : appendHeaders(h, pairs);
}

/** The wire side of one consumer. */
export class ConsumerWire implements ConsumerSink {
  private readonly ackPrefix: string;
  private readonly fcPrefix: string;

  constructor(
    private readonly router: Router,
    private readonly all: Streams,
    private readonly c: Consumer,
  ) {
    this.ackPrefix = `$JS.ACK.${c.stream.name}.${c.name}.`;
    this.fcPrefix = `$JS.FC.${c.stream.name}.${c.name}.`;
  }

  deliver(target: string, m: StoredMsg, dc: number, dseq: number, pending: number): number {
    const reply = `${this.ackPrefix}${dc}.${m.seq}.${dseq}.${m.ts}.${pending}`;
    let headers = m.headers;
    let payload = m.payload;
    if (this.c.cfg.headers_only) {
      headers = appendHeaders(headers, [['Nats-Msg-Size', String(payload.length)]]);
      payload = EMPTY;
    }
    deliverTo(this.router, target, { subject: m.subject, reply, headers, payload });
    // nats-server stream.go jsPubMsg.size: what flow control counts.
    return target.length + reply.length + (headers === null ? 0 : headers.length) + payload.length;
  }

  /** nats-server consumer.go sendFlowControl / fcReply: `100 FlowControl Request` to the deliver
   * subject, answered on `$JS.FC.<stream>.<consumer>.<4 random characters>`. */
  flowControl(target: string): string {
    let id = this.fcPrefix;
    for (let i = 0; i < 4; i++) id += FC_DIGITS[(Math.random() * FC_DIGITS.length) | 0];
    deliverTo(this.router, target, { subject: target, reply: id, headers: FC_REQUEST, payload: EMPTY });
    return id;
  }

  watchInterest(target: string, cb: () => void): () => void {
    return this.router.sublist.watchInterest(target, cb);
  }

  end(target: string, why: PullEnd, batchLeft: number, bytesLeft: number): void {
    const left: [string, string][] = [
      ['Nats-Pending-Messages', String(batchLeft)],
      ['Nats-Pending-Bytes', String(bytesLeft)],
    ];
    let h: Buffer;
    switch (why) {
      case 'no-messages':
        h = status(404, 'No Messages');
        break;
      case 'timeout':
        h = status(408, 'Request Timeout', left);
        break;
      case 'max-bytes':
        h = status(409, 'Message Size Exceeds MaxBytes', left);
        break;
      case 'batch-completed':
        h = status(409, 'Batch Completed', left);
        break;
      case 'deleted':
        h = status(409, 'Consumer Deleted');
        break;
    }
    this.router.publish({ subject: target, reply: '', headers: h, payload: EMPTY }, null);
  }

  heartbeat(target: string, stalled?: string): void {
    const d = this.c.delivered;
    const pairs: [string, string][] = [
      ['Nats-Last-Consumer', String(d.consumerSeq)],
      ['Nats-Last-Stream', String(d.streamSeq)],
    ];
    // nats-server consumer.go sendIdleHeartbeat: a stall names the flow-control reply to answer.
    if (stalled !== undefined) pairs.push(['Nats-Consumer-Stalled', stalled]);
    const h = status(100, 'Idle Heartbeat', pairs);
    this.router.publish({ subject: target, reply: '', headers: h, payload: EMPTY }, null);
  }

  hasInterest(target: string): boolean {
    return hasInterest(this.router, target);
  }

  size(m: StoredMsg): number {
    return m.subject.length + (m.headers === null ? 0 : m.headers.length) + m.payload.length;
  }

  maxDeliveries(sseq: number, deliveries: number): void {
    this.advise('MAX_DELIVERIES', 'max_deliver', { stream_seq: sseq, deliveries });
  }

  /** MSG_TERMINATED / MSG_NAKED (specs/nats.md §6). */
  advise(kind: string, type: string, extra: Record<string, unknown>): void {
    consumerEvent(this.router, CONSUMER_ADVISORY, kind, type, this.c.stream.name, this.c.name, extra);
  }

  /** nats-server consumer.go sampleAck: `$JS.EVENT.METRIC.CONSUMER.ACK.<s>.<c>`, JSConsumerAckMetric. */
  ackSampled(sseq: number, dseq: number, deliveries: number, delayNs: number): void {
    consumerEvent(this.router, CONSUMER_METRIC, 'ACK', ACK_METRIC_TYPE, this.c.stream.name, this.c.name, {
      consumer_seq: dseq,
      stream_seq: sseq,
      ack_time: delayNs,
      deliveries,
    });
  }

  pauseChanged(until: bigint | null, paused: boolean): void {
    consumerPause(this.router, this.c.stream.name, this.c.name, until, paused);
  }

  inactive(): void {
    const c = this.c;
    void this.all.deleteConsumer(c).then(() => consumerAction(this.router, c.stream.name, c.name, 'delete'));
  }
}

/** Parses a pull request body; an error text becomes `400 Bad Request - <text>` ... or null when fine. */
export function parsePull(target: string, body: Buffer): PullRequest | string {
  const req: PullRequest = { target, batch: 1, maxBytes: 0, expiresMs: 0, noWait: false, heartbeatMs: 0 };
  const text = body.toString('utf8').trim();
  if (text === '') return req;
  if (/^[0-9]+$/.test(text)) {
    req.batch = Number(text);
    return req;
  }
  if (!isJsonObjectOrArray(body)) return 'Bad Request';
  const d = decodeGoJson(body, PULL_REQUEST);
  if (d.error !== null) return 'Bad Request';
  const v = d.value;
  req.batch = (v.batch as number | undefined) ?? 1;
  req.maxBytes = (v.max_bytes as number | undefined) ?? 0;
  req.expiresMs = Math.ceil(((v.expires as number | undefined) ?? 0) / NS_PER_MS);
  req.noWait = v.no_wait === true;
  const hb = (v.idle_heartbeat as number | undefined) ?? 0;
  req.heartbeatMs = Math.ceil(hb / NS_PER_MS);
  // nats-server processNextMsgRequest: a heartbeat must fit twice into expires.
  if (hb > 0 && req.expiresMs > 0 && hb * 2 > req.expiresMs * NS_PER_MS) return 'Bad Request - heartbeat value too large';
  if (req.batch <= 0) req.batch = 1;
  return req;
}

function refusalText(r: PullRefusal): string {
  switch (r.kind) {
    case 'max-waiting':
      return 'Exceeded MaxWaiting';
    case 'max-batch':
      return `Exceeded MaxRequestBatch of ${r.limit}`;
    case 'max-expires':
      return `Exceeded MaxRequestExpires of ${goDuration(r.limit)}`;
    case 'max-bytes':
      return `Exceeded MaxRequestMaxBytes of ${r.limit}`;
  }
}

/** Go's time.Duration String for whole ms / s values (enough for the limits above). */
function goDuration(ns: number): string {
  if (ns % 1e9 === 0) return `${ns / 1e9}s`;
  if (ns % 1e6 === 0) return `${ns / 1e6}ms`;
  return `${ns}ns`;
}

/** Go time.ParseDuration for `-NAK 5s` style delays; null when it does not parse. */
export function parseGoDuration(s: string): number | null {
  const units: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  const re = /([0-9]*\.?[0-9]+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let at = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * units[m[2]];
    at = re.lastIndex;
  }
  return at === s.length && s.length > 0 ? total : null;
}

/**
 * The two subscriptions every consumer shares: pull requests and acks. A request or ack for a
 * consumer that does not exist counts as not served (no responders).
 */
export class ConsumerService {
  private readonly subs: Subscription[] = [];
  private readonly client: Client;

  constructor(
    private readonly router: Router,
    private readonly all: Streams,
    private readonly wire: (c: Consumer) => ConsumerWire | undefined,
  ) {
    this.client = {
      id: 0,
      echo: true,
      internal: true,
      deliver: (sub: Subscription, msg: Message): boolean =>
        sub.sid === 'jsack' ? this.onAck(msg) : sub.sid === 'jsfc' ? this.onFlowControl(msg) : this.onPull(msg),
    };
  }

  start(): void {
    // Every ack and flow-control answer has a subject of its own: keep them out of the match cache.
    this.router.sublist.skipCacheUnder('$JS.ACK.');
    this.router.sublist.skipCacheUnder('$JS.FC.');
    this.subs.push(this.router.subscribe(this.client, '$JS.API.CONSUMER.MSG.NEXT.>', null, 'jsnext'));
    this.subs.push(this.router.subscribe(this.client, '$JS.ACK.>', null, 'jsack'));
    this.subs.push(this.router.subscribe(this.client, '$JS.FC.>', null, 'jsfc'));
  }

  /** `$JS.FC.<stream>.<consumer>.<token>`: a client answered a flow-control request. */
  private onFlowControl(msg: Message): boolean {
    const t = msg.subject.split('.');
    if (t.length !== 5) return false;
    const c = this.find(t[2], t[3]);
    if (c === undefined) return false;
    c.flowControlAnswered(msg.subject);
    return true;
  }

  stop(): void {
    for (const s of this.subs) this.router.unsubscribe(s);
    this.subs.length = 0;
  }

  private find(stream: string, consumer: string): Consumer | undefined {
    return this.all.get(stream)?.consumers.get(consumer);
  }

  private onPull(msg: Message): boolean {
    const t = msg.subject.split('.');
    if (t.length !== 7) return false;
    const c = this.find(t[5], t[6]);
    if (c === undefined) return false;
    if (msg.reply === '') return true;
    const reply = (code: number, text: string): void => {
      this.router.publish({ subject: msg.reply, reply: '', headers: status(code, text), payload: EMPTY }, null);
    };
    if (c.cfg.deliver_subject !== '') {
      reply(409, 'Consumer is push based');
      return true;
    }
    this.pull(c, msg.reply, msg.payload, reply);
    return true;
  }

  private pull(c: Consumer, target: string, body: Buffer, reply: (code: number, text: string) => void): void {
    const req = parsePull(target, body);
    if (typeof req === 'string') return reply(400, req);
    const refused = c.pull(req);
    if (refused !== null) reply(409, refusalText(refused));
  }

  private onAck(msg: Message): boolean {
    // v1: $JS.ACK.<s>.<c>.<dc>.<sseq>.<dseq>.<ts>.<pending>; v2 adds domain and account hash
    // in front and a random token at the end. Tokens are located by their dots (no split: this
    // runs once per acked message).
    const subj = msg.subject;
    const dots = ACK_DOTS;
    let nd = 0;
    for (let i = subj.indexOf('.'); i >= 0; i = subj.indexOf('.', i + 1)) {
      if (nd < ACK_DOTS_KEPT) dots[nd] = i;
      nd++;
    }
    if (nd < ACK_DOTS_KEPT) dots[nd] = subj.length;
    // Token k spans (dots[k-1], dots[k]); the v1 form uses dots 1–6, the v2 form dots 3–8.
    let base: number;
    if (nd === 8) base = 2;
    else if (nd >= 10) base = 4;
    else return false;
    const c = this.find(subj.slice(dots[base - 1] + 1, dots[base]), subj.slice(dots[base] + 1, dots[base + 1]));
    if (c === undefined) return false;
    const dc = tokenNumber(subj, dots[base + 1] + 1, dots[base + 2]);
    const sseq = tokenNumber(subj, dots[base + 2] + 1, dots[base + 3]);
    const dseq = tokenNumber(subj, dots[base + 3] + 1, dots[base + 4]);
    if (!Number.isSafeInteger(sseq) || sseq <= 0) return true;
    if (isPlainAck(msg.payload)) {
      c.ack(sseq, dseq);
      if (msg.reply !== '') this.ackAck(c, msg.reply);
      return true;
    }
    const body = msg.payload.toString('utf8');
    const w = this.wire(c);
    const verb = body.length >= 4 ? body.slice(0, 4) : body;
    let answer = true;
    if (body === '' || verb === '+ACK') {
      c.ack(sseq, dseq);
    } else if (verb === '-NAK') {
      const arg = body.slice(4).trim();
      let delayMs = 0;
      if (arg.startsWith('{')) {
        try {
          delayMs = Math.ceil(Number((JSON.parse(arg) as { delay?: number }).delay ?? 0) / NS_PER_MS);
        } catch {
          delayMs = 0;
        }
      } else if (arg !== '') {
        delayMs = Math.ceil((parseGoDuration(arg) ?? 0) / NS_PER_MS);
      }
      const had = c.nak(sseq, delayMs);
      if (had > 0) w?.advise('MSG_NAKED', 'nak', { consumer_seq: dseq, stream_seq: sseq, deliveries: dc });
    } else if (verb === '+WPI') {
      c.progress(sseq);
    } else if (body.startsWith('+TERM')) {
      const reason = body.slice(5).trim();
      if (c.term(sseq, dseq) > 0) {
        const extra: Record<string, unknown> = { consumer_seq: dseq, stream_seq: sseq, deliveries: dc };
        if (reason !== '') extra.reason = reason;
        w?.advise('MSG_TERMINATED', 'terminated', extra);
      }
    } else if (verb === '+NXT') {
      c.ack(sseq, dseq);
      answer = false;
      if (msg.reply !== '') {
        const target = msg.reply;
        const rest = Buffer.from(body.slice(4).trim());
        c.whenDurable(() =>
          this.pull(c, target, rest, (code, text) => {
            this.router.publish({ subject: target, reply: '', headers: status(code, text), payload: EMPTY }, null);
          }),
        );
      }
    } else {
      c.ack(sseq, dseq);
    }
    if (answer && msg.reply !== '') this.ackAck(c, msg.reply);
    return true;
  }

  /** Answers an ack's reply subject once the ack is durable: an answered ack is never undone by a crash. */
  private ackAck(c: Consumer, r: string): void {
    c.whenDurable(() => this.router.publish({ subject: r, reply: '', headers: null, payload: EMPTY }, null));
  }
}

/** Leading dot positions an ack needs: up to the end of the v2 form's dseq token (dot 8). */
const ACK_DOTS_KEPT = 9;
/** Dot positions of the ack subject being parsed; reused, acks are handled synchronously. */
const ACK_DOTS = new Int32Array(ACK_DOTS_KEPT + 1);
/** Longest token parsed digit by digit; longer ones go through Number (same result, rarer). */
const MAX_FAST_DIGITS = 15;
const PLUS = 0x2b;

/** `Number(subj.slice(from, to))` without the slice when the token is plain digits. */
function tokenNumber(subj: string, from: number, to: number): number {
  if (to <= from || to - from > MAX_FAST_DIGITS) return Number(subj.slice(from, to));
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = subj.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number(subj.slice(from, to));
    n = n * 10 + d;
  }
  return n;
}

/** An empty body or exactly `+ACK`: the common ack, told apart without decoding the body. */
function isPlainAck(b: Buffer): boolean {
  return b.length === 0 || (b.length === 4 && b[0] === PLUS && b[1] === 0x41 && b[2] === 0x43 && b[3] === 0x4b);
}
