/**
 * The latency rows: who publishes to what, who listens, how many processes and connections, and
 * the setup a row needs (a JetStream stream and consumer). Every row is measured the same way on
 * every server of its protocol: calibrate the closed-loop maximum, then sweep offered loads.
 */
import { createConsumer, createStream, deleteStream, NatsAdmin } from '../admin.js';
import type { Target } from '../servers.js';
import type { LatProtocol } from './ipc.js';

/** Payload of the documents' rows (their table is measured with 1 KB messages). */
export const DOC_PAYLOAD = 1024;
/** A sensor reading: small (the documents give no size; 128 B holds a stamp and a reading). */
export const SENSOR_PAYLOAD = 128;
/** The documents' sensor case: 10,000 connections… */
export const SENSORS = 10_000;
/** …each publishing 10 msg/s (100k msg/s in all). */
export const SENSOR_RATE = 10;
/** Generator processes for the 10,000 sensor connections (2,500 each: one event loop per process). */
export const SENSOR_PROCS = 4;
/** The documents' 100 publishers × 100 subscribers, spread over this many processes per side. */
export const DOC_CLIENTS = 100;
export const DOC_PROCS = 2;

/** What a row's setup hands the level runner; `skip` says why the row cannot run on that server. */
export interface RowSetup {
  skip: string | null;
  stream?: string;
  consumer?: string;
  teardown?: () => Promise<void>;
}

/** One latency row. */
export interface LatWorkload {
  id: string;
  title: string;
  /** The server protocol it needs (JetStream rows need a NATS target). */
  target: 'nats' | 'redis';
  protocol: LatProtocol;
  payload: number;
  pubProcs: number;
  pubConns: number;
  subProcs: number;
  subConns: number;
  /** Subscribers use patterns (Redis PSUBSCRIBE); NATS wildcards need no flag. */
  pattern: boolean;
  /** Publisher `pub`'s subject, and subscriber connection `sub`'s subscription, under `base`. */
  pubSubject(base: string, pub: number): string;
  subSubject(base: string, sub: number): string;
  /** The publisher ids subscriber connection `sub` hears (for exact loss accounting). */
  listensTo(sub: number, pubs: number): number[];
  /** Deliveries per publish (fan-out); 1 otherwise. */
  fanout: number;
  /** Closed-loop calibration: messages per batch and batches (acks) in flight, per connection. */
  batch: number;
  window: number;
  /** `sweep`: fractions of the measured maximum; a number: one fixed offered rate (msg/s). */
  load: 'sweep' | number;
  /** Whether messages are persisted (the report's durability column). */
  stored: boolean;
  /** Per-row setup on the server; null when none is needed. */
  setup?(t: Target, base: string, tag: number): Promise<RowSetup>;
}

const all = (_sub: number, pubs: number): number[] => Array.from({ length: pubs }, (_, i) => i);
const pair = (sub: number): number[] => [sub];

/** JetStream publish→consume: a file stream on `base.>` and a durable pull consumer with explicit acks. */
async function jsSetup(t: Target, base: string, tag: number): Promise<RowSetup> {
  const admin = await NatsAdmin.connect(t.url);
  const stream = `LAT${tag}`;
  const consumer = 'lat';
  try {
    const se = await createStream(admin, stream, [`${base}.>`]);
    if (se) {
      admin.close();
      return { skip: `stream create failed: ${se}` };
    }
    const ce = await createConsumer(admin, stream, consumer);
    if (ce) {
      await deleteStream(admin, stream);
      admin.close();
      return { skip: `CONSUMER.CREATE answered ${ce}` };
    }
  } catch (e) {
    admin.close();
    throw e;
  }
  return {
    skip: null,
    stream,
    consumer,
    teardown: async () => {
      await deleteStream(admin, stream).catch(() => undefined);
      admin.close();
    },
  };
}

/** A 1→1 row on subject `<base>.0` with the throughput bench's batch settings; `over` changes what differs. */
function row(over: Partial<LatWorkload> & Pick<LatWorkload, 'id' | 'title' | 'target' | 'protocol'>): LatWorkload {
  return {
    payload: DOC_PAYLOAD,
    pubProcs: 1,
    pubConns: 1,
    subProcs: 1,
    subConns: 1,
    pattern: false,
    pubSubject: (b) => `${b}.0`,
    subSubject: (b) => `${b}.0`,
    listensTo: all,
    fanout: 1,
    batch: 1000,
    window: 4,
    load: 'sweep',
    stored: false,
    ...over,
  };
}

const NAME = { nats: 'NATS', redis: 'Redis' } as const;

/** The rows, in report order. */
export const LAT_WORKLOADS: LatWorkload[] = [
  row({ id: 'lat-pub-1k', title: 'NATS pub/sub 1→1, 1 KB', target: 'nats', protocol: 'nats' }),
  row({
    id: 'lat-fanout-1k',
    title: 'NATS fan-out 1→10, 1 KB',
    target: 'nats',
    protocol: 'nats',
    subProcs: 2,
    subConns: 5,
    fanout: 10,
  }),
  row({
    id: 'lat-js-1k',
    title: 'JetStream publish→consume (pull, acked), 1 KB',
    target: 'nats',
    protocol: 'js',
    subSubject: () => 'consumer',
    // ≤ 1000 acks outstanding, as js-pub-1k.
    batch: 100,
    window: 10,
    stored: true,
    setup: jsSetup,
  }),
  row({ id: 'lat-redis-pub-1k', title: 'Redis PUBLISH 1→1, 1 KB', target: 'redis', protocol: 'redis' }),
  ...(['nats', 'redis'] as const).map((p) =>
    row({
      id: p === 'nats' ? 'lat-100x100-1k' : 'lat-redis-100x100-1k',
      title: `${NAME[p]} 100 publishers × 100 subscribers, 1 KB`,
      target: p,
      protocol: p,
      pubProcs: DOC_PROCS,
      pubConns: DOC_CLIENTS / DOC_PROCS,
      subProcs: DOC_PROCS,
      subConns: DOC_CLIENTS / DOC_PROCS,
      // 100 pairs: publisher i on subject i, heard by subscriber i.
      pubSubject: (b, i) => `${b}.${i}`,
      subSubject: (b, i) => `${b}.${i}`,
      listensTo: pair,
      // 100 connections × 10 × 4 in flight: about as much as one 1→1 publisher's 4 × 1000.
      batch: 10,
    }),
  ),
  ...(['nats', 'redis'] as const).map((p) =>
    row({
      id: p === 'nats' ? 'lat-sensors-10k' : 'lat-redis-sensors-10k',
      title: `${NAME[p]} 10,000 sensors × 10 msg/s → 1 wildcard subscriber, 128 B`,
      target: p,
      protocol: p,
      payload: SENSOR_PAYLOAD,
      pubProcs: SENSOR_PROCS,
      pubConns: SENSORS / SENSOR_PROCS,
      pattern: p === 'redis',
      pubSubject: (b, i) => `${b}.${i}`,
      subSubject: (b) => `${b}.*`,
      load: SENSORS * SENSOR_RATE,
    }),
  ),
];

/** The rows named in `ids` (all when null); unknown ids are a usage error. */
export function selectLatWorkloads(ids: readonly string[] | null): LatWorkload[] {
  if (ids === null) return LAT_WORKLOADS;
  const out: LatWorkload[] = [];
  for (const id of ids) {
    const w = LAT_WORKLOADS.find((x) => x.id === id);
    if (!w) throw new Error(`unknown latency workload ${id}; known: ${LAT_WORKLOADS.map((x) => x.id).join(', ')}`);
    out.push(w);
  }
  return out;
}
