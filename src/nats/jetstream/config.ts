/**
 * Stream config on the NATS wire: the request schema Go's decoder enforces (STREAM.CREATE /
 * UPDATE bodies and meta.json), the JSON echo in nats-server's field order, and the mapping of
 * the neutral config refusals (`src/stream/errors.ts` ConfigError) to JetStream API errors
 * (specs/nats.md §4 "Config fields"). The rules themselves are `src/stream/config.ts`.
 */
import { JsErrors, jsError, type JsApiError } from '../../core/errors.js';
import * as rules from '../../stream/config.js';
import type { StreamConfig } from '../../stream/config.js';
import type { ConfigError } from '../../stream/errors.js';
import { goQuote, type Decoded, type GoStruct } from './gojson.js';

export { DEFAULT_DUPLICATE_WINDOW_NS, sameConfig, type StreamConfig } from '../../stream/config.js';

const CONSUMER_LIMITS: GoStruct = {
  name: 'StreamConsumerLimits',
  fields: {
    inactive_threshold: { t: 'int', go: 'time.Duration' },
    max_ack_pending: { t: 'int', go: 'int' },
  },
};

/** The fields nats-server's StreamConfig accepts (all of them, so none reads as "unknown"). */
const STREAM_CONFIG_FIELDS: GoStruct['fields'] = {
  name: { t: 'string' },
  description: { t: 'string' },
  subjects: { t: 'strings' },
  retention: { t: 'enum', values: ['limits', 'interest', 'workqueue'] },
  max_consumers: { t: 'int', go: 'int' },
  max_msgs: { t: 'int', go: 'int64' },
  max_bytes: { t: 'int', go: 'int64' },
  max_age: { t: 'int', go: 'time.Duration' },
  max_msgs_per_subject: { t: 'int', go: 'int64' },
  max_msg_size: { t: 'int', go: 'int32' },
  discard: { t: 'enum', values: ['old', 'new'], fold: true },
  storage: { t: 'enum', values: ['file', 'memory'] },
  num_replicas: { t: 'int', go: 'int' },
  no_ack: { t: 'bool' },
  duplicate_window: { t: 'int', go: 'time.Duration' },
  placement: { t: 'opaque' },
  mirror: { t: 'opaque' },
  sources: { t: 'opaque' },
  compression: { t: 'compression' },
  first_seq: { t: 'int', go: 'uint64' },
  subject_transform: { t: 'opaque' },
  republish: { t: 'opaque' },
  allow_direct: { t: 'bool' },
  mirror_direct: { t: 'bool' },
  discard_new_per_subject: { t: 'bool' },
  sealed: { t: 'bool' },
  deny_delete: { t: 'bool' },
  deny_purge: { t: 'bool' },
  allow_rollup_hdrs: { t: 'bool' },
  consumer_limits: { t: 'struct', struct: CONSUMER_LIMITS },
  allow_msg_ttl: { t: 'bool' },
  subject_delete_marker_ttl: { t: 'int', go: 'time.Duration' },
  allow_msg_counter: { t: 'bool' },
  allow_atomic: { t: 'bool' },
  allow_msg_schedules: { t: 'bool' },
  persist_mode: { t: 'enum', values: ['default', 'async'] },
  allow_batched: { t: 'bool' },
  metadata: { t: 'strmap' },
};

/** STREAM.CREATE / STREAM.UPDATE body: a StreamConfig plus the request-scoped `pedantic` flag. */
export const STREAM_CONFIG_REQUEST: GoStruct = {
  name: 'StreamConfigRequest',
  fields: { ...STREAM_CONFIG_FIELDS, pedantic: { t: 'bool' } },
};

/** The config as stored in meta.json (no request-only fields). */
export const STREAM_CONFIG_SCHEMA: GoStruct = { name: 'StreamConfig', fields: STREAM_CONFIG_FIELDS };

/**
 * The NATS subjects a stream may capture only with no_ack (nats-server checkStreamCfg): the
 * JetStream API and its internals except advisories, and the system account except account events.
 */
export const NATS_RESERVED_SUBJECTS: readonly rules.ReservedSubjects[] = [
  {
    patterns: ['$JS.>', '$JSC.>', '$NRG.>'],
    except: '$JS.EVENT.>',
    text: 'subjects that overlap with jetstream api require no-ack to be true',
  },
  { patterns: ['$SYS.>'], except: '$SYS.ACCOUNT.>', text: 'subjects that overlap with system api require no-ack to be true' },
];

/** A neutral config refusal as the JetStream API error nats-server sends for it. */
export function configErrorToJs(e: ConfigError): JsApiError {
  switch (e.kind) {
    case 'invalid':
      return jsError(JsErrors.StreamInvalidConfigF, { err: e.text });
    case 'pedantic':
      return jsError(JsErrors.PedanticErrF, { err: e.text });
    case 'subjects-overlap':
      return jsError(JsErrors.StreamInvalidConfigF, { err: `subject ${goQuote(e.a)} overlaps with ${goQuote(e.b)}` });
    case 'replicas-negative':
      return JsErrors.ReplicasCountCannotBeNegative;
    case 'replicas-unsupported':
      return JsErrors.StreamReplicasNotSupportedErr;
  }
}

type Result = { cfg: StreamConfig; err: null } | { cfg: null; err: JsApiError };

function wire(r: rules.ConfigCheck): Result {
  return r.err === null ? r : { cfg: null, err: configErrorToJs(r.err) };
}

/** `src/stream/config.ts` checkStreamConfig on a decoded request, with JetStream errors. */
export function checkStreamConfig(raw: Decoded, pedantic: boolean): Result {
  return wire(rules.checkStreamConfig(raw, pedantic, NATS_RESERVED_SUBJECTS));
}

/** `src/stream/config.ts` checkStreamUpdate, with JetStream errors. */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): Result {
  return wire(rules.checkStreamUpdate(old, next));
}

/** `src/stream/config.ts` unsupportedRetention, with JetStream errors. */
export function unsupportedRetention(cfg: StreamConfig): JsApiError | null {
  const e = rules.unsupportedRetention(cfg);
  return e === null ? null : configErrorToJs(e);
}

/**
 * The config as nats-server echoes it (field order and omitempty rules of its StreamConfig):
 * limits, policies and booleans always; description, subjects, no_ack, duplicate_window,
 * first_seq, discard_new_per_subject and metadata only when set (specs/nats.md §4 "Echo back").
 */
export function configJson(c: StreamConfig): Record<string, unknown> {
  const o: Record<string, unknown> = { name: c.name };
  if (c.description !== '') o.description = c.description;
  if (c.subjects.length > 0) o.subjects = c.subjects;
  o.retention = c.retention;
  o.max_consumers = c.max_consumers;
  o.max_msgs = c.max_msgs;
  o.max_bytes = c.max_bytes;
  o.max_age = c.max_age;
  o.max_msgs_per_subject = c.max_msgs_per_subject;
  if (c.max_msg_size !== 0) o.max_msg_size = c.max_msg_size;
  o.discard = c.discard;
  o.storage = c.storage;
  o.num_replicas = c.num_replicas;
  if (c.no_ack) o.no_ack = true;
  if (c.duplicate_window !== 0) o.duplicate_window = c.duplicate_window;
  o.compression = c.compression;
  if (c.first_seq !== 0) o.first_seq = c.first_seq;
  o.allow_direct = c.allow_direct;
  o.mirror_direct = c.mirror_direct;
  if (c.discard_new_per_subject) o.discard_new_per_subject = true;
  o.sealed = c.sealed;
  o.deny_delete = c.deny_delete;
  o.deny_purge = c.deny_purge;
  o.allow_rollup_hdrs = c.allow_rollup_hdrs;
  o.consumer_limits = { ...c.consumer_limits };
  o.allow_msg_ttl = false;
  if (c.metadata !== null) {
    const m: Record<string, string> = {};
    for (const k of Object.keys(c.metadata).sort()) m[k] = c.metadata[k];
    o.metadata = m;
  }
  return o;
}
