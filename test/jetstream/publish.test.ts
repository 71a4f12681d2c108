// The publish path: acks, Nats-Msg-Id dedupe, Nats-Expected-* headers, Nats-Rollup, sealed,
// no_ack (specs/nats.md §3 "Publishing into streams").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './helpers.js';

test('ack is {"stream","seq"}; headers are stored verbatim; no reply means no ack', async () => {
  const h = await Harness.start();
  await h.create({ name: 'S', subjects: ['s.>'] });
  const r = await h.request('s.a', 'hello', { 'X-Trace': 'abc' });
  assert.equal(r.payload.toString(), '{"stream":"S","seq":1}');
  assert.equal(h.publish('s.b', 'quiet'), 1);
  const m = await h.api('$JS.API.STREAM.MSG.GET.S', { seq: 1 });
  assert.equal(Buffer.from(m.message.hdrs, 'base64').toString(), 'NATS/1.0\r\nX-Trace: abc\r\n\r\n');
  assert.equal(Buffer.from(m.message.data, 'base64').toString(), 'hello');
  assert.equal((await h.info('S')).state.messages, 2);
  await h.close();
});

test('a status in an inbound header line is dropped before storing', async () => {
  const h = await Harness.start();
  await h.create({ name: 'S', subjects: ['s'], storage: 'memory' });
  const hdr = Buffer.from('NATS/1.0 503\r\nA: b\r\n\r\n');
  await h.request('s', Buffer.from('x'), null);
  h.router.publish({ subject: 's', reply: '', headers: hdr, payload: Buffer.from('y') }, null);
  const m = await h.api('$JS.API.STREAM.MSG.GET.S', { seq: 2 });
  assert.equal(Buffer.from(m.message.hdrs, 'base64').toString(), 'NATS/1.0\r\nA: b\r\n\r\n');
  await h.close();
});

test('Nats-Msg-Id: a repeat inside the window is acked with the original seq and duplicate:true', async () => {
  const h = await Harness.start();
  await h.create({ name: 'D', subjects: ['d'], storage: 'memory' });
  assert.equal((await h.request('d', '1', { 'Nats-Msg-Id': 'a' })).payload.toString(), '{"stream":"D","seq":1}');
  assert.equal((await h.request('d', '2', { 'Nats-Msg-Id': 'b' })).json.seq, 2);
  const dup = await h.request('d', '1 again', { 'Nats-Msg-Id': 'a' });
  assert.equal(dup.payload.toString(), '{"stream":"D","seq":1,"duplicate": true}');
  assert.equal((await h.info('D')).state.messages, 2);
  await h.close();
});

test('Nats-Msg-Id: ids are forgotten after duplicate_window', async () => {
  const h = await Harness.start();
  await h.create({ name: 'W', subjects: ['w'], storage: 'memory', duplicate_window: 100_000_000 });
  assert.equal((await h.request('w', '1', { 'Nats-Msg-Id': 'a' })).json.seq, 1);
  await new Promise((r) => setTimeout(r, 150));
  const again = (await h.request('w', '1', { 'Nats-Msg-Id': 'a' })).json;
  assert.equal(again.seq, 2);
  assert.equal(again.duplicate, undefined);
  await h.close();
});

test('Nats-Expected-Stream / -Last-Sequence / -Last-Msg-Id', async () => {
  const h = await Harness.start();
  await h.create({ name: 'E', subjects: ['e.>'], storage: 'memory' });
  assert.deepEqual((await h.request('e.a', 'x', { 'Nats-Expected-Stream': 'OTHER' })).json, {
    error: { code: 400, err_code: 10060, description: 'expected stream does not match' },
    stream: 'E',
    seq: 0,
  });
  assert.equal((await h.request('e.a', 'x', { 'Nats-Expected-Stream': 'E', 'Nats-Msg-Id': 'one' })).json.seq, 1);
  assert.equal(
    (await h.request('e.a', 'x', { 'Nats-Expected-Last-Sequence': '0' })).json.error.description,
    'wrong last sequence: 1',
  );
  assert.equal((await h.request('e.a', 'x', { 'Nats-Expected-Last-Sequence': '1' })).json.seq, 2);
  // The last stored message had no id, so the last msg id is now empty.
  assert.deepEqual((await h.request('e.a', 'x', { 'Nats-Expected-Last-Msg-Id': 'one' })).json.error, {
    code: 400,
    err_code: 10070,
    description: 'wrong last msg ID: ',
  });
  assert.equal((await h.request('e.a', 'x', { 'Nats-Msg-Id': 'two' })).json.seq, 3);
  assert.equal((await h.request('e.a', 'x', { 'Nats-Expected-Last-Msg-Id': 'two' })).json.seq, 4);
  await h.close();
});

test('Nats-Expected-Last-Subject-Sequence (+ -Subject override); 0 means "no message yet"', async () => {
  const h = await Harness.start();
  await h.create({ name: 'K', subjects: ['k.*'], storage: 'memory' });
  assert.equal((await h.request('k.a', '1', { 'Nats-Expected-Last-Subject-Sequence': '0' })).json.seq, 1);
  assert.equal(
    (await h.request('k.a', '2', { 'Nats-Expected-Last-Subject-Sequence': '0' })).json.error.description,
    'wrong last sequence: 1',
  );
  assert.equal((await h.request('k.b', '1', { 'Nats-Expected-Last-Subject-Sequence': '0' })).json.seq, 2);
  assert.equal((await h.request('k.a', '3', { 'Nats-Expected-Last-Subject-Sequence': '1' })).json.seq, 3);
  const over = { 'Nats-Expected-Last-Subject-Sequence': '2', 'Nats-Expected-Last-Subject-Sequence-Subject': 'k.b' };
  assert.equal((await h.request('k.c', 'x', over)).json.seq, 4);
  const wild = { 'Nats-Expected-Last-Subject-Sequence': '4', 'Nats-Expected-Last-Subject-Sequence-Subject': 'k.*' };
  assert.equal((await h.request('k.c', 'y', wild)).json.seq, 5);
  assert.deepEqual((await h.request('k.c', 'z', { 'Nats-Expected-Last-Subject-Sequence-Subject': 'k.a' })).json.error, {
    code: 400,
    err_code: 10193,
    description: 'missing sequence for expected last sequence per subject',
  });
  await h.close();
});

test('Nats-Rollup: needs allow_rollup_hdrs; sub keeps the newest on the subject, all the newest overall', async () => {
  const h = await Harness.start();
  await h.create({ name: 'R', subjects: ['r.*'], storage: 'memory' });
  assert.deepEqual((await h.request('r.a', 'x', { 'Nats-Rollup': 'sub' })).json.error, {
    code: 500,
    err_code: 10111,
    description: 'rollup not permitted',
  });
  await h.create({ name: 'Q', subjects: ['q.*'], storage: 'memory', allow_rollup_hdrs: true });
  for (let i = 0; i < 3; i++) await h.request('q.a', `a${i}`);
  for (let i = 0; i < 2; i++) await h.request('q.b', `b${i}`);
  assert.equal((await h.request('q.a', 'snap', { 'Nats-Rollup': 'sub' })).json.seq, 6);
  assert.deepEqual((await h.info('Q', { subjects_filter: '>' })).state.subjects, { 'q.a': 1, 'q.b': 2 });
  assert.equal((await h.request('q.c', 'all', { 'Nats-Rollup': 'all' })).json.seq, 7);
  const st = (await h.info('Q')).state;
  assert.equal(st.messages, 1);
  assert.equal(st.first_seq, 7);
  assert.equal((await h.request('q.c', 'x', { 'Nats-Rollup': 'bogus' })).json.error.description, 'rollup value invalid: "bogus"');
  await h.close();
});

test('sealed streams refuse publishes, deletes and purges with 10109', async () => {
  const h = await Harness.start();
  await h.create({ name: 'Z', subjects: ['z'], storage: 'memory' });
  await h.request('z', '1');
  const up = await h.api('$JS.API.STREAM.UPDATE.Z', { name: 'Z', subjects: ['z'], storage: 'memory', sealed: true });
  assert.equal(up.config.sealed, true);
  const sealed = { code: 400, err_code: 10109, description: 'invalid operation on sealed stream' };
  assert.deepEqual((await h.request('z', '2')).json.error, sealed);
  assert.deepEqual((await h.api('$JS.API.STREAM.MSG.DELETE.Z', { seq: 1 })).error, sealed);
  assert.deepEqual((await h.api('$JS.API.STREAM.PURGE.Z')).error, sealed);
  assert.equal((await h.info('Z')).state.messages, 1);
  await h.close();
});

test('no_ack streams store but never answer', async () => {
  const h = await Harness.start();
  await h.create({ name: 'Q', subjects: ['q'], storage: 'memory', no_ack: true });
  const served = h.router.publish({ subject: 'q', reply: '_T.noack', headers: null, payload: Buffer.from('x') }, null);
  assert.equal(served, 1);
  assert.equal((await h.info('Q')).state.messages, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(h.seen.filter((m) => m.subject === '_T.noack').length, 0);
  await h.close();
});

test('a retried publish with Nats-Msg-Id and an expected-last header gets the duplicate ack (nats-server order)', async () => {
  const h = await Harness.start();
  await h.create({ name: 'R', subjects: ['r'], storage: 'memory' });
  const hdrs = { 'Nats-Msg-Id': 'once', 'Nats-Expected-Last-Sequence': '0' };
  assert.equal((await h.request('r', 'x', hdrs)).payload.toString(), '{"stream":"R","seq":1}');
  assert.equal((await h.request('r', 'x', hdrs)).payload.toString(), '{"stream":"R","seq":1,"duplicate": true}');
  await h.close();
});

test('very long Nats-Msg-Id values are deduplicated too', async () => {
  const h = await Harness.start();
  await h.create({ name: 'L', subjects: ['l'], storage: 'memory' });
  const a = 'a'.repeat(20_000);
  const b = 'a'.repeat(19_999) + 'b'; // same length: V8 would hash both alike
  assert.equal((await h.request('l', '1', { 'Nats-Msg-Id': a })).json.seq, 1);
  assert.equal((await h.request('l', '2', { 'Nats-Msg-Id': b })).json.seq, 2);
  assert.equal((await h.request('l', '1', { 'Nats-Msg-Id': a })).payload.toString(), '{"stream":"L","seq":1,"duplicate": true}');
  await h.close();
});
