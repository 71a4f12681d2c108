/**
 * The durability contract of src/stream/redis (docs/storage-format.md, "Redis keyspace effects"):
 * a random sequence of commands through a real connection, its effect records replayed into a
 * fresh model, gives an identical state (XINFO STREAM FULL equal), and so does snapshot → apply.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from '../../src/index.js';
import { Keyspace } from '../../src/resp/keyspace.js';
import { RedisStreamModel } from '../../src/stream/redis/model.js';
import { RawResp, cmd, startHerald } from './helpers.js';

let herald: Server;
before(async () => {
  herald = await startHerald();
});
after(async () => {
  await herald?.close();
});

/** A deterministic pseudo-random generator (no flakiness across runs). */
function rng(seed: number): () => number {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Everything observable about a stream except the `radix-tree-nodes` estimate. */
function fullState(m: RedisStreamModel, db: number, key: string): unknown {
  const s = m.lookup(db, key);
  if (s === undefined || s === 'wrongtype') return s;
  return {
    length: s.length,
    keys: s.radixTreeKeys,
    nodes: s.nodes.map((n) => [String(n.master), n.live, n.deleted, n.fixedBytes, n.entries.map((e) => [String(e.id), e.data])]),
    last: String(s.lastId),
    first: String(s.firstId),
    maxDel: String(s.maxDeletedId),
    added: s.entriesAdded,
    groups: s.sortedGroups().map((g) => ({
      name: g.name,
      last: String(g.lastId),
      read: g.entriesRead,
      lag: s.lag(g),
      pel: [...g.pel].map(([id, p]) => [String(id), p.owner.name, p.time, p.count]),
      consumers: g.sortedConsumers().map((c) => [c.name, c.seen, [...c.pel].map(([id]) => String(id))]),
    })),
  };
}

test('effects replayed into a fresh model, and a snapshot, rebuild the same state', async () => {
  const door = herald.redis!;
  const live = door.streams;
  const log: { db: number; key: string; rec: Buffer }[] = [];
  live.setEffectSink((db, key, rec) => log.push({ db, key, rec }));
  const c = await RawResp.connect(door.port);
  try {
    c.send(cmd('CONFIG', 'SET', 'stream-node-max-entries', '7'));
    await c.read(1);
    const rand = rng(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const keys = ['a', 'b'];
    for (const k of keys) {
      c.send(cmd('XGROUP', 'CREATE', k, 'g', '0', 'MKSTREAM'));
      await c.read(1);
    }
    for (let i = 0; i < 600; i++) {
      const k = pick(keys);
      const n = String(Math.floor(rand() * 40));
      const ops = [
        cmd('XADD', k, '*', 'f', n),
        cmd('XADD', k, 'MAXLEN', '~', '30', '*', 'f', n),
        cmd('XDEL', k, `0-${n}`),
        cmd('XTRIM', k, 'MAXLEN', '=', '50'),
        cmd('XREADGROUP', 'GROUP', 'g', pick(['c1', 'c2']), 'COUNT', '3', 'STREAMS', k, '>'),
        cmd('XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', k, '0'),
        cmd('XAUTOCLAIM', k, 'g', 'c3', '0', '0', 'COUNT', '2'),
        cmd('XGROUP', 'CREATECONSUMER', k, 'g', `c${n}`),
        cmd('XGROUP', 'SETID', k, 'g', '0'),
        cmd('XREADGROUP', 'GROUP', 'g', 'c2', 'NOACK', 'COUNT', '2', 'STREAMS', k, '>'),
      ];
      c.send(pick(ops));
      await c.read(1);
      if (rand() < 0.2) {
        // XACK the first pending entry, whatever it is.
        const s = live.lookup(0, k);
        const first = s && s !== 'wrongtype' ? s.groups.get('g')?.pel.firstKey() : undefined;
        if (first !== undefined) {
          c.send(cmd('XACK', k, 'g', `${first >> 64n}-${first & 0xffffffffffffffffn}`));
          await c.read(1);
        }
      }
    }
    c.send(cmd('CONFIG', 'SET', 'stream-node-max-entries', '100'));
    await c.read(1);
  } finally {
    live.setEffectSink(null);
    c.close();
  }
  assert.ok(log.length > 600, `effects were emitted (${log.length})`);
  const limits = () => ({ maxEntries: 100, maxBytes: 4096 });
  const replayed = new RedisStreamModel(new Keyspace(), limits, () => {
    throw new Error('replay must not read the clock');
  });
  for (const e of log) replayed.applyEffect(e.db, e.key, e.rec);
  const fromSnap = new RedisStreamModel(new Keyspace(), limits, () => {
    throw new Error('replay must not read the clock');
  });
  const counted = { records: 0, keyBytes: 0, recBytes: 0 };
  for (const e of live.snapshotEffects()) {
    fromSnap.applyEffect(e.db, e.key, e.rec);
    counted.records++;
    counted.keyBytes += e.key.length;
    counted.recBytes += e.rec.length;
  }
  // The compaction check's count (no encoding) must be the snapshot it stands for.
  assert.deepEqual(live.snapshotSize(), counted, 'snapshotSize matches the encoded snapshot');
  for (const k of ['a', 'b']) {
    assert.deepEqual(fullState(replayed, 0, k), fullState(live, 0, k), `replay of ${k}`);
    assert.deepEqual(fullState(fromSnap, 0, k), fullState(live, 0, k), `snapshot of ${k}`);
  }
});
