import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sublist, SUBLIST_CACHE_MAX } from '../../src/core/sublist.js';
import { Subscription, type Client } from '../../src/core/message.js';
import { subjectMatches } from '../../src/core/subject.js';

const client: Client = { id: 1, echo: true, deliver: () => undefined };
const sub = (subject: string, queue: string | null = null, sid = subject) => new Subscription(client, subject, queue, sid);

test('literal, * and > subscriptions match', () => {
  const sl = new Sublist();
  const a = sub('foo.bar');
  const b = sub('foo.*');
  const c = sub('foo.>');
  const d = sub('>');
  const e = sub('*.bar');
  for (const s of [a, b, c, d, e]) sl.insert(s);
  assert.equal(sl.count, 5);
  assert.deepEqual(new Set(sl.match('foo.bar').plain), new Set([a, b, c, d, e]));
  assert.deepEqual(new Set(sl.match('foo.baz').plain), new Set([b, c, d]));
  assert.deepEqual(new Set(sl.match('foo.bar.baz').plain), new Set([c, d]));
  assert.deepEqual(new Set(sl.match('foo').plain), new Set([d]));
});

test('queue groups are grouped per name', () => {
  const sl = new Sublist();
  const q1 = sub('work', 'g', '1');
  const q2 = sub('work', 'g', '2');
  const q3 = sub('work', 'h', '3');
  const p = sub('work', null, '4');
  for (const s of [q1, q2, q3, p]) sl.insert(s);
  const r = sl.match('work');
  assert.deepEqual(r.plain, [p]);
  assert.equal(r.queues.length, 2);
  const sizes = r.queues.map((g) => g.length).sort();
  assert.deepEqual(sizes, [1, 2]);
});

test('remove invalidates cached matches and prunes the trie', () => {
  const sl = new Sublist();
  const a = sub('a.b.c');
  const w = sub('a.*.c');
  sl.insert(a);
  sl.insert(w);
  assert.equal(sl.match('a.b.c').plain.length, 2);
  assert.equal(sl.match('a.b.c').plain.length, 2);
  assert.ok(sl.cacheHits >= 1);
  assert.equal(sl.remove(w), true);
  assert.equal(w.closed, true);
  assert.deepEqual(sl.match('a.b.c').plain, [a]);
  assert.equal(sl.remove(w), false);
  assert.equal(sl.remove(a), true);
  assert.equal(sl.count, 0);
  assert.equal(sl.match('a.b.c').plain.length, 0);
  assert.equal(sl.all().length, 0);
});

test('inserting a matching subscription updates cached results', () => {
  const sl = new Sublist();
  assert.equal(sl.hasInterest('x.y'), false);
  const s = sub('x.>');
  sl.insert(s);
  assert.equal(sl.hasInterest('x.y'), true);
});

test('the match cache stays bounded', () => {
  const sl = new Sublist();
  sl.insert(sub('>'));
  for (let i = 0; i < SUBLIST_CACHE_MAX * 3; i++) sl.match(`s.${i}`);
  assert.ok(sl.cacheSize <= SUBLIST_CACHE_MAX);
});

test('randomized: sublist agrees with subjectMatches', () => {
  const tokens = ['a', 'b', 'c'];
  const rnd = (n: number) => Math.floor(Math.random() * n);
  const patterns: string[] = [];
  for (let i = 0; i < 60; i++) {
    const len = 1 + rnd(4);
    const t: string[] = [];
    for (let k = 0; k < len; k++) {
      const r = rnd(10);
      t.push(r === 0 && k === len - 1 ? '>' : r < 3 ? '*' : tokens[rnd(3)]);
    }
    patterns.push(t.join('.'));
  }
  const sl = new Sublist();
  const subs = patterns.map((p, i) => sub(p, null, String(i)));
  subs.forEach((s) => sl.insert(s));
  // Remove a third to exercise pruning.
  const live = subs.filter((s, i) => (i % 3 === 0 ? (sl.remove(s), false) : true));
  for (let i = 0; i < 300; i++) {
    const len = 1 + rnd(4);
    const subject = Array.from({ length: len }, () => tokens[rnd(3)]).join('.');
    const want = new Set(live.filter((s) => subjectMatches(s.subject, subject)));
    assert.deepEqual(new Set(sl.match(subject).plain), want, subject);
  }
});
