/**
 * The JetStream monitoring and info bodies built from the streams' neutral state: STREAM.INFO
 * `StreamInfo`, `$JS.API.INFO` (nats-server JetStreamAccountStats) and `/jsz` (JSInfo), with Go
 * times and nats-server's field order (specs/nats.md §4 "STREAM.INFO"). Built on request, never
 * on the publish path.
 */
import { isUnlimited, type Streams } from '../../stream/streams.js';
import type { Stream } from '../../stream/stream.js';
import type { Consumer } from '../../stream/consumer.js';
import { configJson } from './config.js';
import { consumerConfigJson } from './consumer-config.js';
import { goNow, goTime } from './gotime.js';

/** The only account herald has; nats-server's default global account. */
export const GLOBAL_ACCOUNT = '$G';
/** The JetStream API level herald reports: 0, the level of the 2.10 servers it advertises. */
export const API_LEVEL = 0;

/** API requests answered and those answered with an error (INFO `api`, /jsz). */
export interface ApiCounters {
  apiTotal: number;
  apiErrors: number;
}

/** `state` as STREAM.INFO reports it; `subjects` is spliced in at nats-server's position. */
export function stateJson(s: Stream, deletedDetails: boolean, subjects?: Record<string, number>): Record<string, unknown> {
  const st = s.state();
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
  if (deletedDetails && st.numDeleted > 0) o.deleted = s.deletedSeqs();
  o.consumer_count = s.consumers.size;
  return o;
}

/** StreamInfo: config, created, state, ts (specs/nats.md §4 "STREAM.INFO"). */
export function streamInfo(s: Stream, deletedDetails = false, subjects?: Record<string, number>): Record<string, unknown> {
  return {
    config: configJson(s.cfg),
    created: goTime(s.created),
    state: stateJson(s, deletedDetails, subjects),
    ts: goNow(),
  };
}

/** $JS.API.INFO body fields (nats-server JetStreamAccountStats for the global account). */
export function accountInfo(all: Streams, api: ApiCounters): object {
  const used = all.usage();
  return {
    memory: used.memory,
    storage: used.storage,
    reserved_memory: all.reserved('memory'),
    reserved_storage: all.reserved('file'),
    streams: all.streams.size,
    consumers: countConsumers(all),
    limits: {
      max_memory: all.opts.maxMemStore,
      max_storage: all.opts.maxFileStore,
      max_streams: -1,
      max_consumers: -1,
      max_ack_pending: -1,
      memory_max_stream_bytes: -1,
      storage_max_stream_bytes: -1,
      max_bytes_required: false,
    },
    api: { level: API_LEVEL, total: api.apiTotal, errors: api.apiErrors },
  };
}

/**
 * The /jsz body (nats-server JSInfo), without server_id/now which the server adds. Query:
 * `accounts`, `streams`, `consumers`, `config`, `acc`, `offset`, `limit` as in nats-server.
 * herald adds `unlimited_streams`: names of streams with no limit at all (see docs/jetstream.md).
 */
export function jsz(all: Streams, api: ApiCounters, query: URLSearchParams): object {
  const flag = (k: string): boolean => {
    const v = query.get(k);
    return v !== null && v !== '0' && v !== 'false';
  };
  const consumers = flag('consumers');
  const streams = flag('streams') || consumers;
  const acc = query.get('acc') ?? '';
  const accounts = flag('accounts') || (streams && acc === '') || acc !== '';
  const withConfig = flag('config');
  const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
  const { messages, bytes } = all.totals();
  const used = all.usage();
  const opts = all.opts;
  const sync = opts.sync;
  const config: Record<string, unknown> = {
    max_memory: opts.maxMemStore,
    // The budget in force, derived from the data volume when not configured (nats-server reports
    // its dynamic 75%-of-free-space default the same way: server/jetstream.go, dynamicJSAccountLimits).
    max_storage: Number.isFinite(all.fileBudget) ? all.fileBudget : opts.maxFileStore,
    store_dir: opts.storeDir,
  };
  if (sync.kind === 'interval') config.sync_interval = sync.ms * 1_000_000;
  if (sync.kind === 'always') config.sync_always = true;
  const unlimited = all
    .sortedStreams()
    .filter((s) => isUnlimited(s.cfg))
    .map((s) => s.name);
  const body: Record<string, unknown> = {
    memory: used.memory,
    storage: used.storage,
    reserved_memory: all.reserved('memory'),
    reserved_storage: all.reserved('file'),
    accounts: 1,
    ha_assets: 0,
    api: { level: API_LEVEL, total: api.apiTotal, errors: api.apiErrors },
    config,
    streams: all.streams.size,
    consumers: countConsumers(all),
    messages,
    bytes,
    unlimited_streams: unlimited,
    unrecovered_streams: all.unrecovered,
  };
  if (accounts && (acc === '' || acc === GLOBAL_ACCOUNT) && offset === 0) {
    const detail: Record<string, unknown> = {
      name: GLOBAL_ACCOUNT,
      id: GLOBAL_ACCOUNT,
      memory: used.memory,
      storage: used.storage,
      // The one account reserves what the top level counts (nats-server prints the account's
      // limit here, -1 as uint64 for "unlimited", which a JSON number cannot carry exactly).
      reserved_memory: all.reserved('memory'),
      reserved_storage: all.reserved('file'),
      accounts: 0,
      ha_assets: 0,
      api: { level: 0, total: api.apiTotal, errors: api.apiErrors },
    };
    if (streams) {
      detail.stream_detail = all.sortedStreams().map((s) => {
        const d: Record<string, unknown> = { name: s.name, created: goTime(s.created) };
        if (withConfig) d.config = configJson(s.cfg);
        d.state = stateJson(s, false);
        if (isUnlimited(s.cfg)) d.unlimited = true;
        if (consumers && s.consumers.size > 0) d.consumer_detail = [...s.consumers.values()].map((c) => consumerInfo(c));
        return d;
      });
    }
    body.account_details = [detail];
  }
  body.total = 1;
  return body;
}

/** Consumers across every stream. */
function countConsumers(all: Streams): number {
  let n = 0;
  for (const s of all.streams.values()) n += s.consumers.size;
  return n;
}

/** ConsumerInfo (specs/nats.md §5 "ConsumerInfo fields"). */
export function consumerInfo(c: Consumer): Record<string, unknown> {
  const pair = (p: { consumerSeq: number; streamSeq: number; lastActive: number }): Record<string, unknown> => {
    const o: Record<string, unknown> = { consumer_seq: p.consumerSeq, stream_seq: p.streamSeq };
    if (p.lastActive > 0) o.last_active = goTime(BigInt(Math.round(p.lastActive)));
    return o;
  };
  return {
    stream_name: c.stream.name,
    name: c.name,
    created: goTime(c.created),
    config: consumerConfigJson(c.cfg),
    delivered: pair(c.delivered),
    ack_floor: pair(c.ackFloor),
    num_ack_pending: c.numAckPending,
    num_redelivered: c.numRedelivered,
    num_waiting: c.numWaiting,
    num_pending: c.numPending(),
    ...(c.pushBound ? { push_bound: true } : {}),
    ...pauseInfo(c),
    ts: goNow(),
  };
}

/** nats-server 2.11 consumer.go info: `paused` and `pause_remaining` (ns) only while paused. */
function pauseInfo(c: Consumer): Record<string, unknown> {
  const left = c.pauseRemainingMs(Date.now());
  return left > 0 ? { paused: true, pause_remaining: left * 1_000_000 } : {};
}
