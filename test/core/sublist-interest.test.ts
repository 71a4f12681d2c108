// The sublist's interest hook (Sublist.watchInterest): a watcher of a literal subject hears every
// subscription that would reach it come and go (literal, `*`, `>`, queue, Redis glob), nothing
// else, and nothing once it stops watching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sublist } from '../../src/core/sublist.js';
import { Subscription, type Client, type SubjectKind } from '../../src/core/message.js';

const client: Client = { id: 1, echo: true, deliver: () => undefined };
const sub = (subject: string, queue: string | null = null, kind: SubjectKind = 'nats') =>
  new Subscription(client, subject, queue, subject, kind);

test('a watcher hears subscriptions that reach its subject come and go, and only those', () => {
  const sl = new Sublist();
  const heard: boolean[] = [];
  const stop = sl.watchInterest('deliver.a', () => heard.push(sl.hasInterest('deliver.a')));
  const lit = sub('deliver.a');
  sl.insert(lit);
  assert.deepEqual(heard, [true]);
  sl.remove(lit);
  assert.deepEqual(heard, [true, false]);
  for (const s of [sub('deliver.*'), sub('>'), sub('deliver.a', 'q'), sub('deliver.?', null, 'glob')]) {
    sl.insert(s);
    sl.remove(s);
  }
  assert.deepEqual(heard, [true, false, true, false, true, false, true, false, true, false]);
  const n = heard.length;
  for (const s of [sub('deliver.b'), sub('other.>'), sub('deliver.a.b'), sub('*.b')]) sl.insert(s);
  assert.equal(heard.length, n, 'subscriptions that cannot reach deliver.a are not reported');
  stop();
  sl.insert(sub('deliver.a'));
  assert.equal(heard.length, n, 'nothing after stop()');
});

test('two watchers of one subject both hear; removing a missing sub tells no one', () => {
  const sl = new Sublist();
  let a = 0;
  let b = 0;
  sl.watchInterest('x', () => a++);
  sl.watchInterest('x', () => b++);
  const s = sub('x');
  sl.insert(s);
  assert.equal(sl.remove(s), true);
  assert.equal(sl.remove(s), false);
  assert.deepEqual([a, b], [2, 2]);
});

test('skipCacheUnder: subjects under the prefix match as before but stay out of the cache', () => {
  const sl = new Sublist();
  sl.skipCacheUnder('$JS.ACK.');
  const ack = sub('$JS.ACK.>');
  sl.insert(ack);
  sl.match('other.subject');
  const before = sl.cacheSize;
  for (let i = 0; i < 100; i++) assert.deepEqual(sl.match(`$JS.ACK.S.C.1.${i}.${i}.0.0`).plain, [ack]);
  assert.equal(sl.cacheSize, before);
  const late = sub('$JS.ACK.S.>');
  sl.insert(late);
  assert.deepEqual(new Set(sl.match('$JS.ACK.S.C.1.1.1.0.0').plain), new Set([ack, late]), 'a later subscription is seen');
  sl.remove(ack);
  assert.deepEqual(sl.match('$JS.ACK.S.C.1.1.1.0.0').plain, [late]);
});
