// DIRECT.GET on streams with allow_direct (specs/nats.md §3): both subject forms, the added
// headers, 404 Message Not Found, 408 for bad requests, and no responders without allow_direct.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness } from './helpers.js';

function hdrMap(h: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  if (h === null) return out;
  const lines = h.split('\r\n');
  out[':status'] = lines[0];
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) out[l.slice(0, i)] = l.slice(i + 1).trim();
  }
  return out;
}

test('by seq, by last subject (both forms), next_by_subj; stored headers come first', async () => {
  const h = await Harness.start();
  await h.create({ name: 'KV', subjects: ['kv.>'], storage: 'memory', allow_direct: true });
  await h.request('kv.a', 'v1', { 'KV-Operation': 'PUT' });
  await h.request('kv.b', 'w1');
  await h.request('kv.a', 'v2');
  const bySeq = await h.request('$JS.API.DIRECT.GET.KV', { seq: 1 });
  assert.equal(bySeq.payload.toString(), 'v1');
  assert.ok(bySeq.headers?.startsWith('NATS/1.0\r\nKV-Operation: PUT\r\nNats-Stream: KV\r\n'));
  const hm = hdrMap(bySeq.headers);
  assert.deepEqual([hm['Nats-Stream'], hm['Nats-Subject'], hm['Nats-Sequence']], ['KV', 'kv.a', '1']);
  assert.match(hm['Nats-Time-Stamp'], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  const last = await h.request('$JS.API.DIRECT.GET.KV.kv.a');
  assert.equal(last.payload.toString(), 'v2');
  assert.equal(hdrMap(last.headers)['Nats-Sequence'], '3');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', { last_by_subj: 'kv.b' })).payload.toString(), 'w1');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', { next_by_subj: 'kv.a', seq: 2 })).payload.toString(), 'v2');
  const noHdr = await h.request('$JS.API.DIRECT.GET.KV', { seq: 1, no_hdr: true });
  assert.equal(noHdr.headers, null);
  await h.close();
});

test('404 Message Not Found and 408 for empty, malformed or conflicting requests', async () => {
  const h = await Harness.start();
  await h.create({ name: 'KV', subjects: ['kv.>'], storage: 'memory', allow_direct: true });
  await h.request('kv.a', 'v');
  const nf = await h.request('$JS.API.DIRECT.GET.KV.kv.zz');
  assert.equal(nf.headers, 'NATS/1.0 404 Message Not Found\r\n\r\n');
  assert.equal(nf.payload.length, 0);
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', { seq: 9 })).headers, 'NATS/1.0 404 Message Not Found\r\n\r\n');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', '')).headers, 'NATS/1.0 408 Empty Request\r\n\r\n');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', '{}')).headers, 'NATS/1.0 408 Empty Request\r\n\r\n');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', '{x')).headers, 'NATS/1.0 408 Malformed Request\r\n\r\n');
  assert.equal(
    (await h.request('$JS.API.DIRECT.GET.KV', { seq: 1, last_by_subj: 'kv.a' })).headers,
    'NATS/1.0 408 Bad Request\r\n\r\n',
  );
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV.kv.a', { seq: 1 })).headers, 'NATS/1.0 408 Bad Request\r\n\r\n');
  // Lenient decoding, as nats-server's json.Unmarshal: unknown fields are ignored.
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV', { seq: 1, whatever: true })).payload.toString(), 'v');
  await h.close();
});

test('turning allow_direct off removes the responder (no responders, §1 trap)', async () => {
  const h = await Harness.start();
  await h.create({ name: 'KV', subjects: ['kv.>'], storage: 'memory', allow_direct: true });
  await h.request('kv.a', 'v');
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV.kv.a')).noResponders, false);
  await h.api('$JS.API.STREAM.UPDATE.KV', { name: 'KV', subjects: ['kv.>'], storage: 'memory', allow_direct: false });
  assert.equal((await h.request('$JS.API.DIRECT.GET.KV.kv.a')).noResponders, true);
  await h.close();
});
