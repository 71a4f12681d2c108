// Stream config defaults, validation and update rules as nats-server's checkStreamCfg /
// configUpdateCheck (specs/nats.md §4 "Config fields"), tested directly on the pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkStreamConfig,
  checkStreamUpdate,
  configJson,
  DEFAULT_DUPLICATE_WINDOW_NS,
  sameConfig,
  STREAM_CONFIG_REQUEST,
  unsupportedRetention,
  type StreamConfig,
} from '../../src/nats/jetstream/config.js';
import { decodeGoJson } from '../../src/nats/jetstream/gojson.js';
import { Harness } from './helpers.js';

function check(raw: Record<string, unknown>, pedantic = false) {
  const d = decodeGoJson(Buffer.from(JSON.stringify(raw)), STREAM_CONFIG_REQUEST);
  assert.equal(d.error, null);
  return checkStreamConfig(d.value as Record<string, unknown>, pedantic);
}

function ok(raw: Record<string, unknown>): StreamConfig {
  const r = check(raw);
  assert.equal(r.err, null, JSON.stringify(r.err));
  return r.cfg as StreamConfig;
}

function errOf(raw: Record<string, unknown>, pedantic = false): { code: number; err_code: number; description: string } {
  const r = check(raw, pedantic);
  assert.notEqual(r.err, null, 'expected an error');
  return r.err as { code: number; err_code: number; description: string };
}

test('defaults: subjects [name], file storage, limits -1, 2 min duplicate window, R1', () => {
  const c = ok({ name: 'ORDERS' });
  assert.deepEqual(c.subjects, ['ORDERS']);
  assert.equal(c.storage, 'file');
  assert.equal(c.retention, 'limits');
  assert.equal(c.discard, 'old');
  for (const f of ['max_msgs', 'max_bytes', 'max_msgs_per_subject', 'max_msg_size', 'max_consumers'] as const)
    assert.equal(c[f], -1, f);
  assert.equal(c.max_age, 0);
  assert.equal(c.duplicate_window, DEFAULT_DUPLICATE_WINDOW_NS);
  assert.equal(c.num_replicas, 1);
  assert.equal(c.compression, 'none');
});

test('0 and values below -1 become -1; pedantic mode refuses below -1', () => {
  const c = ok({ name: 'S', max_msgs: 0, max_bytes: -5, max_msgs_per_subject: -2 });
  assert.equal(c.max_msgs, -1);
  assert.equal(c.max_bytes, -1);
  assert.equal(c.max_msgs_per_subject, -1);
  assert.deepEqual(errOf({ name: 'S', max_msgs: -5 }, true), {
    code: 400,
    err_code: 10157,
    description: 'pedantic mode: max_msgs must be set to -1',
  });
});

test('max_age: negative refused, below 100ms refused, duplicate window follows a short max_age', () => {
  assert.equal(errOf({ name: 'S', max_age: -1 }).description, 'max age can not be negative');
  assert.deepEqual(errOf({ name: 'S', max_age: 5 }), { code: 500, err_code: 10052, description: 'max age needs to be >= 100ms' });
  const c = ok({ name: 'S', max_age: 1_000_000_000 });
  assert.equal(c.duplicate_window, 1_000_000_000);
  assert.equal(
    errOf({ name: 'S', max_age: 1_000_000_000 }, true).description,
    'pedantic mode: duplicate window cannot be bigger than max age',
  );
  assert.equal(
    errOf({ name: 'S', max_age: 1_000_000_000, duplicate_window: 2_000_000_000 }).description,
    'duplicates window can not be larger then max age',
  );
  assert.equal(errOf({ name: 'S', duplicate_window: 50_000_000 }).description, 'duplicates window needs to be >= 100ms');
  assert.equal(errOf({ name: 'S', duplicate_window: -1 }).description, 'duplicates window can not be negative');
});

test('names: required, no . * > whitespace / \\, at most 255 bytes', () => {
  const want = "stream name is required and can not contain '.', '*', '>', '\\', '/'";
  for (const name of ['', 'a.b', 'a*', 'a>', 'a b', 'a/b', 'a\\b', 'a\tb']) assert.equal(errOf({ name }).description, want, name);
  assert.equal(errOf({ name: 'x'.repeat(256) }).description, 'stream name is too long, maximum allowed is 255');
  ok({ name: 'x'.repeat(255) });
  assert.equal(
    errOf({ name: 'S', description: 'd'.repeat(4097) }).description,
    'stream description is too long, maximum allowed is 4096',
  );
});

test('replicas: >1 passes validation (refused later as 10074), >5 and negative refused', () => {
  assert.equal(ok({ name: 'S', num_replicas: 3 }).num_replicas, 3);
  assert.equal(errOf({ name: 'S', num_replicas: 6 }).description, 'maximum replicas is 5');
  assert.deepEqual(errOf({ name: 'S', num_replicas: -1 }), {
    code: 400,
    err_code: 10133,
    description: 'replicas count cannot be negative',
  });
});

test('subjects: invalid, duplicate, self-overlap, capture-all and API overlap', () => {
  assert.equal(errOf({ name: 'S', subjects: ['a..b'] }).description, 'invalid subject');
  // nats-server's overlap check sees a repeated subject before its duplicate check does.
  assert.equal(errOf({ name: 'S', subjects: ['a', 'a'] }).description, 'subject "a" overlaps with "a"');
  assert.equal(errOf({ name: 'S', subjects: ['a.*', 'a.b'] }).description, 'subject "a.*" overlaps with "a.b"');
  assert.equal(errOf({ name: 'S', subjects: ['>'] }).description, 'capturing all subjects requires no-ack to be true');
  assert.equal(ok({ name: 'S', subjects: ['>'], no_ack: true }).no_ack, true);
  assert.equal(
    errOf({ name: 'S', subjects: ['$JS.API.>'] }).description,
    'subjects that overlap with jetstream api require no-ack to be true',
  );
  ok({ name: 'S', subjects: ['$JS.EVENT.ADVISORY.>'] });
  assert.equal(
    errOf({ name: 'S', subjects: ['$SYS.REQ.>'] }).description,
    'subjects that overlap with system api require no-ack to be true',
  );
});

test('rollups need purge permission; discard_new_per_subject needs discard new and a per-subject limit', () => {
  assert.equal(
    errOf({ name: 'S', deny_purge: true, allow_rollup_hdrs: true }).description,
    'roll-ups require the purge permission',
  );
  assert.equal(
    errOf({ name: 'S', discard_new_per_subject: true }).description,
    'discard new per subject requires discard new policy to be set',
  );
  assert.equal(
    errOf({ name: 'S', discard: 'new', discard_new_per_subject: true }).description,
    'discard new per subject requires max msgs per subject > 0',
  );
  ok({ name: 'S', discard: 'new', discard_new_per_subject: true, max_msgs_per_subject: 1 });
});

test('features outside herald are refused with 10052 and a sentence naming them', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ mirror: { name: 'O' } }, /mirrors/],
    [{ sources: [{ name: 'O' }] }, /sources/],
    [{ subject_transform: { src: 'a', dest: 'b' } }, /transforms/],
    [{ republish: { src: '>', dest: 'x.>' } }, /republish/],
    [{ allow_msg_ttl: true }, /TTL/],
    [{ allow_msg_counter: true }, /counters/],
    [{ allow_msg_schedules: true }, /schedules/],
    [{ placement: { cluster: 'c' } }, /placement/],
  ];
  for (const [extra, re] of cases) {
    const e = errOf({ name: 'S', ...extra });
    assert.equal(e.err_code, 10052);
    assert.match(e.description, re);
  }
  // Empty forms are Go's zero values and pass.
  ok({ name: 'S', sources: [], placement: {}, mirror: null });
});

// Premise changed with issue 8: interest and workqueue retention work now (they were refused with 10052).
test('interest and workqueue validate and are accepted', () => {
  for (const retention of ['interest', 'workqueue']) {
    const c = ok({ name: 'S', retention });
    assert.equal(unsupportedRetention(c), null);
  }
  assert.equal(unsupportedRetention(ok({ name: 'S' })), null);
});

test('echo: limits, policies and booleans always; empty optionals omitted; metadata sorted', () => {
  const j = configJson(ok({ name: 'S', metadata: { b: '2', a: '1' } }));
  assert.deepEqual(Object.keys(j), [
    'name',
    'subjects',
    'retention',
    'max_consumers',
    'max_msgs',
    'max_bytes',
    'max_age',
    'max_msgs_per_subject',
    'max_msg_size',
    'discard',
    'storage',
    'num_replicas',
    'duplicate_window',
    'compression',
    'allow_direct',
    'mirror_direct',
    'sealed',
    'deny_delete',
    'deny_purge',
    'allow_rollup_hdrs',
    'consumer_limits',
    'allow_msg_ttl',
    'metadata',
  ]);
  assert.deepEqual(Object.keys(j.metadata as object), ['a', 'b']);
  const k = configJson(
    ok({
      name: 'S',
      description: 'd',
      no_ack: true,
      first_seq: 5,
      discard: 'new',
      max_msgs_per_subject: 1,
      discard_new_per_subject: true,
    }),
  );
  assert.equal(k.description, 'd');
  assert.equal(k.no_ack, true);
  assert.equal(k.first_seq, 5);
  assert.equal(k.discard_new_per_subject, true);
});

test('sameConfig: a re-sent config (defaults spelled out or not) is the same', () => {
  const a = ok({ name: 'S', subjects: ['a'] });
  const b = ok({ name: 'S', subjects: ['a'], max_msgs: -1, duplicate_window: DEFAULT_DUPLICATE_WINDOW_NS, storage: 'file' });
  assert.ok(sameConfig(a, b));
  assert.ok(!sameConfig(a, ok({ name: 'S', subjects: ['a'], max_msgs: 10 })));
});

test('update rules: storage, workqueue switch, unseal, deny flags; sealing forces its settings', () => {
  const base = ok({ name: 'S', deny_delete: true, max_age: 1_000_000_000 });
  const upd = (raw: Record<string, unknown>) => checkStreamUpdate(base, ok({ name: 'S', ...raw }));
  assert.equal(
    upd({ storage: 'memory', deny_delete: true }).err?.description,
    'stream configuration update can not change storage type',
  );
  assert.equal(
    upd({ retention: 'workqueue', deny_delete: true }).err?.description,
    'stream configuration update can not change retention policy to/from workqueue',
  );
  assert.equal(upd({}).err?.description, 'stream configuration update can not cancel deny message deletes');
  assert.equal(upd({ deny_delete: true, num_replicas: 3 }).err?.err_code, 10074);
  const sealed = upd({ deny_delete: true, sealed: true, max_age: 1_000_000_000 });
  assert.equal(sealed.err, null);
  assert.equal(sealed.cfg?.max_age, 0);
  assert.equal(sealed.cfg?.discard, 'new');
  assert.equal(sealed.cfg?.deny_purge, true);
  const s2 = sealed.cfg as StreamConfig;
  assert.equal(
    checkStreamUpdate(s2, ok({ name: 'S', deny_delete: true, deny_purge: true })).err?.description,
    'stream configuration update can not unseal a sealed stream',
  );
});

test('sequences past 2^53 - 1 are refused instead of corrupting the stream', async () => {
  const h = await Harness.start();
  const c = await h.api('$JS.API.STREAM.CREATE.BIG', { name: 'BIG', subjects: ['big'], first_seq: 2 ** 60 });
  assert.equal(c.error?.err_code, 10052);
  await h.create({ name: 'BIG', subjects: ['big'], storage: 'memory' });
  const p = await h.api('$JS.API.STREAM.PURGE.BIG', { seq: 9007199254741001 });
  assert.equal(p.error?.err_code, 10003);
  assert.equal((await h.request('big', 'x')).json.seq, 1);
  await h.close();
});
