// The patched match cache (sublist.ts) must always equal a from-scratch match, whatever mix of
// kinds, queue groups, odd subjects and eviction. Seeded (HERALD_FUZZ_SEED) so a failure replays.
// First written by an independent review of the cache patching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sublist } from '../../src/core/sublist.js';
import { Subscription, type Client, type SubjectKind } from '../../src/core/message.js';

/** mulberry32: a small seeded generator, so every run draws the same operations. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seeded(Number(process.env.HERALD_FUZZ_SEED ?? 11));

const client: Client = { id: 1, echo: true, deliver: () => undefined };
const TOK = ['a', 'b', '*', '>', 'a b', '', '_INBOX', 'x*', '?'];
function rnd<T>(a: readonly T[]): T {
  return a[(random() * a.length) | 0];
}
function subj(): string {
  const n = 1 + ((random() * 3) | 0);
  const t: string[] = [];
  for (let i = 0; i < n; i++) t.push(rnd(TOK));
  return t.join('.');
}
function key(r: { plain: readonly Subscription[]; queues: readonly (readonly Subscription[])[] }): string {
  const p = r.plain
    .map((s) => s.sid)
    .sort()
    .join(',');
  const q = r.queues
    .map((g) =>
      g
        .map((s) => s.sid)
        .sort()
        .join('+'),
    )
    .sort()
    .join('|');
  return p + ' / ' + q;
}

test('the patched match cache equals a fresh match after random inserts and removes of every kind', () => {
  for (let round = 0; round < 200; round++) {
    const sl = new Sublist();
    const live: Subscription[] = [];
    let id = 0;
    for (let op = 0; op < 300; op++) {
      const r = random();
      if (r < 0.35) {
        const kind: SubjectKind = rnd(['nats', 'nats', 'literal', 'glob'] as const);
        let s = subj();
        if (kind === 'nats' && (s.split('.').some((t) => t === '' || / /.test(t)) || s.split('.').slice(0, -1).includes('>')))
          s = 'a.*';
        const sub = new Subscription(client, s, random() < 0.3 ? rnd(['q1', 'q2']) : null, `s${id++}`, kind);
        sl.insert(sub);
        live.push(sub);
      } else if (r < 0.55 && live.length > 0) {
        const i = (random() * live.length) | 0;
        sl.remove(live[i]);
        live.splice(i, 1);
      } else {
        const s = subj();
        const got = key(sl.match(s));
        const fresh = new Sublist();
        for (const x of live) fresh.insert(x);
        const want = key(fresh.match(s));
        assert.equal(
          got,
          want,
          `subject ${JSON.stringify(s)} live ${live.map((x) => `${x.kind}:${x.subject}:${x.queue}`).join(' ')}`,
        );
      }
    }
  }
});
