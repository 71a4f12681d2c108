// Pull consumers with the `nats` v2 client and its defaults: js.pull (no_wait batch 1, 404 when
// empty), js.fetch, consumers.get().consume(), and pullSubscribe with pull().
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AckPolicy, connect, type NatsConnection, type JetStreamClient, type JetStreamManager } from 'nats';
import { startHerald, waitFor } from '../jetstream/helpers.js';

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let jsm: JetStreamManager;
let js: JetStreamClient;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  jsm = await nc.jetstreamManager();
  js = nc.jetstream();
  await jsm.streams.add({ name: 'V2', subjects: ['v2.>'] });
  for (let i = 0; i < 6; i++) await js.publish('v2.x', `m${i}`);
});
after(async () => {
  await nc.close();
  await srv.stop();
});

test('js.pull takes one message, then answers no messages', async () => {
  await jsm.consumers.add('V2', { durable_name: 'p', ack_policy: AckPolicy.Explicit });
  const m = await js.pull('V2', 'p');
  assert.equal(m.string(), 'm0');
  m.ack();
  const one = await jsm.consumers.add('V2', { durable_name: 'q', ack_policy: AckPolicy.Explicit, filter_subject: 'v2.none' });
  assert.equal(one.num_pending, 0);
  await assert.rejects(js.pull('V2', 'q'), /no messages/i);
});

test('js.fetch with no_wait and with expires', async () => {
  await jsm.consumers.add('V2', { durable_name: 'f', ack_policy: AckPolicy.Explicit });
  const got: string[] = [];
  for await (const m of js.fetch('V2', 'f', { batch: 4, expires: 1000 })) {
    got.push(m.string());
    m.ack();
  }
  assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3']);
  const rest: string[] = [];
  for await (const m of js.fetch('V2', 'f', { batch: 10, no_wait: true })) {
    rest.push(m.string());
    m.ack();
  }
  assert.deepEqual(rest, ['m4', 'm5']);
});

test('consumers.get().consume() and pullSubscribe().pull()', async () => {
  await jsm.consumers.add('V2', { durable_name: 'c', ack_policy: AckPolicy.Explicit });
  const c = await js.consumers.get('V2', 'c');
  const msgs = await c.consume();
  const got: string[] = [];
  const loop = (async () => {
    for await (const m of msgs) {
      got.push(m.string());
      m.ack();
      if (got.length === 6) break;
    }
  })();
  assert.ok(await waitFor(() => got.length === 6, 10_000), `consumed ${got.length}`);
  await loop;
  await jsm.consumers.add('V2', { durable_name: 's', ack_policy: AckPolicy.Explicit });
  const sub = await js.pullSubscribe('v2.x', { config: { durable_name: 's' } });
  const seen: string[] = [];
  const done = (async () => {
    for await (const m of sub) {
      seen.push(m.string());
      m.ack();
      if (seen.length === 6) break;
    }
  })();
  sub.pull({ batch: 6, expires: 2000 });
  assert.ok(await waitFor(() => seen.length === 6, 10_000), `pulled ${seen.length}`);
  await done;
});
