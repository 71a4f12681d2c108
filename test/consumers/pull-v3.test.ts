// Pull consumers through a real server with the v3 client (@nats-io/jetstream): the product's own
// example (durable consumer, max_deliver, the MAX_DELIVERIES advisory), fetch / next / consume
// with their defaults, three instances sharing one durable consumer, a new service replaying
// history, ack kinds and the counters consumer info reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type JetStreamClient,
} from '@nats-io/jetstream';
import { startHerald, waitFor } from '../jetstream/helpers.js';

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  jsm = await jetstreamManager(nc);
  js = jetstream(nc);
});
after(async () => {
  await nc.close();
  await srv.stop();
});

const enc = (o: unknown): string => JSON.stringify(o);
const dec = (b: Uint8Array): any => JSON.parse(new TextDecoder().decode(b));

/** Fails with `what` when `p` does not settle in `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => (t = setTimeout(() => rej(new Error(`timed out: ${what}`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(t);
  }
}

test('the product example: durable consumer, nak on failure, dead letter advisory at max_deliver', async () => {
  await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'] });
  for (let i = 1; i <= 10; i++) await js.publish('orders.new', enc({ id: i, poison: i === 7 }));
  await jsm.consumers.add('ORDERS', { durable_name: 'order-processor', max_deliver: 5, ack_policy: AckPolicy.Explicit });
  const dead: any[] = [];
  nc.subscribe('$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.>', {
    callback: (_e, m) => {
      dead.push(dec(m.data));
    },
  });
  const processed = new Set<number>();
  let attempts7 = 0;
  const processOrder = async (o: { id: number; poison: boolean }): Promise<void> => {
    if (o.poison) {
      attempts7++;
      throw new Error('cannot process');
    }
    processed.add(o.id);
  };
  const consumer = await js.consumers.get('ORDERS', 'order-processor');
  const msgs = await consumer.consume();
  const loop = (async () => {
    for await (const msg of msgs) {
      try {
        await processOrder(dec(msg.data));
        msg.ack();
      } catch {
        msg.nak();
      }
    }
  })();
  assert.ok(
    await waitFor(() => processed.size === 9 && dead.length === 1, 10_000),
    `processed ${processed.size}, dead ${dead.length}`,
  );
  msgs.stop();
  await within(loop, 5000, 'consume loop stops');
  assert.equal(attempts7, 5);
  assert.equal(dead[0].type, 'io.nats.jetstream.advisory.v1.max_deliver');
  assert.equal(dead[0].stream, 'ORDERS');
  assert.equal(dead[0].consumer, 'order-processor');
  assert.equal(dead[0].stream_seq, 7);
  assert.equal(dead[0].deliveries, 5);
  const ci = await jsm.consumers.info('ORDERS', 'order-processor');
  assert.equal(ci.num_ack_pending, 0);
  assert.equal(ci.num_pending, 0);
  assert.equal(ci.ack_floor.stream_seq, 10);
  assert.equal(ci.delivered.stream_seq, 10);
  assert.equal(ci.delivered.consumer_seq, 14);
});

test('fetch and next with their defaults; counters as nats-server reports them', async () => {
  await jsm.streams.add({ name: 'F', subjects: ['f.>'] });
  for (let i = 0; i < 5; i++) await js.publish(`f.${i % 2}`, `m${i}`);
  await jsm.consumers.add('F', { durable_name: 'd', ack_policy: AckPolicy.Explicit });
  const c = await js.consumers.get('F', 'd');
  const got: string[] = [];
  const iter = await c.fetch({ max_messages: 3, expires: 2000 });
  for await (const m of iter) {
    got.push(m.string());
    if (got.length < 3) m.ack();
  }
  assert.deepEqual(got, ['m0', 'm1', 'm2']);
  let ci = await jsm.consumers.info('F', 'd');
  assert.equal(ci.num_ack_pending, 1);
  assert.equal(ci.num_pending, 2);
  assert.deepEqual([ci.delivered.consumer_seq, ci.delivered.stream_seq], [3, 3]);
  assert.deepEqual([ci.ack_floor.consumer_seq, ci.ack_floor.stream_seq], [2, 2]);
  const m = await c.next({ expires: 2000 });
  assert.equal(m?.string(), 'm3');
  assert.equal(m?.info.pending, 1);
  assert.ok(await m?.ackAck());
  // A fetch on an exhausted consumer ends with the 408 at expiry, empty.
  const one = await c.next({ expires: 1000 });
  assert.equal(one?.string(), 'm4');
  one?.ack();
  const none = await c.next({ expires: 1000 });
  assert.equal(none, null);
  ci = await jsm.consumers.info('F', 'd');
  assert.equal(ci.num_pending, 0);
  assert.equal(ci.num_ack_pending, 1); // m2 was never acked
});

test('three instances share one durable consumer: each message processed once', async () => {
  await jsm.streams.add({ name: 'EMAIL', subjects: ['email.>'] });
  await jsm.consumers.add('EMAIL', { durable_name: 'email-service', ack_policy: AckPolicy.Explicit });
  const seen = new Map<string, number>();
  const byInstance = [0, 0, 0];
  const instances = await Promise.all(
    [0, 1, 2].map(async (i) => {
      const c = await js.consumers.get('EMAIL', 'email-service');
      const msgs = await c.consume({ max_messages: 10 });
      const done = (async () => {
        for await (const m of msgs) {
          const k = m.string();
          seen.set(k, (seen.get(k) ?? 0) + 1);
          byInstance[i]++;
          m.ack();
        }
      })();
      return { msgs, done };
    }),
  );
  const N = 300;
  for (let i = 0; i < N; i++) await js.publish('email.send', `mail-${i}`);
  assert.ok(await waitFor(() => seen.size === N, 15_000), `saw ${seen.size} of ${N}`);
  for (const inst of instances) inst.msgs.stop();
  await within(Promise.all(instances.map((x) => x.done)), 5000, 'consumers stop');
  for (const [k, n] of seen) assert.equal(n, 1, `${k} processed ${n} times`);
  assert.ok(byInstance.filter((n) => n > 0).length >= 2, `work spread: ${byInstance}`);
});

test('a new service joins and replays history; deliver policies new, last, by_start_sequence', async () => {
  await jsm.streams.add({ name: 'H', subjects: ['h.>'] });
  for (let i = 1; i <= 6; i++) await js.publish(`h.${i % 3}`, `v${i}`);
  const fetchAll = async (name: string, n: number): Promise<string[]> => {
    const c = await js.consumers.get('H', name);
    const out: string[] = [];
    const it = await c.fetch({ max_messages: n, expires: 1000 });
    for await (const m of it) {
      out.push(m.string());
      m.ack();
    }
    return out;
  };
  await jsm.consumers.add('H', { durable_name: 'replay', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All });
  assert.deepEqual(await fetchAll('replay', 6), ['v1', 'v2', 'v3', 'v4', 'v5', 'v6']);
  await jsm.consumers.add('H', {
    durable_name: 'seq',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: 4,
  });
  assert.deepEqual(await fetchAll('seq', 6), ['v4', 'v5', 'v6']);
  await jsm.consumers.add('H', { durable_name: 'last', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.Last });
  assert.deepEqual(await fetchAll('last', 6), ['v6']);
  await jsm.consumers.add('H', {
    durable_name: 'lps',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  assert.equal((await jsm.consumers.info('H', 'lps')).num_pending, 3);
  assert.deepEqual(await fetchAll('lps', 6), ['v4', 'v5', 'v6']);
  await jsm.consumers.add('H', { durable_name: 'new', ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.New });
  await js.publish('h.9', 'later');
  assert.deepEqual(await fetchAll('new', 6), ['later']);
  await jsm.consumers.add('H', { durable_name: 'filtered', ack_policy: AckPolicy.Explicit, filter_subject: 'h.1' });
  assert.deepEqual(await fetchAll('filtered', 6), ['v1', 'v4']);
});

test('ack kinds: term is final, nak with delay redelivers later, ack all acks up to the message', async () => {
  await jsm.streams.add({ name: 'A', subjects: ['a.>'] });
  for (let i = 1; i <= 4; i++) await js.publish('a.x', `a${i}`);
  await jsm.consumers.add('A', { durable_name: 'k', ack_policy: AckPolicy.Explicit, ack_wait: 30_000_000_000 });
  const c = await js.consumers.get('A', 'k');
  const first = await c.next({ expires: 1000 });
  first?.term('bad data');
  const second = await c.next({ expires: 1000 });
  assert.equal(second?.string(), 'a2');
  second?.nak(200);
  const third = await c.next({ expires: 1000 });
  assert.equal(third?.string(), 'a3');
  assert.ok(await third?.ackAck());
  // The nak delay has not run out: the new message goes first, then the redelivery.
  const fourth = await c.next({ expires: 1000 });
  assert.equal(fourth?.string(), 'a4');
  fourth?.ack();
  const again = await c.next({ expires: 3000 });
  assert.equal(again?.string(), 'a2');
  assert.equal(again?.info.deliveryCount, 2);
  assert.equal(again?.info.redelivered, true);
  again?.ack();
  const ci = await jsm.consumers.info('A', 'k');
  assert.equal(ci.num_pending, 0);
  assert.equal(ci.num_ack_pending, 0);
  assert.equal(ci.num_redelivered, 0);
  await jsm.consumers.add('A', { durable_name: 'all', ack_policy: AckPolicy.All });
  const ca = await js.consumers.get('A', 'all');
  const it = await ca.fetch({ max_messages: 3, expires: 1000 });
  const got = [];
  for await (const m of it) got.push(m);
  assert.equal(got.length, 3);
  assert.ok(await got[2].ackAck());
  const cai = await jsm.consumers.info('A', 'all');
  assert.equal(cai.num_ack_pending, 0);
  assert.equal(cai.ack_floor.stream_seq, 3);
});

test('/jsz counts consumers and lists them with consumers=true', async () => {
  const jsz = srv.server.jetstream?.jsz(new URLSearchParams('consumers=true')) as any;
  const total = [...(await jsm.streams.list().next())].reduce((n, s) => n + s.state.consumer_count, 0);
  assert.ok(total > 0);
  assert.equal(jsz.consumers, total);
  const orders = jsz.account_details[0].stream_detail.find((d: any) => d.name === 'ORDERS');
  assert.deepEqual(
    orders.consumer_detail.map((c: any) => c.name),
    ['order-processor'],
  );
});
