// Server-wide storage budgets (maxFileStore / maxMemStore) with nats-server's errors, and the
// /jsz view with herald's `unlimited_streams` flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './helpers.js';

test('create: max_bytes past the budget is 10047 (file) / 10028 (memory); reservations add up', async () => {
  const h = await Harness.start({ maxFileStore: 1000, maxMemStore: 500 });
  assert.deepEqual((await h.api('$JS.API.STREAM.CREATE.F', { name: 'F', max_bytes: 2000 })).error, {
    code: 500,
    err_code: 10047,
    description: 'insufficient storage resources available',
  });
  assert.deepEqual((await h.api('$JS.API.STREAM.CREATE.M', { name: 'M', storage: 'memory', max_bytes: 501 })).error, {
    code: 500,
    err_code: 10028,
    description: 'insufficient memory resources available',
  });
  await h.create({ name: 'A', max_bytes: 600 });
  assert.equal((await h.api('$JS.API.STREAM.CREATE.B', { name: 'B', max_bytes: 600 })).error.err_code, 10047);
  await h.create({ name: 'B', max_bytes: 400 });
  // A stream without max_bytes reserves 1 byte: nothing is left.
  assert.equal((await h.api('$JS.API.STREAM.CREATE.C', { name: 'C' })).error.err_code, 10047);
  const up = await h.api('$JS.API.STREAM.UPDATE.B', { name: 'B', max_bytes: 500 });
  assert.equal(up.error.err_code, 10047);
  assert.equal((await h.api('$JS.API.STREAM.UPDATE.B', { name: 'B', max_bytes: 300 })).config.max_bytes, 300);
  const info = await h.api('$JS.API.INFO');
  assert.equal(info.reserved_storage, 900);
  assert.equal(info.limits.max_storage, 1000);
  await h.close();
});

test('publish: a message that would pass the budget is refused with 10023', async () => {
  const h = await Harness.start({ maxMemStore: 200 });
  await h.create({ name: 'M', subjects: ['m'], storage: 'memory' });
  let refused = null;
  let stored = 0;
  for (let i = 0; i < 20 && refused === null; i++) {
    const r = (await h.request('m', 'x'.repeat(40))).json;
    if (r.error !== undefined) refused = r;
    else stored++;
  }
  assert.deepEqual(refused, {
    error: { code: 503, err_code: 10023, description: 'insufficient resources' },
    stream: 'M',
    seq: 0,
  });
  assert.equal(stored, 3); // 3 × (1 + 40 + 16) = 171 ≤ 200; a fourth would make 228
  assert.equal((await h.api('$JS.API.INFO')).memory, 171);
  // Freeing space lets publishes through again.
  await h.api('$JS.API.STREAM.PURGE.M');
  assert.equal((await h.request('m', 'y')).json.seq, 4);
  await h.close();
});

test('/jsz: totals, config.store_dir, account details, and streams without limits flagged', async () => {
  const h = await Harness.start();
  await h.create({ name: 'FREE', subjects: ['free'], storage: 'memory' });
  await h.create({ name: 'CAPPED', subjects: ['capped'], storage: 'memory', max_msgs: 10 });
  await h.request('free', 'abc');
  const j = h.js.jsz(new URLSearchParams()) as any;
  assert.equal(j.config.store_dir, h.dir);
  assert.equal(j.config.sync_always, true);
  assert.equal(j.streams, 2);
  assert.equal(j.messages, 1);
  assert.equal(j.bytes, 4 + 3 + 16);
  assert.equal(j.memory, 23);
  assert.deepEqual(j.unlimited_streams, ['FREE']);
  assert.equal(j.account_details, undefined);
  const d = h.js.jsz(new URLSearchParams('streams=true&config=true')) as any;
  const det = d.account_details[0];
  assert.equal(det.name, '$G');
  assert.deepEqual(
    det.stream_detail.map((s: any) => [s.name, s.unlimited === true]),
    [
      ['CAPPED', false],
      ['FREE', true],
    ],
  );
  assert.equal(det.stream_detail[0].config.max_msgs, 10);
  await h.close();
});
