// Streams across a clean restart of JetStream on the same store dir: config, created time,
// messages (file), dedupe window, last msg id, deletes and purges; memory streams come back
// empty; a broken meta.json is skipped and left alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { Harness } from './helpers.js';

test('file stream: config, created, messages, deletes and purges survive a restart', async () => {
  let h = await Harness.start();
  const created = await h.create({
    name: 'F',
    subjects: ['f.*'],
    max_msgs_per_subject: 5,
    description: 'kept',
    allow_direct: true,
  });
  for (let i = 0; i < 6; i++) await h.request(i % 2 === 0 ? 'f.a' : 'f.b', `m${i}`, { 'X-I': String(i) });
  await h.api('$JS.API.STREAM.MSG.DELETE.F', { seq: 3 });
  await h.api('$JS.API.STREAM.PURGE.F', { filter: 'f.b', keep: 1 });
  const before = await h.info('F', { deleted_details: true, subjects_filter: '>' });
  h = await h.restart();
  const after = await h.info('F', { deleted_details: true, subjects_filter: '>' });
  assert.deepEqual(after.config, before.config);
  assert.equal(after.created, created.created);
  assert.deepEqual(after.state, before.state);
  const m = await h.api('$JS.API.STREAM.MSG.GET.F', { seq: 5 });
  assert.equal(Buffer.from(m.message.data, 'base64').toString(), 'm4');
  assert.equal(Buffer.from(m.message.hdrs, 'base64').toString(), 'NATS/1.0\r\nX-I: 4\r\n\r\n');
  assert.equal((await h.request('$JS.API.DIRECT.GET.F.f.b')).noResponders, false);
  assert.equal((await h.request('f.a', 'next')).json.seq, 7);
  await h.close();
});

test('dedupe window and last msg id are rebuilt from stored messages', async () => {
  let h = await Harness.start();
  await h.create({ name: 'D', subjects: ['d'] });
  await h.request('d', 'a', { 'Nats-Msg-Id': 'id-1' });
  await h.request('d', 'b', { 'Nats-Msg-Id': 'id-2' });
  h = await h.restart();
  const dup = (await h.request('d', 'a', { 'Nats-Msg-Id': 'id-1' })).json;
  assert.deepEqual(dup, { stream: 'D', seq: 1, duplicate: true });
  assert.equal((await h.request('d', 'c', { 'Nats-Expected-Last-Msg-Id': 'id-2' })).json.seq, 3);
  await h.close();
});

test('memory streams keep their config but not their messages', async () => {
  let h = await Harness.start();
  await h.create({ name: 'M', subjects: ['m'], storage: 'memory', max_msgs: 7 });
  await h.request('m', 'gone');
  h = await h.restart();
  const info = await h.info('M');
  assert.equal(info.config.max_msgs, 7);
  assert.equal(info.state.messages, 0);
  assert.equal((await h.request('m', 'x')).json.seq, 1);
  await h.close();
});

test('first_seq applies once: a restarted stream keeps counting from its messages', async () => {
  let h = await Harness.start();
  await h.create({ name: 'Q', subjects: ['q'], first_seq: 100 });
  assert.equal((await h.request('q', 'x')).json.seq, 100);
  h = await h.restart();
  assert.equal((await h.request('q', 'y')).json.seq, 101);
  await h.close();
});

test('messages that aged out while the server was down are expired on start', async () => {
  let h = await Harness.start();
  await h.create({ name: 'A', subjects: ['a'], max_age: 150_000_000 });
  for (let i = 0; i < 3; i++) await h.request('a', 'x');
  await h.js.close();
  await new Promise((r) => setTimeout(r, 200));
  h = await Harness.start(h.opts, h.dir);
  assert.equal((await h.info('A')).state.messages, 0);
  await h.close();
});

test('a stream whose meta.json is broken is skipped, left on disk, and others still recover', async () => {
  let h = await Harness.start();
  await h.create({ name: 'GOOD', subjects: ['good'] });
  await h.create({ name: 'BAD', subjects: ['bad'] });
  await h.request('bad', 'precious');
  await h.js.close();
  writeFileSync(`${h.dir}/streams/BAD/meta.json`, '{ not json');
  h = await Harness.start(h.opts, h.dir);
  assert.equal((await h.info('GOOD')).config.name, 'GOOD');
  assert.equal((await h.info('BAD')).error.err_code, 10059);
  assert.ok(existsSync(`${h.dir}/streams/BAD/msgs`), 'files of a broken stream are never deleted');
  await h.close();
});

test('meta.json is written atomically: no temp file is left behind', async () => {
  const h = await Harness.start();
  await h.create({ name: 'T', subjects: ['t'] });
  await h.api('$JS.API.STREAM.UPDATE.T', { name: 'T', subjects: ['t'], max_msgs: 5 });
  assert.ok(existsSync(`${h.dir}/streams/T/meta.json`));
  assert.equal(existsSync(`${h.dir}/streams/T/meta.json.tmp`), false);
  await h.close();
});

test('a directory recovery refused is never overwritten by a create of the same name', async () => {
  let h = await Harness.start();
  await h.create({ name: 'OLD', subjects: ['old'] });
  await h.request('old', 'keep me');
  await h.js.close();
  writeFileSync(`${h.dir}/streams/OLD/meta.json`, 'garbage');
  h = await Harness.start(h.opts, h.dir);
  const r = await h.api('$JS.API.STREAM.CREATE.OLD', { name: 'OLD', subjects: ['old'] });
  assert.equal(r.error.err_code, 10049);
  assert.match(r.error.description, /exists but holds no recovered stream/);
  assert.ok(existsSync(`${h.dir}/streams/OLD/msgs`));
  await h.close();
});

test('a delete interrupted after the rename is finished at start-up', async () => {
  const { mkdirSync, readdirSync } = await import('node:fs');
  let h = await Harness.start();
  await h.create({ name: 'LIVE', subjects: ['live'] });
  await h.js.close();
  mkdirSync(`${h.dir}/streams/.deleted-GONE-1/msgs`, { recursive: true });
  writeFileSync(`${h.dir}/streams/.deleted-GONE-1/meta.json`, '{}');
  h = await Harness.start(h.opts, h.dir);
  assert.deepEqual(readdirSync(`${h.dir}/streams`), ['LIVE']);
  await h.api('$JS.API.STREAM.DELETE.LIVE');
  assert.deepEqual(readdirSync(`${h.dir}/streams`), []);
  await h.close();
});
