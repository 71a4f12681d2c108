// Streams through a real server with the nats v2 client (`jsm.streams.*`, `js.publish`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  connect,
  headers,
  StringCodec,
  DiscardPolicy,
  StorageType,
  NatsError,
  type NatsConnection,
  type JetStreamManager,
} from 'nats';
import { startHerald } from './helpers.js';

const sc = StringCodec();
let srv: Awaited<ReturnType<typeof startHerald>>;
let nc: NatsConnection;
let jsm: JetStreamManager;

before(async () => {
  srv = await startHerald();
  nc = await connect({ servers: srv.server.url });
  jsm = await nc.jetstreamManager();
});
after(async () => {
  await nc.close();
  await srv.stop();
});

async function apiErr(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NatsError && e.api_error !== undefined) return e.api_error;
    throw e;
  }
  throw new Error('expected an API error');
}

test('v2 jsm.streams: add/info/update/names/list/purge/getMessage/deleteMessage/delete', async () => {
  const ai = await jsm.getAccountInfo();
  assert.equal(typeof ai.streams, 'number');
  await jsm.streams.add({ name: 'V2', subjects: ['v2.>'], storage: StorageType.File, max_msgs_per_subject: 10 });
  const js = nc.jetstream();
  for (let i = 0; i < 6; i++) await js.publish(`v2.${i % 3}`, sc.encode(`m${i}`));
  assert.equal((await jsm.streams.info('V2')).state.messages, 6);
  const upd = await jsm.streams.update('V2', { subjects: ['v2.>', 'extra'], max_msgs: 4 });
  assert.equal(upd.state.messages, 4);
  await js.publish('extra', sc.encode('e'));
  assert.deepEqual(await jsm.streams.names().next(), ['V2']);
  assert.deepEqual(
    (await jsm.streams.list().next()).map((s) => s.config.name),
    ['V2'],
  );
  const sm = await jsm.streams.getMessage('V2', { last_by_subj: 'v2.2' });
  assert.equal(sc.decode(sm.data), 'm5');
  assert.equal(await jsm.streams.deleteMessage('V2', sm.seq), true);
  assert.deepEqual(await apiErr(jsm.streams.getMessage('V2', { seq: sm.seq })), {
    code: 404,
    err_code: 10037,
    description: 'no message found',
  });
  const pr = await jsm.streams.purge('V2', { seq: 5 });
  assert.equal(pr.purged, 1);
  assert.equal(await jsm.streams.delete('V2'), true);
  assert.deepEqual(await apiErr(jsm.streams.info('V2')), { code: 404, err_code: 10059, description: 'stream not found' });
});

test('v2 js.publish: msgID, expect options, discard new, rollup headers', async () => {
  await jsm.streams.add({
    name: 'P2',
    subjects: ['p2.*'],
    storage: StorageType.Memory,
    max_msgs: 3,
    discard: DiscardPolicy.New,
    allow_rollup_hdrs: true,
  });
  const js = nc.jetstream();
  const a = await js.publish('p2.a', sc.encode('1'), { msgID: 'x' });
  const b = await js.publish('p2.a', sc.encode('1'), { msgID: 'x' });
  assert.deepEqual([a.seq, a.duplicate, b.seq, b.duplicate], [1, false, 1, true]);
  await js.publish('p2.b', sc.encode('2'), { expect: { lastSequence: 1, lastMsgID: 'x', streamName: 'P2' } });
  await assert.rejects(js.publish('p2.b', sc.encode('3'), { expect: { lastSubjectSequence: 1 } }), /wrong last sequence: 2/);
  await js.publish('p2.c', sc.encode('3'));
  // 10077 carries HTTP code 503, which the v2 client surfaces as a 503 error with api_error set.
  const full = { code: 503, err_code: 10077, description: 'maximum messages exceeded' };
  assert.deepEqual(await apiErr(js.publish('p2.d', sc.encode('4'))), full);
  // At the stream-wide limit discard new refuses even a rollup, as nats-server's stores do.
  const h = headers();
  h.set('Nats-Rollup', 'all');
  assert.deepEqual(await apiErr(js.publish('p2.d', sc.encode('snapshot'), { headers: h })), full);
  await jsm.streams.delete('P2');
});

test('v2 rollup: all keeps only the newest message', async () => {
  await jsm.streams.add({ name: 'R2', subjects: ['r2.*'], storage: StorageType.Memory, allow_rollup_hdrs: true });
  const js = nc.jetstream();
  for (let i = 0; i < 5; i++) await js.publish(`r2.${i}`, sc.encode(String(i)));
  const h = headers();
  h.set('Nats-Rollup', 'all');
  const r = await js.publish('r2.x', sc.encode('snapshot'), { headers: h });
  assert.equal(r.seq, 6);
  const st = (await jsm.streams.info('R2')).state;
  assert.deepEqual([st.messages, st.first_seq], [1, 6]);
  await jsm.streams.delete('R2');
});
