// Subject kinds (nats pattern, literal channel, Redis glob) in one sublist, and the match cache
// being patched rather than dropped when patterns come and go.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sublist } from '../../src/core/sublist.js';
import { Router } from '../../src/core/router.js';
import { Subscription, type Client, type Message, type SubjectKind } from '../../src/core/message.js';
import { isNatsRoutable, subjectMatches } from '../../src/core/subject.js';
import { globMatches } from '../../src/core/glob.js';

const client: Client = { id: 1, echo: true, deliver: () => undefined };
const mk = (subject: string, kind: SubjectKind, queue: string | null = null) =>
  new Subscription(client, subject, queue, subject, kind);

test('a Redis channel a.* (literal) and a NATS a.* (pattern) coexist', () => {
  const sl = new Sublist();
  const lit = mk('a.*', 'literal');
  const pat = mk('a.*', 'nats');
  sl.insert(lit);
  sl.insert(pat);
  assert.deepEqual(sl.match('a.b').plain, [pat]);
  assert.deepEqual(new Set(sl.match('a.*').plain), new Set([lit, pat]));
  sl.remove(pat);
  assert.deepEqual(sl.match('a.*').plain, [lit]);
  assert.deepEqual(sl.match('a.b').plain, []);
});

test('names that are no NATS subject reach only literal and glob subscriptions', () => {
  const sl = new Sublist();
  const all = mk('>', 'nats');
  const star = mk('*', 'nats');
  const spaced = mk('a b', 'literal');
  const dots = mk('a..b', 'literal');
  const glob = mk('a*', 'glob');
  for (const s of [all, star, spaced, dots, glob]) sl.insert(s);
  assert.deepEqual(new Set(sl.match('a b').plain), new Set([spaced, glob]));
  assert.deepEqual(new Set(sl.match('a..b').plain), new Set([dots, glob]));
  assert.deepEqual(new Set(sl.match('abc').plain), new Set([all, star, glob]));
  assert.deepEqual(sl.match('').plain, []);
  assert.equal(sl.count, 5);
  assert.equal(sl.all().length, 5);
});

test('Router.subscribe keeps its 4-argument form (nats) and takes a kind', () => {
  const r = new Router();
  const got: string[] = [];
  const c: Client = { id: 2, echo: true, deliver: (s) => void got.push(s.kind) };
  r.subscribe(c, 'x.*', null, '1');
  r.subscribe(c, 'x.*', null, '2', 'literal');
  r.subscribe(c, 'x.?', null, '3', 'glob');
  const msg = (subject: string): Message => ({ subject, reply: '', headers: null, payload: Buffer.alloc(0) });
  assert.equal(r.publish(msg('x.y'), null), 2);
  assert.deepEqual(got.sort(), ['glob', 'nats']);
  got.length = 0;
  assert.equal(r.publish(msg('x.*'), null), 3);
});

test('a wildcard insert patches the cache: unrelated cached results are kept, held results never change', () => {
  const sl = new Sublist();
  const a = mk('svc.a', 'nats');
  sl.insert(a);
  const held = sl.match('svc.a');
  sl.match('svc.b');
  sl.match('other.x');
  const hitsBefore = sl.cacheHits;
  const inbox = mk('_INBOX.abc.*', 'nats');
  sl.insert(inbox);
  assert.equal(sl.cacheSize, 3, 'no entry dropped');
  sl.match('svc.a');
  sl.match('other.x');
  assert.equal(sl.cacheHits, hitsBefore + 2, 'unrelated subjects still hit the cache');
  const wide = mk('svc.*', 'nats', 'q');
  sl.insert(wide);
  assert.deepEqual(held.plain, [a], 'a held result is never mutated');
  assert.equal(held.queues.length, 0);
  const now = sl.match('svc.a');
  assert.notEqual(now, held);
  assert.deepEqual(now.queues, [[wide]]);
  sl.remove(wide);
  assert.deepEqual(sl.match('svc.a').queues, []);
  assert.deepEqual(now.queues, [[wide]], 'the earlier result is kept as it was');
});

/** The rule, computed from scratch: what `subject` should match among `subs`. */
function expected(subs: Iterable<Subscription>, subject: string): Set<Subscription> {
  const out = new Set<Subscription>();
  for (const s of subs) {
    const hit =
      s.kind === 'literal'
        ? s.subject === subject
        : s.kind === 'glob'
          ? globMatches(s.subject, subject)
          : isNatsRoutable(subject) && subjectMatches(s.subject, subject);
    if (hit) out.add(s);
  }
  return out;
}

test('fuzz: cached, patched results always equal the rule computed from scratch', () => {
  let x = 0x1234567;
  const rand = (n: number): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
  const tokens = ['a', 'b', 'c', '*', '>', 'a b', ''];
  const randSubject = (wild: boolean): string => {
    const n = 1 + rand(3);
    const t: string[] = [];
    for (let i = 0; i < n; i++) {
      let tok = tokens[rand(wild ? tokens.length : 3)];
      if (wild && tok === '>' && i < n - 1) tok = '*';
      t.push(tok);
    }
    return t.join('.');
  };
  const globs = ['a*', '*.b', 'a.?', '[ab].*', '*', 'c\\*', '*b*'];
  const sl = new Sublist();
  const live: Subscription[] = [];
  const queues = [null, null, 'q1', 'q2'];
  for (let step = 0; step < 20_000; step++) {
    const op = rand(10);
    if (op < 3 || live.length === 0) {
      const kind = (['nats', 'literal', 'glob'] as const)[rand(3)];
      let subject = kind === 'glob' ? globs[rand(globs.length)] : randSubject(kind === 'nats');
      if (kind === 'nats' && subject.split('.').includes('')) subject = 'a.>';
      const s = mk(subject, kind, queues[rand(queues.length)]);
      sl.insert(s);
      live.push(s);
    } else if (op < 5) {
      const s = live.splice(rand(live.length), 1)[0];
      assert.ok(sl.remove(s));
    } else {
      const subject = randSubject(true);
      const r = sl.match(subject);
      const got = new Set([...r.plain, ...r.queues.flat()]);
      assert.deepEqual(got, expected(live, subject), `step ${step}: ${JSON.stringify(subject)}`);
      assert.equal(r.plain.length + r.queues.reduce((n, g) => n + g.length, 0), got.size, 'no duplicates');
      for (const g of r.queues) assert.ok(g.length > 0 && g.every((s) => s.queue === g[0].queue), 'groups hold one queue');
    }
  }
  assert.ok(sl.cacheHits > 1000, 'the cache was exercised');
});
