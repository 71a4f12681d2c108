// Streams through a real server with the v3 client (@nats-io/jetstream over transport-node):
// the manager API, publish options, limits and discard policies, dedupe, expected headers,
// rollups, direct get, and a restart on the same data dir.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, DiscardPolicy, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { apiErr, startHerald } from './helpers.js';

let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  jsm = await jetstreamManager(nc);
});
after(async () => {
  await nc.close();
  await srv.stop();
});

test('v3 manager: add, info, update, names, list, purge, getMessage, deleteMessage, delete', async () => {
  const si = await jsm.streams.add({ name: 'ORDERS', subjects: ['orders.>'], storage: StorageType.File });
  assert.equal(si.config.name, 'ORDERS');
  assert.equal(si.config.max_msgs, -1);
  const js = jetstream(nc);
  for (let i = 0; i < 5; i++) await js.publish(`orders.${i % 2 === 0 ? 'new' : 'paid'}`, `o${i}`);
  const info = await jsm.streams.info('ORDERS', { subjects_filter: '>' });
  assert.equal(info.state.messages, 5);
  assert.deepEqual(info.state.subjects, { 'orders.new': 3, 'orders.paid': 2 });
  const up = await jsm.streams.update('ORDERS', { max_msgs: 100, description: 'orders' });
  assert.equal(up.config.max_msgs, 100);
  assert.equal(up.config.description, 'orders');
  const names: string[] = [];
  for await (const n of jsm.streams.names()) names.push(n);
  assert.ok(names.includes('ORDERS'));
  const listed: string[] = [];
  for await (const s of jsm.streams.list()) listed.push(s.config.name);
  assert.ok(listed.includes('ORDERS'));
  const filtered: string[] = [];
  for await (const n of jsm.streams.names('orders.paid')) filtered.push(n);
  assert.deepEqual(filtered, ['ORDERS']);
  const m = await jsm.streams.getMessage('ORDERS', { last_by_subj: 'orders.paid' });
  assert.equal(m?.seq, 4);
  assert.equal(m?.string(), 'o3');
  assert.equal(await jsm.streams.getMessage('ORDERS', { seq: 99 }), null);
  assert.equal(await jsm.streams.deleteMessage('ORDERS', 1), true);
  assert.equal(await jsm.streams.deleteMessage('ORDERS', 2, false), true);
  const pr = await jsm.streams.purge('ORDERS', { filter: 'orders.new', keep: 1 });
  assert.deepEqual([pr.success, pr.purged], [true, 1]);
  const st = (await jsm.streams.info('ORDERS')).state;
  assert.equal(st.messages, 2);
  assert.equal(await jsm.streams.delete('ORDERS'), true);
  const nf = await apiErr(jsm.streams.info('ORDERS'));
  assert.deepEqual(nf, { code: 404, err_code: 10059, description: 'stream not found' });
});

test('v3 publish: msgID dedupe, expect headers, errors reach the client', async () => {
  await jsm.streams.add({ name: 'PUB', subjects: ['pub.*'], storage: StorageType.Memory });
  const js = jetstream(nc);
  const a = await js.publish('pub.a', 'x', { msgID: 'm1' });
  assert.deepEqual([a.stream, a.seq, a.duplicate], ['PUB', 1, false]);
  const d = await js.publish('pub.a', 'x', { msgID: 'm1' });
  assert.deepEqual([d.seq, d.duplicate], [1, true]);
  await js.publish('pub.a', 'y', { expect: { lastSequence: 1, streamName: 'PUB', lastMsgID: 'm1' } });
  await assert.rejects(js.publish('pub.a', 'z', { expect: { lastSequence: 1 } }), /wrong last sequence: 2/);
  await assert.rejects(js.publish('pub.a', 'z', { expect: { streamName: 'OTHER' } }), /expected stream does not match/);
  await assert.rejects(js.publish('pub.b', 'z', { expect: { lastSubjectSequence: 5 } }), /wrong last sequence: 0/);
  const ok = await js.publish('pub.b', 'z', { expect: { lastSubjectSequence: 0 } });
  assert.equal(ok.seq, 3);
  // specs/nats.md §1: no stream covers the subject → 503, which the client reports as JetStreamNotEnabled.
  await assert.rejects(js.publish('nobody.here', 'x', { timeout: 2000 }), (e: Error) =>
    /jetstream is not enabled|no responders/i.test(e.message),
  );
  await jsm.streams.delete('PUB');
});

test('v3 limits: discard new with max_msgs and per subject; rollup; max_msg_size', async () => {
  const js = jetstream(nc);
  await jsm.streams.add({
    name: 'LIM',
    subjects: ['lim.*'],
    storage: StorageType.Memory,
    max_msgs: 2,
    discard: DiscardPolicy.New,
  });
  await js.publish('lim.a', '1');
  await js.publish('lim.a', '2');
  await assert.rejects(js.publish('lim.a', '3'), /maximum messages exceeded/);
  await jsm.streams.add({
    name: 'KVL',
    subjects: ['kvl.*'],
    storage: StorageType.Memory,
    max_msgs_per_subject: 1,
    discard: DiscardPolicy.New,
    discard_new_per_subject: true,
    allow_rollup_hdrs: true,
    max_msg_size: 64,
  });
  await js.publish('kvl.k', 'v1');
  await assert.rejects(js.publish('kvl.k', 'v2'), /maximum messages per subject exceeded/);
  const h = headers();
  h.set('Nats-Rollup', 'sub');
  const r = await js.publish('kvl.k', 'v3', { headers: h });
  assert.equal(r.seq, 2);
  await assert.rejects(js.publish('kvl.x', 'x'.repeat(65)), /message size exceeds maximum allowed/);
  const st = (await jsm.streams.info('KVL')).state;
  assert.deepEqual([st.messages, st.first_seq, st.last_seq], [1, 2, 2]);
  await jsm.streams.delete('LIM');
  await jsm.streams.delete('KVL');
});

test('v3 errors: invalid config, overlap, name in use', async () => {
  await jsm.streams.add({ name: 'E1', subjects: ['e.>'], storage: StorageType.Memory });
  assert.equal((await apiErr(jsm.streams.add({ name: 'E2', subjects: ['e.x'] }))).err_code, 10065);
  assert.equal((await apiErr(jsm.streams.add({ name: 'E1', subjects: ['e.>', 'f'] }))).err_code, 10058);
  assert.deepEqual(await apiErr(jsm.streams.add({ name: 'E3', max_age: 5 })), {
    code: 500,
    err_code: 10052,
    description: 'max age needs to be >= 100ms',
  });
  await jsm.streams.delete('E1');
});

test('v3 direct get with allow_direct', async () => {
  await jsm.streams.add({ name: 'DG', subjects: ['dg.>'], storage: StorageType.Memory, allow_direct: true });
  const js = jetstream(nc);
  await js.publish('dg.a', 'one');
  await js.publish('dg.a', 'two');
  const last = await jsm.direct.getMessage('DG', { last_by_subj: 'dg.a' });
  assert.equal(last?.string(), 'two');
  assert.equal(last?.seq, 2);
  const first = await jsm.direct.getMessage('DG', { seq: 1 });
  assert.equal(first?.string(), 'one');
  assert.equal(await jsm.direct.getMessage('DG', { seq: 5 }), null);
  await jsm.streams.delete('DG');
});

test('v3: streams and messages survive a restart on the same data dir', async () => {
  const local = await startHerald();
  const dataDir = local.dataDir;
  let c = await connect({ servers: local.server.url });
  let m = await jetstreamManager(c);
  await m.streams.add({ name: 'KEEP', subjects: ['keep'], storage: StorageType.File });
  const js = jetstream(c);
  for (let i = 0; i < 20; i++) await js.publish('keep', `k${i}`, { msgID: `id${i}` });
  await c.close();
  await local.stop(false);
  const again = await startHerald({ dataDir });
  c = await connect({ servers: again.server.url });
  m = await jetstreamManager(c);
  const st = (await m.streams.info('KEEP')).state;
  assert.deepEqual([st.messages, st.first_seq, st.last_seq], [20, 1, 20]);
  assert.equal((await m.streams.getMessage('KEEP', { seq: 7 }))?.string(), 'k6');
  const dup = await jetstream(c).publish('keep', 'again', { msgID: 'id19' });
  assert.equal(dup.duplicate, true);
  await c.close();
  await again.stop();
});
