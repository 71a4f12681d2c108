// Push consumers and what is built on them: KV keys(), history() and watch() (ordered push
// consumers with heartbeats), a durable push consumer with a deliver group shared by two
// subscribers (nats v2 queue push subscribe), and delivery only once someone listens.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { AckPolicy, connect as connectV2, consumerOpts, type NatsConnection as V2Connection } from 'nats';
import { startHerald, waitFor } from '../jetstream/helpers.js';

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let nc2: V2Connection;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  nc2 = await connectV2({ servers: srv.server.url });
});
after(async () => {
  await nc.close();
  await nc2.close();
  await srv.stop();
});

test('KV keys, history and watch', async () => {
  const kv = await new Kvm(nc).create('cfg', { history: 3 });
  await kv.put('a', 'one');
  await kv.put('b', 'two');
  await kv.put('a', 'three');
  const keys: string[] = [];
  for await (const k of await kv.keys()) keys.push(k);
  assert.deepEqual(keys.sort(), ['a', 'b']);
  const hist: string[] = [];
  for await (const e of await kv.history({ key: 'a' })) hist.push(e.string());
  assert.deepEqual(hist, ['one', 'three']);
  const w = await kv.watch();
  const seen: string[] = [];
  const done = (async () => {
    for await (const e of w) {
      seen.push(`${e.key}=${e.string()}`);
      if (seen.length === 3) break;
    }
  })();
  await kv.put('c', 'four');
  assert.ok(await waitFor(() => seen.length === 3, 5000), `watch saw ${seen}`);
  await done;
  assert.deepEqual(seen, ['b=two', 'a=three', 'c=four']);
});

test('a durable push consumer with a deliver group: each message to one member, once', async () => {
  const jsm = await nc2.jetstreamManager();
  const js = nc2.jetstream();
  await jsm.streams.add({ name: 'PUSH', subjects: ['push.>'] });
  const got = new Map<string, number>();
  const subs = [];
  for (let i = 0; i < 2; i++) {
    const opts = consumerOpts();
    opts.durable('pusher');
    opts.queue('workers');
    opts.deliverTo('deliver.push');
    opts.ackExplicit();
    opts.manualAck();
    opts.callback((_e, m) => {
      if (m === null) return;
      got.set(m.string(), (got.get(m.string()) ?? 0) + 1);
      m.ack();
    });
    subs.push(await js.subscribe('push.in', opts));
  }
  for (let i = 0; i < 50; i++) await js.publish('push.in', `p${i}`);
  assert.ok(await waitFor(() => got.size === 50, 10_000), `got ${got.size}`);
  for (const [k, n] of got) assert.equal(n, 1, `${k} delivered ${n} times`);
  const ci = await jsm.consumers.info('PUSH', 'pusher');
  assert.equal(ci.config.deliver_group, 'workers');
  assert.equal(ci.config.ack_policy, AckPolicy.Explicit);
  assert.ok(await waitFor(async () => (await jsm.consumers.info('PUSH', 'pusher')).num_ack_pending === 0, 5000));
  for (const s of subs) s.unsubscribe();
});
