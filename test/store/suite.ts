/**
 * The behavioural suite every MessageStore must pass, run by memory.test.ts and file.test.ts:
 * targeted cases for each method, then a seeded random-operation run checked step by step against
 * a plain reference model (with restarts for stores that persist).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subjectMatches } from '../../src/core/subject.js';
import type { MessageStore, PurgeOptions, StoredMsg } from '../../src/store/store.js';
import { durable, randInt, rng } from './helpers.js';

/** How the suite gets stores. `reopen` closes a store and opens the same data again (file only). */
export interface StoreHarness {
  name: string;
  open(): Promise<MessageStore>;
  reopen?(s: MessageStore): Promise<MessageStore>;
  /** Releases everything `open` created. */
  cleanup(s: MessageStore): Promise<void>;
}

const b = (s: string): Buffer => Buffer.from(s);

interface ModelMsg {
  subject: string;
  headers: Buffer | null;
  payload: Buffer;
}

function matches(filter: string, subject: string): boolean {
  return filter === '' || filter === '>' || subjectMatches(filter, subject);
}

/** The reference: a sorted Map of live messages plus lastSeq, with STREAM.PURGE semantics. */
class Model {
  msgs = new Map<number, ModelMsg>();
  lastSeq = 0;

  append(m: ModelMsg): number {
    this.lastSeq++;
    this.msgs.set(this.lastSeq, m);
    return this.lastSeq;
  }

  liveSeqs(): number[] {
    return [...this.msgs.keys()].sort((x, y) => x - y);
  }

  firstSeq(): number {
    if (this.msgs.size === 0) return this.lastSeq === 0 ? 0 : this.lastSeq + 1;
    return Math.min(...this.msgs.keys());
  }

  purge(o: PurgeOptions): number {
    const filter = o.filter ?? '';
    const seq = o.seq ?? 0;
    const keep = o.keep ?? 0;
    if (seq === 1) return 0;
    const all = filter === '' || filter === '>';
    if (all && keep === 0 && (seq === 0 || seq > this.lastSeq)) {
      const n = this.msgs.size;
      this.msgs.clear();
      if (seq > this.lastSeq + 1) this.lastSeq = seq - 1;
      return n;
    }
    const m = this.liveSeqs().filter((s) => matches(filter, (this.msgs.get(s) as ModelMsg).subject));
    let max = m.length;
    if (keep > 0) {
      if (keep >= m.length) return 0;
      max = m.length - keep;
    }
    const upTo = seq > 0 ? seq - 1 : this.lastSeq;
    let n = 0;
    for (const s of m) {
      if (n >= max || s > upTo) break;
      this.msgs.delete(s);
      n++;
    }
    return n;
  }
}

function sameMsg(got: StoredMsg | null, seq: number, want: ModelMsg | undefined, ctx: string): void {
  if (want === undefined) {
    assert.equal(got, null, `${ctx}: seq ${seq} should be absent`);
    return;
  }
  assert.ok(got !== null, `${ctx}: seq ${seq} missing`);
  assert.equal(got.seq, seq, ctx);
  assert.equal(got.subject, want.subject, ctx);
  assert.deepEqual(got.headers, want.headers, ctx);
  assert.ok(got.payload.equals(want.payload), `${ctx}: payload of ${seq}`);
}

const SUBJECTS = ['a.b', 'a.c', 'b.c.d', 'x', 'a.b.c', 'ü.nicode'];
const FILTERS = ['', '>', 'a.*', 'a.>', '*.c.*', 'x', 'a.b', 'nope', '*', 'ü.*'];

/** Compares every observable of `s` with the model. */
function check(s: MessageStore, m: Model, r: () => number, ctx: string): void {
  const st = s.state();
  const live = m.liveSeqs();
  assert.equal(st.messages, live.length, `${ctx}: messages`);
  assert.equal(st.lastSeq, m.lastSeq, `${ctx}: lastSeq`);
  assert.equal(st.firstSeq, m.firstSeq(), `${ctx}: firstSeq`);
  let bytes = 0;
  const subj = new Map<string, number>();
  for (const q of live) {
    const x = m.msgs.get(q) as ModelMsg;
    bytes += s.msgSize(x.subject, x.headers, x.payload);
    subj.set(x.subject, (subj.get(x.subject) ?? 0) + 1);
  }
  assert.equal(st.bytes, bytes, `${ctx}: bytes`);
  assert.equal(st.numSubjects, subj.size, `${ctx}: numSubjects`);
  const first = m.firstSeq();
  const deleted: number[] = [];
  if (live.length > 0) for (let q = first; q <= m.lastSeq; q++) if (!m.msgs.has(q)) deleted.push(q);
  assert.equal(st.numDeleted, deleted.length, `${ctx}: numDeleted`);
  assert.deepEqual(s.deletedSeqs(), deleted, `${ctx}: deletedSeqs`);
  assert.deepEqual(new Map([...s.subjectCounts('>')].sort()), new Map([...subj].sort()), `${ctx}: subjectCounts`);
  if (live.length > 0) assert.equal(s.get(first)?.ts, st.firstTs, `${ctx}: firstTs`);
  for (const name of SUBJECTS) {
    assert.equal(s.subjectCount(name), subj.get(name) ?? 0, `${ctx}: subjectCount ${name}`);
    const fs = live.find((q) => (m.msgs.get(q) as ModelMsg).subject === name) ?? 0;
    assert.equal(s.firstSeqOfSubject(name), fs, `${ctx}: firstSeqOfSubject ${name}`);
  }
  // Every seq, live or not, and two past the end: a full check is cheap at these sizes.
  for (let q = 0; q <= m.lastSeq + 2; q++) sameMsg(s.get(q), q, m.msgs.get(q), `${ctx}: get`);
  // The random picks stay, so a seed replays the same operations as before this check was full.
  for (let k = 0; k < 4; k++) randInt(r, m.lastSeq + 3);
  for (const f of FILTERS) {
    const hits = live.filter((q) => matches(f, (m.msgs.get(q) as ModelMsg).subject));
    const lastHit = hits.length > 0 ? hits[hits.length - 1] : 0;
    const lb = s.lastBySubject(f);
    if (lastHit === 0) assert.equal(lb, null, `${ctx}: lastBySubject ${f}`);
    else sameMsg(lb, lastHit, m.msgs.get(lastHit), `${ctx}: lastBySubject ${f}`);
    const from = randInt(r, m.lastSeq + 2);
    const nx = hits.find((q) => q >= from) ?? 0;
    const got = s.nextMatching(from, f);
    if (nx === 0) assert.equal(got, null, `${ctx}: nextMatching(${from}, ${f})`);
    else sameMsg(got, nx, m.msgs.get(nx), `${ctx}: nextMatching(${from}, ${f})`);
    assert.equal(s.countMatching(from, f), hits.filter((q) => q >= from).length, `${ctx}: countMatching(${from}, ${f})`);
    assert.equal(s.countMatching(0, f), hits.length, `${ctx}: countMatching(0, ${f})`);
    const sc = s.subjectCounts(f);
    let total = 0;
    for (const v of sc.values()) total += v;
    assert.equal(total, hits.length, `${ctx}: subjectCounts(${f})`);
  }
}

/** Seeds of the random runs: 1–4, or HERALD_STORE_SEEDS="a-b" for a longer hunt. */
function seeds(): number[] {
  const m = /^(\d+)-(\d+)$/.exec(process.env.HERALD_STORE_SEEDS ?? '');
  const [a, b] = m === null ? [1, 4] : [Number(m[1]), Number(m[2])];
  return Array.from({ length: b - a + 1 }, (_, i) => a + i);
}

export function storeSuite(h: StoreHarness): void {
  describe(`${h.name} store: behaviour`, () => {
    test('append assigns seqs from 1 and get returns exactly what was stored', async () => {
      const s = await h.open();
      try {
        assert.deepEqual(s.state(), {
          messages: 0,
          bytes: 0,
          firstSeq: 0,
          firstTs: 0n,
          lastSeq: 0,
          lastTs: 0n,
          numSubjects: 0,
          numDeleted: 0,
        });
        const r1 = s.append('a.b', null, b('one'));
        const r2 = s.append('a.c', b('NATS/1.0\r\nX: 1\r\n\r\n'), b('two'), 1234n);
        const r3 = s.append('a.b', Buffer.alloc(0), Buffer.alloc(0));
        assert.equal(r1.seq, 1);
        assert.equal(r2.seq, 2);
        assert.equal(r2.ts, 1234n);
        assert.equal(r3.seq, 3);
        assert.ok(r1.ts > 0n);
        const g1 = s.get(1);
        assert.equal(g1?.subject, 'a.b');
        assert.equal(g1?.headers, null);
        assert.deepEqual(g1?.payload, b('one'));
        assert.equal(g1?.ts, r1.ts);
        const g2 = s.get(2);
        assert.deepEqual(g2?.headers, b('NATS/1.0\r\nX: 1\r\n\r\n'));
        assert.equal(g2?.ts, 1234n);
        assert.equal(s.get(3)?.payload.length, 0);
        assert.equal(s.get(0), null);
        assert.equal(s.get(4), null);
        const st = s.state();
        assert.equal(st.messages, 3);
        assert.equal(st.firstSeq, 1);
        assert.equal(st.lastSeq, 3);
        assert.equal(st.firstTs, r1.ts);
        assert.equal(st.lastTs, r3.ts);
        assert.equal(st.numSubjects, 2);
        assert.equal(
          st.bytes,
          s.msgSize('a.b', null, b('one')) +
            s.msgSize('a.c', b('NATS/1.0\r\nX: 1\r\n\r\n'), b('two')) +
            s.msgSize('a.b', null, Buffer.alloc(0)),
        );
        await durable(s);
      } finally {
        await h.cleanup(s);
      }
    });

    test('msgSize follows the reference byte accounting', async () => {
      const s = await h.open();
      try {
        const hdr = b('NATS/1.0\r\n\r\n');
        if (s.kind === 'memory') {
          assert.equal(s.msgSize('foo', null, b('hello')), 3 + 5 + 16);
          assert.equal(s.msgSize('foo', hdr, b('hello')), 3 + hdr.length + 5 + 16);
        } else {
          assert.equal(s.msgSize('foo', null, b('hello')), 30 + 3 + 5);
          assert.equal(s.msgSize('foo', hdr, b('hello')), 30 + 3 + 5 + 4 + hdr.length);
        }
      } finally {
        await h.cleanup(s);
      }
    });

    test('lastBySubject, nextMatching and countMatching honour wildcards', async () => {
      const s = await h.open();
      try {
        s.append('orders.eu.new', null, b('1'));
        s.append('orders.us.new', null, b('2'));
        s.append('orders.eu.done', null, b('3'));
        s.append('audit', null, b('4'));
        s.append('orders.eu.new', null, b('5'));
        assert.equal(s.lastBySubject('orders.eu.new')?.seq, 5);
        assert.equal(s.lastBySubject('orders.*.done')?.seq, 3);
        assert.equal(s.lastBySubject('orders.us.>')?.seq, 2);
        assert.equal(s.lastBySubject('>')?.seq, 5);
        assert.equal(s.lastBySubject('nothing.here'), null);
        assert.equal(s.nextMatching(1, 'orders.*.new')?.seq, 1);
        assert.equal(s.nextMatching(2, 'orders.eu.*')?.seq, 3);
        assert.equal(s.nextMatching(4, '')?.seq, 4);
        assert.equal(s.nextMatching(6, '>'), null);
        assert.equal(s.nextMatching(1, 'audit')?.seq, 4);
        assert.equal(s.countMatching(1, 'orders.>'), 4);
        assert.equal(s.countMatching(3, 'orders.eu.*'), 2);
        assert.equal(s.countMatching(0, 'audit'), 1);
        assert.equal(s.countMatching(5, 'audit'), 0);
        assert.equal(s.firstSeqOfSubject('orders.eu.new'), 1);
        assert.equal(s.subjectCount('orders.eu.new'), 2);
        assert.deepEqual(
          s.subjectCounts('orders.eu.*'),
          new Map([
            ['orders.eu.new', 2],
            ['orders.eu.done', 1],
          ]),
        );
      } finally {
        await h.cleanup(s);
      }
    });

    test('delete leaves gaps, moves the first seq, and never reuses seqs', async () => {
      const s = await h.open();
      try {
        for (let i = 1; i <= 6; i++) s.append(i % 2 === 0 ? 'even' : 'odd', null, b(`m${i}`));
        assert.equal(s.delete(3), true);
        assert.equal(s.delete(3), false);
        assert.equal(s.delete(99), false);
        assert.equal(s.get(3), null);
        assert.deepEqual(s.deletedSeqs(), [3]);
        assert.equal(s.state().numDeleted, 1);
        assert.equal(s.delete(1), true);
        assert.equal(s.firstSeqOfSubject('odd'), 5);
        assert.equal(s.state().firstSeq, 2);
        assert.deepEqual(s.deletedSeqs(), [3]);
        assert.equal(s.delete(6, true), true);
        assert.equal(s.get(6), null);
        assert.equal(s.state().lastSeq, 6);
        assert.equal(s.lastBySubject('even')?.seq, 4);
        assert.equal(s.append('odd', null, b('m7')).seq, 7);
        assert.deepEqual(s.deletedSeqs(), [3, 6]);
        for (const q of [2, 4, 5, 7]) assert.equal(s.delete(q), true);
        const st = s.state();
        assert.equal(st.messages, 0);
        assert.equal(st.firstSeq, 8);
        assert.equal(st.lastSeq, 7);
        assert.equal(st.numDeleted, 0);
        assert.equal(st.bytes, 0);
        assert.deepEqual(s.deletedSeqs(), []);
        assert.equal(s.append('x', null, b('m8')).seq, 8);
      } finally {
        await h.cleanup(s);
      }
    });

    test('purge: everything, below a seq, past the end, by filter, keep', async () => {
      const s = await h.open();
      try {
        for (let i = 1; i <= 10; i++) s.append(i <= 5 ? 'a.x' : 'b.y', null, b(`m${i}`));
        assert.equal(s.purge({ seq: 1 }), 0);
        assert.equal(s.purge({ seq: 3 }), 2);
        assert.equal(s.state().firstSeq, 3);
        assert.equal(s.purge({ filter: 'a.*', keep: 1 }), 2);
        assert.deepEqual(
          s.subjectCounts('>'),
          new Map([
            ['a.x', 1],
            ['b.y', 5],
          ]),
        );
        assert.equal(s.purge({ keep: 3 }), 3);
        assert.equal(s.state().messages, 3);
        assert.equal(s.state().firstSeq, 8);
        assert.equal(s.purge({ filter: 'b.y', seq: 9 }), 1);
        assert.equal(s.purge(), 2);
        let st = s.state();
        assert.equal(st.messages, 0);
        assert.equal(st.firstSeq, 11);
        assert.equal(st.lastSeq, 10);
        assert.equal(s.append('c', null, b('m11')).seq, 11);
        assert.equal(s.purge({ seq: 50 }), 1);
        st = s.state();
        assert.equal(st.firstSeq, 50);
        assert.equal(st.lastSeq, 49);
        assert.equal(s.append('c', null, b('m50')).seq, 50);
      } finally {
        await h.cleanup(s);
      }
    });

    test('setNextSeq starts an empty store at a given seq and refuses to go back', async () => {
      const s = await h.open();
      try {
        s.setNextSeq(100);
        let st = s.state();
        assert.equal(st.firstSeq, 100);
        assert.equal(st.lastSeq, 99);
        assert.equal(s.append('a', null, b('x')).seq, 100);
        s.setNextSeq(101);
        assert.throws(() => s.setNextSeq(150), RangeError);
        assert.throws(() => s.setNextSeq(50), RangeError);
        s.purge();
        s.setNextSeq(200);
        assert.equal(s.append('a', null, b('y')).seq, 200);
        st = s.state();
        assert.equal(st.firstSeq, 200);
        assert.equal(st.messages, 1);
        if (h.reopen !== undefined) {
          const s2 = await h.reopen(s);
          try {
            assert.equal(s2.state().firstSeq, 200);
            assert.equal(s2.append('a', null, b('z')).seq, 201);
          } finally {
            await h.cleanup(s2);
          }
          return;
        }
      } finally {
        await h.cleanup(s);
      }
    });

    test('whenDurable calls back after appends, in order', async () => {
      const s = await h.open();
      try {
        const order: number[] = [];
        s.append('a', null, b('1'));
        s.whenDurable(() => order.push(1));
        s.append('a', null, b('2'));
        s.whenDurable(() => order.push(2));
        await durable(s);
        s.whenDurable(() => order.push(3));
        await durable(s);
        assert.deepEqual(order, [1, 2, 3]);
      } finally {
        await h.cleanup(s);
      }
    });

    for (const seed of seeds()) {
      test(`random operations match the reference model (seed ${seed})`, async () => {
        const r = rng(seed);
        const m = new Model();
        let s = await h.open();
        try {
          const steps = 700;
          for (let step = 0; step < steps; step++) {
            const op = r();
            const ctx = `seed ${seed} step ${step}`;
            if (op < 0.55) {
              const burst = 1 + randInt(r, 20);
              for (let k = 0; k < burst; k++) {
                const subject = SUBJECTS[randInt(r, SUBJECTS.length)];
                const headers = r() < 0.3 ? b(`NATS/1.0\r\nk: ${step}.${k}\r\n\r\n`) : r() < 0.1 ? Buffer.alloc(0) : null;
                const payload = Buffer.alloc(randInt(r, 300), `${step}:${k}:`);
                const got = s.append(subject, headers, payload);
                assert.equal(got.seq, m.append({ subject, headers, payload }), ctx);
              }
            } else if (op < 0.8) {
              const live = m.liveSeqs();
              const n = 1 + randInt(r, 6);
              for (let k = 0; k < n; k++) {
                const q =
                  live.length > 0 && r() < 0.9 ? live[r() < 0.3 ? 0 : randInt(r, live.length)] : randInt(r, m.lastSeq + 5);
                const want = m.msgs.delete(q);
                assert.equal(s.delete(q, r() < 0.2), want, `${ctx}: delete ${q}`);
              }
            } else if (op < 0.86) {
              const o: PurgeOptions = {};
              if (r() < 0.5) o.filter = FILTERS[randInt(r, FILTERS.length)];
              if (r() < 0.3) o.seq = randInt(r, m.lastSeq + 4);
              if (r() < 0.3) o.keep = randInt(r, 8);
              if (r() < 0.3 && o.filter === undefined && o.keep === undefined && o.seq === undefined) o.keep = 1;
              assert.equal(s.purge(o), m.purge(o), `${ctx}: purge ${JSON.stringify(o)}`);
            } else if (op < 0.9 && m.msgs.size === 0) {
              const next = m.lastSeq + 1 + randInt(r, 3);
              s.setNextSeq(next);
              m.lastSeq = next - 1;
            } else if (op < 0.95 && h.reopen !== undefined) {
              if (r() < 0.5) await durable(s);
              s = await h.reopen(s);
            } else {
              await durable(s);
            }
            if (step % 7 === 0 || step === steps - 1) check(s, m, r, ctx);
          }
          if (h.reopen !== undefined) {
            s = await h.reopen(s);
            check(s, m, r, `seed ${seed} after final reopen`);
          }
        } finally {
          await h.cleanup(s);
        }
      });
    }
  });
}
