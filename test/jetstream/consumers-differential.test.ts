// The consumer API and pull statuses against the real nats-server (`-js`, random port): error
// codes and texts, the echoed config and the counters of consumer info, and what a pull request
// gets back (messages, 404, 408 with its pending headers), compared field by field.
// Version differences left out: the installed nats-server may be 2.9, which ignores `action`
// and `filter_subjects`, knows no `ts`/`last_active`, and leaves ack_floor at 0 where 2.10 moves it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NatsConnection, Msg } from 'nats';
import { natsServerAvailable } from '../helpers/nats-server.js';
import { differentialPair } from './differential-pair.js';

const SKIP = !natsServerAvailable();
const REQUEST_TIMEOUT_MS = 3000;

let a: NatsConnection;
let b: NatsConnection;
differentialPair(SKIP, (ref, herald) => {
  a = ref;
  b = herald;
});

/** Fields only one of the versions sends, or that hold times and generated names. */
const VOLATILE = new Set(['created', 'ts', 'last_active', 'name']);

function scrub(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(scrub);
  if (v !== null && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (!VOLATILE.has(k)) o[k] = scrub(x);
    return o;
  }
  return v;
}

async function api(nc: NatsConnection, subject: string, body?: unknown): Promise<any> {
  const m = await nc.request(subject, body === undefined ? '' : JSON.stringify(body), { timeout: REQUEST_TIMEOUT_MS });
  return JSON.parse(new TextDecoder().decode(m.data));
}

async function both(subject: string, body?: unknown): Promise<[any, any]> {
  return [scrub(await api(a, subject, body)), scrub(await api(b, subject, body))];
}

async function same(subject: string, body?: unknown): Promise<void> {
  const [r, g] = await both(subject, body);
  assert.deepEqual(g, r, `${subject} ${JSON.stringify(body)}`);
}

test(
  'consumer API: create forms, errors, defaults, echo and counters match nats-server',
  { skip: SKIP && 'nats-server not installed' },
  async () => {
    for (const nc of [a, b]) {
      await api(nc, '$JS.API.STREAM.CREATE.S', { name: 'S', subjects: ['s.>'] });
      for (let i = 0; i < 5; i++) await nc.request(`s.${i % 2}`, `m${i}`, { timeout: REQUEST_TIMEOUT_MS });
    }
    const C = '$JS.API.CONSUMER.CREATE.S';
    // Errors, in nats-server's order of checks.
    await same(C, { stream_name: 'S', config: { durable_name: 'dd' } });
    await same(`${C}.x`, { stream_name: 'S', config: { durable_name: 'y' } });
    await same('$JS.API.CONSUMER.DURABLE.CREATE.S.x', { stream_name: 'S', config: {} });
    await same('$JS.API.CONSUMER.DURABLE.CREATE.S.x', { stream_name: 'S', config: { durable_name: 'y' } });
    await same(`${C}.x`, { stream_name: 'T', config: {} });
    await same(`${C}.x.s.1`, { stream_name: 'S', config: { name: 'x', filter_subject: 's.0' } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', filter_subject: 'q.a' } });
    await same(`${C}.x`, {
      stream_name: 'S',
      config: { name: 'x', ack_policy: 'explicit', backoff: [1e9, 2e9], max_deliver: 2 },
    });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', idle_heartbeat: 1e9 } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', deliver_policy: 'by_start_sequence' } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', opt_start_seq: 4 } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', deliver_policy: 'by_start_time' } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', max_waiting: -1 } });
    await same(`${C}.x`, { stream_name: 'S', config: { name: 'x', max_batch: -1 } });
    await same(`${C}.a*b`, { stream_name: 'S', config: { name: 'a*b' } });
    await same('$JS.API.CONSUMER.INFO.S.nope');
    await same('$JS.API.CONSUMER.DELETE.S.nope');
    await same('$JS.API.CONSUMER.INFO.NOPE.c');
    // Creates: defaults and echo, num_pending per deliver policy and filter.
    await same(`${C}.eph`, { stream_name: 'S', config: { name: 'eph' } });
    await same('$JS.API.CONSUMER.DURABLE.CREATE.S.d', {
      stream_name: 'S',
      config: { durable_name: 'd', ack_policy: 'explicit', max_deliver: 5, backoff: [1e9, 2e9] },
    });
    await same(`${C}.f.s.1`, { stream_name: 'S', config: { durable_name: 'f', filter_subject: 's.1', ack_policy: 'all' } });
    await same(`${C}.n`, { stream_name: 'S', config: { durable_name: 'n', deliver_policy: 'new', ack_policy: 'explicit' } });
    await same(`${C}.l`, { stream_name: 'S', config: { durable_name: 'l', deliver_policy: 'last', ack_policy: 'explicit' } });
    await same(`${C}.q`, {
      stream_name: 'S',
      config: { durable_name: 'q', deliver_policy: 'by_start_sequence', opt_start_seq: 3, ack_policy: 'explicit' },
    });
    // Update rules: same config is fine, a policy change is refused, max_ack_pending may change.
    await same(`${C}.d`, {
      stream_name: 'S',
      config: { durable_name: 'd', ack_policy: 'explicit', max_deliver: 5, backoff: [1e9, 2e9] },
    });
    await same(`${C}.d`, { stream_name: 'S', config: { durable_name: 'd', ack_policy: 'none' } });
    await same(`${C}.d`, {
      stream_name: 'S',
      config: { durable_name: 'd', deliver_policy: 'new', ack_policy: 'explicit', max_deliver: 5, backoff: [1e9, 2e9] },
    });
    await same(`${C}.d`, {
      stream_name: 'S',
      config: { durable_name: 'd', ack_policy: 'explicit', max_deliver: 5, backoff: [1e9, 2e9], max_ack_pending: 7 },
    });
    await same('$JS.API.CONSUMER.NAMES.S', {});
    await same('$JS.API.CONSUMER.NAMES.S', { offset: 2 });
    await same('$JS.API.CONSUMER.LIST.S', { offset: 4 });
    const [ri, gi] = await both('$JS.API.STREAM.INFO.S');
    assert.equal(gi.state.consumer_count, ri.state.consumer_count);
    await same('$JS.API.CONSUMER.DELETE.S.eph');
  },
);

interface Seen {
  subject: string;
  status: string | null;
  headers: Record<string, string>;
  data: string;
  ackTokens: string[] | null;
}

/** Sends one pull request and collects what arrives on its inbox until `until` says stop. */
async function pull(nc: NatsConnection, subject: string, body: unknown, until: (s: Seen[]) => boolean): Promise<Seen[]> {
  const inbox = `_INBOX.pull.${Math.random().toString(36).slice(2)}`;
  const seen: Seen[] = [];
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const sub = nc.subscribe(inbox, {
    callback: (_e, m: Msg) => {
      const h: Record<string, string> = {};
      let status: string | null = null;
      if (m.headers !== undefined) {
        status = m.headers.code === 0 ? null : `${m.headers.code} ${m.headers.description}`;
        for (const k of m.headers.keys()) h[k] = m.headers.get(k);
      }
      // ack tokens: deliveries, stream seq, consumer seq, pending (the time token differs).
      const t = m.reply?.split('.');
      seen.push({
        subject: m.subject,
        status,
        headers: h,
        data: m.string(),
        ackTokens: t === undefined ? null : [t[4], t[5], t[6], t[8]],
      });
      if (until(seen)) done();
    },
  });
  nc.publish(subject, typeof body === 'string' ? body : JSON.stringify(body), { reply: inbox });
  const timer = setTimeout(done, 5000);
  await finished;
  clearTimeout(timer);
  sub.unsubscribe();
  for (const s of seen) if (s.subject === inbox) s.subject = 'INBOX';
  return seen;
}

test(
  'pull requests: deliveries, ack subjects, 404 and 408 with pending headers match nats-server',
  { skip: SKIP && 'nats-server not installed' },
  async () => {
    for (const nc of [a, b]) {
      await api(nc, '$JS.API.STREAM.CREATE.P', { name: 'P', subjects: ['p.>'] });
      for (let i = 0; i < 3; i++) await nc.request('p.x', `m${i}`, { timeout: REQUEST_TIMEOUT_MS });
      await api(nc, '$JS.API.CONSUMER.DURABLE.CREATE.P.w', {
        stream_name: 'P',
        config: { durable_name: 'w', ack_policy: 'explicit' },
      });
    }
    const N = '$JS.API.CONSUMER.MSG.NEXT.P.w';
    const cases: [unknown, (s: Seen[]) => boolean][] = [
      ['2', (s) => s.length === 2],
      [{ batch: 5, no_wait: true }, (s) => s.some((x) => x.status !== null)],
      [{ batch: 5, no_wait: true }, (s) => s.some((x) => x.status !== null)],
      [{ batch: 4, expires: 300_000_000 }, (s) => s.some((x) => x.status !== null)],
    ];
    for (const [body, until] of cases) {
      const r = await pull(a, N, body, until);
      const g = await pull(b, N, body, until);
      assert.deepEqual(g, r, `MSG.NEXT ${JSON.stringify(body)}`);
    }
    const [ri, gi] = await both('$JS.API.CONSUMER.INFO.P.w');
    assert.deepEqual(gi, ri);
  },
);
