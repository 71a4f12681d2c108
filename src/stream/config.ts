/**
 * Stream configuration: the normalized config type, nats-server's defaults and validation rules
 * and the update rules (specs/nats.md §4 "Config fields"). Everything here is pure: no I/O, no
 * stream state, no wire format (the request schema and the JSON echo are the NATS door's,
 * `src/nats/jetstream/config.ts`), so the same checks serve any door, updates and recovery.
 * Refusals are neutral `ConfigError` values the door maps.
 */
import { isValidSubject, subjectsCollide, subjectIsSubsetOf } from '../core/subject.js';
import { firstCollision, listsCollide } from '../core/overlap.js';
import type { ConfigError, ConfigResult } from './errors.js';

/**
 * Subjects a door keeps for itself (its API, its system events): a stream may capture them only
 * with no_ack, since its acks and the door's own traffic would otherwise mix. `except` is a
 * sub-namespace streams may capture anyway; `text` is the refusal.
 */
export interface ReservedSubjects {
  readonly patterns: readonly string[];
  readonly except: string;
  readonly text: string;
}

/** A config as a door decoded it: field name → plain value, before defaults and checks. */
export type RawConfig = Readonly<Record<string, unknown>>;

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

/** nats-server isValidAssetName: non-empty, none of whitespace `.` `*` `>` `\` `/`. */
export function isValidAssetName(name: string): boolean {
  return name !== '' && !/[ \t\r\n\f.*>\\/]/.test(name);
}

/** A checked config or the neutral reason it was refused. */
export type ConfigCheck = ConfigResult<StreamConfig>;
type Result = ConfigCheck;

function fail(err: ConfigError): Result {
  return { cfg: null, err };
}

function invalid(text: string): Result {
  return fail({ kind: 'invalid', text });
}

function pedanticErr(text: string): Result {
  return fail({ kind: 'pedantic', text });
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
export function checkStreamConfig(raw: RawConfig, pedantic: boolean, reserved: readonly ReservedSubjects[] = []): Result {
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
  if (replicas < 0) return fail({ kind: 'replicas-negative' });

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
        for (const r of reserved) {
          if (r.patterns.some((ns) => subjectsCollide(subj, ns)) && !subjectIsSubsetOf(subj, r.except)) return invalid(r.text);
        }
      }
      if (pair !== null && pair[0] === i) return fail({ kind: 'subjects-overlap', a: subj, b: subjects[pair[1]] });
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
export function unsupportedRetention(_cfg: StreamConfig): ConfigError | null {
  // interest and workqueue work since consumers exist (issue 8); kept for the callers' shape.
  return null;
}

/**
 * nats-server configUpdateCheck, minus the byte-budget part (done by the caller, which knows the
 * other streams): what may change between `old` and the already-normalized `next`. Returns the
 * config to apply (sealing forces its own settings) or an error.
 */
export function checkStreamUpdate(old: StreamConfig, next: StreamConfig): Result {
  if (next.name !== old.name) return invalid('stream configuration name must match original');
  if (next.num_replicas > 1) return fail({ kind: 'replicas-unsupported' });
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
 * Deep equality of two normalized configs (nats-server compares with reflect.DeepEqual).
 * Metadata compares as a map (key order does not matter); costs one walk of both configs.
 */
export function sameConfig(a: StreamConfig, b: StreamConfig): boolean {
  return canonical(a) === canonical(b);
}

function canonical(c: StreamConfig): string {
  let metadata: [string, string][] | null = null;
  if (c.metadata !== null)
    metadata = Object.keys(c.metadata)
      .sort()
      .map((k) => [k, (c.metadata as Record<string, string>)[k]]);
  const cl = c.consumer_limits;
  return JSON.stringify({ ...c, metadata, consumer_limits: [cl.inactive_threshold, cl.max_ack_pending] });
}

/** True when any subject of `a` could match a subject of `b` (error 10065 across streams). */
export function subjectsOverlap(a: readonly string[], b: readonly string[]): boolean {
  return listsCollide(a, b);
}
