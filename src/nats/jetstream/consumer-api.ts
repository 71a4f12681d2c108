/**
 * `$JS.API.CONSUMER.*` (specs/nats.md §3 "Endpoints", §5): CREATE (legacy, named, with a filter
 * in the subject), DURABLE.CREATE, INFO, NAMES, LIST (paged), DELETE, with nats-server's checks,
 * create-or-update rules and ConsumerInfo; PAUSE (`pause_until`, nats-server 2.11). UNPIN, RESET
 * and LEADER.STEPDOWN answer 10014 when the consumer is missing, bad request otherwise. MSG.NEXT
 * is served by `consumer-wire.ts`, never here. Creating and deleting announce CREATED / DELETED.
 */
import { randomBytes } from 'node:crypto';
import { JsErrors, jsError, type JsApiError } from '../../core/errors.js';
import { subjectsCollide } from '../../core/subject.js';
import { consumerFilters, type ConsumerConfig } from '../../stream/consumer-config.js';
import type { Message } from '../../core/message.js';
import type { JsApi } from './api.js';
import { LIST_LIMIT, NAMES_LIMIT, TYPES } from './api.js';
import { CONSUMER_CREATE_REQUEST, checkConsumerConfig, consumerConfigJson, updateRefusal } from './consumer-config.js';
import type { Consumer } from '../../stream/consumer.js';
import { consumerInfo } from './info.js';
import { consumerAction } from './advisories.js';
import { GO_ZERO_TIME, goTime, parseGoTime } from './gotime.js';
import type { Decoded } from './gojson.js';
import { isJsonObjectOrArray } from './gojson.js';
const T = 'io.nats.jetstream.api.v1.';
/** Consumer response types (nats-server constants). */
export const CONSUMER_TYPES = {
  create: `${T}consumer_create_response`,
  info: `${T}consumer_info_response`,
  delete: `${T}consumer_delete_response`,
  names: `${T}consumer_names_response`,
  list: `${T}consumer_list_response`,
  pause: `${T}consumer_pause_response`,
  unpin: `${T}consumer_unpin_response`,
  reset: `${T}consumer_reset_response`,
  stepdown: `${T}consumer_leader_stepdown_response`,
} as const;

/** Handles one `$JS.API.CONSUMER.…` request; `t` is the subject split on dots. */
export function consumerRequest(api: JsApi, msg: Message, t: string[]): void | Promise<void> {
  const reply = msg.reply;
  const verb = t[3];
  const n = t.length;
  // $JS.API.CONSUMER.<VERB>.<stream>[.<consumer>[.<filter…>]]
  let type: string | null = null;
  let stream = '';
  let kind: 'create' | 'missing' | 'names' | 'list' = 'missing';
  switch (verb) {
    case 'CREATE':
      if (n >= 5) [type, stream, kind] = [CONSUMER_TYPES.create, t[4], 'create'];
      break;
    case 'DURABLE':
      if (n === 7 && t[4] === 'CREATE') [type, stream, kind] = [CONSUMER_TYPES.create, t[5], 'create'];
      break;
    case 'INFO':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.info, t[4]];
      break;
    case 'DELETE':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.delete, t[4]];
      break;
    case 'PAUSE':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.pause, t[4]];
      break;
    case 'UNPIN':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.unpin, t[4]];
      break;
    case 'RESET':
      if (n === 6) [type, stream] = [CONSUMER_TYPES.reset, t[4]];
      break;
    case 'LEADER':
      if (n === 7 && t[4] === 'STEPDOWN') [type, stream] = [CONSUMER_TYPES.stepdown, t[5]];
      break;
    case 'NAMES':
      if (n === 5) [type, stream, kind] = [CONSUMER_TYPES.names, t[4], 'names'];
      break;
    case 'LIST':
      if (n === 5) [type, stream, kind] = [CONSUMER_TYPES.list, t[4], 'list'];
      break;
  }
  if (type === null) {
    api.error(reply, TYPES.system, JsErrors.BadRequestErr);
    return;
  }
  if (kind === 'names' || kind === 'list') return pageRequest(api, msg, type, stream, kind);
  if (type === CONSUMER_TYPES.create) return createRequest(api, msg, t, verb === 'DURABLE');
  const s = api.lookup(reply, type, stream);
  if (s === null) return;
  const c = s.consumers.get(t[5]);
  if (c === undefined) return api.error(reply, type, JsErrors.ConsumerNotFoundErr);
  if (type === CONSUMER_TYPES.info) return api.send(reply, { type, ...consumerInfo(c) });
  if (type === CONSUMER_TYPES.delete)
    return api.js.all.deleteConsumer(c).then(
      () => {
        consumerAction(api.js.router, s.name, c.name, 'delete');
        api.send(reply, { type, success: true });
      },
      (err: Error) => api.error(reply, type, jsError(JsErrors.StreamGeneralErrorF, { err: err.message })),
    );
  if (type === CONSUMER_TYPES.pause) return pauseRequest(api, msg, c);
  api.error(reply, type, JsErrors.BadRequestErr);
}

/** nats-server 2.11 jetstream_api.go jsConsumerPauseRequest: `{pause_until}` sets (a past or zero
 * time clears) the pause, persisted like any config change; the answer always carries
 * `pause_until` (Go's zero time when cleared) and, while paused, `pause_remaining`. */
async function pauseRequest(api: JsApi, msg: Message, c: Consumer): Promise<void> {
  const type = CONSUMER_TYPES.pause;
  let until: bigint | null = null;
  if (isJsonObjectOrArray(msg.payload)) {
    const req = api.decode(msg, { name: 'JSApiConsumerPauseRequest', fields: { pause_until: { t: 'string' } } }, type);
    if (req === null) return;
    const text = (req.pause_until as string | undefined) ?? '';
    if (text !== '') {
      until = parseGoTime(text);
      if (until === null) return api.error(msg.reply, type, jsError(JsErrors.InvalidJSONErr, { err: `parsing time ${JSON.stringify(text)}` }));
      if (until <= 0n) until = null;
    }
  }
  api.js.all.updateConsumer(c, { ...c.cfg, pause_until: until });
  await new Promise<void>((resolve) => c.whenDurable(resolve));
  const left = c.pauseRemainingMs(Date.now());
  const body: Record<string, unknown> = { type, paused: left > 0, pause_until: until === null ? GO_ZERO_TIME : goTime(until) };
  if (left > 0) body.pause_remaining = left * 1_000_000;
  api.send(msg.reply, body);
}

function pageRequest(api: JsApi, msg: Message, type: string, stream: string, kind: 'names' | 'list'): void {
  const limit = kind === 'names' ? NAMES_LIMIT : LIST_LIMIT;
  let offset = 0;
  if (isJsonObjectOrArray(msg.payload)) {
    const req = api.decode(msg, { name: 'JSApiConsumersRequest', fields: { offset: { t: 'int', go: 'int' } } }, type, {
      total: 0,
      offset: 0,
      limit: 0,
      consumers: [],
    });
    if (req === null) return;
    offset = Math.max(0, (req.offset as number | undefined) ?? 0);
  }
  const s = api.lookup(msg.reply, type, stream, { total: 0, offset: 0, limit: 0, consumers: [] });
  if (s === null) return;
  const all = [...s.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  offset = Math.min(offset, all.length);
  const page = all.slice(offset, offset + limit);
  const consumers = kind === 'names' ? page.map((c) => c.name) : page.map((c) => consumerInfo(c));
  api.send(msg.reply, { type, total: all.length, offset, limit, consumers });
}

/** nats-server's generated ephemeral names: 8 characters of [A-Za-z0-9]. */
function ephemeralName(): string {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (const b of randomBytes(8)) out += abc[b % abc.length];
  return out;
}

/**
 * CONSUMER.CREATE.<s> (legacy), CONSUMER.CREATE.<s>.<c>[.<filter>], CONSUMER.DURABLE.CREATE.<s>.<c>
 * (nats-server jetstream_api.go jsConsumerCreateRequest, stream.go addConsumerWithAction).
 */
async function createRequest(api: JsApi, msg: Message, t: string[], durableApi: boolean): Promise<void> {
  const type = CONSUMER_TYPES.create;
  const reply = msg.reply;
  const stream = durableApi ? t[5] : t[4];
  const subjName = durableApi ? t[6] : t.length >= 6 ? t[5] : '';
  const filter = !durableApi && t.length > 6 ? t.slice(6).join('.') : '';
  const req = api.decode(msg, CONSUMER_CREATE_REQUEST, type);
  if (req === null) return;
  if (stream !== ((req.stream_name as string | undefined) ?? '')) return api.error(reply, type, JsErrors.StreamMismatchErr);
  const raw: Decoded = { ...((req.config as Decoded | undefined) ?? {}) };
  const durable = (raw.durable_name as string | undefined) ?? '';
  if (durableApi) {
    if (durable === '') return api.error(reply, type, JsErrors.ConsumerDurableNameNotSetErr);
    if (durable !== subjName) return api.error(reply, type, JsErrors.ConsumerDurableNameNotMatchSubjectErr);
  } else if (subjName !== '') {
    if (durable !== '' && durable !== subjName) return api.error(reply, type, JsErrors.ConsumerDurableNameNotMatchSubjectErr);
    if (durable === '') raw.name = subjName;
    if (filter !== '') {
      const fss = (raw.filter_subjects as string[] | undefined) ?? [];
      if (fss.length > 0) return api.error(reply, type, JsErrors.ConsumerMultipleFiltersNotAllowed);
      if (((raw.filter_subject as string | undefined) ?? '') !== filter)
        return api.error(reply, type, JsErrors.ConsumerCreateFilterSubjectMismatchErr);
    }
  } else {
    if (durable !== '') return api.error(reply, type, JsErrors.ConsumerEphemeralWithDurableNameErr);
    if (((raw.name as string | undefined) ?? '') === '') raw.name = ephemeralName();
  }
  const s = api.lookup(reply, type, stream);
  if (s === null) return;
  const checked = checkConsumerConfig(raw, s.cfg);
  if (checked.err !== null) return api.error(reply, type, checked.err);
  const cfg = checked.cfg;
  const name = cfg.durable_name !== '' ? cfg.durable_name : cfg.name;
  const action = (req.action as string | undefined) ?? '';
  const existing = s.consumers.get(name);
  // nats-server jsConsumerCreateRequest: an update keeps the pause as it is (PAUSE changes it).
  if (existing !== undefined) cfg.pause_until = existing.cfg.pause_until ?? null;
  if (existing !== undefined) {
    const same = JSON.stringify(consumerConfigJson(existing.cfg)) === JSON.stringify(consumerConfigJson(cfg));
    if (!same) {
      if (action === 'create') return api.error(reply, type, JsErrors.ConsumerAlreadyExists);
      const refusal = updateRefusal(existing.cfg, cfg);
      if (refusal !== null) return api.error(reply, type, jsError(JsErrors.ConsumerCreateErrF, { err: refusal }));
      api.js.all.updateConsumer(existing, cfg);
      await new Promise<void>((resolve) => existing.whenDurable(resolve));
    }
    return api.send(reply, { type, ...consumerInfo(existing) });
  }
  if (action === 'update') return api.error(reply, type, JsErrors.ConsumerDoesNotExist);
  if (s.cfg.retention === 'workqueue') {
    const e = workqueueRefusal(
      cfg,
      [...s.consumers.values()].map((c) => c.cfg),
    );
    if (e !== null) return api.error(reply, type, e);
  }
  if ((s.cfg.max_consumers > 0 && s.consumers.size >= s.cfg.max_consumers) || api.js.consumerLimitReached())
    return api.error(reply, type, JsErrors.MaximumConsumersLimitErr);
  const c = api.js.createConsumer(s, cfg);
  await new Promise<void>((resolve) => c.whenDurable(resolve));
  consumerAction(api.js.router, s.name, c.name, 'create');
  api.send(reply, { type, ...consumerInfo(c) });
}

/** nats-server stream.go addConsumerWithAction: a workqueue stream's consumers (explicit ack,
 * deliver all, at most one unfiltered, filters that do not overlap). */
function workqueueRefusal(cfg: ConsumerConfig, others: ConsumerConfig[]): JsApiError | null {
  if (cfg.ack_policy !== 'explicit') return JsErrors.ConsumerWQRequiresExplicitAckErr;
  if (cfg.deliver_policy !== 'all') return JsErrors.ConsumerWQConsumerNotDeliverAllErr;
  if (others.length === 0) return null;
  const mine = consumerFilters(cfg);
  for (const o of others) {
    const theirs = consumerFilters(o);
    if (mine.length === 0 || theirs.length === 0) return JsErrors.ConsumerWQMultipleUnfilteredErr;
    for (const a of mine) for (const b of theirs) if (subjectsCollide(a, b)) return JsErrors.ConsumerWQConsumerNotUniqueErr;
  }
  return null;
}
