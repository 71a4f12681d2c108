// The KV operations that need only streams (specs/nats.md §7): bucket create/open, put, get via
// DIRECT.GET, create / update with expected subject sequences, delete and purge markers with
// rollups. Watch, keys and history need consumers and are not tested here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from '@nats-io/transport-node';
import { Kvm } from '@nats-io/kv';
import { startHerald } from './helpers.js';

test('@nats-io/kv: put/get/create/update/delete/purge on a herald bucket', async () => {
  const srv = await startHerald();
  const nc = await connect({ servers: srv.server.url });
  try {
    const kvm = new Kvm(nc);
    const kv = await kvm.create('cfg', { history: 3 });
    assert.equal(await kv.put('a', 'one'), 1);
    assert.equal(await kv.put('a', 'two'), 2);
    const e = await kv.get('a');
    assert.deepEqual([e?.string(), e?.revision], ['two', 2]);
    await assert.rejects(kv.create('a', 'x'), /wrong last sequence: 2/);
    assert.equal(await kv.create('b', 'x'), 3);
    assert.equal(await kv.update('b', 'y', 3), 4);
    await assert.rejects(kv.update('b', 'z', 1), /wrong last sequence: 4/);
    await kv.delete('a');
    assert.equal((await kv.get('a'))?.operation, 'DEL');
    assert.equal(await kv.create('a', 'again'), 6, 'create over a delete marker retries with its revision');
    await kv.purge('b');
    assert.equal((await kv.get('b'))?.operation, 'PURGE');
    const st = await kv.status();
    assert.equal(st.values, 4);
    assert.equal(st.history, 3);
    const reopened = await kvm.open('cfg');
    assert.equal((await reopened.get('a'))?.string(), 'again');
  } finally {
    await nc.close();
    await srv.stop();
  }
});
