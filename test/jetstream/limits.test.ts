// Stream limits through the router with memory and file stores: max_msgs, max_bytes,
// max_msgs_per_subject, max_msg_size, discard old/new, discard_new_per_subject, max_age expiry
// (specs/nats.md §4 "Limits").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, waitFor } from './helpers.js';

for (const storage of ['memory', 'file'] as const) {
  test(`${storage}: max_msgs with discard old evicts the oldest`, async () => {
    const h = await Harness.start();
    await h.create({ name: 'S', subjects: ['s.>'], storage, max_msgs: 3 });
    for (let i = 1; i <= 5; i++) assert.equal((await h.request('s.a', `m${i}`)).json.seq, i);
    const st = (await h.info('S')).state;
    assert.equal(st.messages, 3);
    assert.equal(st.first_seq, 3);
    assert.equal(st.last_seq, 5);
    await h.close();
  });

  test(`${storage}: max_bytes with discard old keeps the total under the limit`, async () => {
    const h = await Harness.start();
    // Memory accounting: subject + headers + payload + 16; file: 30 + subject + payload.
    const per = storage === 'memory' ? 3 + 10 + 16 : 30 + 3 + 10;
    await h.create({ name: 'S', subjects: ['s.>'], storage, max_bytes: per * 2 });
    for (let i = 0; i < 5; i++) await h.request('s.a', '0123456789');
    const st = (await h.info('S')).state;
    assert.equal(st.messages, 2);
    assert.equal(st.bytes, per * 2);
    await h.close();
  });

  test(`${storage}: discard new refuses past max_msgs and max_bytes with 10077`, async () => {
    const h = await Harness.start();
    await h.create({ name: 'N', subjects: ['n'], storage, max_msgs: 2, discard: 'new' });
    await h.request('n', 'a');
    await h.request('n', 'b');
    const r = (await h.request('n', 'c')).json;
    assert.deepEqual(r, { error: { code: 503, err_code: 10077, description: 'maximum messages exceeded' }, stream: 'N', seq: 0 });
    await h.create({ name: 'B', subjects: ['b'], storage, max_bytes: 100, discard: 'new' });
    assert.equal((await h.request('b', 'x'.repeat(40))).json.seq, 1);
    const r2 = (await h.request('b', 'x'.repeat(40))).json;
    assert.equal(r2.error.description, 'maximum bytes exceeded');
    assert.equal((await h.info('N')).state.messages, 2);
    await h.close();
  });

  test(`${storage}: max_msgs_per_subject evicts per subject, discard_new_per_subject refuses`, async () => {
    const h = await Harness.start();
    await h.create({ name: 'P', subjects: ['p.*'], storage, max_msgs_per_subject: 2 });
    for (let i = 0; i < 4; i++) await h.request('p.a', `a${i}`);
    await h.request('p.b', 'b0');
    const info = await h.info('P', { subjects_filter: '>' });
    assert.deepEqual(info.state.subjects, { 'p.a': 2, 'p.b': 1 });
    assert.equal(info.state.messages, 3);

    await h.create({
      name: 'K',
      subjects: ['k.*'],
      storage,
      max_msgs_per_subject: 1,
      discard: 'new',
      discard_new_per_subject: true,
    });
    assert.equal((await h.request('k.a', '1')).json.seq, 1);
    const r = (await h.request('k.a', '2')).json;
    assert.equal(r.error.err_code, 10077);
    assert.equal(r.error.description, 'maximum messages per subject exceeded');
    assert.equal((await h.request('k.b', '1')).json.seq, 2);
    await h.close();
  });

  test(`${storage}: max_msg_size counts headers + payload (10054)`, async () => {
    const h = await Harness.start();
    await h.create({ name: 'Z', subjects: ['z'], storage, max_msg_size: 10 });
    assert.equal((await h.request('z', '0123456789')).json.seq, 1);
    const r = (await h.request('z', '01234567890')).json;
    assert.deepEqual(r.error, { code: 400, err_code: 10054, description: 'message size exceeds maximum allowed' });
    const r2 = (await h.request('z', '0', { A: 'b' })).json; // header block alone is > 10 bytes
    assert.equal(r2.error.err_code, 10054);
    await h.close();
  });

  test(`${storage}: max_age expires old messages on the shared timer`, async () => {
    const h = await Harness.start();
    await h.create({ name: 'A', subjects: ['a'], storage, max_age: 200_000_000 });
    for (let i = 0; i < 10; i++) await h.request('a', `m${i}`);
    assert.equal((await h.info('A')).state.messages, 10);
    const gone = await waitFor(async () => (await h.info('A')).state.messages === 0, 5000, 25);
    assert.ok(gone, 'messages did not expire');
    const st = (await h.info('A')).state;
    assert.equal(st.first_seq, 11);
    assert.equal(st.last_seq, 10);
    assert.equal(h.js.scheduler.size, 0, 'no deadline should remain once the stream is empty');
    await h.close();
  });

  test(`${storage}: max_age expires only the messages older than it`, async () => {
    const h = await Harness.start();
    // max_age 2 s, the young messages 1.2 s after the old: the old ones may expire one at a time on
    // a loaded machine, so wait until all three are gone (not just the first), and the young ones
    // still have ≥ 0.8 s to live when the state is read.
    await h.create({ name: 'B', subjects: ['b'], storage, max_age: 2_000_000_000 });
    for (let i = 0; i < 3; i++) await h.request('b', `old${i}`);
    await new Promise((r) => setTimeout(r, 1200));
    for (let i = 0; i < 2; i++) await h.request('b', `young${i}`);
    const partial = await waitFor(async () => (await h.info('B')).state.messages <= 2, 5000, 20);
    assert.ok(partial, 'old messages did not expire within 5 s');
    const st = (await h.info('B')).state;
    assert.equal(st.messages, 2);
    assert.equal(st.first_seq, 4);
    await h.close();
  });
}

test('limits apply when an update lowers them', async () => {
  const h = await Harness.start();
  await h.create({ name: 'U', subjects: ['u.*'], storage: 'memory' });
  for (let i = 0; i < 6; i++) await h.request(i % 2 === 0 ? 'u.a' : 'u.b', `m${i}`);
  const r = await h.api('$JS.API.STREAM.UPDATE.U', { name: 'U', subjects: ['u.*'], storage: 'memory', max_msgs_per_subject: 2 });
  assert.equal(r.error, undefined);
  assert.equal(r.state.messages, 4);
  const r2 = await h.api('$JS.API.STREAM.UPDATE.U', {
    name: 'U',
    subjects: ['u.*'],
    storage: 'memory',
    max_msgs_per_subject: 2,
    max_msgs: 1,
  });
  assert.equal(r2.state.messages, 1);
  assert.equal(r2.state.last_seq, 6);
  await h.close();
});

test('a message bigger than max_bytes is stored then evicted (discard old), as nats-server does', async () => {
  const h = await Harness.start();
  await h.create({ name: 'X', subjects: ['x'], storage: 'memory', max_bytes: 20 });
  assert.equal((await h.request('x', 'y'.repeat(100))).json.seq, 1);
  assert.equal((await h.info('X')).state.messages, 0);
  await h.close();
});
