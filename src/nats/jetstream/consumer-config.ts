/**
 * Consumer configs on the JetStream wire (specs/nats.md §5 "Config fields"): the request schema
 * of CONSUMER.CREATE, nats-server's checks with its exact error codes and texts
 * (consumer.go checkConsumerCfg / setConsumerConfigDefaults, stream.go addConsumerWithAction),
 * the defaults, the echo in nats-server's field order, and the rules for what an update may change.
 */
import { JsErrors, jsError, type JsApiError } from '../../core/errors.js';
import { isValidSubject, subjectIsSubsetOf, subjectsCollide } from '../../core/subject.js';
import {
  DEFAULT_ACK_WAIT_NS,
  DEFAULT_INACTIVE_THRESHOLD_NS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_WAITING,
  type ConsumerConfig,
  type DeliverPolicy,
} from '../../stream/consumer-config.js';
import { MAX_DESCRIPTION_LEN, MAX_NAME_LEN, type StreamConfig } from '../../stream/config.js';
import type { Decoded, GoStruct } from './gojson.js';
import { goTime, parseGoTime } from './gotime.js';

/** nats-server JSMaxNameLen applies to consumer names too. */
const MAX_CONSUMER_NAME_LEN = MAX_NAME_LEN;
/** nats-server JsHbMinimum-ish floor: idle heartbeats under 100 ms would be mostly timer work. */
const MIN_HEARTBEAT_NS = 100_000_000;

const DELIVER_POLICIES: readonly DeliverPolicy[] = [
  'all',
  'last',
  'new',
  'by_start_sequence',
  'by_start_time',
  'last_per_subject',
];

const CONSUMER_CONFIG: GoStruct = {
  name: 'ConsumerConfig',
  fields: {
    durable_name: { t: 'string' },
    name: { t: 'string' },
    description: { t: 'string' },
    deliver_policy: {
      t: 'enum',
      values: ['all', 'undefined', 'last', 'new', 'by_start_sequence', 'by_start_time', 'last_per_subject'],
    },
    opt_start_seq: { t: 'int', go: 'uint64' },
    opt_start_time: { t: 'string' },
    ack_policy: { t: 'enum', values: ['none', 'all', 'explicit'] },
    ack_wait: { t: 'int', go: 'time.Duration' },
    max_deliver: { t: 'int', go: 'int' },
    backoff: { t: 'opaque' },
    filter_subject: { t: 'string' },
    filter_subjects: { t: 'strings' },
    replay_policy: { t: 'enum', values: ['instant', 'original'] },
    rate_limit_bps: { t: 'int', go: 'uint64' },
    sample_freq: { t: 'string' },
    max_waiting: { t: 'int', go: 'int' },
    max_ack_pending: { t: 'int', go: 'int' },
    idle_heartbeat: { t: 'int', go: 'time.Duration' },
    flow_control: { t: 'bool' },
    headers_only: { t: 'bool' },
    max_batch: { t: 'int', go: 'int' },
    max_expires: { t: 'int', go: 'time.Duration' },
    max_bytes: { t: 'int', go: 'int' },
    deliver_subject: { t: 'string' },
    deliver_group: { t: 'string' },
    inactive_threshold: { t: 'int', go: 'time.Duration' },
    num_replicas: { t: 'int', go: 'int' },
    mem_storage: { t: 'bool' },
    direct: { t: 'bool' },
    metadata: { t: 'strmap' },
    pause_until: { t: 'string' },
    priority_groups: { t: 'opaque' },
    priority_policy: { t: 'opaque' },
    priority_timeout: { t: 'opaque' },
  },
};

/** CONSUMER.CREATE request body (nats-server CreateConsumerRequest). */
export const CONSUMER_CREATE_REQUEST: GoStruct = {
  name: 'CreateConsumerRequest',
  fields: {
    stream_name: { t: 'string' },
    config: { t: 'struct', struct: CONSUMER_CONFIG },
    action: { t: 'enum', values: ['', 'create', 'update'] },
    pedantic: { t: 'bool' },
  },
};

type Checked = { cfg: ConsumerConfig; err: null } | { cfg: null; err: JsApiError };

function invalid(text: string): Checked {
  return { cfg: null, err: jsError(JsErrors.ConsumerInvalidPolicyErrF, { err: text }) };
}

function fail(e: JsApiError): Checked {
  return { cfg: null, err: e };
}

/** nats-server isValidName for consumer names: no '.', '*', '>' nor whitespace. */
function badName(n: string): boolean {
  return /[.*>\s]/.test(n);
}

/**
 * Normalizes and checks `raw` (the decoded `config`) for stream `s`, in nats-server's order:
 * names, policies and their options, push-only fields, limits, filters; then the defaults.
 */
export function checkConsumerConfig(raw: Decoded, s: StreamConfig): Checked {
  const str = (k: string): string => (raw[k] as string | undefined) ?? '';
  const num = (k: string): number => (raw[k] as number | undefined) ?? 0;
  const bool = (k: string): boolean => raw[k] === true;
  const durable = str('durable_name');
  let name = str('name');
  if (durable !== '' && name !== '' && durable !== name) return fail(JsErrors.ConsumerCreateDurableAndNameMismatch);
  if (name === '') name = durable;
  for (const n of [durable, name]) {
    if (n === '') continue;
    if (n.length > MAX_CONSUMER_NAME_LEN) return fail(jsError(JsErrors.ConsumerNameTooLongErrF, { max: MAX_CONSUMER_NAME_LEN }));
    if (/[\\/]/.test(n)) return fail(JsErrors.ConsumerNameContainsPathSeparatorsErr);
    if (badName(n)) return fail(JsErrors.ConsumerBadDurableNameErr);
  }
  const description = str('description');
  if (description.length > MAX_DESCRIPTION_LEN)
    return fail(jsError(JsErrors.ConsumerDescriptionTooLongErrF, { max: MAX_DESCRIPTION_LEN }));
  let dp = str('deliver_policy');
  if (dp === '' || dp === 'undefined') dp = 'all';
  const deliver = dp as DeliverPolicy;
  if (!DELIVER_POLICIES.includes(deliver)) return invalid(`deliver policy ${dp} is invalid`);
  const optSeq = num('opt_start_seq');
  const optTimeText = str('opt_start_time');
  let optTime: bigint | null = null;
  if (optTimeText !== '') {
    optTime = parseGoTime(optTimeText);
    if (optTime === null) return fail(jsError(JsErrors.InvalidJSONErr, { err: `parsing time ${JSON.stringify(optTimeText)}` }));
  }
  const pauseText = str('pause_until');
  let pauseUntil: bigint | null = null;
  if (pauseText !== '') {
    pauseUntil = parseGoTime(pauseText);
    if (pauseUntil === null) return fail(jsError(JsErrors.InvalidJSONErr, { err: `parsing time ${JSON.stringify(pauseText)}` }));
    // Go's zero time means "not paused".
    if (pauseUntil <= 0n) pauseUntil = null;
  }
  // nats-server checkConsumerCfg: the start options must match the deliver policy.
  const words: Record<DeliverPolicy, string> = {
    all: 'deliver all',
    last: 'deliver last',
    new: 'deliver new',
    by_start_sequence: 'deliver by start sequence',
    by_start_time: 'deliver by start time',
    last_per_subject: 'deliver last per subject',
  };
  if (deliver === 'by_start_sequence') {
    if (optSeq === 0)
      return invalid('consumer delivery policy is deliver by start sequence, but optional start sequence is not set');
    if (optTime !== null)
      return invalid('consumer delivery policy is deliver by start sequence, but optional start time is also set');
  } else if (deliver === 'by_start_time') {
    if (optTime === null) return invalid('consumer delivery policy is deliver by start time, but optional start time is not set');
    if (optSeq !== 0)
      return invalid('consumer delivery policy is deliver by start time, but optional start sequence is also set');
  } else {
    if (optSeq !== 0) return invalid(`consumer delivery policy is ${words[deliver]}, but optional start sequence is also set`);
    if (optTime !== null) return invalid(`consumer delivery policy is ${words[deliver]}, but optional start time is also set`);
  }
  const ack = (str('ack_policy') || 'none') as ConsumerConfig['ack_policy'];
  let backoff: number[] = [];
  if (raw.backoff !== undefined && raw.backoff !== null) {
    if (!Array.isArray(raw.backoff) || !raw.backoff.every((x) => Number.isSafeInteger(x)))
      return fail(
        jsError(JsErrors.InvalidJSONErr, {
          err: 'json: cannot unmarshal backoff into Go struct field ConsumerConfig.backoff of type time.Duration',
        }),
      );
    backoff = raw.backoff as number[];
  }
  let maxDeliver = num('max_deliver');
  if (maxDeliver === 0) maxDeliver = -1;
  if (backoff.length > 0) {
    if (ack === 'none') return invalid('backoff requires an ack policy other than none');
    if (maxDeliver > 0 && maxDeliver <= backoff.length) return fail(JsErrors.ConsumerMaxDeliverBackoffErr);
    if (backoff.some((d) => d <= 0)) return invalid('backoff values must be > 0');
  }
  const deliverSubject = str('deliver_subject');
  const push = deliverSubject !== '';
  const hb = num('idle_heartbeat');
  if (!push) {
    if (hb > 0) return fail(JsErrors.ConsumerHBRequiresPushErr);
    if (bool('flow_control')) return fail(JsErrors.ConsumerFCRequiresPushErr);
  } else {
    if (!isValidSubject(deliverSubject) || /[*>]/.test(deliverSubject)) return fail(JsErrors.ConsumerDeliverToWildcardsErr);
    // nats-server stream.go: a deliver subject the stream itself captures would store every delivery again.
    if (s.subjects.some((x) => subjectsCollide(x, deliverSubject))) return fail(JsErrors.ConsumerDeliverCycleErr);
    if (hb > 0 && hb < MIN_HEARTBEAT_NS) return fail(JsErrors.ConsumerSmallHeartbeatErr);
    if (bool('flow_control') && hb <= 0) return fail(JsErrors.ConsumerWithFlowControlNeedsHeartbeats);
    if (num('max_waiting') !== 0) return fail(JsErrors.ConsumerPushMaxWaitingErr);
  }
  if (num('max_waiting') < 0) return fail(JsErrors.ConsumerMaxWaitingNegativeErr);
  if (num('max_batch') < 0) return fail(JsErrors.ConsumerMaxRequestBatchNegativeErr);
  if (num('max_expires') !== 0 && num('max_expires') < 1_000_000) return fail(JsErrors.ConsumerMaxRequestExpiresToSmall);
  if (num('max_bytes') < 0) return invalid('consumer max request max bytes needs to be >= 0');
  if (num('num_replicas') < 0) return fail(JsErrors.ReplicasCountCannotBeNegative);
  if (num('num_replicas') > 1) return fail(JsErrors.StreamReplicasNotSupportedErr);
  if (num('inactive_threshold') < 0) return invalid('consumer inactive threshold must be >= 0');
  // Filters (2.10): one or the other, no empties, no overlaps, within the stream's subjects.
  const fs = str('filter_subject');
  let fss = (raw.filter_subjects as string[] | undefined) ?? [];
  if (fs !== '' && fss.length > 0) return fail(JsErrors.ConsumerDuplicateFilterSubjects);
  for (let i = 0; i < fss.length; i++) {
    if (fss[i] === '') return fail(JsErrors.ConsumerEmptyFilter);
    for (let j = 0; j < i; j++) if (subjectsCollide(fss[i], fss[j])) return fail(JsErrors.ConsumerOverlappingSubjectFilters);
  }
  for (const f of fs === '' ? fss : [fs]) {
    if (!isValidSubject(f)) return invalid(`consumer filter subject ${f} is not valid`);
    if (s.subjects.length > 0 && !s.subjects.some((x) => subjectIsSubsetOf(f, x) || subjectsCollide(f, x)))
      return fail(JsErrors.ConsumerFilterNotSubsetErr);
  }
  let filter = fs;
  if (fss.length === 1) {
    filter = fss[0];
    fss = [];
  }
  let maxAckPending = num('max_ack_pending');
  // nats-server setConsumerConfigDefaults.
  let ackWait = num('ack_wait');
  if (ack !== 'none' && ackWait === 0) ackWait = backoff.length > 0 ? backoff[0] : DEFAULT_ACK_WAIT_NS;
  if (ack !== 'none' && maxAckPending === 0) maxAckPending = s.consumer_limits.max_ack_pending ?? DEFAULT_MAX_ACK_PENDING;
  let maxWaiting = num('max_waiting');
  if (!push && maxWaiting === 0) maxWaiting = DEFAULT_MAX_WAITING;
  let inactive = num('inactive_threshold');
  if (durable === '' && inactive === 0) inactive = s.consumer_limits.inactive_threshold ?? DEFAULT_INACTIVE_THRESHOLD_NS;
  const cfg: ConsumerConfig = {
    name,
    durable_name: durable,
    description,
    deliver_policy: deliver,
    opt_start_seq: optSeq,
    opt_start_time: optTime,
    ack_policy: ack,
    ack_wait: ackWait,
    max_deliver: maxDeliver,
    backoff,
    filter_subject: filter,
    filter_subjects: fss,
    replay_policy: (str('replay_policy') || 'instant') as ConsumerConfig['replay_policy'],
    rate_limit_bps: num('rate_limit_bps'),
    sample_freq: str('sample_freq'),
    max_waiting: maxWaiting,
    max_ack_pending: maxAckPending,
    headers_only: bool('headers_only'),
    max_batch: num('max_batch'),
    max_expires: num('max_expires'),
    max_bytes: num('max_bytes'),
    inactive_threshold: inactive,
    num_replicas: num('num_replicas'),
    mem_storage: bool('mem_storage'),
    metadata: (raw.metadata as Record<string, string> | undefined) ?? null,
    deliver_subject: deliverSubject,
    deliver_group: str('deliver_group'),
    flow_control: bool('flow_control'),
    idle_heartbeat: hb,
    pause_until: pauseUntil,
  };
  return { cfg, err: null };
}

/**
 * nats-server stream.go checkNewConsumerConfig: what an update may not change. Returns the
 * 10012 text, or null when `next` may replace `cur`.
 */
export function updateRefusal(cur: ConsumerConfig, next: ConsumerConfig): string | null {
  if (cur.deliver_policy !== next.deliver_policy) return 'deliver policy can not be updated';
  if (cur.opt_start_seq !== next.opt_start_seq) return 'start sequence can not be updated';
  if (cur.opt_start_time !== next.opt_start_time) return 'start time can not be updated';
  if (cur.ack_policy !== next.ack_policy) return 'ack policy can not be updated';
  if (cur.replay_policy !== next.replay_policy) return 'replay policy can not be updated';
  if (cur.headers_only !== next.headers_only) return 'headers only can not be updated';
  if (cur.mem_storage !== next.mem_storage) return 'mem storage can not be updated';
  if ((cur.deliver_subject === '') !== (next.deliver_subject === '')) return 'can not update push consumer to pull based';
  return null;
}

/** The config as nats-server echoes it (ConsumerConfig field order, omitempty rules). */
export function consumerConfigJson(c: ConsumerConfig): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (c.durable_name !== '') o.durable_name = c.durable_name;
  if (c.name !== '') o.name = c.name;
  if (c.description !== '') o.description = c.description;
  o.deliver_policy = c.deliver_policy;
  if (c.opt_start_seq !== 0) o.opt_start_seq = c.opt_start_seq;
  if (c.opt_start_time !== null) o.opt_start_time = goTime(c.opt_start_time);
  o.ack_policy = c.ack_policy;
  if (c.ack_wait !== 0) o.ack_wait = c.ack_wait;
  o.max_deliver = c.max_deliver;
  if (c.backoff.length > 0) o.backoff = c.backoff;
  if (c.filter_subject !== '') o.filter_subject = c.filter_subject;
  if (c.filter_subjects.length > 0) o.filter_subjects = c.filter_subjects;
  o.replay_policy = c.replay_policy;
  if (c.rate_limit_bps !== 0) o.rate_limit_bps = c.rate_limit_bps;
  if (c.sample_freq !== '') o.sample_freq = c.sample_freq;
  if (c.max_waiting !== 0) o.max_waiting = c.max_waiting;
  if (c.max_ack_pending !== 0) o.max_ack_pending = c.max_ack_pending;
  if (c.idle_heartbeat !== 0) o.idle_heartbeat = c.idle_heartbeat;
  if (c.flow_control) o.flow_control = true;
  if (c.headers_only) o.headers_only = true;
  if (c.max_batch !== 0) o.max_batch = c.max_batch;
  if (c.max_expires !== 0) o.max_expires = c.max_expires;
  if (c.max_bytes !== 0) o.max_bytes = c.max_bytes;
  if (c.inactive_threshold !== 0) o.inactive_threshold = c.inactive_threshold;
  if (c.deliver_subject !== '') o.deliver_subject = c.deliver_subject;
  if (c.deliver_group !== '') o.deliver_group = c.deliver_group;
  o.num_replicas = c.num_replicas;
  if (c.mem_storage) o.mem_storage = true;
  if (c.metadata !== null) o.metadata = c.metadata;
  if ((c.pause_until ?? null) !== null) o.pause_until = goTime(c.pause_until!);
  return o;
}
