/**
 * JetStream advisories (specs/nats.md §6): `$JS.EVENT.ADVISORY.…` messages whose JSON bodies
 * follow nats-server's jetstream_events.go field by field (`type`, `id`, `timestamp`, then the
 * event's fields; `domain` omitted as on a server without one). Each is built and published only
 * when some subscription would receive it (one cached sublist look-up otherwise), as nats-server
 * consumer.go sendAdvisory checks interest first.
 */
import type { Router } from '../../core/router.js';
import { GO_ZERO_TIME, goNow, goTime } from './gotime.js';

const PREFIX = '$JS.EVENT.ADVISORY.';
const TYPE = 'io.nats.jetstream.advisory.v1.';
/** nats-server uses a nuid (22 characters of [0-9A-Za-z]) as the event id. */
const ID_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const ID_LENGTH = 22;

/** What stream and consumer action advisories report (nats-server ActionAdvisoryType). */
export type AdvisoryAction = 'create' | 'delete' | 'modify';

const ACTION_SUBJECT: Record<AdvisoryAction, string> = { create: 'CREATED', delete: 'DELETED', modify: 'UPDATED' };

function eventId(): string {
  let id = '';
  for (let i = 0; i < ID_LENGTH; i++) id += ID_ALPHABET[(Math.random() * ID_ALPHABET.length) | 0];
  return id;
}

/** The ack metric's type is a metric, not an advisory (nats-server JSConsumerAckMetricType). */
export const ACK_METRIC_TYPE = 'io.nats.jetstream.metric.v1.consumer_ack';

/** Publishes `{type, id, timestamp, ...fields}` on `subject` when someone listens; `type` is the
 * suffix after `io.nats.jetstream.advisory.v1.`, or a whole type starting `io.`. `fields` is only
 * called when it will be sent. */
export function advise(router: Router, subject: string, type: string, fields: () => Record<string, unknown>): void {
  if (!router.sublist.hasInterest(subject)) return;
  const body = { type: type.startsWith('io.') ? type : TYPE + type, id: eventId(), timestamp: goNow(), ...fields() };
  router.publish({ subject, reply: '', headers: null, payload: Buffer.from(JSON.stringify(body)) }, null);
}

/** nats-server stream.go sendCreateAdvisory / sendUpdateAdvisoryLocked / sendDeleteAdvisoryLocked. */
export function streamAction(router: Router, stream: string, action: AdvisoryAction): void {
  advise(router, `${PREFIX}STREAM.${ACTION_SUBJECT[action]}.${stream}`, 'stream_action', () => ({ stream, action }));
}

/** nats-server consumer.go sendCreateAdvisory / sendDeleteAdvisoryLocked (there is no consumer
 * UPDATED advisory in nats-server, so none here). */
export function consumerAction(router: Router, stream: string, consumer: string, action: 'create' | 'delete'): void {
  advise(router, `${PREFIX}CONSUMER.${ACTION_SUBJECT[action]}.${stream}.${consumer}`, 'consumer_action', () => ({
    stream,
    consumer,
    action,
  }));
}

/** nats-server 2.11 consumer.go sendPauseAdvisoryLocked: `pause_until` is always written (Go's zero
 * time when unset); `paused` is whether the deadline lies ahead. */
export function consumerPause(router: Router, stream: string, consumer: string, until: bigint | null, paused: boolean): void {
  advise(router, `${PREFIX}CONSUMER.PAUSE.${stream}.${consumer}`, 'consumer_pause', () => ({
    stream,
    consumer,
    paused,
    pause_until: until === null ? GO_ZERO_TIME : goTime(until),
  }));
}

/** Where consumer events go: `<prefix><KIND>.<stream>.<consumer>`. */
export const CONSUMER_ADVISORY = `${PREFIX}CONSUMER.`;
export const CONSUMER_METRIC = '$JS.EVENT.METRIC.CONSUMER.';

/** A consumer event about one message (MAX_DELIVERIES, MSG_TERMINATED, MSG_NAKED; the ACK metric
 * with `CONSUMER_METRIC`). */
export function consumerEvent(
  router: Router,
  prefix: string,
  kind: string,
  type: string,
  stream: string,
  consumer: string,
  extra: Record<string, unknown>,
): void {
  advise(router, `${prefix}${kind}.${stream}.${consumer}`, type, () => ({
    stream,
    consumer,
    ...extra,
  }));
}
