/**
 * The behavioural suite every consumer-state store must pass, run on the memory and the file store
 * by consumer-store.test.ts: the nats-server delivered / ack-floor / pending / redelivered rules,
 * config and bulk replace, names and deletes, and (for stores that persist) that a reopen gives back
 * exactly the state that was there, including after log compaction.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumerState, ConsumerStore, MessageStore } from '../../src/store/store.js';
import { durable, randInt, rng } from './helpers.js';
import type { StoreHarness } from './suite.js';

const NS = 1_700_000_000_000_000_000;

/** Reopens when the harness can (file store), else keeps the store (memory). */
async function maybeReopen(h: StoreHarness, s: MessageStore): Promise<MessageStore> {
  if (h.reopen === undefined) return s;
  await durable(s);
  return h.reopen(s);
}

/** A state with every optional field, for the bulk-replace round trip. */
function richState(): ConsumerState {
  return {
    delivered: { consumerSeq: 40, streamSeq: 90, lastActive: NS + 5 },
    ackFloor: { consumerSeq: 30, streamSeq: 70, lastActive: NS + 3 },
    pending: new Map([
      [75, { dseq: 31, ts: NS + 1, dc: 1 }],
      [80, { dseq: 39, ts: NS + 2, dc: 3, owner: 'worker-é' }],
    ]),
    redelivered: new Map([
      [80, 2],
      [72, 5],
    ]),
    group: { lastDeliveredId: '1700000000000-7', entriesRead: 12 },
  };
}

export function consumerSuite(h: StoreHarness): void {
  describe(`${h.name} consumer-state store`, () => {
    test('delivered, ack floor and pending follow the nats-server rules', async () => {
      let s = await h.open();
      try {
        const c = s.consumer('d1');
        for (let q = 1; q <= 5; q++) c.updateDelivered(q, q * 10, 1, NS + q);
        let st = c.state();
        assert.deepEqual(st.delivered, { consumerSeq: 5, streamSeq: 50, lastActive: NS + 5 });
        assert.equal(st.pending.size, 5);
        assert.deepEqual(st.pending.get(30), { dseq: 3, ts: NS + 3, dc: 1 });
        assert.equal(c.pendingCount, 5);
        // An ack above the floor leaves the floor where it is.
        assert.equal(c.updateAcks(2, 20, NS + 10), true);
        assert.deepEqual(c.state().ackFloor, { consumerSeq: 0, streamSeq: 0, lastActive: NS + 10 });
        // Acking the floor + 1 moves it to just below the next pending delivery (3 → stream 30).
        assert.equal(c.updateAcks(1, 10, NS + 11), true);
        assert.deepEqual(c.state().ackFloor, { consumerSeq: 2, streamSeq: 29, lastActive: NS + 11 });
        // A redelivery of stream 30 as consumer seq 6.
        c.updateDelivered(6, 30, 2, NS + 12);
        st = c.state();
        assert.deepEqual(st.pending.get(30), { dseq: 6, ts: NS + 12, dc: 2 });
        assert.equal(st.redelivered.get(30), 1);
        assert.deepEqual(st.delivered, { consumerSeq: 6, streamSeq: 50, lastActive: NS + 12 });
        assert.equal(c.updateAcks(99, 990), false, 'an ack of nothing pending is refused');
        s = await maybeReopen(h, s);
        const r = s.consumer('d1');
        assert.deepEqual(r.state(), st);
        for (const [sseq, p] of [...st.pending]) assert.equal(r.updateAcks(p.dseq, sseq, NS + 20), true);
        st = r.state();
        assert.equal(st.pending.size, 0);
        assert.equal(st.redelivered.size, 0);
        assert.deepEqual(st.ackFloor, { consumerSeq: 6, streamSeq: 50, lastActive: NS + 20 });
      } finally {
        await h.cleanup(s);
      }
    });

    test('config blob and bulk replace (with the Redis group fields) round trip', async () => {
      let s = await h.open();
      try {
        const c = s.consumer('cfg');
        assert.equal(c.config(), null);
        const blob = Buffer.from(JSON.stringify({ durable_name: 'cfg', ack_policy: 'explicit' }));
        c.setConfig(blob);
        blob[0] = 0x20; // the store keeps its own copy
        c.update(richState());
        c.updateDelivered(41, 91, 1, NS + 6);
        const want = c.state();
        assert.equal(want.pending.get(80)?.owner, 'worker-é');
        assert.deepEqual(want.group, { lastDeliveredId: '1700000000000-7', entriesRead: 12 });
        s = await maybeReopen(h, s);
        const r = s.consumer('cfg');
        assert.equal(r.config()?.toString(), JSON.stringify({ durable_name: 'cfg', ack_policy: 'explicit' }));
        assert.deepEqual(r.state(), want);
        assert.throws(() => r.update({ ...want, pending: new Map([[0, { dseq: 1, ts: 0, dc: 1 }]]) }), RangeError);
      } finally {
        await h.cleanup(s);
      }
    });

    test('names, delete and re-create; odd names survive as file names', async () => {
      let s = await h.open();
      try {
        const odd = 'a.b/c d%é*>..';
        s.consumer('one').updateDelivered(1, 1, 1, NS);
        s.consumer(odd).updateDelivered(1, 2, 1, NS);
        s.consumer('gone').setConfig(Buffer.from('x'));
        assert.equal(s.consumer('one'), s.consumer('one'), 'the same object until deleted');
        assert.deepEqual(s.consumerNames().sort(), ['gone', 'one', odd].sort());
        const gone = s.consumer('gone');
        assert.equal(await s.deleteConsumer('gone'), true);
        assert.equal(await s.deleteConsumer('gone'), false);
        assert.throws(() => gone.updateDelivered(1, 1, 1, NS), /deleted/);
        s = await maybeReopen(h, s);
        assert.deepEqual(s.consumerNames().sort(), ['one', odd].sort());
        assert.equal(s.consumer(odd).state().delivered.streamSeq, 2);
        // Re-created after a delete: empty, and stays so across a reopen.
        assert.equal(s.consumer('gone').config(), null);
        await s.consumer('one').delete();
        s.consumer('one').updateDelivered(7, 7, 1, NS);
        s = await maybeReopen(h, s);
        assert.deepEqual(s.consumer('one').state().delivered, { consumerSeq: 7, streamSeq: 7, lastActive: NS });
        assert.equal(s.consumer('one').pendingCount, 1);
        assert.throws(() => s.consumer(''), RangeError);
      } finally {
        await h.cleanup(s);
      }
    });

    test('a seeded run of deliveries, redeliveries and acks survives reopens and compaction', async () => {
      const seed = 42;
      const r = rng(seed);
      let s = await h.open();
      try {
        let c: ConsumerStore = s.consumer('busy');
        let dseq = 0;
        let sseq = 0;
        for (let round = 0; round < 4; round++) {
          // Enough records per round to pass the compaction bound with a small window.
          for (let k = 0; k < 5000; k++) {
            sseq += 1 + randInt(r, 3);
            c.updateDelivered(++dseq, sseq, 1, NS + dseq);
            const st = c.pendingCount;
            if (st > 20 || r() < 0.3) {
              const pend = [...c.state().pending.entries()].slice(0, 1 + randInt(r, 3));
              for (const [q, p] of pend) {
                if (r() < 0.2) c.updateDelivered(++dseq, q, p.dc + 1, NS + dseq);
                else assert.equal(c.updateAcks(p.dseq, q, NS + dseq), true, `seed ${seed}: ack ${q}`);
              }
            }
          }
          const want = c.state();
          s = await maybeReopen(h, s);
          c = s.consumer('busy');
          assert.deepEqual(c.state(), want, `seed ${seed} round ${round}: state after reopen`);
        }
      } finally {
        await h.cleanup(s);
      }
    });
  });
}
