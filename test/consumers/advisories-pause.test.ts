// Action advisories and CONSUMER.PAUSE through the v3 client. Stream CREATED / UPDATED / DELETED
// and consumer CREATED / DELETED carry nats-server's fields in its order (the differential file
// compares them with nats-server 2.9); PAUSE follows nats-server 2.11 (not installed here, so
// checked against its source, jetstream_api.go jsConsumerPauseRequest): a paused consumer delivers
// nothing, info says `paused` and `pause_remaining`, resume and the deadline's passing deliver
// again, and each change is announced on `$JS.EVENT.ADVISORY.CONSUMER.PAUSE.<s>.<c>`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jetstream } from '@nats-io/jetstream';
import { waitFor } from '../jetstream/helpers.js';
import { heraldV3 } from './setup.js';

const h = heraldV3();

/** Collects advisories on `subject` as [subject, parsed body]. */
function listen(subject: string): [string, Record<string, unknown>][] {
  const got: [string, Record<string, unknown>][] = [];
  h.nc.subscribe(subject, {
    callback: (_e, m) => {
      got.push([m.subject, m.json<Record<string, unknown>>()]);
    },
  });
  return got;
}

test('stream and consumer action advisories, with nats-server fields in its order', async () => {
  const got = listen('$JS.EVENT.ADVISORY.>');
  await h.nc.flush();
  await h.jsm.streams.add({ name: 'ADV', subjects: ['adv.>'] });
  await h.jsm.streams.update('ADV', { subjects: ['adv.>', 'adv2.>'] });
  await h.jsm.consumers.add('ADV', { durable_name: 'd' });
  await h.jsm.consumers.delete('ADV', 'd');
  await h.jsm.streams.delete('ADV');
  assert.ok(await waitFor(() => got.length >= 5, 5000), `advisories: ${JSON.stringify(got)}`);
  assert.deepEqual(
    got.map(([s, b]) => [s, b.type, b.action]),
    [
      ['$JS.EVENT.ADVISORY.STREAM.CREATED.ADV', 'io.nats.jetstream.advisory.v1.stream_action', 'create'],
      ['$JS.EVENT.ADVISORY.STREAM.UPDATED.ADV', 'io.nats.jetstream.advisory.v1.stream_action', 'modify'],
      ['$JS.EVENT.ADVISORY.CONSUMER.CREATED.ADV.d', 'io.nats.jetstream.advisory.v1.consumer_action', 'create'],
      ['$JS.EVENT.ADVISORY.CONSUMER.DELETED.ADV.d', 'io.nats.jetstream.advisory.v1.consumer_action', 'delete'],
      ['$JS.EVENT.ADVISORY.STREAM.DELETED.ADV', 'io.nats.jetstream.advisory.v1.stream_action', 'delete'],
    ],
  );
  assert.deepEqual(Object.keys(got[0][1]), ['type', 'id', 'timestamp', 'stream', 'action']);
  assert.deepEqual(Object.keys(got[2][1]), ['type', 'id', 'timestamp', 'stream', 'consumer', 'action']);
  assert.match(got[0][1].id as string, /^[0-9A-Za-z]{22}$/);
});

test('pause: nothing is delivered, info says so, resume delivers, advisories announce each change', async () => {
  await h.jsm.streams.add({ name: 'PAU', subjects: ['pau.>'] });
  await h.jsm.consumers.add('PAU', { durable_name: 'p' });
  const adv = listen('$JS.EVENT.ADVISORY.CONSUMER.PAUSE.PAU.p');
  await h.nc.flush();
  const js = jetstream(h.nc);
  for (let i = 0; i < 3; i++) await js.publish('pau.x', `m${i}`);
  const until = new Date(Date.now() + 60_000);
  const r = await h.jsm.consumers.pause('PAU', 'p', until);
  assert.equal(r.paused, true);
  assert.equal(Date.parse(r.pause_until ?? ''), until.getTime());
  const ci = await h.jsm.consumers.info('PAU', 'p');
  assert.equal(ci.paused, true);
  assert.ok((ci.pause_remaining ?? 0) > 0 && (ci.pause_remaining ?? 0) <= 60_000_000_000);
  assert.equal(ci.config.pause_until, r.pause_until);
  const c = await js.consumers.get('PAU', 'p');
  const none = await c.fetch({ max_messages: 3, expires: 1000 });
  let n = 0;
  for await (const m of none) if (m) n++;
  assert.equal(n, 0, 'a paused consumer delivers nothing');
  const resumed = await h.jsm.consumers.resume('PAU', 'p');
  assert.equal(resumed.paused, false);
  const got: string[] = [];
  for await (const m of await c.fetch({ max_messages: 3, expires: 5000 })) {
    got.push(m.string());
    m.ack();
  }
  assert.deepEqual(got, ['m0', 'm1', 'm2']);
  assert.ok(await waitFor(() => adv.length >= 2, 5000), `pause advisories: ${JSON.stringify(adv)}`);
  assert.deepEqual(Object.keys(adv[0][1]), ['type', 'id', 'timestamp', 'stream', 'consumer', 'paused', 'pause_until']);
  assert.equal(adv[0][1].type, 'io.nats.jetstream.advisory.v1.consumer_pause');
  assert.deepEqual([adv[0][1].paused, adv[1][1].paused], [true, false]);
  assert.equal(adv[1][1].pause_until, '0001-01-01T00:00:00Z');
  const after = await h.jsm.consumers.info('PAU', 'p');
  assert.equal(after.paused, undefined);
  assert.equal(after.config.pause_until, undefined);
});

test('pause: the deadline passing resumes delivery and is announced', async () => {
  await h.jsm.streams.add({ name: 'PAD', subjects: ['pad.>'] });
  const adv = listen('$JS.EVENT.ADVISORY.CONSUMER.PAUSE.PAD.q');
  await h.nc.flush();
  const until = new Date(Date.now() + 700);
  await h.jsm.consumers.add('PAD', { durable_name: 'q', pause_until: until.toISOString() });
  await jetstream(h.nc).publish('pad.x', 'late');
  const c = await jetstream(h.nc).consumers.get('PAD', 'q');
  const m = await c.next({ expires: 10_000 });
  assert.equal(m?.string(), 'late');
  assert.ok(Date.now() >= until.getTime(), 'not delivered before the deadline');
  assert.ok(await waitFor(() => adv.length >= 2, 5000), `pause advisories: ${JSON.stringify(adv)}`);
  assert.deepEqual([adv[0][1].paused, adv[1][1].paused], [true, false]);
});
