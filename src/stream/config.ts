/**
 * Stream configuration: the request schema, nats-server's defaults and validation rules, the
 * update rules, and the JSON echo (specs/nats.md §4 "Config fields"). Everything here is pure:
 * no I/O, no stream state, so the same checks serve STREAM.CREATE, STREAM.UPDATE and recovery.
 */
import { JsErrors, jsError, type JsApiError } from '../core/errors.js';
import { isValidSubject, subjectsCollide, subjectIsSubsetOf } from '../core/subject.js';
import { firstCollision, listsCollide } from '../core/overlap.js';
import { goQuote, type Decoded, type GoStruct } from './gojson.js';

/** Durations on the wire are Go `time.Duration`: nanoseconds. */
export const NS_PER_MS = 1_000_000;
/** nats-server StreamDefaultDuplicatesWindow: 2 minutes. */
export const DEFAULT_DUPLICATE_WINDOW_NS = 2 * 60 * 1000 * NS_PER_MS;
/** max_age and duplicate_window below 100 ms are refused: expiry that fine would be all timer work. */
export const MIN_WINDOW_NS = 100 * NS_PER_MS;
/** nats-server JSMaxNameLen: names become directory names, 255 is the common file-name limit. */
export const MAX_NAME_LEN = 255;
/** nats-server JSMaxDescriptionLen. */
export const MAX_DESCRIPTION_LEN = 4 * 1024;
/** nats-server JSMaxMetadataLen: keys plus values. */
export const MAX_METADATA_LEN = 128 * 1024;
/** nats-server StreamMaxReplicas. */
export const MAX_REPLICAS = 5;

export type Retention = 'limits' | 'interest' | 'workqueue';
export type Discard = 'old' | 'new';
export type Storage = 'file' | 'memory';

/** Per-consumer defaults a stream hands to its consumers (echoed as given). */
export interface ConsumerLimits {
  inactive_threshold?: number;
  max_ack_pending?: number;
}

/**
 * A normalized stream configuration: every default applied, limits as -1 when unlimited,
 * durations in ns. Field names are the wire names, so echoing is a copy. Immutable once a stream
 * holds it (updates replace the whole object).
 */
export interface StreamConfig {
  name: string;
  description: string;
  subjects: string[];
  retention: Retention;
  max_consumers: number;
  max_msgs: number;
  max_bytes: number;
  max_age: number;
  max_msgs_per_subject: number;
  max_msg_size: number;
  discard: Discard;
  storage: Storage;
  num_replicas: number;
  no_ack: boolean;
  duplicate_window: number;
  compression: 'none' | 's2';
  first_seq: number;
  allow_direct: boolean;
  mirror_direct: boolean;
  discard_new_per_subject: boolean;
  sealed: boolean;
  deny_delete: boolean;
  deny_purge: boolean;
  allow_rollup_hdrs: boolean;
  consumer_limits: ConsumerLimits;
  metadata: Record<string, string> | null;
}

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

/** nats-server isValidAssetName: non-empty, none of whitespace `.` `*` `>` `\` `/`. */
export function isValidAssetName(name: string): boolean {
  return name !== '' && !/[ \t\r\n\f.*>\\/]/.test(name);
}

type Result = { cfg: StreamConfig; err: null } | { cfg: null; err: JsApiError };

function invalid(text: string): Result {
  return { cfg: null, err: jsError(JsErrors.StreamInvalidConfigF, { err: text }) };
}

function pedanticErr(text: string): Result {
  return { cfg: null, err: jsError(JsErrors.PedanticErrF, { err: text }) };
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function bool(v: unknown): boolean {
  return v === true;
}

/** True when a decoded opaque value is Go's zero for a pointer field: absent, null or empty. */
function isUnset(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

function isEmptyPlacement(v: unknown): boolean {
  if (isUnset(v)) return true;
  if (typeof v !== 'object' || v === null) return false;
  return Object.values(v as Record<string, unknown>).every(
    (x) => x === null || x === '' || x === false || x === 0 || (Array.isArray(x) && x.length === 0),
  );
}

/** Normalizes -1/0/negative limits the way nats-server does (0 or < -1 become -1). */
function unlimited(v: number, field: string, pedantic: boolean): number | string {
  if (v === 0 || v < -1) {
    if (pedantic && v < -1) return `${field} must be set to -1`;
    return -1;
  }
  return v;
}

/**
 * nats-server checkStreamCfg for a standalone server: applies defaults and validates `raw`
 * (a decoded StreamConfigRequest). Features herald does not implement (mirrors, sources,
 * transforms, republish, per-message TTL, counters, schedules, batching, placement) are refused
 * with 10052 and a sentence naming the feature (specs/nats.md §4 "Reject with 10052").
 */
export function checkStreamConfig(raw: Decoded, pedantic: boolean): Result {
  const name = str(raw.name);
  if (!isValidAssetName(name)) return invalid("stream name is required and can not contain '.', '*', '>', '\\', '/'");
  if (Buffer.byteLength(name) > MAX_NAME_LEN) return invalid(`stream name is too long, maximum allowed is ${MAX_NAME_LEN}`);
  const description = str(raw.description);
  if (Buffer.byteLength(description) > MAX_DESCRIPTION_LEN) {
    return invalid(`stream description is too long, maximum allowed is ${MAX_DESCRIPTION_LEN}`);
  }
  const metaIn = raw.metadata as Record<string, string> | undefined;
  let metadata: Record<string, string> | null = null;
  if (metaIn !== undefined && metaIn !== null) {
    let len = 0;
    for (const [k, v] of Object.entries(metaIn)) len += Buffer.byteLength(k) + Buffer.byteLength(v);
    if (len > MAX_METADATA_LEN) return invalid(`stream metadata exceeds maximum size of ${MAX_METADATA_LEN} bytes`);
    if (Object.keys(metaIn).length > 0) metadata = { ...metaIn };
  }

  let replicas = num(raw.num_replicas);
  if (replicas === 0) replicas = 1;
  if (replicas > MAX_REPLICAS) return invalid(`maximum replicas is ${MAX_REPLICAS}`);
  if (replicas < 0) return { cfg: null, err: JsErrors.ReplicasCountCannotBeNegative };

  const lim: Record<string, number> = {};
  for (const f of ['max_msgs', 'max_msgs_per_subject', 'max_bytes', 'max_msg_size', 'max_consumers']) {
    const r = unlimited(num(raw[f]), f, pedantic);
    if (typeof r === 'string') return pedanticErr(r);
    lim[f] = r;
  }
  const maxAge = num(raw.max_age);
  if (maxAge < 0) return invalid('max age can not be negative');
  if (maxAge !== 0 && maxAge < MIN_WINDOW_NS) return invalid('max age needs to be >= 100ms');

  const mirror = raw.mirror;
  const sources = raw.sources;
  let dup = num(raw.duplicate_window);
  if (dup === 0 && isUnset(mirror) && isUnset(sources)) {
    if (maxAge !== 0 && maxAge < DEFAULT_DUPLICATE_WINDOW_NS) {
      if (pedantic) return pedanticErr('duplicate window cannot be bigger than max age');
      dup = maxAge;
    } else {
      dup = DEFAULT_DUPLICATE_WINDOW_NS;
    }
  }
  if (dup < 0) return invalid('duplicates window can not be negative');
  if (maxAge !== 0 && dup > maxAge) return invalid('duplicates window can not be larger then max age');
  if (dup > 0 && dup < MIN_WINDOW_NS) return invalid('duplicates window needs to be >= 100ms');

  const denyPurge = bool(raw.deny_purge);
  const allowRollup = bool(raw.allow_rollup_hdrs);
  if (denyPurge && allowRollup) return invalid('roll-ups require the purge permission');

  const discard = (raw.discard as Discard | undefined) ?? 'old';
  const discardNewPer = bool(raw.discard_new_per_subject);
  if (discardNewPer) {
    if (discard !== 'new') return invalid('discard new per subject requires discard new policy to be set');
    if (lim.max_msgs_per_subject <= 0) return invalid('discard new per subject requires max msgs per subject > 0');
  }
  const sdm = num(raw.subject_delete_marker_ttl);
  if (sdm < 0) return invalid('subject delete marker TTL must not be negative');

  // Features outside herald's scope (specs/nats.md §4 "Reject with 10052").
  if (!isUnset(mirror)) return invalid('stream mirrors are not supported by herald');
  if (!isUnset(sources)) return invalid('stream sources are not supported by herald');
  if (!isUnset(raw.subject_transform)) return invalid('stream subject transforms are not supported by herald');
  if (!isUnset(raw.republish)) return invalid('stream republish is not supported by herald');
  if (bool(raw.allow_msg_ttl) || sdm > 0) return invalid('per-message TTL is not supported by herald');
  if (bool(raw.allow_msg_counter)) return invalid('message counters are not supported by herald');
  if (bool(raw.allow_msg_schedules)) return invalid('message schedules are not supported by herald');
  if (bool(raw.allow_atomic)) return invalid('atomic batch publish is not supported by herald');
  if (bool(raw.allow_batched)) return invalid('batch publish is not supported by herald');
  if (raw.persist_mode === 'async') return invalid('async persist mode is not supported by herald');

  if (num(raw.first_seq) > Number.MAX_SAFE_INTEGER) return invalid('first sequence must be at most 9007199254740991 in herald');
  const noAck = bool(raw.no_ack);
  let subjects = (raw.subjects as string[] | undefined) ?? [];
  if (subjects.length === 0) {
    subjects = [name];
  } else {
    // The first overlapping pair (i, j) is reported while checking subject i, after its own
    // checks, as nats-server's loop over later subjects does.
    let pair: [number, number] | null;
    try {
      pair = firstCollision(subjects);
    } catch (err) {
      return invalid((err as Error).message);
    }
    const seen = new Set<string>();
    for (let i = 0; i < subjects.length; i++) {
      const subj = subjects[i];
      if (!isValidSubject(subj)) return invalid('invalid subject');
      if (seen.has(subj)) return invalid('duplicate subjects detected');
      if (subj === '>') {
        if (!noAck) return invalid('capturing all subjects requires no-ack to be true');
        if (replicas !== 1) return invalid('capturing all subjects requires replicas of 1');
      }
      if (!noAck) {
        for (const ns of ['$JS.>', '$JSC.>', '$NRG.>']) {
          if (subjectsCollide(subj, ns) && !subjectIsSubsetOf(subj, '$JS.EVENT.>')) {
            return invalid('subjects that overlap with jetstream api require no-ack to be true');
          }
        }
        if (subjectsCollide(subj, '$SYS.>') && !subjectIsSubsetOf(subj, '$SYS.ACCOUNT.>')) {
          return invalid('subjects that overlap with system api require no-ack to be true');
        }
      }
      if (pair !== null && pair[0] === i) return invalid(`subject ${goQuote(subj)} overlaps with ${goQuote(subjects[pair[1]])}`);
      seen.add(subj);
    }
    subjects = [...subjects];
  }

  const placement = raw.placement;
  if (!isEmptyPlacement(placement)) {
    const p = placement as Record<string, unknown>;
    if (typeof p === 'object' && p !== null && str(p.preferred) !== '')
      return invalid('preferred server not permitted in placement');
    return invalid('stream placement is not supported by herald');
  }

  const cl = (raw.consumer_limits as ConsumerLimits | undefined) ?? {};
  const consumerLimits: ConsumerLimits = {};
  if (num(cl.inactive_threshold) !== 0) consumerLimits.inactive_threshold = num(cl.inactive_threshold);
  if (num(cl.max_ack_pending) !== 0) consumerLimits.max_ack_pending = num(cl.max_ack_pending);

  const cfg: StreamConfig = {
    name,
    description,
    subjects,
    retention: (raw.retention as Retention | undefined) ?? 'limits',
    max_consumers: lim.max_consumers,
    max_msgs: lim.max_msgs,
    max_bytes: lim.max_bytes,
    max_age: maxAge,
    max_msgs_per_subject: lim.max_msgs_per_subject,
    max_msg_size: lim.max_msg_size,
    discard,
    storage: (raw.storage as Storage | undefined) ?? 'file',
    num_replicas: replicas,
    no_ack: noAck,
    duplicate_window: dup,
    compression: (raw.compression as 'none' | 's2' | undefined) ?? 'none',
    first_seq: num(raw.first_seq),
    allow_direct: bool(raw.allow_direct),
    mirror_direct: bool(raw.mirror_direct),
    discard_new_per_subject: discardNewPer,
    sealed: bool(raw.sealed),
    deny_delete: bool(raw.deny_delete),
    deny_purge: denyPurge,
    allow_rollup_hdrs: allowRollup,
    consumer_limits: consumerLimits,
    metadata,
  };
  return { cfg, err: null };
}

/**
 * herald refuses interest and workqueue retention for now: the config is valid, but the stream
 * cannot honour it until consumers exist (a later issue). Null when `cfg` can be served.
 */
export function unsupportedRetention(cfg: StreamConfig): JsApiError | null {
  if (cfg.retention === 'limits') return null;
  return jsError(JsErrors.StreamInvalidConfigF, {
    err: `${cfg.retention} retention is not supported by herald yet: it needs consumers, which a later release adds`,
  });
}

/**
 * nats-server configUpdateCheck, minus the byte-budget part (done by the caller, which knows the
 * other streams): what may change between `old` and the already-normalized `next`. Returns the
 * config to apply (sealing forces its own settings) or an error.
 */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): Result {
  if (next.name !== old.name) return invalid('stream configuration name must match original');
  if (next.num_replicas > 1) return { cfg: null, err: JsErrors.StreamReplicasNotSupportedErr };
  if (next.storage !== old.storage) return invalid('stream configuration update can not change storage type');
  if (next.retention !== old.retention && (old.retention === 'workqueue' || next.retention === 'workqueue')) {
    return invalid('stream configuration update can not change retention policy to/from workqueue');
  }
  if (!next.sealed && old.sealed) return invalid('stream configuration update can not unseal a sealed stream');
  if (!next.deny_delete && old.deny_delete) return invalid('stream configuration update can not cancel deny message deletes');
  if (!next.deny_purge && old.deny_purge) return invalid('stream configuration update can not cancel deny purge');
  if (next.sealed) {
    return {
      cfg: { ...next, max_age: 0, discard: 'new', deny_delete: true, deny_purge: true, allow_rollup_hdrs: false },
      err: null,
    };
  }
  return { cfg: next, err: null };
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

/** Deep equality of two normalized configs (nats-server compares with reflect.DeepEqual). */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return JSON.stringify(configJson(a)) === JSON.stringify(configJson(b));
}

/** True when any subject of `a` could match a subject of `b` (error 10065 across streams). */
export function subjectsOverlap(a: readonly string[], b: readonly string[]): boolean {
  return listsCollide(a, b);
}
