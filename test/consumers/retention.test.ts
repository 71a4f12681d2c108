// Workqueue and interest retention (specs/nats.md §4 "Retention") with the v3 client: a workqueue
// message is removed at its ack and the consumer rules are nats-server's; an interest message is
// removed once every consumer that selects it has acked it, and not kept when nobody selects it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  RetentionPolicy,
  jetstream,
} from '@nats-io/jetstream';
import { apiErr } from '../jetstream/helpers.js';
import { heraldV3 } from './setup.js';

const h = heraldV3();

async function errCode(p: Promise<unknown>): Promise<number> {
  return (await apiErr(p)).err_code;
}

test('workqueue: acked messages go; one unfiltered consumer; filters must not overlap', async () => {
  await h.jsm.streams.add({ name: 'WQ', subjects: ['wq.>'], retention: RetentionPolicy.Workqueue });
  const js = jetstream(h.nc);
  for (let i = 0; i < 4; i++) await js.publish('wq.a', `j${i}`);
  assert.equal(await errCode(h.jsm.consumers.add('WQ', { durable_name: 'x', ack_policy: AckPolicy.None })), 10098);
  await h.jsm.consumers.add('WQ', { durable_name: 'w', ack_policy: AckPolicy.Explicit });
  assert.equal(await errCode(h.jsm.consumers.add('WQ', { durable_name: 'w2', ack_policy: AckPolicy.Explicit })), 10099);
  const c = await js.consumers.get('WQ', 'w');
  const it = await c.fetch({ max_messages: 3, expires: 1000 });
  for await (const m of it) await m.ackAck();
  const si = await h.jsm.streams.info('WQ');
  assert.equal(si.state.messages, 1);
  assert.equal(si.state.first_seq, 4);
  await h.jsm.streams.add({ name: 'WQ2', subjects: ['wq2.>'], retention: RetentionPolicy.Workqueue });
  await h.jsm.consumers.add('WQ2', { durable_name: 'a', ack_policy: AckPolicy.Explicit, filter_subject: 'wq2.a.>' });
  assert.equal(
    await errCode(h.jsm.consumers.add('WQ2', { durable_name: 'b', ack_policy: AckPolicy.Explicit, filter_subject: 'wq2.*.x' })),
    10100,
  );
  await h.jsm.consumers.add('WQ2', { durable_name: 'b', ack_policy: AckPolicy.Explicit, filter_subject: 'wq2.b.>' });
});

test('interest: a message stays until every interested consumer acked it', async () => {
  await h.jsm.streams.add({ name: 'IN', subjects: ['in.>'], retention: RetentionPolicy.Interest });
  const js = jetstream(h.nc);
  await js.publish('in.a', 'nobody listens');
  assert.equal((await h.jsm.streams.info('IN')).state.messages, 0);
  await h.jsm.consumers.add('IN', { durable_name: 'one', ack_policy: AckPolicy.Explicit });
  await h.jsm.consumers.add('IN', { durable_name: 'two', ack_policy: AckPolicy.Explicit });
  await js.publish('in.a', 'both');
  const one = await (await js.consumers.get('IN', 'one')).next({ expires: 1000 });
  assert.ok(await one?.ackAck());
  assert.equal((await h.jsm.streams.info('IN')).state.messages, 1);
  const two = await (await js.consumers.get('IN', 'two')).next({ expires: 1000 });
  assert.ok(await two?.ackAck());
  assert.equal((await h.jsm.streams.info('IN')).state.messages, 0);
});

test('interest: a last_per_subject consumer keeps the messages it has still to deliver', async () => {
  // Found in review (note.md, issue 8): the consumer's cursor starts past the stream's end, so the
  // last-per-subject messages it has not delivered yet looked acked and another consumer's ack
  // removed them. nats-server consumer.go needAck: everything from the first start seq on needs it.
  await h.jsm.streams.add({ name: 'LPS', subjects: ['lps.>'], retention: RetentionPolicy.Interest });
  await h.jsm.consumers.add('LPS', { durable_name: 'all', ack_policy: AckPolicy.Explicit });
  const js = jetstream(h.nc);
  await js.publish('lps.a', 'a1');
  await js.publish('lps.b', 'b1');
  await js.publish('lps.a', 'a2');
  await h.jsm.consumers.add('LPS', {
    durable_name: 'last',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.LastPerSubject,
  });
  const all = await js.consumers.get('LPS', 'all');
  for await (const m of await all.fetch({ max_messages: 3, expires: 2000 })) await m.ackAck();
  const last = await js.consumers.get('LPS', 'last');
  const got: string[] = [];
  for await (const m of await last.fetch({ max_messages: 2, expires: 2000 })) {
    got.push(m.string());
    await m.ackAck();
  }
  assert.deepEqual(got, ['b1', 'a2'], 'the last message of each subject was still there to deliver');
  const si = await h.jsm.streams.info('LPS');
  // a1 (before the first start seq) went at the first consumer's ack, b1 and a2 once both acked.
  assert.equal(si.state.messages, 0);
});
